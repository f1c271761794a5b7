"""What every figure shares: the theme, the colours, the intervals over seeds and how a
figure says them, and showing a figure with its description."""
from __future__ import annotations

import re
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from synthlib import metrics, registry

# Seaborn's colour-blind palette: its ten colours stay apart for red-green colour blindness,
# where the default's green and red (two arms side by side) turn the same olive.
sns.set_theme(style="whitegrid", context="notebook", palette="colorblind")

# What a figure of one seed says in place of an interval, in the same words everywhere, the
# forest plot's legend among them.
NO_INTERVAL = "one seed: no interval"

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
    place in the study's list (registry.STUDY_ARMS, then STUDY_GENERATORS) that names most of
    `names` (an arm's variants, `upper_bound:half_budget` or `synthetic_gan_labels@500`,
    counting as the arm), so dcgan_minority is one colour in 02's training curves and in 05's.
    Other names take the colour-blind colours no listed name here holds, and past those,
    colours of their own."""
    names = list(dict.fromkeys(names))
    bases = {re.split("[:@]", n)[0] for n in names}
    known = max((list(dict.fromkeys(registry.STUDY_ARMS[s] + registry.STUDY_GENERATORS[s]))
                 for s in registry.STUDY_ARMS), key=lambda k: len(set(k) & bases))
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
