from pathlib import Path

import keras
import numpy as np
import pytest

from conftest import ctrl_c_after
from synthlib import config, gan, params, progress


def tiny_cfg(**kw):
    return config.GanConfig(**{"latent_dim": 8, "batch_size": 5, "steps": 2, "log_every": 1,
                               **kw})


def test_one_train_step_changes_both_networks(digits):
    model = gan.build(tiny_cfg(), (28, 28, 1), seed=0)
    g0 = [w.numpy().copy() for w in model.generator.trainable_weights]
    d0 = [w.numpy().copy() for w in model.discriminator.trainable_weights]
    logs = model.train_step(digits.x[:5].astype("float32") / 255.0)
    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(float(v)) for v in logs.values())
    g1 = [w.numpy() for w in model.generator.trainable_weights]
    d1 = [w.numpy() for w in model.discriminator.trainable_weights]
    assert any(not np.allclose(a, b) for a, b in zip(g0, g1))
    assert any(not np.allclose(a, b) for a, b in zip(d0, d1))


def test_train_records_history_and_grids_and_saves(tmp_path, digits):
    model, history, grids = gan.train(digits.x[:12], tiny_cfg(architecture="seed_dcgan"), 0)
    assert list(history.step) == [1, 2]
    assert sorted(grids) == [1, 2] and grids[1].shape == (16, 28, 28, 1)
    path = tmp_path / "generator.keras"
    gan.save_generator(model.generator, path)
    loaded = gan.load_generator(path)
    a, b = gan.sample(model.generator, 7, seed=1), gan.sample(loaded, 7, seed=1)
    assert a.shape == (7, 28, 28, 1) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, gan.sample(loaded, 7, seed=2))


def test_a_snapshot_training_never_reaches_is_refused_before_training(tmp_path, digits):
    with pytest.raises(ValueError, match=r"snapshots \[4\] come after gan.steps = 2"):
        gan.train(digits.x[:12], tiny_cfg(), 0, snapshots={2: tmp_path / "a.keras",
                                                           4: tmp_path / "b.keras"})
    assert not list(tmp_path.iterdir())


def test_training_is_deterministic_for_a_seed(digits):
    cfg = tiny_cfg()
    a = gan.sample(gan.train(digits.x[:12], cfg, 3)[0].generator, 4, seed=0)
    b = gan.sample(gan.train(digits.x[:12], cfg, 3)[0].generator, 4, seed=0)
    assert np.array_equal(a, b)


def test_generator_is_reused_only_for_the_same_parameters(monkeypatch, tmp_path):
    from conftest import DIGITS_PARAMS
    from synthlib.studies import rebalance
    from synthlib.runs import Run

    run = Run(DIGITS_PARAMS, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    rebalance.prepare(run)
    run.cfg.gan.steps, run.cfg.gan.log_every = 2, 1
    run.cfg.evaluate.arms, run.cfg.evaluate.tstr = ["imbalanced", "dcgan_minority"], False
    real_train, calls = gan.train, []

    def counting(*args, **kw):
        calls.append(1)
        return real_train(*args, **kw)
    monkeypatch.setattr(gan, "train", counting)
    first = rebalance.train(run)
    rebalance.train(run)
    assert len(calls) == 1 and list(first[(0, "dcgan_minority")][0].step) == [1, 2]
    run.cfg.gan.steps = 3
    again = rebalance.train(run)
    assert len(calls) == 2 and list(again[(0, "dcgan_minority")][0].step) == [1, 2, 3]
    assert not list((tmp_path / "b").rglob("gan_backup_*"))  # removed when done


def test_conditional_gan_samples_the_label_asked_for(digits):
    model, history, grids = gan.train(digits.x[:200], tiny_cfg(), 0, labels=digits.y[:200],
                                      diffaugment=True, grid_label=5)
    assert len(model.generator.inputs) == 2 and sorted(grids) == [1, 2]
    a = gan.sample(model.generator, 6, seed=0, label=5)
    b = gan.sample(model.generator, 6, seed=0, label=3)
    assert a.shape == (6, 28, 28, 1) and not np.array_equal(a, b)
    import pytest
    with pytest.raises(ValueError, match="needs a label"):
        gan.sample(model.generator, 2, seed=0)


def test_conditional_gan_grids_show_every_class_unless_told(digits):
    grids = gan.train(digits.x[:20], tiny_cfg(), 0, labels=digits.y[:20])[2]
    assert sorted(grids) == [1, 2] and all(len(g) == 16 for g in grids.values())


def test_diff_augment_keeps_shape_and_changes_images(digits):
    import keras
    x = digits.x[:8].astype("float32") / 255.0
    out = np.asarray(gan.diff_augment(x, keras.random.SeedGenerator(0)))
    assert out.shape == x.shape and not np.allclose(out, x)


@pytest.mark.parametrize("conditional, after", [
    (False, progress.SampleGrid), (True, progress.SampleGrid),
    (False, progress.SeedStates),  # between the random states' save and the checkpoint's
])
def test_interrupted_training_resumes_from_the_last_chunk(monkeypatch, tmp_path, digits,
                                                          capsys, conditional, after):
    cfg = tiny_cfg(steps=4)
    labels = digits.y[:12] if conditional else None
    whole, whole_history, _ = gan.train(digits.x[:12], cfg, 0, labels=labels)
    with ctrl_c_after(monkeypatch, after, 1):
        gan.train(digits.x[:12], cfg, 0, backup_dir=tmp_path / "backup", labels=labels)
    capsys.readouterr()
    model, history, grids = gan.train(digits.x[:12], cfg, 0, backup_dir=tmp_path / "backup",
                                      labels=labels)
    out = capsys.readouterr().out
    # killed during step 2's bookkeeping, before its checkpoint: step 1 is not trained again
    assert "resuming from the checkpoint after step 1" in out and "step      1/4" not in out
    assert "has no random states" not in out
    assert int(model.g_optimizer.iterations) == 4 and int(model.d_optimizer.iterations) == 4
    assert list(history.step) == [1, 2, 3, 4] and sorted(grids) == [1, 2, 3, 4]  # curves kept
    assert not (tmp_path / "backup").exists()
    # the same batches and random numbers as an uninterrupted training: the same generator
    assert all(np.array_equal(a, b) for a, b in zip(whole.get_weights(), model.get_weights()))
    assert history.equals(whole_history)


@pytest.mark.parametrize("killed", ["writing", "renaming"])
def test_a_run_killed_while_it_keeps_a_checkpoint_resumes_from_the_last_whole_one(
        monkeypatch, tmp_path, digits, capsys, killed):
    """Ctrl-C while the second chunk's checkpoint is written (half a weights file on disk) or
    while it takes the first one's place: the next run resumes after the first chunk, and
    ends as an uninterrupted training does."""
    cfg = tiny_cfg(steps=4)
    whole, whole_history, _ = gan.train(digits.x[:12], cfg, 0)
    saves = []
    if killed == "writing":
        save_weights = keras.Model.save_weights

        def half_written(self, path, *a, **k):
            saves.append(path)
            if len(saves) == 2:
                Path(path).write_bytes(b"\x89HDF\r\n\x1a\n")
                raise KeyboardInterrupt
            return save_weights(self, path, *a, **k)
        monkeypatch.setattr(keras.Model, "save_weights", half_written)
    else:
        rename = Path.rename

        def cut_short(self, target):
            saves.append(self.name)
            if saves.count("ckpt.new") == 2:  # the old checkpoint moved aside, the new not in
                raise KeyboardInterrupt
            return rename(self, target)
        monkeypatch.setattr(Path, "rename", cut_short)
    with pytest.raises(KeyboardInterrupt):
        gan.train(digits.x[:12], cfg, 0, backup_dir=tmp_path / "backup")
    monkeypatch.undo()
    capsys.readouterr()
    model, history, _ = gan.train(digits.x[:12], cfg, 0, backup_dir=tmp_path / "backup")
    assert "resuming from the checkpoint after step 1" in capsys.readouterr().out
    assert all(np.array_equal(a, b) for a, b in zip(whole.get_weights(), model.get_weights()))
    assert history.equals(whole_history)


def test_r1_penalty_adds_the_discriminators_slope_at_real_images(digits):
    real = digits.x[:5].astype("float32") / 255.0
    plain = gan.build(tiny_cfg(), (28, 28, 1), seed=0).train_step(real)
    penalised = gan.build(tiny_cfg(r1_weight=10.0), (28, 28, 1), seed=0).train_step(real)
    # same weights, data and noise: only the penalty differs, and it is positive
    assert float(penalised["d_real"]) == float(plain["d_real"])
    assert float(penalised["d_loss"]) > float(plain["d_loss"])


def test_mode_seeking_term_pays_for_variety(digits):
    z = keras.random.uniform((8, 4), -1.0, 1.0, seed=0)
    varied = digits.x[:8].astype("float32") / 255.0
    same = np.repeat(varied[:1], 8, axis=0)
    # the same image for every code: the term at its ceiling; eight different digits: far lower
    assert float(gan.mode_seeking_term(z, same)) > 1e4
    assert float(gan.mode_seeking_term(z, varied)) < 100


@pytest.mark.parametrize("n_classes", [0, 10])
def test_mode_seeking_weight_enters_only_the_generators_loss(digits, n_classes):
    real = keras.ops.convert_to_tensor(digits.x[:6] / 255.0, "float32")
    data = (real, keras.ops.convert_to_tensor(digits.y[:6], "int32")) if n_classes else real
    plain = gan.build(tiny_cfg(), (28, 28, 1), 0, n_classes).train_step(data)
    seeking = gan.build(tiny_cfg(mode_seeking_weight=1.0), (28, 28, 1), 0,
                        n_classes).train_step(data)
    assert float(seeking["d_loss"]) == float(plain["d_loss"])
    assert float(seeking["g_loss"]) > float(plain["g_loss"])


@pytest.mark.parametrize("n_classes", [0, 10])
def test_rotation_heads_enter_both_losses_after_the_plain_ones(digits, n_classes):
    real = keras.ops.convert_to_tensor(digits.x[:6] / 255.0, "float32")
    data = (real, keras.ops.convert_to_tensor(digits.y[:6], "int32")) if n_classes else real
    plain = gan.build(tiny_cfg(), (28, 28, 1), 0, n_classes).train_step(data)
    turned_model = gan.build(tiny_cfg(rotation_weight=1.0), (28, 28, 1), 0, n_classes)
    turned = turned_model.train_step(data)
    # the same weights and first passes: the heads' loss comes on top of the plain one
    assert float(turned["d_real"]) == float(plain["d_real"])
    assert float(turned["d_fake"]) == float(plain["d_fake"])
    assert float(turned["d_loss"]) > float(plain["d_loss"])
    assert float(turned["g_loss"]) > float(plain["g_loss"])
    # and they learn: the heads' weights moved
    heads = turned_model.discriminator.get_layer("rotation_logits")
    fresh = gan.build(tiny_cfg(rotation_weight=1.0), (28, 28, 1), 0, n_classes)
    assert not np.array_equal(heads.get_weights()[0],
                              fresh.discriminator.get_layer("rotation_logits").get_weights()[0])


def test_a_gan_with_rotation_heads_trains_saves_and_herds(tmp_path, digits):
    from synthlib import selection
    model, history, _ = gan.train(digits.x[:12], tiny_cfg(rotation_weight=1.0), 0)
    assert list(history.step) == [1, 2]
    gan.save_generator(model.discriminator, tmp_path / "discriminator.keras")
    discriminator = gan.load_generator(tmp_path / "discriminator.keras")
    features = selection.discriminator_features(discriminator)
    assert features(digits.x[:2] / 255.0).shape == (2, 64 * 7 * 7)
    chosen = selection.select(digits.x[:40], digits.x[40:50], discriminator, 4)
    assert chosen.shape == (4, 28, 28, 1)


def test_input_pipelines_keep_their_order_without_the_autotuner(digits):
    # tf.data's autotuner made whole fits run at multiples of ~42 ms a step here; the streams
    # run without it, and the same seed still gives the same batches
    from synthlib import classifiers

    images, labels = digits.x[:40], digits.y[:40]
    streams = [gan.image_batches(images, 8, 3), gan.image_batches(images, 8, 3, labels),
               classifiers.batches(images, labels, 8, 3)]
    for stream in streams:
        assert stream.options().autotune.enabled is False
    first = [b.numpy() for b in gan.image_batches(images, 8, 3).take(3)]
    again = [b.numpy() for b in gan.image_batches(images, 8, 3).take(3)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_sampling_as_trained_uses_each_batchs_statistics_and_leaves_the_generator(digits):
    g = gan.train(digits.x[:12], tiny_cfg(), 0)[0].generator
    before = [v.numpy().copy() for v in g.variables]
    a = gan.sample(g, 7, seed=1, train_batch=5)
    assert a.shape == (7, 28, 28, 1) and a.dtype == np.uint8
    assert np.array_equal(a, gan.sample(g, 7, seed=1, train_batch=5))
    assert all(np.array_equal(b, v.numpy()) for b, v in zip(before, g.variables))
    assert not np.array_equal(a, gan.sample(g, 7, seed=1))  # inference mode: moving averages
    # the first batch is what the generator gives in training mode, batch norm on its own
    # statistics; the short second one was filled up to 5 before its statistics were taken
    z = np.random.default_rng(1).uniform(-1, 1, (10, 8)).astype("float32")
    first = np.asarray(g(z[:5], training=True))
    second = np.asarray(g(z[5:], training=True))
    by_hand = np.clip(np.rint(np.concatenate([first, second[:2]]) * 255), 0, 255)
    assert np.array_equal(a, by_hand)


def test_conditional_generators_sample_in_inference_mode_whatever_train_batch(digits):
    model = gan.train(digits.x[:20], tiny_cfg(), 0, labels=digits.y[:20],
                      grid_label=5)[0]
    assert np.array_equal(gan.sample(model.generator, 6, seed=0, label=5, train_batch=5),
                          gan.sample(model.generator, 6, seed=0, label=5))


def test_batch_statistics_follow_the_generate_setting():
    from synthlib.studies import common
    cfg = params.load("params/five_minority.yaml", "quick")
    assert common.train_batch(cfg) == cfg.gan.batch_size
    cfg.generate.batch_statistics = False
    assert common.train_batch(cfg) is None


def _bce(target, logits):
    return float(keras.losses.BinaryCrossentropy(from_logits=True)(
        keras.ops.full(keras.ops.shape(logits), target), logits))


def _class_loss(labels, logits):
    return float(keras.ops.mean(keras.losses.sparse_categorical_crossentropy(
        labels, logits, from_logits=True)))


def _losses_by_their_definition(model, real, labels):
    """d_loss and g_loss of one step as the DCGAN, AC-GAN, R1, DAG and MSGAN papers define
    them, read off the networks in the order train_step calls them (the discriminator does
    not learn in this step, so the generator's loss reads the same discriminator)."""
    import tensorflow as tf

    n = len(real)
    fake = model._generate(n, labels)
    w = model.class_loss_weight
    with tf.GradientTape() as tape:
        tape.watch(real)
        out = model._outputs(real, labels)
        realness = keras.ops.sum(out[0])
    slope = tape.gradient(realness, real)
    penalty = 0.5 * model.r1_weight * float(keras.ops.mean(keras.ops.sum(slope ** 2, [1, 2, 3])))
    fake_out = model._outputs(fake, labels)

    def turned(images, target):
        if not model.rotation_weight:
            return 0.0
        return model.rotation_weight * np.mean([_bce(target, model._outputs(
            tf.image.rot90(images, k), labels)[-1][:, k - 1:k]) for k in (1, 2, 3)])
    d_loss = 0.5 * (_bce(1.0, out[0]) + _bce(0.0, fake_out[0])) + penalty \
        + (w * _class_loss(labels, out[1]) if labels is not None else 0.0) \
        + 0.5 * (turned(real, 1.0) + turned(fake, 0.0))
    z = model.noise(n)
    if labels is not None and model.mode_seeking_weight:  # each pair of codes shares a label
        labels = keras.ops.concatenate([labels[:n // 2], labels[:n - n // 2]])
    fooled = model.generator([z, labels] if labels is not None else z, training=True)
    fooled_out = model._outputs(fooled, labels)
    g_loss = _bce(1.0, fooled_out[0]) + turned(fooled, 1.0) \
        + (w * _class_loss(labels, fooled_out[1]) if labels is not None else 0.0) \
        + model.mode_seeking_weight * float(gan.mode_seeking_term(z, fooled))
    return d_loss, g_loss, float(keras.ops.mean(keras.ops.sigmoid(out[0]))), \
        float(keras.ops.mean(keras.ops.sigmoid(fake_out[0])))


@pytest.mark.parametrize("n_classes, settings", [
    (0, {}), (0, {"r1_weight": 10.0}), (0, {"rotation_weight": 1.0}),
    (0, {"mode_seeking_weight": 1.0}), (10, {"class_loss_weight": 1.0}),
    (10, {"class_loss_weight": 0.5, "mode_seeking_weight": 1.0, "rotation_weight": 1.0}),
])
def test_each_loss_is_the_sum_its_papers_define(digits, n_classes, settings):
    real = keras.ops.convert_to_tensor(digits.x[:6] / 255.0, "float32")
    labels = keras.ops.convert_to_tensor(digits.y[:6], "int32") if n_classes else None
    stepped, read = (gan.build(tiny_cfg(**settings), (28, 28, 1), 0, n_classes)
                     for _ in range(2))
    for model in (stepped, read):
        model.d_optimizer.learning_rate = 0.0
    logs = stepped.train_step((real, labels) if n_classes else real)
    d_loss, g_loss, d_real, d_fake = _losses_by_their_definition(read, real, labels)
    assert float(logs["d_loss"]) == pytest.approx(d_loss, rel=1e-4)
    assert float(logs["g_loss"]) == pytest.approx(g_loss, rel=1e-4)
    assert (float(logs["d_real"]), float(logs["d_fake"])) == pytest.approx((d_real, d_fake),
                                                                           rel=1e-4)


def test_noise_and_the_mode_seeking_term_s_scale(digits):
    model = gan.build(tiny_cfg(), (28, 28, 1), 0)
    z = np.asarray(model.noise(2000))
    assert -1 <= z.min() < -0.99 and 0.99 < z.max() <= 1  # uniform in [-1, 1], as the seed's
    z = keras.random.uniform((8, 4), -1.0, 1.0, seed=0)
    images = digits.x[:8].astype("float32") / 255.0
    # image distance per unit of latent distance: codes twice as far apart pay twice as much
    assert float(gan.mode_seeking_term(2 * z, images)) == pytest.approx(
        2 * float(gan.mode_seeking_term(z, images)), rel=1e-3)


def test_diff_augment_shifts_by_an_eighth_and_cuts_out_half_the_side():
    seeds = keras.random.SeedGenerator(0)
    out = np.asarray(gan.diff_augment(keras.ops.ones((300, 16, 16, 1)), seeds))[..., 0]
    brightest = out.max(axis=(1, 2))
    assert 0.5 <= brightest.min() and brightest.max() <= 1.5  # brightness in [-0.5, 0.5]
    assert abs(brightest.mean() - 1.0) < 0.05
    # a cutout (8 of 16, as DiffAugment's) never blanks a whole row or column: translation's
    # zero fill does
    blank_rows = (out == 0).all(axis=2).sum(1)
    blank_cols = (out == 0).all(axis=1).sum(1)
    assert max(blank_rows.max(), blank_cols.max()) == 2  # 16 / 8
    unshifted = (blank_rows == 0) & (blank_cols == 0)
    cut = (out[unshifted] == 0).sum(axis=(1, 2))
    assert cut.max() == 64  # an 8 x 8 square
    assert cut.min() < 64  # some cut at an edge
