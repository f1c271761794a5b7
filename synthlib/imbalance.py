"""Split first, then imbalance: the order that keeps the test split honest.

A stratified, seeded train / validation / test split of the whole dataset; then, inside the
training split only, all but `kept_fraction` of the minority class is dropped. Everything is
kept as index arrays into the dataset, saved with the run so that it can be audited.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from synthlib.config import ConfigError
from synthlib.paths import atomic_path


class ImbalanceError(ConfigError):
    """The split or the imbalance cannot be made; the message names the parameter."""


@dataclass
class Split:
    """Index arrays into the dataset. The studies without a minority (augment, tstr, bias)
    use the same fields (make_plain_split): `minority_class` is then -1, `kept_minority`
    empty, and `imbalanced` the scenario's training set (augment and tstr: up to
    `imbalance.per_class` images of each class; bias: the whole training split, unused: it
    draws its mixes from `train`), not an imbalanced one."""
    seed: int
    minority_class: int
    train: np.ndarray  # the full real training split (what the measuring oracle learns from)
    validation: np.ndarray
    test: np.ndarray
    imbalanced: np.ndarray  # the training set the scenario has: train minus dropped minority
    kept_minority: np.ndarray  # the minority images that survived (what the GAN may see)

    def counts(self, y):
        """Class counts per part, as rows for a table."""
        rows = []
        for part in ("train", "imbalanced", "validation", "test"):
            labels = y[getattr(self, part)]
            rows.append({"part": part, "images": len(labels),
                         "minority": int(np.sum(labels == self.minority_class)),
                         "majority": int(np.sum(labels != self.minority_class))})
        return rows

    def save(self, path):
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, seed=self.seed, minority_class=self.minority_class,
                         train=self.train, validation=self.validation, test=self.test,
                         imbalanced=self.imbalanced, kept_minority=self.kept_minority)

    @classmethod
    def load(cls, path):
        with np.load(path) as f:
            return cls(seed=int(f["seed"]), minority_class=int(f["minority_class"]),
                       **{k: f[k] for k in ("train", "validation", "test", "imbalanced",
                                            "kept_minority")})


def make_split(y, split_cfg, imbalance_cfg, seed, class_names=None):
    """`class_names` (label -> name, where the source names its classes) only for the error
    that names the classes there are."""
    y = np.asarray(y)
    minority = imbalance_cfg.minority_class
    classes = np.unique(y)
    if minority not in classes:
        shown = (f"{c} {class_names[c]}" if class_names and c in class_names else str(c)
                 for c in classes)
        raise ImbalanceError(f"imbalance.minority_class = {minority}: not a class of this "
                             f"dataset (classes: {', '.join(shown)})")
    train, validation, test = stratified_split(y, split_cfg, seed)

    minority_train = train[y[train] == minority]
    n_kept = int(round(imbalance_cfg.kept_fraction * len(minority_train)))
    if n_kept < 1:
        raise ImbalanceError(
            f"imbalance.kept_fraction = {imbalance_cfg.kept_fraction}: keeps 0 of the "
            f"{len(minority_train)} minority training images; raise it or use more data")
    rng = np.random.default_rng(seed)
    kept = np.sort(rng.choice(minority_train, size=n_kept, replace=False))
    imbalanced = np.sort(np.concatenate([train[y[train] != minority], kept]))
    return Split(seed=seed, minority_class=minority, train=np.sort(train),
                 validation=np.sort(validation), test=np.sort(test),
                 imbalanced=imbalanced, kept_minority=kept)


def stratified_split(y, split_cfg, seed):
    """train, validation, test index arrays: stratified by class, seeded."""
    y = np.asarray(y)
    index = np.arange(len(y))
    held_out = split_cfg.validation_fraction + split_cfg.test_fraction
    try:
        train, rest = train_test_split(index, test_size=held_out, stratify=y, random_state=seed)
        validation, test = train_test_split(
            rest, test_size=split_cfg.test_fraction / held_out, stratify=y[rest],
            random_state=seed)
    except ValueError:  # scikit-learn's words count classes in its own, second, split
        labels, counts = np.unique(y, return_counts=True)
        raise ImbalanceError(
            f"split: {len(y)} images of {len(labels)} classes (the fewest: {counts.min()} of "
            f"class {labels[counts.argmin()]}) are too few for every class to have images in "
            f"validation ({split_cfg.validation_fraction:.0%}) and test "
            f"({split_cfg.test_fraction:.0%}): more images per class, or larger "
            f"split.validation_fraction and split.test_fraction") from None
    return np.sort(train), np.sort(validation), np.sort(test)


def take_per_class(y, pool, counts, seed, key):
    """`counts[c]` indices of class c drawn from `pool` (seeded); an error naming `key` when
    the pool holds fewer."""
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    out = []
    for c, n in counts.items():
        have = pool[y[pool] == c]
        if n > len(have):
            raise ImbalanceError(f"{key} = {n}: class {c} has only {len(have)} training images"
                                 f" here; lower it or use more data")
        out.append(rng.choice(have, size=n, replace=False))
    return np.sort(np.concatenate(out)) if out else np.zeros(0, dtype=int)


def make_plain_split(y, split_cfg, seed, per_class=0):
    """No minority: the scenario's training set is the training split, or `per_class` images
    of each class drawn from it (the small-data setting of the augment and tstr studies), or
    all of a class that has fewer (as in the smoke profile's sample; 02's table of what each
    generator learns from shows the counts)."""
    y = np.asarray(y)
    train, validation, test = stratified_split(y, split_cfg, seed)
    scenario = train
    if per_class:
        counts = {int(c): min(per_class, int(np.sum(y[train] == c))) for c in np.unique(y)}
        scenario = take_per_class(y, train, counts, seed, "imbalance.per_class")
    return Split(seed=seed, minority_class=-1, train=train, validation=validation, test=test,
                 imbalanced=scenario, kept_minority=np.zeros(0, dtype=int))
