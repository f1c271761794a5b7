"""The evaluation rules as tests: what each model may see, and where synthetic images may go."""
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import DIGITS_PARAMS, evaluate_seed, rows_of, stand_in_generators
from synthlib import classifiers, evaluation, gan, labeling, quality
from synthlib.studies import rebalance
from synthlib.config import Config
from synthlib.runs import Run


def test_gan_sees_only_the_kept_minority_images(digits, digits_split):
    images = rebalance.gan_training_images(digits, digits_split)
    assert rows_of(images) == rows_of(digits.x[digits_split.kept_minority])
    assert not rows_of(images) & rows_of(digits.x[digits_split.test])
    dropped = np.setdiff1d(digits_split.train[digits.y[digits_split.train] == 5],
                           digits_split.kept_minority)
    assert len(dropped) > 0 and not rows_of(images) & rows_of(digits.x[dropped])


@pytest.mark.parametrize("intruder", ["test", "validation", "majority", "test, in train too",
                                      "in no part"])
def test_gan_guard_refuses_test_or_majority_images(digits, digits_split, intruder):
    """Kept-minority indices with one image the GAN may not see: a minority image of the test
    or validation split, or a training image of another class. Each guard holds alone: a
    test image that a broken split also lists in train, and an image outside the training
    split that no part lists, are each caught by one guard only."""
    import copy
    split = digits_split
    minority = {name: idx[digits.y[idx] == split.minority_class]
                for name, idx in (("test", split.test), ("validation", split.validation))}
    index = {**{name: idx[:1] for name, idx in minority.items()},
             "majority": split.train[digits.y[split.train] != split.minority_class][:1]}
    leaky = copy.deepcopy(split)
    if intruder == "test, in train too":
        index[intruder] = index["test"]
        leaky.train = np.concatenate([leaky.train, index["test"]])
    if intruder == "in no part":
        index[intruder] = index["test"]
        leaky.test = np.setdiff1d(leaky.test, index["test"])
    leaky.kept_minority = np.concatenate([leaky.kept_minority, index[intruder]])
    with pytest.raises(AssertionError):
        rebalance.gan_training_images(digits, leaky)


@pytest.mark.parametrize("intruder", ["test", "validation"])
def test_conditional_gan_guard_refuses_test_or_validation_images(digits, digits_split,
                                                                 intruder):
    """The conditional GAN learns the whole imbalanced training set: a broken split whose
    imbalanced set lists one test or validation image is refused, not learnt from."""
    import copy
    leaky = copy.deepcopy(digits_split)
    leaky.imbalanced = np.concatenate([leaky.imbalanced, getattr(leaky, intruder)[:1]])
    images, labels = rebalance.generator_training_set(digits, digits_split, "cgan_all_classes")
    assert np.array_equal(images, digits.x[digits_split.imbalanced])  # the guard's own case
    with pytest.raises(AssertionError):
        rebalance.generator_training_set(digits, leaky, "cgan_all_classes")


def test_train_gans_passes_only_kept_minority(monkeypatch, tmp_path):
    run = Run(DIGITS_PARAMS, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    ds, splits = rebalance.prepare(run)
    seen = []

    def spy(images, cfg, seed, labels=None, **kw):
        seen.append((images, labels))
        raise RuntimeError("stop after capture")
    monkeypatch.setattr(gan, "train", spy)
    for arm in ("dcgan_minority", "dcgan_minority_diffaug", "cgan_all_classes"):
        run.cfg.evaluate.arms, run.cfg.evaluate.tstr = [arm], False
        with pytest.raises(RuntimeError, match="stop after capture"):
            rebalance.train(run)
    split = splits[0]
    for images, labels in seen[:2]:  # minority-only DCGANs: the kept minority, nothing else
        assert np.array_equal(images, ds.x[split.kept_minority]) and labels is None
    images, labels = seen[2]  # the conditional GAN: the imbalanced set, dropped 5s excluded
    assert np.array_equal(images, ds.x[split.imbalanced])
    assert np.array_equal(labels, ds.y[split.imbalanced])
    assert np.sum(labels == 5) == len(split.kept_minority)
    assert not rows_of(images) & rows_of(ds.x[split.test])


class FakeModel:
    """Stands in for a trained classifier: fixed probabilities, records what it saw."""

    def __init__(self, n_classes, favourite):
        self.n, self.favourite, self.seen = n_classes, favourite, []
        self.optimizer = types.SimpleNamespace(iterations=0)

    def __call__(self, x, training=False):
        self.seen.append(np.asarray(x))
        p = np.full((len(x), self.n), 0.01, "float32")
        p[:, self.favourite] = 1 - 0.01 * (self.n - 1)
        return p

    def save(self, path):
        open(path, "wb").close()


def test_oracle_learns_from_train_split_and_filter_from_imbalanced(monkeypatch, digits,
                                                                   digits_split):
    captured = {}

    def spy_fit(name, x, y, n_classes, steps, batch_size, seed, validation=None, **kw):
        captured[kw.get("log_label").strip()] = (x, validation[0])
        raise RuntimeError("captured")
    monkeypatch.setattr(classifiers, "fit", spy_fit)
    for train in (labeling.train_oracle, labeling.train_filter):
        with pytest.raises(RuntimeError):
            train(digits, digits_split, Config(experiment="e").validate(), 0)
    oracle_x, oracle_val = captured["oracle step"]
    filter_x, filter_val = captured["filter step"]
    test = rows_of(digits.x[digits_split.test])
    assert rows_of(oracle_x) == rows_of(digits.x[digits_split.train])
    assert not rows_of(oracle_x) & test and not rows_of(oracle_val) & test
    # the filter never sees the minority images the scenario dropped
    assert rows_of(filter_x) == rows_of(digits.x[digits_split.imbalanced])
    # both follow the real validation split while training, never the test split
    for val in (oracle_val, filter_val):
        assert np.array_equal(val, digits.x[digits_split.validation])


def minority_dcgan_run(tmp_path, filter_on):
    """A smoke run on the digits whose one generator is the minority DCGAN, prepared; and how
    many synthetic images it needs for balance."""
    run = Run(DIGITS_PARAMS, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.cfg.label.filter = filter_on
    run.cfg.evaluate.arms, run.cfg.evaluate.tstr = ["imbalanced", "dcgan_minority"], False
    ds, splits = rebalance.prepare(run)
    return run, rebalance.n_needed(ds, splits[0])


class BrightIsFive(FakeModel):
    """A classifier that calls a bright image a 5 and a dark one a 0."""

    def __call__(self, x, training=False):
        p = np.full((len(x), self.n), 0.01, "float32")
        p[np.arange(len(x)), np.where(np.asarray(x).mean(axis=(1, 2, 3)) > 0.5, 5, 0)] = 0.91
        return p


class DarkIsFive(BrightIsFive):
    """Its twin, which disagrees with it on every image."""

    def __call__(self, x, training=False):
        return super().__call__(1.0 - np.asarray(x))


HISTORY = pd.DataFrame({"epoch": [1], "val_accuracy": [0.5]})


def synthetic_for_04(monkeypatch, run, images, need, history=HISTORY):
    """The minority DCGAN's `images` as 03 saves them, and 04's classifiers made up: an
    oracle that calls every image a 5, a filter that calls the bright ones 5s."""
    np.savez(run.path("synthetic.npz", 0, "dcgan_minority"), images=images, n_needed=need)
    monkeypatch.setattr(labeling, "train_oracle", lambda *a: (FakeModel(10, 5), history))
    monkeypatch.setattr(labeling, "train_filter", lambda *a: (BrightIsFive(10, 5), history))


@pytest.mark.parametrize("filter_on", [False, True])
def test_oracle_never_decides_what_enters_the_training_set(monkeypatch, tmp_path, filter_on):
    """Two oracles that disagree on every image (one calls the bright images 5s, the other
    the dark ones) leave the same synthetic images accepted: the filter alone decides, or,
    with it off, nobody does."""
    run, need = minority_dcgan_run(tmp_path, filter_on)
    images = np.zeros((3 * need, 28, 28, 1), np.uint8)
    images[1::3] = 255  # a third of them bright
    synthetic_for_04(monkeypatch, run, images, need)
    monkeypatch.setattr(quality, "compare", lambda *a, **k: ({}, {}))
    masks, agreement = [], []
    for oracle in (BrightIsFive, DarkIsFive):
        monkeypatch.setattr(labeling, "train_oracle", lambda *a, o=oracle: (o(10, 5), HISTORY))
        out = rebalance.label(run)[(0, "dcgan_minority")]
        masks.append(out["accepted"])
        agreement.append(out["summary"]["oracle_on_synthetic"]["label_agreement"])
    assert agreement == pytest.approx([1 / 3, 2 / 3])  # they do disagree
    assert np.array_equal(masks[0], masks[1]) and masks[0].sum() == need
    if filter_on:  # the filter's choice: the bright images, every one the dark oracle rejects
        assert (images[masks[0]] == 255).all()
    else:  # nobody's choice: the first images drawn, bright and dark alike
        assert np.array_equal(np.flatnonzero(masks[0]), np.arange(need))
    assert ("filter" in out["summary"]["training_set_changed_by"]) == filter_on
    if filter_on:
        # a filter sure of its bright 5s at 0.91 accepts none at its own threshold 0.95,
        # whatever the oracle's threshold, and measures itself at its own threshold too
        run.cfg.label.filter_threshold, run.cfg.label.threshold = 0.95, 0.5
        out = rebalance.label(run)[(0, "dcgan_minority")]
        assert out["accepted"].sum() == 0
        assert out["summary"]["filter_on_synthetic"]["rejection_rate"] == 1.0
        assert out["summary"]["oracle_on_synthetic"]["rejection_rate"] < 1.0
        # a filter that calls nothing a 5 accepts nothing
        run.cfg.label.filter_threshold = 0.5
        monkeypatch.setattr(labeling, "train_filter", lambda *a: (FakeModel(10, 0), HISTORY))
        assert rebalance.label(run)[(0, "dcgan_minority")]["accepted"].sum() == 0


@pytest.mark.parametrize("filter_on", [False, True])
def test_quality_is_that_of_the_images_the_arm_trains_on(monkeypatch, tmp_path, filter_on):
    """The write-up's generator quality measures the synthetic images that join the training
    set: with the filter on, those it accepted, and the generator's whole output beside them
    (the same real reference); with it off, the images generated."""
    run, need = minority_dcgan_run(tmp_path, filter_on)
    images = np.zeros((2 * need, 28, 28, 1), np.uint8)
    images[::2] = 255  # every other image bright: the ones the filter accepts
    synthetic_for_04(monkeypatch, run, images, need)
    measured = []
    monkeypatch.setattr(quality, "compare", lambda x, *a, **k: (
        measured.append(np.asarray(x)) or ({"frechet_distance": float(x.mean())},
                                           {"frechet_distance": 1.0})))
    out = rebalance.label(run)[(0, "dcgan_minority")]
    used = images[out["accepted"]]
    assert len(used) == need and np.array_equal(measured[0], used)
    assert out["summary"]["quality_synthetic"]["frechet_distance"] == float(used.mean())
    if filter_on:
        assert (used == 255).all() and np.array_equal(measured[1], images)
        assert out["summary"]["quality_measured_on"] == "accepted by the filter"
        assert out["summary"]["quality_as_generated"]["frechet_distance"] == images.mean()
    else:
        assert len(measured) == 1 and out["summary"]["quality_as_generated"] is None


def test_before_and_after_the_filter_share_one_real_reference(monkeypatch, tmp_path):
    """With the filter on, the images it accepted and the generator's whole output are
    measured at the same n, the smaller set's, so that both ratios rest on one real draw."""
    run, need = minority_dcgan_run(tmp_path, True)
    images = np.zeros((2 * need, 28, 28, 1), np.uint8)
    images[:5] = 255  # five bright images: all the filter accepts
    synthetic_for_04(monkeypatch, run, images, need)
    sizes = []
    monkeypatch.setattr(quality, "compare", lambda x, real_heldout, *a: sizes.append(
        min(a[5].samples, len(real_heldout), len(x))) or ({}, {}))
    out = rebalance.label(run)[(0, "dcgan_minority")]
    assert out["accepted"].sum() == 5 and sizes == [5, 5]


def test_herding_chooses_with_the_kept_minority_and_the_gans_own_discriminator(monkeypatch,
                                                                              tmp_path):
    """generate.select_from: an unconditional GAN's images are chosen with its own
    discriminator and the kept minority images, nothing else (no oracle, no dropped 5s); the
    generator's own draw is kept beside them, and measured beside them in 04."""
    from synthlib import selection

    run = Run(DIGITS_PARAMS, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.cfg.generate.select_from = 3
    run.cfg.evaluate.arms = ["imbalanced", "dcgan_minority", "cgan_all_classes"]
    run.cfg.evaluate.tstr, run.cfg.seeds = False, [0]
    ds, splits = rebalance.prepare(run)
    split, need = splits[0], rebalance.n_needed(ds, splits[0])
    loaded, drawn, chose = [], {}, []
    monkeypatch.setattr(gan, "load_generator", lambda path: loaded.append(path) or path)
    stand_in_generators(monkeypatch, run)

    def sample(generator, n, seed, label=None, **kw):
        x = np.random.default_rng(len(drawn)).integers(0, 255, (n, 28, 28, 1), dtype=np.uint8)
        drawn[str(generator)] = x
        return x
    monkeypatch.setattr(gan, "sample", sample)
    monkeypatch.setattr(selection, "select", lambda pool, kept, disc, n: chose.append(
        (pool, kept, disc)) or pool[::3][:n])

    def trains_a_classifier(*a, **k):
        raise AssertionError("herding trains no classifier: it has the GAN's discriminator")
    monkeypatch.setattr(labeling, "train_oracle", trains_a_classifier)
    monkeypatch.setattr(labeling, "train_filter", trains_a_classifier)
    rebalance.generate(run)
    (pool, kept, disc), = chose  # the conditional GAN's images are not herded
    assert str(disc).endswith("dcgan_minority/discriminator.keras")
    assert np.array_equal(kept, ds.x[split.kept_minority])
    # every model 03 reads is one a GAN saved: no oracle, no filter
    assert len(pool) == 3 * need and loaded and all(
        Path(p).name in ("generator.keras", "discriminator.keras") for p in loaded)
    with np.load(run.path("synthetic.npz", 0, "dcgan_minority")) as f:
        assert np.array_equal(f["images"], pool[::3][:need])
        assert np.array_equal(f["generated"], pool[:need])
    with np.load(run.path("synthetic.npz", 0, "cgan_all_classes")) as f:
        assert "generated" not in f.files and len(f["images"]) == need

    measured = []
    monkeypatch.setattr(quality, "compare", lambda x, *a, **k: (
        measured.append(np.asarray(x)) or ({"frechet_distance": float(x.mean())},
                                           {"frechet_distance": 1.0})))
    monkeypatch.setattr(labeling, "train_oracle", lambda *a: (FakeModel(10, 5), HISTORY))
    out = rebalance.label(run)[(0, "dcgan_minority")]["summary"]
    assert np.array_equal(measured[0], pool[::3][:need])
    assert np.array_equal(measured[1], pool[:need])
    assert out["quality_measured_on"] == "chosen by herding"
    assert "herding" in out["training_set_changed_by"]
    assert out["quality_as_generated"]["frechet_distance"] == float(pool[:need].mean())


def test_synthetic_images_only_enter_training_data(monkeypatch, digits, digits_split):
    """Every arm: validation and test stay real; no training set holds a test image; the
    synthetic images go only into the GAN arms; everything scored is the real test split."""
    from synthlib.config import Config
    from synthlib.registry import ARMS, GENERATORS

    synthetic = {name: np.full((40, 28, 28, 1), 7 + i, np.uint8)
                 for i, name in enumerate(GENERATORS)}
    all_synth = set().union(*(rows_of(x) for x in synthetic.values()))
    test = rows_of(digits.x[digits_split.test])
    seen_fit, seen_predict, seen_callback = [], [], []

    def spy_fit(name, x, y, n_classes, steps, batch_size, seed, validation=None, **kw):
        seen_fit.append((x, y, validation[0]))
        model = FakeModel(2, 0)
        for callback in kw.get("callbacks", ()):  # the upper bound's half-budget scores
            seen_callback.append(callback.x)
            callback.proba = model(callback.x)
        return model, pd.DataFrame({"step": [steps]})
    real_predict = classifiers.predict_proba

    def spy_predict(model, images, batch_size=1000):
        seen_predict.append(np.asarray(images))
        return real_predict(model, images, batch_size)
    monkeypatch.setattr(classifiers, "fit", spy_fit)
    monkeypatch.setattr(classifiers, "predict_proba", spy_predict)
    cfg = Config(experiment="e").validate()
    cfg.evaluate.arms, cfg.evaluate.classifiers = list(ARMS), ["seed_mlp"]
    rows, _, _ = evaluate_seed("e", cfg, digits, digits_split, synthetic, 0)
    assert list(dict.fromkeys(r["arm"] for r in rows)) == list(ARMS) + ["upper_bound:half_budget"]
    validation = rows_of(digits.x[digits_split.validation])
    dropped = np.setdiff1d(digits_split.train[digits.y[digits_split.train] == 5],
                           digits_split.kept_minority)
    dropped = rows_of(digits.x[dropped]) - rows_of(digits.x[digits_split.imbalanced])
    assert dropped  # so that the check below can fail
    # (the digits repeat a few images across splits: those the training split holds too)
    validation_only = validation - rows_of(digits.x[digits_split.train])
    for arm, (x, y, val) in zip(ARMS, seen_fit):
        assert rows_of(val) == validation and not rows_of(val) & test, arm  # the real split
        assert not rows_of(x) & test, arm  # no test image in any training set
        assert not rows_of(x) & validation_only, arm  # nor any validation image
        if arm != "upper_bound":  # only the upper bound has the minority images dropped
            assert not rows_of(x) & dropped, arm
        if arm in GENERATORS:
            assert rows_of(synthetic[arm]) <= rows_of(x) and y[-40:].tolist() == [1] * 40
        else:
            assert not rows_of(x) & all_synth, arm
    # every arm trained and scored once, so that the loops above checked them all
    assert len(seen_fit) == len(seen_predict) == len(ARMS) and len(seen_callback) == 1
    for x in seen_predict:  # everything scored is the real test split, unchanged
        assert np.array_equal(x, digits.x[digits_split.test])
    assert np.array_equal(seen_callback[0], classifiers.to_float(digits.x[digits_split.test]))


def test_the_tstr_table_validates_and_scores_on_the_real_splits_alone(digits, digits_split):
    """The rebalance TSTR table: the conditional GAN's images of every class join the
    training side of TSTR and TRSTR only; TRTR is the scenario's own real set; every fit
    follows the real validation split and is scored on the real test split, unchanged."""
    cfg = Config(experiment="e").validate()
    synthetic_x = np.full((30, 28, 28, 1), 9, np.uint8)
    synthetic_y = np.arange(30) % 10
    fits = evaluation.tstr_fits(cfg, digits, digits_split, synthetic_x, synthetic_y, 0)
    assert [f.arm for f in fits] == ["TRTR", "TSTR", "TRSTR"]
    val = evaluation.validation_set(digits, digits_split)
    test = evaluation.test_set(digits, digits_split)
    for f in fits:
        (x_val, y_val), (x_test, y_test) = f.held_out
        assert np.array_equal(x_val, val[0]) and np.array_equal(y_val, val[1]), f.arm
        assert np.array_equal(x_test, test[0]) and np.array_equal(y_test, test[1]), f.arm
        assert not rows_of(f.train[0]) & rows_of(x_test), f.arm
    trtr, tstr, trstr = (f.train[0] for f in fits)
    assert np.array_equal(trtr, digits.x[digits_split.imbalanced])
    assert np.array_equal(tstr, synthetic_x)
    assert np.array_equal(trstr, np.concatenate([trtr, synthetic_x]))


def test_resampling_baselines_only_use_the_imbalanced_set(monkeypatch, digits, digits_split):
    from synthlib import baselines
    from synthlib.config import Config
    cfg = Config(experiment="e").validate()
    x_imb = rows_of(digits.x[digits_split.imbalanced])
    sources, augment = [], baselines.augment
    monkeypatch.setattr(baselines, "augment", lambda images, *a, **k: (
        sources.append(np.asarray(images)) or augment(images, *a, **k)))
    for arm in ("random_oversampling", "augmentation"):
        x, y, _ = evaluation.training_set(arm, digits, digits_split, {}, cfg, 0)
        assert np.sum(y == 1) == np.sum(y == 0)  # balanced
        if arm == "random_oversampling":
            assert rows_of(x) == x_imb  # only repeats of what the scenario has
    # augmented copies of the kept minority images, and of nothing else (an augmented image
    # cannot be told from its source by comparing bytes, so the source is checked)
    (source,) = sources
    kept = digits.x[digits_split.kept_minority]
    assert len(source) == len(kept) and rows_of(source) == rows_of(kept)
    # SMOTE interpolates between the images it is given: those of the imbalanced set alone,
    # which its output starts with, unchanged
    smote, fed = baselines.smote, []
    monkeypatch.setattr(baselines, "smote", lambda x, y, seed: (
        fed.append((np.asarray(x), np.asarray(y))) or smote(x, y, seed)))
    x, y, _ = evaluation.training_set("smote", digits, digits_split, {}, cfg, 0)
    assert np.sum(y == 1) == np.sum(y == 0)
    imbalanced = evaluation.training_set("imbalanced", digits, digits_split, {}, cfg, 0)
    ((fed_x, fed_y),) = fed
    assert np.array_equal(fed_x, imbalanced[0]) and np.array_equal(fed_y, imbalanced[1])
    assert np.array_equal(x[:len(fed_x)], fed_x)
    dropped = np.setdiff1d(digits_split.train[digits.y[digits_split.train] == 5],
                           digits_split.kept_minority)
    assert not rows_of(x) & rows_of(digits.x[dropped])


def test_augmentation_adds_no_cue_real_images_lack(digits):
    """Augmented digits keep a black background (brightness is a gain, not an offset), so a
    classifier cannot tell them from real ones by the background alone; and they are seeded."""
    from synthlib import baselines
    from synthlib.config import AugmentationConfig

    source = digits.x[digits.y == 5][:20]
    aug = AugmentationConfig(brightness=0.5)
    images = baselines.augment(source, 200, aug, seed=3)
    assert images.shape == (200,) + source.shape[1:] and images.dtype == np.uint8
    # the same rotations, zooms and shifts without brightness: what is black there stays black
    shapes = baselines.augment(source, 200, AugmentationConfig(brightness=0.0), seed=3)
    assert (shapes == 0).mean() > 0.4 and images[shapes == 0].max() <= 1  # (rounding)
    brightest = images.reshape(200, -1).max(1).astype(int)
    assert brightest.max() - brightest.min() > 40  # the gain does vary the strokes
    assert np.array_equal(images, baselines.augment(source, 200, aug, seed=3))


def test_generate_draws_what_balances_the_imbalanced_set(monkeypatch, tmp_path):
    """Each generator draws the minority images that bring the minority up to the rest of the
    imbalanced training set, times generate.oversample; the conditional GAN is asked for the
    minority class; its TSTR set holds every class at the median class count, drawn with
    other noise than its minority images."""
    run = Run(DIGITS_PARAMS, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.cfg.generate.oversample, run.cfg.generate.select_from = 1.5, 1
    run.cfg.evaluate.arms = ["imbalanced", "dcgan_minority", "cgan_all_classes"]
    run.cfg.evaluate.tstr, run.cfg.seeds = True, [0]
    ds, splits = rebalance.prepare(run)
    split = splits[0]
    y = ds.y[split.imbalanced]
    need = rebalance.n_needed(ds, split)
    assert np.sum(y == 5) + need == np.sum(y != 5) and need > 0  # balanced: 5s against the rest
    calls = []
    monkeypatch.setattr(gan, "load_generator", lambda path: path.parent.name)
    stand_in_generators(monkeypatch, run)

    def sample(generator, n, seed, label=None, **kw):
        calls.append((generator, n, seed, label))
        return np.zeros((n, 28, 28, 1), np.uint8)
    monkeypatch.setattr(gan, "sample", sample)
    rebalance.generate(run)
    (_, n_dc, seed_dc, label_dc), (_, n_c, seed_c, label_c), (_, n_t, seed_t, labels_t) = calls
    assert [c[0] for c in calls] == ["dcgan_minority", "cgan_all_classes", "cgan_all_classes"]
    assert n_dc == n_c == int(np.ceil(1.5 * need)) and label_dc is None and label_c == 5
    for name in ("dcgan_minority", "cgan_all_classes"):
        assert rebalance.load_synthetic(run, 0, name)[1] == need
    _, counts = np.unique(y, return_counts=True)
    assert np.array_equal(np.bincount(labels_t), np.full(10, int(np.median(counts))))
    assert n_t == len(labels_t) and seed_t != seed_c == seed_dc
    run.cfg.evaluate.tstr = False  # no TSTR table, no all-class set
    calls.clear()
    rebalance.generate(run)
    assert [c[3] for c in calls] == [None, 5]


def test_generator_quality_reads_held_out_real_images_never_the_test_split(monkeypatch,
                                                                           tmp_path):
    """04 measures each generator against the real minority images of the validation split
    (the real-vs-real reference), in features fitted on the training split's minority, and
    its memorisation against the kept minority images the GAN learnt from; no test image."""
    run, need = minority_dcgan_run(tmp_path, False)
    ds, split = run.data(), run.split(0)
    synthetic_for_04(monkeypatch, run, np.zeros((need, 28, 28, 1), np.uint8), need,
                     history=pd.DataFrame({"epoch": [1, 2], "val_accuracy": [0.3, 0.6]}))
    seen = []
    monkeypatch.setattr(quality, "compare", lambda x, *a, **k: seen.append(a) or ({}, {}))
    summary = rebalance.label(run)[(0, "dcgan_minority")]["summary"]
    assert summary["oracle_validation_accuracy"] == 0.6  # where its training ended
    (heldout, pool, kept, *_), = seen
    fives = ds.y == 5
    assert rows_of(heldout) == rows_of(ds.x[split.validation][fives[split.validation]])
    assert rows_of(pool) == rows_of(ds.x[split.train][fives[split.train]])
    assert rows_of(kept) == rows_of(ds.x[split.kept_minority])
    test = rows_of(ds.x[split.test])
    assert not (rows_of(heldout) | rows_of(pool) | rows_of(kept)) & test


def test_gan_arms_train_on_the_images_the_filter_accepted_alone(monkeypatch, tmp_path):
    """05 hands each GAN arm the synthetic images 04 accepted, never those it turned away."""
    run, need = minority_dcgan_run(tmp_path, True)
    images = np.zeros((2 * need, 28, 28, 1), np.uint8)
    images[1::2] = 255  # the filter accepts the bright half
    synthetic_for_04(monkeypatch, run, images, need)
    monkeypatch.setattr(quality, "compare", lambda *a, **k: ({}, {}))
    rebalance.label(run)
    handed = {}

    def seed_fits(cfg, ds, split, synthetic, seed, workdir):
        handed.update(synthetic)
        raise RuntimeError("captured")
    monkeypatch.setattr(evaluation, "seed_fits", seed_fits)
    with pytest.raises(RuntimeError, match="captured"):
        rebalance.evaluate(run)
    assert len(handed["dcgan_minority"]) == need and (handed["dcgan_minority"] == 255).all()


@pytest.mark.parametrize("filter_on", [False, True])
def test_04s_measures_reach_metrics_and_tables_under_their_own_names(monkeypatch, tmp_path,
                                                                     filter_on):
    """What 04 measured becomes metrics.csv's oracle rows, as the validity checks read them:
    the oracle's accuracy on the test split as `real_test`, each generator's quality (of the
    images its arm trains on) beside its real reference, and, where a filter chose, the
    generator's own output as `<generator>:generated`. 04's tables show the filter's
    measures only where a filter ran."""
    run, need = minority_dcgan_run(tmp_path, filter_on)
    ds, split = run.data(), run.split(0)
    images = np.zeros((2 * need, 28, 28, 1), np.uint8)
    images[::2] = 255
    synthetic_for_04(monkeypatch, run, images, need)
    monkeypatch.setattr(quality, "compare", lambda x, *a, **k: (
        {"frechet_distance": float(x.mean())}, {"frechet_distance": 1.0}))
    labels = rebalance.label(run)
    m = pd.DataFrame(rebalance.label_rows(run)).set_index(["arm", "metric"])["value"]
    fives = np.mean(ds.y[split.test] == 5)  # the oracle calls everything a 5
    assert m["real_test", "accuracy"] == pytest.approx(fives) and fives < 0.5
    assert m["dcgan_minority:real", "frechet_distance"] == 1.0
    used = 255.0 if filter_on else images[:need].mean()
    assert m["dcgan_minority", "frechet_distance"] == pytest.approx(used)
    assert (("dcgan_minority:generated", "frechet_distance") in m.index) == filter_on
    touched, measured, qual, accuracy = rebalance.label_tables(labels, filter_on)
    assert set(measured.measured) == {"oracle_on_synthetic", "oracle_on_real_minority"} | (
        {"filter_on_synthetic"} if filter_on else set())
    assert len(qual) == 2 + filter_on and touched.accepted.tolist() == [need]
    assert accuracy.oracle_test_accuracy.tolist() == pytest.approx([fives])


def test_each_seed_s_generator_draws_its_own_noise(monkeypatch, tmp_path):
    run = Run(DIGITS_PARAMS, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.cfg.evaluate.arms, run.cfg.evaluate.tstr = ["imbalanced", "dcgan_minority"], False
    run.cfg.seeds, run.cfg.generate.select_from = [0, 1], 1
    rebalance.prepare(run)
    seeds = []
    monkeypatch.setattr(gan, "load_generator", lambda path: path)
    stand_in_generators(monkeypatch, run)

    def sample(generator, n, seed, **kw):
        seeds.append(seed)
        return np.zeros((n, 28, 28, 1), np.uint8)
    monkeypatch.setattr(gan, "sample", sample)
    rebalance.generate(run)
    assert len(seeds) == 2 and len(set(seeds)) == 2
