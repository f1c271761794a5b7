"""Two classifiers look at the synthetic images, in two roles that must not be confused.

- The measuring oracle learns all classes from the FULL real training split. It has seen the
  minority images that the imbalanced scenario pretends are gone, so it only measures (label
  agreement, confidence, rejection rate); nothing it says changes a training set.
- The filter learns only from the imbalanced training set, which is what a practitioner has.
  When `label.filter` is on, it drops synthetic images it does not call minority with enough
  confidence, before they join a training set.
"""
from __future__ import annotations

import numpy as np

from synthlib import classifiers
from synthlib.registry import ORACLE_ARCH


def n_classes(y):
    """Outputs the oracle and the filter need: one per label up to the largest. Labels are
    not renumbered (data.classes [3, 5, 8] keeps 3, 5 and 8), so this is one past the largest
    label, not the number of classes; the unused outputs are never a target and stay unlikely.
    (The other studies' readers renumber instead: studies.common.encode.)"""
    return int(np.max(y)) + 1


def train_oracle(ds, split, cfg, seed, keep=None):
    """All-class oracle on the full real training split, for `label.oracle_steps`
    steps; validation is watched, never used to pick a checkpoint; the test split is not
    touched here. With `keep` (a .keras path) it is trained once and kept there
    (classifiers.fit_kept)."""
    steps = cfg.label.oracle_steps
    print(f"seed {seed} oracle: {ORACLE_ARCH} on the full real training split "
          f"({len(split.train)} images), {steps} steps", flush=True)
    return classifiers.fit_kept(keep, ORACLE_ARCH, ds.x[split.train], ds.y[split.train],
                                n_classes(ds.y), steps, cfg.evaluate.batch_size, seed,
                                chunks=cfg.evaluate.chunks,
                                validation=(ds.x[split.validation], ds.y[split.validation]),
                                log_label="  oracle step")


def train_filter(ds, split, cfg, seed, keep=None):
    """The filter: the oracle's network with its own budget (`label.filter_steps`), trained
    only on the imbalanced training set, with balanced class weights so that the few minority
    images count; kept as the oracle is."""
    y = ds.y[split.imbalanced]
    steps = cfg.label.filter_steps
    print(f"seed {seed} filter: {ORACLE_ARCH} on the imbalanced training set ({len(y)} "
          f"images), {steps} steps", flush=True)
    return classifiers.fit_kept(keep, ORACLE_ARCH, ds.x[split.imbalanced], y, n_classes(ds.y),
                                steps, cfg.evaluate.batch_size, seed,
                                chunks=cfg.evaluate.chunks,
                                validation=(ds.x[split.validation], ds.y[split.validation]),
                                class_weight=classifiers.balanced_class_weight(y),
                                log_label="  filter step")


def test_accuracy(model, ds, split):
    """Reported once, after training: the test split plays no part in how the model was made."""
    proba = classifiers.predict_proba(model, ds.x[split.test])
    return float(np.mean(proba.argmax(1) == ds.y[split.test]))


def measure(proba, target_class, threshold):
    """What a classifier says about synthetic images meant to be `target_class`."""
    predicted = proba.argmax(1)
    confidence = proba.max(1)
    n = max(len(proba), 1)
    return {
        "images": int(len(proba)),
        "label_agreement": float(np.sum(predicted == target_class) / n),
        "mean_confidence": float(np.mean(confidence)) if len(proba) else 0.0,
        "mean_target_probability": float(np.mean(proba[:, target_class])) if len(proba) else 0.0,
        "rejection_rate": float(np.sum((predicted != target_class) | (confidence < threshold))
                                / n),
    }


def filter_mask(proba, target_class, threshold, n_needed):
    """Accept images called `target_class` with probability >= threshold, first n_needed."""
    accepted = (proba.argmax(1) == target_class) & (proba[:, target_class] >= threshold)
    keep = np.flatnonzero(accepted)[:n_needed]
    mask = np.zeros(len(proba), dtype=bool)
    mask[keep] = True
    return mask
