"""Study `augment` (seed 002): GANs against classic augmentation for a small training set.

One unconditional DCGAN per class and, as the cheaper comparator, one conditional GAN on all
classes, each asked for `generate.per_class` images per class; classic augmentation makes the
same number of images per class from the real ones. The same CNN is trained on each training
set for the same number of optimizer steps and scored on the real test split, with
validation and test curves along the way.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# gan, classifiers, labeling and baselines (TensorFlow: seconds to import) are imported where
# a stage trains or samples, so that the stages that only read and draw start without them.
from synthlib import plots, show, validity
from synthlib.registry import AUGMENT_GENERATOR_OF, STUDY_GENERATORS, trained_generators
from synthlib.studies import common

ARM_TEXT = {
    "real": "the real training set",
    "augmentation": "the real training set plus classic augmentation of it",
    "dcgan_per_class": "synthetic only, from one DCGAN per class",
    "cgan_all_classes": "synthetic only, from the conditional GAN",
    "real_plus_cgan": "the real training set plus the conditional GAN's images",
}


# The paragraphs that depend on what the run trains take its Config (runs.Run.study gives it),
# so that a page names only the generators and arms the run has.
def _about_generators(cfg):
    trained = trained_generators(cfg)
    parts = []
    if "dcgan_per_class" in trained:
        parts.append("one unconditional DCGAN **per class**, each trained only on that class's "
                     "training images (the source report's design: each generated image "
                     "carries its GAN's class as its label)")
    if "cgan_all_classes" in trained:
        parts.append("one **conditional** GAN on all classes with class-balanced batches, "
                     "asked for a class with each image it makes"
                     + (", the cheaper comparator (one model instead of one per class)"
                        if parts else ""))
    if not parts:
        return "This run's arms (`evaluate.arms`) use no generator: nothing is trained here."
    return (f"For each seed, the generator{'s' if len(trained) > 1 else ''} this run's arms use "
            f"(`evaluate.arms`): {' and '.join(parts)}.")


def _about_generate(cfg):
    augmented = ("classic augmentations (rotation, zoom, translation, each to the nearest pixel, "
                 "and brightness; flips only where `augmentation.horizontal_flip` says labels "
                 "survive them) of the real training images")
    if not trained_generators(cfg):
        return f"`generate.per_class` {augmented}, per class."
    return f"`generate.per_class` images per class from each generator, and as many {augmented}."


def _about_evaluate(cfg):
    arms = [f"`{a}`: {ARM_TEXT[a]}" for a in cfg.evaluate.arms]
    names = ", ".join(f"`{c}`" for c in cfg.evaluate.classifiers)
    return (f"The same classifier ({names}: `evaluate.classifiers`) on each training set this "
            "run names (`evaluate.arms`):\n\n"
            + "\n".join(f"* {a}" + (";" if i < len(arms) - 1 else ".")
                        for i, a in enumerate(arms))
            + "\n\nValidation and test loss and accuracy are recorded along the way, as the "
            "source report plotted them; nothing is chosen by them. The final scores are on the "
            "real test split.")


ABOUT = {
    "01": "**Study `augment`**, from the source report (seed document 002, a course exercise "
          "that set GAN images against classic augmentation): a small real training set "
          "(`imbalance.per_class` images per class); GAN images and classic augmentation "
          "compete as extra or replacement training data for the same CNN.\n\n"
          + common.SEED_DOCUMENTS,
    "02": _about_generators,
    "03": _about_generate,
    "04": "The measuring oracle, trained on the real training split, says how often it agrees "
          "with the class each synthetic image was generated for. It measures only: every "
          "synthetic image keeps the label its generator gave it.",
    "05": _about_evaluate,
}


check = common.check_plain_splits
prepare = common.plain_splits


# The arm that uses each generated source, and the source behind each arm that uses one.
GENERATED = STUDY_GENERATORS["augment"]  # the sources a generator made
GENERATOR_OF = AUGMENT_GENERATOR_OF


def sources(run):
    """The generated sources the chosen arms (`evaluate.arms`) need: only those are trained."""
    return [s for s in GENERATED if s in {GENERATOR_OF.get(a) for a in run.cfg.evaluate.arms}]


def generators(run):
    """Per seed: one DCGAN per class on that class's images, one conditional GAN on all
    (each only where an arm uses it)."""
    ds = run.data()
    out = []
    for seed in run.seeds:
        split = run.split(seed)
        x, y = ds.x[split.imbalanced], ds.y[split.imbalanced]
        if "dcgan_per_class" in sources(run):
            out += [common.Generator(seed, f"dcgan_class{c}", x[y == c], source="dcgan_per_class")
                    for c in ds.classes]
        if "cgan_all_classes" in sources(run):
            out.append(common.Generator(seed, "cgan_all_classes", x, labels=y))
    return out


def train(run):
    """{(seed, generator): (history, grids)}."""
    return common.train_all(run, generators(run))


def generate(run):
    """Per seed: synthetic.npz (dcgan_per_class, cgan_all_classes) and augmented.npz, each
    `generate.per_class` images per class with their labels. Returns {(seed, source): (x, y)}."""
    common.require_trained(run, generators(run))
    from synthlib import baselines, gan

    ds, cfg = run.data(), run.cfg
    n = cfg.generate.per_class
    out = {}
    for seed in run.seeds:
        split = run.split(seed)
        x, y = ds.x[split.imbalanced], ds.y[split.imbalanced]
        labels = np.repeat(ds.classes, n)
        stream = {c: 1000 * seed + int(c) for c in ds.classes}  # one per seed and class
        sets = {}
        if "dcgan_per_class" in sources(run):
            sets["dcgan_per_class"] = np.concatenate([
                gan.sample(run.load_model("generator.keras", seed, f"dcgan_class{c}"),
                           n, seed=10_000 + stream[c], batch_size=cfg.generate.batch_size,
                           train_batch=common.train_batch(cfg))
                for c in ds.classes])
        if "cgan_all_classes" in sources(run):
            sets["cgan_all_classes"] = gan.sample(
                run.load_model("generator.keras", seed, "cgan_all_classes"),
                len(labels), seed=20_000 + seed, batch_size=cfg.generate.batch_size,
                label=labels)
        sets["augmentation"] = np.concatenate([
            baselines.augment(x[y == c], n, cfg.augmentation, stream[c],
                              batch_size=cfg.generate.batch_size)
            for c in ds.classes])
        for source, images in sets.items():
            common.save_npz(run.path(f"{source}.npz", seed), images=images, labels=labels)
            out[(seed, source)] = (images, labels)
        print(f"seed {seed}: {len(labels)} images from each of {', '.join(sets)}", flush=True)
    return out


def label(run):
    """The oracle's agreement with each generator's labels, per class, and each generator's
    quality against real held-out images at the same n; measures only."""
    from synthlib import classifiers, labeling, quality

    ds, cfg = run.data(), run.cfg
    rows, accuracy, qual = [], [], []
    for seed in run.seeds:
        split = run.split(seed)
        oracle, _, acc = common.train_reader(run, ds, split, seed, "oracle")
        accuracy.append({"seed": seed, "oracle_test_accuracy": acc,
                         "oracle_steps": int(oracle.optimizer.iterations)})
        for source in sources(run) + ["augmentation"]:
            d = common.load_npz(run.made(f"{source}.npz", seed))
            proba = classifiers.predict_proba(oracle, d["images"])
            target = common.encode(d["labels"], ds.classes)
            for c in ds.classes:
                k = int(common.encode([c], ds.classes)[0])
                m = labeling.measure(proba[target == k], k, cfg.label.threshold)
                rows.append({"seed": seed, "source": source, "class": int(c), **m})
            if source in GENERATED:
                synth, real = quality.compare_sets(
                    oracle, d["images"], ds.x[split.validation], ds.x[split.train],
                    cfg.quality.samples, seed, synthetic_labels=target, draws=cfg.quality.draws,
                    heldout_labels=common.encode(ds.y[split.validation], ds.classes))
                qual += [{"seed": seed, "generator": source, "images": "synthetic", **synth},
                         {"seed": seed, "generator": source, "images": "real", **real}]
    summary = pd.DataFrame(rows)
    run.save_json("label_summary.json", {"rows": summary.to_dict("records"),
                                         "accuracy": accuracy, "quality": qual})
    return summary, pd.DataFrame(accuracy), pd.DataFrame(qual)


def training_set(arm, ds, split, seed, run):
    x, y = ds.x[split.imbalanced], ds.y[split.imbalanced]
    if arm == "real":
        return x, y
    d = common.load_npz(run.made(f"{GENERATOR_OF.get(arm, arm)}.npz", seed))
    if arm in ("augmentation", "real_plus_cgan"):
        return np.concatenate([x, d["images"]]), np.concatenate([y, d["labels"]])
    return d["images"], d["labels"]


def evaluate(run):
    ds = run.data()
    fits = []
    for seed in run.seeds:
        split = run.split(seed)
        sets = {arm: training_set(arm, ds, split, seed, run) for arm in run.cfg.evaluate.arms}
        fits += common.set_fits(run, seed, split, ds, sets)
    rows_, confusions, histories = common.fit_rows(run, fits)
    rows_ += common.label_rows(run)
    df = common.write_metrics(run, rows_)
    return df, confusions, common.write_history(run, histories)


# ---- what the notebooks show ---------------------------------------------------------------

show_prepare = common.show_plain_splits
show_classifiers = common.show_classifiers


def show_label(run, result):
    summary, accuracy, qual = result
    over = "mean over seeds" if summary.seed.nunique() > 1 else "one seed"
    show.heading("The oracle's accuracy on the real test split")
    show.table(accuracy.round(3))  # as the write-up reads it
    show.heading("Does the oracle see the class each image was made for?")
    show.text("Share of each source's images of a class that the oracle calls that class "
              f"(`label_agreement`), {over}. Classic augmentation of real images is "
              "the reference. The oracle learnt from unaltered real images (MNIST's, for one, "
              "centred in their frame) and reads shifted, turned or zoomed ones less surely: "
              "the augmented images' agreement is the bar a generator is compared with, not a "
              "ceiling, and a generator's images can read above it.")
    show.table(summary.pivot_table(index="class", columns="source", values="label_agreement")
               .round(3).rename(index=run.class_label))  # named where the data name them
    show.text("Over every class: `mean_confidence`, the oracle's mean top probability; "
              "`rejection_rate`, the share it calls another class or is less sure of than "
              "`label.threshold`. An image it names rightly but unsurely counts in both "
              "`label_agreement` and `rejection_rate`, so the two can add to more than 1.")
    show.table(summary.groupby("source")[["label_agreement", "mean_confidence",
                                          "rejection_rate"]].mean().round(3))
    show.heading("Generator quality against real held-out images")
    show.text("`n` of each generator's images and `n` real validation images, measured the "
              "same way: the oracle's label agreement and the Fréchet distance to "
              f"the real training split in the oracle's features ({over}). The distance "
              "depends on `n`: the validity check reads the synthetic one against the real one "
              "at the same `n`.")
    # n first and whole: the Fréchet distance is only read against a reference at its n
    table = qual.groupby(["generator", "images"])[
        [c for c in ("n", "label_agreement", "frechet_distance") if c in qual]].mean().round(3)
    show.table(table.astype({"n": int}) if "n" in table else table)


def headline(metrics_df, checks_=(), label=str):
    """(caption, table) for 05, the write-up and the index; a GAN arm whose comparisons the
    checks withhold is marked in the table."""
    from synthlib import report

    return report.marked_headline(
        f"Test accuracy on the real test split ({report.over_seeds(metrics_df)}; training "
        "sets as rows, classifiers as columns; the best per classifier in bold)",
        metrics_df, checks_, GENERATOR_OF, metric="accuracy", arms=list(ARM_TEXT),
        references=())


def show_evaluate(run, result):
    metrics_df, confusions, history = result
    from synthlib import report

    _, table = headline(metrics_df)
    show.heading(f"Test accuracy ({report.over_seeds(metrics_df)})")
    show.text(report.JUDGED_IN_06)
    show.table(table.data)
    show.heading("Loss and accuracy by optimizer step")
    show.text("Validation and test curves" + (", the mean over seeds with its band"
                                              if history.seed.nunique() > 1 else
                                              " (one seed: no band)") + "; recorded only.")
    plots.step_curves(history)
    show.heading(f"All scores ({report.over_seeds(metrics_df)})")
    d = metrics_df[(metrics_df.classifier != "oracle") & ~metrics_df.metric.isin(report.COUNTS)]
    # with their spread, as the headline's: a mean alone over seeds would hide it
    show.table(report.scores_table(metrics_df, arms=list(dict.fromkeys(d.arm))))
    if "real" + validity.HALF in set(d.arm):  # the convergence check's anchor (`checks`)
        show.text(f"`real{validity.HALF}`: the real arm's classifier scored half-way through "
                  "its steps, for the convergence check.")
    show.text("What each fit learnt from and for how long: the same `optimizer_steps` for every "
              "arm, whatever the size of its training set (`training_images`).")
    show.table(report.scores_table(metrics_df, arms=run.cfg.evaluate.arms,
                                   metrics=report.COUNTS))
    show.heading("Confusion matrices (first seed)")
    names = [run.class_label(c) for c in run.data().classes]
    plots.confusion_matrices(confusions, labels=names, seed=run.seeds[0])


def checks(run, metrics_df):
    """The write-up's validity checks: the oracle's accuracy; per classifier, the real arm's
    accuracy and its convergence; each generator's quality against real held-out images."""
    v = run.cfg.validity
    out = validity.oracle_check(metrics_df, v)
    for clf in run.cfg.evaluate.classifiers:
        out += validity.accuracy_check(metrics_df, "real", clf, v.real_accuracy,
                                       "real-data arm's test accuracy", clf)
    out += validity.convergence_checks(metrics_df, "accuracy", v, run.cfg.evaluate.classifiers,
                                       anchor="real")
    return out + validity.generator_checks(metrics_df, sources(run), v)


def comparisons(metrics_df, metric="accuracy", checks_=()):
    """Each GAN arm against real data and against augmentation: paired differences over seeds,
    withheld where the classifier, the generator or the oracle fails a validity check."""
    from synthlib.report import gate, paired_comparisons

    d = metrics_df[metrics_df.classifier != "oracle"]
    gan_arms = [a for a in GENERATOR_OF if a in set(d.arm)]
    comp = paired_comparisons(d, metric, gan_arms, ["real", "augmentation"])
    return gate(comp, checks_, lambda r: (r.classifier, GENERATOR_OF[r.gan_arm], "oracle"))


def show_writeup(run, metrics_df, checks_=()):
    from synthlib.report import comparison_table, verdict_sentences

    caption, table = headline(metrics_df, checks_)
    show.heading("Headline")
    show.text(caption)
    show.table(table)
    show.heading("Verdict")
    comp = comparisons(metrics_df, checks_=checks_)
    d = metrics_df[(metrics_df.classifier != "oracle") & metrics_df.arm.isin(ARM_TEXT)]
    show.text("\n\n".join(verdict_sentences(d, comp, "accuracy", exclude=(), checks=checks_)))
    plots.forest(comp, metric="accuracy")
    show.collapsed("The same comparisons as a table", comparison_table(comp))
    plots.metric_points(d, metrics=("accuracy", "balanced_accuracy", "macro_f1"))
    summary = run.load_json("label_summary.json")
    agree = pd.DataFrame(summary["rows"]).groupby("source")["label_agreement"].mean()
    show.heading("How recognisable were the synthetic images?")
    show.text("Oracle label agreement (share of images the oracle assigns to the class they "
              "were generated for) over every generated image, mean over classes and seeds: "
              + ", ".join(f"{k} {v:.3f}" for k, v in agree.items()) + ". (The validity "
              "check reads the same agreement on draws of the real reference's size, so its "
              "figure may differ in the second decimal.)")
