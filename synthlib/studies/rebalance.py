"""The work of each notebook, one function per stage, saving what the next stage reads.

Every function loops over the run's seeds; each seed has its own split, kept minority
images and GAN (the `data.max_images` subsample is one for all seeds). Trained models (the
generators, the oracle and filter, finished fits) are reused where their key matches, as
after an interrupted run; sampling and measuring run again.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

# TensorFlow takes seconds to import: the modules built on it (gan, networks, classifiers,
# labeling, quality, evaluation) are imported by the stages that train or sample, so that 01
# and 06 start without it.
from synthlib import imbalance, metrics
from synthlib.config import MIN_IMAGES
from synthlib.registry import GENERATORS
from synthlib.studies import common, rebalance_text

# What each page says about the run, a paragraph per notebook: as every study module has it
ABOUT = rebalance_text.ABOUT


# ---- 01 ---------------------------------------------------------------------------------

def prepare(run):
    """Load the data, split it (train / validation / test), then imbalance the training split."""
    ds = run.data(fresh=True)
    common.record_data(run, ds)
    splits = {}
    for seed in run.seeds:
        split = imbalance.make_split(ds.y, run.cfg.split, run.cfg.imbalance, seed,
                                     ds.class_names)
        split.save(run.path("split.npz", seed))
        splits[seed] = split
    return ds, splits


def split_table(run, ds, splits):
    rows = [dict(seed=s, **r) for s, sp in splits.items() for r in sp.counts(ds.y)]
    return pd.DataFrame(rows)


# ---- 02 ---------------------------------------------------------------------------------

def gan_training_images(ds, split):
    """What the GAN may see: the kept minority training images, nothing else."""
    idx = split.kept_minority
    train = set(split.train.tolist())
    if not all(i in train for i in idx.tolist()):
        raise AssertionError("GAN training images must come from the training split")
    if np.any(ds.y[idx] != split.minority_class):
        raise AssertionError("GAN training images must all be of the minority class")
    if set(idx.tolist()) & (set(split.test.tolist()) | set(split.validation.tolist())):
        raise AssertionError("GAN training images overlap validation or test")
    return ds.x[idx]


def generator_training_set(ds, split, name):
    """(images, labels or None) a generator learns from: the kept minority images for the
    minority-only DCGANs; the whole imbalanced training set (every class, the kept minority
    included) for the conditional GANs. Never validation or test images."""
    if GENERATORS[name][0]:
        idx = split.imbalanced
        if set(idx.tolist()) & (set(split.test.tolist()) | set(split.validation.tolist())):
            raise AssertionError("GAN training images overlap validation or test")
        return ds.x[idx], ds.y[idx]
    return gan_training_images(ds, split), None


def generators(run):
    """Every generator the arms need, per seed, each on what it may see."""
    ds = run.data()
    out = []
    for seed in run.seeds:
        split = run.split(seed)
        for name in run.cfg.generators():
            images, labels = generator_training_set(ds, split, name)
            out.append(common.Generator(seed, name, images, labels,
                                        diffaugment=GENERATORS[name][1],
                                        grid_label=split.minority_class))
    return out


def train(run):
    """{(seed, generator): (history, grids)}; one trained for the same key is reused, a
    killed training resumes."""
    return common.train_all(run, generators(run))


# ---- 03 ---------------------------------------------------------------------------------

def n_needed(ds, split):
    """Synthetic minority images needed to balance the imbalanced training set."""
    y = ds.y[split.imbalanced]
    return int(np.sum(y != split.minority_class) - np.sum(y == split.minority_class))


def generate(run):
    """Minority images to balance, from every generator; and, for the TSTR table, a
    class-balanced all-class set from the conditional GAN (tstr.npz). Returns {(seed, generator):
    (minority images, None)}, the form 03's table and grids read (no labels: all minority)."""
    common.require_trained(run, generators(run))
    from synthlib import gan, selection

    ds = run.data()
    out = {}
    select_from = run.cfg.generate.select_from
    for seed in run.seeds:
        split = run.split(seed)
        need = n_needed(ds, split)
        n = int(math.ceil(need * run.cfg.generate.oversample))
        for name in run.cfg.generators():
            generator = run.load_model("generator.keras", seed, name)
            conditional = GENERATORS[name][0]
            herded = select_from > 1 and not conditional
            print(f"seed {seed} {name}: generating {n} minority images ({need} needed)"
                  + (f", each chosen from {select_from}" if herded else ""), flush=True)
            label = split.minority_class if conditional else None
            images = gan.sample(generator, n * (select_from if herded else 1),
                                seed=10_000 + seed, batch_size=run.cfg.generate.batch_size,
                                label=label, train_batch=common.train_batch(run.cfg))
            extra = {}
            if herded:  # the generator's own draw is kept, to be measured beside the chosen
                extra["generated"] = images[:n]
                discriminator = run.load_model("discriminator.keras", seed, name)
                images = selection.select(images, gan_training_images(ds, split),
                                          discriminator, n)
            common.save_npz(run.path("synthetic.npz", seed, name), images=images, n_needed=need,
                            **extra)
            out[(seed, name)] = (images, None)
            if name == "cgan_all_classes" and run.cfg.evaluate.tstr:
                classes, counts = np.unique(ds.y[split.imbalanced], return_counts=True)
                labels = np.repeat(classes, int(np.median(counts)))
                print(f"seed {seed} {name}: {len(labels)} images of all classes for TSTR")
                common.save_npz(run.path("tstr.npz", seed), labels=labels,
                          images=gan.sample(generator, len(labels), seed=20_000 + seed,
                                            batch_size=run.cfg.generate.batch_size,
                                            label=labels))
    return out


def load_synthetic(run, seed, name):
    with np.load(run.made("synthetic.npz", seed, name)) as f:
        return f["images"], int(f["n_needed"])


def load_generated(run, seed, name):
    """The generator's own draw where generate.select_from chose among more; else None."""
    with np.load(run.made("synthetic.npz", seed, name)) as f:
        return f["generated"] if "generated" in f.files else None


# ---- 04 ---------------------------------------------------------------------------------

def label(run):
    """Per seed: train the oracle and the filter once; per generator: the oracle's measures
    and generator quality beside a real-vs-real reference; the filter (optionally) selects.
    Returns {(seed, generator): dict of summary and probabilities}: none where the run
    trains no generator, which leaves the oracle and the filter nothing to read or choose."""
    from synthlib import classifiers, labeling, quality

    if not run.cfg.generators():
        print("this run trains no generator: no synthetic image to read, so no oracle or "
              "filter is trained")
        return {}
    ds, cfg = run.data(), run.cfg.label
    out = {}
    for seed in run.seeds:
        split = run.split(seed)
        minority = split.minority_class
        oracle, filt, accuracies = _readers(run, ds, split, seed)
        real_heldout = ds.x[split.validation][ds.y[split.validation] == minority]
        real_pool = ds.x[split.train][ds.y[split.train] == minority]
        oracle_real = classifiers.predict_proba(oracle, real_heldout)
        for name in run.cfg.generators():
            images, need = load_synthetic(run, seed, name)
            oracle_synth = classifiers.predict_proba(oracle, images)
            filter_synth = classifiers.predict_proba(filt, images) if filt else None
            accepted, touched_by = _accepted(filter_synth, len(images), need, minority, cfg)
            used = images[accepted]
            drawn = load_generated(run, seed, name)
            herded = drawn is not None
            if herded:
                touched_by = ("herding in the GAN's discriminator's features"
                              + (", then the " + touched_by if cfg.filter else ""))
            # Quality is that of the images the arm trains on; with the filter on, the
            # generator's own output is measured too, against the same real reference (the
            # same draw at the same n, the smaller set's), so that a report can tell the
            # generator's part from the filter's.
            sets = [used if len(used) >= MIN_IMAGES else images]
            if cfg.filter or herded:
                sets.append(drawn if herded else images)
            quality_cfg = dataclasses.replace(
                run.cfg.quality, samples=min(run.cfg.quality.samples, *map(len, sets)))
            measured = [quality.compare(x, real_heldout, real_pool, ds.x[split.kept_minority],
                                        oracle, minority, cfg.threshold, quality_cfg, seed)
                        for x in sets]
            synth_q, real_q = measured[0]
            generated_q = measured[1][0] if len(measured) > 1 else None
            summary = {
                "seed": seed, "generator": name, "minority_class": minority,
                "n_needed": need, "n_generated": int(len(images)),
                "n_accepted": int(accepted.sum()), "training_set_changed_by": touched_by,
                **accuracies,
                "oracle_on_synthetic": labeling.measure(oracle_synth, minority, cfg.threshold),
                "oracle_on_real_minority": labeling.measure(oracle_real, minority,
                                                            cfg.threshold),
                "filter_on_synthetic": labeling.measure(filter_synth, minority,
                                                        cfg.filter_threshold) if filt else None,
                "quality_synthetic": synth_q, "quality_real_reference": real_q,
                "quality_measured_on": (
                    ("accepted by the filter" if len(used) >= MIN_IMAGES else
                     f"generated (the filter accepted fewer than {MIN_IMAGES})")
                    if cfg.filter else "chosen by herding" if herded else "generated"),
                "quality_as_generated": generated_q,
            }
            run.save_json("label_summary.json", summary, seed, name)
            common.save_npz(run.path("labels.npz", seed, name), oracle_proba=oracle_synth,
                            oracle_real_proba=oracle_real, accepted=accepted,
                            **({"filter_proba": filter_synth} if filt else {}))
            out[(seed, name)] = dict(summary=summary, oracle_proba=oracle_synth,
                                     oracle_real_proba=oracle_real, filter_proba=filter_synth,
                                     accepted=accepted)
    return out


def _accepted(filter_proba, n_images, need, minority, cfg):
    """Which synthetic images enter the arm's training set, and who chose them: the filter,
    where `label.filter` is on (the measuring oracle never chooses), else the first `need`."""
    from synthlib import labeling

    if cfg.filter:
        return (labeling.filter_mask(filter_proba, minority, cfg.filter_threshold, need),
                "filter (trained on the imbalanced training set only)")
    accepted = np.zeros(n_images, dtype=bool)
    accepted[:need] = True
    return accepted, "none: every synthetic image needed for balance was used"


def _readers(run, ds, split, seed):
    """The measuring oracle and, where `label.filter` is on (the one place it decides
    something), the filter: both kept under seed<k>/, trained once and reused when 04 runs
    again. Returns (oracle, filter or None, their step counts and accuracies), the last also
    saved as oracle.json."""
    from synthlib import labeling

    oracle, oracle_history = labeling.train_oracle(ds, split, run.cfg, seed,
                                                   run.path("oracle.keras", seed))
    filt = (labeling.train_filter(ds, split, run.cfg, seed, run.path("filter.keras", seed))[0]
            if run.cfg.label.filter else None)
    accuracies = {"oracle_steps": int(oracle.optimizer.iterations),
                  "filter_steps": int(filt.optimizer.iterations) if filt else 0,
                  "oracle_test_accuracy": labeling.test_accuracy(oracle, ds, split),
                  "oracle_validation_accuracy": float(oracle_history["val_accuracy"].iloc[-1]),
                  "filter_test_accuracy": labeling.test_accuracy(filt, ds, split) if filt else None}
    run.save_json("oracle.json", accuracies, seed)
    return oracle, filt, accuracies


def accepted_synthetic(run, seed, name):
    images, _ = load_synthetic(run, seed, name)
    with np.load(run.made("labels.npz", seed, name)) as f:
        return images[f["accepted"]]


def label_tables(labels, filter_on):
    """04's tables from `label()`'s result: who changed the training set, what the oracle
    and the filter measured, generator quality against the real reference, accuracies."""
    touched, measured, qual, accuracy = [], [], [], {}
    for (seed, name), r in labels.items():
        m = r["summary"]
        touched.append({"seed": seed, "generator": name, "filter on": filter_on,
                        "training set changed by": m["training_set_changed_by"],
                        "generated": m["n_generated"], "needed": m["n_needed"],
                        "accepted": m["n_accepted"]})
        for who in ("oracle_on_synthetic", "oracle_on_real_minority", "filter_on_synthetic"):
            if m[who] is None:  # no filter trained
                continue
            measured.append({"seed": seed, "generator": name, "measured": who, **m[who]})
        for who, images in (("quality_synthetic", "synthetic, " + m.get(
                "quality_measured_on", "generated")),
                            ("quality_as_generated", "synthetic, generated"),
                            ("quality_real_reference", "real (reference)")):
            if m.get(who) is not None:  # before the filter: only where a filter chose
                qual.append({"seed": seed, "generator": name, "measured on": images,
                             **m[who]})
        accuracy[seed] = {"seed": seed, **{k: m[k] for k in (
            "oracle_test_accuracy", "oracle_validation_accuracy", "filter_test_accuracy")}}
    return (pd.DataFrame(touched), pd.DataFrame(measured), pd.DataFrame(qual),
            pd.DataFrame(list(accuracy.values())))


# ---- 05 ---------------------------------------------------------------------------------

QUALITY_METRICS = ("label_agreement", "mean_confidence", "rejection_rate", "frechet_distance",
                   "kid", "classifier_score", "nn_distance_median", "near_duplicate_share",
                   "training_images_frechet")


def label_rows(run):
    """04's measures as metrics.csv rows (classifier "oracle"), as validity.generator_checks
    and validity.oracle_check read them: each generator's quality (arm `<generator>`), the
    generator's own draw where a filter or herding chose among it (`<generator>:generated`),
    their real-vs-real reference (`<generator>:real`), and the oracle's test accuracy
    (`real_test`); with `label.filter` on, the share of the images balance needs that the
    filter accepted (`filter_accepted_share`, as validity.filter_checks reads it)."""
    if not run.cfg.generators():  # 04 trained no oracle and measured nothing
        return []
    rows = []
    for seed in run.seeds:
        for name in run.cfg.generators():
            summary = run.load_json("label_summary.json", seed, name)
            if run.cfg.label.filter:
                rows += metrics.rows(run.experiment, name, "oracle", seed, {
                    "filter_accepted_share": summary["n_accepted"] / max(summary["n_needed"], 1)})
            for who, arm in (("quality_synthetic", name),
                             ("quality_as_generated", f"{name}:generated"),
                             ("quality_real_reference", f"{name}:real")):
                q = summary.get(who)
                if q is not None:
                    # n: the images each side was read at, on which the Fréchet ratio depends
                    rows += metrics.rows(run.experiment, arm, "oracle", seed,
                                         {"n" if m == "images" else m: q[m]
                                          for m in ("images", *QUALITY_METRICS) if m in q})
        oracle = run.load_json("oracle.json", seed)
        rows += metrics.rows(run.experiment, "real_test", "oracle", seed, {
            "accuracy": oracle["oracle_test_accuracy"], "optimizer_steps": oracle["oracle_steps"]})
    return rows


def evaluate(run):
    """Every classifier on every arm and seed, scored on the real test split, plus the TSTR
    table; writes the tidy metrics.csv (also under reports/) with the generator-quality
    measures beside them (classifier "oracle", arm "<generator>" or "<generator>:real")."""
    from synthlib import evaluation

    ds = run.data()
    fits, tstr_fits = [], []
    for seed in run.seeds:
        split = run.split(seed)
        synthetic = {name: accepted_synthetic(run, seed, name)
                     for name in run.cfg.generators()}
        workdir = run.path("fits", seed)  # finished fits, reused when a run is repeated
        workdir.mkdir(exist_ok=True)
        fits += evaluation.seed_fits(run.cfg, ds, split, synthetic, seed, workdir=workdir)
        if run.cfg.evaluate.tstr:
            with np.load(run.made("tstr.npz", seed)) as f:
                tstr_fits += evaluation.tstr_fits(run.cfg, ds, split, f["images"],
                                                  f["labels"], seed, workdir=workdir)
    results = evaluation.run_fits(fits + tstr_fits)  # at once, so that the workers stay busy
    rows, confusions, histories = evaluation.fit_rows(run.experiment, fits, results)
    rows += evaluation.fit_rows(run.experiment, tstr_fits, results[len(fits):])[0]
    df = common.write_metrics(run, rows + label_rows(run))
    history = common.write_history(run, histories)
    return df, confusions, history


# ---- what the notebooks show ---------------------------------------------------------------

def check(cfg, ds):
    """What 01 would refuse, before any work: the split and the imbalance for every seed; and
    what 04 would, after the GANs trained: too few real minority images to measure them by."""
    for seed in cfg.seeds:
        split = imbalance.make_split(ds.y, cfg.split, cfg.imbalance, seed, ds.class_names)
        if cfg.generators():
            held_out = int(np.sum(ds.y[split.validation] == split.minority_class))
            if held_out < MIN_IMAGES:
                raise imbalance.ImbalanceError(
                    f"split.validation_fraction = {cfg.split.validation_fraction}: seed "
                    f"{seed}'s validation split holds {held_out} image(s) of class "
                    f"{split.minority_class}; each generator is measured against "
                    f"{MIN_IMAGES} or more")


def show_prepare(run, result):
    from synthlib import plots, show

    ds, splits = result
    seed = run.seeds[0]
    counts = {ds.class_label(c): n for c, n in ds.class_counts().items()}
    show.table(pd.DataFrame([counts], index=["images per class"]))
    show.heading("Split, then imbalance")
    show.text("Counts per part. `train` is the full real training split (the measuring "
              "oracle learns from it); `imbalanced` is what the scenario has: the training "
              "split with most minority images dropped.")
    table = split_table(run, ds, splits)
    show.table(table)
    plots.class_counts(table)
    show.heading(f"The minority images that were kept: class "
                 f"{ds.class_label(run.cfg.imbalance.minority_class)}")
    if any(not GENERATORS[g][0] for g in run.cfg.generators()):
        show.text("These, and only these, are what the minority-only GANs of `02_train_gan` "
                  "are trained on.")
    else:  # no minority-only GAN in this run
        show.text("These are all the real minority images the imbalanced training set keeps: "
                  "what every rebalancing arm starts from.")
    kept = splits[seed].kept_minority
    plots.sample_grid(ds.x[kept], title=f"Kept minority images, seed {seed} ({len(kept)} in all)")


def show_classifiers(run):
    common.show_classifiers(run, n_classes=2)  # the minority class against all the others


def show_label(run, labels):
    from synthlib import plots, show

    if not run.cfg.generators():  # nothing generated, nothing measured
        show.text("No synthetic image joined a training set: this run trains no generator, "
                  "so no oracle was trained to read one.")
        return
    touched, measured, qual, accuracy = label_tables(labels, run.cfg.label.filter)
    show.heading("Who touched the training data")
    show.table(touched)
    show.heading("The oracle and the filter" if run.cfg.label.filter else "What the oracle reads")
    show.text("The oracle's accuracy on the real test split is reported once, after training; "
              "the test split played no part in training or choosing it.")
    show.table(accuracy.round(3))  # as the write-up reads it
    show.text(rebalance_text.MEASURES_TEXT)
    show.table(measured.round(3))
    minority = run.cfg.imbalance.minority_class
    plots.confidence_by_generator(labels, run.seeds[0], minority, run.class_label(minority),
                                  run.cfg.label.threshold)
    show.heading("Generator quality against the real reference")
    show.text(rebalance_text.QUALITY_TEXT)
    show.table(qual.round(3))


def show_evaluate(run, result):
    from synthlib import plots, report, show

    metrics_df, confusions, history = result
    arms = metrics_df[metrics_df.arm.isin(run.cfg.evaluate.arms)]
    show.heading(f"Minority F1 ({report.over_seeds(metrics_df)})")
    show.text(report.JUDGED_IN_06)
    show.table(report.headline(metrics_df).data)
    show.heading(f"All metrics ({report.over_seeds(metrics_df)})")
    show.table(report.scores_table(metrics_df))
    show.text("What each fit learnt from and for how long: the same `optimizer_steps` for every "
              "arm, whatever the size of its training set (`training_images`).")
    show.table(report.scores_table(metrics_df, metrics=report.COUNTS))
    plots.metric_points(arms)
    plots.metric_points(arms, metrics=("g_mean", "pr_auc", "majority_recall"))
    if run.cfg.evaluate.tstr:
        show_tstr(run, metrics_df)
    show.heading("Confusion matrices (first seed)")
    for name in run.cfg.evaluate.classifiers:
        plots.confusion_matrices(confusions, seed=run.seeds[0], classifier=name, labels=(
            "rest", run.class_label(run.cfg.imbalance.minority_class)))
    show.heading("Training curves on the real validation split (first seed)")
    plots.training_curves(history[history.seed == run.seeds[0]])


def headline(metrics_df, checks_=(), label=str):
    """(caption, table) for the write-up and the index; a GAN arm whose comparisons the
    checks withhold is marked in the table."""
    from synthlib import report

    return report.marked_headline(
        f"Minority F1 on the real test split ({report.over_seeds(metrics_df)}; training sets "
        "as rows, classifiers as columns; the best training set per classifier in bold, the "
        "upper bound aside)", metrics_df, checks_, {g: g for g in GENERATORS})


def checks(run, metrics_df):
    """The write-up's validity checks (synthlib/validity.py): the oracle's accuracy, where
    the run trains a generator for it to read; per
    classifier, the upper bound beats no repair, is beaten by no arm, and has converged; each
    generator's quality against its real-vs-real reference; with the filter on, that it kept
    each GAN arm balanced."""
    from synthlib import validity

    v, arms = run.cfg.validity, run.cfg.evaluate.arms
    # the oracle measures generated images alone: a run without any has no use for it
    out = validity.oracle_check(metrics_df, v) if run.cfg.generators() else []
    if "upper_bound" in arms:
        out += validity.anchor_checks(metrics_df, "minority_f1", arms, v)
        out += validity.convergence_checks(metrics_df, "minority_f1", v,
                                           run.cfg.evaluate.classifiers)
    else:
        out.append(validity.Check("evaluators checked against the upper bound", "all", 0.0,
                                  "upper_bound in evaluate.arms", False,
                                  "without it, convergence and learnability go unchecked"))
    out += validity.generator_checks(metrics_df, run.cfg.generators(), v)
    if run.cfg.label.filter:  # the one place where a classifier decides what an arm trains on
        out += validity.filter_checks(metrics_df, run.cfg.generators())
    return out


def show_tstr(run, metrics_df, checks_=None):
    """The TSTR table with what its rows are; given the checks (06), whether its generator
    passed them."""
    from synthlib import report, show, validity

    show.heading("Train on synthetic, test on real")
    show.text(
        f"`{run.cfg.evaluate.tstr_classifier}` trained on the imbalanced real training set "
        "(TRTR: the `imbalanced` arm's), on `cgan_all_classes`'s images of every class alone "
        f"(TSTR) and on both (TRSTR), scored on the real test split "
        f"({report.over_seeds(metrics_df)})."
        + ("" if checks_ is None or validity.conclusive_for(checks_, "cgan_all_classes", "oracle")
           else " Its generator fails a validity check, so these rows describe this "
                "generator, not what synthetic images can do."))
    show.table(report.tstr_table(metrics_df))


def show_writeup(run, metrics_df, checks_=()):
    from synthlib import plots, report, show

    caption, table = headline(metrics_df, checks_)
    show.heading("Headline")
    show.text(caption)
    show.table(table)
    show.heading("Verdict")
    show.text("\n\n".join(report.verdicts(metrics_df, checks=checks_)))
    if any(a in GENERATORS for a in run.cfg.evaluate.arms):  # else no GAN arm to compare
        show.text("Each GAN arm against each classic baseline: the mean paired difference in "
                  "minority F1 over seeds (same seed, same split) with "
                  + report.SIMULTANEOUS + "; better or worse where the interval excludes "
                  "zero; withheld where a validity check fails.")
        comp = report.comparisons(metrics_df, checks=checks_)
        plots.forest(comp)
        show.collapsed("The same comparisons as a table", report.comparison_table(comp))
    plots.metric_points(metrics_df[metrics_df.arm.isin(run.cfg.evaluate.arms)])
    show.heading(f"All metrics ({report.over_seeds(metrics_df)})")
    show.table(report.scores_table(metrics_df))
    if run.cfg.evaluate.tstr:
        show_tstr(run, metrics_df, checks_)
    if run.cfg.generators():  # else there are no synthetic images to judge
        show.heading("How good were the synthetic images?")
        show.text("The measuring oracle's view (it never chose training data), each "
                  "generator's images beside the real-vs-real reference.")
        show.table(report.quality_table(metrics_df, side_by_side=True))
        show.text(report.QUALITY_LEGEND)
    changed = sorted({run.load_json("label_summary.json", s, g)["training_set_changed_by"]
                      for s in run.seeds for g in run.cfg.generators()})
    show.text("Training data changed by: " + "; ".join(changed or ["no synthetic image"])
              + ". The measuring oracle changed no training set.")
