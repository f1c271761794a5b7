"""The DCGAN training algorithm: a small `keras.Model` with its own `train_step`.

Follows keras.io's DCGAN example: `compile(d_optimizer, g_optimizer, loss_fn)`, a `metrics`
property, randomness from a `SeedGenerator` owned by the model, trained with `fit()` on a
`tf.data` pipeline, so no step runs Python or `predict`. The seed notebook's latent noise
(uniform in [-1, 1]) and its discriminator loss (binary cross-entropy over the real and fake
halves together) are kept.
"""
from __future__ import annotations

import time
import warnings

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import ops

from synthlib import networks
from synthlib.paths import atomic_path


class DCGAN(keras.Model):
    def __init__(self, generator, discriminator, latent_dim, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")  # D's mean P(real) on real
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")  # ... and on generated

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        # XLA ("auto" would pick it) is about ten times slower on CPU for these networks.
        super().compile(jit_compile=False)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker,
                self.d_fake_tracker]

    def noise(self, n):
        return keras.random.uniform((n, self.latent_dim), -1.0, 1.0, seed=self.seed_generator)

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def train_step(self, real_images):
        n = ops.shape(real_images)[0]
        fake_images = self.generator(self.noise(n), training=True)
        ones, zeros = ops.ones((n, 1)), ops.zeros((n, 1))

        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(fake_images, training=True)
            d_loss = 0.5 * (self.loss_fn(ones, real_logits) + self.loss_fn(zeros, fake_logits))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        with tf.GradientTape() as tape:
            fooled_logits = self.discriminator(self.generator(self.noise(n), training=True),
                                               training=True)
            g_loss = self.loss_fn(ones, fooled_logits)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(ops.mean(ops.sigmoid(real_logits)))
        self.d_fake_tracker.update_state(ops.mean(ops.sigmoid(fake_logits)))
        return {m.name: m.result() for m in self.metrics}


class SampleGrid(keras.callbacks.Callback):
    """Generates the same latent points after every chunk of steps: samples over time."""

    def __init__(self, latent_dim, n=16, seed=0, steps_per_epoch=1):
        super().__init__()
        self.z = np.random.default_rng(seed).uniform(-1, 1, (n, latent_dim)).astype("float32")
        self.steps_per_epoch = steps_per_epoch
        self.grids = {}  # step -> images (n, H, W, C) in [0, 1]

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.steps_per_epoch
        self.grids[step] = np.asarray(self.model.generator(self.z, training=False))


class LogLine(keras.callbacks.Callback):
    """One plain line per chunk (papermill and HTML show \\r progress bars badly)."""

    def __init__(self, total_steps, steps_per_epoch, label="step"):
        super().__init__()
        self.total, self.per, self.label = total_steps, steps_per_epoch, label
        self.rows = []

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.per
        elapsed = time.perf_counter() - self.start
        row = {"step": step, **{k: float(v) for k, v in (logs or {}).items()}}
        self.rows.append(row)
        values = "  ".join(f"{k} {v:.3f}" for k, v in row.items() if k != "step")
        print(f"{self.label} {min(step, self.total):>6}/{self.total}  {values}  "
              f"[{elapsed:6.1f} s]", flush=True)


def make_optimizers(gan_cfg):
    if gan_cfg.optimizer == "rmsprop":
        # The seed's RMSprop(lr, decay=6e-8): Keras 3 spells that decay as a schedule; the
        # generator side ran at half the rate, as the seed's adversarial model did.
        def opt(lr):
            return keras.optimizers.RMSprop(keras.optimizers.schedules.InverseTimeDecay(
                lr, decay_steps=1, decay_rate=6e-8))
    else:
        def opt(lr):
            return keras.optimizers.Adam(lr, beta_1=gan_cfg.beta_1)
    return opt(gan_cfg.d_learning_rate), opt(gan_cfg.g_learning_rate)


def build(gan_cfg, image_shape, seed):
    keras.utils.set_random_seed(seed)
    generator, discriminator = networks.build_gan_networks(
        gan_cfg.architecture, gan_cfg.latent_dim, image_shape)
    model = DCGAN(generator, discriminator, gan_cfg.latent_dim, seed=seed)
    d_opt, g_opt = make_optimizers(gan_cfg)
    model.compile(d_opt, g_opt, keras.losses.BinaryCrossentropy(from_logits=True))
    # Built up front so that a checkpoint (weights and optimizer state) can be restored into it.
    model(ops.zeros((1, gan_cfg.latent_dim)))
    d_opt.build(discriminator.trainable_weights)
    g_opt.build(generator.trainable_weights)
    return model


def image_batches(images, batch_size, seed):
    """uint8 images -> an endless, shuffled tf.data stream of float batches in [0, 1]."""
    x = np.asarray(images, dtype="float32") / 255.0
    ds = tf.data.Dataset.from_tensor_slices(x).repeat()
    ds = ds.shuffle(max(len(x), 1024), seed=seed).batch(batch_size, drop_remainder=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def train(images, gan_cfg, seed, backup_dir=None):
    """Train a DCGAN on `images` (uint8, N x H x W x C). Returns (model, history, grids)."""
    model = build(gan_cfg, images.shape[1:], seed)
    per = min(gan_cfg.log_every, gan_cfg.steps)
    epochs = -(-gan_cfg.steps // per)
    grid = SampleGrid(gan_cfg.latent_dim, seed=seed, steps_per_epoch=per)
    log = LogLine(epochs * per, per)
    callbacks = [grid, log]
    if backup_dir:  # a killed run resumes from the last finished chunk of steps
        callbacks.insert(0, keras.callbacks.BackupAndRestore(str(backup_dir)))
    print(f"training {gan_cfg.architecture} on {len(images)} images: {epochs * per} steps "
          f"of batch {gan_cfg.batch_size}", flush=True)
    with warnings.catch_warnings():
        # On resume Keras also restores the unused default `model.optimizer` and warns that it
        # has no state; d_optimizer and g_optimizer are restored in full.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model.fit(image_batches(images, gan_cfg.batch_size, seed), epochs=epochs,
                  steps_per_epoch=per, callbacks=callbacks, verbose=0, shuffle=False)
    return model, pd.DataFrame(log.rows), grid.grids


def save_generator(generator, path):
    with atomic_path(path) as tmp:
        generator.save(tmp)


def load_generator(path):
    return keras.models.load_model(path, compile=False)


def sample(generator, n, seed, batch_size=500):
    """n images (uint8) from a trained generator, in batches, reproducible for a seed."""
    latent_dim = generator.input_shape[-1]
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, n, batch_size):
        z = rng.uniform(-1, 1, (min(batch_size, n - start), latent_dim)).astype("float32")
        out.append(np.asarray(generator(z, training=False)))
    if not out:
        return np.zeros((0,) + tuple(generator.output_shape[1:]), dtype=np.uint8)
    return np.clip(np.rint(np.concatenate(out) * 255.0), 0, 255).astype(np.uint8)
