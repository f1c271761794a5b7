"""The work of each notebook, one function per stage, saving what the next stage reads.

Every function loops over the run's seeds; each seed has its own split, subsample and GAN.
A stage whose outputs for a seed already exist (from an interrupted run) reuses them.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from synthlib import classifiers, evaluation, gan, imbalance, labeling, networks, quality
from synthlib.config import GENERATORS
from synthlib.paths import atomic_path, write_text


# ---- 01 ---------------------------------------------------------------------------------

def prepare(run):
    """Load the data, split it (train / validation / test), then imbalance the training split."""
    ds = run.data(fresh=True)
    cfg = run.cfg
    counts = ds.class_counts()
    if cfg.imbalance.minority_class not in counts:
        raise imbalance.ImbalanceError(
            f"imbalance.minority_class = {cfg.imbalance.minority_class}: not a class of "
            f"{ds.name} (classes: {', '.join(map(str, counts))})")
    run.save_json("data.json", {"name": ds.name, "source": ds.source, "images": len(ds.y),
                                "image_shape": list(ds.x.shape[1:]),
                                "class_counts": counts, "digest": ds.digest(),
                                "class_names": ds.class_names})
    splits = {}
    for seed in run.seeds:
        split = imbalance.make_split(ds.y, cfg.split, cfg.imbalance, seed)
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


def generator_key(run, split, name):
    """What determines a trained generator: its kind, GAN parameters, data, images, seed, and
    the code that builds and trains it."""
    import hashlib
    import json

    code = hashlib.sha256(Path(gan.__file__).read_bytes()
                          + Path(networks.__file__).read_bytes()).hexdigest()
    blob = json.dumps({"generator": name, "gan": vars(run.cfg.gan), "code": code,
                       "data": run.load_json("data.json")["digest"],
                       "kept": split.kept_minority.tolist(), "seed": split.seed},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def train_gans(run):
    """Every generator the arms need, per seed; saved as .keras. A generator already trained
    with the same key (kind, parameters, data, seed) is reused, not retrained.
    Returns {(seed, generator): (history, grids)}."""
    ds = run.data()
    out = {}
    for seed in run.seeds:
        split = run.split(seed)
        for name in run.cfg.generators():
            key = generator_key(run, split, name)
            files = {f: run.path(f, seed, name) for f in ("generator.keras", "generator.key",
                                                          "gan_history.csv", "gan_grids.npz")}
            if files["generator.key"].exists() and files["generator.key"].read_text() == key:
                print(f"seed {seed} {name}: generator {key} already trained, reused")
            else:
                files["generator.key"].unlink(missing_ok=True)
                images, labels = generator_training_set(ds, split, name)
                model, history, grids = gan.train(
                    images, run.cfg.gan, seed, labels=labels,
                    diffaugment=GENERATORS[name][1], grid_label=split.minority_class,
                    backup_dir=run.path(f"gan_backup_{key}", seed, name))
                with atomic_path(files["gan_history.csv"]) as tmp:
                    history.to_csv(tmp, index=False)
                with atomic_path(files["gan_grids.npz"]) as tmp:
                    with open(tmp, "wb") as f:
                        np.savez_compressed(f, steps=np.array(list(grids)),
                                            images=np.stack(list(grids.values())))
                gan.save_generator(model.generator, files["generator.keras"])
                write_text(files["generator.key"], key)  # last: its presence means "done"
            with np.load(files["gan_grids.npz"]) as g:
                out[(seed, name)] = (pd.read_csv(files["gan_history.csv"]),
                                     dict(zip(g["steps"].tolist(), g["images"])))
    return out


# ---- 03 ---------------------------------------------------------------------------------

def n_needed(ds, split):
    """Synthetic minority images needed to balance the imbalanced training set."""
    y = ds.y[split.imbalanced]
    return int(np.sum(y != split.minority_class) - np.sum(y == split.minority_class))


def _save_npz(path, **arrays):
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def generate(run):
    """Minority images to balance, from every generator; and, for the TSTR table, a
    class-balanced all-class set from the conditional GAN. Returns {(seed, generator): images}."""
    ds = run.data()
    out = {}
    for seed in run.seeds:
        split = run.split(seed)
        need = n_needed(ds, split)
        n = int(math.ceil(need * run.cfg.generate.oversample))
        for name in run.cfg.generators():
            generator = gan.load_generator(run.path("generator.keras", seed, name))
            print(f"seed {seed} {name}: generating {n} minority images ({need} needed)",
                  flush=True)
            label = split.minority_class if GENERATORS[name][0] else None
            images = gan.sample(generator, n, seed=10_000 + seed,
                                batch_size=run.cfg.generate.batch_size, label=label)
            _save_npz(run.path("synthetic.npz", seed, name), images=images, n_needed=need)
            out[(seed, name)] = images
            if name == "cgan_all_classes" and run.cfg.evaluate.tstr:
                classes, counts = np.unique(ds.y[split.imbalanced], return_counts=True)
                labels = np.repeat(classes, int(np.median(counts)))
                print(f"seed {seed} {name}: {len(labels)} images of all classes for TSTR")
                _save_npz(run.path("tstr.npz", seed), labels=labels,
                          images=gan.sample(generator, len(labels), seed=20_000 + seed,
                                            batch_size=run.cfg.generate.batch_size,
                                            label=labels))
    return out


def load_synthetic(run, seed, name):
    with np.load(run.path("synthetic.npz", seed, name)) as f:
        return f["images"], int(f["n_needed"])


# ---- 04 ---------------------------------------------------------------------------------

def label(run):
    """Per seed: train the oracle and the filter once; per generator: the oracle's measures
    and generator quality beside a real-vs-real reference; the filter (optionally) selects.
    Returns {(seed, generator): dict of summary and probabilities}."""
    ds, cfg = run.data(), run.cfg.label
    out = {}
    for seed in run.seeds:
        split = run.split(seed)
        minority = split.minority_class
        oracle, oracle_history = labeling.train_oracle(ds, split, cfg, seed)
        with atomic_path(run.path("oracle.keras", seed)) as tmp:
            oracle.save(tmp)
        filt, filter_history = labeling.train_filter(ds, split, cfg, seed)
        real_heldout = ds.x[split.validation][ds.y[split.validation] == minority]
        real_pool = ds.x[split.train][ds.y[split.train] == minority]
        oracle_real = classifiers.predict_proba(oracle, real_heldout)
        accuracies = {"oracle_test_accuracy": labeling.test_accuracy(oracle, ds, split),
                      "oracle_validation_accuracy":
                          float(oracle_history["val_accuracy"].iloc[-1]),
                      "filter_test_accuracy": labeling.test_accuracy(filt, ds, split)}
        for name in run.cfg.generators():
            images, need = load_synthetic(run, seed, name)
            oracle_synth = classifiers.predict_proba(oracle, images)
            filter_synth = classifiers.predict_proba(filt, images)
            if cfg.filter:
                accepted = labeling.filter_mask(filter_synth, minority, cfg.filter_threshold,
                                                need)
                touched_by = "filter (trained on the imbalanced training set only)"
            else:
                accepted = np.zeros(len(images), dtype=bool)
                accepted[:need] = True
                touched_by = "none: every synthetic image needed for balance was used"
            synth_q, real_q = quality.compare(
                images, real_heldout, real_pool, ds.x[split.kept_minority], oracle, minority,
                cfg.threshold, run.cfg.quality, seed)
            summary = {
                "seed": seed, "generator": name, "minority_class": minority,
                "n_needed": need, "n_generated": int(len(images)),
                "n_accepted": int(accepted.sum()), "training_set_changed_by": touched_by,
                **accuracies,
                "oracle_on_synthetic": labeling.measure(oracle_synth, minority, cfg.threshold),
                "oracle_on_real_minority": labeling.measure(oracle_real, minority,
                                                            cfg.threshold),
                "filter_on_synthetic": labeling.measure(filter_synth, minority,
                                                        cfg.filter_threshold),
                "quality_synthetic": synth_q, "quality_real_reference": real_q,
            }
            run.save_json("label_summary.json", summary, seed, name)
            _save_npz(run.path("labels.npz", seed, name), oracle_proba=oracle_synth,
                      oracle_real_proba=oracle_real, filter_proba=filter_synth,
                      accepted=accepted)
            out[(seed, name)] = dict(summary=summary, oracle_proba=oracle_synth,
                                     oracle_real_proba=oracle_real, filter_proba=filter_synth,
                                     accepted=accepted, oracle_history=oracle_history,
                                     filter_history=filter_history)
    return out


def accepted_synthetic(run, seed, name):
    images, _ = load_synthetic(run, seed, name)
    with np.load(run.path("labels.npz", seed, name)) as f:
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
            measured.append({"seed": seed, "generator": name, "measured": who, **m[who]})
        for who in ("quality_synthetic", "quality_real_reference"):
            qual.append({"seed": seed, "generator": name,
                         "images": "synthetic" if who == "quality_synthetic"
                         else "real (reference)", **m[who]})
        accuracy[seed] = {"seed": seed, **{k: m[k] for k in (
            "oracle_test_accuracy", "oracle_validation_accuracy", "filter_test_accuracy")}}
    return (pd.DataFrame(touched), pd.DataFrame(measured), pd.DataFrame(qual),
            pd.DataFrame(list(accuracy.values())))


# ---- 05 ---------------------------------------------------------------------------------

QUALITY_METRICS = ("label_agreement", "mean_confidence", "rejection_rate", "frechet_distance",
                   "kid", "classifier_score", "nn_distance_median", "near_duplicate_share")


def evaluate(run):
    """Every classifier on every arm and seed, scored on the real test split, plus the TSTR
    table; writes the tidy metrics.csv (also under reports/) with the generator-quality
    measures beside them (classifier "oracle", arm "<generator>" or "<generator>:real")."""
    ds = run.data()
    rows, confusions, histories = [], {}, []
    for seed in run.seeds:
        split = run.split(seed)
        synthetic = {name: accepted_synthetic(run, seed, name)
                     for name in run.cfg.generators()}
        workdir = run.path("fits", seed)  # finished fits, reused when a run is repeated
        workdir.mkdir(exist_ok=True)
        r, c, h = evaluation.evaluate_seed(run.experiment, run.cfg, ds, split, synthetic, seed,
                                           workdir=workdir)
        rows += r
        confusions.update(c)
        histories.append(h)
        if run.cfg.evaluate.tstr:
            with np.load(run.path("tstr.npz", seed)) as f:
                rows += evaluation.tstr_rows(run.experiment, run.cfg, ds, split, f["images"],
                                             f["labels"], seed, workdir=workdir)
        for name in run.cfg.generators():
            summary = run.load_json("label_summary.json", seed, name)
            for who, arm in (("quality_synthetic", name),
                             ("quality_real_reference", f"{name}:real")):
                rows += [{"experiment": run.experiment, "arm": arm, "classifier": "oracle",
                          "seed": seed, "metric": m, "value": summary[who][m]}
                         for m in QUALITY_METRICS]
        rows.append({"experiment": run.experiment, "arm": "real_test", "classifier": "oracle",
                     "seed": seed, "metric": "accuracy",
                     "value": summary["oracle_test_accuracy"]})
    df = pd.DataFrame(rows)
    for target in (run.path("metrics.csv"), run.reports / "metrics.csv"):
        with atomic_path(target) as tmp:
            df.to_csv(tmp, index=False)
    history = pd.concat(histories, ignore_index=True)
    with atomic_path(run.path("eval_history.csv")) as tmp:
        history.to_csv(tmp, index=False)
    run.save_json("confusions.json", [{"arm": a, "classifier": c, "seed": s, "matrix": m}
                                      for (a, c, s), m in confusions.items()])
    return df, confusions, history
