"""Generator quality against training time: the curve `make bench` draws, and the time each
generator needs to reach the stated quality (`validity.label_agreement`, and a Fréchet distance
at most `validity.frechet_ratio` times the real-vs-real one at the same n).

The five_minority scenario, seed 0, on this machine's MNIST: the minority DCGAN learns from the
kept minority images, the conditional GAN from the whole imbalanced training set; after every
chunk of steps each is asked for minority images, which the measuring oracle (small CNN on the
full training split) reads: label agreement, and the Fréchet distance to the real training
minority in its features, beside held-out real minority images at the same n. Each point is
the mean of DRAWS draws of n images: one draw's ratio varies by about 0.2, enough to cross the
threshold by chance. The clock counts training only, measurement excluded.
"""
from __future__ import annotations

import time

import keras
import numpy as np
import pandas as pd

from synthlib import classifiers, data, gan, imbalance, labeling, params, quality
from synthlib.studies import common

DRAWS = 4


class Scenario:
    """The data, split and oracle every curve is measured with."""

    def __init__(self, params_file="params/five_minority.yaml", seed=0, oracle_steps=None):
        cfg = params.load(params_file, "full")
        self.cfg = cfg
        self.ds = data.load(cfg.data)
        self.split = imbalance.make_split(self.ds.y, cfg.split, cfg.imbalance, seed)
        self.seed = seed
        ds, sp = self.ds, self.split
        if oracle_steps:  # the tests' tiny oracle
            cfg.label.oracle_steps = oracle_steps
        # the write-ups' measuring oracle, trained the same way, so the bench's "stated quality"
        # is the one their checks read
        self.oracle, _ = labeling.train_oracle(ds, sp, cfg, seed)
        self.minority = sp.minority_class
        self.features = quality.feature_model(self.oracle)
        self.pool = quality.features(self.features, ds.x[sp.train][ds.y[sp.train] == self.minority])
        self.heldout = ds.x[sp.validation][ds.y[sp.validation] == self.minority]
        self.reference = self.measure(self.heldout)
        # Both generators see only the kept minority images: a copy of those (drawn with
        # repeats to the same n) is about as close as a generator that memorised them gets.
        kept = ds.x[sp.kept_minority]
        copies = kept[np.random.default_rng(seed).integers(0, len(kept),
                                                            DRAWS * len(self.heldout))]
        self.copy_ratio = (self.measure_draws(copies)["frechet_distance"]
                           / self.reference["frechet_distance"])

    def training_set(self, kind):
        """(images, labels or None) a generator of `kind` learns from."""
        ds, sp = self.ds, self.split
        if kind == "cgan_all_classes":
            return ds.x[sp.imbalanced], ds.y[sp.imbalanced]
        return ds.x[sp.kept_minority], None

    def measure_draws(self, images):
        """`measure` averaged over the DRAWS consecutive draws of n that `images` holds."""
        n = len(self.heldout)
        return pd.DataFrame([self.measure(images[d * n:(d + 1) * n])
                             for d in range(DRAWS)]).mean().to_dict()

    def measure(self, images):
        """Oracle label agreement and Fréchet distance of minority images (n = held out)."""
        images = images[:len(self.heldout)]
        proba = classifiers.predict_proba(self.oracle, images)
        return {"label_agreement": float(np.mean(proba.argmax(1) == self.minority)),
                "frechet_distance": quality.frechet_distance(
                    quality.features(self.features, images), self.pool)}


class _Measure(keras.callbacks.Callback):
    """After each chunk: sample, measure, with the clocks stopped while doing so."""

    def __init__(self, scenario, per, conditional):
        super().__init__()
        self.s, self.per, self.conditional = scenario, per, conditional
        self.rows = []

    def on_train_begin(self, logs=None):
        self.wall, self.cpu = time.perf_counter(), time.process_time()  # training clocks
        self.trained_wall = self.trained_cpu = 0.0

    def on_epoch_end(self, epoch, logs=None):
        self.trained_wall += time.perf_counter() - self.wall
        self.trained_cpu += time.process_time() - self.cpu
        images = gan.sample(self.model.generator, DRAWS * len(self.s.heldout), seed=epoch,
                            label=self.s.minority if self.conditional else None,
                            train_batch=common.train_batch(self.s.cfg))
        m = self.s.measure_draws(images)
        self.rows.append({"step": (epoch + 1) * self.per, "wall_seconds": self.trained_wall,
                          "cpu_seconds": self.trained_cpu, **m,
                          "frechet_ratio": m["frechet_distance"]
                          / self.s.reference["frechet_distance"]})
        self.wall, self.cpu = time.perf_counter(), time.process_time()


def curve(scenario, kind, gan_cfg, steps, every):
    """Quality after every `every` steps of one generator, up to `steps`: a DataFrame."""
    images, labels = scenario.training_set(kind)
    n_classes = 0 if labels is None else int(scenario.ds.y.max()) + 1
    model = gan.build(gan_cfg, images.shape[1:], scenario.seed, n_classes)
    measure = _Measure(scenario, every, n_classes > 0)
    print(f"{kind} {gan_cfg.architecture} {gan_cfg.precision} (R1 {gan_cfg.r1_weight}, "
          f"mode seeking {gan_cfg.mode_seeking_weight}): {steps} steps on {len(images)} images",
          flush=True)
    model.fit(gan.image_batches(images, gan_cfg.batch_size, scenario.seed, labels),
              epochs=steps // every, steps_per_epoch=every, verbose=0, callbacks=[measure],
              shuffle=False)
    out = pd.DataFrame(measure.rows).assign(generator=kind, architecture=gan_cfg.architecture,
                                            precision=gan_cfg.precision)
    last = out.iloc[-1]
    print(f"  after {int(last.step)} steps ({last.wall_seconds:.0f} s): agreement "
          f"{last.label_agreement:.3f}, Fréchet ratio {last.frechet_ratio:.2f}", flush=True)
    return out


def time_to_quality(curve_df, validity_cfg):
    """The first point where both quality thresholds hold, or None."""
    ok = curve_df[(curve_df.label_agreement >= validity_cfg.label_agreement)
                  & (curve_df.frechet_ratio <= validity_cfg.frechet_ratio)]
    return None if ok.empty else ok.iloc[0]
