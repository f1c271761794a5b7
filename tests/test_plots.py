"""The figures a reader takes in at a glance."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from synthlib import plots, report, validity  # noqa: E402


def _metrics(values, classifier="small_cnn"):
    return pd.DataFrame([{"experiment": "e", "arm": arm, "classifier": classifier, "seed": s,
                          "metric": "minority_f1", "value": v}
                         for arm, vs in values.items() for s, v in enumerate(vs)])


def test_forest_plot_shows_each_paired_difference_with_its_interval_and_zero():
    m = pd.concat([_metrics({"imbalanced": [0.5, 0.55, 0.52], "smote": [0.9, 0.92, 0.91],
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
    points = sorted(float(line.get_xdata()[0]) for line in ax.lines if line.get_marker() == "o")
    expected = comp[comp.classifier == "small_cnn"].mean_difference.sort_values().tolist()
    np.testing.assert_allclose(points, expected)
    assert any(np.allclose(line.get_xdata(), 0) for line in ax.lines)  # the zero line
    assert len(ax.collections) == 2  # one interval per comparison
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert set(legend) == {"better", "worse"}  # better than imbalanced, worse than smote


def test_forest_plot_marks_withheld_comparisons():
    m = _metrics({"imbalanced": [0.5, 0.55, 0.52], "dcgan_minority": [0.8, 0.81, 0.83]})
    bad = validity.Check("oracle label agreement", "dcgan_minority", 0.5, ">= 0.950", False, "")
    comp = report.comparisons(m, checks=[bad])
    plt.close("all")
    plots.forest(comp)
    assert [t.get_text() for t in plt.gcf().legends[0].get_texts()] == ["not conclusive"]


def test_headline_marks_the_best_arm_per_classifier_but_not_the_upper_bound():
    m = pd.concat([_metrics({"imbalanced": [0.5, 0.55], "smote": [0.9, 0.92],
                             "upper_bound": [0.97, 0.98]}, clf)
                   for clf in ("small_cnn", "seed_mlp")])
    styled = report.headline(m)
    assert list(styled.data.index) == ["imbalanced", "smote", "upper_bound"]
    assert styled.data.loc["smote", "small_cnn"] == "0.910 ± 0.014"
    styles = styled._compute().ctx  # {(row, column): [(property, value)]}
    bold = sorted(k for k, v in styles.items() if ("font-weight", "bold") in v)
    assert bold == [(1, 0), (1, 1)]  # smote for each classifier, not the upper bound
    lines = report.markdown_table(styled).splitlines()  # README's results: the same marks
    assert lines[3] == "| smote | **0.910 ± 0.014** | **0.910 ± 0.014** |"
    assert "**" not in lines[4]
