"""Open every HTML report in headless Chromium, offline, and check what a reader would see.

    python -m synthlib.tools.browser_check [REPORTS_DIR] [--screenshots DIR] [--chromium PATH]

REPORTS_DIR (default reports/) is first copied to a temporary folder, so a page that needs a
file outside it (../build/..., an absolute path) fails: the reports must be self-contained.
Each *.html in the copy (index.html and <exp>/*.html; the screenshots folder is skipped) is
opened twice by Chromium or Chrome ($CHROMIUM, else the first of BROWSERS on the PATH)
from its own command line, no driver package needed:

1. --dump-dom on a copy of the page with a small probe <script> added at the top of <head>.
   The probe records failed resource loads and uncaught JS errors, and after the window
   `load` event writes a JSON summary of the rendered page into the DOM, which Python reads
   back from the dump.
2. --screenshot of the untouched page at 1280 px wide and the page's full scroll height
   (capped at MAX_SCREENSHOT_HEIGHT), saved as <screenshots>/<same path>.png.

Chromium is kept offline whatever the machine's network: every host name fails to resolve
and every http(s) request goes to a proxy that refuses it (--host-resolver-rules,
--proxy-server), so "loads offline" means exactly that.

A page FAILS when:
  * it does not finish loading (no `load` event within the virtual-time budget), or its body
    has no text;
  * a local file it loads (script, stylesheet, image) is missing from the copy, or a local
    link (<a href>) points at a file that is missing or outside the copied folder;
  * it shows an error output. nbconvert's lab template renders error outputs and stderr
    streams with the same markup (data-mime-type="application/vnd.jupyter.stderr"; the
    classic template uses .output_error / .output_stderr), so the rule is on their text: an
    output with that mime type or class FAILS when its text contains "Traceback" or a line
    that starts with an exception name (`ValueError: ...`, `SyntaxError: ...`, also
    `KeyboardInterrupt`); .output_error always fails, as does papermill's error banner
    (#papermill-error-cell). Other stderr output (warnings, logging) is only a note;
  * an <img> is not rendered: not complete, naturalWidth or naturalHeight 0, or laid out 0 px
    wide or high;
  * an <img> is blank: a single colour, or fully transparent. Raster data: URIs and local
    files are decoded with Pillow; anything Pillow can't read (SVG) is judged from the
    browser's own pixels (drawn on a canvas);
  * the screenshot is missing or a single colour;
  * the page is wider than the 1280 px window (it would scroll sideways); an output wider than
    the page, which scrolls inside its own box, is a note.
Remote resources that fail offline (nbconvert's lab template loads require.js and MathJax
from cdnjs) and uncaught JS errors are NOTES, not failures; a note also says when the page
text holds TeX that MathJax would have typeset.

One line per page (OK / FAIL with its problems), then the notes; exit status 1 if any page
failed, 2 if the check could not run (no Chromium, no pages).
"""
from __future__ import annotations

import argparse
import base64
import binascii
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# Where Debian, Fedora, Ubuntu and macOS put a Chromium or Chrome; CHROMIUM names another.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
            "/Applications/Chromium.app/Contents/MacOS/Chromium",
            "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome")


def find_chromium():
    """The browser to drive: $CHROMIUM, else the first of BROWSERS found, else Debian's path
    (which the error then names)."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    return next((found for name in BROWSERS if (found := shutil.which(name))),
                "/usr/bin/chromium")


CHROMIUM = find_chromium()
SCREENSHOT_WIDTH = 1280
MAX_SCREENSHOT_HEIGHT = 16384
VIRTUAL_TIME_BUDGET_MS = 10000
TIMEOUT_S = 90
RESULT_ID = "__browser_check__"
PROBE_PREFIX = ".__browser_check__"
STDERR_MIME = "application/vnd.jupyter.stderr"

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--disable-extensions", "--disable-default-apps",
    "--hide-scrollbars", "--mute-audio", "--no-default-browser-check",
    # offline, deterministically: no name resolves, and anything by IP meets a dead proxy
    "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
)

# Runs before anything else in the page; writes its findings after `load` as JSON inside a
# <script type="application/json" id=RESULT_ID>, "<" escaped so the dump can't be confused.
PROBE_JS = r"""
(function () {
  var R = {resourceErrors: [], jsErrors: []};
  window.addEventListener('error', function (e) {
    var t = e.target;
    if (t && t !== window && t.tagName) {
      var a = t.getAttribute('src');
      if (a === null) a = t.getAttribute('href');
      if (a === null) a = t.getAttribute('data');
      R.resourceErrors.push({tag: t.tagName.toLowerCase(), attr: a,
                             url: t.currentSrc || t.src || t.href || t.data || ''});
    } else {
      R.jsErrors.push(String(e.message || 'error') +
                      (e.filename ? ' (' + e.filename + ':' + e.lineno + ')' : ''));
    }
  }, true);
  window.addEventListener('unhandledrejection', function (e) {
    R.jsErrors.push('unhandled promise rejection: ' + String(e.reason));
  });
  function uniform(img) {  // 1: one colour, 2: more, null: unreadable (tainted, undecoded)
    try {
      var w = img.naturalWidth, h = img.naturalHeight;
      if (!w || !h) return null;
      var c = document.createElement('canvas'); c.width = w; c.height = h;
      var ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
      var px = new Uint32Array(ctx.getImageData(0, 0, w, h).data.buffer);
      for (var i = 1; i < px.length; i++) if (px[i] !== px[0]) return 2;
      return (px[0] >>> 24) === 0 ? 0 : 1;  // 0: fully transparent
    } catch (err) { return null; }
  }
  function remote(u) { return /^(https?:)?\/\//i.test(u || ''); }
  window.addEventListener('load', function () {
    setTimeout(function () {
      var de = document.documentElement, b = document.body;
      R.loaded = true;
      R.readyState = document.readyState;
      R.title = document.title;
      R.text = b ? b.innerText : '';
      R.height = Math.max(de.scrollHeight, b ? b.scrollHeight : 0);
      R.width = Math.max(de.scrollWidth, b ? b.scrollWidth : 0);
      R.images = Array.prototype.map.call(document.images, function (img) {
        var r = img.getBoundingClientRect();
        return {src: img.currentSrc || img.src || '', complete: img.complete,
                naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
                width: r.width, height: r.height, colours: uniform(img)};
      });
      R.links = Array.prototype.map.call(document.querySelectorAll('a[href]'),
                                         function (a) { return a.href; });
      R.localRefs = [];
      R.remote = [];
      document.querySelectorAll('script[src],link[href],img[src],iframe[src],source[src],' +
                                'video[src],audio[src],embed[src],object[data]').forEach(
        function (el) {
          if (el.tagName === 'LINK' && !/stylesheet|icon|preload|modulepreload/i.test(el.rel)) return;
          var u = el.getAttribute('src') || el.getAttribute('href') || el.getAttribute('data');
          var abs = el.src || el.href || el.data || '';
          if (remote(u)) R.remote.push({tag: el.tagName.toLowerCase(), url: u});
          else if (/^file:/i.test(abs)) R.localRefs.push({tag: el.tagName.toLowerCase(), url: abs});
        });
      R.resources = (performance.getEntriesByType('resource') || []).map(
        function (e) { return e.name; }).filter(remote);
      R.outputs = [];
      document.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"],' +
                                '.output_error,.output_stderr').forEach(function (el) {
        R.outputs.push({kind: el.classList.contains('output_error') ? 'error' : 'stderr',
                        text: el.innerText});
      });
      R.papermillError = !!document.getElementById('papermill-error-cell');
      // outputs cut at the page's edge: the page does not scroll, the output does
      R.overflowing = Array.prototype.filter.call(
        document.querySelectorAll('.jp-OutputArea-output, .output_subarea'),
        function (el) { return el.scrollWidth > el.clientWidth + 1; }).map(
        function (el) { return (el.innerText || '').trim().split('\n')[0]; });
      R.codeInputs = document.querySelectorAll(
        '.jp-CodeCell .jp-InputArea-editor, .code_cell .input_area').length;
      R.mathjax = typeof window.MathJax !== 'undefined';
      var s = document.createElement('script');
      s.type = 'application/json'; s.id = '__browser_check__';
      s.textContent = JSON.stringify(R).replace(/</g, '\\u003c');
      (document.body || de).appendChild(s);
    }, 0);
  });
})();
"""

EXCEPTION_LINE = re.compile(
    r"^\s*(?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt)\b\s*(?::|$)",
    re.MULTILINE)
TEX = re.compile(r"\$\$.+?\$\$|\\\(.+?\\\)|\\\[.+?\\\]|\$[^$\n]*\\[A-Za-z]+[^$\n]*\$", re.S)


@dataclass
class PageResult:
    page: str  # path relative to the reports folder, with /
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    screenshot: Path | None = None
    images: int = 0

    @property
    def ok(self):
        return not self.problems


class CheckError(RuntimeError):
    """The check itself could not run (no browser, no pages, no reports folder)."""


def is_error_output(text):
    return "Traceback" in text or bool(EXCEPTION_LINE.search(text))


def blank_reason(image_bytes):
    """None if the raster image has at least two colours, else why it is blank. Raises on
    data Pillow can't decode."""
    from PIL import Image

    with Image.open(io.BytesIO(image_bytes)) as im:
        im.load()
        rgba = im.convert("RGBA")
    if rgba.getextrema()[3][1] == 0:
        return "fully transparent"
    colours = rgba.getcolors(1)
    if colours is not None:
        return f"a single colour {colours[0][1][:3]}"
    return None


def _data_uri_bytes(uri):
    header, _, payload = uri.partition(",")
    if header.endswith(";base64"):
        return base64.b64decode(payload, validate=False)
    return urllib.parse.unquote_to_bytes(payload)


def _file_path(url):
    """Local path of a file: URL without query/fragment, or None for other schemes."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "file":
        return None
    return Path(urllib.request.url2pathname(urllib.parse.unquote(parts.path)))


def _inside(path, root):
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _short(text, n=100):
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def find_pages(reports_dir, skip=()):
    skip = [Path(s).resolve() for s in skip]
    pages = []
    for p in sorted(Path(reports_dir).rglob("*.html")):
        if p.name.startswith(PROBE_PREFIX) or any(_inside(p, s) for s in skip):
            continue
        pages.append(p)
    return pages


def run_chromium(chromium, args, workdir, timeout=TIMEOUT_S):
    """Run Chromium with a fresh profile; returns (returncode, stdout, stderr)."""
    profile = tempfile.mkdtemp(prefix="profile-", dir=workdir)
    cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True,
                            env=dict(os.environ, HOME=profile))
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: Chromium and its children only
        out, err = proc.communicate()
        return None, out.decode(errors="replace"), err.decode(errors="replace")
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def _stderr_tail(err, n=3):
    lines = [ln for ln in err.splitlines() if ln.strip() and "dbus" not in ln
             and "unexpected operator" not in ln]
    return " | ".join(lines[-n:])


def probe_page(chromium, page, workdir):
    """Load a probed sibling copy of page and return the probe's JSON (None if absent)."""
    html = page.read_text(encoding="utf-8", errors="replace")
    tag = f"<script>{PROBE_JS}</script>"
    m = re.search(r"<head\b[^>]*>", html, re.I)
    probed = html[: m.end()] + tag + html[m.end():] if m else tag + html
    probe_file = page.with_name(PROBE_PREFIX + page.name)
    probe_file.write_text(probed, encoding="utf-8")
    try:
        rc, out, err = run_chromium(chromium, ["--window-size=%d,800" % SCREENSHOT_WIDTH,
                                               "--dump-dom", probe_file.as_uri()], workdir)
    finally:
        probe_file.unlink(missing_ok=True)
    m = re.search(r'<script type="application/json" id="%s">(.*?)</script>' % RESULT_ID,
                  out, re.S)
    if not m:
        return None, rc, err
    return json.loads(m.group(1)), rc, err


def check_images(result, probe, copy_root):
    for i, img in enumerate(probe.get("images", []), 1):
        src = img["src"]
        label = f"image {i}" + ("" if src.startswith("data:") else f" ({_show(src, copy_root)})")
        if not img["complete"] or not img["naturalWidth"] or not img["naturalHeight"]:
            result.problems.append(f"{label} not rendered (naturalWidth x naturalHeight = "
                                   f"{img['naturalWidth']}x{img['naturalHeight']})")
            continue
        if img["width"] < 1 or img["height"] < 1:
            result.problems.append(f"{label} laid out {img['width']:.0f}x{img['height']:.0f} px")
            continue
        data = None
        try:
            if src.startswith("data:"):
                data = _data_uri_bytes(src)
            elif (path := _file_path(src)) is not None and path.is_file():
                data = path.read_bytes()
        except (binascii.Error, ValueError, OSError):
            data = None
        reason = None
        judged = False
        if data is not None:
            try:
                reason, judged = blank_reason(data), True
            except Exception:  # not a raster format Pillow reads (SVG): use the browser's pixels
                judged = False
        if not judged:
            if img["colours"] is None:
                result.notes.append(f"{label}: blankness not checked (unreadable pixels)")
            elif img["colours"] < 2:
                reason = "fully transparent" if img["colours"] == 0 else "a single colour"
        if reason:
            result.problems.append(f"{label} ({img['naturalWidth']}x{img['naturalHeight']}) "
                                   f"is blank: {reason}")


def check_links_and_resources(result, probe, copy_root, page):
    for err in probe.get("resourceErrors", []):
        url = err["url"]
        path = _file_path(url)
        if err.get("attr") == "":  # <script src="">: an error event, no request
            result.notes.append(f"<{err['tag']}> with an empty src/href")
        elif path is not None:
            where = ("outside the reports folder" if not _inside(path, copy_root)
                     else "file exists but did not load" if path.exists() else "missing")
            result.problems.append(f"local {err['tag']} failed to load ({where}): "
                                   f"{_show(url, copy_root)}")
    failed = {e["url"] for e in probe.get("resourceErrors", []) if e.get("attr") != ""}
    for ref in probe.get("localRefs", []):  # loaded, but from the original tree, not the copy
        path = _file_path(ref["url"])
        if ref["url"] not in failed and not _inside(path, copy_root):
            result.problems.append(f"{ref['tag']} loads a file outside the reports folder: "
                                   f"{path}")
    remote_failed = {u for u in failed if _file_path(u) is None}
    for r in probe.get("remote", []):
        url = urllib.parse.urljoin(page.as_uri(), r["url"])
        state = "failed offline" if url in remote_failed or r["url"] in remote_failed \
            else "requested offline"
        result.notes.append(f"remote {r['tag']} {state}: {_strip_query(url)}")
    listed = {urllib.parse.urljoin(page.as_uri(), r["url"]) for r in probe.get("remote", [])}
    for url in probe.get("resources", []):
        if url not in listed:
            result.notes.append(f"remote resource requested: {_strip_query(url)}")
    seen = set()
    for href in probe.get("links", []):
        path = _file_path(href)
        if path is None or path in seen:
            continue
        seen.add(path)
        if path.name.startswith(PROBE_PREFIX):  # the page itself (#anchors)
            continue
        if not _inside(path, copy_root):
            result.problems.append(f"link leaves the reports folder: {_show(href, copy_root)}")
        elif not path.exists():
            result.problems.append(f"broken link: {_show(href, copy_root)}")


def _strip_query(url):
    return urllib.parse.urlsplit(url)._replace(query="", fragment="").geturl()


def _show(url, root):
    """A file: URL as a path relative to the copied reports folder (../x when outside)."""
    path = _file_path(url)
    if path is None:
        return _short(url, 80)
    return Path(os.path.relpath(path, root)).as_posix()


def check_outputs(result, probe):
    stderr_only = []
    for out in probe.get("outputs", []):
        text = out["text"] or ""
        if out["kind"] == "error" or is_error_output(text):
            first = next((ln for ln in text.splitlines() if EXCEPTION_LINE.match(ln)), None)
            result.problems.append("error output: " + _short(first or text, 140))
        elif text.strip():
            stderr_only.append(text)
    if probe.get("papermillError"):
        result.problems.append("papermill error banner (#papermill-error-cell)")
    if stderr_only:
        result.notes.append(f"{len(stderr_only)} stderr output(s) (warnings/logs), first: "
                            f"{_short(stderr_only[0], 100)!r}")


def screenshot_page(chromium, page, probe, dest, workdir, result):
    height = max(int(probe.get("height") or 0), 200)
    if height > MAX_SCREENSHOT_HEIGHT:
        result.notes.append(f"screenshot cut at {MAX_SCREENSHOT_HEIGHT} of {height} px")
        height = MAX_SCREENSHOT_HEIGHT
    if int(probe.get("width") or 0) > SCREENSHOT_WIDTH + 1:
        result.problems.append(f"page is {probe['width']} px wide: wider than the "
                               f"{SCREENSHOT_WIDTH} px window (horizontal scrolling)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    rc, _, err = run_chromium(chromium, [f"--window-size={SCREENSHOT_WIDTH},{height}",
                                         f"--screenshot={dest}", page.as_uri()], workdir)
    if not dest.is_file():
        result.problems.append(f"no screenshot (chromium exit {rc}: {_stderr_tail(err)})")
        return
    result.screenshot = dest
    try:
        reason = blank_reason(dest.read_bytes())
    except Exception as e:
        result.problems.append(f"screenshot unreadable: {e}")
        return
    if reason:
        result.problems.append(f"screenshot is blank: {reason}")


def check_page(chromium, page, copy_root, screenshot, workdir):
    rel = page.relative_to(copy_root).as_posix()
    result = PageResult(rel)
    probe, rc, err = probe_page(chromium, page, workdir)
    if probe is None:
        why = "timed out" if rc is None else f"exit {rc}"
        result.problems.append(f"page did not finish loading offline (chromium {why}; "
                               f"{_stderr_tail(err) or 'no load event within the budget'})")
        return result
    if not (probe.get("text") or "").strip():
        result.problems.append("page body is empty")
    result.images = len(probe.get("images", []))
    check_outputs(result, probe)
    check_images(result, probe, copy_root)
    check_links_and_resources(result, probe, copy_root, page)
    for e in probe.get("jsErrors", []):
        result.notes.append(f"JS error: {_short(e, 140)}")
    wide = probe.get("overflowing", [])
    if wide:
        result.notes.append(f"{len(wide)} output(s) wider than the page, read by scrolling them "
                            f"sideways; first: {_short(wide[0], 60)!r}")
    if probe.get("codeInputs"):
        result.notes.append(f"{probe['codeInputs']} code input(s) shown")
    if not probe.get("mathjax") and TEX.search(probe.get("text") or ""):
        result.notes.append("page text holds TeX but MathJax did not load: shown as raw TeX")
    screenshot_page(chromium, page, probe, screenshot, workdir, result)
    return result


def check_reports(reports_dir="reports", screenshots_dir=None, chromium=CHROMIUM, log=print):
    """Check every page; returns the list of PageResult. Raises CheckError when it can't."""
    reports_dir = Path(reports_dir)
    if not reports_dir.is_dir():
        raise CheckError(f"{reports_dir}: no such folder")
    if not (os.path.isfile(chromium) and os.access(chromium, os.X_OK)):
        raise CheckError(f"{chromium}: no Chromium or Chrome found (Debian: apt-get install "
                         "chromium; or set CHROMIUM to the browser's binary)")
    screenshots_dir = Path(screenshots_dir) if screenshots_dir else reports_dir / "screenshots"
    pages = find_pages(reports_dir, skip=[screenshots_dir])
    if not pages:
        raise CheckError(f"{reports_dir}: no *.html pages")
    results = []
    with tempfile.TemporaryDirectory(prefix="browser-check-") as tmp:
        copy_root = Path(tmp) / "reports"
        skip = screenshots_dir.resolve()

        def ignore(folder, names):
            return [n for n in names if (Path(folder) / n).resolve() == skip]

        shutil.copytree(reports_dir, copy_root, ignore=ignore, symlinks=False)
        for page in pages:
            rel = page.relative_to(reports_dir)
            r = check_page(chromium, copy_root / rel, copy_root,
                           screenshots_dir / rel.with_suffix(".png"), Path(tmp))
            results.append(r)
            if log:
                log(_line(r))
    return results


def _line(r):
    if r.ok:
        shot = f", screenshot {r.screenshot}" if r.screenshot else ""
        return f"OK    {r.page} ({r.images} image{'s' * (r.images != 1)}{shot})"
    return f"FAIL  {r.page}: " + "; ".join(r.problems)


def summarize_notes(results):
    """Notes merged across pages: 'note (n pages)'."""
    by_note = {}
    for r in results:
        for n in dict.fromkeys(r.notes):
            by_note.setdefault(n, []).append(r.page)
    return [f"{n}  [{pages[0] if len(pages) == 1 else f'{len(pages)} pages'}]"
            for n, pages in by_note.items()]


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m synthlib.tools.browser_check", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reports_dir", nargs="?", default="reports")
    p.add_argument("--screenshots", default=None,
                   help="where to save the PNGs (default REPORTS_DIR/screenshots)")
    p.add_argument("--chromium", default=CHROMIUM, help=f"browser binary (default {CHROMIUM})")
    args = p.parse_args(argv)
    try:
        results = check_reports(args.reports_dir, args.screenshots, args.chromium)
    except CheckError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    notes = summarize_notes(results)
    if notes:
        print("notes:")
        for n in notes:
            print(f"  {n}")
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)}/{len(results)} pages OK"
          + (f"; {len(failed)} failed" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
