"""synthlib.show: what the notebooks display."""
import pandas as pd

from synthlib import show


def test_table_headers_may_wrap_after_underscores_in_html_only(monkeypatch):
    shown = []
    monkeypatch.setattr(show, "display", lambda obj, raw=False: shown.append((obj, raw)))
    df = pd.DataFrame({"label_agreement": [0.98], "kid": ["a_b"], "recall_0": [1.0],
                       "small_cnn": [0.9]},
                      index=pd.Index(["dcgan_minority"], name="generator_name"))
    show.table(df)
    (bundle, raw), = shown
    assert raw and bundle["text/plain"] == repr(df)
    html = bundle["text/html"]
    assert "<th>label_<wbr>agreement</th>" in html and "<th>generator_<wbr>name</th>" in html
    assert "<th>dcgan_<wbr>minority</th>" in html  # row labels are headers too
    assert "<td>a_b</td>" in html  # cells stay as they are
    # a short part stays with its word: no header ends in a lone digit
    assert "<th>recall_0</th>" in html and "<th>small_cnn</th>" in html
    styled = df.style
    show.table(styled)
    assert shown[-1] == (styled, False)


def test_missing_values_read_as_a_dash_in_html_only(monkeypatch):
    shown = []
    monkeypatch.setattr(show, "display", lambda obj, raw=False: shown.append(obj))
    df = pd.DataFrame({"frechet": [55.4, float("nan")], "filter": [None, 0.97],
                       "count": pd.array([3, None], dtype="Int64"), "name": ["NaN_a", "b"],
                       "filter_test_accuracy": [None, None]})  # no filter: None, not NaN
    show.table(df)
    html = shown[0]["text/html"]
    assert html.count("<td>—</td>") == 5
    assert "NaN" not in html.replace("NaN_a", "") and "None" not in html
    assert "&lt;NA&gt;" not in html and "<td>NaN_a</td>" in html  # a value that starts so stays
    assert shown[0]["text/plain"] == df.to_string(index=False)


def test_row_numbers_are_left_out_and_a_meaningful_index_kept(monkeypatch):
    shown = []
    monkeypatch.setattr(show, "display", lambda obj, raw=False: shown.append(obj))
    checks = pd.DataFrame({"check": ["oracle accuracy", "converged"], "passed": ["pass", "FAIL"]})
    show.table(checks.sort_values("passed").reset_index(drop=True))
    html = shown[0]["text/html"]
    assert "<th>0</th>" not in html and "<th>1</th>" not in html and "<th></th>" not in html
    assert "<td>oracle accuracy</td>" in html
    assert not shown[0]["text/plain"].splitlines()[1].lstrip().startswith("0")
    show.table(checks.set_index("check"))
    assert "<th>oracle accuracy</th>" in shown[1]["text/html"]
    show.table(pd.DataFrame({"f1": [0.9, 0.8]}, index=pd.RangeIndex(2, name="seed")))
    assert "<th>seed</th>" in shown[2]["text/html"] and "<th>0</th>" in shown[2]["text/html"]


def test_a_folded_table_leaves_out_row_numbers_too(monkeypatch):
    shown = []
    monkeypatch.setattr(show, "display", lambda obj, raw=False: shown.append(obj))
    show.collapsed("The same comparisons as a table",
                   pd.DataFrame({"gan_arm": ["dcgan_minority"], "ci95": [float("nan")]}))
    html = shown[0].data
    assert "<summary>The same comparisons as a table</summary>" in html
    assert "<th>0</th>" not in html and "<td>—</td>" in html


def test_a_whole_table_shows_every_row_and_all_of_each_cell(monkeypatch):
    """01's "every resolved value": pandas would cut it to its first and last rows, and a
    long description to 200 characters."""
    shown_html = []
    monkeypatch.setattr(show, "display", lambda obj, raw=False: shown_html.append(obj["text/html"]))
    df = pd.DataFrame({"parameter": [f"p{i}" for i in range(80)],
                       "value": ["x" * 300] + ["v"] * 79})
    with pd.option_context("display.max_rows", 60, "display.max_colwidth", 200):
        show.table(df)
        show.table(df, whole=True)
    cut, whole = shown_html
    assert "p79" in cut and "p40" not in cut and "x" * 300 not in cut
    assert all(f"p{i}<" in whole for i in range(80)) and "x" * 300 in whole



def test_an_empty_table_says_so_rather_than_showing_a_bare_header(monkeypatch):
    """02's table of generators in a run that trains none: one line, not 'Empty DataFrame'."""
    shown = []
    monkeypatch.setattr(show, "display", lambda obj, raw=False: shown.append(obj))
    show.table(pd.DataFrame(columns=["parameter", "value"]))
    (said,) = shown
    assert said.data == "*None in this run.*"
