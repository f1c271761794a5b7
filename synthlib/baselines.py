"""The cheap alternatives a GAN arm must beat: oversampling, SMOTE and classic augmentation
(imbalanced-learn and Keras preprocessing layers). All work on the imbalanced training set
only; none ever sees validation or test images."""
from __future__ import annotations

import keras
import numpy as np
from imblearn.over_sampling import SMOTE, RandomOverSampler


def random_oversample(x, y, seed):
    """Repeat minority images (drawn with replacement) until the classes balance."""
    idx, y_res = RandomOverSampler(random_state=seed).fit_resample(
        np.arange(len(y)).reshape(-1, 1), y)
    return x[idx[:, 0]], y_res


def smote(x, y, seed):
    """SMOTE on flattened pixels: new minority images on lines between minority neighbours."""
    n_minority = int(np.min(np.bincount(y)))
    if n_minority < 2:  # SMOTE needs two minority images to interpolate between
        return random_oversample(x, y, seed)
    sampler = SMOTE(random_state=seed, k_neighbors=min(5, n_minority - 1))
    flat, y_res = sampler.fit_resample(x.reshape(len(x), -1).astype("float32"), y)
    images = np.clip(np.rint(flat), 0, 255).astype(np.uint8).reshape((-1,) + x.shape[1:])
    return images, y_res


def augmenter(aug_cfg, seed):
    """Rotation, zoom, translation; horizontal flips only where labels survive. (Brightness
    is applied by `augment`.)

    Each resamples with the nearest pixel: keras' default, bilinear, smooths every copy, three
    times over, and a classifier then learns "smooth = minority", a cue no real test image
    carries (docs/runs.md: the arm's classifier never named a Fashion-MNIST shirt)."""
    sharp = dict(fill_mode="constant", interpolation="nearest")
    steps = [
        keras.layers.RandomRotation(aug_cfg.rotation / 360.0, seed=seed, **sharp),
        keras.layers.RandomZoom(aug_cfg.zoom, seed=seed + 1, **sharp),
        keras.layers.RandomTranslation(aug_cfg.translation, aug_cfg.translation,
                                       seed=seed + 2, **sharp),
    ]
    if aug_cfg.horizontal_flip:
        steps.append(keras.layers.RandomFlip("horizontal", seed=seed + 4))
    return keras.Sequential(steps, name="augmentation")


def augment(images, n, aug_cfg, seed, batch_size=500):
    """n augmented copies of randomly chosen `images` (uint8 in, uint8 out)."""
    if n <= 0:
        return np.zeros((0,) + images.shape[1:], dtype=np.uint8)
    rng = np.random.default_rng(seed)
    source = images[rng.integers(0, len(images), n)].astype("float32") / 255.0
    model = augmenter(aug_cfg, seed)
    out = np.concatenate([np.asarray(model(source[i:i + batch_size], training=True))
                          for i in range(0, n, batch_size)])
    # Brightness as a gain, not an offset: keras' RandomBrightness adds a constant, which greys
    # a black background, and a classifier then learns "grey background = minority", a cue no
    # real test image carries.
    gain = rng.uniform(1 - aug_cfg.brightness, 1 + aug_cfg.brightness, (n,) + (1,) * (out.ndim - 1))
    return np.clip(np.rint(out * gain * 255.0), 0, 255).astype(np.uint8)
