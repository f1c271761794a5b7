import numpy as np
import pytest

from synthlib import config, imbalance


def make(y, seed=0, kept=0.2, minority=5):
    return imbalance.make_split(y, config.SplitConfig(),
                                config.ImbalanceConfig(minority_class=minority,
                                                       kept_fraction=kept), seed)


def test_parts_are_disjoint_and_cover_the_data(digits):
    s = make(digits.y)
    parts = [set(s.train.tolist()), set(s.validation.tolist()), set(s.test.tolist())]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert set().union(*parts) == set(range(len(digits.y)))


def test_test_indices_never_in_training_data(digits):
    s = make(digits.y)
    test = set(s.test.tolist())
    assert not test & set(s.imbalanced.tolist())
    assert not test & set(s.kept_minority.tolist())
    assert not set(s.validation.tolist()) & set(s.imbalanced.tolist())


def test_kept_fraction_and_majority_untouched(digits):
    s = make(digits.y, kept=0.2)
    minority_train = np.sum(digits.y[s.train] == 5)
    assert len(s.kept_minority) == round(0.2 * minority_train)
    assert np.all(digits.y[s.kept_minority] == 5)
    assert set(s.kept_minority.tolist()) <= set(s.train.tolist())
    majority_train = s.train[digits.y[s.train] != 5]
    assert set(majority_train.tolist()) <= set(s.imbalanced.tolist())
    assert np.sum(digits.y[s.imbalanced] == 5) == len(s.kept_minority)
    # the split is stratified: each part holds about the data's share of 5s
    share = np.mean(digits.y == 5)
    assert abs(np.mean(digits.y[s.test] == 5) - share) < 0.02


def test_deterministic_per_seed(digits):
    a, b, c = make(digits.y, seed=3), make(digits.y, seed=3), make(digits.y, seed=4)
    for part in ("train", "validation", "test", "imbalanced", "kept_minority"):
        assert np.array_equal(getattr(a, part), getattr(b, part))
    assert not np.array_equal(a.test, c.test)


def test_save_and_load(tmp_path, digits):
    s = make(digits.y)
    s.save(tmp_path / "split.npz")
    t = imbalance.Split.load(tmp_path / "split.npz")
    assert t.seed == 0 and t.minority_class == 5
    assert np.array_equal(t.kept_minority, s.kept_minority)


def test_errors(digits):
    with pytest.raises(imbalance.ImbalanceError, match="minority_class = 11: not a class"):
        make(digits.y, minority=11)
    with pytest.raises(imbalance.ImbalanceError, match="keeps 0 of the"):
        make(digits.y, kept=0.001)
