"""Training and using image classifiers: one helper shared by the oracle, the filter and the
evaluation classifiers, so that every role trains the same way."""
from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pandas as pd

from synthlib import compiled, networks
from synthlib.gan import LogLine, drop_backup


def to_float(images):
    return np.asarray(images, dtype="float32") / 255.0


class EpochScores(keras.callbacks.Callback):
    """Loss and accuracy on a held-out set after every epoch, for curves only: no checkpoint
    or setting is ever chosen by them."""

    def __init__(self, x, y, prefix):
        super().__init__()
        self.x, self.y, self.prefix = to_float(x), np.asarray(y), prefix

    def on_epoch_end(self, epoch, logs=None):
        proba = predict_proba(self.model, self.x, already_float=True)
        p = np.clip(proba[np.arange(len(self.y)), self.y], 1e-7, 1.0)
        logs[f"{self.prefix}loss"] = float(-np.mean(np.log(p)))
        logs[f"{self.prefix}accuracy"] = float(np.mean(proba.argmax(1) == self.y))


def build(name, image_shape, n_classes):
    """Classifier `name`, compiled, its optimizer built (so that its state can be copied)."""
    model = networks.build_classifier(name, image_shape, n_classes)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=False)
    model.optimizer.build(model.trainable_variables)
    return model


def fit(name, x, y, n_classes, epochs, batch_size, seed, validation=None, class_weight=None,
        label="epoch", backup_dir=None, curves_on=None):
    """Train classifier `name` for a fixed number of epochs; no checkpoint is selected on any
    held-out data. With a backup_dir, a checkpoint after every epoch lets a killed run resume.
    Returns (model, per-epoch history as a DataFrame)."""
    keras.utils.set_random_seed(seed)
    image_shape = tuple(x.shape[1:])
    model = build(name, image_shape, n_classes)
    val = (to_float(validation[0]), np.asarray(validation[1])) if validation else None
    log = LogLine(epochs, 1, label=label,
                  path=Path(backup_dir) / "log.csv" if backup_dir else None)
    callbacks = [log]
    if curves_on is not None:  # (x, y) of the test split: recorded per epoch, never used
        callbacks.insert(0, EpochScores(*curves_on, prefix="test_"))
    if backup_dir:
        Path(backup_dir).mkdir(parents=True, exist_ok=True)
        callbacks.append(keras.callbacks.BackupAndRestore(str(Path(backup_dir) / "ckpt")))
    compiled.fit(model, ("classifier", name, image_shape, n_classes),
                 lambda: build(name, image_shape, n_classes),
                 lambda m: m.fit(to_float(x), np.asarray(y), epochs=epochs,
                                 batch_size=batch_size, validation_data=val,
                                 class_weight=class_weight, shuffle=True, verbose=0,
                                 callbacks=callbacks))
    drop_backup(backup_dir)
    history = pd.DataFrame(log.rows).rename(columns={"step": "epoch"})
    return model, history


def predict_proba(model, images, batch_size=1000, already_float=False):
    """Class probabilities, calling the model on batches (no `predict` machinery)."""
    x = images if already_float else to_float(images)
    if len(x) == 0:
        return np.zeros((0, model.output_shape[-1]), dtype="float32")
    return np.concatenate([np.asarray(model(x[i:i + batch_size], training=False))
                           for i in range(0, len(x), batch_size)])


def balanced_class_weight(y):
    labels, counts = np.unique(y, return_counts=True)
    return {int(k): float(len(y) / (len(labels) * c)) for k, c in zip(labels, counts)}
