"""Numbers that hold up (design 3a): every arm gets the same optimizer steps, and a write-up
whose own run fails a validity check says "not conclusive" and claims no winner."""
import os

import pandas as pd
import pytest

from conftest import ROOT, metric_rows
from synthlib import config, evaluation, report, validity
from synthlib.runs import Run

VALID = os.path.join(ROOT, "tests", "params", "digits_valid.yaml")


def test_every_arm_gets_the_same_optimizer_steps_whatever_its_size(digits, digits_split):
    cfg = config.Config(experiment="t").validate()
    cfg.evaluate.arms = ["imbalanced", "random_oversampling", "upper_bound"]
    cfg.evaluate.classifiers = ["seed_mlp", "small_cnn"]
    cfg.evaluate.steps, cfg.evaluate.chunks = {"seed_mlp": 8, "small_cnn": 4}, 2
    rows, _, history = evaluation.evaluate_seed("t", cfg, digits, digits_split, {}, 0)
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
              + validity.convergence_checks(good, "minority_f1", cfg))
    assert len(checks) == 3 and all(c.passed for c in checks)
    bad = metric_rows({"imbalanced": [0.80, 0.82, 0.85], "smote": [0.90, 0.91, 0.92],
                       "upper_bound": [0.77, 0.78, 0.76], "upper_bound:half_budget": [0.6] * 3})
    checks = (validity.anchor_checks(bad, "minority_f1", arms, cfg)
              + validity.convergence_checks(bad, "minority_f1", cfg))
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
    assert comp.loc["dcgan_minority", "verdict"] == "better, beyond the spread"
    assert comp.loc["cgan_all_classes", "verdict"].startswith("not conclusive: cgan_all_classes")
    text = report.verdicts(m, checks=checks)[0]
    assert "1 GAN-vs-baseline comparisons, 1 are better" in text and "1 comparison(s) are withheld" in text


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


def test_the_frechet_check_shows_each_seeds_ratio():
    """The verdict reads the ratio of the means over seeds; each seed's own ratio (its
    synthetic distance over its own real reference) stands beside it."""
    quality = metric_rows({"dcgan_minority": [20.0, 30.0, 40.0],
                           "dcgan_minority:real": [10.0, 10.0, 20.0]},
                          classifier="oracle", metric="frechet_distance")
    (check,) = validity.generator_checks(quality, ["dcgan_minority"], config.ValidityConfig())
    assert check.measured == pytest.approx(2.25) and not check.passed
    assert "per seed: 2.00x, 3.00x, 2.00x" in check.detail
    (one,) = validity.generator_checks(quality[quality.seed == 0], ["dcgan_minority"],
                                       config.ValidityConfig())
    assert one.passed and "per seed" not in one.detail


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
    (bad,) = validity.failed(checks)
    assert bad.scope == "all" and not validity.conclusive_for(checks, "small_cnn")
    assert not validity.headline(checks)[0]
    comp = report.comparisons(m, checks=checks)
    assert len(comp) and comp.verdict.str.startswith("not conclusive: all").all()
    [sentence] = report.verdicts(m, checks=checks)
    assert "not conclusive" in sentence and "best training set" not in sentence


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
            run.cfg.label.oracle_steps = steps
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
    assert "measuring oracle's accuracy on the real test split" in names
    assert names & {"upper_bound beats imbalanced on minority_f1",
                    "upper_bound converged: minority_f1 at half the steps"}
    assert "Not conclusive" in validity.banner_html(checks)
    [sentence] = report.verdicts(metrics_df, checks=checks)
    assert "not conclusive" in sentence and "best training set" not in sentence
    summary = report.write_summary(run, metrics_df, checks)
    assert summary["conclusive"] is False
    index = (run.reports.parent / "index.html").read_text()
    assert "Not conclusive" in index


def test_a_converged_tiny_run_passes_its_checks(studies):
    run, metrics_df, checks = studies["valid"]
    assert validity.headline(checks) == (True, f"all {len(checks)} validity checks pass"), \
        validity.table(checks).to_string()
    assert len(checks) == 4  # oracle, upper bound above imbalanced, unbeaten, converged
    [sentence] = report.verdicts(metrics_df, checks=checks)
    assert "not conclusive" not in sentence and "best training set" in sentence
    assert "Conclusive" in validity.banner_html(checks)


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
    assert "over 2 seed(s)" in low.detail
    (exact,) = validity.oracle_check(rows(cfg.oracle_accuracy), cfg)
    assert exact.passed and exact.scope == "oracle"
    # a classifier's own accuracy on real_test is no oracle's
    assert validity.oracle_check(metric_rows({"real_test": [0.99]}, metric="accuracy"), cfg) == []
