"""quality.py beyond its formulas (test_metrics.py): what each measure is read against."""
import numpy as np
import pytest

from conftest import rows_of
from synthlib import classifiers, quality
from synthlib.config import QualityConfig


def flat_features(monkeypatch):
    """Features = the pixels, so that a test knows what every measure reads."""
    monkeypatch.setattr(quality, "feature_model", lambda oracle: "features")
    monkeypatch.setattr(quality, "features", lambda model, x: np.asarray(
        x, "float64").reshape(len(x), -1))


def four_sets():
    """Synthetic, held-out real, pool and training images, each in its own band of grey."""
    rng = np.random.default_rng(0)
    images = lambda lo, hi, n: rng.integers(lo, hi, (n, 4, 4, 1), dtype=np.uint8)  # noqa: E731
    return images(0, 60, 100), images(60, 120, 50), images(120, 180, 80), images(180, 255, 20)


def one_pixel_images():
    """Sixteen 4x4 images, each black but for one white pixel of its own."""
    x = np.zeros((16, 4, 4, 1), "uint8")
    x.reshape(16, 16)[np.arange(16), np.arange(16)] = 255
    return x


def test_memorisation_counts_near_copies_of_the_training_images(monkeypatch):
    flat_features(monkeypatch)
    training = one_pixel_images()
    far = np.clip(training[6:10].astype(int) + 40, 0, 255).astype("uint8")  # 0.61 away
    images = np.concatenate([training[:6], far])
    proba = np.eye(2)[[0, 1] * 5]
    monkeypatch.setattr(classifiers, "predict_proba", lambda model, x: proba)
    pool = np.random.default_rng(0).normal(size=(30, 16))
    m = quality.measure_set(images, pool, training, None, None, target_class=1, threshold=0.5,
                            near_duplicate=0.5, median_real_distance=1.0)
    assert m["near_duplicate_share"] == pytest.approx(0.6)  # the six copies, not the far four
    assert m["nn_distance_median"] == 0.0
    assert m["classifier_score"] == pytest.approx(2.0)  # two classes, each called surely
    assert m["label_agreement"] == 0.5


def test_compare_reads_the_real_distance_to_the_training_images_from_held_out_real(
        monkeypatch):
    flat_features(monkeypatch)
    synthetic, heldout, pool, training = four_sets()
    calls, featured = [], []
    monkeypatch.setattr(quality, "measure_set", lambda x, *a: calls.append((x, a[-1])) or {
        "images": len(x), "frechet_distance": 1.0})
    real_features = quality.features
    monkeypatch.setattr(quality, "features", lambda model, x: featured.append(x) or
                        real_features(model, x))
    synth_q, _ = quality.compare(synthetic, heldout, pool, training, None, 5, 0.5,
                                 QualityConfig(samples=30, draws=3), seed=0)
    reference = calls[-1][0]
    expected = np.median(quality.nearest_distances(reference, training))
    assert all(median == pytest.approx(expected) for _, median in calls)
    # a copy of the training images is measured at the same n as each draw
    copies = [x for x in featured if rows_of(x) <= rows_of(training)]
    assert [len(x) for x in copies] == [30, 30, 30]
    assert synth_q["training_images_frechet"] > 0


def test_a_generator_before_and_after_a_filter_is_read_against_one_real_reference(
        monkeypatch):
    """The same seed and held-out set, synthetic sets of other sizes (a filter keeps part of
    the generator's output): the real reference is the same images, so that the two readings
    differ only by the synthetic side."""
    flat_features(monkeypatch)
    synthetic, heldout, pool, training = four_sets()
    calls = []
    monkeypatch.setattr(quality, "measure_set", lambda x, *a: calls.append(x) or {
        "images": len(x), "frechet_distance": 1.0})
    references = []
    for kept in (synthetic, synthetic[:60]):
        quality.compare(kept, heldout, pool, training, None, 5, 0.5,
                        QualityConfig(samples=30, draws=3), seed=0)
        references.append(calls[-1])
    assert len(references[0]) == 30 and np.array_equal(references[0], references[1])
    assert rows_of(references[0]) <= rows_of(heldout)


def test_compare_sets_reads_agreement_on_each_draw_s_own_labels(monkeypatch):
    flat_features(monkeypatch)
    rng = np.random.default_rng(0)
    synthetic = rng.integers(0, 255, (90, 2, 2, 1), dtype=np.uint8)
    labels = rng.integers(0, 3, 90)
    truth = {x.tobytes(): y for x, y in zip(synthetic, labels)}
    monkeypatch.setattr(classifiers, "predict_proba", lambda model, x: np.eye(3)[
        [truth.get(i.tobytes(), 0) for i in x]])
    synth_q, _ = quality.compare_sets(None, synthetic, synthetic[:40], synthetic, samples=25,
                                      seed=0, synthetic_labels=labels, draws=3)
    assert synth_q["label_agreement"] == 1.0 and synth_q["n"] == 25
    assert isinstance(synth_q["n"], int)  # a count, not averaged into a float


def test_too_few_images_to_compare_is_an_error(monkeypatch):
    flat_features(monkeypatch)
    x = np.zeros((2, 2, 2, 1), "uint8")
    with pytest.raises(ValueError, match="only 2 images to compare"):
        quality.compare(x, np.zeros((9, 2, 2, 1), "uint8"), x, x, None, 1, 0.5,
                        QualityConfig(samples=10), 0)
    with pytest.raises(ValueError, match="only 2 images to compare"):
        quality.compare_sets(None, x, np.zeros((9, 2, 2, 1), "uint8"), x, 10, 0)


def test_kid_is_unbiased():
    """Two samples of one distribution: KID averages to zero, even at ten images a side."""
    rng = np.random.default_rng(0)
    kids = [quality.kernel_inception_distance(rng.normal(size=(10, 4)),
                                              rng.normal(size=(10, 4))) for _ in range(200)]
    assert abs(np.mean(kids)) < 0.3  # its standard error here is 0.05; biased, it is ~2


def test_features_are_the_oracle_s_penultimate_layer():
    oracle = classifiers.build("small_cnn", (28, 28, 1), 10)
    model = quality.feature_model(oracle)
    assert model.output.shape == oracle.get_layer("features").output.shape
    assert model.output.shape[-1] != 10


def test_compare_reads_both_sides_at_one_n_the_reference_from_held_out_real(monkeypatch):
    """The synthetic side: disjoint draws of n images from the synthetic set; the reference:
    n images of the held-out real set (never of the pool the features are compared with, nor
    of the generator's training images)."""
    flat_features(monkeypatch)
    synthetic, heldout, pool, training = four_sets()
    seen, pooled = [], []
    monkeypatch.setattr(quality, "measure_set", lambda x, pool_features, *a: (
        seen.append(x) or pooled.append(pool_features) or {"images": len(x)}))
    synth_q, real_q = quality.compare(synthetic, heldout, pool, training, None, 5, 0.5,
                                      QualityConfig(samples=30, draws=3), seed=0)
    *draws, reference = seen
    assert [len(d) for d in draws] == [30, 30, 30] and len(reference) == 30
    assert set.union(*map(rows_of, draws)) <= rows_of(synthetic)
    assert len(set.union(*map(rows_of, draws))) == 90  # disjoint
    assert rows_of(reference) <= rows_of(heldout)
    assert len(rows_of(reference)) == 30  # no image twice: repeats would narrow the reference
    assert all(np.array_equal(p, pool.reshape(80, -1)) for p in pooled)
    assert synth_q["images"] == real_q["images"] == 30
    # fewer held-out images than quality.samples: both sides at their number, as one n
    seen.clear()
    synth_q, real_q = quality.compare(synthetic, heldout[:20], pool, training, None, 5, 0.5,
                                      QualityConfig(samples=30, draws=3), seed=0)
    assert synth_q["images"] == real_q["images"] == 20 and len(rows_of(seen[-1])) == 20


def test_compare_sets_reads_the_reference_from_held_out_real(monkeypatch):
    """The same for sets of several classes (augment and bias studies): n synthetic images per
    draw, the reference n held-out real ones, each against the same pool."""
    rng = np.random.default_rng(0)
    synthetic = rng.integers(0, 100, (90, 2, 2, 1), dtype=np.uint8)
    heldout = rng.integers(100, 200, (40, 2, 2, 1), dtype=np.uint8)
    pool = rng.integers(200, 255, (60, 2, 2, 1), dtype=np.uint8)
    measured = []
    flat_features(monkeypatch)
    monkeypatch.setattr(quality, "frechet_distance", lambda a, b: measured.append((a, b)) or 0.0)
    synth_q, real_q = quality.compare_sets(None, synthetic, heldout, pool, samples=25, seed=0,
                                           draws=3)
    *draws, (reference, _) = measured
    assert synth_q["n"] == real_q["n"] == 25 and len(draws) == 3
    assert all(len(a) == 25 and a.max() < 100 for a, _ in draws)
    assert len(reference) == 25 and reference.min() >= 100 and reference.max() < 200
    assert len(np.unique(reference, axis=0)) == 25  # no image twice
    assert all(np.array_equal(b, pool.reshape(60, -1)) for _, b in measured)


def test_frechet_distance_is_right_for_covariances_that_do_not_commute():
    """Sets whose covariances are scaled or shifted copies of each other pass with formulas
    that are wrong in general (sqrtm(A) sqrtm(B), or the diagonals alone): correlated ones
    turned another way, against the closed form with sqrtm(sqrt(A) B sqrt(A))."""
    from scipy import linalg

    rng = np.random.default_rng(0)
    a = rng.multivariate_normal([0, 0], [[1.0, 0.8], [0.8, 1.0]], size=4000)
    b = rng.multivariate_normal([1, 0], [[2.0, -0.5], [-0.5, 0.5]], size=4000)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(ca).real
    expected = (np.sum((a.mean(0) - b.mean(0)) ** 2)
                + np.trace(ca + cb - 2 * linalg.sqrtm(root @ cb @ root).real))
    assert quality.frechet_distance(a, b) == pytest.approx(expected, rel=1e-4)
