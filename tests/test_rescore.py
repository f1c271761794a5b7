"""`make rescore`: an independent re-check of a finished rebalance run. What it reads, what it
learns from, and that its table holds what it says."""
import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from conftest import DIGITS_PARAMS, record_frechet, rows_of
from synthlib import evaluation
from synthlib.runs import Run
from synthlib.studies import rebalance
from synthlib.tools import rescore


@pytest.fixture
def run(tmp_path):
    """The digits smoke run prepared (01: data and split) for one seed, its one generator the
    minority DCGAN."""
    run = Run(DIGITS_PARAMS, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.cfg.seeds = [0]
    run.cfg.evaluate.arms = ["imbalanced", "class_weight", "dcgan_minority"]
    run.cfg.evaluate.tstr = False
    rebalance.prepare(run)
    return run


@pytest.fixture
def spy(monkeypatch):
    """Every Keras fit and predict in the test, with what they were given and answered."""
    calls = {"fit": [], "predict": []}
    fit, predict = keras.Model.fit, keras.Model.predict

    def spy_fit(self, x=None, y=None, **kw):
        calls["fit"].append({"model": self, "x": x, "y": y, **kw})
        return fit(self, x, y, **kw)

    def spy_predict(self, x, **kw):
        out = predict(self, x, **kw)
        calls["predict"].append({"model": self, "x": np.asarray(x), "out": out})
        return out

    monkeypatch.setattr(keras.Model, "fit", spy_fit)
    monkeypatch.setattr(keras.Model, "predict", spy_predict)
    return calls


def pixels(x):
    """The uint8 images a [0, 1] batch was made from."""
    assert 0 <= x.min() and x.max() <= 1.0
    return np.rint(np.asarray(x) * 255).astype(np.uint8)


def test_generators_are_read_by_a_classifier_of_the_training_split_against_the_test_minority(
        run, spy, monkeypatch):
    """The independent CNN learns from the real training split alone; the Fréchet distance
    is to the real test minority; the reference is the validation minority; the copy bound
    draws the kept minority images; the synthetic images read are those the arm trained on
    (accepted) and the generator's own draw, never those it left out."""
    ds, split = run.data(), run.split(0)
    five = split.minority_class
    rng = np.random.default_rng(0)
    saved = rng.integers(0, 256, (80, 28, 28, 1), dtype=np.uint8)
    generated = rng.integers(0, 256, (60, 28, 28, 1), dtype=np.uint8)
    accepted = np.arange(80) % 2 == 0
    np.savez(run.path("synthetic.npz", 0, "dcgan_minority"), images=saved, n_needed=40,
             generated=generated)
    np.savez(run.path("labels.npz", 0, "dcgan_minority"), accepted=accepted)

    distances = record_frechet(monkeypatch)
    table = rescore.generator_quality(run, epochs=1, draws=2)

    (trained,) = spy["fit"]
    assert np.array_equal(pixels(trained["x"]), ds.x[split.train])
    assert np.array_equal(trained["y"], ds.y[split.train])
    read = [pixels(c["x"]) for c in spy["predict"]]
    test_five = ds.x[split.test][ds.y[split.test] == five]
    held_five = ds.x[split.validation][ds.y[split.validation] == five]
    kept = rows_of(ds.x[split.kept_minority])
    # in order: the test minority (the distance's other side), the reference, the copies
    assert np.array_equal(read[0], test_five) and np.array_equal(read[1], held_five)
    copies = read[2:4]
    assert all(len(c) == len(held_five) and rows_of(c) <= kept for c in copies)
    # then the synthetic images, read by the classifier (agreement) and in its features:
    # those the arm trained on, then the generator's own draw; never those it left out
    judged = [c for c in spy["predict"] if c["model"] is trained["model"]]
    assert [len(c["x"]) for c in judged] == [2 * len(held_five), 2 * len(held_five)]
    assert rows_of(pixels(judged[0]["x"])) <= rows_of(saved[accepted])
    assert rows_of(pixels(judged[1]["x"])) <= rows_of(generated)
    measured = set().union(*map(rows_of, read[4:]))
    assert measured == rows_of(pixels(judged[0]["x"])) | rows_of(pixels(judged[1]["x"]))
    everything = set().union(*map(rows_of, read))
    assert not everything & rows_of(saved[~accepted])
    dropped = np.setdiff1d(split.train[ds.y[split.train] == five], split.kept_minority)
    assert not everything & rows_of(ds.x[dropped])
    assert not everything & rows_of(ds.x[split.test][ds.y[split.test] != five])
    # agreement: the share of those images the classifier calls the minority class
    row = table.loc["dcgan_minority"]
    for c, prefix in zip(judged, ("", "generated_")):
        assert row[f"{prefix}label_agreement"] == pytest.approx(np.mean(c["out"].argmax(1) == five))
    # each ratio divides by the one real-vs-real distance, the draws' mean and spread alike
    reference, copies, own, drawn = (distances[0], distances[1:3], distances[3:5],
                                     distances[5:7])
    assert len(distances) == 7
    assert row.copy_frechet_ratio == pytest.approx(np.mean(copies) / reference)
    assert row.frechet_ratio == pytest.approx(np.mean(own) / reference)
    assert row.frechet_ratio_sd == pytest.approx(np.std(own) / reference)
    assert row.generated_frechet_ratio == pytest.approx(np.mean(drawn) / reference)
    # over seeds, the mean of each seed's figures
    run.cfg.seeds = [0, 1]
    rebalance.prepare(run)
    for name in ("synthetic.npz", "labels.npz"):
        (run.dir / "seed1" / "dcgan_minority").mkdir(parents=True, exist_ok=True)
        run.path(name, 1, "dcgan_minority").write_bytes(run.path(name, 0, "dcgan_minority")
                                                         .read_bytes())
    distances.clear()
    table = rescore.generator_quality(run, epochs=1, draws=2)
    per_seed = [np.mean(d[3:5]) / d[0] for d in (distances[:7], distances[7:])]
    assert per_seed[0] != pytest.approx(per_seed[1])
    assert table.loc["dcgan_minority", "frechet_ratio"] == pytest.approx(np.mean(per_seed))


@pytest.mark.parametrize("steps", [0, 3])
def test_rescore_trains_each_arm_on_its_own_set_and_scores_the_test_split(run, spy, steps):
    """Each arm's CNN learns from the images and class weights the run's arm had, for whole
    passes (or `steps` updates), and its minority F1 is scored on the real test split."""
    ds, split = run.data(), run.split(0)
    arms = ["imbalanced", "class_weight"]
    table = rescore.rescore(run, epochs=1, arms=arms, steps=steps)
    assert list(table.arm) == arms and list(table.seed) == [0, 0]
    x_test, y_test = evaluation.test_set(ds, split)
    for arm, fitted, scored, row in zip(arms, spy["fit"], spy["predict"], table.itertuples()):
        x, y, weights = evaluation.training_set(arm, ds, split, {}, run.cfg, 0)
        given = fitted["x"]
        if steps:  # a shuffled, repeated dataset: its first pass is the arm's set
            batches = list(given.take(-(-len(x) // 64)))
            given = np.concatenate([b[0] for b in batches])
            assert rows_of(pixels(given)) == rows_of(x)
            assert row.steps == steps
        else:
            assert np.array_equal(pixels(given), x) and np.array_equal(fitted["y"], y)
            assert row.steps == -(-len(x) // 64)
        assert fitted.get("class_weight") == weights
        assert np.array_equal(pixels(scored["x"]), x_test)
        pred = scored["out"].argmax(1)
        assert row.rescored == pytest.approx(f1_score(y_test, pred, pos_label=1, zero_division=0))
    assert spy["fit"][1]["class_weight"] is not None


def test_compare_sets_the_report_s_small_cnn_minority_f1_beside_the_rescoring(run):
    """Mean over seeds, per arm; the other classifiers and metrics of metrics.csv stay out."""
    rows = [{"classifier": c, "metric": m, "arm": a, "seed": s, "value": v}
            for c, m, a, s, v in [("small_cnn", "minority_f1", "imbalanced", 0, 0.6),
                                  ("small_cnn", "minority_f1", "imbalanced", 1, 0.8),
                                  ("small_cnn", "balanced_accuracy", "imbalanced", 0, 0.1),
                                  ("seed_mlp", "minority_f1", "imbalanced", 0, 0.1),
                                  ("small_cnn", "minority_f1", "smote", 0, 0.9)]]
    pd.DataFrame(rows).to_csv(run.path("metrics.csv"), index=False)
    rescored = pd.DataFrame({"seed": [0, 1, 0], "arm": ["imbalanced", "imbalanced", "smote"],
                             "rescored": [0.5, 0.6, 0.95], "steps": [10, 12, 20]})
    table = rescore.compare(run, rescored)
    assert list(table.index) == ["imbalanced", "smote"]
    assert table.loc["imbalanced"].tolist() == pytest.approx([0.7, 0.55, 0.15, 11])
    assert table.loc["smote", "difference"] == pytest.approx(-0.05)
    assert table["steps"].dtype.kind == "i"  # printed as 11, not 11.000


def test_main_writes_the_comparison_and_skips_studies_without_classic_arms(
        tmp_path, monkeypatch, capsys):
    from conftest import ROOT
    from synthlib import runs

    monkeypatch.setattr(runs, "BUILD_DIR", tmp_path / "b")
    monkeypatch.setattr(runs, "REPORTS_DIR", tmp_path / "r")
    run = Run(DIGITS_PARAMS, "smoke")
    rebalance.prepare(run)
    for stage in ("04_label", "05_evaluate"):
        (run.dir / f"{stage}.ipynb").touch()
    pd.DataFrame([{"classifier": "small_cnn", "metric": "minority_f1", "arm": "imbalanced",
                   "seed": s, "value": 0.5} for s in run.seeds]).to_csv(
        run.path("metrics.csv"), index=False)
    args = ["--params", DIGITS_PARAMS, "--profile", "smoke", "--epochs", "1"]
    assert rescore.main(args + ["--arms", "imbalanced"]) == 0
    assert not list(run.reports.glob("rescore_*"))  # beside its run, in the build folder
    table = pd.read_csv(run.dir / "rescore_1_epochs.csv", index_col=0)
    assert list(table.index) == ["imbalanced"] and table.loc["imbalanced", "report"] == 0.5
    by_seed = pd.read_csv(run.dir / "rescore_1_epochs_by_seed.csv")
    assert list(by_seed.seed) == run.seeds
    assert "largest |report - rescored|" in capsys.readouterr().out
    # --steps: every arm that many updates, written under its own name
    assert rescore.main(args + ["--arms", "imbalanced", "--steps", "2"]) == 0
    assert set(pd.read_csv(run.dir / "rescore_2_steps_by_seed.csv").steps) == {2}
    # --arms none: nothing re-scored, nothing written
    (run.dir / "rescore_1_epochs.csv").unlink()
    assert rescore.main(args + ["--arms", "none"]) == 0
    assert not (run.dir / "rescore_1_epochs.csv").exists()
    # a study without classic arms says so and trains nothing
    assert rescore.main(["--params", f"{ROOT}/params/tstr_vs_training.yaml",
                         "--profile", "smoke"]) == 0
    assert "has no classic arms to re-score; skipped" in capsys.readouterr().out


def test_an_interrupted_rescore_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    """Ctrl-C while it trains: one line saying nothing was written, no traceback."""
    from synthlib import runs

    monkeypatch.setattr(runs, "BUILD_DIR", tmp_path / "b")
    monkeypatch.setattr(runs, "REPORTS_DIR", tmp_path / "r")
    run = Run(DIGITS_PARAMS, "smoke")
    rebalance.prepare(run)
    (run.dir / "05_evaluate.ipynb").touch()

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(rescore, "rescore", interrupted)
    args = ["--params", DIGITS_PARAMS, "--profile", "smoke", "--arms", "imbalanced"]
    assert rescore.main(args) == 130
    err = capsys.readouterr().err
    assert err.startswith("rescore interrupted: each of its tables is written only once complete")
    assert len(err.splitlines()) == 1 and not list(run.dir.glob("rescore_*"))


@pytest.mark.parametrize("count", [["--epochs", "0"], ["--epochs", "-3"], ["--steps", "-5"]])
def test_a_count_that_would_train_nothing_or_forever_stops_at_once(count, capsys):
    """EPOCHS=0 would print an untrained CNN's score as a re-scoring; STEPS=-5 never ended."""
    with pytest.raises(SystemExit) as e:
        rescore.main(["--params", DIGITS_PARAMS, "--profile", "smoke", *count])
    assert e.value.code == 2
    assert "EPOCHS must be 1 or more, and STEPS 0 (use EPOCHS) or more" in capsys.readouterr().err
