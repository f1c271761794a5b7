"""Scores on the real test split: confusion matrices, each seed's scores with their mean and
interval, and the paired differences between arms (the forest plot)."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from synthlib.plots.common import (CLASSIFIER_COLOURS, NO_INTERVAL, _display, _suptitle,
                                   _wrapped, cut_t_interval, interval_over, t_interval)


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
                 if n > 1 else f"each diamond is the one seed's score ({NO_INTERVAL})")
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


# Each verdict's colour (Okabe and Ito's colour-blind-safe set), marker and legend entry, keyed
# by how report's verdicts begin: the marker tells better from worse without the colour.
VERDICT_STYLES = {"better": ("#0072B2", "^", "better"), "worse": ("#D55E00", "v", "worse"),
                  "within": ("#555555", "o", "within noise"),
                  "single": ("#999999", "s", NO_INTERVAL),
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
    shown, cut = [], False
    for ax, clf in zip(axes.flat, classifiers):
        d = comp[comp.classifier == clf].reset_index(drop=True)
        labels = d.gan_arm + " − " + d.baseline
        y = np.arange(len(d))[::-1]
        for yi, (_, r) in zip(y, d.iterrows()):
            key = next((k for k in VERDICT_STYLES if r.verdict.startswith(k)), "within")
            shown.append(key)
            colour, marker, _ = VERDICT_STYLES[key]
            ci = 0.0 if pd.isna(r.interval) else r.interval
            # two scores in [0, 1] differ by at most 1: an interval of two seeds runs far past
            # that (one degree of freedom), and drawn whole it would set the axis to ±3
            low, high = max(r.mean_difference - ci, -1.0), min(r.mean_difference + ci, 1.0)
            ax.errorbar(r.mean_difference, yi,
                        xerr=[[r.mean_difference - low], [high - r.mean_difference]],
                        fmt=marker, color=colour, capsize=3, markersize=7)
            for end, whole, pointer in ((low, r.mean_difference - ci, "<"),
                                        (high, r.mean_difference + ci, ">")):
                if end != whole:
                    ax.plot(end, yi, marker=pointer, color=colour, markersize=7)
                    cut = True
        ax.axvline(0, color="k", lw=1)
        ax.set_yticks(y, labels)
        # Half a row above and below and a tenth of the span beside: the default 5% margins
        # cut the markers at the first and last rows and the widest differences in half.
        ax.set_ylim(-0.5, len(d) - 0.5)
        ax.margins(x=0.1)
        ax.set_title(clf)
        ax.set_xlabel(f"difference in {metric}")
        # the arms' long names leave narrow panels: few ticks, written short ("0", not "0.00"),
        # at steps that divide 1, so that a panel cut at ±1 has a tick there
        ax.xaxis.set_major_locator(plt.MaxNLocator(4, steps=[1, 2, 2.5, 5, 10]))
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
                       f"Differences ({NO_INTERVAL}, and no verdict on the spread):\n")
                      + "right of zero, the first arm scores higher"
                      + ("; a triangle at ±1: the interval runs on past it, drawn only that "
                         "far since no difference lies beyond" if cut else ""))
    fig.suptitle(_wrapped(fig, title))  # constrained layout makes room for it
    _display()
