"""Network builders: each returns a fresh `keras.Model`. Images are floats in [0, 1].

GAN presets are chosen by name (`gan.architecture`):
- `seed_dcgan`: the seed notebook's generator and discriminator, layer for layer;
- `light_dcgan`: the default, about a twentieth of the seed's multiply-adds per step, for
  laptop CPUs (its samples score as well with the oracle as the seed-sized networks' at these
  sizes).
Discriminators return logits; the losses use `from_logits=True` (the seed's final sigmoid is the
same model, just less stable numerically).
"""
from __future__ import annotations

import contextlib

import keras
import tensorflow as tf
from keras import layers, ops


@keras.saving.register_keras_serializable(package="synthlib")
class BatchNormalization(layers.BatchNormalization):
    """`keras.layers.BatchNormalization`, trained with TensorFlow's fused kernel.

    Keras 3 normalises a training batch with separate ops for the moments and the transform
    (keras-team/keras-core#225); TensorFlow's FusedBatchNormV3 does it in one, 2-4x faster
    on the generators' feature maps here, and the light generator spends a third of its
    forward pass in batch normalisation. Same function, same moving statistics (Keras 3's,
    from the biased variance); inference, masks, renormalisation and other axes take the
    Keras path."""

    def call(self, inputs, training=None, mask=None):
        rank = len(inputs.shape)
        if not (training and self.trainable) or mask is not None or self.renorm \
                or self.synchronized or rank not in (2, 4) or self.axis not in (-1, rank - 1):
            return super().call(inputs, training=training, mask=mask)
        # The kernel reads bfloat16 as it is and keeps the moments in float32, where Keras
        # casts to float32 first (moments of bfloat16 overflow): the same numbers without the
        # casts, which took 3% of the seed network's bfloat16 step (bit for bit the same
        # weights after a bfloat16 training here)
        x = inputs if inputs.dtype in ("float32", "bfloat16") else ops.cast(inputs, "float32")
        if rank == 2:
            x = x[:, None, None, :]
        channels = x.shape[-1]
        gamma = self.gamma if self.scale else tf.ones(channels)
        beta = self.beta if self.center else tf.zeros(channels)
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            x, gamma, beta, epsilon=self.epsilon, is_training=True)
        count = ops.cast(ops.size(x) // channels, "float32")
        variance = variance * (count - 1.0) / count  # the kernel returns the unbiased one
        self.moving_mean.assign(self.moving_mean * self.momentum
                                + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum
                                    + variance * (1.0 - self.momentum))
        if rank == 2:
            y = y[:, 0, 0, :]
        return ops.cast(y, self.compute_dtype)


def _check_size(image_shape, name):
    h, w, _ = image_shape
    if h != w or h % 4:
        raise ValueError(f"{name} needs square images with a side divisible by 4, got {h}x{w}")
    return h // 4


def _generator_inputs(latent_dim, n_classes):
    """z alone, or [z, label] with the label embedded and joined to z (conditional GAN)."""
    z = keras.Input((latent_dim,), name="z")
    if not n_classes:
        return z, z
    label = keras.Input((), dtype="int32", name="label")
    # 50 numbers per class: the size the widely copied Keras conditional-GAN recipe uses, not
    # one tuned here
    embedded = layers.Embedding(n_classes, 50)(label)
    return [z, label], layers.Concatenate()([z, embedded])


def _discriminator_inputs(image_shape, n_classes):
    """The image, and for a conditional GAN its label too (read by the head, not the body)."""
    img = keras.Input(image_shape, name="image")
    if not n_classes:
        return img, img
    return [img, keras.Input((), dtype="int32", name="label")], img


def _discriminator_head(inputs, features, n_classes, name="discriminator"):
    """Realness logit; conditional: a projection discriminator (Miyato & Koyama, 2018), the
    logit plus <embed(label), features>, and class logits from the same features for the
    auxiliary classifier loss (AC-GAN): the body sees the image alone, and the label enters
    only through the projection, so the class head must find the class in the image."""
    logit = layers.Dense(1, dtype="float32", name="realness")(features)  # realness_layer
    if not n_classes:
        return keras.Model(inputs, logit, name=name)
    embedded = layers.Embedding(n_classes, features.shape[-1])(inputs[1])
    projection = layers.Dot(axes=1, dtype="float32")([embedded, features])
    logit = layers.Add(dtype="float32")([logit, projection])
    class_logits = layers.Dense(n_classes, dtype="float32", name="class_logits")(features)
    return keras.Model(inputs, [logit, class_logits], name=name)


def seed_dcgan_generator(latent_dim=100, image_shape=(28, 28, 1), n_classes=0):
    start = _check_size(image_shape, "seed_dcgan")
    inputs, z = _generator_inputs(latent_dim, n_classes)
    x = layers.Dense(start * start * 128)(z)
    x = layers.Reshape((start, start, 128))(x)
    for filters, stride in ((128, 2), (64, 2), (32, 1)):
        x = BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 5, strides=stride, padding="same")(x)
    x = BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2DTranspose(image_shape[-1], 5, strides=1, padding="same")(x)
    out = layers.Activation("sigmoid", dtype="float32")(x)
    return keras.Model(inputs, out, name="generator")


def seed_dcgan_discriminator(image_shape=(28, 28, 1), n_classes=0):
    inputs, x = _discriminator_inputs(image_shape, n_classes)
    for filters, stride in ((32, 2), (64, 2), (128, 2), (256, 1)):
        x = layers.LeakyReLU(0.2)(x)
        x = layers.Conv2D(filters, 5, strides=stride, padding="same")(x)
    return _discriminator_head(inputs, layers.Flatten()(x), n_classes)


def light_dcgan_generator(latent_dim=100, image_shape=(28, 28, 1), n_classes=0):
    start = _check_size(image_shape, "light_dcgan")
    inputs, z = _generator_inputs(latent_dim, n_classes)
    x = layers.Dense(start * start * 64, use_bias=False)(z)
    x = BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Reshape((start, start, 64))(x)
    for filters in (32, 16):
        x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False)(x)
        x = BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    x = layers.Conv2D(image_shape[-1], 3, padding="same")(x)
    out = layers.Activation("sigmoid", dtype="float32")(x)
    return keras.Model(inputs, out, name="generator")


def light_dcgan_discriminator(image_shape=(28, 28, 1), n_classes=0):
    inputs, x = _discriminator_inputs(image_shape, n_classes)
    x = layers.Conv2D(32, 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2D(64, 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Dropout(0.3)(layers.Flatten()(x))
    return _discriminator_head(inputs, x, n_classes)


GAN_PRESETS = {
    "seed_dcgan": (seed_dcgan_generator, seed_dcgan_discriminator),
    "light_dcgan": (light_dcgan_generator, light_dcgan_discriminator),
}


def build_generator(architecture, latent_dim, image_shape, n_classes=0, precision="float32"):
    """The preset's generator alone (a VAE's decoder): as `build_gan_networks` builds it."""
    make_g, _ = GAN_PRESETS[architecture]
    with dtype_policy(precision):
        return make_g(latent_dim, image_shape, n_classes)


def build_gan_networks(architecture, latent_dim, image_shape, n_classes=0,
                       precision="float32", rotation_heads=False):
    """Generator and discriminator; both also take a label when n_classes > 0. Under
    `mixed_bfloat16` they compute in bfloat16 and keep float32 weights; their outputs (the
    images, the logits) stay float32 either way. `rotation_heads`: see `with_rotation_heads`."""
    make_g, make_d = GAN_PRESETS[architecture]
    with dtype_policy(precision):
        generator, discriminator = (make_g(latent_dim, image_shape, n_classes),
                                    make_d(image_shape, n_classes))
        if rotation_heads:
            discriminator = with_rotation_heads(discriminator)
    return generator, discriminator


def realness_layer(discriminator):
    """The discriminator's realness logit (a conditional one adds its projection to it); its
    input is the features every head reads."""
    return discriminator.get_layer("realness")


def with_rotation_heads(discriminator):
    """The discriminator with one more output: three realness logits read off the same
    features as its own, one for images turned by each of 90, 180 and 270 degrees (DAG, Tran
    et al., 2021). A turned 5 is no 5, so each turn has a head of its own, and the generator
    matches the real images only if it matches them turned too; the shared layers learn from
    four views of each of a few dozen real images."""
    turned = layers.Dense(3, dtype="float32", name="rotation_logits")(
        realness_layer(discriminator).input)
    return keras.Model(discriminator.input, [*discriminator.outputs, turned],
                       name=discriminator.name)


@contextlib.contextmanager
def dtype_policy(name):
    """Layers built inside take the Keras dtype policy `name`; the global one is restored."""
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


# ---- classifiers ------------------------------------------------------------------------

def seed_mlp(image_shape=(28, 28, 1), n_classes=2):
    """Seed 000's evaluation model as written, 16-1-2 bottleneck included."""
    img = keras.Input(image_shape)
    x = layers.Flatten()(img)
    x = layers.Dense(16, activation="sigmoid")(x)
    x = layers.Dense(1, activation="sigmoid")(x)
    out = layers.Dense(n_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(img, out, name="seed_mlp")


def small_cnn(image_shape=(28, 28, 1), n_classes=2):
    """keras.io's MNIST convnet with a 128-unit dense layer, `features`, added before its
    dropout and output: the penultimate layer the oracle measures with."""
    img = keras.Input(image_shape)
    x = layers.Conv2D(32, 3, activation="relu")(img)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    # Not in keras.io's convnet, which goes from Flatten through Dropout to the softmax: a
    # 128-wide layer whose activations are the features the oracle's Fréchet distance and KID
    # compare (quality.feature_model), rather than the 1,600 flattened conv outputs.
    x = layers.Dense(128, activation="relu", name="features")(x)
    x = layers.Dropout(0.5)(x)
    out = layers.Dense(n_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(img, out, name="small_cnn")


CLASSIFIERS = {"seed_mlp": seed_mlp, "small_cnn": small_cnn}


def build_classifier(name, image_shape, n_classes, precision="float32"):
    """Under `mixed_bfloat16` the layers compute in bfloat16 and keep float32 weights; the
    class probabilities (softmax) stay float32 either way."""
    with dtype_policy(precision):
        return CLASSIFIERS[name](image_shape, n_classes)
