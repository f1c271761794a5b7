"""Numbers that hold up (design 3a): every arm gets the same optimizer steps, and a write-up
whose own run fails a validity check says "not conclusive" and claims no winner."""
import os

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, evaluate_seed, metric_rows
from synthlib import config, report, validity
from synthlib.runs import Run

CNN = ["small_cnn"]  # metric_rows' classifier

VALID = os.path.join(ROOT, "tests", "params", "digits_valid.yaml")


def test_every_arm_gets_the_same_optimizer_steps_whatever_its_size(digits, digits_split):
    cfg = config.Config(experiment="t").validate()
    cfg.evaluate.arms = ["imbalanced", "random_oversampling", "upper_bound"]
    cfg.evaluate.classifiers = ["seed_mlp", "small_cnn"]
    cfg.evaluate.steps, cfg.evaluate.chunks = {"seed_mlp": 8, "small_cnn": 4}, 2
    rows, _, history = evaluate_seed("t", cfg, digits, digits_split, {}, 0)
    d = pd.DataFrame(rows)
    fits = d[d.arm.isin(cfg.evaluate.arms)]
    size = fits[fits.metric == "training_images"].groupby("arm")["value"].first()
    assert size["random_oversampling"] > 1.5 * size["imbalanced"]  # twice the images ...
    steps = fits[fits.metric == "optimizer_steps"].pivot(index="arm", columns="classifier",
                                                         values="value")
    assert (steps["seed_mlp"] == 8).all() and (steps["small_cnn"] == 4).all()  # ... same steps
    assert set(history.step) == {2, 4, 8}  # logged after each chunk
    half = d[d.arm == "upper_bound:half_budget"]  # the convergence check's score
    assert set(half.classifier) == {"seed_mlp", "small_cnn"} and "minority_f1" in set(half.metric)


def test_an_arm_beating_the_upper_bound_or_an_unconverged_one_fails():
    cfg = config.ValidityConfig()
    good = metric_rows({"imbalanced": [0.80, 0.82, 0.85], "smote": [0.90, 0.91, 0.92],
                        "upper_bound": [0.97, 0.98, 0.97], "upper_bound:half_budget": [0.97] * 3})
    arms = ["imbalanced", "smote", "upper_bound"]
    checks = (validity.anchor_checks(good, "minority_f1", arms, cfg)
              + validity.convergence_checks(good, "minority_f1", cfg, CNN))
    assert len(checks) == 3 and all(c.passed for c in checks)
    bad = metric_rows({"imbalanced": [0.80, 0.82, 0.85], "smote": [0.90, 0.91, 0.92],
                       "upper_bound": [0.77, 0.78, 0.76], "upper_bound:half_budget": [0.6] * 3})
    checks = (validity.anchor_checks(bad, "minority_f1", arms, cfg)
              + validity.convergence_checks(bad, "minority_f1", cfg, CNN))
    failed = {c.check: c for c in validity.failed(checks)}
    assert set(failed) == {"upper_bound beats imbalanced on minority_f1",
                           "no arm beats upper_bound on minority_f1",
                           "upper_bound converged: minority_f1 at half the steps"}
    assert "smote" in failed["no arm beats upper_bound on minority_f1"].detail
    assert failed["upper_bound converged: minority_f1 at half the steps"].measured == \
        pytest.approx(0.17, abs=1e-9)
    ok, line = validity.headline(checks)
    assert not ok and line.startswith("not conclusive: 3 of 3 validity checks fail")


def test_a_poor_generator_withholds_its_verdicts_only():
    cfg = config.ValidityConfig()
    m = metric_rows({"imbalanced": [0.5, 0.52, 0.51], "dcgan_minority": [0.7, 0.71, 0.72],
                     "cgan_all_classes": [0.7, 0.71, 0.72], "upper_bound": [0.9, 0.9, 0.9]})
    quality = pd.concat([
        metric_rows({"dcgan_minority": [0.97] * 3, "cgan_all_classes": [0.60] * 3,
                     "dcgan_minority:real": [0.98] * 3, "cgan_all_classes:real": [0.98] * 3},
                    classifier="oracle", metric="label_agreement"),
        metric_rows({"dcgan_minority": [20.0] * 3, "cgan_all_classes": [90.0] * 3,
                     "dcgan_minority:real": [15.0] * 3, "cgan_all_classes:real": [15.0] * 3},
                    classifier="oracle", metric="frechet_distance")])
    checks = validity.generator_checks(quality, ["dcgan_minority", "cgan_all_classes"], cfg)
    assert [c.passed for c in checks] == [True, True, False, False]
    assert checks[3].measured == pytest.approx(6.0)
    comp = report.comparisons(m, checks=checks).set_index("gan_arm")
    assert comp.loc["dcgan_minority", "verdict"] == report.BETTER
    assert comp.loc["cgan_all_classes", "verdict"].startswith("not conclusive: cgan_all_classes")
    text = report.verdicts(m, checks=checks)[0]
    assert "one GAN-vs-baseline comparison, 1 is better" in text
    assert "One comparison of cgan_all_classes † with a baseline is withheld" in text
    # the withheld arm is not the top one, and the arm that stands did beat a baseline
    assert "top place" not in text and "No GAN arm is shown to beat" not in text


def test_a_filtered_generator_is_judged_on_what_the_filter_accepted():
    """The check reads the images the arm trains on; the generator's own output (arm
    `<generator>:generated`) is shown beside it, in the check and in the quality table."""
    quality = metric_rows({"dcgan_minority": [24.0] * 2, "dcgan_minority:generated": [36.0] * 2,
                           "dcgan_minority:real": [12.0] * 2},
                          classifier="oracle", metric="frechet_distance")
    (check,) = validity.generator_checks(quality, ["dcgan_minority"], config.ValidityConfig())
    assert check.passed and check.measured == pytest.approx(2.0)
    assert "images chosen for the arm (as generated: 3.0x)" in check.detail
    table = report.quality_table(quality)["frechet_distance"]
    as_generated = "synthetic, as generated (before the filter or herding)"
    assert table.to_dict() == {("dcgan_minority", "synthetic"): 24.0,
                               ("dcgan_minority", as_generated): 36.0,
                               ("dcgan_minority", "real (reference)"): 12.0}


def test_a_filter_that_leaves_a_gan_arm_short_of_balance_fails_its_check():
    """The filter decides what a GAN arm trains on: an arm it left with fewer images than
    balance needs, on any seed, is no rebalanced arm; with the filter off, no such check."""
    from types import SimpleNamespace

    from synthlib.studies import rebalance

    def shares(values):
        return metric_rows({"dcgan_minority": values}, classifier="oracle",
                           metric="filter_accepted_share")

    (short,) = validity.filter_checks(shares([1.0, 0.8]), ["dcgan_minority"])
    assert not short.passed and short.measured == 0.8 and short.scope == "dcgan_minority"
    assert "per seed: 1.00, 0.80" in short.detail and "generate.oversample" in short.detail
    (full,) = validity.filter_checks(shares([1.0, 1.0]), ["dcgan_minority"])
    assert full.passed
    (missing,) = validity.filter_checks(shares([1.0]), ["cgan_all_classes"])
    assert not missing.passed and "not computed" in missing.detail
    cfg = config.Config(experiment="t").validate()
    cfg.evaluate.arms = ["imbalanced", "dcgan_minority", "upper_bound"]
    rows = pd.concat([shares([0.5, 0.5]), metric_rows({"upper_bound": [0.9, 0.9],
                                                       "imbalanced": [0.5, 0.5]})])
    named = {c.check for c in rebalance.checks(SimpleNamespace(cfg=cfg), rows)}
    assert short.check not in named
    cfg.label.filter = True
    failed = validity.failed(rebalance.checks(SimpleNamespace(cfg=cfg), rows))
    assert short.check in {c.check for c in failed}


def test_the_frechet_check_shows_each_seeds_ratio():
    """The verdict reads the ratio of the means over seeds; each seed's own ratio (its
    synthetic distance over its own real reference) stands beside it."""
    quality = metric_rows({"dcgan_minority": [20.0, 30.0, 40.0],
                           "dcgan_minority:real": [10.0, 10.0, 20.0]},
                          classifier="oracle", metric="frechet_distance")
    (check,) = validity.generator_checks(quality, ["dcgan_minority"], config.ValidityConfig())
    assert check.measured == pytest.approx(2.25) and not check.passed
    assert "per seed: 2.00x, 3.00x, 2.00x" in check.detail
    assert check.detail.startswith("30 vs 13.3 for real images (means over seeds, whose ratio is checked)")
    (one,) = validity.generator_checks(quality[quality.seed == 0], ["dcgan_minority"],
                                       config.ValidityConfig())
    assert one.passed and "per seed" not in one.detail
    assert one.detail.startswith("20 vs 10 for real images (one seed)")  # no mean to speak of


def test_the_frechet_check_says_when_a_copy_of_the_training_images_passes_too():
    """A bar a copy of the generator's own training images meets asks nothing beyond copying:
    a pass there says less, and the check says so (Fashion-MNIST's shirts: 1.8x); a bar the
    copy misses asks for more than copying, and the check says that too (MNIST's 5s)."""
    quality = pd.concat([
        metric_rows({"dcgan_minority": [15.0, 15.0], "dcgan_minority:real": [10.0, 10.0]},
                    classifier="oracle", metric="frechet_distance"),
        metric_rows({"dcgan_minority": [18.0, 18.0]}, classifier="oracle",
                    metric="training_images_frechet")])
    (check,) = validity.generator_checks(quality, ["dcgan_minority"], config.ValidityConfig())
    assert check.passed and check.detail.endswith(
        "a copy of its training images: 1.80x, within the bar too")
    quality.loc[quality.metric == "training_images_frechet", "value"] = 28.0  # MNIST's 5s
    (check,) = validity.generator_checks(quality, ["dcgan_minority"], config.ValidityConfig())
    # a bar a copy misses asks the generator to vary its images beyond them
    assert check.detail.endswith("a copy of its training images: 2.80x, beyond the bar too")
    quality.loc[quality.metric == "training_images_frechet", "value"] = 20.4  # just past it
    (check,) = validity.generator_checks(quality, ["dcgan_minority"], config.ValidityConfig())
    assert check.detail.endswith("a copy of its training images: 2.04x, beyond the bar too")
    quality.loc[quality.metric == "training_images_frechet", "value"] = 20.0  # on the bar
    (check,) = validity.generator_checks(quality, ["dcgan_minority"], config.ValidityConfig())
    assert check.detail.endswith("a copy of its training images: 2.00x, within the bar too")


def test_the_agreement_check_says_when_real_images_miss_the_bar_themselves():
    """Fashion-MNIST's shirts: the oracle names real held-out shirts 0.69 of the time, so
    MNIST's 0.95 asks more of a generator than of real images."""
    quality = metric_rows({"dcgan_minority": [0.80, 0.82], "dcgan_minority:real": [0.60, 0.78]},
                          classifier="oracle", metric="label_agreement")
    check = validity.generator_checks(quality, ["dcgan_minority"], config.ValidityConfig())[0]
    assert not check.passed and check.detail.endswith(
        "real images: 0.690, below the bar themselves: set validity.label_agreement from them")
    quality.loc[quality.arm == "dcgan_minority:real", "value"] = 0.99
    check = validity.generator_checks(quality, ["dcgan_minority"], config.ValidityConfig())[0]
    assert check.detail.endswith("real images: 0.990")
    # a generator that clears the bar needs no word on it, whatever the real images read
    quality.loc[quality.arm == "dcgan_minority", "value"] = 0.97
    quality.loc[quality.arm == "dcgan_minority:real", "value"] = 0.94
    check = validity.generator_checks(quality, ["dcgan_minority"], config.ValidityConfig())[0]
    assert check.passed and check.detail.endswith("real images: 0.940")


def test_the_frechet_check_names_the_n_it_was_read_at():
    """The same bar is stricter at a larger n, so the write-up says which n it judged."""
    quality = pd.concat([
        metric_rows({"dcgan_minority": [20.0, 30.0], "dcgan_minority:real": [10.0, 10.0]},
                    classifier="oracle", metric="frechet_distance"),
        metric_rows({"dcgan_minority": [87, 87], "dcgan_minority:real": [87, 87]},
                    classifier="oracle", metric="n")])
    (check,) = validity.generator_checks(quality, ["dcgan_minority"], config.ValidityConfig())
    assert check.detail.startswith("25 vs 10 for real images at n = 87 (means over seeds, whose ratio is checked)")
    quality.loc[(quality.metric == "n") & (quality.seed == 1), "value"] = 120
    (check,) = validity.generator_checks(quality, ["dcgan_minority"], config.ValidityConfig())
    assert "for real images at n = 87 to 120 (means" in check.detail


def test_a_run_with_no_check_is_not_conclusive():
    ok, line = validity.headline([])
    assert not ok and line.startswith("not conclusive")
    assert "Not conclusive" in validity.banner_html([])


def test_a_rebalance_run_without_the_upper_bound_draws_no_verdict(tmp_path):
    """Without the upper bound nothing shows that the evaluators converged, so every verdict
    is withheld, whatever the numbers say."""
    from conftest import DIGITS_PARAMS
    from synthlib.studies import rebalance

    run = Run(DIGITS_PARAMS, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.cfg.evaluate.arms = ["imbalanced", "smote", "dcgan_minority"]
    m = pd.concat([
        metric_rows({"imbalanced": [0.5, 0.52, 0.51], "smote": [0.6, 0.61, 0.6],
                     "dcgan_minority": [0.8, 0.81, 0.82]}),
        metric_rows({"real_test": [0.99] * 3}, classifier="oracle", metric="accuracy")])
    checks = rebalance.checks(run, m)
    # (and the generators' quality, which these rows leave out, fails as not computed)
    bad, *quality = validity.failed(checks)
    assert {c.scope for c in quality} == set(run.cfg.generators())
    assert all(c.detail.startswith("not computed") for c in quality)
    assert bad.scope == "all" and not validity.conclusive_for(checks, "small_cnn")
    assert not validity.headline(checks)[0]
    comp = report.comparisons(m, checks=checks)
    assert len(comp) and comp.verdict.str.startswith("not conclusive: all").all()
    [sentence] = report.verdicts(m, checks=checks)
    assert "not conclusive" in sentence and "highest mean" not in sentence


def test_the_augment_study_withholds_what_rests_on_a_failed_check():
    """A generator that fails its quality check withholds the verdicts of every arm built on
    its images (the conditional GAN's: synthetic only, and real plus synthetic); a classifier
    that fails withholds all of its own."""
    from synthlib.studies import augment

    m = pd.concat([metric_rows({"real": [0.9, 0.91, 0.9], "augmentation": [0.92, 0.93, 0.92],
                                "dcgan_per_class": [0.8, 0.81, 0.8],
                                "cgan_all_classes": [0.7, 0.72, 0.7],
                                "real_plus_cgan": [0.95, 0.96, 0.95]}, classifier=clf,
                               metric="accuracy") for clf in ("small_cnn", "seed_mlp")])
    poor = validity.Check("Fréchet distance / real-vs-real", "cgan_all_classes", 6.0, "<= 2.0",
                          False, "")
    comp = augment.comparisons(m, checks_=[poor])
    assert set(zip(comp.gan_arm, comp.baseline)) == {  # each GAN arm against both references
        (g, b) for g in ("dcgan_per_class", "cgan_all_classes", "real_plus_cgan")
        for b in ("real", "augmentation")}
    comp = comp.set_index(["classifier", "gan_arm"])
    withheld = comp.verdict.str.startswith("not conclusive: cgan_all_classes")
    assert set(withheld[withheld].index.get_level_values("gan_arm")) == {
        "cgan_all_classes", "real_plus_cgan"}
    assert comp.loc[("small_cnn", "dcgan_per_class")].verdict.str.startswith("worse").all()
    unconverged = validity.Check("real converged", "seed_mlp", 0.2, "<= 0.01", False, "")
    comp = augment.comparisons(m, checks_=[unconverged])
    mlp = comp.classifier == "seed_mlp"
    assert comp[mlp].verdict.str.startswith("not conclusive: seed_mlp").all()
    assert not comp[~mlp].verdict.str.startswith("not conclusive").any()


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    """The same tiny digits run twice: converged, and with a budget far too small."""
    out = {}
    for name, steps in (("valid", None), ("undertrained", 10)):
        base = tmp_path_factory.mktemp(name)
        run = Run(VALID, "quick", build_dir=base / "b", reports_dir=base / "r")
        if steps:
            run.cfg.evaluate.steps = {"small_cnn": steps}
        for stage in ("prepare", "train", "generate", "label", "evaluate"):
            getattr(run.study, stage)(run)
        metrics_df = pd.read_csv(run.path("metrics.csv"))
        out[name] = run, metrics_df, run.study.checks(run, metrics_df)
    return out


def test_an_undertrained_run_is_not_conclusive(studies):
    run, metrics_df, checks = studies["undertrained"]
    ok, line = validity.headline(checks)
    assert not ok and line.startswith("not conclusive")
    names = {c.check for c in validity.failed(checks)}
    assert names & {"upper_bound beats imbalanced on minority_f1",
                    "upper_bound converged: minority_f1 at half the steps"}
    assert "Not conclusive" in validity.banner_html(checks)
    [sentence] = report.verdicts(metrics_df, checks=checks)
    assert "not conclusive" in sentence and "highest mean" not in sentence
    summary = report.write_summary(run, metrics_df, checks)
    assert summary["conclusive"] is False
    index = (run.reports.parent / "index.html").read_text()
    assert "Not conclusive" in index


def test_a_converged_tiny_run_passes_its_checks(studies):
    run, metrics_df, checks = studies["valid"]
    assert validity.headline(checks) == (True, f"all {len(checks)} validity checks pass"), \
        validity.table(checks).to_string()
    assert len(checks) == 3  # upper bound above imbalanced, unbeaten, converged: no oracle
    [sentence] = report.verdicts(metrics_df, checks=checks)
    assert "not conclusive" not in sentence and "highest mean" in sentence
    assert "Conclusive" in validity.banner_html(checks)
    # one seed passes too, and says what that pass rests on
    assert validity.headline(checks, seeds=1) == (
        True, f"all {len(checks)} validity checks pass on one seed: {validity.ONE_SEED}")
    # valid, but one seed tests no difference: not "conclusive"
    one = validity.banner_html(checks, seeds=1)
    assert validity.ONE_SEED in one and "Valid, on one seed: all" in one
    assert "onclusive" not in one
    assert validity.headline(checks, seeds=2)[1] == f"all {len(checks)} validity checks pass"


def test_a_smoke_run_s_failures_say_they_are_expected():
    checks = [validity.Check("oracle accuracy", "oracle", 0.5, ">= 0.98", False, "")]
    ok, line = validity.headline(checks, 1, "smoke")
    assert not ok and line.startswith("not conclusive: 1 of 1") and line.endswith(
        f"({validity.SMOKE})")
    assert validity.SMOKE in validity.banner_html(checks, 1, "smoke")
    for profile in ("quick", "full"):
        assert validity.SMOKE not in validity.headline(checks, 1, profile)[1]
        assert validity.SMOKE not in validity.banner_html(checks, 1, profile)
    # a smoke run that passes has nothing to excuse; two seeds are no one-seed pass
    passed = [validity.Check("oracle accuracy", "oracle", 0.99, ">= 0.98", True, "")]
    assert validity.SMOKE not in validity.banner_html(passed, 2, "smoke")
    assert validity.headline(passed, 2, "smoke") == (True, "the one validity check passes")


def test_the_seed_spread_is_the_sample_std_never_below_its_floor():
    """One seed measures no spread: the floor stands in, so that one lucky fit cannot pass a
    check by a hair."""
    assert validity.spread([0.5], 0.02) == 0.02
    assert validity.spread([0.1, 0.3], 0.02) == pytest.approx(0.1414214, rel=1e-6)  # ddof 1
    assert validity.spread([0.50, 0.51], 0.02) == 0.02


def test_the_oracle_check_needs_its_mean_over_seeds_at_the_threshold():
    cfg = config.ValidityConfig()
    rows = lambda *v: metric_rows({"real_test": list(v)}, classifier="oracle",  # noqa: E731
                                  metric="accuracy")
    (low,) = validity.oracle_check(rows(cfg.oracle_accuracy + 0.01,
                                        cfg.oracle_accuracy - 0.03), cfg)
    assert not low.passed and low.measured == pytest.approx(cfg.oracle_accuracy - 0.01)
    assert "over 2 seeds" in low.detail
    (exact,) = validity.oracle_check(rows(cfg.oracle_accuracy), cfg)
    assert exact.passed and exact.scope == "oracle"
    # a classifier's own accuracy on real_test is no oracle's: no oracle score, a failed check
    (none,) = validity.oracle_check(metric_rows({"real_test": [0.99]}, metric="accuracy"), cfg)
    assert not none.passed and none.detail.startswith("not computed")


def test_a_check_the_run_has_no_numbers_for_fails_rather_than_vanishes():
    """An arm left out of evaluate.arms, a generator whose measures were not written: the
    write-up must not read "conclusive" for want of the numbers that could say otherwise."""
    cfg = config.ValidityConfig()
    m = metric_rows({"augmentation": [0.9, 0.91], "real_plus_cgan": [0.92, 0.93]},
                    metric="accuracy")
    (real,) = validity.accuracy_check(m, "real", "small_cnn", 0.9, "real-data arm", "small_cnn")
    (conv,) = validity.convergence_checks(m, "accuracy", cfg, CNN, anchor="real")
    (fd,) = validity.generator_checks(m, ["cgan_all_classes"], cfg)
    checks = [real, conv, fd]
    assert not any(c.passed for c in checks) and all(np.isnan(c.measured) for c in checks)
    assert all(c.detail.startswith("not computed") for c in checks)
    assert not validity.headline(checks, seeds=2)[0]
    assert not validity.conclusive_for(checks, "small_cnn")
    assert not validity.conclusive_for(checks, "cgan_all_classes")
    assert "n/a" in validity.describe(fd) and set(validity.table(checks).measured) == {"n/a"}
    # a Fréchet distance without its real reference has no ratio: named as such, not "nan"
    (ref,) = validity.generator_checks(metric_rows({"cgan_all_classes": [20.0]},
                                                   classifier="oracle",
                                                   metric="frechet_distance"),
                                       ["cgan_all_classes"], cfg)
    assert not ref.passed and ref.detail == (
        "not computed: no Fréchet distance for cgan_all_classes and its real reference")
    # the half-way scores alone missing: named as such
    half_missing = metric_rows({"real": [0.95, 0.96]}, metric="accuracy")
    (conv,) = validity.convergence_checks(half_missing, "accuracy", cfg, CNN, anchor="real")
    assert not conv.passed and conv.detail == "not computed: no real scores at half the steps"
    # arms with no `imbalanced`: nothing shows the evaluator learns the task, so it fails
    # (two near-useless arms level with each other would otherwise pass as conclusive)
    no_floor = validity.anchor_checks(metric_rows({"smote": [0.05, 0.05],
                                                   "upper_bound": [0.06, 0.06]}),
                                      "minority_f1", ["smote", "upper_bound"], cfg)
    learns = {c.check: c for c in no_floor}["upper_bound beats imbalanced on minority_f1"]
    assert not learns.passed and "add imbalanced to evaluate.arms" in learns.detail


def test_the_anchor_checks_pair_seeds_and_judge_each_arm_by_its_own_spread():
    """The upper bound against no repair is a paired comparison (each seed's split and fit
    against the same seed's), strictly beyond the spread; the arm that comes closest to
    beating the upper bound is the one furthest past its own spread, not the highest mean;
    the `below` arm has its own check and is not that arm."""
    check = lambda values, floor=0.01: {  # noqa: E731
        c.check.split(" on ")[0]: c for c in validity.anchor_checks(
            metric_rows(values), "minority_f1", list(values),
            config.ValidityConfig(spread_floor=floor))}
    # the seeds move together: 0.05 ahead on each, though the seeds differ by 0.1
    paired = check({"imbalanced": [0.85, 0.75, 0.65], "upper_bound": [0.90, 0.80, 0.70]})
    assert paired["upper_bound beats imbalanced"].passed
    # on the spread exactly is not beyond it (binary fractions: no rounding)
    exact = check({"imbalanced": [0.5, 0.5], "upper_bound": [0.75, 0.75]}, floor=0.25)
    assert not exact["upper_bound beats imbalanced"].passed
    closest = check({"imbalanced": [0.70, 0.70, 0.70], "upper_bound": [0.80, 0.81, 0.82],
                     "smote": [0.70, 1.00, 0.85],             # 0.04 ahead, spread 0.15: within
                     "augmentation": [0.825, 0.835, 0.845]})  # 0.025 ahead, spread 0.01
    beaten = closest["no arm beats upper_bound"]
    assert not beaten.passed and "closest: augmentation" in beaten.detail
    # the same arms listed the other way round: the closest arm is judged by its own spread,
    # not by that of the arm the loop met last
    last = check({"imbalanced": [0.70, 0.70, 0.70], "upper_bound": [0.80, 0.81, 0.82],
                  "augmentation": [0.825, 0.835, 0.845], "smote": [0.70, 1.00, 0.85]})
    assert not last["no arm beats upper_bound"].passed
    assert "closest: smote" in check({"imbalanced": [0.89, 0.89, 0.89],
                                      "upper_bound": [0.90, 0.91, 0.92],
                                      "smote": [0.80, 0.85, 0.90]})[
        "no arm beats upper_bound"].detail
    # a seed one arm lacks is left out of the pairs, not read as a difference of NaN
    unpaired = check({"imbalanced": [0.70, 0.71], "upper_bound": [0.90, 0.91, 0.92]})
    assert unpaired["upper_bound beats imbalanced"].passed
    assert unpaired["upper_bound beats imbalanced"].measured == pytest.approx(0.20)
    # level with the upper bound by exactly the spread still passes
    level = check({"imbalanced": [0.25, 0.25], "upper_bound": [0.5, 0.5],
                   "smote": [0.75, 0.75]}, floor=0.25)
    assert level["no arm beats upper_bound"].passed


@pytest.mark.parametrize("full, half, floor, converged, within", [
    ([0.70, 0.70, 0.70], [0.90, 0.90, 0.90], 0.01, False, "floor"),  # better at half
    ([0.80, 0.90, 0.85], [0.86, 0.84, 0.85], 0.01, True, "scores"),  # 0.04 within 0.05
    ([0.75, 0.75], [0.5, 0.5], 0.25, True, "floor"),                 # on the floor exactly
    # one seed still learning (+0.10) beside one that stopped: the changes' wide spread must
    # not excuse it
    ([0.90, 0.95], [0.90, 0.85], 0.01, False, "scores"),
    ([0.97, 0.96, 0.97], [0.97, 0.84, 0.97], 0.01, False, "floor"),
    # one seed up and one down by as much: their mean change is zero, each seed moved
    ([0.90, 0.90], [0.85, 0.95], 0.01, False, "floor"),
    # every seed gains alike (0.027), less than the scores' spread: training under way
    ([0.882, 0.930, 0.905], [0.855, 0.903, 0.878], 0.01, False, "floor"),
])
def test_convergence_is_each_seed_s_move_within_the_tighter_seed_spread(full, half, floor,
                                                                        converged, within):
    rows = metric_rows({"upper_bound": full, "upper_bound:half_budget": half})
    (check,) = validity.convergence_checks(rows, "minority_f1",
                                           config.ValidityConfig(spread_floor=floor), CNN)
    assert check.passed == converged
    assert check.measured == pytest.approx(sum(abs(f - h) for f, h in zip(full, half))
                                           / len(full))
    # the tolerance says which spread set it, or that the floor did
    assert check.threshold.endswith({"floor": "(validity.spread_floor)",
                                     "scores": "(seed spread of the scores)",
                                     "changes": "(seed spread of the changes)"}[within])


def test_convergence_tolerance_is_the_changes_spread_where_it_is_the_tighter():
    # scores 0.10 apart, changes 0.02, 0.06 and 0.04 (spread 0.020): the seeds moved 0.04 on
    # average, beyond the changes' spread though within the scores'
    rows = metric_rows({"upper_bound": [0.80, 0.90, 0.70], "upper_bound:half_budget":
                        [0.78, 0.84, 0.66]})
    (check,) = validity.convergence_checks(rows, "minority_f1", config.ValidityConfig(), CNN)
    assert check.threshold == "<= 0.020 (seed spread of the changes)"
    assert check.measured == pytest.approx(0.04) and not check.passed
    assert "largest move of a seed 0.060" in check.detail


def test_one_seed_s_tolerance_is_the_floor_and_says_so():
    rows = metric_rows({"upper_bound": [0.9], "upper_bound:half_budget": [0.895]})
    (check,) = validity.convergence_checks(rows, "minority_f1", config.ValidityConfig(), CNN)
    assert check.passed and check.threshold == "<= 0.010 (validity.spread_floor)"


def test_the_generator_checks_read_the_oracle_s_rows_alone_and_pass_on_the_threshold():
    """Only the measuring oracle's rows are the generator's quality (the filter measures on
    its own rows); agreement exactly at the threshold passes."""
    cfg = config.ValidityConfig(label_agreement=0.75, frechet_ratio=2.0)
    oracle = pd.concat([
        metric_rows({"dcgan_minority": [0.75] * 2}, classifier="oracle",
                    metric="label_agreement"),
        metric_rows({"dcgan_minority": [20.0] * 2, "dcgan_minority:real": [10.0] * 2},
                    classifier="oracle", metric="frechet_distance")])
    others = pd.concat([
        metric_rows({"dcgan_minority": [0.0] * 2}, classifier="filter",
                    metric="label_agreement"),
        metric_rows({"dcgan_minority": [500.0] * 2}, classifier="filter",
                    metric="frechet_distance")])
    for rows in (oracle, pd.concat([oracle, others])):
        agreement, frechet = validity.generator_checks(rows, ["dcgan_minority"], cfg)
        assert agreement.passed and agreement.measured == 0.75
        assert frechet.passed and frechet.measured == 2.0


def test_convergence_is_checked_for_the_classifiers_that_scored_half_way_only():
    rows = pd.concat([metric_rows({"upper_bound": [0.9] * 2, "upper_bound:half_budget": [0.9] * 2}),
                      metric_rows({"upper_bound": [0.9] * 2}, classifier="seed_mlp")])
    (check,) = validity.convergence_checks(rows, "minority_f1", config.ValidityConfig(), CNN)
    assert check.scope == "small_cnn" and check.passed


def test_failures_come_first_and_a_check_for_all_withholds_every_verdict():
    checks = [validity.Check("a", "small_cnn", 1.0, ">= 0.5", True, ""),
              validity.Check("b", "all", 0.1, ">= 0.5", False, ""),
              validity.Check("c", "oracle", 1.0, ">= 0.5", True, ""),
              validity.Check("d", "dcgan_minority", 3.0, "<= 2.0", False, "")]
    assert list(validity.table(checks).check) == ["b", "d", "a", "c"]
    assert list(validity.table(checks).passed) == ["FAIL", "FAIL", "pass", "pass"]
    assert validity.failing_for(checks, "small_cnn") == "b (all) 0.100, needs >= 0.5"
    assert "d (dcgan_minority) 3.000, needs <= 2.0" in validity.failing_for(checks,
                                                                          "dcgan_minority")


def test_the_banner_is_red_when_a_check_fails_green_when_all_pass_and_escapes_its_text():
    passed = validity.Check("agreement", "oracle", 1.0, ">= 0.5", True, "")
    failed = validity.Check("Fréchet distance / real-vs-real", "dcgan_minority", 3.0,
                            "<= 2.0", False, "a & b")
    red, green = validity.banner_html([passed, failed]), validity.banner_html([passed])
    assert "#a11" in red and "#1a6b2a" not in red
    assert "#1a6b2a" in green and "#a11" not in green
    assert "needs &lt;= 2.0 [a &amp; b]" in red and "<= 2.0" not in red


def test_a_best_arm_whose_comparisons_are_withheld_is_no_finding_about_gans():
    """A generator below the stated quality whose arm scores highest: the verdict names the
    top place and says it counts for nothing, as a loss would."""
    m = metric_rows({"imbalanced": [0.5, 0.52, 0.51], "smote": [0.6, 0.61, 0.6],
                     "dcgan_minority": [0.7, 0.71, 0.72]})
    poor = validity.Check("Fréchet distance / real-vs-real", "dcgan_minority", 2.3, "<= 2.0",
                          False, "")
    (text,) = report.verdicts(m, checks=[poor])
    assert "highest mean minority_f1 is **dcgan_minority †**'s" in text
    assert "its top place is no finding about GANs" in text
    (text,) = report.verdicts(m)  # the same numbers with every check passed
    assert "no finding" not in text and "2 are better, 0 worse" in text


def test_convergence_fails_just_beyond_the_spread():
    rows = metric_rows({"upper_bound": [0.80] * 3, "upper_bound:half_budget": [0.785] * 3})
    (check,) = validity.convergence_checks(rows, "minority_f1",
                                           config.ValidityConfig(spread_floor=0.01), CNN)
    assert not check.passed


def test_an_upper_bound_that_learnt_nothing_neither_converged_nor_stays_unbeaten():
    """Flat at zero (a classifier that never names the minority) is no convergence, and an
    anchor at zero that no arm beats is no evidence that the evaluator can learn the task."""
    rows = metric_rows({"imbalanced": [0.0] * 2, "smote": [0.0] * 2, "upper_bound": [0.0] * 2,
                        "upper_bound:half_budget": [0.0] * 2})
    cfg = config.ValidityConfig()
    (converged,) = validity.convergence_checks(rows, "minority_f1", cfg, CNN)
    assert not converged.passed and converged.detail.startswith("learnt nothing")
    unbeaten = {c.check: c for c in validity.anchor_checks(
        rows, "minority_f1", ["imbalanced", "smote", "upper_bound"], cfg)}
    assert not unbeaten["no arm beats upper_bound on minority_f1"].passed
    assert "learnt nothing" in unbeaten["no arm beats upper_bound on minority_f1"].detail


def test_the_anchor_checks_speak_for_each_classifier_of_the_run():
    """One classifier that learns the task does not vouch for another that does not: each
    gets its own checks, and the one that fails withholds its own verdicts only."""
    rows = pd.concat([
        metric_rows({"imbalanced": [0.5] * 3, "upper_bound": [0.9] * 3}, "seed_mlp"),
        metric_rows({"imbalanced": [0.5] * 3, "upper_bound": [0.5] * 3, "smote": [0.8] * 3})])
    checks = validity.anchor_checks(rows, "minority_f1", ["imbalanced", "smote", "upper_bound"],
                                    config.ValidityConfig())
    assert {(c.scope, c.passed) for c in checks} == {
        ("seed_mlp", True), ("small_cnn", False)}
    assert validity.conclusive_for(checks, "seed_mlp")
    assert not validity.conclusive_for(checks, "small_cnn")


def test_an_upper_bound_at_zero_at_the_end_has_not_converged_whatever_it_scored_half_way():
    """Half-way 0.005, at the end 0: within the floor, but what the check rests on is the
    score the comparisons read, and that one learnt nothing."""
    rows = metric_rows({"upper_bound": [0.0] * 2, "upper_bound:half_budget": [0.005] * 2})
    (check,) = validity.convergence_checks(rows, "minority_f1", config.ValidityConfig(), CNN)
    assert not check.passed and check.detail.startswith("learnt nothing")


@pytest.mark.parametrize("arm", ["smote", "dcgan_minority", "cgan_all_classes_diffaug"])
def test_any_arm_beating_the_upper_bound_fails_the_check(arm):
    """GAN arms included: a GAN arm above the upper bound is the evaluator's fault too."""
    rows = metric_rows({"imbalanced": [0.5] * 3, "upper_bound": [0.8] * 3, arm: [0.95] * 3})
    checks = validity.anchor_checks(rows, "minority_f1", ["imbalanced", arm, "upper_bound"],
                                    config.ValidityConfig())
    assert not {c.check: c for c in checks}["no arm beats upper_bound on minority_f1"].passed


def test_generator_checks_read_the_mean_over_seeds_and_fail_just_past_the_bars():
    q = pd.concat([
        metric_rows({"dcgan_minority": [0.99, 0.90]}, classifier="oracle",
                    metric="label_agreement"),
        metric_rows({"dcgan_minority": [21.0, 21.0], "dcgan_minority:real": [10.0, 10.0]},
                    classifier="oracle", metric="frechet_distance")])
    agreement, frechet = validity.generator_checks(q, ["dcgan_minority"],
                                                   config.ValidityConfig())
    assert agreement.measured == pytest.approx(0.945) and not agreement.passed
    assert frechet.measured == pytest.approx(2.1) and not frechet.passed


@pytest.mark.parametrize("params, reader, scope", [
    ("digits_smoke.yaml", "oracle", "oracle"),  # rebalance: the GAN arms rest on it
    ("digits_bias.yaml", "oracle", "all"),  # bias: every number is its reading
    ("digits_tstr.yaml", "labeller", "labeller"),  # tstr: it labels training data
])
def test_each_study_holds_the_classifier_that_reads_its_images_to_its_accuracy(
        tmp_path, params, reader, scope):
    """The classifier that reads a study's synthetic images (the measuring oracle, the tstr
    labeller) is checked against its accuracy on the real test split in the study's own
    write-up checks: below the bar the check fails, for the scope that rests on it; at the
    bar it passes."""
    run = Run(os.path.join(ROOT, "tests", "params", params), "smoke",
              build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    bar = (run.cfg.validity.real_accuracy if reader == "labeller"
           else run.cfg.validity.oracle_accuracy)

    def reader_checks(accuracy):
        rows = metric_rows({"real_test": [accuracy, accuracy]}, classifier=reader,
                           metric="accuracy")
        return [c for c in run.study.checks(run, rows)
                if c.check.endswith("accuracy on the real test split")]

    (low,) = reader_checks(bar - 0.05)
    assert not low.passed and low.scope == scope and low.measured == pytest.approx(bar - 0.05)
    (high,) = reader_checks(bar)
    assert high.passed and high.scope == scope
