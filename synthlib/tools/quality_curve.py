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

`make bench` keeps the oracle and each finished curve under build/bench/ (`kept_curve`), so
that an interrupted bench measures again only what it had not finished.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from synthlib import (classifiers, compiled, data, gan, imbalance, labeling, networks, params,
                      progress, quality, workers)
from synthlib.paths import atomic_path, code_digest, shown, write_text
from synthlib.studies import common

DRAWS = 4


class Scenario:
    """The data, split and oracle every curve is measured with."""

    def __init__(self, params_file="params/five_minority.yaml", seed=0, oracle_steps=None,
                 keep=None):
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
        self.oracle, _ = labeling.train_oracle(
            ds, sp, cfg, seed, keep=None if keep is None else Path(keep) / "oracle.keras")
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
        row = {"step": (epoch + 1) * self.per, "wall_seconds": self.trained_wall,
               "cpu_seconds": self.trained_cpu, **m,
               "frechet_ratio": m["frechet_distance"] / self.s.reference["frechet_distance"]}
        self.rows.append(row)
        # a curve runs for minutes (the seed network's for about twenty): a line a point
        print(f"  step {row['step']:,} of {self.params['epochs'] * self.per:,}: "
              f"{row['wall_seconds']:.0f} s training, agreement {row['label_agreement']:.3f}, "
              f"Fréchet ratio {row['frechet_ratio']:.2f}", flush=True)
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
    return pd.DataFrame(measure.rows).assign(
        generator=kind, architecture=gan_cfg.architecture, precision=gan_cfg.precision,
        measured_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))


def curve_key(scenario, kind, gan_cfg, steps, every):
    """What a curve depends on: the code that trains and measures it, its settings, the machine
    it is timed on, what its generator learns from, how its images are drawn (the scenario's
    generate.batch_statistics) and the instrument that reads it (the oracle's weights, the
    held-out images)."""
    h = hashlib.sha256(code_digest(sys.modules[__name__], gan, networks, compiled, progress,
                                   quality, classifiers).encode())
    images, labels = scenario.training_set(kind)
    for a in (images, *([] if labels is None else [labels]), scenario.heldout,
              *scenario.oracle.get_weights()):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(json.dumps([kind, dataclasses.asdict(gan_cfg), steps, every, DRAWS,
                         scenario.seed, workers.device(), common.train_batch(scenario.cfg)],
                        sort_keys=True, default=str).encode())
    return h.hexdigest()[:12]


def kept_curve(folder, scenario, kind, gan_cfg, steps, every):
    """`curve`, measured once: kept in `folder` as <kind>_<architecture>_<precision>.csv with
    the key of what it depends on (.key, written last). Called again with the same key (after
    an interrupted `make bench`) it reads the curve back; a curve cut off part-way is measured
    again whole. `folder` None: `curve`."""
    if folder is None:
        return curve(scenario, kind, gan_cfg, steps, every)
    name = f"{kind} {gan_cfg.architecture} {gan_cfg.precision}"
    path = Path(folder) / f"{name.replace(' ', '_')}.csv"
    key, key_file = curve_key(scenario, kind, gan_cfg, steps, every), path.with_suffix(".key")
    if key_file.exists() and key_file.read_text(encoding="utf-8") == key and path.exists():
        try:
            table = pd.read_csv(path)
            print(f"{name}: measured at {table.measured_at.iloc[0]} ({shown(path)}, key {key}), "
                  f"reused; delete {shown(folder)} to measure it again", flush=True)
            return table
        except Exception as e:  # noqa: BLE001 -- written whole (atomic_path): damaged outside
            print(f"{name}: kept curve unreadable ({type(e).__name__}), measured again",
                  flush=True)
    key_file.unlink(missing_ok=True)
    table = curve(scenario, kind, gan_cfg, steps, every)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    write_text(key_file, key)
    return table


def time_to_quality(curve_df, validity_cfg):
    """The first point where both quality thresholds hold, or None."""
    ok = curve_df[(curve_df.label_agreement >= validity_cfg.label_agreement)
                  & (curve_df.frechet_ratio <= validity_cfg.frechet_ratio)]
    return None if ok.empty else ok.iloc[0]
