"""A convolutional VAE, the probabilistic counterpart to the DCGAN in the bias study (seed 004).

keras.io's VAE example: an encoder to (z_mean, z_log_var), the reparameterisation trick, and a
small `keras.Model` whose `train_step` minimises reconstruction + `gan.kl_weight` x KL (keras.io
weighs the KL term 1). The decoder IS the GAN preset's generator builder (same layers, same
latent size), so the two models compare at matching generator capacity; the encoder is two
strided ReLU convolutions (light_dcgan's discriminator's sizes) and a 128-unit dense layer,
whatever the preset. Sampling draws z ~ N(0, 1), which `gan.sample` does for any model named
`gan.VAE_DECODER`.
"""
from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import layers, ops

from synthlib import gan, networks, progress

DECODER_NAME = gan.VAE_DECODER


def build_encoder(image_shape, latent_dim):
    img = keras.Input(image_shape, name="image")
    x = layers.Conv2D(32, 4, strides=2, padding="same", activation="relu")(img)
    x = layers.Conv2D(64, 4, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    return keras.Model(img, [layers.Dense(latent_dim, name="z_mean")(x),
                             layers.Dense(latent_dim, name="z_log_var")(x)], name="encoder")


def build_decoder(architecture, latent_dim, image_shape, precision="float32"):
    """The GAN preset's generator, renamed so that samplers know its prior is N(0, 1)."""
    g = networks.build_generator(architecture, latent_dim, image_shape, precision=precision)
    return keras.Model(g.input, g.output, name=DECODER_NAME)


class VAE(keras.Model):
    def __init__(self, encoder, decoder, seed=0, kl_weight=1.0, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.kl_weight = kl_weight
        self.generator = decoder  # the same name as the GAN's, for the shared callbacks
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, images, training=False):
        z_mean, _ = self.encoder(images, training=training)
        return self.generator(z_mean, training=training)

    def train_step(self, images):
        with tf.GradientTape() as tape:
            # the sampling and the loss in float32 whatever the layers compute in
            z_mean, z_log_var = (ops.cast(t, "float32")
                                 for t in self.encoder(images, training=True))
            eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
            z = z_mean + ops.exp(0.5 * z_log_var) * eps
            recon = self.generator(z, training=True)
            # Summed over pixels, as in keras.io's example: per-pixel means let the KL term win
            # and every sample turns into the same blur. (axis=-1 averages over channels: for a
            # colour image this is a third of the sum over all its values, so the KL term
            # weighs three times what a full sum would give it; for grey images the two agree.)
            reconstruction = ops.mean(ops.sum(
                keras.losses.binary_crossentropy(images, recon, axis=-1), axis=(1, 2)))
            kl = ops.mean(ops.sum(-0.5 * (1 + z_log_var - ops.square(z_mean)
                                          - ops.exp(z_log_var)), axis=1))
            loss = reconstruction + self.kl_weight * kl
        weights = self.trainable_weights
        self.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}


def build(gan_cfg, image_shape, seed):
    """A compiled VAE whose decoder is `gan.architecture`'s generator, in `gan.precision` as a
    GAN would be; Adam at the GAN's generator learning rate."""
    keras.utils.set_random_seed(seed)
    return _assemble(gan_cfg, image_shape, seed)


def _assemble(gan_cfg, image_shape, seed):
    with networks.dtype_policy(gan_cfg.precision):
        encoder = build_encoder(image_shape, gan_cfg.latent_dim)
    decoder = build_decoder(gan_cfg.architecture, gan_cfg.latent_dim, image_shape,
                            gan_cfg.precision)
    model = VAE(encoder, decoder, seed=seed, kl_weight=gan_cfg.kl_weight)
    model.compile(optimizer=keras.optimizers.Adam(gan_cfg.g_learning_rate), jit_compile=False)
    model(ops.zeros((1,) + tuple(image_shape)))
    model.optimizer.build(model.trainable_weights)
    return model


def train(images, gan_cfg, seed, backup_dir=None):
    """Train on `images` (uint8) for `gan.steps` steps of `gan.batch_size`, like a GAN.
    Returns (model, history, sample grids over training)."""
    model = build(gan_cfg, images.shape[1:], seed)
    per = min(gan_cfg.log_every, gan_cfg.steps)
    epochs = -(-gan_cfg.steps // per)
    grid, log, callbacks = progress.callbacks(gan_cfg, per, epochs, seed, backup_dir,
                                              normal=True)
    print(f"training a VAE (decoder: {gan_cfg.architecture} generator) on {len(images)} "
          f"images: {epochs * per} steps of batch {gan_cfg.batch_size}", flush=True)
    gan.fit_chunks(model, gan.compiled_key("vae", gan_cfg, images.shape[1:]),
                   lambda: _assemble(gan_cfg, images.shape[1:], seed),
                   gan.image_batches(images, gan_cfg.batch_size, seed), per, epochs, callbacks,
                   backup_dir)
    return model, pd.DataFrame(log.rows), grid.grids


def reconstruction_error(model, images):
    """Mean squared error of reconstructions (from z_mean), in [0, 1] pixel units."""
    x = np.asarray(images, dtype="float32") / 255.0
    return float(np.mean((np.asarray(model(x)) - x) ** 2))
