import numpy as np
import pytest

from conftest import metric_rows
from synthlib import labeling, metrics, report


def test_binary_scores_on_known_inputs():
    # TP=2, FP=1, FN=1, TN=1 -> precision = recall = F1 = 2/3; balanced accuracy (2/3+1/2)/2
    s = metrics.binary_scores([1, 1, 0, 0, 1], [1, 0, 0, 1, 1])
    assert s["minority_f1"] == pytest.approx(2 / 3)
    assert s["minority_precision"] == pytest.approx(2 / 3)
    assert s["minority_recall"] == pytest.approx(2 / 3)
    assert s["balanced_accuracy"] == pytest.approx(7 / 12)
    assert s["accuracy"] == pytest.approx(3 / 5)
    assert metrics.confusion([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]).tolist() == [[1, 1], [1, 2]]


def test_each_binary_score_is_the_one_it_names():
    # TP=1, FN=2, FP=1, TN=4: every score differs from the others
    y_true, y_pred = [1, 1, 1, 0, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0, 0, 0]
    proba = [0.9, 0.3, 0.2, 0.8, 0.1, 0.1, 0.1, 0.1]
    s = metrics.binary_scores(y_true, y_pred, proba)
    assert s["minority_precision"] == pytest.approx(1 / 2)
    assert s["minority_recall"] == pytest.approx(1 / 3)
    assert s["majority_recall"] == pytest.approx(4 / 5)
    assert s["balanced_accuracy"] == pytest.approx((1 / 3 + 4 / 5) / 2)
    assert s["g_mean"] == pytest.approx(np.sqrt(1 / 3 * 4 / 5))
    # average precision over the ranking (+ - + + - - - -), not the ROC area (13/15)
    assert s["pr_auc"] == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)


def test_multiclass_scores_name_every_class_even_one_never_seen():
    s = metrics.multiclass_scores([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 0, 2], classes=[3, 8, 9])
    assert s["accuracy"] == pytest.approx(4 / 6)
    assert (s["recall_3"], s["recall_8"], s["recall_9"]) == pytest.approx((1 / 2, 1, 1 / 2))
    assert s["macro_f1"] == pytest.approx((1 / 2 + 4 / 5 + 2 / 3) / 3)  # not micro (= accuracy)
    absent = metrics.multiclass_scores([0, 1], [0, 1], classes=[3, 8, 9])
    assert absent["recall_9"] == 0.0
    # classes of unequal support: the macro mean, not one weighted by support (0.813)
    uneven = metrics.multiclass_scores([0, 0, 0, 1, 2], [0, 0, 1, 1, 2], classes=[3, 8, 9])
    assert uneven["macro_f1"] == pytest.approx((4 / 5 + 2 / 3 + 1) / 3)
    # each recall is named for the class its index stands for, in the order given
    listed = metrics.multiclass_scores([0, 0, 1, 1], [0, 1, 1, 1], classes=[9, 3])
    assert (listed["recall_9"], listed["recall_3"]) == (0.5, 1.0)


def test_one_seed_has_no_spread_and_arms_keep_their_order():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # quietly: a single seed is a normal run
        mean, sd, half = metrics.mean_ci([0.7])
    assert mean == 0.7 and np.isnan(sd) and np.isnan(half)
    table = metrics.summary(metric_rows({"smote": [0.5, 0.6], "imbalanced": [0.4, 0.5],
                                         "dcgan_minority": [0.6, 0.7]}))
    assert list(table.arm) == ["smote", "imbalanced", "dcgan_minority"]
    assert list(table.seeds) == [2, 2, 2]


def test_no_minority_prediction_scores_zero_f1():
    s = metrics.binary_scores([1, 0, 0, 0], [0, 0, 0, 0])
    assert s["minority_f1"] == 0 and s["accuracy"] == 0.75 and s["balanced_accuracy"] == 0.5
    # no minority prediction at all has no precision to speak of: 0, never a perfect 1
    assert s["minority_precision"] == 0 and s["minority_recall"] == 0


def test_oracle_measures_and_filter_mask():
    proba = np.array([[0.1, 0.9], [0.6, 0.4], [0.45, 0.55], [0.0, 1.0]])
    m = labeling.measure(proba, target_class=1, threshold=0.7)
    assert m["label_agreement"] == 0.75
    assert m["rejection_rate"] == 0.5  # one called 0, one called 1 at only 0.55
    assert labeling.filter_mask(proba, 1, 0.7, n_needed=5).tolist() == [True, False, False, True]
    assert labeling.filter_mask(proba, 1, 0.5, n_needed=2).tolist() == [True, False, True, False]


def test_comparisons_and_verdicts_say_when_the_gan_does_not_help():
    m = metric_rows({"imbalanced": [0.80, 0.82, 0.81], "smote": [0.5, 0.9, 0.7],
                  "dcgan_minority": [0.60, 0.61, 0.62], "upper_bound": [0.99, 0.99, 0.99]})
    c = report.comparisons(m).set_index("baseline")
    assert c.loc["imbalanced", "verdict"] == report.WORSE
    assert c.loc["imbalanced", "mean_difference"] == pytest.approx(-0.2)
    assert c.loc["smote", "verdict"] == report.WITHIN
    text = report.verdicts(m)[0]
    assert "highest mean minority_f1 is **imbalanced**'s" in text  # upper bound is not an arm
    assert "0 are better, 1 worse and 1 within noise" in text and "Bonferroni" in text
    assert "No GAN arm is shown to beat a baseline here." in text
    better = metric_rows({"imbalanced": [0.5, 0.52], "dcgan_minority": [0.7, 0.71]})
    assert report.comparisons(better).verdict.tolist() == [report.BETTER]
    single = metric_rows({"imbalanced": [0.5], "dcgan_minority": [0.6]})
    assert report.comparisons(single).verdict.tolist() == ["single seed: no spread measured"]
    # one seed: the differences are said, and no claim is made either way
    text = report.verdicts(single)[0]
    assert "With one seed there is no spread to weigh" in text
    assert "dcgan_minority +0.100 against imbalanced" in text and "beyond" not in text
    assert report.over_seeds(single) == "one seed, so no spread"
    assert report.over_seeds(m) == "mean ± std over seeds"
    assert report.over_seeds(better) == "mean ± std over seeds"  # two seeds have a spread


def test_mean_ci_matches_a_t_interval():
    mean, sd, half = metrics.mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0 and sd == 1.0 and half == pytest.approx(4.302653 / np.sqrt(3), rel=1e-5)


def test_quality_measures_on_known_inputs():
    from synthlib import quality
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 4))
    assert quality.frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    shifted = quality.frechet_distance(a, a + 3.0)
    assert shifted == pytest.approx(36.0, rel=1e-6)  # |mean shift|^2 = 4 * 3^2
    assert abs(quality.kernel_inception_distance(a, rng.normal(size=(400, 4)))) < 0.05
    assert quality.kernel_inception_distance(a, a + 3.0) > 1.0
    uniform = np.full((10, 10), 0.1)
    confident = np.eye(10)
    assert quality.classifier_score(uniform) == pytest.approx(1.0)
    assert quality.classifier_score(confident) == pytest.approx(10.0, rel=1e-6)
    imgs = rng.integers(0, 255, (5, 4, 4, 1), dtype=np.uint8)
    assert np.allclose(quality.nearest_distances(imgs, imgs), 0, atol=1e-6)


def test_kid_and_the_classifier_score_on_values_worked_by_hand():
    """KID's kernel is (x.y / d + 1)^3, and each within-set term leaves out its diagonal: with
    a = {0, 1} and b = {1, 2} (d = 2, each coordinate alike), (2 + 54) / 2 - 2 * 37 / 4."""
    from synthlib import quality
    a, b = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 1.0], [2.0, 2.0]])
    assert quality.kernel_inception_distance(a, b) == pytest.approx(1 + 27 - 18.5)
    # the marginal is over the images (0.75, 0.25), not each image's own mean over classes
    proba = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    expected = np.exp((3 * np.log(4 / 3) + np.log(4)) / 4)
    assert quality.classifier_score(proba) == pytest.approx(expected, rel=1e-9)


def test_nearest_distances_are_in_images_scaled_to_one():
    """One white pixel away from a black image is 1.0 (the legend's [0, 1] scale), not 255."""
    from synthlib import quality
    white = np.zeros((1, 4, 4, 1), "uint8")
    white[0, 1, 2, 0] = 255
    black = np.zeros((2, 4, 4, 1), "uint8")
    assert quality.nearest_distances(white, black).tolist() == pytest.approx([1.0])


def test_quality_averages_disjoint_draws_of_the_same_size():
    from synthlib import quality
    picks = quality.disjoint_draws(np.random.default_rng(0), 100, 30, draws=10)
    assert picks.shape == (3, 30)  # only three disjoint draws of 30 fit in 100
    assert len(np.unique(picks)) == 90
    assert quality.disjoint_draws(np.random.default_rng(0), 20, 30, draws=10).shape == (1, 20)
    mean = quality._mean([{"images": 30, "frechet_distance": 1.0},
                          {"images": 30, "frechet_distance": 3.0}])
    assert mean == {"images": 30, "frechet_distance": 2.0}


def test_frechet_distance_counts_the_spread_as_well_as_the_mean():
    """b = 2a exactly: means 2μ, covariances 4Σ, so the distance is |μ|² + tr(Σ + 4Σ − 2·2Σ)
    = |μ|² + tr(Σ); and a wider or narrower copy at the same mean is no copy."""
    from synthlib import quality
    a = np.random.default_rng(1).normal(1.0, 1.0, size=(500, 3))
    cov = np.cov(a, rowvar=False)
    expected = np.sum(a.mean(0) ** 2) + np.trace(cov)
    assert quality.frechet_distance(a, 2 * a) == pytest.approx(expected, rel=1e-4)
    centred = a - a.mean(0)
    assert quality.frechet_distance(centred, 3 * centred) == pytest.approx(
        4 * np.trace(cov), rel=1e-4)  # tr(Σ + 9Σ − 2·3Σ)


def test_comparisons_pair_each_seed_with_itself():
    """Seeds differ far more than the arms do; paired by seed (same split), a small steady gain
    is beyond the spread, whatever order the rows come in; unpaired it would not be."""
    m = metric_rows({"imbalanced": [0.5, 0.7, 0.9], "dcgan_minority": [0.51, 0.712, 0.908]})
    shuffled = m.sample(frac=1.0, random_state=0)
    for frame in (m, shuffled):
        (row,) = report.comparisons(frame).to_dict("records")
        assert row["verdict"] == report.BETTER
        assert row["mean_difference"] == pytest.approx(0.01)
        assert row["interval"] == pytest.approx(4.302653 * 0.002 / np.sqrt(3), rel=1e-5)
