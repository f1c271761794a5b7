"""A long training's progress: one log line (and, for a generator, one sample grid) per
chunk of steps, and,
given a folder, a checkpoint after each chunk that a killed training resumes from, bit for bit.

Every training here (GANs, the VAE, the classifiers) runs `fit` in chunks of `gan.log_every`
or its own, with these callbacks; what they keep lives in the training's backup folder until
the training ends (`drop_backup`).
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from synthlib.paths import atomic_path


class SampleGrid(keras.callbacks.Callback):
    """Generates the same latent points (and labels) after every chunk of steps."""

    def __init__(self, latent_dim, n=16, seed=0, steps_per_epoch=1, label=None, normal=False,
                 path=None):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.z = (rng.standard_normal((n, latent_dim)) if normal  # a VAE's prior
                  else rng.uniform(-1, 1, (n, latent_dim))).astype("float32")
        # one label for every sample, or a list of labels cycled over the samples
        self.labels = None if label is None else np.resize(np.asarray(label, "int32"), n)
        self.steps_per_epoch = steps_per_epoch
        self.grids = {}  # step -> images (n, H, W, C) in [0, 1]
        self.path = path  # kept beside the checkpoint, so a resumed run keeps earlier grids
        if path is not None and path.exists():
            with np.load(path) as f:
                self.grids = dict(zip(f["steps"].tolist(), f["images"]))

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.steps_per_epoch
        inputs = self.z if self.labels is None else [self.z, self.labels]
        # Inference mode (batch normalisation's moving averages), whatever
        # generate.batch_statistics says: in training mode these 16 points would be normalised
        # by their own statistics, unlike both training's batches and 03's draws, and the
        # moving averages would move. So an unconditional GAN's grids are not quite the images
        # 03 draws (gan.sample, as trained); docs/generator_quality.md compares the two modes.
        self.grids[step] = np.asarray(self.model.generator(inputs, training=False))
        if self.path is not None:
            with atomic_path(self.path) as tmp:
                with open(tmp, "wb") as f:
                    np.savez(f, steps=np.array(list(self.grids)),
                             images=np.stack(list(self.grids.values())))


class LogLine(keras.callbacks.Callback):
    """One plain line per chunk (papermill and HTML show \\r progress bars badly)."""

    def __init__(self, total_steps, steps_per_epoch, label="step", path=None):
        super().__init__()
        self.total, self.per, self.label = total_steps, steps_per_epoch, label
        self.rows = []
        self.path = path  # kept beside the checkpoint, so a resumed run keeps earlier rows
        if path is not None and path.exists():
            self.rows = pd.read_csv(path).to_dict("records")
        self.begun = False

    def on_epoch_begin(self, epoch, logs=None):
        if not self.begun and epoch > 0:  # BackupAndRestore restored a checkpoint
            done = epoch * self.per
            print(f"resuming from the checkpoint after {self.label} {done}", flush=True)
            self.rows = [r for r in self.rows if r["step"] <= done]
        self.begun = True

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.per
        elapsed = time.perf_counter() - self.start
        row = {"step": step, **{k: float(v) for k, v in (logs or {}).items()}}
        self.rows = [r for r in self.rows if r["step"] != step] + [row]
        if self.path is not None:
            with atomic_path(self.path) as tmp:
                pd.DataFrame(self.rows).to_csv(tmp, index=False)
        values = "  ".join(f"{k} {v:.3f}" for k, v in row.items() if k != "step")
        print(f"{self.label} {min(step, self.total):>6}/{self.total}  {values}  "
              f"[{elapsed:6.1f} s]", flush=True)


def callbacks(gan_cfg, per, epochs, seed, backup_dir=None, label=None, normal=False):
    """Sample grids, log lines and, with a backup_dir, a checkpoint after every chunk of steps:
    a killed run resumes from the last finished chunk with its earlier log rows and grids."""
    keep = (lambda name: Path(backup_dir) / name) if backup_dir else (lambda name: None)
    if backup_dir:
        Path(backup_dir).mkdir(parents=True, exist_ok=True)
    grid = SampleGrid(gan_cfg.latent_dim, seed=seed, steps_per_epoch=per, label=label,
                      normal=normal, path=keep("grids.npz"))
    log = LogLine(epochs * per, per, path=keep("log.csv"))
    if not backup_dir:
        return grid, log, [grid, log]
    # last, so that a saved checkpoint always has its log row and grid
    return grid, log, [grid, log, *checkpoints(backup_dir)]


def checkpoints(backup_dir):
    """Callbacks that keep a checkpoint in `backup_dir` after every chunk and resume from it:
    Keras's BackupAndRestore, written whole or not at all, and the random states it leaves out."""
    # the states first: a run killed between the two saves resumes from the older checkpoint,
    # whose states are still kept; the other way round, the newer one would have none
    return [SeedStates(Path(backup_dir) / "seed_states.npz"),
            WholeCheckpoint(str(Path(backup_dir) / "ckpt"))]


class WholeCheckpoint(keras.callbacks.BackupAndRestore):
    """Keras's BackupAndRestore overwrites its weights file in place, then the epoch they
    belong to: a run killed while it wrote them left a half-written file, which stopped every
    later run, or weights a chunk ahead of their epoch. Here each checkpoint is written to a
    folder of its own that takes the old one's place by two renames, so that a kill at any
    moment leaves one whole checkpoint (`recover_checkpoint` finds it)."""

    def _save_model(self):
        final = Path(self.backup_dir)
        new, old = _aside(final, "new"), _aside(final, "old")
        shutil.rmtree(new, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        new.mkdir(parents=True)
        self.model.save_weights(str(new / "latest.weights.h5"))
        (new / "training_metadata.json").write_text(json.dumps(
            {"epoch": self._current_epoch, "batch": self._last_batch_seen}))
        if final.exists():
            final.rename(old)
        new.rename(final)
        shutil.rmtree(old, ignore_errors=True)

    def on_train_begin(self, logs=None):
        recover_checkpoint(self.backup_dir)
        super().on_train_begin(logs)


def _aside(folder, tag):
    return folder.with_name(f"{folder.name}.{tag}")


def recover_checkpoint(folder):
    """The whole checkpoint a killed `WholeCheckpoint` left: the old one if the kill came
    between its two renames; a half-written new one is dropped."""
    folder = Path(folder)
    if not folder.exists() and _aside(folder, "old").exists():
        _aside(folder, "old").rename(folder)
    for tag in ("new", "old"):
        shutil.rmtree(_aside(folder, tag), ignore_errors=True)


class SeedStates(keras.callbacks.Callback):
    """The states of the model's random-number generators (latent noise, DiffAugment,
    dropout), which Keras's checkpoint leaves out, kept after each chunk: a resumed training
    draws the numbers the killed one would have drawn next. Saved before the checkpoint, and
    the last two chunks' states kept, because a run killed between the two saves has a
    checkpoint one chunk older than the newest states; put back when the first chunk begins,
    once BackupAndRestore has restored its epoch."""

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)
        self.kept = dict(np.load(self.path)) if self.path.exists() else {}

    def _states(self):
        return [v for v in self.model.variables if "seed_generator_state" in v.path]

    def on_train_begin(self, logs=None):
        self.resumed = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.resumed or not epoch:  # a fresh training, or past its first chunk
            return
        self.resumed = True
        if f"{epoch}/0" not in self.kept and self._states():
            print("(the checkpoint has no random states: the resumed training draws other "
                  "numbers than an uninterrupted one would)", flush=True)
            return
        for i, v in enumerate(self._states()):
            v.assign(self.kept[f"{epoch}/{i}"])

    def on_epoch_end(self, epoch, logs=None):
        self.kept = {k: a for k, a in self.kept.items() if k.split("/")[0] == str(epoch)}
        self.kept.update({f"{epoch + 1}/{i}": v.numpy() for i, v in enumerate(self._states())})
        with atomic_path(self.path) as tmp:
            np.savez(tmp, **self.kept)


def steps_done(backup_dir, steps_per_epoch):
    """Optimizer steps the checkpoint in `backup_dir` has taken (0 without one): a resumed
    training skips that many batches of its stream, so that it goes on with the batches the
    killed one would have drawn next and ends as an uninterrupted training does, bit for bit."""
    ckpt = Path(backup_dir) / "ckpt" if backup_dir else None
    if ckpt is not None:
        recover_checkpoint(ckpt)
    if ckpt is None or not (ckpt / "latest.weights.h5").exists():
        return 0
    try:
        return int(json.loads((ckpt / "training_metadata.json").read_text())["epoch"]) \
            * steps_per_epoch
    except (OSError, ValueError, KeyError):
        return 0  # BackupAndRestore then restores no epoch either


def drop_backup(backup_dir):
    """Training finished: the caller saves the model; the checkpoint has done its job."""
    if backup_dir:
        shutil.rmtree(backup_dir, ignore_errors=True)
