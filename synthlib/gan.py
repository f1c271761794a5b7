"""The DCGAN training algorithm: a small `keras.Model` with its own `train_step`.

Follows keras.io's DCGAN example: `compile(d_optimizer, g_optimizer, loss_fn)`, a `metrics`
property, randomness from a `SeedGenerator` owned by the model, trained with `fit()` on a
`tf.data` pipeline, so no step runs Python or `predict`. The seed notebook's latent noise
(uniform in [-1, 1]) and its discriminator loss (binary cross-entropy over the real and fake
halves together) are kept.
"""
from __future__ import annotations

import warnings

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import ops

from synthlib import compiled, networks, progress
from synthlib.paths import atomic_path


def diff_augment(x, seed_generator):
    """DiffAugment (Zhao et al., 2020) for the discriminator's inputs: brightness, contrast,
    translation by up to 1/8 of the side and a cutout of half the side, all differentiable, so
    that a discriminator shown only a few dozen real images cannot simply memorise them."""
    n = ops.shape(x)[0]
    h, w = x.shape[1], x.shape[2]
    x = x + (keras.random.uniform((n, 1, 1, 1), seed=seed_generator) - 0.5)
    mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
    x = (x - mean) * (keras.random.uniform((n, 1, 1, 1), seed=seed_generator) + 0.5) + mean
    # translation: shift each image by its own offset, filling with zeros
    sh, sw = int(h * 0.125 + 0.5), int(w * 0.125 + 0.5)
    ty = keras.random.randint((n, 1), -sh, sh + 1, seed=seed_generator)
    tx = keras.random.randint((n, 1), -sw, sw + 1, seed=seed_generator)
    gy = ops.clip(ops.arange(h)[None, :] + ty + 1, 0, h + 1)
    gx = ops.clip(ops.arange(w)[None, :] + tx + 1, 0, w + 1)
    x = tf.gather(tf.pad(x, [[0, 0], [1, 1], [0, 0], [0, 0]]), gy, axis=1, batch_dims=1)
    x = tf.gather(tf.pad(x, [[0, 0], [0, 0], [1, 1], [0, 0]]), gx, axis=2, batch_dims=1)
    # cutout: zero a square of half the side (14 on 28) centred anywhere on the image and cut
    # at its edges, as DiffAugment's
    ch, cw = int(h * 0.5 + 0.5), int(w * 0.5 + 0.5)
    top = keras.random.randint((n, 1, 1), 0, h + 1 - ch % 2, seed=seed_generator) - ch // 2
    left = keras.random.randint((n, 1, 1), 0, w + 1 - cw % 2, seed=seed_generator) - cw // 2
    rows = ops.arange(h)[None, :, None] - top
    cols = ops.arange(w)[None, None, :] - left
    inside = (rows >= 0) & (rows < ch) & (cols >= 0) & (cols < cw)
    return x * ops.cast(~inside, x.dtype)[..., None]


def mode_seeking_term(z, images):
    """MSGAN's term (Mao et al., 2019): the inverse of how far apart the images of two latent
    codes are, per unit of latent distance, over pairs (first half of the batch, second half).
    A generator learnt from a few dozen images lacks variety rather than finish; this pays it
    for spreading its images out."""
    h = ops.shape(z)[0] // 2
    image_gap = ops.mean(ops.abs(ops.cast(images[:h] - images[h:2 * h], "float32")), [1, 2, 3])
    latent_gap = ops.mean(ops.abs(z[:h] - z[h:2 * h]), 1)
    return 1.0 / (ops.mean(image_gap / latent_gap) + 1e-5)


class DCGAN(keras.Model):
    """Unconditional, or conditional when the generator takes [z, label] (then batches are
    (images, labels) and the discriminator sees the label too)."""

    def __init__(self, generator, discriminator, latent_dim, seed=0, diffaugment=False,
                 class_loss_weight=0.0, r1_weight=0.0, mode_seeking_weight=0.0,
                 rotation_weight=0.0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.conditional = len(generator.inputs) == 2
        self.diffaugment = diffaugment
        self.class_loss_weight = class_loss_weight  # conditional: the auxiliary classifier's
        self.r1_weight = r1_weight  # the R1 gradient penalty's (0: none)
        self.mode_seeking_weight = mode_seeking_weight  # the mode-seeking term's (0: none)
        self.rotation_weight = rotation_weight  # the rotation heads' (0: none)
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

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def _generate(self, n, labels):
        z = self.noise(n)
        return self.generator([z, labels] if self.conditional else z, training=True)

    def _outputs(self, images, labels):
        """The discriminator's outputs, as a list: realness logits first, then the class
        logits (conditional), then the rotation heads' logits (rotation_weight > 0)."""
        if self.diffaugment:
            images = diff_augment(images, self.seed_generator)
        out = self.discriminator([images, labels] if self.conditional else images,
                                 training=True)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    def _discriminate(self, images, labels):
        """(realness logits, class loss): the class loss is the auxiliary classifier's cross-
        entropy against `labels` (conditional GANs; 0 otherwise)."""
        out = self._outputs(images, labels)
        if not self.conditional:
            return out[0], 0.0
        return out[0], ops.mean(keras.losses.sparse_categorical_crossentropy(
            labels, out[1], from_logits=True))

    def _turned_loss(self, images, labels, target):
        """The rotation heads' loss (DAG): each quarter turn of the images judged by its own
        head against `target` (1: real, 0: generated), averaged over the three turns. The
        heads judge realness alone; a conditional GAN's label still goes in, unread by them."""
        if not self.rotation_weight:
            return 0.0
        losses = [self.loss_fn(target, self._outputs(tf.image.rot90(images, k), labels)[-1]
                               [:, k - 1:k]) for k in (1, 2, 3)]
        return self.rotation_weight * sum(losses) / 3.0

    def _discriminate_real(self, images, labels):
        """`_discriminate` on real images, and the R1 penalty (Mescheder et al., 2018; 0 when
        r1_weight is 0): a discriminator that has seen few real images turns steep around
        them; penalising its slope there keeps the generator's signal smooth. Called inside
        the discriminator's tape, so that the penalty is differentiated too."""
        if not self.r1_weight:
            return (*self._discriminate(images, labels), 0.0)
        images = ops.convert_to_tensor(images)
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(images)
            logits, class_loss = self._discriminate(images, labels)
            realness = ops.sum(logits)
        slope = tape.gradient(realness, images)
        return logits, class_loss, 0.5 * self.r1_weight * ops.mean(
            ops.sum(ops.square(slope), [1, 2, 3]))

    def train_step(self, data):
        real_images, labels = data if self.conditional else (data, None)
        n = ops.shape(real_images)[0]
        fake_images = self._generate(n, labels)
        ones, zeros = ops.ones((n, 1)), ops.zeros((n, 1))
        w = self.class_loss_weight

        with tf.GradientTape() as tape:
            real_logits, real_class_loss, slope_penalty = self._discriminate_real(real_images,
                                                                                  labels)
            fake_logits, _ = self._discriminate(fake_images, labels)
            # the classifier learns the classes from real images only, so that it cannot be
            # taught to read the generator's mistakes as the class asked for
            d_loss = 0.5 * (self.loss_fn(ones, real_logits) + self.loss_fn(zeros, fake_logits)) \
                + w * real_class_loss + slope_penalty + 0.5 * (
                    self._turned_loss(real_images, labels, ones)
                    + self._turned_loss(fake_images, labels, zeros))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        with tf.GradientTape() as tape:
            z = self.noise(n)
            if self.conditional and self.mode_seeking_weight:
                # image i and image n // 2 + i form a pair of mode_seeking_term: asked for the
                # same class, their gap is variety within the class, not the gap between classes
                labels = ops.concatenate([labels[:n // 2], labels[:n - n // 2]])
            fooled = self.generator([z, labels] if self.conditional else z, training=True)
            fooled_logits, fake_class_loss = self._discriminate(fooled, labels)
            g_loss = self.loss_fn(ones, fooled_logits) + w * fake_class_loss \
                + self._turned_loss(fooled, labels, ones)
            if self.mode_seeking_weight:
                g_loss += self.mode_seeking_weight * mode_seeking_term(z, fooled)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(ops.mean(ops.sigmoid(real_logits)))
        self.d_fake_tracker.update_state(ops.mean(ops.sigmoid(fake_logits)))
        return {m.name: m.result() for m in self.metrics}


def make_optimizers(gan_cfg):
    if gan_cfg.optimizer == "rmsprop":
        # The seed's RMSprop(lr, decay=6e-8): Keras 3 spells that decay as a schedule. (The
        # seed's adversarial model ran its generator at half the rate, gan.g_learning_rate,
        # and half the decay, 3e-8: over 3,000 steps either decay moves the rate by under
        # 0.02%, so both optimizers take the discriminator's.)
        def opt(lr):
            return keras.optimizers.RMSprop(keras.optimizers.schedules.InverseTimeDecay(
                lr, decay_steps=1, decay_rate=6e-8))
    else:
        def opt(lr):
            return keras.optimizers.Adam(lr, beta_1=gan_cfg.beta_1)
    return opt(gan_cfg.d_learning_rate), opt(gan_cfg.g_learning_rate)


def build(gan_cfg, image_shape, seed, n_classes=0, diffaugment=False):
    """A compiled DCGAN; conditional on the label when n_classes > 0."""
    keras.utils.set_random_seed(seed)
    return _assemble(gan_cfg, image_shape, seed, n_classes, diffaugment)


def _assemble(gan_cfg, image_shape, seed, n_classes, diffaugment):
    generator, discriminator = networks.build_gan_networks(
        gan_cfg.architecture, gan_cfg.latent_dim, image_shape, n_classes, gan_cfg.precision,
        rotation_heads=gan_cfg.rotation_weight > 0)
    model = DCGAN(generator, discriminator, gan_cfg.latent_dim, seed=seed,
                  diffaugment=diffaugment, class_loss_weight=gan_cfg.class_loss_weight,
                  r1_weight=gan_cfg.r1_weight, mode_seeking_weight=gan_cfg.mode_seeking_weight,
                  rotation_weight=gan_cfg.rotation_weight)
    d_opt, g_opt = make_optimizers(gan_cfg)
    model.compile(d_opt, g_opt, keras.losses.BinaryCrossentropy(from_logits=True))
    # Built up front so that a checkpoint (weights and optimizer state) can be restored into it.
    z = ops.zeros((1, gan_cfg.latent_dim))
    model([z, ops.zeros((1,), dtype="int32")] if n_classes else z)
    d_opt.build(discriminator.trainable_weights)
    g_opt.build(generator.trainable_weights)
    return model


def compiled_key(kind, gan_cfg, image_shape, *more):
    """What shapes a generative model's traced training step: all of gan.* but its length."""
    hyper = tuple(sorted((k, v) for k, v in vars(gan_cfg).items()
                         if k not in ("steps", "generator_steps", "log_every")))
    return (kind, hyper, tuple(image_shape), *more)


# tf.data's autotuner wakes on its own clock: with it on, a whole fit here now and then ran
# each step in a multiple of ~42 ms, as slow as half speed (docs/speed.md). Our input
# pipelines only shuffle and batch arrays in memory, so a fixed prefetch of two batches and no
# autotuner lose nothing.
FIXED_PIPELINE = tf.data.Options()
FIXED_PIPELINE.autotune.enabled = False


def image_batches(images, batch_size, seed, labels=None):
    """uint8 images -> an endless, shuffled tf.data stream of float batches in [0, 1]. With
    labels, batches are (images, labels) drawn class-balanced, so that a minority of a few
    dozen images is seen as often as each majority class."""
    x = np.asarray(images, dtype="float32") / 255.0
    if labels is None:
        ds = tf.data.Dataset.from_tensor_slices(x).repeat()
        ds = ds.shuffle(max(len(x), 1024), seed=seed)
    else:
        labels = np.asarray(labels, dtype="int32")
        classes = np.unique(labels)
        per_class = [tf.data.Dataset.from_tensor_slices((x[labels == c], labels[labels == c]))
                     .repeat().shuffle(1024, seed=seed + int(c)) for c in classes]
        ds = tf.data.Dataset.sample_from_datasets(per_class, seed=seed)
    return ds.batch(batch_size, drop_remainder=True).prefetch(2).with_options(FIXED_PIPELINE)


class Snapshots(keras.callbacks.Callback):
    """Saves the generator when training reaches each of the given step counts."""

    def __init__(self, paths, steps_per_epoch):
        super().__init__()
        self.paths, self.per = paths, steps_per_epoch  # {step: path}

    def on_epoch_end(self, epoch, logs=None):
        path = self.paths.get((epoch + 1) * self.per)
        if path is not None:
            save_generator(self.model.generator, path)


def train(images, gan_cfg, seed, backup_dir=None, labels=None, diffaugment=False,
          grid_label=None, snapshots=None):
    """Train a DCGAN on `images` (uint8, N x H x W x C), conditional when `labels` are given;
    `snapshots` ({step: path}) saves the generator along the way. `grid_label`: the class a
    conditional GAN's sample grids show; "all" (or None) shows each class in turn.
    Returns (model, history, sample grids over training)."""
    n_classes = 0 if labels is None else int(np.max(labels)) + 1
    if n_classes and (grid_label is None or isinstance(grid_label, str) and grid_label == "all"):
        grid_label = np.unique(labels)  # a conditional generator cannot draw without a label
    model = build(gan_cfg, images.shape[1:], seed, n_classes, diffaugment)
    per = min(gan_cfg.log_every, gan_cfg.steps)
    epochs = -(-gan_cfg.steps // per)
    grid, log, callbacks = progress.callbacks(gan_cfg, per, epochs, seed, backup_dir,
                                              label=grid_label if n_classes else None)
    if snapshots:
        bad = [s for s in snapshots if s % per]
        if bad:
            raise ValueError(f"snapshots {bad} are not multiples of gan.log_every = {per}")
        # a snapshot past the last step would never be written, and a later stage would find
        # no file: in tstr, gan.steps follows tstr.snapshots
        late = [s for s in snapshots if s > gan_cfg.steps]
        if late:
            raise ValueError(f"snapshots {late} come after gan.steps = {gan_cfg.steps}: "
                             "training stops before them (tstr trains to max(tstr.snapshots))")
        callbacks.insert(0, Snapshots(snapshots, per))
    kind = f"conditional {gan_cfg.architecture} ({n_classes} classes)" if n_classes else \
        gan_cfg.architecture
    print(f"training {kind}{' with DiffAugment' if diffaugment else ''} on {len(images)} "
          f"images: {epochs * per} steps of batch {gan_cfg.batch_size}", flush=True)
    shape = images.shape[1:]
    fit_chunks(model, compiled_key("dcgan", gan_cfg, shape, n_classes, diffaugment),
               lambda: _assemble(gan_cfg, shape, seed, n_classes, diffaugment),
               image_batches(images, gan_cfg.batch_size, seed, labels), per, epochs,
               callbacks, backup_dir)
    return model, pd.DataFrame(log.rows), grid.grids


def fit_chunks(model, key, assemble, batches, per, epochs, callbacks, backup_dir):
    """Train a generative model (the DCGAN, the VAE) for `epochs` chunks of `per` steps on the
    model kept for `key`, going on from a killed training's last checkpoint in `backup_dir`,
    which is dropped once the training is whole."""
    with warnings.catch_warnings():
        # On resume Keras also restores the unused default `model.optimizer` and warns that it
        # has no state; a GAN's d_optimizer and g_optimizer are restored in full.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        compiled.fit(model, key, assemble,
                     lambda m: m.fit(batches.skip(progress.steps_done(backup_dir, per)),
                                     epochs=epochs, steps_per_epoch=per, callbacks=callbacks,
                                     verbose=0, shuffle=False))
    progress.drop_backup(backup_dir)


def save_generator(generator, path):
    with atomic_path(path) as tmp:
        generator.save(tmp)


def load_generator(path):
    return keras.models.load_model(path, compile=False)


# A saved generator says which prior it draws from by its name: this one's is N(0, 1).
VAE_DECODER = "vae_decoder"


def sample(generator, n, seed, batch_size=500, label=None, train_batch=None):
    """n images (uint8) from a trained generator, in batches, reproducible for a seed; a
    conditional generator needs the `label` to draw (an int, or an array of n labels).

    With `train_batch` (gan.batch_size), an unconditional GAN generator draws as it was
    trained: in batches of that size, batch normalisation using each batch's own statistics,
    so the images are those the discriminator judged, not those of the moving averages that
    inference mode uses (docs/generator_quality.md measures both).
    Conditional generators and the VAE's decoder ignore it: asked for one class, or fed the
    prior rather than the encoder's codes, their batches would be unlike those of training."""
    conditional = len(generator.inputs) == 2
    normal = generator.name == VAE_DECODER  # a VAE's prior is N(0, 1), the GANs' U(-1, 1)
    if conditional and label is None:
        raise ValueError("a conditional generator needs a label to sample")
    as_trained = bool(train_batch) and not conditional and not normal
    if as_trained:
        batch_size = train_batch
        moving = [v.numpy() for v in generator.non_trainable_variables]
    latent_dim = generator.inputs[0].shape[-1]
    labels = np.broadcast_to(np.asarray(label if label is not None else 0, "int32"), (n,))
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, n, batch_size):
        # a short last batch is filled up, so that every image shares a full batch's statistics
        shape = (batch_size if as_trained else min(batch_size, n - start), latent_dim)
        z = (rng.standard_normal(shape) if normal else rng.uniform(-1, 1, shape)).astype("float32")
        inputs = [z, labels[start:start + len(z)]] if conditional else z
        out.append(np.asarray(generator(inputs, training=as_trained))[:n - start])
    if as_trained:  # training mode moved the moving averages; leave the generator as it was
        for v, value in zip(generator.non_trainable_variables, moving):
            v.assign(value)
    if not out:
        return np.zeros((0,) + tuple(generator.output_shape[1:]), dtype=np.uint8)
    return np.clip(np.rint(np.concatenate(out) * 255.0), 0, 255).astype(np.uint8)
