import keras
import numpy as np
import pytest

from conftest import ctrl_c_after
from synthlib import config, gan, progress, registry, vae


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


def test_interrupted_training_resumes_from_the_last_chunk(monkeypatch, tmp_path, digits,
                                                          capsys):
    """As a GAN does: Ctrl-C after the second chunk's bookkeeping, before its checkpoint; the
    next run trains steps 2 to 4 only, and ends where an uninterrupted training ends."""
    cfg = tiny_cfg(steps=4)
    whole, whole_history, _ = vae.train(digits.x[:12], cfg, 0)
    with ctrl_c_after(monkeypatch, progress.SampleGrid, 1):
        vae.train(digits.x[:12], cfg, 0, backup_dir=tmp_path / "backup")
    capsys.readouterr()
    model, history, grids = vae.train(digits.x[:12], cfg, 0, backup_dir=tmp_path / "backup")
    out = capsys.readouterr().out
    assert "resuming from the checkpoint after step 1" in out and "step      1/4" not in out
    assert int(model.optimizer.iterations) == 4
    assert list(history.step) == [1, 2, 3, 4] and sorted(grids) == [1, 2, 3, 4]
    assert not (tmp_path / "backup").exists()
    assert all(np.array_equal(a, b) for a, b in zip(whole.get_weights(), model.get_weights()))
    assert history.equals(whole_history)


@pytest.mark.parametrize("kl_weight", [1.0, 4.0])
def test_the_loss_is_summed_reconstruction_plus_the_kl_to_the_prior(digits, kl_weight):
    """keras.io's VAE loss, read off an identical model: binary cross-entropy summed over the
    pixels, plus KL(N(mu, sigma) || N(0, 1)) summed over the latent units, each a batch mean;
    `gan.kl_weight` weighs the KL term (1: keras.io's)."""
    from keras import ops

    images = ops.convert_to_tensor(digits.x[:6] / 255.0, "float32")
    stepped, read = (vae.build(tiny_cfg(kl_weight=kl_weight), (28, 28, 1), seed=0)
                     for _ in range(2))
    for model in (stepped, read):  # codes off the prior and narrow: every term counts
        for name, shift in (("z_mean", 2.0), ("z_log_var", -2.0)):
            w, b = model.encoder.get_layer(name).get_weights()
            model.encoder.get_layer(name).set_weights([w, b + shift])
    logs = stepped.train_step(images)
    mu, log_var = read.encoder(images, training=True)
    eps = keras.random.normal(ops.shape(mu), seed=read.seed_generator)
    recon = np.asarray(read.generator(mu + ops.exp(0.5 * log_var) * eps, training=True))
    x = np.asarray(images)
    recon = np.clip(recon, 1e-7, 1 - 1e-7)
    bce = -(x * np.log(recon) + (1 - x) * np.log(1 - recon))
    reconstruction = bce.sum(axis=(1, 2, 3)).mean()
    mu, log_var = np.asarray(mu), np.asarray(log_var)
    kl = (-0.5 * (1 + log_var - mu ** 2 - np.exp(log_var))).sum(1).mean()
    assert float(logs["reconstruction_loss"]) == pytest.approx(reconstruction, rel=1e-3)
    assert float(logs["kl_loss"]) == pytest.approx(kl, rel=1e-3)
    assert float(logs["loss"]) == pytest.approx(reconstruction + kl_weight * kl, rel=1e-3)


# a value for each setting that is not its default
OTHER_VALUE = {"optimizer": "rmsprop", "beta_1": 0.9, "d_learning_rate": 1e-3,
               "class_loss_weight": 0.5, "r1_weight": 1.0, "mode_seeking_weight": 0.5,
               "rotation_weight": 1.0, "kl_weight": 4.0}


def _trained_weights(model, cfg, images):
    trained = model.build(cfg, (28, 28, 1), seed=0)
    for _ in range(2):
        trained.train_step(images)
    return [w.numpy() for w in trained.weights]


@pytest.mark.parametrize("kind, module, others", [("vae", vae, registry.DCGAN_ONLY),
                                                  ("dcgan", gan, registry.VAE_ONLY)])
def test_a_generator_is_keyed_on_the_settings_its_kind_reads_alone(digits, kind, module, others):
    """A kept generator's key leaves out the other kind's settings (GanConfig.read_by), so a
    change to one retrains none of this kind: it must then train this kind to the same weights,
    and a setting this kind reads must stay in its key."""
    assert set(OTHER_VALUE) == set(registry.DCGAN_ONLY + registry.VAE_ONLY)
    images = digits.x[:5].astype("float32") / 255.0
    base = tiny_cfg()
    same = _trained_weights(module, base, images)
    assert not all(np.array_equal(a, b) for a, b in  # the comparison sees a setting it reads
                   zip(same, _trained_weights(module, tiny_cfg(g_learning_rate=1e-3), images)))
    for setting in others:
        changed = tiny_cfg(**{setting: OTHER_VALUE[setting]})
        assert changed.read_by(kind) == base.read_by(kind)
        assert all(np.array_equal(a, b) for a, b in
                   zip(same, _trained_weights(module, changed, images))), setting
    for setting in set(OTHER_VALUE) - set(others):
        assert tiny_cfg(**{setting: OTHER_VALUE[setting]}).read_by(kind) != base.read_by(kind)


def test_reconstruction_error_is_in_pixel_units(digits):
    model = vae.build(tiny_cfg(), (28, 28, 1), seed=0)
    x = digits.x[:4]
    expected = np.mean((np.asarray(model(x / 255.0)) - x / 255.0) ** 2)
    assert vae.reconstruction_error(model, x) == pytest.approx(float(expected), rel=1e-5)
    assert 0 < expected < 1
