"""Scores on the real test split, computed once over the whole split (never per batch)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from imblearn.metrics import geometric_mean_score
from scipy import stats
from sklearn import metrics as skm


def binary_scores(y_true, y_pred, minority_proba=None):
    """Minority (label 1) F1, precision and recall; per-class recall; balanced accuracy,
    G-mean and accuracy; PR-AUC when the minority probabilities are given."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    out = {
        "minority_f1": skm.f1_score(y_true, y_pred, pos_label=1, zero_division=0),
        "minority_precision": skm.precision_score(y_true, y_pred, pos_label=1, zero_division=0),
        "minority_recall": skm.recall_score(y_true, y_pred, pos_label=1, zero_division=0),
        "majority_recall": skm.recall_score(y_true, y_pred, pos_label=0, zero_division=0),
        "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred),
        "g_mean": geometric_mean_score(y_true, y_pred, average="binary"),
        "accuracy": skm.accuracy_score(y_true, y_pred),
    }
    if minority_proba is not None:
        out["pr_auc"] = skm.average_precision_score(y_true, minority_proba)
    return {k: float(v) for k, v in out.items()}


def multiclass_scores(y_true, y_pred, classes):
    """Accuracy, balanced accuracy, macro F1 and per-class recall (`recall_<class>`);
    labels are indices into `classes`."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    recall = skm.recall_score(y_true, y_pred, labels=list(range(len(classes))), average=None,
                              zero_division=0)
    out = {"accuracy": skm.accuracy_score(y_true, y_pred),
           "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred),
           "macro_f1": skm.f1_score(y_true, y_pred, average="macro", zero_division=0)}
    out.update({f"recall_{c}": r for c, r in zip(classes, recall)})
    return {k: float(v) for k, v in out.items()}


def rows(experiment, arm, classifier, seed, scores):
    """Tidy rows of metrics.csv: one per metric."""
    return [{"experiment": experiment, "arm": arm, "classifier": classifier, "seed": seed,
             "metric": m, "value": v} for m, v in scores.items()]


def confusion(y_true, y_pred, labels=(0, 1)):
    return skm.confusion_matrix(y_true, y_pred, labels=list(labels))


def mean_ci(values, confidence=0.95):
    """Mean, sample std and the half-width of a t confidence interval for the mean."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return float(v.mean()), float("nan"), float("nan")
    sd = v.std(ddof=1)
    half = stats.t.ppf(0.5 + confidence / 2, len(v) - 1) * sd / np.sqrt(len(v))
    return float(v.mean()), float(sd), float(half)


def summary(metrics_df, metric="minority_f1"):
    """Mean, std and 95% interval over seeds of one metric, per classifier and arm."""
    d = metrics_df[metrics_df.metric == metric]
    rows = []
    for (clf, arm), g in d.groupby(["classifier", "arm"], sort=False):
        mean, sd, half = mean_ci(g["value"])
        rows.append({"classifier": clf, "arm": arm, "mean": mean, "std": sd,
                     "ci95": half, "seeds": len(g)})
    return pd.DataFrame(rows)
