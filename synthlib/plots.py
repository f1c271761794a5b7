"""Figures for the notebooks. Each function draws one figure and shows it."""
from __future__ import annotations

import hashlib
import math
import re
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from synthlib import config, data, metrics

# Seaborn's colour-blind palette: its ten colours stay apart for red-green colour blindness,
# where the default's green and red (two arms side by side) turn the same olive.
sns.set_theme(style="whitegrid", context="notebook", palette="colorblind")

# What a figure of one seed says in place of an interval, in the same words everywhere, the
# forest plot's legend among them.
ONE_SEED = "one seed: no interval"

# Every score these figures draw (metrics.binary_scores, multiclass_scores) is a share or a mean
# of shares, so none lies outside [0, 1]: an interval past either end is drawn only up to it.
SCORE_BOUNDS = (0.0, 1.0)


def seeds_in_words(n):
    """`n` seeds as a title says them: 'one seed', 'both seeds', 'all 3 seeds', where "all 2
    seeds" or "seed(s)" would read as slips."""
    return "one seed" if n == 1 else "both seeds" if n == 2 else f"all {n} seeds"


def interval_over(n):
    """The interval every bar and band in these figures shows over `n` (two or more) seeds,
    in words for their titles. The tables beside them give the seeds' standard deviation
    (mean ± std), a different and narrower quantity."""
    return f"the 95% t interval of the mean over {seeds_in_words(n)}"


def palette(names):
    """A colour per name, the same in every figure of a study: an arm or generator takes its
    place in the study's list (config.STUDY_ARMS, then STUDY_GENERATORS) that names most of
    `names` (an arm's variants, `upper_bound:half_budget` or `synthetic_gan_labels@500`,
    counting as the arm), so dcgan_minority is one colour in 02's training curves and in 05's.
    Other names take the colour-blind colours no listed name here holds, and past those,
    colours of their own."""
    names = list(dict.fromkeys(names))
    bases = {re.split("[:@]", n)[0] for n in names}
    known = max((list(dict.fromkeys(config.STUDY_ARMS[s] + config.STUDY_GENERATORS[s]))
                 for s in config.STUDY_ARMS), key=lambda k: len(set(k) & bases))
    safe = sns.color_palette("colorblind")
    colours = {n: safe[known.index(n)] for n in names
               if n in known and known.index(n) < len(safe)}
    # first the slots beyond the study's list, then those of its names this figure lacks
    free = list(range(len(known), len(safe))) + [i for i, n in enumerate(known)
                                                 if i < len(safe) and n not in names]
    others = [n for n in names if n not in colours]
    extra = sns.color_palette("husl", max(0, len(others) - len(free)))
    colours.update(zip(others, [safe[i] for i in free] + list(extra)))
    return {n: colours[n] for n in names}


# Classifiers in black and grey: the palette's colours already stand for the arms.
CLASSIFIER_COLOURS = ("#222222", "#8c8c8c", "#5b5b5b", "#b5b5b5")


def t_interval(values):
    """The 95% t interval of the mean over seeds (metrics.mean_ci), as the tables and the
    forest plot give it, for seaborn's `errorbar`: its bootstrap ("ci") over two to four
    seeds cannot reach past the lowest and highest seed, and would look surer than it is.
    One seed: no interval."""
    mean, _, half = metrics.mean_ci(values)
    return (mean - half, mean + half) if np.isfinite(half) else (mean, mean)


def cut_t_interval(values, bounds=SCORE_BOUNDS):
    """t_interval drawn no further than `bounds`: two seeds' interval (one degree of freedom)
    can run far past 1, where no score lies."""
    low, high = t_interval(values)
    return max(low, bounds[0]), min(high, bounds[1])


def runs_past(d, by, bounds=SCORE_BOUNDS):
    """Whether the t interval of `d.value` in any group of `by` runs past `bounds`, so that a
    figure which cuts it there can say so."""
    ends = [t_interval(v) for _, v in d.groupby(by, sort=False).value]
    return any(low < bounds[0] or high > bounds[1] for low, high in ends)


def _wrapped(fig, text):
    """`text` wrapped to the figure's width, about nine characters to an inch: a title wider
    than its figure would be clipped."""
    width = int(9 * fig.get_figwidth())
    return "\n".join(textwrap.fill(line, width) for line in text.split("\n"))


def _suptitle(fig, text):
    """A figure's title, wrapped, on top of the panels (it grows upwards) however many lines
    it takes."""
    fig.suptitle(_wrapped(fig, text), y=1.0, va="bottom")


def describe(fig):
    """A figure in words, for its image's alt text: its title and its panels' titles."""
    titles = [fig.get_suptitle()] + [ax.get_title() for ax in fig.axes]
    return "; ".join(dict.fromkeys(" ".join(t.split()) for t in titles if t.strip()))


def _display():
    """plt.show(). In a notebook the figure goes out with its description as metadata, which
    the HTML reports give its image as alt text (pages.to_html), for readers who cannot
    see it; elsewhere (tests, scripts) pyplot shows it as it would."""
    fig = plt.gcf()
    if "inline" not in plt.get_backend():
        plt.show()
        return
    from IPython.display import display

    display(fig, metadata={"image/png": {"alt": describe(fig)}})
    plt.close(fig)


def _show(image, ax):
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(image * 255.0, 0, 255).astype(np.uint8)
    if image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap="gray_r", vmin=0, vmax=255)
    else:
        ax.imshow(image)
    ax.set_axis_off()


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


def spaced_steps(steps, max_rows):
    """At most `max_rows` of `steps` (sorted): the first, then every k-th, the smallest k that
    fits, and the last, which may follow the one before it sooner than k. A whole stride keeps
    the rows a regular clock; rounding an even spread to the nearest step would leave gaps of
    one and two strides in turn."""
    if len(steps) <= max_rows:
        return list(steps)
    stride = math.ceil((len(steps) - 1) / max(1, max_rows - 1))
    shown = list(steps[::stride])
    return shown if shown[-1] == steps[-1] else shown + [steps[-1]]


def grids_over_time(grids, title="Generator samples during training (same latent points)",
                    per_row=8, max_rows=6, columns=None):
    """`columns`: a heading per column (a conditional GAN's class for each). Where there are
    more grids than `max_rows`, the title says which steps are shown and out of how many: the
    notebooks speak of a grid after each chunk of steps."""
    every = sorted(grids)
    steps = spaced_steps(every, max_rows)
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


def class_counts(table, title="Images per part and class group"):
    """Bars on a linear axis, each with its count: a minority of 30 beside thousands is the
    point, and a log axis would draw it as a bar of arbitrary length. One panel when every
    seed has the same counts (the usual case: the same fractions of the same data)."""
    counts = table.drop(columns="seed")
    per_seed = [g.reset_index(drop=True) for _, g in counts.groupby(table.seed, sort=False)]
    same = all(p.equals(per_seed[0]) for p in per_seed)
    shown = table if not same else table[table.seed == table.seed.iloc[0]]
    long = shown.melt(id_vars=[c for c in shown.columns if c not in ("minority", "majority")],
                      value_vars=["minority", "majority"], var_name="group", value_name="count")
    g = sns.catplot(data=long, x="part", y="count", hue="group", kind="bar", height=3.2,
                    aspect=2, col=None if same else "seed", col_wrap=None if same else 2)
    for ax in g.axes.flat:
        for bars in ax.containers:
            ax.bar_label(bars, fmt="%d", fontsize=8, padding=2)
        ax.margins(y=0.12)  # room for the labels over the tallest bar
    g.set_axis_labels("", "images")
    if same and table.seed.nunique() > 1:
        title += f" (the same for {seeds_in_words(table.seed.nunique())})"
    g.figure.suptitle(title, y=1.03)
    _display()


# What each kind of generator logs (gan.DCGAN.metrics, vae.VAE.metrics): a panel's curve
# names the model it comes from, so that its axis and the title can say which.
GAN_LOSSES = ("d_loss", "g_loss", "d_real", "d_fake")
VAE_LOSSES = ("loss", "reconstruction_loss", "kl_loss")


def loss_curves(results, generators=()):
    """results: {(seed, generator): (history, grids)} from training. One panel per logged
    value (GAN: d_loss, g_loss and the discriminator's mean P(real) on real and generated
    images; VAE: its loss and the two parts of it), one line per generator. `generators`
    (common.Generator), where given, tell which GANs are conditional, whose losses hold the
    class loss too."""
    df = pd.concat([h.assign(seed=s, generator=g) for (s, g), (h, _) in results.items()],
                   ignore_index=True)
    values = [c for c in GAN_LOSSES + VAE_LOSSES if c in df]
    long = df.melt(id_vars=["step", "seed", "generator"], value_vars=values,
                   var_name="curve", value_name="value").dropna()
    g = sns.relplot(data=long, x="step", y="value", hue="generator", col="curve",
                    col_wrap=min(4, len(values)), kind="line", height=2.8, aspect=1.2,
                    palette=palette(long.generator), errorbar=t_interval,
                    facet_kws={"sharex": False, "sharey": False})
    g.set_titles("{col_name}")
    g.set_axis_labels("", "")
    # Every panel names its model: in the bias study the VAE's panels sit under the GAN's.
    for ax, curve in zip(g.axes.flat, values):
        ax.set_xlabel(f"{'VAE' if curve in VAE_LOSSES else 'GAN'} training step")
    g.tight_layout()  # room for the upper row's labels above the lower row's titles
    n = df.seed.nunique()
    band = f"band: {interval_over(n)}" if n > 1 else ONE_SEED
    _suptitle(g.figure, " ".join([f"Training curves (mean over each chunk of steps; {band}).",
                                  *_loss_notes(values, generators),
                                  "Compare one generator's curve over time, not levels across "
                                  "generators."]))
    _display()


def _loss_notes(values, generators):
    """What the curves add up, for the training curves' title: a sentence for each kind of
    model drawn, naming the conditional GANs, whose losses hold the class loss too."""
    notes = []
    if "d_loss" in values:
        conditional = list(dict.fromkeys(g.name for g in generators
                                         if g.labels is not None and g.model != "vae"))
        notes.append("d_loss and g_loss are each network's whole loss, with its penalties"
                     + (f" and, in {', '.join(conditional)}, the class loss." if conditional
                        else "."))
    if "loss" in values:
        notes.append("The VAE's loss is its reconstruction_loss plus its kl_loss.")
    return notes


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
                            columns=columns)
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
    """What the first seed's generators learned from, each distinct training set once (a GAN
    and its DiffAugment twin share theirs): a labelled set one row per class; one unlabelled
    set as a grid, several as one row each. Images are drawn at random, not the first ones,
    since a training set may be sorted by class."""
    seen, unlabelled = set(), {}
    rng = np.random.default_rng(0)
    for g in generators:
        key = hashlib.sha256(np.ascontiguousarray(g.images).tobytes()).hexdigest()
        if g.seed != seed or (key, g.labels is None) in seen:
            continue
        seen.add((key, g.labels is None))
        if g.labels is None:
            unlabelled[f"{g.name} ({len(g.images)})"] = g.images[rng.permutation(len(g.images))]
        else:
            samples_per_class(g.images, g.labels, names=names,
                              title=f"{g.name}: its real training images (seed {seed})")
    if len(unlabelled) == 1:
        (name, images), = unlabelled.items()
        sample_grid(images[:per_set], title=f"{name.split(' (')[0]}: "
                    + (f"{per_set} of its {len(images)} real training images, at random"
                       if len(images) > per_set else "its real training images")
                    + f" (seed {seed})")
    elif unlabelled:
        rows_of_images(unlabelled, title="Each generator's real training images (how many), "
                                         f"8 at random (seed {seed})")


def confidence_histogram(proba_by_name, target_class, threshold, title="", label=None):
    """Probability of the target class, one histogram per (name -> probabilities)."""
    fig, ax = plt.subplots(figsize=(8, 3.2))
    # a line style each as well as a colour: most images sit in the last bin, one line on
    # another
    for (name, proba), ls in zip(proba_by_name.items(), ("-", "--", ":", "-.")):
        if len(proba):
            sns.histplot(proba[:, target_class], bins=20, binrange=(0, 1), stat="probability",
                         element="step", fill=False, label=name, ax=ax, linestyle=ls, lw=1.5)
    ax.axvline(threshold, color="k", ls="--", lw=1, label=f"threshold {threshold}")
    ax.set_yscale("log")  # the few images below the threshold are what matters
    ax.set_xlabel(f"P(class {label or target_class})")
    ax.set_ylabel("share of images (log scale)")
    ax.set_title(title or f"Confidence that an image is a {label or target_class}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _display()


def confidence_by_generator(labels, seed, target_class, label, threshold):
    """labels: {(seed, generator): result of label()}; one histogram per generator, each
    beside the oracle's view of the real minority images for reference. `label`: the class
    as the titles name it (runs.Run.class_label)."""
    for (s, gen), r in labels.items():
        if s != seed:
            continue
        curves = {"synthetic (oracle)": r["oracle_proba"]}
        if r["filter_proba"] is not None:  # a filter was trained (label.filter)
            curves["synthetic (filter)"] = r["filter_proba"]
        curves["real minority (oracle)"] = r["oracle_real_proba"]
        confidence_histogram(curves, target_class, threshold, label=label,
                             title=f"{gen}, seed {seed}: confidence that an image is a "
                                   f"{label}")


def confusion_matrices(confusions, labels=("rest", "minority"), seed=None, classifier=None):
    keys = [k for k in confusions if (seed is None or k[2] == seed)
            and (classifier is None or k[1] == classifier)]
    # a panel grows with its classes, so that ten classes' three-digit counts stay legible:
    # each cell keeps about 0.4 inches, and fewer panels share a row of at most 16 inches;
    # named classes ("0 (T-shirt/top)") need room of their own beside the cells and below
    longest = max(len(str(label)) for label in labels)
    room = 0.07 * longest if longest > len("rest") else 0
    side = max(3.2, 0.4 * len(labels) + 1.0 + room)
    turned = 0.08 * longest > (side - 1.0 - room) / len(labels)  # wider than a cell: overlaps
    cols = max(1, min(len(keys), 5, int(16 / side + 1e-9)))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(side * cols, (side - 0.2) * rows),
                             squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, key in zip(axes.flat, keys):
        ax.set_axis_on()
        sns.heatmap(np.asarray(confusions[key]), annot=True, fmt="d", cbar=False, cmap="Blues",
                    xticklabels=labels, yticklabels=labels, ax=ax, square=True,
                    annot_kws={"fontsize": 10 if len(labels) <= 4 else 8})
        ax.set_title(f"{key[1]} / {key[0]} / seed {key[2]}", fontsize=9)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.tick_params(axis="y", labelrotation=0)
        if turned:
            ax.tick_params(axis="x", labelrotation=90)
    fig.suptitle("Confusion matrices on the real test split")
    fig.tight_layout()
    _display()


def metric_points(metrics_df, metrics=("minority_f1", "minority_precision",
                                       "minority_recall", "balanced_accuracy")):
    """Every seed as a point, with the mean and its 95% interval, per arm and classifier:
    the spread stays visible."""
    d = metrics_df[metrics_df.metric.isin(metrics)]
    # Panels, rows and colours in one stated order for the points and the means drawn over
    # them: seaborn would take each from the order of the rows it is given.
    metrics = [m for m in metrics if m in set(d.metric)]
    arms, classifiers = list(dict.fromkeys(d.arm)), list(dict.fromkeys(d.classifier))
    colours = dict(zip(classifiers, CLASSIFIER_COLOURS * len(classifiers)))
    # Each panel's own scale: arms a few hundredths apart near 0.95 are what a reader compares.
    # Each panel about 2.4 inches wide, so that its tick labels (0.935) stay apart: the arms'
    # names, about 0.09 inches a character, take their own room beside the first panel.
    ncol, height = min(len(metrics), 4), 0.35 * len(arms) + 1.5
    width = 2.4 + 0.5 + (0.09 * max(map(len, arms)) + 0.3) / ncol
    g = sns.catplot(data=d, y="arm", x="value", hue="classifier", col="metric", kind="strip",
                    col_order=metrics, order=arms, hue_order=classifiers, palette=colours,
                    dodge=True, sharex=False, height=height, aspect=width / height,
                    col_wrap=ncol, alpha=0.6)
    cut = False
    for ax, metric in zip(g.axes.flat, metrics):
        cut |= _means_and_intervals(ax, d[d.metric == metric], arms, classifiers, colours)
        ax.margins(x=0.1)  # the default 5% leaves a diamond at either end on the frame
        # steps that divide 1, so that a panel reaching 1 has a tick there
        ax.xaxis.set_major_locator(plt.MaxNLocator(3, steps=[1, 2, 2.5, 5, 10]))
        ax.xaxis.set_major_formatter("{x:g}")  # 0.93, not 0.930: short labels stay apart
        ax.set_xlabel("score")  # the panel's title names which
    if g.legend is not None:  # its key at full colour and size; the seed points are faded
        for handle in g.legend.legend_handles:
            handle.set_alpha(1)
            handle.set_markersize(9)
    g.set_titles("{col_name}")
    g.figure.subplots_adjust(wspace=0.3)  # else one panel's last tick runs into the next one's
    n = d.seed.nunique()
    _suptitle(g.figure, "Scores on the real test split: "
              + (f"each faded point is one seed; diamond and bar, the mean and {interval_over(n)}"
                 if n > 1 else f"each diamond is the one seed's score ({ONE_SEED})")
              + ("; a triangle at 0 or 1: the interval runs on past it, drawn only that far "
                 "since no score lies beyond" if cut else ""))
    _display()


def _means_and_intervals(ax, d, arms, classifiers, colours):
    """Each arm's and classifier's mean over seeds (a diamond) and its t interval (a bar), in
    the slot of the dodged strip of that classifier's points; an interval past 0 or 1 is drawn
    up to it, with a triangle there pointing on. Returns whether one was cut. Drawn here, not
    by seaborn's pointplot, which cannot mark a cut end."""
    width = 0.8 / len(classifiers)  # seaborn's dodge: a category's 0.8 shared among the hues
    cut = False
    for j, clf in enumerate(classifiers):
        y0 = (j + 0.5) * width - 0.4
        means = []
        for i, arm in enumerate(arms):
            values = d[(d.arm == arm) & (d.classifier == clf)].value
            if values.empty:
                continue
            y = i + y0
            whole, drawn = t_interval(values), cut_t_interval(values)
            means.append((values.mean(), y))
            ax.plot(drawn, [y, y], color=colours[clf], lw=2.5)
            for end, marker in ((0, "<"), (1, ">")):  # the low end, then the high one
                if drawn[end] != whole[end]:
                    ax.plot(drawn[end], y, marker=marker, color=colours[clf], markersize=7)
                    cut = True
        if means:
            x, y = zip(*means)
            ax.plot(x, y, marker="d", ls="none", color=colours[clf], markersize=9)
    return cut


def training_curves(history):
    """Loss and accuracy on the real validation split by optimizer step of each evaluation
    classifier: a row of panels per classifier, so that no panel holds more lines than there
    are arms."""
    cols = [c for c in ("val_loss", "val_accuracy") if c in history]
    if not cols:
        return
    classifiers = list(dict.fromkeys(history.classifier))
    arms = list(dict.fromkeys(history.arm))
    fig, axes = plt.subplots(len(classifiers), len(cols), figsize=(5 * len(cols),
                                                                   3.2 * len(classifiers)),
                             squeeze=False, sharex="row")  # classifiers' budgets differ
    colours = palette(arms)
    for row, clf in zip(axes, classifiers):
        for ax, col in zip(row, cols):
            # One legend, beside the panels: a legend for eight arms inside a panel hides
            # its lines.
            sns.lineplot(data=history[history.classifier == clf], x="step", y=col, hue="arm",
                         hue_order=arms, palette=colours, marker="o", ax=ax,
                         legend=ax is axes[0, -1])
            ax.set_title(f"{clf}: {col.replace('_', ' ')}")
            ax.set_xlabel("classifier optimizer step")
            ax.set_ylabel("")
    sns.move_legend(axes[0, -1], "upper left", bbox_to_anchor=(1.02, 1))
    fig.tight_layout()
    _display()


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


def step_curves(history):
    """Validation and test loss and accuracy by optimizer step, per training set (mean over
    seeds with a 95% band): the seed's per-epoch plots, recorded only. Loss above accuracy,
    validation beside test, so that a page-wide figure keeps its legend legible."""
    cols = [c for c in ("val_loss", "test_loss", "val_accuracy", "test_accuracy")
            if c in history]
    if not cols:
        return
    ncols = min(2, len(cols))
    nrows = math.ceil(len(cols) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3.2 * nrows), squeeze=False,
                             sharex=True)
    # a line style per classifier only where there are several: one would add a legend
    # section with a single entry
    style = "classifier" if history["classifier"].nunique() > 1 else None
    # markers=True marks the points only when there is a style to vary them by
    marks = {"markers": True} if style else {"marker": "o"}
    colours = palette(history.arm)
    for ax, col in zip(axes.flat, cols):
        # an accuracy's band stops at 1; a loss has no upper bound
        band = cut_t_interval if col.endswith("accuracy") else t_interval
        sns.lineplot(data=history, x="step", y=col, hue="arm", style=style, **marks,
                     palette=colours, errorbar=band, ax=ax,
                     legend=ax is axes[0, -1])
        ax.set_title(col.replace("_", " "))
        ax.set_xlabel("classifier optimizer step")
        ax.set_ylabel("")
    for ax in axes.flat[len(cols):]:
        ax.set_axis_off()
    sns.move_legend(axes[0, -1], "upper left", bbox_to_anchor=(1.02, 1))
    n = history.seed.nunique()
    cut = any(runs_past(history.rename(columns={col: "value"}), ["arm", "classifier", "step"])
              for col in cols if col.endswith("accuracy"))
    fig.suptitle(f"Band: {interval_over(n)}" + ("; on the accuracy panels, cut at 0 and 1 "
                                                 "where it runs past them" if cut else "")
                 if n > 1 else ONE_SEED.capitalize())
    fig.tight_layout()
    _display()


def accuracy_by_step(d, metric="accuracy"):
    """Synthetic-only accuracy against generator training steps, one line per label source
    through its mean over seeds; the real-data classifier as a horizontal line at its mean,
    in a band from its lowest to its highest seed."""
    synthetic = d[d.source != "real"]
    classifiers = list(dict.fromkeys(synthetic.classifier))  # the panels, in this order
    g = sns.relplot(data=synthetic, x="step", y="value", hue="source", col="classifier",
                    col_order=classifiers, kind="line", marker="o", errorbar=cut_t_interval,
                    palette=palette(synthetic.source), height=3.4, aspect=1.4)
    n = d.seed.nunique()
    for ax, clf in zip(g.axes.flat, classifiers):
        real = d[(d.classifier == clf) & (d.source == "real")]["value"]
        if len(real) > 1:
            ax.axhspan(real.min(), real.max(), color="grey", alpha=0.25)
        if len(real):
            ax.axhline(real.mean(), color="k", ls="--", lw=1, label="real")
        ax.set_ylim(0, 1.02)
        ax.set_ylabel(f"test {metric}")
        ax.set_xlabel("GAN training steps (the classifier's budget is fixed)")
    if n > 1:
        cut = runs_past(synthetic, ["classifier", "source", "step"])
        what = (f"Coloured band: {interval_over(n)}" + (", cut at 0 and 1 where it runs past "
                                                        "them" if cut else "")
                + "; dashed line and grey band: trained on real, the mean and the lowest to "
                  "the highest seed")
    else:
        what = f"{ONE_SEED.capitalize()}; dashed line: trained on real"
    _suptitle(g.figure, f"Train on synthetic, test on real. {what}")
    _display()


def shares(d, varied_class, label=str):
    """Generated class shares (each seed a point, mean and 95% interval) against the training
    share (black bar), per model (columns) and class (colour), for each mix. `label`: a class
    as the reports name it (runs.Run.class_label)."""
    d = d.assign(**{"class": d["class"].map(label)})
    gen = d[d.kind == "generated"]
    # One stated order of panels and classes for the means, the points and the training bars,
    # so that each class's bar sits in its own slot (seaborn would take each from its rows).
    models, classes = list(dict.fromkeys(gen.model)), list(dict.fromkeys(gen["class"]))
    # the means and bars as far apart as the strip's dodge puts each class's seed points
    dodge = 0.8 - 0.8 / len(classes)
    g = sns.catplot(data=gen, x="varied_count", y="value", hue="class", col="model",
                    col_order=models, hue_order=classes, kind="point", dodge=dodge,
                    errorbar=cut_t_interval, linestyle="none", height=3.4, aspect=1.2)
    for ax, model in zip(g.axes.flat, models):
        sns.stripplot(data=gen[gen.model == model], x="varied_count", y="value", hue="class",
                      hue_order=classes, dodge=True, alpha=0.4, size=3, legend=False, ax=ax)
        tr = d[(d.kind == "training") & (d.model == model)]
        sns.pointplot(data=tr, x="varied_count", y="value", hue="class", hue_order=classes,
                      dodge=dodge, markers="_", linestyle="none", errorbar=None,
                      palette=["k"] * len(classes), legend=False, ax=ax)
        ax.set_xlabel(f"training images of class {label(varied_class)}")
        ax.set_ylabel("share of images")
        ax.set_ylim(0, 1)
    n = gen.seed.nunique()
    cut = runs_past(gen, ["model", "varied_count", "class"])
    _suptitle(g.figure, "Generated class shares against training shares (black bars): "
              + (f"faded points, one per seed; solid point and bar, the mean and "
                 f"{interval_over(n)}" + (", cut at 0 and 1 where it runs past them" if cut
                                          else "")
                 if n > 1 else f"points, the one seed's shares ({ONE_SEED})"))
    _display()


def quality_curves(table, thresholds, path=None):
    """Generator quality against training time (the bench's headline): oracle label agreement
    and Fréchet ratio per generator, network and precision, with the stated thresholds."""
    d = table.assign(run=table.generator + ", " + table.architecture + ", " + table.precision)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, col, limit in ((axes[0], "label_agreement", thresholds["label_agreement"]),
                           (axes[1], "frechet_ratio", thresholds["frechet_ratio"])):
        sns.lineplot(data=d, x="wall_seconds", y=col, hue="run", marker="o", ax=ax,
                     legend=ax is axes[1])
        ax.axhline(limit, color="k", ls="--", lw=1)
        ax.set_xscale("log")  # the seed's network takes ten times the light one's time
        ax.set_xlabel("training time (s, wall clock)")
    copy = thresholds.get("copy_of_training_images_ratio")
    if copy:
        axes[1].axhline(copy, color="k", ls=":", lw=1)
        axes[1].annotate("a copy of the training images", (0.02, copy), fontsize=8,
                         xycoords=("axes fraction", "data"), va="bottom")
    axes[1].set_yscale("log")
    axes[0].set_title("oracle label agreement (higher is better)")
    axes[1].set_title("Fréchet distance / real-vs-real (lower is better)")
    sns.move_legend(axes[1], "upper left", bbox_to_anchor=(1, 1), fontsize=8)
    fig.tight_layout()
    if path:
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
    else:
        _display()


# Each verdict's colour (Okabe and Ito's colour-blind-safe set), marker and legend entry, keyed
# by how report's verdicts begin: the marker tells better from worse without the colour.
VERDICT_STYLES = {"better": ("#0072B2", "^", "better"), "worse": ("#D55E00", "v", "worse"),
                  "within": ("#555555", "o", "within noise"),
                  "single": ("#999999", "s", ONE_SEED),
                  "not conclusive": ("#E69F00", "D", "not conclusive")}


def forest(comp, metric="minority_f1", title=None):
    """Each arm minus each baseline (paired over seeds): the mean difference and its
    simultaneous 95% interval (report.SIMULTANEOUS), one panel per classifier, a line at
    zero; colour and marker say the verdict."""
    if comp.empty:
        return
    classifiers = list(dict.fromkeys(comp.classifier))
    rows = comp.groupby("classifier").size().max()
    # Constrained layout stacks the title, the legend and the panels without gaps or overlap,
    # however many rows the panels have.
    fig, axes = plt.subplots(1, len(classifiers), figsize=(5.8 * len(classifiers),
                                                           0.32 * rows + 2.0),
                             squeeze=False, layout="constrained", sharex=True)
    shown = []
    for ax, clf in zip(axes.flat, classifiers):
        d = comp[comp.classifier == clf].reset_index(drop=True)
        labels = d.gan_arm + " − " + d.baseline
        y = np.arange(len(d))[::-1]
        for yi, (_, r) in zip(y, d.iterrows()):
            key = next((k for k in VERDICT_STYLES if r.verdict.startswith(k)), "within")
            shown.append(key)
            colour, marker, _ = VERDICT_STYLES[key]
            ci = 0.0 if pd.isna(r.interval) else r.interval
            ax.errorbar(r.mean_difference, yi, xerr=ci, fmt=marker, color=colour, capsize=3,
                        markersize=7)
        ax.axvline(0, color="k", lw=1)
        ax.set_yticks(y, labels)
        # Half a row above and below and a tenth of the span beside: the default 5% margins
        # cut the markers at the first and last rows and the widest differences in half.
        ax.set_ylim(-0.5, len(d) - 0.5)
        ax.margins(x=0.1)
        ax.set_title(clf)
        ax.set_xlabel(f"difference in {metric}")
        # the arms' long names leave narrow panels: few ticks, written short ("0", not "0.00")
        ax.xaxis.set_major_locator(plt.MaxNLocator(4))
        ax.xaxis.set_major_formatter("{x:g}")
    verdicts = [VERDICT_STYLES[k] for k in VERDICT_STYLES if k in shown]
    handles = [plt.Line2D([], [], marker=marker, ls="none", markersize=8, color=colour)
               for colour, marker, _ in verdicts]
    fig.legend(handles, [label for *_, label in verdicts], loc="outside lower center",
               ncol=len(verdicts), frameon=False, title="verdict")
    # one seed has no spread, so no interval: the title says what the points are
    spread = comp.interval.notna().any() if "interval" in comp else False
    title = title or (("Paired differences (mean, 95% simultaneous interval over seeds):\n"
                       if spread else
                       f"Differences ({ONE_SEED}, and no verdict on the spread):\n")
                      + "right of zero, the first arm scores higher")
    fig.suptitle(_wrapped(fig, title))  # constrained layout makes room for it
    _display()
