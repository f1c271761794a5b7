import numpy as np
import pandas as pd
import pytest

from synthlib import labeling, metrics, report


def test_binary_scores_on_known_inputs():
    # TP=2, FP=1, FN=1, TN=1 -> precision = recall = F1 = 2/3; balanced accuracy (2/3+1/2)/2
    s = metrics.binary_scores([1, 1, 0, 0, 1], [1, 0, 0, 1, 1])
    assert s["minority_f1"] == pytest.approx(2 / 3)
    assert s["minority_precision"] == pytest.approx(2 / 3)
    assert s["minority_recall"] == pytest.approx(2 / 3)
    assert s["balanced_accuracy"] == pytest.approx(7 / 12)
    assert s["accuracy"] == pytest.approx(3 / 5)
    assert metrics.confusion([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]).tolist() == [[1, 1], [1, 2]]


def test_no_minority_prediction_scores_zero_f1():
    s = metrics.binary_scores([1, 0, 0, 0], [0, 0, 0, 0])
    assert s["minority_f1"] == 0 and s["accuracy"] == 0.75 and s["balanced_accuracy"] == 0.5


def test_oracle_measures_and_filter_mask():
    proba = np.array([[0.1, 0.9], [0.6, 0.4], [0.45, 0.55], [0.0, 1.0]])
    m = labeling.measure(proba, target_class=1, threshold=0.7)
    assert m["label_agreement"] == 0.75
    assert m["rejection_rate"] == 0.5  # one called 0, one called 1 at only 0.55
    assert labeling.filter_mask(proba, 1, 0.7, n_needed=5).tolist() == [True, False, False, True]
    assert labeling.filter_mask(proba, 1, 0.5, n_needed=2).tolist() == [True, False, True, False]


def _metrics(values):
    return pd.DataFrame([{"experiment": "e", "arm": arm, "classifier": "seed_mlp", "seed": s,
                          "metric": "minority_f1", "value": v}
                         for arm, vs in values.items() for s, v in enumerate(vs)])


def test_verdict_says_when_the_gan_does_not_help():
    text = report.verdicts(_metrics({"imbalanced": [0.8, 0.82], "gan_balanced": [0.6, 0.7]}))
    assert len(text) == 1
    assert "does not beat" in text[0] and "-0.160" in text[0] and "beyond" in text[0]
    text = report.verdicts(_metrics({"imbalanced": [0.5, 0.7], "gan_balanced": [0.62, 0.66]}))
    assert " beats " in text[0] and "within the seed-to-seed spread" in text[0]
    text = report.verdicts(_metrics({"imbalanced": [0.5], "gan_balanced": [0.6]}))
    assert "single seed" in text[0]
