"""Which generated images join a training set, chosen with what the scenario has.

Kernel herding (Welling, 2009; Chen, Welling & Smola, 2010) with a linear kernel: from a pool
of generated images, take one at a time the image most aligned with what the running mean of
those taken still lacks of a target mean. (Herding's step, not the greedy one that brings the
running mean closest to the target: that step also subtracts half each image's squared norm,
so herding leans to images of larger features. The measurements in
docs/generator_quality.md are herding's.) The features are the GAN's own discriminator's (the layer under its
realness logit), the target the kept minority images' mean in them: the discriminator learnt
from those images alone, so neither the measuring oracle nor a dropped image has a say.

Why: a minority DCGAN that learns from a few dozen images spreads its output around them but
off centre, and a third of its Fréchet distance to the real class is the distance between the
means. On the development measure, taking each image from ten drawn closed part of that gap;
in a whole full run, read by an independent classifier, it did not, though the write-up's own
check read lower (docs/generator_quality.md). So it is an option (`generate.select_from`), off
by default; the generator itself is unchanged either way.
"""
from __future__ import annotations

import keras
import numpy as np

from synthlib import networks

BLOCK = 100  # images herded at a time: each run of about a Fréchet check's n tracks the mean


def herd(features, target, k):
    """Indices of k distinct rows of `features` whose running mean tracks `target`.

    Step t takes the row with the largest <f, w_t>, where w_t = (t + 1) target - (the sum of
    the rows taken); with the rows' Gram matrix that score costs one vector add per step
    instead of a product with every feature."""
    features = np.asarray(features, "float64")
    if k > len(features):
        raise ValueError(f"cannot herd {k} rows from {len(features)}")
    toward, gram = features @ np.asarray(target, "float64"), features @ features.T
    taken_sum, free, chosen = np.zeros(len(features)), np.ones(len(features), bool), []
    for t in range(k):
        score = (t + 1) * toward - taken_sum
        score[~free] = -np.inf
        i = int(np.argmax(score))
        chosen.append(i)
        free[i] = False
        taken_sum += gram[:, i]
    return np.array(chosen, dtype=int)


def discriminator_features(discriminator):
    """The unconditional discriminator's features: what its realness logit reads."""
    return keras.Model(discriminator.input, networks.realness_layer(discriminator).input)


def _features(model, images, batch_size=1000):
    # called on one block at a time: a direct call, without predict's per-call set-up
    out = [np.asarray(model(np.asarray(images[i:i + batch_size], "float32") / 255.0,
                            training=False)) for i in range(0, len(images), batch_size)]
    return np.concatenate(out).astype("float64").reshape(len(images), -1)


def select(pool, kept, discriminator, n):
    """n images (uint8) of `pool`, herded in blocks of BLOCK from consecutive equal shares of
    it towards the mean of `kept` (the images the GAN learnt from) in the discriminator's
    features, each feature scaled by its spread over the pool's first 50 x BLOCK (5,000)
    images (the whole pool's features at once would take gigabytes)."""
    per = len(pool) // n
    if per < 1:
        raise ValueError(f"a pool of {len(pool)} images cannot give {n}")
    model = discriminator_features(discriminator)
    scale = _features(model, pool[:min(len(pool), 50 * BLOCK)]).std(0) + 1e-6
    target = _features(model, kept).mean(0) / scale
    out = []
    for start in range(0, n, BLOCK):
        k = min(BLOCK, n - start)
        candidates = pool[start * per:(start + k) * per]
        out.append(candidates[herd(_features(model, candidates) / scale, target, k)])
    return np.concatenate(out)
