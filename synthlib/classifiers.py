"""Training and using image classifiers: one helper shared by the oracle, the filter and the
evaluation classifiers, so that every role trains the same way."""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from synthlib import compiled, networks, progress
from synthlib.gan import FIXED_PIPELINE
from synthlib.paths import atomic_path, code_digest, write_text
from synthlib.progress import LogLine, checkpoints, drop_backup, steps_done


def to_float(images):
    return np.asarray(images, dtype="float32") / 255.0


class HeldOutScores(keras.callbacks.Callback):
    """Loss and accuracy on a held-out set after every chunk of steps, for curves only: no
    checkpoint or setting is ever chosen by them."""

    def __init__(self, x, y, prefix):
        super().__init__()
        self.x, self.y, self.prefix = to_float(x), np.asarray(y), prefix

    def on_epoch_end(self, epoch, logs=None):
        proba = predict_proba(self.model, self.x, already_float=True)
        p = np.clip(proba[np.arange(len(self.y)), self.y], 1e-7, 1.0)
        logs[f"{self.prefix}loss"] = float(-np.mean(np.log(p)))
        logs[f"{self.prefix}accuracy"] = float(np.mean(proba.argmax(1) == self.y))


class ProbabilitiesAt(keras.callbacks.Callback):
    """Class probabilities of `images` once training has taken `step` optimizer steps. The
    learning rate does not depend on the budget, so the model half-way through a budget of
    2S steps is the model a budget of S steps ends with: the convergence check reads the
    half-budget score here instead of training again. With a `path` (beside the training's
    checkpoint) a training resumed past that step reads them back."""

    def __init__(self, images, step, steps_per_chunk, path=None):
        super().__init__()
        self.x, self.step, self.per = to_float(images), step, steps_per_chunk
        self.path = Path(path) if path else None
        self.proba = np.load(self.path) if self.path and self.path.exists() else None

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) * self.per == self.step:
            self.proba = predict_proba(self.model, self.x, already_float=True)
            if self.path is not None:
                with atomic_path(self.path) as tmp:
                    np.save(tmp, self.proba)


# Most optimizer steps one call of the traced training step takes. The seed's MLP computes
# less in a step than Keras spends calling it: 1.3 ms a step one call at a time, 0.5 ms in
# calls of 10, 0.44 ms in calls of 50 (the small CNN 17 against 14 ms); the weights are the
# same bit for bit (tests/test_classifiers.py). `make bench` measures it on the machine at hand.
MOST_PER_CALL = 50


def steps_per_call(steps_per_chunk):
    """The largest count up to MOST_PER_CALL that divides a chunk: Keras runs whole calls, so
    calls of 300 steps would turn a chunk of 1,000 into 1,200."""
    return max(d for d in range(1, min(MOST_PER_CALL, steps_per_chunk) + 1)
               if steps_per_chunk % d == 0)


def build(name, image_shape, n_classes, precision="float32", per_call=1):
    """Classifier `name`, compiled to take `per_call` steps a call, its optimizer built (so
    that its state can be copied)."""
    model = networks.build_classifier(name, image_shape, n_classes, precision)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=False, steps_per_execution=per_call)
    model.optimizer.build(model.trainable_variables)
    return model


def batches(x, y, batch_size, seed, class_weight=None):
    """An endless stream of shuffled (images, labels, sample weights) batches: a budget of
    steps, not epochs, so every training set gets the same number of updates whatever its
    size. Class weights become per-image weights (ones without them), so that every fit has
    the same traced step."""
    y = np.asarray(y, dtype="int64")
    w = (np.ones(len(y), "float32") if class_weight is None
         else np.array([class_weight[int(v)] for v in y], "float32"))
    ds = tf.data.Dataset.from_tensor_slices((to_float(x), y, w))
    return (ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True).repeat()
            .batch(batch_size).prefetch(2).with_options(FIXED_PIPELINE))


def fit(name, x, y, n_classes, steps, batch_size, seed, chunks=1, validation=None,
        class_weight=None, log_label="step", backup_dir=None, curves_on=None, callbacks=(),
        precision="float32"):
    """Train classifier `name` for `steps` optimizer steps (rounded up to whole chunks) of
    `batch_size`, whatever the size of (x, y); nothing is selected on held-out data. After each
    of `chunks` chunks: a log line, held-out scores (recorded only) and, with a backup_dir, a
    checkpoint a killed run resumes from (the pipeline passes `evaluate.chunks`; one chunk is
    a plain fit). `precision`: a Keras dtype policy (registry.PRECISIONS).
    Returns (model, history per chunk as a DataFrame with the step count in `step`)."""
    keras.utils.set_random_seed(seed)
    image_shape = tuple(x.shape[1:])
    per = -(-steps // chunks)
    per_call = steps_per_call(per)
    model = build(name, image_shape, n_classes, precision, per_call)
    val = (to_float(validation[0]), np.asarray(validation[1])) if validation else None
    log = LogLine(per * chunks, per, label=log_label,
                  path=Path(backup_dir) / "log.csv" if backup_dir else None)
    callbacks = list(callbacks) + [log]
    if curves_on is not None:  # (x, y) of the test split: recorded per chunk, never used
        callbacks.insert(0, HeldOutScores(*curves_on, prefix="test_"))
    if backup_dir:
        Path(backup_dir).mkdir(parents=True, exist_ok=True)
        callbacks += checkpoints(backup_dir)
    compiled.fit(model, ("classifier", name, image_shape, n_classes, precision, per_call),
                 lambda: build(name, image_shape, n_classes, precision, per_call),
                 lambda m: m.fit(batches(x, y, batch_size, seed, class_weight)
                                 .skip(steps_done(backup_dir, per)), epochs=chunks,
                                 steps_per_epoch=per, validation_data=val, shuffle=False,
                                 verbose=0, callbacks=callbacks))
    drop_backup(backup_dir)
    return model, pd.DataFrame(log.rows)


def fit_kept(path, name, x, y, n_classes, steps, batch_size, seed, **kw):
    """`fit`, done once: the model is kept at `path` (a .keras file) with its history (.csv)
    and the key of everything that determines it (.key, written last). Called again with the
    same key (after an interruption, or when a notebook is run again) it loads them instead of
    training; a killed training resumes from its last chunk. `path` None: plain `fit`. Not
    for fits whose callbacks keep something outside the model."""
    if path is None:
        return fit(name, x, y, n_classes, steps, batch_size, seed, **kw)
    if kw.get("callbacks") or kw.get("curves_on") is not None or "backup_dir" in kw:
        raise ValueError("fit_kept: callbacks, curves_on and backup_dir are its own to set")
    path = Path(path)
    key = _fit_key(name, x, y, n_classes, steps, batch_size, seed, kw)
    key_file, history_file = path.with_suffix(".key"), path.with_suffix(".csv")
    if (key_file.exists() and key_file.read_text(encoding="utf-8") == key and path.exists()
            and history_file.exists()):
        chunks = kw.get("chunks", 1)
        last = -(-steps // chunks) * chunks  # fit rounds the budget up to whole chunks
        try:
            model, history = keras.models.load_model(path), pd.read_csv(history_file)
            why = "" if len(history) and history["step"].iloc[-1] == last else "cut short"
        except Exception as e:  # noqa: BLE001 -- whatever a damaged file raises, it retrains
            why = f"{type(e).__name__}: {(str(e).splitlines() or [''])[0][:120]}"
        if not why:
            print(f"{path.stem}: trained already ({path.name}, key {key}), reused", flush=True)
            return model, history
        # the files are written whole (atomic_path): damage came from outside; train anew
        print(f"{path.stem}: kept model or history damaged ({why}): trained again", flush=True)
    key_file.unlink(missing_ok=True)
    model, history = fit(name, x, y, n_classes, steps, batch_size, seed,
                         backup_dir=path.with_name(f"{path.stem}_backup_{key}"), **kw)
    with atomic_path(path) as tmp:
        model.save(tmp)
    with atomic_path(history_file) as tmp:
        history.to_csv(tmp, index=False)
    write_text(key_file, key)
    return model, history


def _fit_key(name, x, y, n_classes, steps, batch_size, seed, kw):
    """What a trained classifier depends on: its data, its settings and the code it is made
    by (a fix to a network or to training reaches every kept model)."""
    h = hashlib.sha256(code_digest(sys.modules[__name__], compiled, networks, progress).encode())
    validation = kw.get("validation") or ()
    for a in (x, y, *validation):
        h.update(np.ascontiguousarray(a).tobytes())
    settings = {k: v for k, v in kw.items() if k not in ("validation", "log_label")}
    h.update(json.dumps([name, n_classes, steps, batch_size, seed, settings], sort_keys=True,
                        default=str).encode())
    return h.hexdigest()[:12]


def predict_proba(model, images, batch_size=1000, already_float=False):
    """Class probabilities, calling the model on batches (no `predict` machinery)."""
    x = images if already_float else to_float(images)
    if len(x) == 0:
        return np.zeros((0, model.output_shape[-1]), dtype="float32")
    return np.concatenate([np.asarray(model(x[i:i + batch_size], training=False))
                           for i in range(0, len(x), batch_size)])


def balanced_class_weight(y):
    """scikit-learn's "balanced" class weights, as the mapping Keras' `class_weight` takes."""
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.unique(y)
    weights = compute_class_weight("balanced", classes=labels, y=y)
    return {int(k): float(w) for k, w in zip(labels, weights)}
