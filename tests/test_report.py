"""The numbers and words of the write-up (synthlib.report) on tiny made-up metrics: each
table's cells, the verdicts, the manifest, and the index page a reader opens first."""
import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import DIGITS_PARAMS, held_elsewhere, metric_rows
from synthlib import report, validity, workers
from synthlib.chains import Busy
from synthlib.runs import Run
from synthlib.studies import common


def test_a_gain_inside_its_interval_is_not_called_better():
    """Paired differences 0.3, -0.1, 0.1: mean 0.1 > 0, but the 95% interval (±0.50) holds
    zero; the mirror image is not "worse" either."""
    up = metric_rows({"imbalanced": [0.5, 0.5, 0.5], "dcgan_minority": [0.8, 0.4, 0.6]})
    down = metric_rows({"imbalanced": [0.5, 0.5, 0.5], "dcgan_minority": [0.2, 0.6, 0.4]})
    for m, sign in ((up, 1), (down, -1)):
        (row,) = report.comparisons(m).to_dict("records")
        assert row["verdict"] == report.WITHIN
        assert row["mean_difference"] == pytest.approx(sign * 0.1)
        assert row["interval"] == pytest.approx(4.302653 * 0.2 / np.sqrt(3), rel=1e-5)


def test_comparisons_on_one_classifier_share_a_simultaneous_95_percent():
    """Two comparisons on a classifier: each interval at 97.5% (Bonferroni), so that the pair
    together holds 95%. A gain a lone 95% interval would call better is within noise here."""
    m = metric_rows({"imbalanced": [0.5, 0.5, 0.5], "smote": [0.5, 0.5, 0.5],
                     "dcgan_minority": [0.567, 0.6, 0.633]})
    comp = report.comparisons(m)
    assert list(comp.comparisons) == [2, 2]
    t975 = 6.205347  # scipy.stats.t.ppf(1 - 0.025 / 2, 2)
    assert comp.interval.tolist() == pytest.approx([t975 * 0.033 / np.sqrt(3)] * 2, rel=1e-5)
    assert set(comp.verdict) == {report.WITHIN}  # 0.1 ± 0.118; alone: 0.1 ± 0.082, better
    (alone,) = report.comparisons(m[m.arm != "smote"]).to_dict("records")
    assert alone["verdict"] == report.BETTER


def test_each_gan_arm_is_compared_with_every_classic_baseline():
    """The design's baselines, each beside every GAN arm: no rebalancing, class weights,
    random oversampling, SMOTE and classic augmentation; never the upper bound."""
    from synthlib.registry import CLASSIC_ARMS, GENERATORS

    m = metric_rows({a: [0.5, 0.6] for a in (*CLASSIC_ARMS, *GENERATORS, "upper_bound")})
    comp = report.comparisons(m)
    assert set(zip(comp.gan_arm, comp.baseline)) == {
        (g, b) for g in GENERATORS for b in ("imbalanced", "class_weight",
                                             "random_oversampling", "smote", "augmentation")}
    assert set(comp.comparisons) == {len(GENERATORS) * 5}


def test_an_arm_level_with_its_baseline_on_every_seed_is_neither_better_nor_worse():
    """Equal scores on every seed (a GAN arm that changed nothing): the difference and its
    interval are both exactly zero, which excludes nothing, and the top place is no finding."""
    m = metric_rows({"imbalanced": [0.5, 0.6, 0.7], "dcgan_minority": [0.5, 0.6, 0.7]})
    (row,) = report.comparisons(m).to_dict("records")
    assert row["mean_difference"] == 0.0 and row["interval"] == 0.0
    assert row["verdict"] == report.WITHIN
    (text,) = report.verdicts(m)
    assert "not told apart from" in text and "above every other arm" not in text


def test_a_classifier_that_fails_a_check_withholds_its_own_comparisons_only():
    """The comparison table is shown beside the sentences: an unconverged classifier's
    "better" must not stand in it, while another classifier's still does."""
    m = pd.concat([metric_rows({"imbalanced": [0.5, 0.52, 0.51],
                                "dcgan_minority": [0.7, 0.71, 0.72]}, clf)
                   for clf in ("small_cnn", "seed_mlp")])
    unconverged = validity.Check("upper_bound converged", "seed_mlp", 0.2, "<= 0.01", False, "")
    comp = report.comparisons(m, checks=[unconverged]).set_index("classifier")
    assert comp.loc["seed_mlp", "verdict"] == "not conclusive: seed_mlp failed a check"
    assert comp.loc["small_cnn", "verdict"] == report.BETTER


def test_one_gan_arm_on_one_seed_leaves_the_others_measured():
    """A GAN arm with a single seed has no spread, but the arms beside it with several do:
    the sentence counts them, rather than calling the whole classifier a one-seed run."""
    m = pd.concat([metric_rows({"imbalanced": [0.5, 0.52, 0.51],
                                "dcgan_minority": [0.7, 0.71, 0.72]}),
                   metric_rows({"cgan_all_classes": [0.6]})])
    (text,) = report.verdicts(m)
    assert "Of 2 GAN-vs-baseline comparisons, 1 is better, 0 worse and 1 within noise" in text
    assert "With one seed" not in text


def test_a_failed_oracle_check_withholds_every_gan_verdict():
    """The oracle measures every generator: when it fails, no GAN comparison stands."""
    m = metric_rows({"imbalanced": [0.5, 0.52, 0.51], "smote": [0.5, 0.51, 0.5],
                     "dcgan_minority": [0.7, 0.71, 0.72]})
    oracle = validity.Check("oracle accuracy", "oracle", 0.5, ">= 0.98", False, "")
    comp = report.comparisons(m, checks=[oracle])
    assert len(comp) == 2
    assert (comp.verdict == "not conclusive: oracle failed a check").all()
    (text,) = report.verdicts(m, checks=[oracle])
    # the withheld comparisons name their arm: beside the list of arms, a bare count reads as
    # that many marked arms
    assert "2 comparisons of dcgan_minority † with a baseline are withheld" in text
    assert "better beyond" not in text


def test_headline_shows_one_seed_without_a_spread():
    """... and the evaluators alone: the oracle measures, it is no column of the headline."""
    m = pd.concat([metric_rows({"imbalanced": [0.5], "smote": [0.75]}),
                   metric_rows({"smote": [0.99]}, classifier="oracle")])
    table = report.headline(m).data
    assert list(table.columns) == ["small_cnn"]
    assert table["small_cnn"].tolist() == ["0.500", "0.750"]


def test_scores_table_is_the_mean_and_std_over_seeds_of_the_evaluators_only():
    """Three seeds (the median would differ from the mean); the oracle's rows, whose arms may
    share a generator's name, are no evaluator's scores."""
    m = pd.concat([metric_rows({"dcgan_minority": [0.5, 0.5, 0.5], "imbalanced": [0.1, 0.2, 0.6]}),
                   metric_rows({"dcgan_minority": [0.97] * 3}, classifier="oracle",
                               metric="label_agreement")])
    table = report.scores_table(m)
    assert list(table.columns) == ["minority_f1"]
    # rows in the arms' own order (classic arms first), whatever the order of metrics.csv
    assert list(table.index) == [("small_cnn", "imbalanced"), ("small_cnn", "dcgan_minority")]
    assert table["minority_f1"].to_dict() == {
        ("small_cnn", "imbalanced"): "0.300\u00a0±\u00a00.265",  # unbroken in a narrow column
        ("small_cnn", "dcgan_minority"): "0.500\u00a0±\u00a00.000"}


def test_counts_are_a_table_of_their_own_and_shown_whole():
    m = pd.concat([metric_rows({"imbalanced": [2000, 2000], "smote": [2000, 3000]},
                               metric="optimizer_steps"),
                   metric_rows({"imbalanced": [1.0, 1.0], "smote": [1.0]})])
    assert list(report.scores_table(m).columns) == ["minority_f1"]
    assert report.scores_table(m)["minority_f1"].tolist() == ["1.000\u00a0±\u00a00.000", "1.000"]
    counts = report.scores_table(m, metrics=report.COUNTS)
    assert list(counts.columns) == ["optimizer_steps"]
    assert counts["optimizer_steps"].tolist() == ["2,000", "2,500\u00a0±\u00a0707"]


def _bold(styled):
    return sorted(k for k, v in styled._compute().ctx.items() if ("font-weight", "bold") in v)


def test_no_best_arm_in_bold_for_a_classifier_that_fails_a_check_nor_on_a_tie():
    from synthlib.studies import rebalance

    m = pd.concat([metric_rows({"imbalanced": [0.5, 0.55], "smote": [0.9, 0.92],
                                "upper_bound": [0.97, 0.98]}, clf)
                   for clf in ("small_cnn", "seed_mlp")])
    unconverged = validity.Check("upper bound converged", "seed_mlp", 0.2, "<= 0.02", False, "")
    caption, styled = rebalance.headline(m, [unconverged])
    assert _bold(styled) == [(1, 1)]  # smote for small_cnn (the second column) alone
    assert styled.best.to_dict() == {"small_cnn": "smote"} and report.UNMARKED_NOTE in caption
    everything = validity.Check("evaluators checked", "all", 0.0, "", False, "")
    caption, styled = rebalance.headline(m, [everything])
    assert _bold(styled) == [] and "**" not in report.markdown_table(styled)
    assert report.UNMARKED_NOTE not in rebalance.headline(m)[0]
    # 0.9004 and 0.9001 both read 0.900: the table names no winner between them
    tie = metric_rows({"imbalanced": [0.9004], "smote": [0.9001]})
    assert _bold(report.headline(tie)) == [] and report.headline(tie).best.empty
    # apart in the third decimal, as the table shows them: a best, in bold
    apart = metric_rows({"imbalanced": [0.901], "smote": [0.905]})
    assert report.headline(apart).best.to_dict() == {"small_cnn": "smote"}


def test_quality_table_averages_over_seeds():
    q = pd.concat([
        metric_rows({"cgan_all_classes": [20.0, 40.0], "cgan_all_classes:real": [10.0, 14.0]},
                    classifier="oracle", metric="frechet_distance"),
        # the oracle's own accuracy is no generator's quality
        metric_rows({"real_test": [0.99, 0.98]}, classifier="oracle", metric="accuracy")])
    table = report.quality_table(q)["frechet_distance"]
    assert table.to_dict() == {("cgan_all_classes", "synthetic"): 30.0,
                               ("cgan_all_classes", "real (reference)"): 12.0}


def test_quality_table_shows_n_as_a_count():
    q = pd.concat([
        metric_rows({"dcgan_minority": [87, 87], "dcgan_minority:real": [87, 88]},
                    classifier="oracle", metric="n"),
        metric_rows({"dcgan_minority": [20.0, 40.0], "dcgan_minority:real": [10.0, 14.0]},
                    classifier="oracle", metric="frechet_distance")])
    table = report.quality_table(q)
    assert table["n"].tolist() == [87, 87.5]
    shown = report.quality_table(q, side_by_side=True)
    assert shown.loc["n"].tolist() == ["87", "87.5"]
    assert shown.loc["frechet_distance"].tolist() == ["30.000", "12.000"]  # not 30.0 beside 87


def _recorded_run(tmp_path, name="a"):
    run = Run(DIGITS_PARAMS, "smoke", build_dir=tmp_path / "b" / name,
              reports_dir=tmp_path / "reports" / name)
    common.record_data(run, run.data(fresh=True))
    return run


def test_manifest_names_the_parameters_the_data_and_each_stages_cost(tmp_path):
    run = _recorded_run(tmp_path)
    run.save_json("stage_times.json", {"01_imbalance": {"seconds": 3.5, "peak_rss_mib": 512.0,
                                                        "threads": 2},
                                       "02_train_gan": {"seconds": 60.0}})
    man = report.manifest(run)
    assert man["params_digest"] == run.cfg.digest()
    assert man["data_digest"] == run.data().digest() != man["params_digest"]
    assert man["experiment"] == run.experiment and man["profile"] == "smoke"
    assert man["machine"] == workers.device()
    table = report.stage_table(man).set_index("stage")
    assert table.loc["01_imbalance"].tolist() == [3.5, 512.0, 2]
    assert table.loc["02_train_gan", "wall time (s)"] == 60.0
    assert pd.isna(table.loc["02_train_gan", "threads"])  # unrecorded: blank, not made up


def test_a_one_seed_pass_is_valid_but_not_conclusive_in_summary_json(tmp_path):
    """summary.json says what the banner says: every check passing on one seed tests no
    difference between arms, so a tool reading `conclusive` must not read it as a result."""
    run = _recorded_run(tmp_path)
    good = [validity.Check("oracle accuracy", "oracle", 0.99, ">= 0.98", True, "")]
    m = metric_rows({"imbalanced": [0.5, 0.52], "upper_bound": [0.9, 0.91]})
    for seeds, verdict in (([0], "valid on one seed"), ([0, 1], "conclusive")):
        run.cfg.seeds = seeds
        saved = report.write_summary(run, m[m.seed.isin(seeds)], good)
        assert saved["verdict"] == verdict and saved["conclusive"] is (verdict == "conclusive")
        assert ("Valid, on one seed" in saved["validity_html"]) is (len(seeds) == 1)


def test_the_index_lists_every_experiment_with_its_validity_banner(tmp_path):
    """write_summary keeps, and reports/index.html shows, "not conclusive" for a run that fails
    a check, next to a conclusive one; each entry links its pages and its metrics.csv."""
    m = metric_rows({"imbalanced": [0.5, 0.52, 0.51], "dcgan_minority": [0.7, 0.71, 0.72],
                     "upper_bound": [0.9, 0.91, 0.9]})
    good = [validity.Check("oracle accuracy", "oracle", 0.99, ">= 0.98", True, "")]
    bad = [validity.Check("oracle accuracy", "oracle", 0.5, ">= 0.98", False, "")]
    runs = {}
    for name, checks in (("a", good), ("b", bad)):
        runs[name] = run = _recorded_run(tmp_path, name)
        (run.reports / "06_writeup.html").write_text("")
        (run.reports / "rescore.html").write_text("")  # no stage's page: not linked
        run.cfg.description = "GANs <b>against</b> oversampling & co."
        summary = report.write_summary(run, m, checks)
        saved = json.loads((run.reports / "summary.json").read_text())
        assert saved == summary and not saved["conclusive"]  # one seed: conclusive at best
        assert saved["verdict"] == ("valid on one seed" if checks is good else "not conclusive")
    assert summary["validity"].startswith("not conclusive: 1 of 1")
    index = (tmp_path / "reports" / "index.html").read_text()
    a, b = index.split("<h2>a</h2>")[1].split("<h2>b</h2>")
    # one seed, every check passed: valid, and not called conclusive
    assert "Valid, on one seed" in a and "onclusive" not in a
    assert "Not conclusive" in b and "oracle accuracy" in b
    for part, name in ((a, "a"), (b, "b")):
        assert f'href="{name}/06_writeup.html"' in part and f'href="{name}/metrics.csv"' in part
        assert "0.710\u00a0±\u00a00.010" in part  # the GAN arm's cell, unbroken
        assert "rescore" not in part
        assert "GANs &lt;b&gt;against&lt;/b&gt; oversampling &amp; co." in part
        # the description is written for every profile: what this run trained stands by it
        assert f"<br>{html.escape(runs[name].arms_text())}<br>data: " in part


def test_a_damaged_summary_leaves_the_other_reports_in_the_index(tmp_path, capsys):
    m = metric_rows({"imbalanced": [0.5, 0.52], "upper_bound": [0.9, 0.91]})
    checks = [validity.Check("oracle accuracy", "oracle", 0.99, ">= 0.98", True, "")]
    for name in ("a", "b"):
        report.write_summary(_recorded_run(tmp_path, name), m, checks)
    (tmp_path / "reports" / "a" / "summary.json").write_text("{")
    report.write_index(tmp_path / "reports")
    a, b = (tmp_path / "reports" / "index.html").read_text().split("<h2>b</h2>")
    assert "summary.json is damaged" in a and "make report EXP=a" in a
    assert 'href="b/metrics.csv"' in b
    assert "summary.json is damaged" in capsys.readouterr().err


def test_a_write_up_with_a_damaged_record_of_stage_times_still_writes(tmp_path, capsys):
    """In a JupyterLab session 06 reads stage_times.json as make left it."""
    m = metric_rows({"imbalanced": [0.5, 0.52], "upper_bound": [0.9, 0.91]})
    run = _recorded_run(tmp_path)
    run.path("stage_times.json").write_text("null")
    summary = report.write_summary(run, m, [])
    assert summary["experiment"] == run.experiment
    assert "stage_times.json is damaged" in capsys.readouterr().out


def test_the_index_says_when_a_report_s_params_file_is_gone(tmp_path):
    """A report left after its params file was deleted is marked as such, not shown as live."""
    m = metric_rows({"imbalanced": [0.5, 0.52], "upper_bound": [0.9, 0.91]})
    checks = [validity.Check("oracle accuracy", "oracle", 0.99, ">= 0.98", True, "")]
    params_copy = tmp_path / "kept.yaml"
    params_copy.write_text(Path(DIGITS_PARAMS).read_text())
    for name in ("live", "orphan"):
        run = _recorded_run(tmp_path, name)
        run.params_file = str(params_copy if name == "live" else tmp_path / "deleted.yaml")
        report.write_summary(run, m, checks)
    index = (tmp_path / "reports" / "index.html").read_text()
    live, orphan = index.split("<h2>live</h2>")[1].split("<h2>orphan</h2>")
    assert "is gone" not in live
    assert "deleted.yaml is gone" in orphan and "make clean-reports" in orphan
    with held_elsewhere(run.dir):  # a make report writes there now: the session's 06 stops
        with pytest.raises(Busy):
            report.write_summary(run, m, checks)


def test_verdicts_name_the_best_training_set_among_whole_budgets_only():
    """A score taken half-way through a fit (arm `<arm>:half_budget`) is a convergence check,
    never a contender for the best training set."""
    m = metric_rows({"real": [0.90, 0.92], "real:half_budget": [0.95, 0.96],
                     "augmentation": [0.85, 0.86]}, metric="accuracy")
    (text,) = report.verdict_sentences(m, pd.DataFrame(), "accuracy", exclude=())
    assert "the highest mean accuracy is **real**'s (0.910, 2 seeds)" in text


def test_the_highest_arm_is_weighed_against_every_other_arm_at_once():
    """The data pick the top arm, so it is told apart only if it is above each other arm with
    intervals simultaneous over them: 0.1 above the runner-up on three seeds clears a lone
    95% interval (± 0.082) but not one of three simultaneous ones (± 0.146)."""
    arms = {"smote": [0.9, 0.9, 0.9], "augmentation": [0.833, 0.8, 0.767],
            "imbalanced": [0.2, 0.2, 0.2], "class_weight": [0.1, 0.1, 0.1]}
    (text,) = report.verdict_sentences(metric_rows(arms), pd.DataFrame(), "minority_f1")
    assert "the highest mean minority_f1 is **smote**'s" in text
    assert ("; above imbalanced, class_weight; not told apart from augmentation (+0.100 ± "
            "0.146) (paired, 95% simultaneous over the 3 other arms)") in text
    del arms["augmentation"]
    (text,) = report.verdict_sentences(metric_rows(arms), pd.DataFrame(), "minority_f1")
    assert "above every other arm: the closest, imbalanced (0.200), by 0.700 ± 0.000" in text
    arms["class_weight"] = [0.1]  # one seed: no spread to weigh it by; the others stand
    (text,) = report.verdict_sentences(metric_rows(arms), pd.DataFrame(), "minority_f1")
    assert ("above every other arm measured: the closest, imbalanced (0.200), by 0.700 ± 0.000 "
            "(paired, 95% simultaneous over the 2 other arms); class_weight: fewer than two "
            "seeds in common with it") in text
    arms["class_weight"] = [np.nan] * 3  # no score at all: left unmeasured, not a KeyError
    (text,) = report.verdict_sentences(metric_rows(arms), pd.DataFrame(), "minority_f1")
    assert "class_weight: fewer than two seeds in common" in text
    assert "one degree of freedom" not in text  # three seeds
    # two seeds: intervals wider than scores can differ, and the sentence says why
    (text,) = report.verdict_sentences(metric_rows({"smote": [0.9, 0.8], "imbalanced":
                                                    [0.5, 0.3]}), pd.DataFrame(), "minority_f1")
    assert "With two seeds each interval rests on one degree of freedom" in text
    # one seed: no interval at all, and no such sentence
    (text,) = report.verdict_sentences(metric_rows({"smote": [0.9], "imbalanced": [0.5]}),
                                       pd.DataFrame(), "minority_f1")
    assert "degree of freedom" not in text and "with one seed there is no spread" in text


def test_the_manifest_says_when_the_code_had_uncommitted_changes(monkeypatch):
    import subprocess
    import types

    for status, want in (("", "abc1234"), (" M synthlib/gan.py\n",
                                           "abc1234+uncommitted changes")):
        monkeypatch.setattr(subprocess, "run", lambda args, status=status, **k:
                            types.SimpleNamespace(stdout="abc1234\n" if "rev-parse" in args
                                                  else status))
        assert report._git_commit() == want


def test_make_results_rewrites_the_readme_between_its_markers_from_the_summaries(tmp_path):
    """Each finished experiment's headline and validity line, in name order, replace what lay
    between the markers; the rest of the README is kept byte for byte, a second run changes
    nothing, and a README without the markers is left alone."""
    from synthlib.tools import results

    reports = tmp_path / "reports"
    assert results.section(reports).startswith("No experiment has been reported yet")
    m = metric_rows({"imbalanced": [0.5, 0.52, 0.51], "dcgan_minority": [0.7, 0.71, 0.72],
                     "upper_bound": [0.9, 0.91, 0.9]})
    for name, ok in (("b", False), ("a", True)):
        checks = [validity.Check("oracle accuracy", "oracle", 0.99, ">= 0.98", ok, "")]
        report.write_summary(_recorded_run(tmp_path, name), m, checks)
    head, tail = "# synthlib\n\nIntro.\n", "\n## After\n\nKept.\n"
    readme = tmp_path / "README.md"
    readme.write_text(f"{head}{results.START}\nold: 0.123\n{results.END}{tail}")
    assert results.main(readme, reports, "smoke", ["a", "b"]) == 0
    text = readme.read_text()
    assert text.startswith(head + results.START) and text.endswith(results.END + tail)
    assert "0.123" not in text
    _, a, b = text.split("\n### ")  # reports/a before reports/b
    assert "**Validity**: the one validity check passes" in a
    assert "**Validity**: not conclusive: 1 of 1" in b
    for part in (a, b):
        assert "Profile `smoke`, one seed" in part
    assert "**0.710 ± 0.010**" in a  # the headline's best arm, in bold
    # in b the best is a withheld arm: no bold claims the win its † takes back
    assert "| 0.710 ± 0.010 |" in b and "**0.710" not in b
    # the failed oracle withholds the GAN arm's comparisons: the table marks it, and says why
    assert "| dcgan_minority |" in a and "†" not in a
    assert "| dcgan_minority † |" in b and report.WITHHELD_NOTE in b
    results.main(readme, reports, "smoke", ["a", "b"])
    assert readme.read_text() == text
    plain = tmp_path / "PLAIN.md"
    plain.write_text("no markers\n")
    assert results.main(plain, reports, "smoke", ["a", "b"]) == 2
    assert plain.read_text() == "no markers\n"


def test_make_results_writes_only_one_profile_s_run_of_every_experiment(tmp_path, capsys):
    """The README's Results are the full run's: the pages a smoke run, or a run of one
    experiment, leaves in reports/ do not replace them."""
    from synthlib.tools import results

    reports = tmp_path / "reports"
    m = metric_rows({"imbalanced": [0.5], "upper_bound": [0.9]})
    checks = [validity.Check("oracle accuracy", "oracle", 0.99, ">= 0.98", True, "")]
    report.write_summary(_recorded_run(tmp_path, "a"), m, checks)  # at profile smoke
    readme = tmp_path / "README.md"
    readme.write_text(f"{results.START}\nthe full run\n{results.END}\n")
    before = readme.read_text()
    assert results.main(readme, reports, "full", ["a", "b"]) == 2
    err = capsys.readouterr().err
    assert "a: reported at profile smoke, not full (make report EXP=a PROFILE=full)" in err
    assert "b: not reported (make report EXP=b PROFILE=full)" in err
    assert results.main(readme, reports, "smoke", ["a", "b"]) == 2  # b is still missing
    assert readme.read_text() == before
    assert results.main(readme, reports, "smoke", ["a"]) == 0
    # a reports folder whose params file has gone is left out
    report.write_summary(_recorded_run(tmp_path, "gone"), m, checks)
    assert results.main(readme, reports, "smoke", ["a"]) == 0
    assert readme.read_text().count("\n### ") == 1
    # by default, every experiment in params/
    assert [w.split(":")[0] for w in results.not_at("full", tmp_path / "none")] == sorted(
        p.stem for p in (Path(results.__file__).parents[2] / "params").glob("*.yaml"))


def test_augment_marks_every_arm_built_on_a_generator_that_fails_its_check():
    """real_plus_cgan rests on the conditional GAN as much as cgan_all_classes does."""
    from synthlib.studies import augment

    m = metric_rows({"real": [0.9, 0.91], "augmentation": [0.92, 0.93],
                     "dcgan_per_class": [0.88, 0.89], "cgan_all_classes": [0.8, 0.81],
                     "real_plus_cgan": [0.95, 0.96]}, metric="accuracy")
    poor = validity.Check("Fréchet distance / real-vs-real", "cgan_all_classes", 3.1,
                          "<= 2.0", False, "")
    caption, table = augment.headline(m, [poor])
    assert list(table.data.index) == ["real", "augmentation", "dcgan_per_class",
                                      "cgan_all_classes †", "real_plus_cgan †"]
    # its arm tops the column: no bold there, neither on it nor on a runner-up
    assert "small_cnn" not in table.best and report.WITHHELD_NOTE in caption
    assert "font-weight: bold" not in table.to_html()
    caption, table = augment.headline(m)
    assert "†" not in caption + "".join(table.data.index)


def test_a_marked_table_writes_the_same_html_each_time_and_ids_of_its_own():
    """pandas gives each Styler random CSS ids: summary.json differed between identical runs,
    and two headlines on one page (the index) must not share ids either."""
    strings = pd.DataFrame({"small_cnn": ["0.5", "0.9"]}, index=["imbalanced", "smote"])
    values = pd.DataFrame({"small_cnn": [0.5, 0.9]}, index=["imbalanced", "smote"])
    first = report.mark_best(strings, values).to_html()
    assert first == report.mark_best(strings, values).to_html()
    other = report.mark_best(strings.iloc[::-1], values.iloc[::-1]).to_html()
    assert re.search(r'id="T_(\w+?)_', first).group(1) != re.search(r'id="T_(\w+?)_',
                                                                    other).group(1)
