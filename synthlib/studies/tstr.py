"""Study `tstr` (seed 003): how well does a classifier learn from synthetic images alone, as
the generator trains longer?

A conditional GAN is trained on the real training set and saved at each of `tstr.snapshots`
steps. From each snapshot, `generate.per_class` images per class are drawn; they are labelled
twice: by the class the GAN was asked for, and by a labeller (a CNN trained on the same real
training set, nothing more, so it may label training data). A classifier trained on the
synthetic images only is then scored on the real test split, beside the same classifier trained
on the real images. The seed labelled its generated images by hand; the report shows how often
the two label sources agree instead.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# gan and classifiers (TensorFlow: seconds to import) are imported where a stage trains or
# samples, so that the stages that only read and draw start without them.
from synthlib import plots, show
from synthlib.registry import ORACLE_ARCH
from synthlib.studies import common

ARM_TEXT = {
    "real": "`real` (the real training set)",
    "synthetic_gan_labels": "`synthetic_gan_labels@<step>` (synthetic images only, labelled by "
                            "the class the GAN was asked for)",
    "synthetic_labeller_labels": "`synthetic_labeller_labels@<step>` (the same images, labelled "
                                 "by the labeller)",
}


# 04 and 05 name only the arms and classifiers the run has (runs.Run.study gives them its Config)
def _about_label(cfg):
    text = ("The **labeller** is a CNN trained on the real training set this study uses (and "
            "nothing else, so it may label training data). It labels every synthetic image; "
            "its agreement with the label the GAN was asked for measures how recognisable the "
            "images are, snapshot by snapshot.")
    if "real" in cfg.evaluate.arms and ORACLE_ARCH in cfg.evaluate.classifiers:
        text += (f" It is the same network as 05's `real` arm with `{ORACLE_ARCH}`, trained on "
                 "the same images with the same seed, so where `label.oracle_steps` and "
                 "`evaluate.steps` agree the two are one model and score alike: the write-up's "
                 "checks on each then read one classifier twice.")
    return text


def _about_evaluate(cfg):
    arms = [ARM_TEXT[a] for a in cfg.evaluate.arms]
    listed = arms[0] if len(arms) == 1 else ", ".join(arms[:-1]) + " and " + arms[-1]
    names = ", ".join(f"`{c}`" for c in cfg.evaluate.classifiers)
    return (f"The same classifier ({names}: `evaluate.classifiers`) trained on {listed}. Every "
            "one is scored on the real test split.")


ABOUT = {
    "01": "**Study `tstr`**, from the source slides (seed document 003, a talk that trained "
          "classifiers on GAN images): train on synthetic, test on real, by generator training "
          "length.\n\n" + common.SEED_DOCUMENTS,
    "02": "One conditional GAN per seed on the real training set (class-balanced batches), "
          "its generator saved at each step count of `tstr.snapshots` (the source slides' "
          "table compared GANs trained for 12, 100 and 500 epochs).",
    "03": "From each snapshot, `generate.per_class` images of every class, asked for by label.",
    "04": _about_label,
    "05": _about_evaluate,
}


check = common.check_plain_splits
prepare = common.plain_splits


def generators(run):
    """Per seed: one conditional GAN on the real training set, saved at each snapshot."""
    ds = run.data()
    return [common.Generator(seed, "cgan_all_classes", ds.x[run.split(seed).imbalanced],
                             labels=ds.y[run.split(seed).imbalanced],
                             snapshots=tuple(run.cfg.tstr.snapshots)) for seed in run.seeds]


def train(run):
    return common.train_all(run, generators(run))


def generate(run):
    """{(seed, step): (images, labels)} and tstr_step<k>.npz per seed."""
    common.require_trained(run, generators(run))
    from synthlib import gan

    ds, cfg = run.data(), run.cfg
    labels = np.repeat(ds.classes, cfg.generate.per_class)
    out = {}
    for seed in run.seeds:
        for step in cfg.tstr.snapshots:
            g = run.load_model(f"generator_step{step}.keras", seed, "cgan_all_classes")
            images = gan.sample(g, len(labels), seed=30_000 + seed, label=labels,
                                batch_size=cfg.generate.batch_size)
            common.save_npz(run.path(f"tstr_step{step}.npz", seed), images=images,
                            labels=labels)
            out[(seed, f"after {step} steps")] = (images, labels)
        print(f"seed {seed}: {len(labels)} images from each of {len(cfg.tstr.snapshots)} "
              f"snapshots", flush=True)
    return out


def label(run):
    """The labeller's labels for every snapshot's images, and its agreement with the GAN's."""
    from synthlib import classifiers

    ds = run.data()
    rows, accuracy = [], []
    for seed in run.seeds:
        split = run.split(seed)
        labeller, _, acc = common.train_reader(run, ds, split, seed, "labeller")
        accuracy.append({"seed": seed, "labeller_test_accuracy": acc,
                         "labeller_steps": int(labeller.optimizer.iterations)})
        for step in run.cfg.tstr.snapshots:
            d = common.load_npz(run.made(f"tstr_step{step}.npz", seed))
            proba = classifiers.predict_proba(labeller, d["images"])
            labeller_labels = ds.classes[proba.argmax(1)]
            # A file of its own: stage 03's images stay as 03 wrote them, so that 04 can run
            # again on them (after an interruption, or an edit to its notebook) as often as needed.
            common.save_npz(run.path(f"tstr_step{step}_labels.npz", seed),
                            labeller_labels=labeller_labels)
            for c in ds.classes:
                mine = d["labels"] == c
                rows.append({"seed": seed, "step": step, "class": int(c),
                             "agreement": float(np.mean(labeller_labels[mine] == c)),
                             "mean_confidence": float(proba[mine].max(1).mean())})
    summary = pd.DataFrame(rows)
    run.save_json("label_summary.json", {"rows": summary.to_dict("records"),
                                         "accuracy": accuracy})
    return summary, pd.DataFrame(accuracy)


def evaluate(run):
    ds = run.data()
    fits = []
    for seed in run.seeds:
        split = run.split(seed)
        sets = {}
        if "real" in run.cfg.evaluate.arms:
            sets["real"] = (ds.x[split.imbalanced], ds.y[split.imbalanced])
        for step in run.cfg.tstr.snapshots:
            d = common.load_npz(run.made(f"tstr_step{step}.npz", seed))
            if "synthetic_gan_labels" in run.cfg.evaluate.arms:
                sets[f"synthetic_gan_labels@{step}"] = (d["images"], d["labels"])
            if "synthetic_labeller_labels" in run.cfg.evaluate.arms:
                labels = common.load_npz(run.made(f"tstr_step{step}_labels.npz", seed))
                sets[f"synthetic_labeller_labels@{step}"] = (d["images"], labels["labeller_labels"])
        fits += common.set_fits(run, seed, split, ds, sets)
    rows_, confusions, histories = common.fit_rows(run, fits)
    for a in run.load_json("label_summary.json")["accuracy"]:
        rows_ += common.rows(run.experiment, "real_test", "labeller", a["seed"],
                             {"accuracy": a["labeller_test_accuracy"],
                              "optimizer_steps": a["labeller_steps"]})
    df = common.write_metrics(run, rows_)
    return df, confusions, common.write_history(run, histories)


def by_step(metrics_df, metric="accuracy"):
    """Long table: classifier, seed, label source, step, value; `real` at every step."""
    d = metrics_df[(metrics_df.metric == metric) & (metrics_df.classifier != "labeller")
                   & ~metrics_df.arm.str.contains(":")].copy()
    parts = d.arm.str.split("@", expand=True)
    d["source"] = parts[0]
    steps = pd.to_numeric(parts[1]) if parts.shape[1] > 1 else pd.Series(np.nan, d.index)
    d["step"] = steps.astype("Int64")
    return d


# ---- what the notebooks show ---------------------------------------------------------------

show_prepare = common.show_plain_splits
show_classifiers = common.show_classifiers


def show_label(run, result):
    summary, accuracy = result
    show.heading("The labeller")
    show.table(accuracy.round(3))  # as the write-up reads it
    show.heading("How often the labeller agrees with the GAN's label")
    show.text("Share of the images generated for a class that the labeller assigns to that "
              "class, by snapshot (mean over seeds).")
    show.table(summary.pivot_table(index="class", columns="step", values="agreement").round(3)
               .rename(index=run.class_label))  # named where the data name them
    show.table(summary.groupby("step")[["agreement", "mean_confidence"]].mean().round(3))


def headline(metrics_df, checks_=(), label=str):
    """(caption, table) for the write-up and the index. No row names a winner, so none is
    marked: `checks_` go unused here, and the banner above the table names the failures."""
    from synthlib import report
    from synthlib.metrics import mean_ci

    d = by_step(metrics_df)
    real = d[d.source == "real"]
    synth = d[d.source != "real"]

    def cell(v):
        return report.mean_sd(*mean_ci(v)[:2])  # one seed: no spread
    t = synth.groupby(["classifier", "step", "source"])["value"].apply(cell).unstack("source")
    for clf, g in real.groupby("classifier"):
        t.loc[t.index.get_level_values(0) == clf, "real"] = cell(g["value"])
    return ("Test accuracy on the real test split by generator training length (GAN steps; "
            f"{report.over_seeds(d)}), beside the same classifier trained on real images", t)


def show_evaluate(run, result):
    metrics_df, confusions, history = result
    caption, table = headline(metrics_df)
    show.heading("Accuracy by training length")
    show.text(caption + ".")
    show.table(table)
    plots.accuracy_by_step(by_step(metrics_df))
    show.heading("Confusion matrices (first seed): real, and the last snapshot")
    last = max(run.cfg.tstr.snapshots)
    keep = {k: v for k, v in confusions.items() if k[2] == run.seeds[0]
            and (k[0] == "real" or k[0].endswith(f"@{last}"))}
    plots.confusion_matrices(keep, labels=[run.class_label(c) for c in run.data().classes])
    show.heading("Training curves (first seed)")
    plots.step_curves(history[history.seed == run.seeds[0]])


def checks(run, metrics_df):
    """The write-up's validity checks: the labeller's accuracy (it labels the
    `synthetic_labeller_labels` sets); per classifier, the real arm's accuracy and convergence.
    The snapshots' quality is what the study measures, so no threshold applies to it."""
    from synthlib import validity

    v = run.cfg.validity
    out = validity.accuracy_check(metrics_df, "real_test", "labeller", v.real_accuracy,
                                  "labeller's accuracy on the real test split", "labeller")
    for clf in run.cfg.evaluate.classifiers:
        out += validity.accuracy_check(metrics_df, "real", clf, v.real_accuracy,
                                       "real-data arm's test accuracy", clf)
    return out + validity.convergence_checks(metrics_df, "accuracy", v,
                                              run.cfg.evaluate.classifiers, anchor="real")


def last_against_real(g, last):
    """Each label source's synthetic-only set at the last snapshot against real, paired over
    seeds with its 95% interval: the snapshot fixed in advance, not the best of all of them,
    whose top place would flatter the synthetic sets by the choice alone."""
    from synthlib import metrics

    real = g[g.source == "real"].groupby("seed")["value"].mean()
    out = []
    for src, s in g[(g.source != "real") & (g.step == last)].groupby("source"):
        diff = (s.set_index("seed")["value"] - real).dropna()
        mean, _, half = metrics.mean_ci(diff)
        spread = f" ± {half:.3f} (paired over {len(diff)} seeds, 95%)" if len(diff) > 1 else \
            " (one seed: no interval)"
        out.append(f"{src} {s['value'].mean():.3f}, {mean:+.3f}{spread} against real")
    return f"after {last:,} steps, synthetic only: " + "; ".join(out)


def over_snapshots(synth, snapshots, seeds=1):
    """How each label source's synthetic-only accuracy (`synth`: the mean by source and step)
    runs from the first snapshot to the last, and where a source peaks before the last: the
    two ends alone, or their mean over sources, would read a rise and fall as a steady
    climb."""
    first, last = min(snapshots), max(snapshots)
    parts = []
    for src, s in synth.groupby(level="source"):
        s = s.droplevel("source").sort_index()
        text = f"{src} {s.get(first, float('nan')):.3f} to {s.get(last, float('nan')):.3f}"
        top = s.idxmax()
        if top not in (first, last) and s[top] > s.get(last, float("-inf")):
            text += f", highest at {top:,} steps ({s[top]:.3f}), not at the last"
        parts.append(text)
    return (f"From the first snapshot ({first:,} steps) to the last ({last:,}), synthetic-only "
            f"accuracy{' (mean over seeds)' if seeds > 1 else ''}: " + "; ".join(parts) + ".")


def show_writeup(run, metrics_df, checks_=()):
    from synthlib import validity

    caption, table = headline(metrics_df, checks_)
    show.heading("Headline")
    show.text(caption + ".")
    show.table(table)
    d = by_step(metrics_df)
    lines = []
    for clf, g in d.groupby("classifier"):
        if not validity.conclusive_for(checks_, clf):
            lines.append(f"**{clf}**: not conclusive ({validity.failing_for(checks_, clf)}); "
                         f"no verdict is drawn from this classifier's numbers.")
            continue
        if not validity.conclusive_for(checks_, "labeller"):
            g = g[g.source != "synthetic_labeller_labels"]
            lines.append("The labeller fails its check: the sets it labelled are left out "
                         "of the verdict.")
        real = g[g.source == "real"]["value"].mean()
        synth = g[g.source != "real"].groupby(["source", "step"])["value"].mean()
        if len(synth):
            lines.append(f"**{clf}**: trained on real images, {real:.3f} test accuracy; "
                         + last_against_real(g, max(run.cfg.tstr.snapshots)) + ".")
            lines.append(over_snapshots(synth, run.cfg.tstr.snapshots,
                                        g.seed.nunique()))
    # elsewhere a generator below the stated quality withholds its arm: say why not here
    lines.append("No quality bar applies to the snapshots, as one does to the other studies' "
                 "generators: how good the images are after each training length is what "
                 "this study measures (04 gives the labeller's agreement with each snapshot's "
                 "labels), so the validity checks cover the labeller and the real-data arm "
                 "alone.")
    show.heading("Verdict")
    show.text("\n\n".join(lines))
    plots.accuracy_by_step(d)
    summary = pd.DataFrame(run.load_json("label_summary.json")["rows"])
    show.heading("Do the two label sources agree?")
    show.text("By snapshot: `agreement`, the share of the generated images the labeller "
              "assigns to the class the GAN was asked for (where it does not, the two "
              "synthetic sets train on different labels); `mean_confidence`, the labeller's "
              "mean top probability" + (", each the mean over seeds." if d.seed.nunique() > 1
                                         else "."))
    show.table(summary.groupby("step")[["agreement", "mean_confidence"]].mean().round(3))
