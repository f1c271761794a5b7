"""What a stage's executed notebook becomes in the report: TensorFlow's start-up noise dropped,
and an HTML page that opens offline from a copied folder, each figure with its alt text."""
from __future__ import annotations

import logging
import re
from pathlib import Path

from synthlib.paths import write_text


# A text output longer than LOG_BOX (05_evaluate's log of 72 fits, 02's of each generator)
# scrolls in its own box on screen rather than push the figures and tables a few thousand
# pixels down; printed (reports are handed in), every line is on paper. A long line wraps
# between words, where JupyterLab's style breaks it anywhere ("profi/le").
LOG_BOX = "32em"
TEXT_OUTPUT = ".jp-RenderedText.jp-OutputArea-output > pre"
OFFLINE_TEMPLATE = (
    "{%- extends 'index.html.j2' -%}"
    "{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}"
    "{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}"
    f"{{%- block html_head_css -%}}<style>{TEXT_OUTPUT} {{ word-break: normal; "
    f"overflow-wrap: anywhere; }} @media screen {{ {TEXT_OUTPUT} {{ max-height: {LOG_BOX}; "
    "overflow-y: auto; } }</style>"
    "{%- endblock html_head_css -%}")


# TensorFlow's C++ start-up lines, written straight to stderr before its log level applies
# (TF_CPP_MIN_LOG_LEVEL cannot hold them back), and grappler's harmless "remapper failed" on
# the GAN steps: neither says anything to a reader. Every other line is kept.
NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
                   r"|I\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+\] "
                   r"|E\d{4} \d\d:\d\d:[\d.]+ +\d+ meta_optimizer\.cc:\d+\] remapper failed)")


def without_noise(text):
    return "".join(line for line in text.splitlines(keepends=True) if not NOISE.match(line))


def clean(nb):
    """Drop TensorFlow's start-up noise from the executed notebook's stderr outputs."""
    for cell in nb.cells:
        outputs = []
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                o["text"] = without_noise(o["text"])
                if not o["text"].strip():
                    continue
            outputs.append(o)
        if cell.cell_type == "code":
            cell.outputs = outputs
    return nb


def to_html(notebook_path, html_path):
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    nb = nbformat.read(notebook_path, as_version=4)
    # the page's title, as browser tabs and bookmarks show it: the experiment, stage and profile
    ran = nb.metadata.get("papermill", {}).get("parameters", {})
    stage = Path(html_path).stem
    nb.metadata["title"] = (f"{Path(ran['params_file']).stem} · {stage} ({ran.get('profile')})"
                            if "params_file" in ran else stage)
    # Reports are for reading: code cells are hidden (the notebooks hold only a few calls into
    # synthlib, and each report prints its parameters).
    # The lab template's require.js and MathJax come from a CDN; the reports need neither, and
    # must open offline from a copied folder.
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, raw_template=OFFLINE_TEMPLATE)
    exporter.log.setLevel(logging.ERROR)  # not its note on images without alt text, per page
    # A cell's consecutive prints in one block (the kernel sends each flush as its own output:
    # 05_evaluate's 72 fits would be 72 boxes), so that LOG_BOX caps the whole log.
    exporter.register_preprocessor(CoalesceStreamsPreprocessor(), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    write_text(html_path, with_alt_text(body, nb))


def with_alt_text(body, nb):
    """Each figure's description (plots.describe, sent as its output's metadata) as its
    image's alt text: the lab template writes none, and nbconvert fills in "No description has
    been provided". The images are matched to the outputs in order; when their numbers differ
    the page is left as it is rather than given wrong descriptions."""
    from bs4 import BeautifulSoup

    alts = [o.get("metadata", {}).get("image/png", {}).get("alt")
            for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    soup = BeautifulSoup(body, features="html.parser")
    images = soup.select(".jp-RenderedImage img")
    if len(images) != len(alts) or not any(alts):
        return body
    for img, alt in zip(images, alts):
        if alt:
            img["alt"] = alt
    return str(soup)
