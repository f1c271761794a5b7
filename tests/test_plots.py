"""The figures a reader takes in at a glance."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import seaborn as sns  # noqa: E402

from conftest import metric_rows  # noqa: E402
from synthlib import plots, report, validity  # noqa: E402


def test_forest_plot_shows_each_paired_difference_with_its_interval_and_zero():
    m = pd.concat([metric_rows({"imbalanced": [0.5, 0.55, 0.52], "smote": [0.9, 0.92, 0.91],
                             "dcgan_minority": [0.8, 0.81, 0.83]}, clf)
                   for clf in ("small_cnn", "seed_mlp")])
    comp = report.comparisons(m)
    plt.close("all")
    plots.forest(comp)
    fig = plt.gcf()
    assert [ax.get_title() for ax in fig.axes] == ["seed_mlp", "small_cnn"]
    ax = fig.axes[1]
    assert sorted(t.get_text() for t in ax.get_yticklabels()) == [
        "dcgan_minority − imbalanced", "dcgan_minority − smote"]
    # better and worse told apart by the marker too, for readers who cannot tell the colours
    marked = {line.get_marker(): float(line.get_xdata()[0]) for line in ax.lines
              if line.get_marker() not in ("None", "", "|")}
    mine = comp[comp.classifier == "small_cnn"].set_index("baseline").mean_difference
    assert marked == pytest.approx({"^": mine["imbalanced"], "v": mine["smote"]})
    assert any(np.allclose(line.get_xdata(), 0) for line in ax.lines)  # the zero line
    assert len(ax.collections) == 2  # one interval per comparison
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert set(legend) == {"better", "worse"}  # better than imbalanced, worse than smote


def test_forest_plot_cuts_an_interval_at_the_largest_possible_difference():
    """Two seeds give one degree of freedom: a simultaneous interval can run to ±3, where two
    scores in [0, 1] differ by 1 at most. Drawn up to ±1, a triangle there says it runs on."""
    m = metric_rows({"imbalanced": [0.6, 0.9], "dcgan_minority": [0.9, 0.95]})
    comp = report.comparisons(m)
    assert comp.interval.iloc[0] > 1
    plt.close("all")
    plots.forest(comp)
    fig = plt.gcf()
    ax = fig.axes[0]
    ends = {line.get_marker(): float(line.get_xdata()[0]) for line in ax.lines
            if line.get_marker() in ("<", ">")}
    assert ends == {"<": -1.0, ">": 1.0}
    lo, hi = ax.get_xlim()
    assert -1.5 < lo and hi < 1.5  # the axis spans what can happen, not the interval's width
    assert "a triangle at ±1" in " ".join(fig._suptitle.get_text().split())  # as wrapped
    plt.close("all")
    plots.forest(report.comparisons(metric_rows({"imbalanced": [0.5, 0.55, 0.52],
                                                 "dcgan_minority": [0.8, 0.81, 0.83]})))
    assert "triangle" not in plt.gcf()._suptitle.get_text()


def test_forest_plot_of_one_seed_claims_no_interval():
    comp = report.comparisons(metric_rows({"imbalanced": [0.5], "dcgan_minority": [0.8]}))
    plt.close("all")
    plots.forest(comp)
    title = plt.gcf()._suptitle.get_text()
    assert "one seed: no interval" in title and "95%" not in title


def test_forest_plot_marks_withheld_comparisons():
    m = metric_rows({"imbalanced": [0.5, 0.55, 0.52], "dcgan_minority": [0.8, 0.81, 0.83]})
    bad = validity.Check("oracle label agreement", "dcgan_minority", 0.5, ">= 0.950", False, "")
    comp = report.comparisons(m, checks=[bad])
    plt.close("all")
    plots.forest(comp)
    assert [t.get_text() for t in plt.gcf().legends[0].get_texts()] == ["not conclusive"]


def test_forest_plot_legend_sits_under_the_panels_clear_of_the_title():
    m = pd.concat([metric_rows({"imbalanced": [0.5, 0.55, 0.52], "smote": [0.9, 0.92, 0.91],
                             "dcgan_minority": [0.8, 0.81, 0.83]}, clf)
                   for clf in ("small_cnn", "seed_mlp")])
    plt.close("all")
    plots.forest(report.comparisons(m))
    fig = plt.gcf()
    fig.canvas.draw()  # constrained layout places everything when the figure is drawn
    renderer = fig.canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    for ax in fig.axes:  # below each panel's x label, not floating above its title
        assert legend.y1 <= ax.get_tightbbox(renderer).y0
    assert not legend.overlaps(fig._suptitle.get_window_extent(renderer))
    assert all(h.get_markersize() >= 8 for h in fig.legends[0].legend_handles)


def test_a_single_panel_forest_plot_wraps_its_title_inside_the_figure():
    m = metric_rows({"real": [0.9, 0.92], "cgan_all_classes": [0.8, 0.82]}, metric="accuracy")
    plt.close("all")
    plots.forest(report.paired_comparisons(m, "accuracy", ["cgan_all_classes"], ["real"]),
                 metric="accuracy")
    fig = plt.gcf()
    fig.canvas.draw()
    title = fig._suptitle.get_window_extent(fig.canvas.get_renderer())
    assert title.x0 >= 0 and title.x1 <= fig.bbox.width


def test_headline_marks_the_best_arm_per_classifier_but_not_the_upper_bound():
    m = pd.concat([metric_rows({"imbalanced": [0.5, 0.55], "smote": [0.9, 0.92],
                             "upper_bound": [0.97, 0.98]}, clf)
                   for clf in ("small_cnn", "seed_mlp")])
    styled = report.headline(m)
    assert list(styled.data.index) == ["imbalanced", "smote", "upper_bound"]
    assert styled.data.loc["smote", "small_cnn"] == "0.910\u00a0±\u00a00.014"
    styles = styled._compute().ctx  # {(row, column): [(property, value)]}
    bold = sorted(k for k, v in styles.items() if ("font-weight", "bold") in v)
    assert bold == [(1, 0), (1, 1)]  # smote for each classifier, not the upper bound
    lines = report.markdown_table(styled).splitlines()  # README's results: the same marks
    assert lines[3] == "| smote | **0.910 ± 0.014** | **0.910 ± 0.014** |"
    assert "**" not in lines[4]


def test_bench_quality_curve_shows_thresholds_and_the_copy_bound(tmp_path):
    from synthlib import config
    from synthlib.tools.quality_curve import time_to_quality

    table = pd.DataFrame([
        {"generator": "dcgan_minority", "architecture": "light_dcgan", "precision": "float32",
         "step": s, "wall_seconds": 10.0 * s, "cpu_seconds": 20.0 * s, "label_agreement": a,
         "frechet_ratio": f} for s, a, f in ((1, 0.80, 9.0), (2, 0.97, 2.5), (3, 0.99, 1.8))])
    hit = time_to_quality(table, config.ValidityConfig())
    assert hit.step == 3  # step 2 has the agreement but not the Fréchet distance
    assert time_to_quality(table.iloc[:2], config.ValidityConfig()) is None
    plt.close("all")
    plots.quality_curves(table, {"label_agreement": 0.95, "frechet_ratio": 2.0,
                                 "copy_of_training_images_ratio": 2.7})
    agreement, frechet = plt.gcf().axes[:2]
    assert [line.get_ydata()[0] for line in agreement.lines[-1:]] == [0.95]
    assert sorted(line.get_ydata()[0] for line in frechet.lines if len(line.get_ydata()) == 2
                  ) == [2.0, 2.7]  # the threshold and the copy bound, as horizontal lines
    assert frechet.get_yscale() == "log" and frechet.get_xscale() == "log"
    legend = [t.get_text() for t in frechet.get_legend().get_texts()]
    assert legend == ["dcgan_minority, light_dcgan, float32", "stated quality (both panels)",
                      "a copy of the training images"]  # named there, not over the curves
    assert frechet.yaxis.get_major_formatter()(2.0, 0) == "2×"  # not 2 x 10^0


def said(fig):
    """A figure's title as one line, however it was wrapped."""
    return " ".join(fig.get_suptitle().split())


def shown(monkeypatch):
    """The figures plots.* show, kept open for the test to read."""
    figures = []
    monkeypatch.setattr(plt, "show", lambda: figures.append(plt.gcf()) or plt.figure())
    plt.close("all")
    return figures


def test_images_in_0_1_are_drawn_dark_on_light_over_the_full_range(monkeypatch):
    figures = shown(monkeypatch)
    image = np.zeros((4, 4, 1), "float32")
    image[0, 0] = 1.0
    plots.sample_grid([image], title="one")
    drawn = figures[0].axes[0].images[0]
    assert drawn.get_array().max() == 255 and drawn.get_cmap().name == "gray_r"
    assert drawn.get_clim() == (0, 255)


def test_an_empty_grid_says_so(monkeypatch, capsys):
    figures = shown(monkeypatch)
    plots.sample_grid(np.zeros((0, 4, 4, 1)), title="accepted")
    assert figures == [] and "accepted: no images" in capsys.readouterr().out


def test_long_trainings_show_first_and_last_grids(monkeypatch):
    figures = shown(monkeypatch)
    grids = {step: np.zeros((8, 4, 4, 1)) for step in range(100, 1100, 100)}
    plots.grids_over_time(grids, max_rows=4)
    labels = [t.get_text() for ax in figures[0].axes for t in ax.texts]
    assert labels == ["step 100", "step 400", "step 700", "step 1000"]


def test_grids_left_out_are_named_and_the_rows_keep_one_stride(monkeypatch):
    """tstr's eight grids, 250 to 2000, in six rows at most: rounding an even spread once
    dropped 750 and 1500 without a word, the gaps one and two chunks in turn."""
    figures = shown(monkeypatch)
    grids = {step: np.zeros((8, 4, 4, 1)) for step in range(250, 2250, 250)}
    plots.grids_over_time(grids, title="tstr", max_rows=6)
    rows = [int(t.get_text().split()[1]) for ax in figures[0].axes for t in ax.texts]
    assert rows == [250, 750, 1250, 1750, 2000]  # every second chunk, and the last
    title = said(figures[0])
    assert "5 of the 8 grids" in title and "steps 250, 750, 1250, 1750 and 2000" in title
    # all of them fit: every one drawn, and the title adds nothing
    plots.grids_over_time({s: grids[s] for s in (250, 500, 750)}, title="tstr", max_rows=6)
    assert figures[1].get_suptitle() == "tstr" and len(figures[1].axes[0].texts) == 1
    assert len([ax for ax in figures[1].axes if ax.texts]) == 3
    assert plots.spaced_steps(list(range(15)), 6) == [0, 3, 6, 9, 12, 14]
    # a snapshot a study reads (tstr's 1,000 steps) is drawn even off the stride
    assert plots.spaced_steps(list(range(15)), 6, keep=(4, 99)) == [0, 3, 4, 6, 9, 12, 14]
    plots.grids_over_time(grids, title="tstr", max_rows=5, keep=(1000,))
    assert "steps 250, 750, 1000, 1250, 1750 and 2000" in said(figures[2])


def test_a_conditional_gan_s_grid_names_its_class_or_one_per_column(monkeypatch):
    from types import SimpleNamespace as G

    figures = shown(monkeypatch)
    grids = {10: np.zeros((16, 4, 4, 1)), 20: np.zeros((16, 4, 4, 1))}
    labels = np.repeat(np.arange(10), 3)
    plots.grids_by_generator(
        {(0, "cgan_all_classes"): (None, grids), (0, "cgan_minority"): (None, grids)}, 0,
        [G(name="cgan_all_classes", seed=0, labels=labels, grid_label="all", snapshots=()),
         G(name="cgan_minority", seed=0, labels=labels, grid_label=5, snapshots=())])
    every, five = figures
    assert said(every).endswith("one class per column)")
    assert [ax.get_title() for ax in every.axes[:10]] == [str(c) for c in range(10)]
    assert said(five).endswith("(same latent points, class 5)")


def test_each_distinct_training_set_of_the_seed_is_shown_once(monkeypatch):
    from types import SimpleNamespace as G

    figures = shown(monkeypatch)
    kept = np.zeros((6, 4, 4, 1))
    plots.training_images([G(name="dcgan_minority", images=kept, labels=None, seed=0),
                           G(name="dcgan_minority_diffaug", images=kept, labels=None, seed=0),
                           G(name="dcgan_minority", images=kept[:5], labels=None, seed=1)], 0)
    # named by both generators that learnt from it, not by the first alone
    assert [f._suptitle.get_text() for f in figures] == [
        "dcgan_minority, dcgan_minority_diffaug: their real training images (seed 0)"]
    # the bias study: a DCGAN and a VAE on each mix, one row per mix naming both
    figures.clear()
    mixes = [G(name=f"{m}_mix{v}", images=np.full((v, 4, 4, 1), v / 100), labels=None, seed=0)
             for m in ("dcgan", "vae") for v in (30, 60)]
    plots.training_images(mixes, 0)
    (figure,) = figures
    assert [t.get_text() for ax in figure.axes for t in ax.texts] == [
        "dcgan_mix30, vae_mix30 (30)", "dcgan_mix60, vae_mix60 (60)"]


def test_training_sets_of_one_size_are_told_apart_by_their_images(monkeypatch):
    """Ten per-class DCGANs on 100 images each: ten rows, not the first class's set alone."""
    from types import SimpleNamespace as G

    figures = shown(monkeypatch)
    sets = [G(name=f"dcgan_class{c}", images=np.full((100, 4, 4, 1), c / 10), labels=None,
              seed=0) for c in range(10)]
    plots.training_images(sets, 0)
    (figure,) = figures
    rows = [t.get_text() for ax in figure.axes for t in ax.texts]
    assert rows == [f"dcgan_class{c} (100)" for c in range(10)]


def test_confusion_matrices_of_one_seed_and_classifier(monkeypatch):
    figures = shown(monkeypatch)
    c = np.array([[5, 1], [2, 3]])
    confusions = {(arm, clf, s): c for arm in ("imbalanced", "smote")
                  for clf in ("small_cnn", "seed_mlp") for s in (0, 1)}
    plots.confusion_matrices(confusions, seed=1, classifier="seed_mlp")
    assert sorted(ax.get_title() for ax in figures[0].axes if ax.axison) == [
        "seed_mlp / imbalanced / seed 1", "seed_mlp / smote / seed 1"]


def test_ten_classes_get_cells_wide_enough_for_their_counts(monkeypatch):
    figures = shown(monkeypatch)
    c = np.full((10, 10), 250)
    arms = ("real", "augmentation", "dcgan_per_class", "cgan_all_classes", "real_plus_cgan")
    plots.confusion_matrices({(arm, "small_cnn", 0): c for arm in arms},
                             labels=[str(i) for i in range(10)], seed=0)
    fig = figures[0]
    panels = [ax for ax in fig.axes if ax.axison]
    fig.canvas.draw()
    inches = [ax.get_window_extent().width / fig.dpi / 10 for ax in panels]
    assert len(panels) == 5 and min(inches) >= 0.3
    assert fig.get_size_inches()[0] <= 16.01
    # two classes keep five panels to a row
    plots.confusion_matrices({(arm, "small_cnn", 0): c[:2, :2] for arm in arms}, seed=0)
    assert len({round(ax.get_position().y0, 3) for ax in figures[1].axes}) == 1
    # named classes, as Fashion-MNIST's: the cells keep their size, the names turn upright
    names = [f"{i} (T-shirt/top)" for i in range(10)]
    plots.confusion_matrices({(arm, "small_cnn", 0): c for arm in arms}, labels=names, seed=0)
    fig = figures[2]
    fig.canvas.draw()
    panels = [ax for ax in fig.axes if ax.axison]
    assert min(ax.get_window_extent().width / fig.dpi / 10 for ax in panels) >= 0.3
    assert [t.get_text() for t in panels[0].get_xticklabels()] == names
    assert {t.get_rotation() for t in panels[0].get_xticklabels()} == {90}
    assert {t.get_rotation() for t in figures[0].axes[0].get_xticklabels()} == {0}  # digits


def test_every_generator_s_confidence_sits_beside_the_real_minority_s(monkeypatch):
    figures = shown(monkeypatch)
    p = np.array([[0.2, 0.8], [0.6, 0.4]])
    labels = {(0, g): {"oracle_proba": p, "filter_proba": None, "oracle_real_proba": p}
              for g in ("dcgan_minority", "cgan_all_classes")}
    labels[(1, "dcgan_minority")] = labels[(0, "dcgan_minority")]
    plots.confidence_by_generator(labels, 0, target_class=1, label="1 (Trouser)", threshold=0.5)
    assert len(figures) == 2
    for f in figures:
        legend = [t.get_text() for t in f.axes[0].get_legend().get_texts()]
        assert "real minority (oracle)" in legend and "synthetic (oracle)" in legend
        assert f.axes[0].get_title().endswith("confidence that an image is a 1 (Trouser)")
        assert f.axes[0].get_xlabel() == "P(class 1 (Trouser))"
        shares = f.axes[0].yaxis.get_major_formatter()
        assert [shares(v, 0) for v in (1.0, 0.01, 0.001)] == ["100%", "1%", "0.1%"]


def test_each_score_panel_shows_its_own_metric_s_points_and_means(monkeypatch):
    figures = shown(monkeypatch)
    # metrics.csv's order differs from the panels asked for, as in 05's second figure, and
    # the classifiers and arms come in another order in one metric's rows
    values = {"g_mean": {"imbalanced": [0.1, 0.2], "smote": [0.3, 0.4]},
              "majority_recall": {"smote": [0.85, 0.87], "imbalanced": [0.95, 0.97]},
              "pr_auc": {"imbalanced": [0.55, 0.57], "smote": [0.65, 0.67]}}
    classifiers = [("small_cnn", 0.0), ("seed_mlp", 0.02)]
    m = pd.concat([metric_rows({a: [v + shift for v in vs] for a, vs in arms.items()}, clf,
                               metric)
                   for metric, arms in values.items()
                   for clf, shift in (classifiers[::-1] if metric == "pr_auc" else classifiers)])
    panels = ("pr_auc", "majority_recall", "g_mean")
    plots.metric_points(m, metrics=panels)
    axes = figures[0].axes
    assert [ax.get_title() for ax in axes] == list(panels)
    for ax, metric in zip(axes, panels):
        points = [(tuple(np.round(c.get_facecolor()[0][:3], 3)), x, y) for c in ax.collections
                  for x, y in c.get_offsets()]
        assert sorted(round(x, 6) for _, x, _ in points) == sorted(
            np.round(m[m.metric == metric].value, 6))
        means = [(tuple(np.round(matplotlib.colors.to_rgb(line.get_color()), 3)), x, y)
                 for line in ax.lines if line.get_marker() == "d"
                 for x, y in zip(line.get_xdata(), line.get_ydata())]
        assert len(means) == 4
        for colour, x, y in means:  # each mean sits on its own arm's and classifier's points
            own = [px for c, px, py in points if c == colour and abs(py - y) < 0.2]
            assert len(own) == 2 and np.isclose(np.mean(own), x)
    # the legend's key at full colour and size, though the seed points are faded
    assert all(h.get_alpha() in (None, 1) and h.get_markersize() >= 8
               for h in figures[0].legends[0].legend_handles)


def test_each_tstr_panel_has_its_own_classifier_s_real_band(monkeypatch):
    figures = shown(monkeypatch)
    rows = [{"classifier": clf, "source": source, "step": step, "seed": s, "value": v}
            for clf, real in (("small_cnn", 0.97), ("seed_mlp", 0.90))  # not in sorted order
            for s in (0, 1)
            for source, step, v in (("synthetic_gan_labels", 500, real - 0.2),
                                    ("synthetic_gan_labels", 2000, real - 0.1),
                                    ("real", pd.NA, real + 0.01 * s))]
    plots.accuracy_by_step(pd.DataFrame(rows))
    for ax, (clf, real) in zip(figures[0].axes, (("small_cnn", 0.975), ("seed_mlp", 0.905))):
        assert ax.get_title() == f"classifier = {clf}"
        dashed, = [line for line in ax.lines if line.get_linestyle() == "--"]
        assert np.isclose(dashed.get_ydata()[0], real)


def test_each_training_share_bar_sits_in_its_own_class_s_slot(monkeypatch):
    figures = shown(monkeypatch)
    training = {"0": 0.5, "1": 0.1, "7": 0.4}
    rows = [{"model": model, "varied_count": 30, "kind": "generated", "class": c, "seed": s,
             "value": share + 0.02 * s}
            for model in ("dcgan", "vae") for s in (0, 1)
            for c, share in (("0", 0.5), ("1", 0.05), ("7", 0.45))]
    rows += [{"model": model, "varied_count": 30, "kind": "training", "class": c, "seed": 0,
              "value": training[c]}
             for model in ("dcgan", "vae") for c in ("7", "1", "0")]  # another class order
    plots.shares(pd.DataFrame(rows), varied_class=1, label=lambda c: f"{c} (n)")  # named
    for ax, model in zip(figures[0].axes, ("dcgan", "vae")):
        assert ax.get_title() == f"model = {model}"
        assert ax.get_xlabel() == "training images of class 1 (n)"
        colour_of = {h.get_label(): h.get_color() for h in figures[0].legends[0].legend_handles}
        means = {c: line.get_xdata()[0] for line in ax.lines if line.get_marker() == "o"
                 for c, colour in colour_of.items()
                 if len(line.get_xdata()) and line.get_color() == colour}
        bars = [(line.get_xdata()[0], line.get_ydata()[0]) for line in ax.lines
                if line.get_marker() == "_" and len(line.get_xdata())]
        assert len(bars) == 3 and len(means) == 3
        for x, y in bars:  # the bar in class c's slot is c's training share
            c, = [c for c, mx in means.items() if np.isclose(mx, x)]
            assert np.isclose(y, training[c.removesuffix(" (n)")]) and c.endswith(" (n)")
        # each class's faded seed points in its mean's slot, not beside it
        for points in ax.collections:
            if len(points.get_offsets()):
                c, = [c for c, colour in colour_of.items() if np.allclose(
                    points.get_facecolor()[0][:3], matplotlib.colors.to_rgb(colour))]
                assert abs(np.mean(points.get_offsets()[:, 0]) - means[c]) < 0.05


def test_step_curves_put_loss_above_accuracy_with_a_full_size_legend(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda: None)
    history = pd.DataFrame([{"arm": arm, "classifier": "small_cnn", "seed": 0, "step": step,
                             "val_loss": 1 / step, "test_loss": 1 / step,
                             "val_accuracy": 1 - 1 / step, "test_accuracy": 1 - 1 / step}
                            for arm in ("real", "augmentation", "real_plus_cgan")
                            for step in (10, 20)])
    plt.close("all")
    plots.step_curves(history)
    fig = plt.gcf()
    at = {ax.get_title(): ax.get_position() for ax in fig.axes}
    assert at["val accuracy"].y1 < at["val loss"].y0 and at["val loss"].x0 == at["val accuracy"].x0
    assert at["val loss"].x1 < at["test loss"].x0 and at["val loss"].y0 == at["test loss"].y0
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    assert len(legends) == 1
    texts = [t.get_text() for t in legends[0].get_texts()]
    assert {"real", "augmentation", "real_plus_cgan"} <= set(texts)
    assert legends[0].get_texts()[0].get_fontsize() >= plt.rcParams["font.size"] * 0.9
    # one classifier: no line style, and no legend section of a single entry for it
    assert not {"classifier", "small_cnn"} & set(texts)
    plt.close("all")
    plots.step_curves(pd.concat([history, history.assign(classifier="seed_mlp")]))
    texts = [t.get_text() for ax in plt.gcf().axes if ax.get_legend()
             for t in ax.get_legend().get_texts()]
    assert {"classifier", "small_cnn", "seed_mlp"} <= set(texts)


def test_training_curves_keep_one_legend_clear_of_the_lines(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda: None)
    arms = ("imbalanced", "class_weight", "random_oversampling", "smote", "augmentation",
            "dcgan_minority", "cgan_all_classes", "upper_bound")
    history = pd.DataFrame([{"arm": arm, "classifier": clf, "seed": 0, "step": step,
                             "val_loss": 1 / step + i, "val_accuracy": 1 - 1 / step}
                            for i, arm in enumerate(arms) for clf in ("small_cnn", "seed_mlp")
                            for step in (10, 20)])
    plt.close("all")
    plots.training_curves(history)
    fig = plt.gcf()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    assert len(legends) == 1
    box = legends[0].get_window_extent(renderer)
    assert not any(box.overlaps(ax.get_window_extent(renderer)) for ax in fig.axes)
    assert set(arms) <= {t.get_text() for t in legends[0].get_texts()}
    # a row per classifier: each panel holds one line per arm, not one per arm and classifier
    assert [ax.get_title() for ax in fig.axes] == [
        "small_cnn: val loss", "small_cnn: val accuracy", "seed_mlp: val loss",
        "seed_mlp: val accuracy"]
    assert all(len([line for line in ax.lines if len(line.get_xdata())]) == len(arms)
               for ax in fig.axes)


def test_a_figure_is_described_by_its_title_and_its_panels_titles():
    fig, axes = plt.subplots(1, 3)
    fig.suptitle("Paired differences:\nright of zero, higher")
    for ax, t in zip(axes, ("small_cnn", "seed_mlp", "small_cnn")):
        ax.set_title(t)
    assert plots.describe(fig) == "Paired differences: right of zero, higher; small_cnn; seed_mlp"
    plt.close("all")
    assert plots.describe(plt.figure()) == ""


def test_bands_over_seeds_are_t_intervals_not_bootstraps():
    """Three seeds 0.90, 0.92, 0.94: the t interval is 0.87 to 0.97; a bootstrap over them
    could not pass the lowest and highest seed."""
    low, high = plots.t_interval([0.90, 0.92, 0.94])
    assert (low, high) == pytest.approx((0.92 - 0.0497, 0.92 + 0.0497), abs=1e-4)
    assert plots.t_interval([0.9]) == (0.9, 0.9)  # one seed: no band


def test_an_arm_keeps_its_colour_whatever_else_a_figure_shows():
    few = plots.palette(["cgan_all_classes", "dcgan_minority"])  # 02's two generators
    every = plots.palette(["imbalanced", "smote", "dcgan_minority", "cgan_all_classes",
                           "upper_bound"])  # 05's arms
    assert few["dcgan_minority"] == every["dcgan_minority"]
    assert few["cgan_all_classes"] == every["cgan_all_classes"]
    assert len(set(every.values())) == len(every)
    # a name no study lists (an arm's variant) takes a colour no listed name holds, and the
    # listed names keep theirs, in the colour-blind palette
    safe = sns.color_palette("colorblind")
    other = plots.palette(list(every) + ["upper_bound:half_budget"])
    assert {n: other[n] for n in every} == every and set(every.values()) <= set(safe)
    assert other["upper_bound:half_budget"] in set(safe) - set(every.values())
    # tstr's snapshots (real and six source@step lines): ten colours are enough for all
    snapshots = ["real"] + [f"synthetic_{s}_labels@{k}" for s in ("gan", "labeller")
                            for k in (100, 500, 2000)]
    assert len(set(plots.palette(snapshots).values()) & set(safe)) == 7


def test_training_curves_give_each_classifier_its_own_step_axis(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda: None)
    budgets = {"seed_mlp": (20000, 40000), "small_cnn": (1000, 2000)}  # as in five_minority
    history = pd.DataFrame([{"arm": arm, "classifier": clf, "seed": 0, "step": step,
                             "val_loss": 0.1, "val_accuracy": 0.9}
                            for arm in ("imbalanced", "smote") for clf, steps in budgets.items()
                            for step in steps])
    plt.close("all")
    plots.training_curves(history)
    limits = {ax.get_title().split(":")[0]: ax.get_xlim() for ax in plt.gcf().axes}
    assert limits["small_cnn"][1] < 3000 < 20000 < limits["seed_mlp"][1]


def test_score_panels_zoom_to_their_own_scores(monkeypatch):
    figures = shown(monkeypatch)
    m = pd.concat([metric_rows({"real": [0.95, 0.955, 0.96], "augmentation": [0.97, 0.975, 0.98]},
                               "small_cnn", "accuracy"),
                   metric_rows({"real": [0.3, 0.31, 0.32], "augmentation": [0.4, 0.41, 0.42]},
                               "small_cnn", "macro_f1")])
    plots.metric_points(m, metrics=("accuracy", "macro_f1"))
    accuracy, f1 = figures[0].axes
    # a difference of 0.02 near 0.96 is visible: the panel spans its scores, not 0 to 1
    assert accuracy.get_xlim()[0] > 0.5 and f1.get_xlim()[1] < 0.6


def test_class_counts_draw_one_panel_with_each_bar_s_count_when_seeds_agree(monkeypatch):
    figures = shown(monkeypatch)
    table = pd.DataFrame([{"seed": s, "part": part, "images": mi + ma, "minority": mi,
                           "majority": ma}
                          for s in (0, 1) for part, mi, ma in (("train", 690, 6300),
                                                               ("imbalanced", 30, 6300))])
    plots.class_counts(table)
    ax, = figures[0].axes
    assert ax.get_yscale() == "linear"
    assert {"30", "690", "6300"} <= {t.get_text() for t in ax.texts}
    assert said(figures[0]).endswith("(the same for both seeds)")
    plots.class_counts(table.assign(minority=table.minority + table.seed))  # seeds differ
    assert len(figures[1].axes) == 2


def test_the_comparison_table_says_its_interval_is_a_half_width():
    comp = report.comparisons(metric_rows({"imbalanced": [0.5, 0.55, 0.52],
                                           "dcgan_minority": [0.8, 0.81, 0.83]}))
    table = report.comparison_table(comp)
    assert "interval" not in table and "± (simultaneous 95% half-width)" in table
    assert table["± (simultaneous 95% half-width)"].iloc[0] == round(comp.interval.iloc[0], 3)


def test_a_study_with_more_arms_than_colour_blind_colours_still_draws(monkeypatch):
    from synthlib import registry

    monkeypatch.setitem(registry.STUDY_ARMS, "rebalance", registry.ARMS + ("new_arm",))
    colours = plots.palette(["imbalanced", "new_arm", "upper_bound"])
    assert len(set(colours.values())) == 3


def test_seeds_are_counted_in_words():
    assert [plots.seeds_in_words(n) for n in (1, 2, 3)] == ["one seed", "both seeds",
                                                           "all 3 seeds"]
    assert plots.interval_over(3) == "the 95% t interval of the mean over all 3 seeds"


def score_rows(seeds, values=(0.93, 0.945, 0.96), metrics=("accuracy", "balanced_accuracy",
                                                             "macro_f1")):
    """augment's three score panels, two classifiers, three arms a few hundredths apart."""
    arms = dict(zip(("real", "augmentation", "cgan_all_classes"), values))
    return pd.concat([metric_rows({a: [v + 0.005 * s for s in seeds] for a, v in arms.items()},
                                  clf, metric)
                      for clf in ("small_cnn", "seed_mlp") for metric in metrics])


def test_a_figure_of_one_seed_claims_no_interval(monkeypatch):
    """The forest plot's words, in every figure that would otherwise promise bars or bands."""
    from types import SimpleNamespace as G

    figures = shown(monkeypatch)
    plots.metric_points(score_rows([0]), metrics=("accuracy", "balanced_accuracy", "macro_f1"))
    history = pd.DataFrame({"step": [100, 200], "d_loss": [0.6, 0.5], "g_loss": [1.0, 0.9],
                            "d_real": [0.6, 0.6], "d_fake": [0.4, 0.4]})
    plots.loss_curves({(0, "dcgan_minority"): (history, {})},
                      [G(name="dcgan_minority", labels=None, model="dcgan")])
    tstr = pd.DataFrame([{"classifier": "small_cnn", "source": source, "step": step, "seed": 0,
                          "value": v} for source, step, v in (("synthetic_gan_labels", 500, 0.8),
                                                              ("real", pd.NA, 0.97))])
    plots.accuracy_by_step(tstr)
    plots.step_curves(pd.DataFrame([{"arm": "real", "classifier": "small_cnn", "seed": 0,
                                     "step": step, "val_loss": 1 / step,
                                     "val_accuracy": 1 - 1 / step} for step in (10, 20)]))
    plots.shares(pd.DataFrame([{"model": "dcgan", "varied_count": 30, "kind": kind,
                                "class": c, "seed": 0, "value": v}
                               for kind in ("generated", "training")
                               for c, v in (("0", 0.6), ("1", 0.4))]), varied_class=1)
    assert len(figures) == 5
    for fig in figures:
        title = said(fig)
        assert "one seed: no interval" in title.lower() and "95%" not in title
    # nor is the real classifier's grey band from its lowest to its highest seed drawn
    assert not figures[2].axes[0].patches and "grey band" not in figures[2].get_suptitle()


def test_intervals_over_several_seeds_say_how_many(monkeypatch):
    figures = shown(monkeypatch)
    plots.metric_points(score_rows([0, 1, 2]),
                        metrics=("accuracy", "balanced_accuracy", "macro_f1"))
    title = said(figures[0])
    assert "the 95% t interval of the mean over all 3 seeds" in title
    assert "triangle" not in title  # no interval runs past 0 or 1 here


def test_score_panels_have_an_axis_label_and_tick_labels_apart(monkeypatch):
    """Three panels of scores between 0.930 and 0.960, as augment draws: the tick labels once
    ran together ("0.9300.9450.960") and the axes had no label."""
    figures = shown(monkeypatch)
    plots.metric_points(score_rows([0, 1, 2]),
                        metrics=("accuracy", "balanced_accuracy", "macro_f1"))
    fig = figures[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = []
    for ax in fig.axes:
        assert ax.get_xlabel() == "score" and ax.get_title()
        labels = [t for t in ax.get_xticklabels() if t.get_text()
                  and ax.get_xlim()[0] <= t.get_position()[0] <= ax.get_xlim()[1]]
        assert len(labels) >= 2
        boxes += [t.get_window_extent(renderer).expanded(1.1, 1) for t in labels]
    # no two labels touch, within a panel or across neighbouring panels
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_score_intervals_stop_at_1_with_a_mark_where_they_run_past(monkeypatch):
    """Two seeds (one degree of freedom) near 1: the t interval runs to about 1.25, where no
    score lies; it is drawn to 1, a triangle there, and the title says why."""
    figures = shown(monkeypatch)
    m = pd.concat([metric_rows({"real": [0.95, 0.99], "augmentation": [0.5, 0.52]}, "small_cnn",
                               metric) for metric in ("minority_f1", "minority_precision")])
    assert plots.t_interval([0.95, 0.99])[1] > 1.2
    plots.metric_points(m, metrics=("minority_f1", "minority_precision"))
    for ax in figures[0].axes:
        drawn = np.concatenate([line.get_xdata() for line in ax.lines])
        assert drawn.max() == 1.0 and drawn.min() >= 0
        assert ax.get_xlim()[1] < 1.1  # the axis stops near 1, not at 1.25
        assert max(t for t in ax.get_xticks() if t <= ax.get_xlim()[1]) <= 1
        ends = [(line.get_xdata()[0], line.get_ydata()[0]) for line in ax.lines
                if line.get_marker() == ">"]
        means = {round(y, 6): x for line in ax.lines if line.get_marker() == "d"
                 for x, y in zip(line.get_xdata(), line.get_ydata())}
        assert len(ends) == 1 and ends[0][0] == 1.0  # only real's interval runs past 1
        assert np.isclose(means[round(ends[0][1], 6)], 0.97)  # on real's row
        assert not [line for line in ax.lines if line.get_marker() == "<"]
    assert "a triangle at 0 or 1: the interval runs on past it" in said(figures[0])


def test_accuracy_bands_stop_at_1_and_say_so(monkeypatch):
    figures = shown(monkeypatch)
    rows = [{"classifier": "small_cnn", "source": source, "step": step, "seed": s, "value": v}
            for s in (0, 1) for source, step, v in (("synthetic_gan_labels", 500, 0.9 + 0.09 * s),
                                                    ("real", pd.NA, 0.97))]
    plots.accuracy_by_step(pd.DataFrame(rows))
    band = figures[0].axes[0].collections[0]
    assert band.get_paths()[0].vertices[:, 1].max() == pytest.approx(1.0)
    assert "cut at 0 and 1 where it runs past them" in said(figures[0])
    shares = [{"model": "dcgan", "varied_count": 30, "kind": "generated", "class": c, "seed": s,
               "value": v + 0.3 * s} for s in (0, 1) for c, v in (("0", 0.6), ("1", 0.1))]
    plots.shares(pd.DataFrame(shares + [{**r, "kind": "training", "seed": 0} for r in shares]),
                 varied_class=1)
    ax = figures[1].axes[0]
    bars = [line.get_ydata() for line in ax.lines if len(line.get_ydata()) == 2
            and line.get_xdata()[0] == line.get_xdata()[1]]
    assert bars and max(max(b) for b in bars) == 1.0 and min(min(b) for b in bars) >= 0
    assert "cut at 0 and 1" in said(figures[1])


@pytest.mark.parametrize("seeds", [[0], [0, 1, 2]])
def test_forest_markers_at_the_extremes_sit_inside_their_panel(seeds):
    """The widest differences and the first and last rows: once drawn on the frame, half cut
    off."""
    m = metric_rows({"imbalanced": [0.5 + 0.01 * s for s in seeds],
                     "smote": [0.9 + 0.01 * s for s in seeds],
                     "dcgan_minority": [0.8 + 0.02 * s for s in seeds]})
    plt.close("all")
    plots.forest(report.comparisons(m))
    fig = plt.gcf()
    fig.canvas.draw()
    ax = fig.axes[0]
    frame = ax.get_window_extent()
    for line in ax.lines:
        if line.get_marker() in ("None", "", None):
            continue
        half = line.get_markersize() * fig.dpi / 72 / 2  # points to pixels
        for x, y in ax.transData.transform(line.get_xydata()):
            assert frame.x0 < x - half and x + half < frame.x1
            assert frame.y0 < y - half and y + half < frame.y1


def test_each_training_curve_panel_names_its_model(monkeypatch):
    """The bias study trains a DCGAN and a VAE: the VAE's panels once read "GAN training
    step", and the title spoke of a conditional GAN that was not there."""
    from types import SimpleNamespace as G

    figures = shown(monkeypatch)
    steps = [100, 200]
    gan = pd.DataFrame({"step": steps, "d_loss": 0.6, "g_loss": 1.0, "d_real": 0.6,
                        "d_fake": 0.4})
    vae = pd.DataFrame({"step": steps, "loss": 200.0, "reconstruction_loss": 190.0,
                        "kl_loss": 10.0})
    results = {(s, name): (h.assign(d_loss=0.6 + s) if name == "dcgan_30" else h, {})
               for s in (0, 1) for name, h in (("dcgan_30", gan), ("vae_30", vae))}
    generators = [G(name="dcgan_30", labels=None, model="dcgan"),
                  G(name="vae_30", labels=None, model="vae")]
    plots.loss_curves(results, generators)
    labels = {ax.get_title(): ax.get_xlabel() for ax in figures[0].axes}
    assert labels == {"d_loss": "GAN training step", "g_loss": "GAN training step",
                      "d_real": "GAN training step", "d_fake": "GAN training step",
                      "loss": "VAE training step", "reconstruction_loss": "VAE training step",
                      "kl_loss": "VAE training step"}
    title = said(figures[0])
    assert "conditional" not in title and "class loss" not in title
    assert "reconstruction_loss plus its kl_loss" in title and "over both seeds" in title
    # a VAE alone: nothing said of GANs
    plots.loss_curves({k: v for k, v in results.items() if k[1] == "vae_30"}, generators[1:])
    assert "GAN" not in figures[1].get_suptitle() + "".join(
        ax.get_xlabel() for ax in figures[1].axes)
    # a conditional GAN's losses hold its class loss, and the title names it
    plots.loss_curves({(0, "cgan_all_classes"): (gan, {})},
                      [G(name="cgan_all_classes", labels=np.arange(3), model="dcgan")])
    assert "in cgan_all_classes, the class loss" in said(figures[2])


def test_p_real_bands_stop_at_0_and_1_and_say_so_where_the_losses_run_on(monkeypatch):
    """The discriminator's mean P(real) (d_real, d_fake) is a probability: two seeds near 1
    or 0 give a t interval far past either end, drawn only up to it, as the scores' are; a
    loss has no such bound and its band runs on."""
    from types import SimpleNamespace as G

    figures = shown(monkeypatch)
    results = {(s, name): (pd.DataFrame({"step": [100, 200], "d_loss": 0.6 + 0.1 * s,
                                         "g_loss": 0.9 + 0.4 * s, "d_real": 0.95 + 0.04 * s,
                                         "d_fake": 0.01 + 0.04 * s}), {})
               for s in (0, 1) for name in ("dcgan_minority", "cgan_all_classes")}
    assert plots.t_interval([0.95, 0.99])[1] > 1 and plots.t_interval([0.01, 0.05])[0] < 0
    plots.loss_curves(results, [G(name="dcgan_minority", labels=None, model="dcgan")])
    band = {ax.get_title(): np.concatenate([p.vertices[:, 1] for c in ax.collections
                                            for p in c.get_paths()])
            for ax in figures[0].axes}
    assert band["d_real"].max() == pytest.approx(1.0) and band["d_real"].min() > 0.5
    assert band["d_fake"].min() == pytest.approx(0.0) and band["d_fake"].max() < 0.5
    assert band["g_loss"].max() > 1.5  # a loss's band is not cut at 1
    assert "on the d_real and d_fake panels, cut at 0 and 1" in said(figures[0])
    # one legend for the figure, every generator in it, in its own colour
    legend, = figures[0].legends
    assert {t.get_text() for t in legend.get_texts()} == {"dcgan_minority", "cgan_all_classes"}
    assert legend.get_title().get_text() == "generator"
    # where no interval runs past 0 or 1, nothing is said of cutting
    plots.loss_curves({k: (h.assign(d_real=0.6 + 0.01 * k[0], d_fake=0.4), g)
                       for k, (h, g) in results.items()})
    assert "cut" not in said(figures[1])


def test_02_and_03_figures_of_a_run_that_trains_no_generator_draw_nothing():
    """Classic arms alone train no generator: 02's and 03's figure calls get nothing to draw,
    and must not fail the page (pandas cannot concatenate no loss history)."""
    import matplotlib.pyplot as plt

    plots.loss_curves({}, [])
    plots.grids_by_generator({}, 0, [])
    plots.generated({}, 0)
    plots.training_images([], 0)
    assert plt.get_fignums() == []
