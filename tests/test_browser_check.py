"""synthlib.tools.browser_check on tiny fake report folders: a good one passes and leaves screenshots,
a blank figure and an error output fail, and one bad page trips every other rule and note.
The browser cases need Debian's chromium."""
import base64
import functools
import http.server
import io
import os
import threading

import pytest
from PIL import Image

from synthlib.tools import browser_check

needs_chromium = pytest.mark.skipif(
    not os.access(browser_check.CHROMIUM, os.X_OK),
    reason=f"{browser_check.CHROMIUM} not installed (apt-get install chromium)")

# nbconvert's lab template: error outputs and stderr streams share this markup.
ERROR_OUTPUT = """<div class="jp-RenderedText jp-OutputArea-output"
 data-mime-type="application/vnd.jupyter.stderr"><pre>
<span class="ansi-red-fg">---------------------------------------------------------------------------</span>
<span class="ansi-red-fg">ValueError</span>                                Traceback (most recent call last)
Cell <span class="ansi-green-fg">In[3], line 1</span>
<span class="ansi-red-fg">ValueError</span>: boom
</pre></div>"""
WARNING_OUTPUT = """<div class="jp-RenderedText jp-OutputArea-output"
 data-mime-type="application/vnd.jupyter.stderr"><pre>
/x/plots.py:12: UserWarning: no artists with labels found to put in legend
</pre></div>"""


def png_data_uri(blank=False):
    im = Image.new("RGB", (120, 80), "white")
    if not blank:
        im.paste((30, 90, 200), (20, 20, 100, 60))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def make_reports(root, *, blank=False, error=False):
    (root / "exp").mkdir(parents=True)
    (root / "index.html").write_text(
        '<!doctype html><html><head><meta charset=utf-8><title>index</title></head><body>'
        '<h1>reports</h1><p><a href="exp/01_x.html">01_x</a></p></body></html>')
    outputs = WARNING_OUTPUT + (ERROR_OUTPUT if error else "")
    (root / "exp" / "01_x.html").write_text(
        '<!doctype html><html><head><meta charset=utf-8><title>01_x</title></head>'
        '<body class="jp-Notebook"><h1>01 x</h1><p><a href="../index.html">back</a></p>'
        f'<div class="jp-OutputArea">{outputs}'
        f'<div class="jp-RenderedImage jp-OutputArea-output"><img src="{png_data_uri(blank)}">'
        '</div></div></body></html>')
    return root


def test_error_output_rule():
    assert browser_check.is_error_output("ValueError   Traceback (most recent call last)\n...")
    assert browser_check.is_error_output("  Cell In[2], line 1\n    1 +\n      ^\n"
                                         "SyntaxError: invalid syntax")
    assert browser_check.is_error_output("KeyboardInterrupt: ")
    assert not browser_check.is_error_output(
        "/x/plots.py:12: UserWarning: an error bar is missing\n  warnings.warn(msg)")
    assert not browser_check.is_error_output("epoch 1/5 loss 0.3 val_loss 0.2")


def test_blank_rule():
    assert browser_check.blank_reason(base64.b64decode(png_data_uri().split(",")[1])) is None
    assert "single colour" in browser_check.blank_reason(
        base64.b64decode(png_data_uri(blank=True).split(",")[1]))
    buf = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(buf, "PNG")
    assert browser_check.blank_reason(buf.getvalue()) == "fully transparent"


@needs_chromium
def test_good_reports_pass_and_leave_screenshots(tmp_path, capsys):
    reports = make_reports(tmp_path / "reports")
    before = sorted(p.relative_to(reports) for p in reports.rglob("*"))
    assert browser_check.main([str(reports)]) == 0
    out = capsys.readouterr().out
    assert "OK    index.html" in out and "OK    exp/01_x.html" in out, out
    assert "2/2 pages OK" in out
    assert "1 stderr output(s)" in out  # a warning is a note, not a failure
    for name in ("index.png", "exp/01_x.png"):
        shot = reports / "screenshots" / name
        assert shot.is_file(), name
        with Image.open(shot) as im:
            assert im.width == browser_check.SCREENSHOT_WIDTH and im.height >= 200
            assert im.convert("RGB").getcolors(1) is None, f"{name} screenshot is blank"
    # the check worked on a copy: the folder holds only what it had, plus screenshots/
    after = sorted(p.relative_to(reports) for p in reports.rglob("*")
                   if "screenshots" not in p.relative_to(reports).parts)
    assert after == before


@needs_chromium
def test_blank_image_and_error_output_fail(tmp_path, capsys):
    reports = make_reports(tmp_path / "reports", blank=True, error=True)
    shots = tmp_path / "shots"
    assert browser_check.main([str(reports), "--screenshots", str(shots)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "OK    index.html (0 images, screenshot %s)" % (shots / "index.png") in lines, lines
    bad = next(ln for ln in lines if ln.startswith("FAIL  exp/01_x.html: "))
    assert "error output: ValueError: boom" in bad, bad
    assert "image 1 (120x80) is blank: a single colour (255, 255, 255)" in bad, bad
    assert "1/2 pages OK; 1 failed" in lines
    assert (shots / "exp" / "01_x.png").is_file()  # failing pages get a screenshot too


def test_missing_browser_or_folder_is_a_usage_error(tmp_path, capsys):
    assert browser_check.main([str(tmp_path / "nope")]) == 2
    make_reports(tmp_path / "r")
    assert browser_check.main([str(tmp_path / "r"), "--chromium", str(tmp_path / "no")]) == 2
    assert "no Chromium" in capsys.readouterr().err


def test_data_uris_pages_and_merged_notes(tmp_path):
    assert browser_check._data_uri_bytes("data:text/plain,a%20b%FF") == b"a b\xff"
    assert browser_check._data_uri_bytes("data:image/png;base64,AAE=") == b"\x00\x01"
    make_reports(tmp_path)
    (tmp_path / "exp" / (browser_check.PROBE_PREFIX + "01_x.html")).write_text("left over")
    (tmp_path / "shots").mkdir()
    (tmp_path / "shots" / "old.html").write_text("not a report")
    pages = browser_check.find_pages(tmp_path, skip=[tmp_path / "shots"])
    assert [p.relative_to(tmp_path).as_posix() for p in pages] == ["exp/01_x.html", "index.html"]
    one = browser_check.PageResult("a.html", notes=["JS error: x", "JS error: x", "tex"])
    two = browser_check.PageResult("b.html", notes=["tex"])
    assert browser_check.summarize_notes([one, two]) == ["JS error: x  [a.html]", "tex  [2 pages]"]


@needs_chromium
def test_every_rule_on_one_bad_page_and_an_empty_one(tmp_path, capsys):
    """Each failure rule and note, and the offline guarantee: the page asks a server on this
    machine for an image, and the server must never hear of it."""
    reports = make_reports(tmp_path / "reports")
    png = png_data_uri()
    (tmp_path / "outside.png").write_bytes(base64.b64decode(png.split(",")[1]))
    heard = []

    class Recorded(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # called for every request it answers
            heard.append(self.path)

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Recorded, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    local_url = f"http://127.0.0.1:{server.server_address[1]}/outside.png"
    svg = ("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='40' height='30'"
           "%3E{}%3C/svg%3E")
    white = svg.format("%3Crect width='40' height='30' fill='white'/%3E")
    (reports / "exp" / "02_bad.html").write_text(f"""<!doctype html><html><head>
<title>bad</title><script>throw new Error("kaput")</script>
<script src="missing.js"></script><script src="https://cdn.example.com/lib.js"></script>
<script src=""></script>
<style>body {{ background-image: url(https://cdn.example.com/bg.png) }}</style></head>
<body><h1>bad</h1><p>$$x^2$$</p>
<p><a href="#top">top</a> <a href="nope.html">nope</a> <a href="../../elsewhere.html">away</a></p>
<img src="../../outside.png"> <img src="{(tmp_path / 'outside.png').as_uri()}">
<img src="{png}" style="width:0"> <img src="{white}"> <img src="{svg.format('')}">
<img src="{local_url}">
<div class="output_error"><pre>something went wrong</pre></div>
<div id="papermill-error-cell">An exception was raised</div>
<div class="jp-OutputArea-output" style="overflow-x: auto"><pre>{"wide_table " * 200}</pre></div>
<div style="width:2000px">wide</div><div style="height:20000px">tall</div></body></html>""")
    (reports / "exp" / "03_empty.html").write_text(
        "<!doctype html><html><head><title>e</title></head><body></body></html>")
    try:
        assert browser_check.main([str(reports)]) == 1
    finally:
        server.shutdown()
        server.server_close()
    out = capsys.readouterr().out
    assert heard == [], "Chromium reached a server: not offline"
    lines = out.splitlines()
    bad = next(ln for ln in lines if ln.startswith("FAIL  exp/02_bad.html: "))
    assert set(bad.split(": ", 1)[1].split("; ")) == {
        "error output: something went wrong",
        "papermill error banner (#papermill-error-cell)",
        "image 1 (../outside.png) not rendered (naturalWidth x naturalHeight = 0x0)",
        "image 3 laid out 0x0 px",
        "image 4 (40x30) is blank: a single colour",
        "image 5 (40x30) is blank: fully transparent",
        f"image 6 ({local_url}) not rendered (naturalWidth x naturalHeight = 0x0)",
        "local script failed to load (missing): exp/missing.js",
        # the copy is checked, so a file beside the reports folder is not there
        "local img failed to load (outside the reports folder): ../outside.png",
        f"img loads a file outside the reports folder: {tmp_path / 'outside.png'}",
        "broken link: exp/nope.html",  # and not the page's own #top
        "link leaves the reports folder: ../elsewhere.html",
        "page is 2008 px wide: wider than the 1280 px window (horizontal scrolling)",
    }, bad
    assert ("FAIL  exp/03_empty.html: page body is empty; screenshot is blank: a single colour "
            "(255, 255, 255)") in lines
    notes = [ln.strip() for ln in lines[lines.index("notes:") + 1:]]
    for note in ("remote script failed offline: https://cdn.example.com/lib.js",
                 f"remote img failed offline: {local_url}",
                 "remote resource requested: https://cdn.example.com/bg.png",
                 "page text holds TeX but MathJax did not load: shown as raw TeX",
                 "<script> with an empty src/href",
                 "1 output(s) wider than the page, read by scrolling them sideways; first: "
                 "'wide_table wide_table",
                 "screenshot cut at 16384 of "):
        assert any(n.startswith(note) and n.endswith("[exp/02_bad.html]") for n in notes), note
    assert any(n.startswith("JS error: Uncaught Error: kaput") for n in notes), notes
    assert "2/4 pages OK; 2 failed" in lines
