"""One compiled model per kind and shape, reused across trainings.

Keras traces a model's training step the first time the model is fitted: one to three seconds
on a laptop CPU, as long as a short GAN training or a small classifier's two epochs. A study
trains dozens of models of the same kind and shape (per seed, class, arm and mix), so each kind
is traced once per process: every later training copies a freshly built model's initial state
into the kept model (weights, random-seed states, optimizer step counter, learning rate and
moments) and trains that one, exactly as the fresh model would have trained
(tests/test_compiled.py checks it bit for bit).
"""
from __future__ import annotations

import random

import numpy as np

_KEPT = {}


def _optimizers(model):
    if hasattr(model, "d_optimizer"):  # a GAN: Keras's own `optimizer` is there but unused
        return [model.d_optimizer, model.g_optimizer]
    return [model.optimizer]


def state(model):
    """Every variable a training reads: the model's (weights and seed states) and its
    optimizers' (step counter, learning rate, moments)."""
    return list(model.variables) + [v for o in _optimizers(model) for v in o.variables]


def copy_state(source, target):
    src, dst = state(source), state(target)
    if [tuple(v.shape) for v in src] != [tuple(v.shape) for v in dst]:
        raise ValueError("compiled models: the variables of two models of one key differ; "
                         "the key misses something that shapes the model")
    for s, t in zip(src, dst):
        t.assign(s)


# Plain attributes that Keras or a training changes on a model: no setting of the step
_RUNTIME = {"name", "built", "compiled", "stop_training", "train_function", "test_function",
            "predict_function"}


def settings(model):
    """A model's plain public attributes (`r1_weight`, `latent_dim`, `steps_per_execution`):
    its traced step reads them as constants, so the kept model must have the caller's."""
    return {k: v for k, v in vars(model).items() if not k.startswith("_")
            and k not in _RUNTIME and isinstance(v, (bool, int, float, str, type(None),
                                                     np.generic))}


def fit(model, key, build, train):
    """Train `model` (built, compiled, optimizers built) by calling `train` on the model kept
    for `key`, set to `model`'s state; the trained state is copied back into `model`, which
    stays the caller's alone. `key` names everything that shapes the traced graph (kind, input
    shape, classes, hyperparameters); `build()` makes the kept model the first time, without
    moving the random state that later initialisers draw from."""
    kept = _KEPT.get(key)
    if kept is None:
        saved = random.getstate()  # Keras draws unseeded initialiser seeds from `random`
        kept = _KEPT[key] = build()
        random.setstate(saved)
    differ = {k: (v, settings(kept).get(k)) for k, v in settings(model).items()
              if settings(kept).get(k) != v}
    if differ:  # its step would train with the kept model's values, silently
        raise ValueError("compiled models: the key misses a setting that shapes the model: "
                         + ", ".join(f"{k} {new!r} here, {old!r} kept"
                                     for k, (new, old) in differ.items()))
    copy_state(model, kept)
    # A training resumed by BackupAndRestore sets `_initial_epoch`, which Keras never clears:
    # left on the kept model, every later training of this kind would skip those epochs.
    try:
        result = train(kept)
    finally:
        kept._initial_epoch = None
    copy_state(kept, model)
    return result


def forget():
    """Drop the kept models (tests; or to free their memory)."""
    _KEPT.clear()
