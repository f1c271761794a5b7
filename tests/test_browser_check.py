"""synthlib.tools.browser_check on tiny fake report folders: a good one passes and leaves screenshots,
a blank figure and an error output fail. The browser cases need Debian's chromium."""
import base64
import io
import os

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
