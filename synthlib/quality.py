"""How good are the synthetic images? Each measure is computed twice at the same sample count:
synthetic vs real, and real held-out vs real (the reference a perfect generator would match).

Features come from the measuring oracle's penultimate layer (`features`), so the Fréchet
distance and KID here are "FID/KID in a digit classifier's space", not Inception-based.
"""
from __future__ import annotations

import keras
import numpy as np
from scipy import linalg
from sklearn.neighbors import NearestNeighbors

from synthlib import classifiers
from synthlib.config import MIN_IMAGES


def feature_model(oracle):
    return keras.Model(oracle.input, oracle.get_layer("features").output)


def features(model, images):
    """`model`'s outputs for `images`, in float64 for the covariances. predict_proba is only
    the batched, inference-mode call here: on the feature model its outputs are the features,
    not probabilities."""
    return classifiers.predict_proba(model, images).astype("float64")


def frechet_distance(a, b):
    """Fréchet distance between Gaussians fitted to two feature sets."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    # ReLU features leave dead units, so the covariances are singular: a tiny ridge keeps the
    # matrix square root stable. (pytorch-fid adds one only when the root fails; added always
    # here, so that every distance is computed the same way.)
    ridge = 1e-6 * np.eye(a.shape[1])
    cov_a, cov_b = np.cov(a, rowvar=False) + ridge, np.cov(b, rowvar=False) + ridge
    covmean = linalg.sqrtm(cov_a @ cov_b).real
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * covmean))


def kernel_inception_distance(a, b):
    """Unbiased squared MMD with the cubic polynomial kernel (KID, Binkowski et al. 2018), in
    the features' squared units, unscaled. Unbiased, so it can fall below zero where the two
    sets come from one distribution (04 tells its readers so)."""
    d = a.shape[1]

    def k(x, y):
        return (x @ y.T / d + 1.0) ** 3
    m, n = len(a), len(b)
    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    return float((kaa.sum() - np.trace(kaa)) / (m * (m - 1))
                 + (kbb.sum() - np.trace(kbb)) / (n * (n - 1)) - 2 * kab.mean())


def classifier_score(proba):
    """exp E[KL(p(y|x) || p(y))]: the Inception Score with the oracle as the classifier."""
    eps = 1e-12
    marginal = proba.mean(0, keepdims=True)
    kl = np.sum(proba * (np.log(proba + eps) - np.log(marginal + eps)), axis=1)
    return float(np.exp(kl.mean()))


def nearest_distances(images, reference):
    """Pixel-space L2 distance (images scaled to [0, 1]) from each image to its nearest
    reference image."""
    flat = lambda x: np.asarray(x, "float32").reshape(len(x), -1) / 255.0  # noqa: E731
    nn = NearestNeighbors(n_neighbors=1).fit(flat(reference))
    return nn.kneighbors(flat(images))[0][:, 0]


def measure_set(images, real_pool, training_images, oracle, feats, target_class, threshold,
                near_duplicate, median_real_distance):
    """All measures for one image set against the real pool (features) and the generator's
    training images (memorisation)."""
    from synthlib.labeling import measure

    proba = classifiers.predict_proba(oracle, images)
    f = features(feats, images)
    distances = nearest_distances(images, training_images)
    out = measure(proba, target_class, threshold)
    out.update({
        "frechet_distance": frechet_distance(f, real_pool),
        "kid": kernel_inception_distance(f, real_pool),
        "classifier_score": classifier_score(proba),
        "nn_distance_median": float(np.median(distances)),
        "near_duplicate_share": float(np.mean(distances < near_duplicate
                                              * median_real_distance)),
    })
    return out


def compare(synthetic, real_heldout, real_pool_images, training_images, oracle, target_class,
            threshold, quality_cfg, seed):
    """(synthetic measures, real-vs-real reference measures), both at the same sample count.

    real_heldout: real minority images no generator saw (validation split);
    real_pool_images: the real minority images the features are compared with (train split);
    training_images: what the generator learned from (memorisation is measured against it).
    """
    rng = np.random.default_rng(seed)
    n = min(quality_cfg.samples, len(real_heldout), len(synthetic))
    if n < MIN_IMAGES:
        raise ValueError(f"quality: only {n} images to compare; need at least {MIN_IMAGES}")
    # the reference first: two image sets compared with the same seed and n (a generator's
    # output before and after a filter) share one real reference
    real = real_heldout[rng.choice(len(real_heldout), n, replace=False)]
    picks = disjoint_draws(rng, len(synthetic), n, quality_cfg.draws)
    feats = feature_model(oracle)
    pool = features(feats, real_pool_images)
    median_real = float(np.median(nearest_distances(real, training_images)))
    args = (pool, training_images, oracle, feats, target_class, threshold,
            quality_cfg.near_duplicate, median_real)
    synthetic_measures = _mean([measure_set(synthetic[p], *args) for p in picks])
    # What a perfect copy of the generator's training images would score: what memorising
    # them gets. No floor: a few dozen images drawn with repeats vary less than the real class,
    # and a generator that varies beyond them can come closer (docs/generator_quality.md).
    synthetic_measures["training_images_frechet"] = float(np.mean([frechet_distance(
        features(feats, training_images[rng.integers(0, len(training_images), n)]), pool)
        for _ in picks]))
    return synthetic_measures, measure_set(real, *args)


def disjoint_draws(rng, available, n, draws):
    """Up to `draws` disjoint draws of n indices: a Fréchet distance at a few dozen images
    varies from one draw to the next, and the synthetic side can afford several."""
    k = max(1, min(draws, available // n))
    return rng.permutation(available)[:k * n].reshape(k, -1)


def _mean(measures):
    """Key by key mean of measure dicts of several draws (counts stay per draw)."""
    return {k: v if k in ("images", "n") else float(np.mean([m[k] for m in measures]))
            for k, v in measures[0].items()}


def compare_sets(oracle, synthetic, real_heldout, real_pool, samples, seed,
                 synthetic_labels=None, heldout_labels=None, draws=1):
    """(synthetic measures, real-vs-real reference measures) at the same sample count n for
    image sets of several classes: the Fréchet distance of each to `real_pool` in the oracle's
    features and, where labels (oracle class indices) are given, the share the oracle agrees
    with. real_heldout: real images no generator saw, drawn like the synthetic set; the
    synthetic measures are the mean over up to `draws` disjoint draws of n."""
    rng = np.random.default_rng(seed)
    n = min(samples, len(real_heldout), len(synthetic))
    if n < MIN_IMAGES:
        raise ValueError(f"quality: only {n} images to compare; need at least {MIN_IMAGES}")
    feats = feature_model(oracle)
    pool = features(feats, real_pool)

    def measures(images, labels, pick):
        m = {"n": int(n),
             "frechet_distance": frechet_distance(features(feats, images[pick]), pool)}
        if labels is not None:
            predicted = classifiers.predict_proba(oracle, images[pick]).argmax(1)
            m["label_agreement"] = float(np.mean(predicted == np.asarray(labels)[pick]))
        return m

    synthetic_measures = _mean([measures(synthetic, synthetic_labels, p)
                                for p in disjoint_draws(rng, len(synthetic), n, draws)])
    real = rng.choice(len(real_heldout), n, replace=False)
    return synthetic_measures, measures(real_heldout, heldout_labels, real)
