"""The write-up: headline tables and verdicts computed from metrics.csv, the run manifest,
and reports/index.html linking every experiment."""
from __future__ import annotations

import datetime as dt
import html
import importlib.metadata
import json
import platform
import subprocess

import pandas as pd

from synthlib import evaluation
from synthlib.config import ARMS
from synthlib.paths import REPORTS_DIR, ROOT, write_text

PACKAGES = ("tensorflow-cpu", "tensorflow", "keras", "numpy", "scikit-learn", "pandas",
            "papermill", "nbconvert")


def headline(metrics_df, metric="minority_f1"):
    """Mean ± std over seeds, classifiers as rows, arms as columns."""
    s = evaluation.summary(metrics_df[metrics_df.classifier != "oracle"], metric)
    s["cell"] = s.apply(lambda r: f"{r['mean']:.3f}" + (
        f" ± {r['std']:.3f}" if r["seeds"] > 1 else ""), axis=1)
    table = s.pivot(index="classifier", columns="arm", values="cell")
    order = [a for a in ARMS if a in table.columns]  # baseline first, as configured
    return table[order + [a for a in table.columns if a not in order]]


def verdicts(metrics_df, baseline="imbalanced", arm="gan_balanced", metric="minority_f1"):
    """One sentence per classifier on whether `arm` beats `baseline`, from the numbers."""
    s = evaluation.summary(metrics_df, metric).set_index(["classifier", "arm"])
    out = []
    for clf in sorted(metrics_df[metrics_df.classifier != "oracle"].classifier.unique()):
        if (clf, baseline) not in s.index or (clf, arm) not in s.index:
            continue
        b, a = s.loc[(clf, baseline)], s.loc[(clf, arm)]
        diff = a["mean"] - b["mean"]
        if a["seeds"] > 1:
            spread = (a["std"] if pd.notna(a["std"]) else 0) + (
                b["std"] if pd.notna(b["std"]) else 0)
            beyond = abs(diff) > spread
            noise = (f"which is {'beyond' if beyond else 'within'} the seed-to-seed spread "
                     f"(sum of stds {spread:.3f}, {int(a['seeds'])} seeds)")
        else:
            noise = "from a single seed, so no spread was measured: treat it as indicative"
        direction = "higher" if diff > 0 else "lower" if diff < 0 else "the same"
        word = "beats" if diff > 0 else "does not beat"
        out.append(f"**{clf}**: {metric} on {arm} is {a['mean']:.3f} against {b['mean']:.3f} "
                   f"on {baseline} ({diff:+.3f}, {direction}); the {arm} arm {word} the "
                   f"{baseline} arm here, {noise}.")
    return out


def _git_commit():
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True, timeout=10).stdout
        return out.stdout.strip() + ("+uncommitted changes" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def manifest(run):
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            pass
    data = run.load_json("data.json")
    times = run.load_json("stage_times.json") if run.path("stage_times.json").exists() else {}
    return {
        "experiment": run.experiment, "profile": run.cfg.profile,
        "params_file": run.params_file, "params_digest": run.cfg.digest(),
        "data_source": data["source"], "data_digest": data["digest"],
        "git_commit": _git_commit(), "python": platform.python_version(),
        "machine": f"{platform.machine()}, {platform.processor() or platform.system()}",
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "packages": versions,
        "stages": times,
    }


def stage_table(man):
    rows = [{"stage": k, "wall time (s)": v.get("seconds"),
             "peak memory (MiB)": v.get("peak_rss_mib")} for k, v in man["stages"].items()]
    return pd.DataFrame(rows)


def write_summary(run, metrics_df):
    """What reports/index.html shows for this experiment."""
    man = manifest(run)
    summary = {"experiment": run.experiment, "description": run.cfg.description,
               "profile": run.cfg.profile, "seeds": len(run.seeds),
               "data_source": man["data_source"], "date": man["date"],
               "headline_html": headline(metrics_df).to_html(classes="headline")}
    write_text(run.reports / "summary.json", json.dumps(summary, indent=2))
    write_index(run.reports.parent)
    return summary


INDEX_STYLE = """body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;
color:#222;line-height:1.45}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid
#ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}section{border-top:1px solid
#ddd;padding-top:.5em;margin-top:1.5em}.meta{color:#555;font-size:.9em}"""


def write_index(reports_dir=REPORTS_DIR):
    sections = []
    for summary_file in sorted(reports_dir.glob("*/summary.json")):
        s = json.loads(summary_file.read_text())
        exp = summary_file.parent.name
        pages = sorted(p.name for p in summary_file.parent.glob("[0-9][0-9]_*.html"))
        links = " · ".join(f'<a href="{exp}/{p}">{html.escape(p[:-5])}</a>' for p in pages)
        sections.append(
            f"<section><h2>{html.escape(exp)}</h2><p>{html.escape(s.get('description', ''))}"
            f"</p><p class=meta>profile {html.escape(s['profile'])}, {s['seeds']} seed(s), "
            f"run {html.escape(s['date'])}<br>data: {html.escape(s['data_source'])}</p>"
            f"<p>Minority F1 on the real test split (mean ± std over seeds):</p>"
            f"{s['headline_html']}<p>{links} · <a href=\"{exp}/metrics.csv\">metrics.csv</a>"
            f"</p></section>")
    body = "".join(sections) or "<p>No experiment has been reported yet: run make report.</p>"
    write_text(reports_dir / "index.html",
               f"<!doctype html><html><head><meta charset=utf-8><title>synthlib reports</title>"
               f"<style>{INDEX_STYLE}</style></head><body><h1>synthlib reports</h1>{body}"
               f"</body></html>")
