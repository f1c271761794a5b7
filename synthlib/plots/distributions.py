"""How images fall into classes: counts per part of the data, the oracle's confidence in a
class, and the class shares a generator draws against those it was trained on."""
from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib import ticker

from synthlib.plots.common import (NO_INTERVAL, _display, _suptitle, cut_t_interval,
                                   interval_over, runs_past, seeds_in_words)


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
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{100 * v:g}%"))
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
                 if n > 1 else f"points, the one seed's shares ({NO_INTERVAL})"))
    _display()
