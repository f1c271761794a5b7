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
