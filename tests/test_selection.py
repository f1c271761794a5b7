"""Kernel herding: which generated images join a training set (synthlib/selection.py)."""
import keras
import numpy as np
import pytest

from synthlib import selection


def test_herding_tracks_the_target_mean():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(1000, 5))
    target = np.full(5, 0.5)  # off the pool's centre, inside its spread
    chosen = selection.herd(features, target, 50)
    assert len(set(chosen.tolist())) == 50
    herded = np.linalg.norm(features[chosen].mean(0) - target)
    drawn = np.linalg.norm(features[:50].mean(0) - target)
    assert herded < drawn / 10
    # every prefix tracks it too, not only the whole selection
    assert np.linalg.norm(features[chosen[:10]].mean(0) - target) < drawn
    with pytest.raises(ValueError, match="cannot herd"):
        selection.herd(features[:3], target, 4)


def test_herding_starts_from_the_row_most_aligned_with_the_target_and_can_take_every_row():
    """Step 0 weighs the target once (w_0 = target), so the first row taken is the one with
    the largest <f, target>, wherever it sits; and k may be every row of the pool."""
    features = np.array([[0.0, 1.0], [1.0, 0.0], [3.0, 0.0], [0.0, 2.0]])
    target = np.array([1.0, 0.0])
    assert selection.herd(features, target, 1).tolist() == [2]
    assert sorted(selection.herd(features, target, 4).tolist()) == [0, 1, 2, 3]


def tiny_discriminator():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Dense(6, activation="relu")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, keras.layers.Dense(1, name="realness")(x))


def test_select_takes_each_block_from_its_own_share_of_the_pool():
    keras.utils.set_random_seed(0)
    disc = tiny_discriminator()
    rng = np.random.default_rng(1)
    pool = rng.integers(0, 256, (450, 28, 28, 1), dtype=np.uint8)
    kept = rng.integers(0, 128, (20, 28, 28, 1), dtype=np.uint8)  # darker than the pool
    n = 150  # two blocks: 100 of the first 300 drawn, 50 of the next 150
    chosen = selection.select(pool, kept, disc, n)
    assert chosen.shape == (n,) + pool.shape[1:] and chosen.dtype == np.uint8
    rows = {img.tobytes(): i for i, img in enumerate(pool)}
    where = np.array([rows[img.tobytes()] for img in chosen])
    assert len(set(where.tolist())) == n
    assert (where[:100] < 300).all() and ((where[100:] >= 300) & (where[100:] < 450)).all()
    assert np.array_equal(chosen, selection.select(pool, kept, disc, n))  # reproducible
    # in the discriminator's features the chosen images sit nearer the kept ones' mean
    feats = selection.discriminator_features(disc)
    f = lambda x: np.asarray(feats(np.asarray(x, "float32") / 255.0))  # noqa: E731
    target = f(kept).mean(0)
    assert np.linalg.norm(f(chosen).mean(0) - target) < \
        np.linalg.norm(f(pool[:n]).mean(0) - target)
    with pytest.raises(ValueError, match="cannot give"):
        selection.select(pool[:10], kept, disc, 11)
    # a pool of exactly n gives every image of it once
    whole = selection.select(pool[:50], kept, disc, 50)
    assert sorted(img.tobytes() for img in whole) == sorted(img.tobytes() for img in pool[:50])


def test_select_weighs_each_feature_by_its_spread():
    """A feature a thousand times larger than another must not decide alone: the kept images
    differ from the pool in the small one, and herding still moves towards them in it."""
    inputs = keras.Input((28, 28, 1))
    features = keras.layers.Dense(2, use_bias=False)(keras.layers.Flatten()(inputs))
    disc = keras.Model(inputs, keras.layers.Dense(1, name="realness")(features))
    w = np.zeros((784, 2), "float32")
    columns = np.arange(784) % 28
    w[columns < 14, 0] = 1000.0 / 392  # the left half's mean, a thousand times over
    w[columns >= 14, 1] = 1.0 / 392  # the right half's mean
    disc.layers[2].set_weights([w])
    rng = np.random.default_rng(0)
    pool = np.zeros((600, 28, 28, 1), np.uint8)
    pool[:, :, :14] = rng.integers(0, 256, (600, 1, 1, 1))
    pool[:, :, 14:] = rng.integers(0, 256, (600, 1, 1, 1))
    kept = pool[:20].copy()
    kept[:, :, 14:] = 40  # dark on the right, as the pool is not
    right = lambda x: x[:, :, 14:].mean()  # noqa: E731
    chosen = selection.select(pool, kept, disc, 100)
    assert abs(right(chosen) - 40) < abs(right(pool) - 40) / 3
