"""Curves against training time: what generators and classifiers log as they train, and
how scores move with the generators' training steps or time."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib import ticker

from synthlib.plots.common import (NO_INTERVAL, _display, _suptitle, cut_t_interval,
                                   interval_over, palette, runs_past, t_interval)


# What each kind of generator logs (gan.DCGAN.metrics, vae.VAE.metrics): a panel's curve
# names the model it comes from, so that its axis and the title can say which.
GAN_LOSSES = ("d_loss", "g_loss", "d_real", "d_fake")
VAE_LOSSES = ("loss", "reconstruction_loss", "kl_loss")
# The discriminator's mean P(real) on real and on generated images: probabilities, whose bands
# stop at 0 and 1 as the scores' do (common.SCORE_BOUNDS), where the losses' run on.
P_REAL = ("d_real", "d_fake")


def loss_curves(results, generators=()):
    """results: {(seed, generator): (history, grids)} from training. One panel per logged
    value (GAN: d_loss, g_loss and the discriminator's mean P(real) on real and generated
    images; VAE: its loss and the two parts of it), one line per generator. `generators`
    (common.Generator), where given, tell which GANs are conditional, whose losses hold the
    class loss too."""
    if not results:  # a run that trains no generator
        return
    df = pd.concat([h.assign(seed=s, generator=g) for (s, g), (h, _) in results.items()],
                   ignore_index=True)
    values = [c for c in GAN_LOSSES + VAE_LOSSES if c in df]
    long = df.melt(id_vars=["step", "seed", "generator"], value_vars=values,
                   var_name="curve", value_name="value").dropna()
    # A grid of lineplots rather than relplot, which takes one errorbar for every panel.
    colours = palette(long.generator)
    g = sns.FacetGrid(long, col="curve", col_order=values, col_wrap=min(4, len(values)),
                      height=2.8, aspect=1.2, sharex=False, sharey=False)
    g.map_dataframe(_loss_line, x="step", y="value", hue="generator", hue_order=list(colours),
                    palette=colours)
    g.add_legend(title="generator")
    g.set_titles("{col_name}")
    g.set_axis_labels("", "")
    # Every panel names its model: in the bias study the VAE's panels sit under the GAN's.
    for ax, curve in zip(g.axes.flat, values):
        ax.set_xlabel(f"{'VAE' if curve in VAE_LOSSES else 'GAN'} training step")
    g.tight_layout()  # room for the upper row's labels above the lower row's titles
    n = df.seed.nunique()
    cut = runs_past(long[long.curve.isin(P_REAL)], ["curve", "generator", "step"])
    band = (f"band: {interval_over(n)}" + (f"; on the {' and '.join(P_REAL)} panels, cut at 0 "
                                           "and 1 where it runs past them" if cut else "")
            if n > 1 else NO_INTERVAL)
    _suptitle(g.figure, " ".join([f"Training curves (mean over each chunk of steps; {band}).",
                                  *_loss_notes(values, generators),
                                  "Compare one generator's curve over time, not levels across "
                                  "generators."]))
    _display()


def _loss_line(data, **kwargs):
    """One panel of loss_curves: its curve's line per generator, the band over seeds cut at 0
    and 1 on a panel of probabilities (P_REAL)."""
    band = cut_t_interval if data.curve.iloc[0] in P_REAL else t_interval
    sns.lineplot(data=data, errorbar=band, **kwargs)


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
                 if n > 1 else NO_INTERVAL.capitalize())
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
        what = f"{NO_INTERVAL.capitalize()}; dashed line: trained on real"
    _suptitle(g.figure, f"Train on synthetic, test on real. {what}")
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
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_xlabel("training time (s, wall clock)")
    axes[0].set_ylabel("share the oracle names as asked")
    axes[1].set_yscale("log")  # from 30x down to 2x: a linear axis flattens the part that counts
    axes[1].yaxis.set_major_locator(ticker.LogLocator(subs=(1, 2, 3, 5)))
    axes[1].yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
    axes[1].yaxis.set_minor_formatter(ticker.NullFormatter())
    axes[1].set_ylabel("Fréchet distance ÷ real-vs-real")
    legend = axes[1].get_legend()
    handles, labels = legend.legend_handles, [t.get_text() for t in legend.get_texts()]
    handles.append(axes[1].lines[-1])
    labels.append("stated quality (both panels)")
    copy = thresholds.get("copy_of_training_images_ratio")
    if copy:  # in the legend: a label on the axes sits on the curves, whatever its place
        handles.append(axes[1].axhline(copy, color="k", ls=":", lw=1))
        labels.append("a copy of the training images")
    axes[0].set_title("oracle label agreement (higher is better)")
    axes[1].set_title("Fréchet distance / real-vs-real (lower is better)")
    axes[1].legend(handles, labels, title="run", loc="upper left", bbox_to_anchor=(1, 1),
                   fontsize=8)
    fig.tight_layout()
    if path:
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
    else:
        _display()
