"""The work of each notebook, one function per stage, saving what the next stage reads.

Every function loops over the run's seeds; each seed has its own split, subsample and GAN.
A stage whose outputs for a seed already exist (from an interrupted run) reuses them.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from synthlib import classifiers, evaluation, gan, imbalance, labeling
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
                                "class_counts": counts, "digest": ds.digest()})
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


def generator_key(run, split):
    """What determines a trained generator: GAN parameters, data, kept images, seed."""
    import hashlib
    import json

    blob = json.dumps({"gan": vars(run.cfg.gan), "data": run.load_json("data.json")["digest"],
                       "kept": split.kept_minority.tolist(), "seed": split.seed},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def train_gans(run):
    """One DCGAN per seed on that seed's kept minority images; saved as .keras. A generator
    already trained with the same key (parameters, data, seed) is reused, not retrained."""
    ds = run.data()
    out = {}
    for seed in run.seeds:
        split = run.split(seed)
        key = generator_key(run, split)
        path = run.path("generator.keras", seed)
        key_path = run.path("generator.key", seed)
        history_path = run.path("gan_history.csv", seed)
        grids_path = run.path("gan_grids.npz", seed)
        if path.exists() and key_path.exists() and key_path.read_text() == key:
            print(f"seed {seed}: generator {key} already trained, reused")
        else:
            key_path.unlink(missing_ok=True)
            images = gan_training_images(ds, split)
            model, history, grids = gan.train(images, run.cfg.gan, seed,
                                              backup_dir=run.path(f"gan_backup_{key}", seed))
            with atomic_path(history_path) as tmp:
                history.to_csv(tmp, index=False)
            with atomic_path(grids_path) as tmp:
                with open(tmp, "wb") as f:
                    np.savez_compressed(f, steps=np.array(list(grids)),
                                        images=np.stack(list(grids.values())))
            gan.save_generator(model.generator, path)
            write_text(key_path, key)  # last: its presence means "done"
        with np.load(grids_path) as g:
            out[seed] = (pd.read_csv(history_path),
                         dict(zip(g["steps"].tolist(), g["images"])))
    return out


# ---- 03 ---------------------------------------------------------------------------------

def n_needed(ds, split):
    """Synthetic minority images needed to balance the imbalanced training set."""
    y = ds.y[split.imbalanced]
    return int(np.sum(y != split.minority_class) - np.sum(y == split.minority_class))


def generate(run):
    ds = run.data()
    out = {}
    for seed in run.seeds:
        split = run.split(seed)
        need = n_needed(ds, split)
        n = int(math.ceil(need * run.cfg.generate.oversample))
        generator = gan.load_generator(run.path("generator.keras", seed))
        print(f"seed {seed}: generating {n} images ({need} needed to balance)", flush=True)
        images = gan.sample(generator, n, seed=10_000 + seed,
                            batch_size=run.cfg.generate.batch_size)
        with atomic_path(run.path("synthetic.npz", seed)) as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, images=images, n_needed=need)
        out[seed] = images
    return out


def load_synthetic(run, seed):
    with np.load(run.path("synthetic.npz", seed)) as f:
        return f["images"], int(f["n_needed"])


# ---- 04 ---------------------------------------------------------------------------------

def label(run):
    """Oracle measures, filter (optionally) selects. Returns per-seed summaries and the
    probabilities behind them."""
    ds, cfg = run.data(), run.cfg.label
    out = {}
    for seed in run.seeds:
        split = run.split(seed)
        images, need = load_synthetic(run, seed)
        minority = split.minority_class

        oracle, oracle_history = labeling.train_oracle(ds, split, cfg, seed)
        with atomic_path(run.path("oracle.keras", seed)) as tmp:
            oracle.save(tmp)
        real_ref = ds.x[split.validation][ds.y[split.validation] == minority][:len(images)]
        oracle_synth = classifiers.predict_proba(oracle, images)
        oracle_real = classifiers.predict_proba(oracle, real_ref)

        filt, filter_history = labeling.train_filter(ds, split, cfg, seed)
        filter_synth = classifiers.predict_proba(filt, images)

        if cfg.filter:
            accepted = labeling.filter_mask(filter_synth, minority, cfg.filter_threshold, need)
            touched_by = "filter (trained on the imbalanced training set only)"
        else:
            accepted = np.zeros(len(images), dtype=bool)
            accepted[:need] = True
            touched_by = "none: every synthetic image needed for balance was used"
        summary = {
            "seed": seed, "minority_class": minority, "n_needed": need,
            "n_generated": int(len(images)), "n_accepted": int(accepted.sum()),
            "training_set_changed_by": touched_by,
            "oracle_test_accuracy": labeling.test_accuracy(oracle, ds, split),
            "oracle_validation_accuracy": float(oracle_history["val_accuracy"].iloc[-1]),
            "filter_test_accuracy": labeling.test_accuracy(filt, ds, split),
            "oracle_on_synthetic": labeling.measure(oracle_synth, minority, cfg.threshold),
            "oracle_on_real_minority": labeling.measure(oracle_real, minority, cfg.threshold),
            "filter_on_synthetic": labeling.measure(filter_synth, minority,
                                                    cfg.filter_threshold),
        }
        run.save_json("label_summary.json", summary, seed)
        with atomic_path(run.path("labels.npz", seed)) as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, oracle_proba=oracle_synth, oracle_real_proba=oracle_real,
                                    filter_proba=filter_synth, accepted=accepted)
        out[seed] = dict(summary=summary, oracle_proba=oracle_synth,
                         oracle_real_proba=oracle_real, filter_proba=filter_synth,
                         accepted=accepted, oracle_history=oracle_history,
                         filter_history=filter_history)
    return out


def accepted_synthetic(run, seed):
    images, _ = load_synthetic(run, seed)
    with np.load(run.path("labels.npz", seed)) as f:
        return images[f["accepted"]]


# ---- 05 ---------------------------------------------------------------------------------

LABEL_METRICS = ("label_agreement", "mean_confidence", "rejection_rate")


def evaluate(run):
    """Every classifier on every arm and seed, scored on the real test split; writes the tidy
    metrics.csv (also under reports/) with the oracle's measurements beside them."""
    ds = run.data()
    rows, confusions, histories = [], {}, []
    for seed in run.seeds:
        split = run.split(seed)
        r, c, h = evaluation.evaluate_seed(run.experiment, run.cfg.evaluate, ds, split,
                                           accepted_synthetic(run, seed), seed)
        rows += r
        confusions.update(c)
        histories.append(h)
        summary = run.load_json("label_summary.json", seed)
        for who, arm in (("oracle_on_synthetic", "synthetic"),
                         ("oracle_on_real_minority", "real_validation")):
            for metric in LABEL_METRICS:
                rows.append({"experiment": run.experiment, "arm": arm, "classifier": "oracle",
                             "seed": seed, "metric": metric, "value": summary[who][metric]})
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


def label_tables(labels, filter_on):
    """04's tables from `label()`'s result: who changed the training set, what the oracle
    and the filter measured, and the classifiers' accuracies."""
    touched, measured, accuracy = [], [], []
    for seed, r in labels.items():
        m = r["summary"]
        touched.append({"seed": seed, "filter on": filter_on,
                        "training set changed by": m["training_set_changed_by"],
                        "generated": m["n_generated"], "needed": m["n_needed"],
                        "accepted": m["n_accepted"]})
        for who in ("oracle_on_synthetic", "oracle_on_real_minority", "filter_on_synthetic"):
            measured.append({"seed": seed, "measured": who, **m[who]})
        accuracy.append({"seed": seed, "oracle test accuracy": m["oracle_test_accuracy"],
                         "oracle validation accuracy": m["oracle_validation_accuracy"],
                         "filter test accuracy": m["filter_test_accuracy"]})
    return pd.DataFrame(touched), pd.DataFrame(measured), pd.DataFrame(accuracy)
