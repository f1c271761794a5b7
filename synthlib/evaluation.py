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


def fit_and_score(name, train, held_out, n_classes, eval_cfg, seed, score, class_weight=None,
                  workdir=None, tag="", half_budget=False, curves=False):
    """Train classifier `name` on train = (x, y) for its step budget (`evaluate.steps`, the
    same whatever the size of x), then score it once on the real test split; held_out is
    ((x_val, y_val), (x_test, y_test)). `score(y_true, proba)` gives the scores.

    half_budget: also score the model half-way through its steps (the convergence check).
    curves: record test loss and accuracy after every chunk (plotted; nothing is chosen by
    them). With a workdir, the result is kept under a key of everything that determines it (a
    re-run reuses it, and so does an identical fit under another tag: the TSTR table's TRTR is
    the `imbalanced` arm's fit) and training checkpoints every chunk (a killed run resumes).
    Returns {"scores", "half_budget" (scores or None), "confusion", "history"}."""
    from synthlib import classifiers

    x, y = train
    (x_val, y_val), (x_test, y_test) = held_out
    steps = eval_cfg.steps_for(name)
    done = key = None
    if workdir is not None:
        key = _result_key(name, x, y, class_weight, eval_cfg, seed, x_test, half_budget, curves)
        done = Path(workdir) / f"{tag or name}.json"
        found, saved = _finished(done, key)
        if saved is not None:
            if found != done:
                write_text(done, json.dumps(saved))
            return {**saved["result"], "confusion": np.array(saved["result"]["confusion"]),
                    "history": pd.DataFrame(saved["result"]["history"])}
    halfway = [classifiers.ProbabilitiesAt(x_test, steps // 2, steps // eval_cfg.chunks)] \
        if half_budget else []
    model, history = classifiers.fit(
        name, x, y, n_classes, steps, eval_cfg.batch_size, seed, chunks=eval_cfg.chunks,
        validation=(x_val, y_val), class_weight=class_weight, label=f"  {name} step",
        backup_dir=Path(workdir) / f"{tag or name}_backup_{key}" if workdir else None,
        curves_on=(x_test, y_test) if curves else None, callbacks=halfway,
        precision=eval_cfg.precision)
    proba = classifiers.predict_proba(model, x_test)
    result = {"scores": {**score(y_test, proba),
                         # what the fit took: equal steps across arms, whatever their size
                         "optimizer_steps": int(model.optimizer.iterations),
                         "training_images": len(y)},
              "half_budget": score(y_test, halfway[0].proba) if half_budget else None,
              "confusion": metrics.confusion(y_test, proba.argmax(1), labels=range(n_classes)),
              "history": history}
    if done is not None:
        write_text(done, json.dumps({"key": key, "result": {
            **result, "confusion": result["confusion"].tolist(),
            "history": history.to_dict("records")}}, default=float))
    return result


def binary_score(y_true, proba):
    return metrics.binary_scores(y_true, proba.argmax(1), proba[:, 1])


def _finished(done, key):
    """(file, saved fit) of this key: its own tag's file, or another tag's in the same workdir;
    (None, None) if none."""
    others = (f for f in sorted(done.parent.glob("*.json")) if f != done)
    for f in [done, *others]:
        if f.exists():
            saved = json.loads(f.read_text())
            if saved.get("key") == key:
                return f, saved
    return None, None


def _result_key(name, x, y, class_weight, eval_cfg, seed, x_test, *flags):
    h = hashlib.sha256()
    for a in (x, y, x_test):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(json.dumps([name, class_weight, vars(eval_cfg), seed, flags], sort_keys=True,
                        default=str).encode())
    return h.hexdigest()[:12]


def result_rows(experiment, arm, classifier, seed, result):
    """The rows of one fit; its half-budget scores, if any, under arm `<arm>:half_budget`."""
    out = metrics.rows(experiment, arm, classifier, seed, result["scores"])
    if result.get("half_budget"):
        out += metrics.rows(experiment, f"{arm}:half_budget", classifier, seed,
                            result["half_budget"])
    return out


def evaluate_seed(experiment, cfg, ds, split, synthetic, seed, workdir=None):
    """Every classifier on every arm for one seed. Returns (tidy rows, confusion matrices,
    per-chunk histories). With a workdir, finished fits are kept and reused. The upper bound
    is also scored half-way through its steps, for the convergence check."""
    rows_, confusions, histories = [], {}, []
    held_out = (validation_set(ds, split), test_set(ds, split))
    for arm in cfg.evaluate.arms:
        x, y, class_weight = training_set(arm, ds, split, synthetic, cfg, seed)
        for name in cfg.evaluate.classifiers:
            print(f"seed {seed}  {arm:<24} {name:<10} {len(y)} training images "
                  f"({int(y.sum())} minority), {cfg.evaluate.steps_for(name)} steps", flush=True)
            result = fit_and_score(name, (x, y), held_out, 2, cfg.evaluate, seed, binary_score,
                                   class_weight=class_weight, workdir=workdir,
                                   tag=f"{arm}__{name}", half_budget=arm == "upper_bound")
            rows_ += result_rows(experiment, arm, name, seed, result)
            confusions[(arm, name, seed)] = result["confusion"]
            histories.append(result["history"].assign(arm=arm, classifier=name, seed=seed))
    return rows_, confusions, pd.concat(histories, ignore_index=True)


def tstr_rows(experiment, cfg, ds, split, synthetic_x, synthetic_y, seed, workdir=None):
    """Train on real (TRTR), on synthetic only (TSTR), on both (TRSTR); test on real."""
    name = cfg.evaluate.tstr_classifier
    x = ds.x[split.imbalanced]
    y = binary(ds.y[split.imbalanced], split.minority_class)
    sy = binary(synthetic_y, split.minority_class)
    sets = {"TRTR": (x, y), "TSTR": (synthetic_x, sy),
            "TRSTR": (np.concatenate([x, synthetic_x]), np.concatenate([y, sy]))}
    held_out = (validation_set(ds, split), test_set(ds, split))
    out = []
    for arm, (tx, ty) in sets.items():
        print(f"seed {seed}  {arm:<6} {name}: {len(ty)} training images", flush=True)
        result = fit_and_score(name, (tx, ty), held_out, 2, cfg.evaluate, seed, binary_score,
                               workdir=workdir, tag=f"{arm}__{name}")
        out += metrics.rows(experiment, arm, name, seed, result["scores"])
    return out
