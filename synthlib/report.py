"""The write-up: headline tables and verdicts computed from metrics.csv, the run manifest,
and reports/index.html linking every experiment."""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import importlib.metadata
import json
import platform
import subprocess
import sys

import pandas as pd

from synthlib import metrics, workers
from synthlib.chains import one_run_in
from synthlib.paths import REPORTS_DIR, ROOT, resolve, shown, write_text
from synthlib.registry import ARMS, CLASSIC_ARMS, GENERATORS

PACKAGES = ("tensorflow-cpu", "tensorflow", "keras", "numpy", "scikit-learn", "pandas",
            "papermill", "nbconvert")


PLUS_MINUS = "\u00a0±\u00a0"  # non-breaking: a narrow column must not wrap mean from spread


def mean_sd(mean, sd=float("nan"), fmt=".3f"):
    """`mean ± sd` as every table writes it; the mean alone where there is no spread."""
    return f"{mean:{fmt}}" + ("" if pd.isna(sd) else f"{PLUS_MINUS}{sd:{fmt}}")


WITHHELD_MARK = " †"
WITHHELD_NOTE = ("† a GAN arm whose generator (or the oracle that measures it) fails a validity "
                 "check: its comparisons are withheld, and its score is no finding about GANs "
                 "(a column it tops has no training set in bold)")


def headline(metrics_df, metric="minority_f1", arms=ARMS, references=("upper_bound",),
             withheld=(), unmarked=()):
    """Mean ± std over seeds: training sets as rows, classifiers as columns, the best of each
    column in bold (not counting the reference rows: the upper bound is no contender; no bold
    in the `unmarked` columns, whose classifier fails a validity check), and the arms in
    `withheld` marked † (WITHHELD_NOTE), so that a reader of the table alone does not take a
    poor generator's top place, or an unconverged classifier's, for a finding. A pandas
    Styler; `.data` holds the strings."""
    s = metrics.summary(metrics_df[metrics_df.classifier != "oracle"], metric)
    s = s[s.arm.isin(arms)]
    s["cell"] = [mean_sd(m, sd) for m, sd in zip(s["mean"], s["std"])]  # one seed: no spread
    order = [a for a in arms if a in set(s.arm)]
    strings = s.pivot(index="arm", columns="classifier", values="cell").reindex(order)
    means = s.pivot(index="arm", columns="classifier", values="mean").reindex(order)
    means = means.drop(index=[r for r in references if r in means.index])
    # a column topped by a withheld arm has no bold: bold on it would claim the win the † takes
    # back, and bold on the runner-up would name a best that scored lower
    topped = [c for c in means.columns if means[c].notna().any() and means[c].idxmax() in withheld]
    label = {a: a + WITHHELD_MARK for a in withheld}
    return mark_best(strings.rename(index=label),
                     means.rename(index=label).drop(columns=list(unmarked) + topped,
                                                    errors="ignore"))


def over_seeds(metrics_df):
    """What a table's cells are, for its caption: a mean and spread only where seeds vary."""
    return ("mean ± std over seeds" if metrics_df.seed.nunique() > 1
            else "one seed, so no spread")


UNMARKED_NOTE = "no training set in bold for a classifier whose validity checks fail"
# 05's scores, shown before any check has run
JUDGED_IN_06 = ("Which training set did best, and whether that is a finding, is for 06: it "
                "checks the classifiers and generators first.")


def marked_headline(caption, metrics_df, checks, generator_of, **headline_kw):
    """(caption, headline table) with each arm of `generator_of` (arm -> the generator it
    rests on) marked † where its generator or the oracle fails a check, as `gate` withholds
    its comparisons, and no best arm in bold for a classifier that fails a check; the caption
    then says what the marks mean."""
    from synthlib import validity

    withheld = [a for a, g in generator_of.items() if a in set(metrics_df.arm)
                and not validity.conclusive_for(checks, g, "oracle")]
    unmarked = [c for c in metrics_df.classifier.unique() if c != "oracle"
                and not validity.conclusive_for(checks, c)]
    if withheld:
        caption += "; " + WITHHELD_NOTE
    if unmarked:
        caption += "; " + UNMARKED_NOTE
    return caption, headline(metrics_df, withheld=withheld, unmarked=unmarked, **headline_kw)


def mark_best(strings, values, decimals=3):
    """A Styler of `strings` with the highest of `values` in each column of `values` in bold,
    where one row is highest as the table shows them (to `decimals`: a tie has no best);
    `.best` maps each such column to its best row (for the Markdown copy)."""
    rounded = values.round(decimals)
    best = pd.Series({c: rounded[c].idxmax() for c in rounded.columns
                      if rounded[c].notna().any() and (rounded[c] == rounded[c].max()).sum() == 1},
                     dtype=object)

    def bold(column):
        return ["font-weight: bold" if i == best.get(column.name) else "" for i in column.index]
    # its CSS ids from its content, not pandas' random ones: a rerun writes the same table
    # HTML, and two different tables on one page (the index) have ids of their own
    uuid = hashlib.sha256((strings.to_csv() + best.to_json()).encode()).hexdigest()[:8]
    styler = strings.style.apply(bold, axis=0).set_uuid(uuid)
    styler.best = best
    return styler


# A comparison's verdict, by where its interval lies (the prefix is what the code reads)
BETTER, WORSE, WITHIN = ("better (interval above zero)", "worse (interval below zero)",
                         "within noise (interval spans zero)")
SIMULTANEOUS = ("95% simultaneous intervals: each widened for the number of comparisons "
                "drawn on its classifier (Bonferroni), so that all of them together, not each "
                "alone, miss the true difference one time in twenty")


def paired_comparisons(metrics_df, metric, arms, baselines):
    """Each arm against each baseline, per classifier: the mean paired difference over seeds
    (same seed, same split) with its interval, and whether that excludes zero. With m
    comparisons on a classifier, each interval is at confidence 1 - 0.05/m (SIMULTANEOUS):
    at 95% each, one in three runs of ten comparisons with no real difference would show a
    "better" or "worse" by chance."""
    d = metrics_df[metrics_df.metric == metric]
    wide = d.pivot_table(index=["classifier", "seed"], columns="arm", values="value")
    rows = []
    for clf, g in wide.groupby(level="classifier"):
        pairs = [(arm, base) for arm in arms if arm in g.columns
                 for base in baselines if base in g.columns and base != arm]
        for arm, base in pairs:
            diff = (g[arm] - g[base]).dropna()
            mean, sd, half = metrics.mean_ci(diff, confidence=1 - 0.05 / len(pairs))
            if len(diff) < 2:
                verdict = "single seed: no spread measured"
            elif mean - half > 0:
                verdict = BETTER
            elif mean + half < 0:
                verdict = WORSE
            else:
                verdict = WITHIN
            rows.append({"classifier": clf, "gan_arm": arm, "baseline": base,
                         "mean_difference": mean, "interval": half, "comparisons": len(pairs),
                         "seeds": len(diff), "verdict": verdict})
    return pd.DataFrame(rows)


def comparison_table(comp):
    """The comparisons as the write-ups fold them under the forest plot: `interval` is the
    half-width of the simultaneous interval, and its header says so."""
    return comp.round(3).rename(columns={"interval": "± (simultaneous 95% half-width)"})


def gate(comp, checks, scopes):
    """Withhold the verdict of every comparison whose numbers rest on a failed validity check;
    `scopes(row)` names what a row rests on (its classifier, its generator, the oracle)."""
    from synthlib import validity

    comp = comp.copy()
    for i, r in comp.iterrows():
        bad = sorted({c.scope for c in validity.failed(checks)
                      if c.scope in tuple(scopes(r)) + ("all",)})
        if bad:
            comp.loc[i, "verdict"] = f"not conclusive: {', '.join(bad)} failed a check"
    return comp


def comparisons(metrics_df, metric="minority_f1", checks=()):
    """Each GAN arm against each classic baseline (the rebalance study); a comparison whose
    classifier, generator or oracle fails a validity check is marked not conclusive."""
    d = metrics_df[metrics_df.classifier != "oracle"]
    comp = paired_comparisons(d, metric, list(GENERATORS), list(CLASSIC_ARMS))
    return gate(comp, checks, lambda r: (r.classifier, r.gan_arm, "oracle"))


def verdict_sentences(metrics_df, comp, metric, exclude=("upper_bound",), checks=()):
    """Sentences computed from the numbers: the best arm per classifier, and how the GAN arms
    fare against the baselines (also when they do not beat them). Nothing is claimed for a
    classifier that fails a validity check, nor from a withheld comparison."""
    from synthlib import validity

    s = metrics.summary(metrics_df, metric)
    s = s[~s.arm.isin(exclude) & ~s.arm.str.contains(":")]
    out = []
    for clf, g in s.groupby("classifier"):
        if not validity.conclusive_for(checks, clf):
            out.append(f"**{clf}**: not conclusive ({validity.failing_for(checks, clf)}); no "
                       f"verdict is drawn from this classifier's numbers.")
            continue
        c = comp[comp.classifier == clf] if len(comp) else comp
        withheld = c[c.verdict.str.startswith("not conclusive")] if len(c) else c
        text = f"**{clf}**: " + _highest(metrics_df, g, clf, metric,
                                         marked=set(withheld.gan_arm) if len(c) else set())
        best = g.loc[g["mean"].idxmax()]
        if len(withheld) and best["arm"] in set(withheld.gan_arm):
            # A poor generator's win is no more a finding about GANs than its loss would be.
            text += " Its comparisons are withheld, so its top place is no finding about GANs."
        c = c.drop(withheld.index) if len(c) else c
        unmeasured = c[c.verdict.str.startswith("single seed")] if len(c) else c
        if len(c) and len(unmeasured) == len(c):
            # One seed gives differences but no spread to weigh them by: say them, claim none.
            text += (" With one seed there is no spread to weigh the GAN arms' differences "
                     "by: " + "; ".join(f"{r.gan_arm} {r.mean_difference:+.3f} against "
                                        f"{r.baseline}" for r in c.itertuples())
                     + ". They describe this run; only more seeds can make them a finding.")
        elif len(c):
            won = c[c.verdict.str.startswith("better")]
            lost = c[c.verdict.str.startswith("worse")]
            text += (f" Of {validity.counted(len(c), 'GAN-vs-baseline comparison')}, "
                     f"{len(won)} {'is' if len(won) == 1 else 'are'} better, {len(lost)} worse "
                     f"and {len(c) - len(won) - len(lost)} within noise or unmeasured, by "
                     f"{SIMULTANEOUS}.")
            if len(won) == 0:
                text += " No GAN arm is shown to beat a baseline here."
        if len(withheld):
            # named, not counted alone: beside the list of arms above, "5 comparisons (arms
            # marked †)" reads as five marked arms where one GAN arm's five baselines are meant
            count = validity.counted(len(withheld), "comparison")
            arms = list(dict.fromkeys(withheld.gan_arm))
            text += (f" {count[0].upper()}{count[1:]} of "
                     f"{', '.join(a + WITHHELD_MARK for a in arms)} with a baseline "
                     f"{'is' if len(withheld) == 1 else 'are'} withheld: "
                     f"{'its' if len(arms) == 1 else 'their'} generator (or the oracle that "
                     f"measures it) fails a validity check, and a GAN arm with a poor generator "
                     f"says nothing about GANs, whether it wins or loses.")
        if int(g["seeds"].max()) == 2:  # the widths above would otherwise puzzle a reader
            text += (" With two seeds each interval rests on one degree of freedom, so it can "
                     "be wider than any two scores can differ: these comparisons describe the "
                     "run, and more seeds (the full profile's) are what can test them.")
        out.append(text)
    return out


def _highest(metrics_df, g, clf, metric, marked=()):
    """The arm with the highest mean, and whether it is told apart from every other arm: the
    top place among arms a few seeds cannot tell apart is no finding. The data pick that arm,
    so it is weighed against all the others at once (Bonferroni over them, as SIMULTANEOUS),
    not against the runner-up alone at 95%. Arms in `marked` (withheld GAN arms) carry the
    table's mark, so that no difference from them reads as a finding about GANs."""
    from synthlib import validity

    top = g.sort_values("mean", ascending=False)
    best = top.iloc[0]

    def name(arm):
        return arm + (WITHHELD_MARK if arm in marked else "")

    text = (f"the highest mean {metric} is **{name(best['arm'])}**'s ({best['mean']:.3f}, "
            f"{validity.counted(int(best['seeds']), 'seed')})")
    others = list(top.arm.iloc[1:])
    if not others:
        return text + "."
    d = metrics_df[(metrics_df.classifier == clf) & (metrics_df.metric == metric)]
    wide = d.pivot_table(index="seed", columns="arm", values="value")
    rows, unmeasured = [], []  # rows: (arm, mean difference, half-width), the runner-up first
    for arm in others:
        diff = ((wide[best["arm"]] - wide[arm]).dropna()
                if {best["arm"], arm} <= set(wide.columns) else [])
        if len(diff) < 2:  # paired over the seeds both have
            unmeasured.append(arm)
        else:
            rows.append((arm, *metrics.mean_ci(diff, 1 - 0.05 / len(others))[::2]))
    how = (f"paired, 95% simultaneous over the {len(others)} other arms" if len(others) > 1
           else "paired, 95%")
    close = [r for r in rows if r[1] - r[2] <= 0]
    above = [r for r in rows if r not in close]
    if close:
        if above:
            text += f"; above {', '.join(name(arm) for arm, _, _ in above)}"
        text += "; not told apart from " + ", ".join(
            f"{name(arm)} ({mean:+.3f} ± {half:.3f})" for arm, mean, half in close) + f" ({how})"
    elif rows:
        arm, mean, half = rows[0]
        text += (f", above every other arm{' measured' if unmeasured else ''}: the closest, "
                 f"{name(arm)} ({float(top.loc[top.arm == arm, 'mean'].iloc[0]):.3f}), by "
                 f"{mean:.3f} ± {half:.3f} ({how})")
    if unmeasured and not rows and best["seeds"] == 1:
        text += "; with one seed there is no spread to weigh its lead by"
    elif unmeasured:
        text += (f"; {', '.join(map(name, unmeasured))}: fewer than two seeds in common with "
                 f"it, no spread to weigh the difference by")
    return text + "."


def verdicts(metrics_df, metric="minority_f1", checks=()):
    """The rebalance study's verdicts: GAN arms against the classic baselines."""
    d = metrics_df[(metrics_df.classifier != "oracle") & metrics_df.arm.isin(ARMS)]
    return verdict_sentences(d, comparisons(metrics_df, metric, checks), metric, checks=checks)


COUNTS = ("optimizer_steps", "training_images")  # shown whole, as counted


def scores_table(metrics_df, arms=ARMS, metrics=None):
    """Each evaluation metric (by default every one but the COUNTS, which are no scores) as
    mean ± std over seeds, one row per classifier and arm; counts whole, with no spread where
    every seed had the same."""
    d = metrics_df[metrics_df.arm.isin(arms) & (metrics_df.classifier != "oracle")]
    d = d[d.metric.isin(metrics) if metrics is not None else ~d.metric.isin(COUNTS)]
    g = d.groupby(["classifier", "arm", "metric"], sort=False)["value"]
    mean, sd = g.mean(), g.std()

    def cell(m, s, count):
        if count:
            return mean_sd(m, float("nan") if s == 0 else s, ",.0f")
        return mean_sd(m, s)

    counts = mean.index.get_level_values("metric").isin(COUNTS)
    table = pd.Series(list(map(cell, mean, sd, counts)), index=mean.index).unstack("metric")
    order = [a for a in arms if a in table.index.get_level_values("arm")]
    return table.reindex(order, level="arm")


def tstr_table(metrics_df):
    """Train on real / synthetic only / both, test on real (mean ± std over seeds)."""
    return scores_table(metrics_df, arms=("TRTR", "TSTR", "TRSTR"))


# What quality_table's rows mean, for a reader of the write-up.
QUALITY_LEGEND = (
    "*label_agreement*: share of the images the oracle calls the class asked for; "
    "*mean_confidence*: its mean top probability; *rejection_rate*: share it calls another "
    "class or is less sure of than `label.threshold`. *frechet_distance* and *kid* (kernel "
    "inception distance, an unbiased squared MMD): how far the images lie from the real "
    "training-split minority images in the oracle's penultimate features, lower is closer, in "
    "those features' squared units, so to be read against the real reference beside them; "
    "KID is an unbiased estimate, so near zero (as for the real reference) it can come out "
    "negative: read that as zero. "
    "*classifier_score*: the Inception Score with the oracle as classifier. "
    "*nn_distance_median*: median pixel distance (images in [0, 1]) to the nearest image the "
    "generator learnt from; *near_duplicate_share*: share nearer than `quality.near_duplicate` "
    "times the real images' median (memorisation). *training_images_frechet*: the Fréchet "
    "distance a copy of those training images scores (drawn with repeats to n): what "
    "memorising them would score, no floor, since a generator that varies its images beyond "
    "them can come closer. *n*: the images each side was read at; "
    "the Fréchet distance depends on it: both sides' estimates carry a sampling bias that "
    "shrinks as n grows, the real-vs-real one towards zero, so the same generator's ratio to "
    "its reference grows with n: compare ratios at one n. Each is the mean over seeds (the synthetic "
    "images' also over `quality.draws` draws of as many images as the reference).")


def quality_table(metrics_df, side_by_side=False):
    """Generator quality next to its real-vs-real reference (mean over seeds); `side_by_side`:
    a column per set of images, a row per measure, each cell written as its row's kind."""
    d = metrics_df[(metrics_df.classifier == "oracle") & (metrics_df.arm != "real_test")]
    if d.empty:
        return pd.DataFrame()
    name, _, kind = d.arm.str.partition(":").T.values
    images = {"": "synthetic", "real": "real (reference)",
              "generated": "synthetic, as generated (before the filter or herding)"}
    d = d.assign(generator=name, images=[images[k] for k in kind])
    t = d.pivot_table(index=["generator", "images"], columns="metric", values="value",
                      aggfunc="mean", sort=False).round(3)
    if "n" in t:  # a count reads 87, not 87.000 (splits that differ by seed may average 87.5)
        t["n"] = pd.Series([int(v) if float(v).is_integer() else round(v, 1) for v in t["n"]],
                           index=t.index, dtype=object)
    if side_by_side:  # a column then mixes counts and measures: pandas would print 0.0 and 87
        t = t.T.apply(lambda row: row.map(
            lambda v: v if pd.isna(v) else f"{v:g}" if row.name == "n" else f"{v:.3f}"), axis=1)
    return t


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
    from synthlib.pipeline import stage_times  # a damaged record costs its times only

    times = stage_times(run.dir)
    return {
        "experiment": run.experiment, "profile": run.cfg.profile,
        "params_file": run.params_file, "params_digest": run.cfg.digest(),
        "data_source": data["source"], "data_digest": data["digest"],
        "git_commit": _git_commit(), "python": platform.python_version(),
        "machine": workers.device(),
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "packages": versions,
        "stages": times,
    }


def stage_table(man):
    rows = [{"stage": k, "wall time (s)": v.get("seconds"),
             "peak memory (MiB)": v.get("peak_rss_mib"), "threads": v.get("threads")}
            for k, v in man["stages"].items()]
    return pd.DataFrame(rows).convert_dtypes()  # whole thread counts, blank where unrecorded


def write_summary(run, metrics_df, checks):
    """What reports/index.html shows for this experiment: its validity banner first."""
    from synthlib import validity

    man = manifest(run)
    caption, table = run.study.headline(metrics_df, checks, label=run.class_label)
    _, line = validity.headline(checks, len(run.seeds), run.cfg.profile)
    verdict = validity.verdict(checks, len(run.seeds))
    summary = {"experiment": run.experiment, "description": run.cfg.description,
               "study": run.cfg.study, "profile": run.cfg.profile, "seeds": len(run.seeds),
               "arms": run.arms_text(),
               "params_file": run.params_file,
               "data_source": man["data_source"], "date": man["date"],
               "git_commit": man["git_commit"], "verdict": verdict,
               "conclusive": verdict == validity.CONCLUSIVE, "validity": line,
               "validity_html": validity.banner_html(checks, len(run.seeds), run.cfg.profile),
               "headline_caption": caption,
               "headline_html": (table.to_html() if hasattr(table, "data")
                                 else table.to_html(classes="headline")),
               "headline_markdown": markdown_table(table)}
    text = json.dumps(summary, indent=2)
    with one_run_in(run.dir):  # a session's 06 as much as its 01-05 (runs.WORK)
        for target in (run.path("summary.json"), run.reports / "summary.json"):  # publish's
            write_text(target, text)
        write_index(run.reports.parent)
    return summary


def markdown_table(table):
    """A DataFrame (or a Styler from `mark_best`: its best cells in bold) as a GitHub-flavoured
    Markdown table, the index as the first columns."""
    if hasattr(table, "data"):
        t = table.data.copy()
        for column, row in getattr(table, "best", {}).items():
            if row in t.index and column in t.columns:
                t.loc[row, column] = f"**{t.loc[row, column]}**"
        table = t
    t = table.reset_index() if any(n is not None for n in table.index.names) else table
    # Markdown reflows its own lines: plain spaces, so that the README reads and greps as typed
    cells = [[str(c) for c in t.columns]] + [[str(v).replace(PLUS_MINUS, " ± ") for v in row]
                                             for row in t.values]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(cells[0])]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    return "\n".join(lines)


INDEX_STYLE = """body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}table{border-collapse:collapse;margin:.5em 0;
font-size:.92em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}section{border-top:1px solid #ddd;padding-top:.5em;margin-top:1.5em}
.meta{color:#555;font-size:.9em}"""


def write_index(reports_dir=REPORTS_DIR):
    from synthlib.validity import counted

    sections = []
    for summary_file in sorted(reports_dir.glob("*/summary.json")):
        exp = summary_file.parent.name
        try:
            s = json.loads(summary_file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:  # one damaged file hides no other report
            print(f"{shown(summary_file)} is damaged ({e}): left out of the index; run "
                  f"`make report EXP={exp}` again", file=sys.stderr)
            sections.append(f"<section><h2>{html.escape(exp)}</h2><p><b>its summary.json is "
                            f"damaged</b>: run <code>make report EXP={html.escape(exp)}</code> "
                            f"again</p></section>")
            continue
        pages = sorted(p.name for p in summary_file.parent.glob("[0-9][0-9]_*.html"))
        links = " · ".join(f'<a href="{exp}/{p}">{html.escape(p[:-5])}</a>' for p in pages)
        # a report outlives its params file: say so, rather than list it as a live experiment
        gone = ("params_file" in s and not resolve(s["params_file"]).exists())
        orphan = (f"<br><b>its params file {html.escape(s['params_file'])} is gone</b> "
                  f"(make clean-reports clears this report)" if gone else "")
        sections.append(
            f"<section><h2>{html.escape(exp)}</h2><p>{html.escape(s.get('description', ''))}"
            f"</p><p class=meta>study {html.escape(s.get('study', 'rebalance'))}, profile "
            f"{html.escape(s['profile'])}, {counted(s['seeds'], 'seed')}, "
            f"run {html.escape(s['date'])}"
            # the description is written for every profile ("where the profile trains it"):
            # what this run trained answers it
            + (f"<br>{html.escape(s['arms'])}" if s.get("arms") else "")
            + f"<br>data: {html.escape(s['data_source'])}{orphan}</p>"
            f"{s.get('validity_html', '')}"
            f"<p>{html.escape(s.get('headline_caption', ''))}:</p>"
            f"{s['headline_html']}<p>{links} · <a href=\"{exp}/metrics.csv\">metrics.csv</a>"
            f"</p></section>")
    body = "".join(sections) or "<p>No experiment has been reported yet: run make report.</p>"
    write_text(reports_dir / "index.html",
               f"<!doctype html><html><head><meta charset=utf-8><title>synthlib reports</title>"
               f"<style>{INDEX_STYLE}</style></head><body><h1>synthlib reports</h1>{body}"
               f"</body></html>")
