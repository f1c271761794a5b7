"""What the notebooks display, in order: headings, prose, tables. Figures come from plots."""
from __future__ import annotations

from IPython.display import HTML, Markdown, display


def heading(text, level=2):
    display(Markdown(f"{'#' * level} {text}"))


def text(markdown):
    display(Markdown(markdown))


def table(df):
    display(df)


def html(fragment):
    display(HTML(fragment))


def collapsed(summary, df):
    """A table folded under a one-line summary, opened with a click (long tables)."""
    display(HTML(f"<details><summary>{summary}</summary>{df.to_html()}</details>"))
