"""Train each evaluation classifier on each training-set variant ("arm") and score it on the
real test split. Synthetic or resampled images only ever enter the training side of an arm,
and every resampling happens after the split, on the imbalanced training set alone."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from synthlib import baselines, classifiers, metrics
from synthlib.config import GENERATORS
from synthlib.paths import write_text


def binary(y, minority_class):
    return (np.asarray(y) == minority_class).astype("int64")


def training_set(arm, ds, split, synthetic, cfg, seed):
    """(images, labels, class_weight) of one arm; labels are 1 for the minority class.
    `synthetic` maps each generator name to its accepted synthetic minority images."""
    x = ds.x[split.imbalanced]
    y = binary(ds.y[split.imbalanced], split.minority_class)
    if arm == "imbalanced":
        return x, y, None
    if arm == "class_weight":
        return x, y, classifiers.balanced_class_weight(y)
    if arm == "random_oversampling":
        return (*baselines.random_oversample(x, y, seed), None)
    if arm == "smote":
        return (*baselines.smote(x, y, seed), None)
    if arm == "augmentation":
        extra = baselines.augment(x[y == 1], int(np.sum(y == 0) - np.sum(y == 1)),
                                  cfg.augmentation, seed)
        return _with_minority(x, y, extra)
    if arm in GENERATORS:
        return _with_minority(x, y, synthetic[arm])
    if arm == "upper_bound":  # the real training split before the minority was cut
        return ds.x[split.train], binary(ds.y[split.train], split.minority_class), None
    raise ValueError(f"evaluate.arms: unknown arm {arm!r}")


def _with_minority(x, y, extra):
    return (np.concatenate([x, extra]),
            np.concatenate([y, np.ones(len(extra), dtype="int64")]), None)


def validation_set(ds, split):
    return ds.x[split.validation], binary(ds.y[split.validation], split.minority_class)


def test_set(ds, split):
    """The real held-out test split, and nothing else."""
    return ds.x[split.test], binary(ds.y[split.test], split.minority_class)


def fit_and_score(name, x, y, class_weight, ds, split, eval_cfg, seed, label="  epoch",
                  workdir=None, tag=""):
    """Train one classifier, score it once on the real test split. With a workdir, the result
    is kept under a key of everything that determines it (a re-run reuses it) and training
    checkpoints every epoch (a killed run resumes)."""
    x_test, y_test = test_set(ds, split)
    done = key = None
    if workdir is not None:
        key = _result_key(name, x, y, class_weight, eval_cfg, seed, x_test)
        done = Path(workdir) / f"{tag or name}.json"
        if done.exists():
            saved = json.loads(done.read_text())
            if saved["key"] == key:
                return saved["scores"], np.array(saved["confusion"]), \
                    pd.DataFrame(saved["history"])
    model, history = classifiers.fit(
        name, x, y, 2, eval_cfg.epochs, eval_cfg.batch_size, seed,
        validation=validation_set(ds, split), class_weight=class_weight, label=label,
        backup_dir=Path(workdir) / f"{tag or name}_backup_{key}" if workdir else None)
    proba = classifiers.predict_proba(model, x_test)
    y_pred = proba.argmax(1)
    scores = metrics.binary_scores(y_test, y_pred, proba[:, 1])
    cm = metrics.confusion(y_test, y_pred)
    if done is not None:
        write_text(done, json.dumps({"key": key, "scores": scores, "confusion": cm.tolist(),
                                     "history": history.to_dict("records")}, default=float))
    return scores, cm, history


def _result_key(name, x, y, class_weight, eval_cfg, seed, x_test):
    h = hashlib.sha256()
    for a in (x, y, x_test):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(json.dumps([name, class_weight, vars(eval_cfg), seed], sort_keys=True,
                        default=str).encode())
    return h.hexdigest()[:12]


def evaluate_seed(experiment, cfg, ds, split, synthetic, seed, workdir=None):
    """Every classifier on every arm for one seed. Returns (tidy rows, confusion matrices,
    per-epoch histories). With a workdir, finished fits are kept and reused."""
    rows, confusions, histories = [], {}, []
    for arm in cfg.evaluate.arms:
        x, y, class_weight = training_set(arm, ds, split, synthetic, cfg, seed)
        for name in cfg.evaluate.classifiers:
            print(f"seed {seed}  {arm:<24} {name:<10} {len(y)} training images "
                  f"({int(y.sum())} minority)", flush=True)
            scores, cm, history = fit_and_score(name, x, y, class_weight, ds, split,
                                                cfg.evaluate, seed, workdir=workdir,
                                                tag=f"{arm}__{name}")
            rows += [{"experiment": experiment, "arm": arm, "classifier": name, "seed": seed,
                      "metric": m, "value": v} for m, v in scores.items()]
            confusions[(arm, name, seed)] = cm
            histories.append(history.assign(arm=arm, classifier=name, seed=seed))
    return rows, confusions, pd.concat(histories, ignore_index=True)


def tstr_rows(experiment, cfg, ds, split, synthetic_x, synthetic_y, seed, workdir=None):
    """Train on real (TRTR), on synthetic only (TSTR), on both (TRSTR); test on real."""
    name = cfg.evaluate.tstr_classifier
    x = ds.x[split.imbalanced]
    y = binary(ds.y[split.imbalanced], split.minority_class)
    sy = binary(synthetic_y, split.minority_class)
    sets = {"TRTR": (x, y), "TSTR": (synthetic_x, sy),
            "TRSTR": (np.concatenate([x, synthetic_x]), np.concatenate([y, sy]))}
    rows = []
    for arm, (tx, ty) in sets.items():
        print(f"seed {seed}  {arm:<6} {name}: {len(ty)} training images", flush=True)
        scores, _, _ = fit_and_score(name, tx, ty, None, ds, split, cfg.evaluate, seed,
                                     workdir=workdir, tag=f"{arm}__{name}")
        rows += [{"experiment": experiment, "arm": arm, "classifier": name, "seed": seed,
                  "metric": m, "value": v} for m, v in scores.items()]
    return rows
