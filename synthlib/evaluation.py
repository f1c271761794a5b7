"""Train each evaluation classifier on each training-set variant ("arm") and score it on the
real test split. Synthetic images only ever enter the training side of an arm."""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthlib import classifiers, metrics


def binary(y, minority_class):
    return (np.asarray(y) == minority_class).astype("int64")


def training_set(arm, ds, split, synthetic):
    """(images, labels) of one arm; labels are 1 for the minority class, 0 otherwise."""
    x = ds.x[split.imbalanced]
    y = binary(ds.y[split.imbalanced], split.minority_class)
    if arm == "imbalanced":
        return x, y
    if arm == "gan_balanced":
        return (np.concatenate([x, synthetic]),
                np.concatenate([y, np.ones(len(synthetic), dtype="int64")]))
    raise ValueError(f"evaluate.arms: unknown arm {arm!r}")


def validation_set(ds, split):
    return ds.x[split.validation], binary(ds.y[split.validation], split.minority_class)


def test_set(ds, split):
    """The real held-out test split, and nothing else."""
    return ds.x[split.test], binary(ds.y[split.test], split.minority_class)


def evaluate_seed(experiment, eval_cfg, ds, split, synthetic, seed):
    """Every classifier on every arm for one seed. Returns (tidy rows, confusion matrices,
    per-epoch histories)."""
    x_test, y_test = test_set(ds, split)
    validation = validation_set(ds, split)
    rows, confusions, histories = [], {}, []
    for arm in eval_cfg.arms:
        x, y = training_set(arm, ds, split, synthetic)
        for name in eval_cfg.classifiers:
            print(f"seed {seed}  {arm:<13} {name:<10} {len(y)} training images "
                  f"({int(y.sum())} minority)", flush=True)
            model, history = classifiers.fit(name, x, y, 2, eval_cfg.epochs,
                                             eval_cfg.batch_size, seed, validation=validation,
                                             label="  epoch")
            y_pred = classifiers.predict_proba(model, x_test).argmax(1)
            for metric, value in metrics.binary_scores(y_test, y_pred).items():
                rows.append({"experiment": experiment, "arm": arm, "classifier": name,
                             "seed": seed, "metric": metric, "value": float(value)})
            confusions[(arm, name, seed)] = metrics.confusion(y_test, y_pred)
            histories.append(history.assign(arm=arm, classifier=name, seed=seed))
    return rows, confusions, pd.concat(histories, ignore_index=True)


def summary(metrics_df, metric="minority_f1"):
    """Mean and std over seeds of one metric, one row per classifier and arm."""
    d = metrics_df[metrics_df.metric == metric]
    out = d.groupby(["classifier", "arm"])["value"].agg(["mean", "std", "count"]).reset_index()
    return out.rename(columns={"count": "seeds"})
