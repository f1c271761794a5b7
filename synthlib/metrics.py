"""Scores on the real test split, computed once over the whole split (never per batch)."""
from __future__ import annotations

import numpy as np
from sklearn import metrics as skm


def binary_scores(y_true, y_pred):
    """Minority (label 1) F1, precision and recall, balanced accuracy and accuracy."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return {
        "minority_f1": skm.f1_score(y_true, y_pred, pos_label=1, zero_division=0),
        "minority_precision": skm.precision_score(y_true, y_pred, pos_label=1, zero_division=0),
        "minority_recall": skm.recall_score(y_true, y_pred, pos_label=1, zero_division=0),
        "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred),
        "accuracy": skm.accuracy_score(y_true, y_pred),
    }


def confusion(y_true, y_pred, labels=(0, 1)):
    return skm.confusion_matrix(y_true, y_pred, labels=list(labels))
