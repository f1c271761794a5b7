"""Figures of images: grids of samples, real or generated, and how a generator's samples
change as it trains."""
from __future__ import annotations

import hashlib
import math

import matplotlib.pyplot as plt
import numpy as np

from synthlib import data
from synthlib.plots.common import _display, _show, _wrapped


def sample_grid(images, title="", ncols=10, max_images=40, labels=None):
    images = np.asarray(images)[:max_images]
    if len(images) == 0:
        print(f"{title}: no images")
        return
    nrows = math.ceil(len(images) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 0.9, nrows * 0.9 + 0.4),
                             squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for i, (ax, img) in enumerate(zip(axes.flat, images)):
        _show(img, ax)
        if labels is not None:
            ax.set_title(str(labels[i]), fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    _display()


def spaced_steps(steps, max_rows, keep=()):
    """At most `max_rows` of `steps` (sorted): the first, then every k-th, the smallest k that
    fits, and the last, which may follow the one before it sooner than k. A whole stride keeps
    the rows a regular clock; rounding an even spread to the nearest step would leave gaps of
    one and two strides in turn. The steps of `keep` among them are shown too, beyond
    `max_rows` if need be: the snapshots a study reads (tstr's) are the grids a reader looks
    for."""
    if len(steps) <= max_rows:
        return list(steps)
    stride = math.ceil((len(steps) - 1) / max(1, max_rows - 1))
    shown = list(steps[::stride])
    shown = shown if shown[-1] == steps[-1] else shown + [steps[-1]]
    return sorted(set(shown) | (set(keep) & set(steps)))


def grids_over_time(grids, title="Generator samples during training (same latent points)",
                    per_row=8, max_rows=6, columns=None, keep=()):
    """`columns`: a heading per column (a conditional GAN's class for each). Where there are
    more grids than `max_rows`, the title says which steps are shown and out of how many: the
    notebooks speak of a grid after each chunk of steps. `keep`: steps always shown
    (spaced_steps)."""
    every = sorted(grids)
    steps = spaced_steps(every, max_rows, keep)
    if len(steps) < len(every):
        title += (f"\n{len(steps)} of the {len(every)} grids (one after each chunk of steps): "
                  f"steps {', '.join(map(str, steps[:-1]))} and {steps[-1]}")
    fig, axes = plt.subplots(len(steps), per_row, figsize=(per_row * 0.9, len(steps) * 0.95),
                             squeeze=False)
    for r, step in enumerate(steps):
        for c in range(per_row):
            _show(grids[step][c], axes[r, c])
        axes[r, 0].text(-0.2, 0.5, f"step {step}", transform=axes[r, 0].transAxes,
                        ha="right", va="center", fontsize=8)
    for c, heading in enumerate(columns if columns is not None else []):
        axes[0, c].set_title(str(heading), fontsize=8)
    fig.suptitle(_wrapped(fig, title))
    fig.tight_layout()
    _display()


def grids_by_generator(results, seed, generators=(), max_over_time=4, names=None):
    """Samples from the same latent points during training, first seed: over time for each
    generator when there are few, else the last grid of each, one row per generator.
    `generators` (common.Generator) name the class a conditional GAN's grid shows: one for
    all of it, or one per column; `names` (label -> name) name it as the data do."""
    mine = {g: grids for (s, g), (_, grids) in results.items() if s == seed}
    known = {g.name: g for g in generators if g.seed == seed}
    if len(mine) <= max_over_time:
        for gen, grids in mine.items():
            g, per_row, columns, drawn = known.get(gen), 8, None, ""
            if g is not None and g.labels is not None:  # conditional: progress.SampleGrid
                if isinstance(g.grid_label, str):  # "all": the classes in turn
                    classes = np.unique(g.labels)
                    per_row = min(len(classes), len(grids[max(grids)]))
                    columns = np.resize(classes, per_row)
                    drawn = ", one class per column"
                else:
                    drawn = f", class {data.class_label(g.grid_label, names)}"
            grids_over_time(grids, title=f"{gen}, seed {seed}: samples during training "
                                         f"(same latent points{drawn})", per_row=per_row,
                            columns=columns, keep=g.snapshots if g is not None else ())
    else:
        rows_of_images({g: grids[max(grids)] for g, grids in mine.items()},
                       title=f"Seed {seed}, after training: one row per generator")


def generated(result, seed, names=None, max_images=30):
    """result: {(seed, source): (images, labels or None)}: for one seed, a row of images per
    class where the images carry labels, else a grid, one figure per source."""
    for (s, name), (x, y) in result.items():
        if s == seed:
            if y is None:
                sample_grid(x, title=f"{name}, seed {seed}", max_images=max_images)
            else:
                samples_per_class(x, y, names=names, title=f"{name}, seed {seed}: one row per "
                                                             "class")


def training_images(generators, seed, names=None, per_set=40):
    """What the first seed's generators learned from, each distinct training set once, named
    by every generator that shares it (a GAN and its DiffAugment twin; the bias study's DCGAN
    and VAE on one mix): a labelled set one row per class; one unlabelled set as a grid,
    several as one row each. Images are drawn at random, not the first ones, since a training
    set may be sorted by class."""
    sets = {}  # (digest, unlabelled?) -> (the generators' names, a generator with the set)
    for g in generators:
        if g.seed == seed:
            key = (hashlib.sha256(np.ascontiguousarray(g.images).tobytes()).hexdigest(),
                   g.labels is None)
            sets.setdefault(key, ([], g))[0].append(g.name)
    unlabelled = {}
    rng = np.random.default_rng(0)
    for who, g in sets.values():
        if g.labels is None:
            unlabelled[f"{', '.join(who)} ({len(g.images)})"] = g.images[
                rng.permutation(len(g.images))]
        else:
            samples_per_class(g.images, g.labels, names=names,
                              title=f"{', '.join(who)}: their real training images "
                                    f"(seed {seed})" if len(who) > 1 else
                              f"{g.name}: its real training images (seed {seed})")
    if len(unlabelled) == 1:
        (name, images), = unlabelled.items()
        whose = "their" if ", " in name.split(" (")[0] else "its"
        sample_grid(images[:per_set], title=f"{name.split(' (')[0]}: "
                    + (f"{per_set} of {whose} {len(images)} real training images, at random"
                       if len(images) > per_set else f"{whose} real training images")
                    + f" (seed {seed})")
    elif unlabelled:
        rows_of_images(unlabelled, title="Each generator's real training images (how many), "
                                         f"8 at random (seed {seed})")


def samples_per_class(images, labels, per_class=8, title="Real images, one row per class",
                      names=None):
    classes = np.unique(labels)
    fig, axes = plt.subplots(len(classes), per_class,
                             figsize=(per_class * 0.8, len(classes) * 0.8 + 0.4), squeeze=False)
    for r, c in enumerate(classes):
        idx = np.flatnonzero(labels == c)[:per_class]
        for k in range(per_class):
            axes[r, k].set_axis_off()
            if k < len(idx):
                _show(images[idx[k]], axes[r, k])
        axes[r, 0].text(-0.15, 0.5, str((names or {}).get(int(c), c)),
                        transform=axes[r, 0].transAxes, ha="right", va="center")
    fig.suptitle(title)
    fig.tight_layout()
    _display()


def rows_of_images(rows, title="", per_row=8):
    """rows: {name: images}; one row of images per name."""
    names = list(rows)
    fig, axes = plt.subplots(len(names), per_row, figsize=(per_row * 0.8, len(names) * 0.8 + 0.4),
                             squeeze=False)
    for r, name in enumerate(names):
        for k in range(per_row):
            axes[r, k].set_axis_off()
            if k < len(rows[name]):
                _show(rows[name][k], axes[r, k])
        axes[r, 0].text(-0.15, 0.5, name, transform=axes[r, 0].transAxes, ha="right",
                        va="center", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    _display()
