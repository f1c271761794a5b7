"""synthlib.show: what the notebooks display."""
import pandas as pd

from synthlib import show


def test_table_headers_may_wrap_after_underscores_in_html_only(monkeypatch):
    shown = []
    monkeypatch.setattr(show, "display", lambda obj, raw=False: shown.append((obj, raw)))
    df = pd.DataFrame({"label_agreement": [0.98], "kid": ["a_b"]},
                      index=pd.Index(["dcgan_minority"], name="generator_name"))
    show.table(df)
    (bundle, raw), = shown
    assert raw and bundle["text/plain"] == repr(df)
    html = bundle["text/html"]
    assert "<th>label_<wbr>agreement</th>" in html and "<th>generator_<wbr>name</th>" in html
    assert "<th>dcgan_<wbr>minority</th>" in html  # row labels are headers too
    assert "<td>a_b</td>" in html  # cells stay as they are
    styled = df.style
    show.table(styled)
    assert shown[-1] == (styled, False)
