"""What the notebooks display, in order: headings, prose, tables. Figures come from plots."""
from __future__ import annotations

import re

import pandas as pd
from IPython.display import HTML, Markdown, display


def heading(text, level=2):
    display(Markdown(f"{'#' * level} {text}"))


def text(markdown):
    display(Markdown(markdown))


# only between parts of four characters or more: `recall_0` wrapped leaves a lone digit
_WORD_BREAK = re.compile(r"(?<=[^\W_]{4})_(?=[^\W_]{4})")


def table(df, whole=False):
    """A table. In the HTML reports a column header may wrap after an underscore between two
    words, so that a table of long metric names fits the page (`label_agreement` still reads,
    and is found by a search, as written; `recall_0` and `small_cnn` stay whole), and a cell
    with no value (a real reference has no training-image distance; no filter, no filter
    accuracy) reads as a dash rather than NaN or None; a Styler keeps its own HTML. Row numbers
    (an unnamed 0..n-1 index) say nothing, and are left out; a meaningful index is kept.
    `whole`: every row and all of each cell, where pandas would cut a long table to its first
    and last few rows and a long text to its first 200 characters. An empty table reads "None
    in this run"."""
    if not isinstance(df, pd.DataFrame):
        display(df)
        return
    if df.empty:  # e.g. the generators of a run that trains none: a line, not a bare header
        display(Markdown("*None in this run.*"))
        return
    numbered = _numbered(df)
    colwidth = None if whole else pd.get_option("display.max_colwidth")
    with pd.option_context("display.max_colwidth", colwidth):
        shown = df.to_html(notebook=True, index=not numbered,
                           max_rows=None if whole else pd.get_option("display.max_rows"),
                           max_cols=pd.get_option("display.max_columns"),
                           show_dimensions=pd.get_option("display.show_dimensions"))
    html = re.sub(r"(<th\b[^>]*>)(.*?)(</th>)",
                  lambda m: m.group(1) + _WORD_BREAK.sub("_<wbr>", m.group(2)) + m.group(3),
                  shown, flags=re.S)
    html = re.sub(r"<td>(NaN|None|NaT|&lt;NA&gt;)</td>", "<td>—</td>", html)
    plain = df.to_string(index=False) if numbered else repr(df)
    display({"text/html": html, "text/plain": plain}, raw=True)


def html(fragment):
    display(HTML(fragment))


def collapsed(summary, df):
    """A table folded under a one-line summary, opened with a click (long tables); a cell
    with no value (one seed: no interval) reads as a dash, and row numbers are left out, as
    in `table`."""
    folded = df.to_html(na_rep="—", index=not _numbered(df))
    display(HTML(f"<details><summary>{summary}</summary>{folded}</details>"))


def _numbered(df):
    """Only row numbers for an index (0..n-1, unnamed): they say nothing."""
    return isinstance(df.index, pd.RangeIndex) and df.index.name is None
