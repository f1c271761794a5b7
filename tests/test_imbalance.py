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
    for part in ("train", "validation", "test", "imbalanced", "kept_minority"):
        assert np.array_equal(getattr(t, part), getattr(s, part)), part


def test_errors(digits):
    with pytest.raises(imbalance.ImbalanceError, match="minority_class = 11: not a class"):
        make(digits.y, minority=11)
    with pytest.raises(imbalance.ImbalanceError, match="keeps 0 of the"):
        make(digits.y, kept=0.001)


def test_plain_split_draws_per_class_from_the_training_split_alone(digits):
    """augment, tstr and bias: `per_class` images of each class, or all of a class that has
    fewer; drawn from the training split only, seeded, with nothing dropped from it."""
    y = digits.y[:600]
    whole = imbalance.make_plain_split(y, config.SplitConfig(), 0)
    assert np.array_equal(whole.imbalanced, whole.train) and whole.minority_class == -1
    assert len(whole.kept_minority) == 0
    s = imbalance.make_plain_split(y, config.SplitConfig(), 0, per_class=20)
    assert np.array_equal(s.train, whole.train) and np.array_equal(s.test, whole.test)
    assert set(s.imbalanced.tolist()) <= set(s.train.tolist())
    assert np.array_equal(np.bincount(y[s.imbalanced], minlength=10), np.full(10, 20))
    again = imbalance.make_plain_split(y, config.SplitConfig(), 0, per_class=20)
    other = imbalance.make_plain_split(y, config.SplitConfig(), 1, per_class=20)
    assert np.array_equal(s.imbalanced, again.imbalanced)
    assert not np.array_equal(s.imbalanced, other.imbalanced)
    # not the first 20 of each class: a seeded draw
    first = np.sort(np.concatenate([s.train[y[s.train] == c][:20] for c in range(10)]))
    assert not np.array_equal(s.imbalanced, first)
    # a class with fewer than per_class training images gives all it has
    few = np.flatnonzero(y[whole.train] == 3)
    big = imbalance.make_plain_split(y, config.SplitConfig(), 0, per_class=len(few) + 5)
    assert np.sum(y[big.imbalanced] == 3) == len(few)


def test_take_per_class_names_its_key_when_a_class_has_too_few(digits):
    pool = np.arange(100)
    got = imbalance.take_per_class(digits.y, pool, {1: 3, 7: 2}, 0, "bias.counts")
    assert sorted(digits.y[got].tolist()) == [1, 1, 1, 7, 7] and set(got) <= set(pool)
    have = int(np.sum(digits.y[pool] == 1))
    with pytest.raises(imbalance.ImbalanceError,
                       match=f"bias.counts = {have + 1}: class 1 has only {have}"):
        imbalance.take_per_class(digits.y, pool, {1: have + 1}, 0, "bias.counts")


@pytest.mark.parametrize("fractions", [(0.1, 0.2), (0.25, 0.05)])
def test_each_part_has_its_fraction_of_every_class(digits, fractions):
    """Stratified to the image: each class splits in the parts' proportions, within one image."""
    validation, test = fractions
    cfg = config.SplitConfig(validation_fraction=validation, test_fraction=test)
    for split in (imbalance.make_split(digits.y, cfg, config.ImbalanceConfig(minority_class=5),
                                       0),
                  imbalance.make_plain_split(digits.y, cfg, 0)):
        for part, share in (("train", 1 - validation - test), ("validation", validation),
                            ("test", test)):
            for c in range(10):
                n = np.sum(digits.y == c)
                assert abs(np.sum(digits.y[getattr(split, part)] == c) - share * n) <= 1, (
                    part, c)


def test_the_kept_count_rounds_to_the_nearest_image(digits):
    n = np.sum(digits.y[make(digits.y).train] == 5)
    for kept in (2.6, 2.4):  # images: the fraction asks for 2.6, then 2.4
        assert len(make(digits.y, kept=kept / n).kept_minority) == round(kept)


def test_another_seed_keeps_other_minority_images_and_holds_out_others(digits):
    """The kept images are drawn at random with the split's seed, not the first in order."""
    a, b = make(digits.y, seed=3), make(digits.y, seed=4)
    assert not np.array_equal(a.validation, b.validation)
    assert not np.array_equal(a.kept_minority, b.kept_minority)
    for s in (a, b):
        first = s.train[digits.y[s.train] == 5][:len(s.kept_minority)]
        assert not np.array_equal(s.kept_minority, first)


def test_counts_name_each_part_s_minority_and_majority():
    y = np.repeat(np.arange(4), 20)
    s = imbalance.make_split(y, config.SplitConfig(), config.ImbalanceConfig(
        minority_class=2, kept_fraction=0.25), 0)
    rows = {r["part"]: r for r in s.counts(y)}
    assert list(rows) == ["train", "imbalanced", "validation", "test"]
    # 20 of each class: 14, 2 and 4 of the minority in train, validation and test; the
    # scenario keeps a quarter of the 14 (3.5, to the even 4) and every majority image
    assert [rows[p]["minority"] for p in rows] == [14, 4, 2, 4]
    assert rows["imbalanced"]["majority"] == rows["train"]["majority"] > 0
    assert all(r["images"] == r["minority"] + r["majority"] for r in rows.values())


def test_a_split_too_small_for_every_class_says_why_in_the_project_s_words():
    y = np.array([0] * 10 + [1] * 2 + [2] * 10)
    with pytest.raises(imbalance.ImbalanceError) as e:
        imbalance.stratified_split(y, config.SplitConfig(), 0)
    assert str(e.value) == (
        "split: 22 images of 3 classes (the fewest: 2 of class 1) are too few for every class "
        "to have images in validation (10%) and test (20%): more images per class, or larger "
        "split.validation_fraction and split.test_fraction")


def test_the_kept_minority_images_follow_the_seed_on_the_same_split(monkeypatch, digits):
    """The split alone differing by seed would hide a draw of the kept images that does not."""
    fixed = imbalance.stratified_split(digits.y, config.SplitConfig(), 0)
    monkeypatch.setattr(imbalance, "stratified_split", lambda *a: fixed)
    cfg = config.ImbalanceConfig(minority_class=5, kept_fraction=0.2)
    a, b = (imbalance.make_split(digits.y, config.SplitConfig(), cfg, s) for s in (0, 1))
    assert np.array_equal(a.train, b.train)
    assert not np.array_equal(a.kept_minority, b.kept_minority)
