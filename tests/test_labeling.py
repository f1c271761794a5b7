"""labeling.py: what the measuring oracle and the filter learn from, and what their
measures count."""
import numpy as np
import pytest

from synthlib import classifiers, labeling
from synthlib.config import Config


@pytest.fixture
def trained(monkeypatch, digits, digits_split):
    """The arguments each of the two trainings was given, by role."""
    seen = {}

    def spy(path, name, x, y, n_classes, steps, batch_size, seed, **kw):
        seen[kw["log_label"].split()[0]] = dict(x=x, y=y, n_classes=n_classes, steps=steps,
                                            batch_size=batch_size, seed=seed, **kw)
    monkeypatch.setattr(classifiers, "fit_kept", spy)
    cfg = Config(experiment="e").validate()
    cfg.label.oracle_steps, cfg.label.filter_steps = 30, 40
    cfg.evaluate.batch_size, cfg.evaluate.chunks = 24, 6
    labeling.train_oracle(digits, digits_split, cfg, 3)
    labeling.train_filter(digits, digits_split, cfg, 3)
    return seen


def test_the_oracle_learns_every_class_of_the_training_split(trained, digits, digits_split):
    oracle = trained["oracle"]
    assert np.array_equal(oracle["y"], digits.y[digits_split.train])
    assert oracle["n_classes"] == 10 and set(oracle["y"]) == set(range(10))
    assert (oracle["steps"], oracle["batch_size"], oracle["chunks"], oracle["seed"]) == \
        (30, 24, 6, 3)
    assert oracle.get("class_weight") is None


def test_the_filter_learns_the_imbalanced_set_with_balanced_class_weights(trained, digits,
                                                                          digits_split):
    filt = trained["filter"]
    y = digits.y[digits_split.imbalanced]
    assert np.array_equal(filt["y"], y) and filt["n_classes"] == 10
    assert (filt["steps"], filt["batch_size"], filt["chunks"]) == (40, 24, 6)
    assert filt["class_weight"] == classifiers.balanced_class_weight(y)
    assert filt["class_weight"][digits_split.minority_class] > 1 > filt["class_weight"][0]


def test_each_reader_s_log_line_names_its_seed(monkeypatch, digits, digits_split, capsys):
    """04 trains (or reuses) an oracle per seed: lines alike but for the seed would read as one
    model reported twice."""
    monkeypatch.setattr(classifiers, "fit_kept", lambda *a, **k: None)
    cfg = Config(experiment="e").validate()
    cfg.label.filter = True
    for seed in (0, 1):
        labeling.train_oracle(digits, digits_split, cfg, seed)
        labeling.train_filter(digits, digits_split, cfg, seed)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "seed 0 oracle", "seed 0 filter", "seed 1 oracle", "seed 1 filter"]


def test_test_accuracy_reads_the_test_split(monkeypatch, digits, digits_split):
    truth = {x.tobytes(): y for x, y in zip(digits.x[digits_split.test],
                                            digits.y[digits_split.test])}

    def right_on_test_only(model, images):
        labels = [truth.get(x.tobytes(), 11) for x in images]
        return np.eye(12)[labels]
    monkeypatch.setattr(classifiers, "predict_proba", right_on_test_only)
    assert labeling.test_accuracy(None, digits, digits_split) == 1.0


def test_measures_count_what_they_name():
    proba = np.array([[0.2, 0.8], [0.7, 0.3], [0.3, 0.7]])
    m = labeling.measure(proba, target_class=1, threshold=0.7)
    assert m["images"] == 3
    assert m["label_agreement"] == pytest.approx(2 / 3)
    assert m["mean_confidence"] == pytest.approx((0.8 + 0.7 + 0.7) / 3)
    assert m["mean_target_probability"] == pytest.approx((0.8 + 0.3 + 0.7) / 3)
    assert m["rejection_rate"] == pytest.approx(1 / 3)  # confidence at the threshold passes
    assert labeling.measure(np.zeros((0, 2)), 1, 0.5) == {
        "images": 0, "label_agreement": 0.0, "mean_confidence": 0.0,
        "mean_target_probability": 0.0, "rejection_rate": 0.0}


def test_the_filter_accepts_at_its_threshold():
    proba = np.array([[0.3, 0.7], [0.2, 0.8]])
    assert labeling.filter_mask(proba, 1, 0.7, n_needed=5).tolist() == [True, True]
