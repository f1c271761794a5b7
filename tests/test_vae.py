import numpy as np
import pytest

from synthlib import config, gan, vae


def tiny_cfg(**kw):
    return config.GanConfig(**{"latent_dim": 8, "batch_size": 5, "steps": 3, "log_every": 1,
                               **kw})


def test_decoder_matches_the_gan_generator_capacity():
    cfg = tiny_cfg()
    model = vae.build(cfg, (28, 28, 1), seed=0)
    g = gan.build(cfg, (28, 28, 1), seed=0).generator
    assert model.generator.count_params() == g.count_params()
    assert [type(l).__name__ for l in model.generator.layers] == \
        [type(l).__name__ for l in g.layers]


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_train_step_lowers_nothing_to_nan_and_changes_both_halves(digits, precision):
    """In the GAN's precision and at its generator's learning rate, as the params say."""
    model = vae.build(tiny_cfg(precision=precision, g_learning_rate=3e-4), (28, 28, 1), seed=0)
    assert np.isclose(float(model.optimizer.learning_rate), 3e-4)
    compute = {"float32": "float32", "mixed_bfloat16": "bfloat16"}[precision]
    assert {layer.compute_dtype for m in (model.encoder, model.generator)
            for layer in m.layers[1:-1]} == {compute}
    e0 = [w.numpy().copy() for w in model.encoder.trainable_weights]
    d0 = [w.numpy().copy() for w in model.generator.trainable_weights]
    logs = model.train_step(digits.x[:5].astype("float32") / 255.0)
    assert set(logs) == {"loss", "reconstruction_loss", "kl_loss"}
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(e0, model.encoder.trainable_weights))
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(d0, model.generator.trainable_weights))


def test_train_saves_and_samples_from_the_normal_prior(tmp_path, digits):
    model, history, grids = vae.train(digits.x[:20], tiny_cfg(steps=4, log_every=2), 0)
    assert list(history.step) == [2, 4] and {"loss", "kl_loss"} <= set(history.columns)
    assert sorted(grids) == [2, 4]
    path = tmp_path / "generator.keras"
    gan.save_generator(model.generator, path)
    loaded = gan.load_generator(path)
    assert loaded.name == vae.DECODER_NAME
    a, b = gan.sample(model.generator, 6, seed=1), gan.sample(loaded, 6, seed=1)
    assert a.shape == (6, 28, 28, 1) and np.array_equal(a, b)


def test_colour_images_round_trip(digits):
    x = np.repeat(digits.x[:10, ::2, ::2][:, :12, :12], 3, axis=-1)  # 12x12x3
    model, _, _ = vae.train(x, tiny_cfg(steps=2), 0)
    assert gan.sample(model.generator, 3, seed=0).shape == (3, 12, 12, 3)
    assert 0 <= vae.reconstruction_error(model, x) <= 1
