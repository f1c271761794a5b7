"""Figures for the notebooks. Each function draws one figure and shows it.

One module per kind of figure, each named here, so that callers say `plots.forest(...)`
whichever module draws it:

- `common`: what every figure shares (theme, colours, intervals over seeds, showing a figure
  with its description);
- `images`: grids of real and generated images, and samples as a generator trains;
- `training`: curves against training time, of generators and of classifiers;
- `distributions`: how images fall into classes (counts, the oracle's confidence, shares);
- `scores`: scores on the real test split (confusion matrices, points, the forest plot).
"""
from synthlib.plots.common import (CLASSIFIER_COLOURS, NO_INTERVAL, SCORE_BOUNDS,
                                   cut_t_interval, describe, interval_over, palette,
                                   runs_past, seeds_in_words, t_interval)
from synthlib.plots.distributions import (class_counts, confidence_by_generator,
                                          confidence_histogram, shares)
from synthlib.plots.images import (generated, grids_by_generator, grids_over_time,
                                   rows_of_images, sample_grid, samples_per_class,
                                   spaced_steps, training_images)
from synthlib.plots.scores import VERDICT_STYLES, confusion_matrices, forest, metric_points
from synthlib.plots.training import (GAN_LOSSES, P_REAL, VAE_LOSSES,
                                     accuracy_by_step, loss_curves, quality_curves,
                                     step_curves, training_curves)

__all__ = [
    "CLASSIFIER_COLOURS", "NO_INTERVAL", "SCORE_BOUNDS", "cut_t_interval", "describe",
    "interval_over", "palette", "runs_past", "seeds_in_words", "t_interval",
    "class_counts", "confidence_by_generator", "confidence_histogram", "shares",
    "generated", "grids_by_generator", "grids_over_time", "rows_of_images", "sample_grid",
    "samples_per_class", "spaced_steps", "training_images",
    "VERDICT_STYLES", "confusion_matrices", "forest", "metric_points",
    "GAN_LOSSES", "P_REAL", "VAE_LOSSES", "accuracy_by_step", "loss_curves",
    "quality_curves", "step_curves", "training_curves",
]
