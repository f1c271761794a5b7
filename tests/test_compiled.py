"""Trainings of one kind share a compiled model (one traced training step per process); each
must still train exactly as a freshly built model would, and hand back a model of its own."""
import numpy as np
import pytest

from conftest import ctrl_c_after
from synthlib import classifiers, compiled, config, gan, progress, vae


@pytest.fixture(autouse=True)
def nothing_kept():
    compiled.forget()
    yield
    compiled.forget()


def tiny_gan_cfg(**kw):
    return config.GanConfig(**{"latent_dim": 8, "batch_size": 8, "steps": 4, "log_every": 2,
                               **kw})


def weights(model):
    return [w.numpy().copy() for w in model.weights]


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("name", ["small_cnn", "seed_mlp"])
def test_a_reused_classifier_trains_exactly_as_a_fresh_one(digits, name):
    x, y = digits.x[:300], (digits.y[:300] == 5).astype("int64")
    val = (digits.x[300:400], (digits.y[300:400] == 5).astype("int64"))
    first, h1 = classifiers.fit(name, x, y, 2, 2, 32, seed=0, validation=val)  # traces
    w1, p1 = weights(first), classifiers.predict_proba(first, digits.x[400:500])
    other, _ = classifiers.fit(name, x[::-1], 1 - y[::-1], 2, 2, 16, seed=7)  # moves every state
    again, h2 = classifiers.fit(name, x, y, 2, 2, 32, seed=0, validation=val)  # reuses
    assert again is not first and other is not first
    assert same(w1, weights(again))
    assert np.array_equal(p1, classifiers.predict_proba(again, digits.x[400:500]))
    assert h1.equals(h2)
    # the first model is the caller's: later trainings of the same kind leave it alone
    assert same(w1, weights(first))


def test_a_reused_gan_and_vae_train_exactly_as_fresh_ones(digits):
    x, labels, cfg = digits.x[:40], digits.y[:40] % 3, tiny_gan_cfg()
    kinds = {  # train(seed), and the same model untrained
        "dcgan": (lambda s: gan.train(x, cfg, s), lambda s: gan.build(cfg, x.shape[1:], s)),
        "cgan": (lambda s: gan.train(x, cfg, s, labels=labels, grid_label="all"),
                 lambda s: gan.build(cfg, x.shape[1:], s, n_classes=3)),
        "vae": (lambda s: vae.train(x, cfg, s), lambda s: vae.build(cfg, x.shape[1:], s)),
    }
    for kind, (train, untrained) in kinds.items():
        a = train(3)[0].generator
        train(4)
        b = train(3)[0].generator
        assert a is not b, kind
        assert same(weights(a), weights(b)), kind
        assert not same(weights(a), weights(untrained(3).generator)), kind  # it was trained
        label = 0 if len(a.inputs) == 2 else None
        assert np.array_equal(gan.sample(a, 5, seed=1, label=label),
                              gan.sample(b, 5, seed=1, label=label)), kind


def test_models_of_different_shapes_are_not_shared(digits):
    classifiers.fit("seed_mlp", digits.x[:50], digits.y[:50] % 2, 2, 1, 16, seed=0)
    classifiers.fit("seed_mlp", digits.x[:50], digits.y[:50] % 3, 3, 1, 16, seed=0)
    classifiers.fit("seed_mlp", digits.x[:50, ::2, ::2], digits.y[:50] % 2, 2, 1, 16, seed=0)
    assert len(compiled._KEPT) == 3


def test_a_training_after_a_resumed_one_starts_from_its_first_step(monkeypatch, tmp_path,
                                                                     digits):
    x, y = digits.x[:300], (digits.y[:300] == 5).astype("int64")
    with ctrl_c_after(monkeypatch, progress.LogLine, 1):
        classifiers.fit("seed_mlp", x, y, 2, 6, 32, 0, chunks=3, backup_dir=tmp_path / "b")
    classifiers.fit("seed_mlp", x, y, 2, 6, 32, 0, chunks=3, backup_dir=tmp_path / "b")  # resumes
    model, history = classifiers.fit("seed_mlp", x, y, 2, 6, 32, 1, chunks=3)
    assert list(history.step) == [2, 4, 6] and int(model.optimizer.iterations) == 6


def tiny(units):
    import keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units)])
    model.compile("adam", "mse")
    model.optimizer.build(model.trainable_variables)
    return model


def test_a_key_that_misses_a_shape_stops_rather_than_mixes_two_models():
    compiled.fit(tiny(2), "dense", lambda: tiny(2), lambda m: None)
    with pytest.raises(ValueError, match="the key misses something that shapes the model"):
        compiled.fit(tiny(4), "dense", lambda: tiny(4), lambda m: None)


def test_a_key_that_misses_a_setting_stops_rather_than_trains_with_the_kept_one():
    """A loss weight kept as a plain attribute is a constant in the traced step: a model
    reused under a key that misses it would train with the first model's value."""
    def weighted(w):
        model = tiny(2)
        model.kl_weight = w
        return model

    compiled.fit(weighted(1.0), "weighted", lambda: weighted(1.0), lambda m: None)
    with pytest.raises(ValueError, match="misses a setting .*kl_weight 1000.0 here, 1.0 kept"):
        compiled.fit(weighted(1000.0), "weighted", lambda: weighted(1000.0), lambda m: None)


def test_building_the_kept_model_leaves_the_initialisers_random_state_alone():
    """Keras seeds unseeded initialisers from Python's `random`: building the kept model the
    first time must not move it, or the models built after it would start elsewhere."""
    import random
    random.seed(1)
    model = tiny(2)
    before = random.getstate()
    compiled.fit(model, "dense", lambda: (random.random(), tiny(2))[1], lambda m: None)
    assert random.getstate() == before
