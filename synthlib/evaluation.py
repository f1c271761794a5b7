"""Train each evaluation classifier on each training-set variant ("arm") and score it on the
real test split. Synthetic or resampled images only ever enter the training side of an arm,
and every resampling happens after the split, on the imbalanced training set alone."""
from __future__ import annotations

import functools
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthlib import baselines, classifiers, metrics
from synthlib.paths import code_digest, shown, write_text
from synthlib.registry import GENERATORS


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
                                  cfg.augmentation, seed, batch_size=cfg.generate.batch_size)
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


@dataclass
class Fit:
    """Classifier `classifier` trained on `train` = (images, labels) of arm `arm` for its step
    budget (`evaluate.steps`, the same whatever the size of the images), then scored once on
    the real test split: held_out is ((x_val, y_val), (x_test, y_test)); `score(y_true,
    proba)` gives the scores (a module-level function: fits run on worker processes).

    half_budget: also score the model half-way through its steps (the convergence check).
    curves: record test loss and accuracy after every chunk (plotted; nothing is chosen by
    them). With a workdir, the result is kept under a key of everything that determines it (a
    re-run reuses it, and so does an identical fit under another arm: the TSTR table's TRTR is
    the `imbalanced` arm's fit) and training checkpoints every chunk (a killed run resumes)."""

    arm: str
    classifier: str
    seed: int
    train: tuple
    held_out: tuple
    n_classes: int
    eval_cfg: object
    score: object
    class_weight: dict | None = None
    workdir: Path | None = None
    half_budget: bool = False
    curves: bool = False

    @property
    def tag(self):
        return f"{self.arm}__{self.classifier}"

    @functools.cached_property
    def key(self):
        x, y = self.train
        return _result_key(self.classifier, x, y, self.class_weight, self.eval_cfg, self.seed,
                           self.held_out[1][0], self.half_budget, self.curves)

    def about(self):
        x, y = self.train
        return (f"seed {self.seed}  {self.arm:<28} {self.classifier:<10} {len(y)} training "
                f"images, {self.eval_cfg.steps_for(self.classifier)} steps")


def saved_result(fit):
    """The result of an identical finished fit in the fit's workdir (its own arm's, or another
    arm's, then copied under its own name), or None."""
    if fit.workdir is None:
        return None
    done = Path(fit.workdir) / f"{fit.tag}.json"
    found, saved = _finished(done, fit.key)
    if saved is None:
        return None
    if found != done:
        write_text(done, json.dumps(saved))
    return {**saved["result"], "confusion": np.array(saved["result"]["confusion"]),
            "history": pd.DataFrame(saved["result"]["history"])}


def fit_and_score(fit):
    """Train and score one Fit (run_fits has looked for it finished). Returns {"scores",
    "half_budget" (scores or None), "confusion", "history"}."""
    print(fit.about(), flush=True)
    x, y = fit.train
    (x_val, y_val), (x_test, y_test) = fit.held_out
    cfg, name = fit.eval_cfg, fit.classifier
    steps = cfg.steps_for(name)
    backup = Path(fit.workdir) / f"{fit.tag}_backup_{fit.key}" if fit.workdir else None
    halfway = [classifiers.ProbabilitiesAt(x_test, steps // 2, steps // cfg.chunks,
                                           path=backup and backup / "half_budget.npy")] \
        if fit.half_budget else []
    model, history = classifiers.fit(
        name, x, y, fit.n_classes, steps, cfg.batch_size, fit.seed, chunks=cfg.chunks,
        validation=(x_val, y_val), class_weight=fit.class_weight, log_label=f"  {name} step",
        backup_dir=backup,
        curves_on=(x_test, y_test) if fit.curves else None, callbacks=halfway,
        precision=cfg.precision)
    proba = classifiers.predict_proba(model, x_test)
    result = {"scores": {**fit.score(y_test, proba),
                         # what the fit took: equal steps across arms, whatever their size
                         "optimizer_steps": int(model.optimizer.iterations),
                         "training_images": len(y)},
              "half_budget": fit.score(y_test, halfway[0].proba) if fit.half_budget else None,
              "confusion": metrics.confusion(y_test, proba.argmax(1),
                                             labels=range(fit.n_classes)),
              "history": history}
    if fit.workdir is not None:
        write_text(Path(fit.workdir) / f"{fit.tag}.json", json.dumps({
            "key": fit.key, "result": {**result, "confusion": result["confusion"].tolist(),
                                       "history": history.to_dict("records")}},
            default=float))
    return result


def run_fits(fits):
    """Every fit's result, in order: finished ones read back, the others trained on
    single-thread worker processes, as many at once as this stage has cores (workers.py). A
    fit identical to an earlier one in the list (same key) is trained once."""
    from synthlib import workers

    fits = list(fits)
    results = [saved_result(f) for f in fits]
    first = {}
    for i, f in enumerate(fits):
        if results[i] is None:
            first.setdefault(f.key, i)
        else:
            # a reused fit trains nothing: say so, or its missing log reads as a fit skipped
            print(f"{f.about()}\n  finished earlier, reused (no log lines: its scores and "
                  f"curves come from its saved result)", flush=True)
    todo = sorted(first.values())
    for i, r in zip(todo, workers.run(fit_and_score, [(fits[i],) for i in todo])):
        results[i] = r
    for i, f in enumerate(fits):
        if results[i] is None:  # identical to fit first[f.key], trained above
            results[i] = saved_result(f) or results[first[f.key]]
    return results


def fit_rows(experiment, fits, results):
    """(tidy rows, confusion matrices by (arm, classifier, seed), per-chunk histories) of
    finished fits; half-budget scores, if any, under arm `<arm>:half_budget`."""
    rows_, confusions, histories = [], {}, []
    for f, r in zip(fits, results):
        rows_ += result_rows(experiment, f.arm, f.classifier, f.seed, r)
        confusions[(f.arm, f.classifier, f.seed)] = r["confusion"]
        histories.append(r["history"].assign(arm=f.arm, classifier=f.classifier, seed=f.seed))
    return rows_, confusions, histories


def binary_score(y_true, proba):
    return metrics.binary_scores(y_true, proba.argmax(1), proba[:, 1])


def multiclass_score(classes):
    """score(y_true, proba) over `classes` (labels are indices into it), picklable."""
    return functools.partial(_multiclass, classes=list(classes))


def _multiclass(y_true, proba, classes):
    return metrics.multiclass_scores(y_true, proba.argmax(1), classes)


def _finished(done, key):
    """(file, saved fit) of this key: its own tag's file, or another tag's in the same workdir;
    (None, None) if none."""
    others = (f for f in sorted(done.parent.glob("*.json")) if f != done)
    for f in [done, *others]:
        if f.exists():
            try:
                saved = json.loads(f.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as e:  # damaged from outside: writes are atomic
                print(f"{shown(f)} is damaged ({e}): dropped, its fit runs again", flush=True)
                f.unlink(missing_ok=True)
                continue
            if saved.get("key") == key:
                return f, saved
    return None, None


@functools.cache
def _code_digest():
    """The code a fit's numbers come from: a finished fit is reused only while it is the same,
    so that a fix to a network, the training step or a metric reaches every score."""
    from synthlib import compiled, networks, progress

    return code_digest(classifiers, compiled, metrics, networks, progress, sys.modules[__name__])


# Settings that choose which fits run, not how one trains: left out of a fit's key, so that
# dropping an arm or the TSTR table does not retrain the fits that stay. Any other setting,
# a new one included, is in it.
WHICH_FITS = ("classifiers", "arms", "tstr", "tstr_classifier")


def _result_key(name, x, y, class_weight, eval_cfg, seed, x_test, *flags):
    h = hashlib.sha256(_code_digest().encode())
    for a in (x, y, x_test):
        h.update(np.ascontiguousarray(a).tobytes())
    how = {k: v for k, v in vars(eval_cfg).items() if k not in WHICH_FITS}
    how["steps"] = eval_cfg.steps[name]  # this classifier's budget, not the others'
    h.update(json.dumps([name, class_weight, how, seed, flags], sort_keys=True,
                        default=str).encode())
    return h.hexdigest()[:12]


def result_rows(experiment, arm, classifier, seed, result):
    """The rows of one fit; its half-budget scores, if any, under arm `<arm>:half_budget`."""
    out = metrics.rows(experiment, arm, classifier, seed, result["scores"])
    if result.get("half_budget"):
        out += metrics.rows(experiment, f"{arm}:half_budget", classifier, seed,
                            result["half_budget"])
    return out


def seed_fits(cfg, ds, split, synthetic, seed, workdir=None):
    """Every classifier on every arm of one seed; the upper bound is also scored half-way
    through its steps, for the convergence check."""
    held_out = (validation_set(ds, split), test_set(ds, split))
    fits = []
    for arm in cfg.evaluate.arms:
        x, y, class_weight = training_set(arm, ds, split, synthetic, cfg, seed)
        fits += [Fit(arm, name, seed, (x, y), held_out, 2, cfg.evaluate, binary_score,
                     class_weight=class_weight, workdir=workdir,
                     half_budget=arm == "upper_bound")
                 for name in cfg.evaluate.classifiers]
    return fits


def tstr_fits(cfg, ds, split, synthetic_x, synthetic_y, seed, workdir=None):
    """Train on real (TRTR), on synthetic only (TSTR), on both (TRSTR); test on real."""
    x = ds.x[split.imbalanced]
    y = binary(ds.y[split.imbalanced], split.minority_class)
    sy = binary(synthetic_y, split.minority_class)
    sets = {"TRTR": (x, y), "TSTR": (synthetic_x, sy),
            "TRSTR": (np.concatenate([x, synthetic_x]), np.concatenate([y, sy]))}
    held_out = (validation_set(ds, split), test_set(ds, split))
    return [Fit(arm, cfg.evaluate.tstr_classifier, seed, train, held_out, 2, cfg.evaluate,
                binary_score, workdir=workdir) for arm, train in sets.items()]
