"""The other studies end to end through the same six notebooks (smoke profile), a colour
image-folder dataset included, and their leakage guards."""
import json
import os

import nbformat
import numpy as np
import pandas as pd
import pytest

from conftest import (ROOT, make_image_folder, metric_rows, rows_of, stand_in_generators,
                      write_params)
from synthlib import config, pipeline
from synthlib.runs import Run
from synthlib.studies import augment, bias, common, rebalance, tstr


def run_all(params, base):
    build, reports = base / "build", base / "reports"
    for name in pipeline.NOTEBOOKS:
        pipeline.run_stage(name, params, "smoke", build, reports)
    for name in pipeline.NOTEBOOKS:
        nb = nbformat.read(build / f"{name}.ipynb", as_version=4)
        errors = [o for c in nb.cells for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors, name
        assert "data:image/png;base64" in (reports / f"{name}.html").read_text(), name
    return build, reports, pd.read_csv(reports / "metrics.csv")


@pytest.fixture(scope="module")
def folder_params(tmp_path_factory):
    base = tmp_path_factory.mktemp("fruit")
    root = make_image_folder(base / "fruit", per_class=16)
    params = base / "fruit_augment.yaml"
    params.write_text(f"""description: augment study on a colour image folder (tests only)
study: augment
data: {{dataset: folder, path: {root}, image_size: 16}}
augmentation: {{horizontal_flip: true}}
generate: {{per_class: 10}}
evaluate: {{classifiers: [small_cnn]}}
""")
    return params


def test_colour_folder_runs_the_augment_study(folder_params, tmp_path):
    build, reports, m = run_all(folder_params, tmp_path)
    data = json.loads((build / "data.json").read_text())
    assert data["image_shape"] == [16, 16, 3]
    assert data["class_names"] == {"0": "apple", "1": "kiwi", "2": "plum"}
    assert set(m[m.classifier == "small_cnn"].arm) == {
        "real", "augmentation", "dcgan_per_class", "cgan_all_classes", "real_plus_cgan",
        "real:half_budget"}  # the real arm half-way through its steps: the convergence check
    assert {"dcgan_per_class", "cgan_all_classes:real"} <= set(m[m.classifier == "oracle"].arm)
    assert {"accuracy", "macro_f1", "recall_0"} <= set(m.metric)
    with np.load(build / "seed0" / "cgan_all_classes.npz") as f:
        assert f["images"].shape == (30, 16, 16, 3)
    history = pd.read_csv(build / "eval_history.csv")  # the per-chunk curves of 05
    assert {"val_accuracy", "val_loss", "test_accuracy", "test_loss"} <= set(history.columns)
    assert "apple" in (reports / "01_imbalance.html").read_text()
    # the pages name the classes as the folder does: the header's counts, 04's agreement table
    label_page = (reports / "04_label.html").read_text()
    assert "images per class: 0 (apple): " in label_page and "<th>2 (plum)</th>" in label_page
    assert "<th>1 (kiwi)</th>" in (reports / "02_train_gan.html").read_text()  # the cGAN's counts
    # the scores table's half-budget row says what it is
    evaluate_page = (reports / "05_evaluate.html").read_text()
    assert "classifier scored half-way through its steps" in evaluate_page
    assert "small_cnn: 20 steps of 64, 3 classes" in evaluate_page  # apple, kiwi, plum


def run_in_process(params, tmp_path, **overrides):
    """Every stage and everything each notebook shows, in this process (the notebooks are the
    same six for every study and run through papermill in the tests above)."""
    import matplotlib

    matplotlib.use("Agg")
    run = Run(params, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    for key, value in overrides.items():
        section, name = key.split("__")
        setattr(getattr(run.cfg, section), name, value)
    study = run.study
    from synthlib import plots
    from synthlib.studies import common

    study.show_prepare(run, study.prepare(run))
    generators = study.generators(run)  # what 02_train_gan shows and trains
    common.generator_table(run, generators)
    common.networks(run, generators)
    trained = common.train_all(run, generators)
    plots.loss_curves(trained, generators)
    plots.grids_by_generator(trained, run.seeds[0])
    generated = study.generate(run)  # what 03_generate shows
    common.generated_table(generated, run.data().classes)
    plots.generated(generated, run.seeds[0])
    plots.training_images(generators, run.seeds[0])
    study.show_label(run, study.label(run))
    study.show_classifiers(run)  # what 05 shows before its fits
    study.show_evaluate(run, study.evaluate(run))
    m = pd.read_csv(run.path("metrics.csv"))
    run.checks = study.checks(run, m)
    study.show_writeup(run, m, run.checks)
    return run, m


@pytest.mark.parametrize("params, n_classes", [("digits_smoke", 2), ("digits_tstr", 3),
                                               ("digits_bias", None)])
def test_05_builds_each_classifier_for_the_task_its_study_scores(monkeypatch, tmp_path, params,
                                                                 n_classes):
    """rebalance scores the minority against the rest (two classes), tstr and augment every
    class of the data; bias trains no classifier in 05 and says so."""
    from synthlib import networks, show

    built, said, real_build = [], [], networks.build_classifier
    monkeypatch.setattr(networks, "build_classifier",
                        lambda name, shape, n, *a: built.append(n) or real_build(name, shape, n))
    monkeypatch.setattr(show, "text", said.append)
    run = Run(os.path.join(ROOT, "tests", "params", f"{params}.yaml"), "smoke",
              build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.study.show_classifiers(run)
    if n_classes is None:
        assert not built and "No classifier is trained in this stage" in said[0]
    else:
        assert built == [n_classes] * len(run.cfg.evaluate.classifiers)
        assert any("the same number of optimizer steps" in t for t in said)


def verdict_text(monkeypatch, run, m, checks):
    """What a write-up says under "Verdict", given these validity checks."""
    from synthlib import show

    said = []
    with monkeypatch.context() as mp:
        mp.setattr(show, "text", said.append)
        mp.setattr(show, "heading", lambda text, level=2: said.append(f"## {text}"))
        run.study.show_writeup(run, m, checks)
    return said[said.index("## Verdict") + 1]


def test_tstr_study_end_to_end(monkeypatch, tmp_path):
    """Accuracy by snapshot and label source; the labeller may label training data only
    because it learns from the scenario's own training set (here 40 per class, not the whole
    training split); every classifier is validated on the real validation split and never fed
    a test image."""
    from synthlib import classifiers

    calls, logged_as, real_fit = [], [], classifiers.fit

    def spy(name, x, y, *a, **k):
        calls.append((x, k.get("validation")))
        logged_as.append(k.get("log_label"))
        return real_fit(name, x, y, *a, **k)
    monkeypatch.setattr(classifiers, "fit", spy)
    params = os.path.join(ROOT, "tests", "params", "digits_tstr.yaml")
    run, m = run_in_process(params, tmp_path, imbalance__per_class=40)
    ds, split = run.data(), run.split(0)
    assert len(split.imbalanced) == 120 and len(split.train) > 120
    assert set(m.arm) == {"real", "synthetic_gan_labels@10", "synthetic_gan_labels@20",
                          "synthetic_labeller_labels@10", "synthetic_labeller_labels@20",
                          "real:half_budget", "real_test"}
    assert run.path("generator_step10.keras", 0, "cgan_all_classes").exists()
    caption, table = run.study.headline(m)
    assert "by generator training length" in caption and list(table.index.levels[1]) == [10, 20]
    assert np.array_equal(calls[0][0], ds.x[split.imbalanced])  # the labeller
    assert logged_as[0].strip() == "labeller step"  # not the oracle, which only measures
    test_rows = rows_of(ds.x[split.test])
    for x, validation in calls:
        assert np.array_equal(validation[0], ds.x[split.validation])
        assert not test_rows & rows_of(x)
    # 04 run again (after an interruption, or an edit to its notebook) reads 03's images as
    # 03 wrote them, and labels them as before
    images = common.load_npz(run.path("tstr_step10.npz", 0))
    labels = common.load_npz(run.path("tstr_step10_labels.npz", 0))["labeller_labels"]
    fits = len(calls)
    run.study.label(run)
    assert len(calls) == fits  # the labeller is kept: not trained again
    assert common.load_npz(run.path("tstr_step10.npz", 0)).keys() == images.keys()
    assert np.array_equal(common.load_npz(run.path("tstr_step10_labels.npz", 0))["labeller_labels"],
                          labels)
    # the verdict: drawn from what passes its checks only
    from synthlib import validity
    clf = run.cfg.evaluate.classifiers[0]
    m = m.copy()  # the labeller's sets made the best, to see them left out
    m.loc[m.arm.str.startswith("synthetic_labeller_labels"), "value"] = 1.0
    assert "synthetic only: synthetic_gan_labels" in verdict_text(monkeypatch, run, m, [])
    assert "; synthetic_labeller_labels 1.000" in verdict_text(monkeypatch, run, m, [])
    # the other studies withhold a poor generator's arm; this one says why it does not
    assert "No quality bar applies to the snapshots" in verdict_text(monkeypatch, run, m, [])
    labeller = validity.Check("labeller's accuracy", "labeller", 0.5, ">= 0.9", False, "")
    text = verdict_text(monkeypatch, run, m, [labeller])
    assert "labeller fails its check" in text and "synthetic_labeller_labels 1" not in text
    unconverged = validity.Check("real converged", clf, 0.2, "<= 0.01", False, "")
    text = verdict_text(monkeypatch, run, m, [unconverged])
    assert "not conclusive" in text and "synthetic only:" not in text


def test_tstr_reads_the_last_snapshot_against_real_paired_not_the_best_of_all():
    d = pd.DataFrame([{"source": src, "step": step, "seed": seed, "value": v}
                      for src, step, vals in (("real", pd.NA, [0.95, 0.97]),
                                              ("synthetic_gan_labels", 100, [0.99, 0.99]),
                                              ("synthetic_gan_labels", 500, [0.90, 0.93]))
                      for seed, v in enumerate(vals)])
    d["step"] = d["step"].astype("Int64")
    text = tstr.last_against_real(d, 500)
    # the earlier, better snapshot is not picked; paired: differences -0.05, -0.04
    assert "after 500 steps" in text and "0.915, -0.045 ± " in text and "0.990" not in text
    assert "paired over 2 seeds, 95%" in text


def test_tstr_says_where_a_label_source_peaks_before_the_last_snapshot():
    """The two ends alone, or their mean over label sources, read a rise and fall as a climb:
    each source is named, and one that peaks at a middle snapshot says so."""
    synth = pd.Series({("synthetic_gan_labels", 250): 0.764, ("synthetic_gan_labels", 1000): 0.834,
                       ("synthetic_gan_labels", 2000): 0.840,
                       ("synthetic_labeller_labels", 250): 0.841,
                       ("synthetic_labeller_labels", 1000): 0.931,
                       ("synthetic_labeller_labels", 2000): 0.901})
    synth.index.names = ["source", "step"]
    text = tstr.over_snapshots(synth, [250, 1000, 2000])
    assert "synthetic_gan_labels 0.764 to 0.840;" in text and "mean over label" not in text
    assert "synthetic_labeller_labels 0.841 to 0.901, highest at 1,000 steps (0.931)" in text
    assert text.count("highest") == 1 and "mean over seeds" not in text
    assert "(mean over seeds)" in tstr.over_snapshots(synth, [250, 1000, 2000], seeds=3)


def test_bias_study_reports_shares_for_every_model_and_mix(monkeypatch, tmp_path):
    params = os.path.join(ROOT, "tests", "params", "digits_bias.yaml")
    run, m = run_in_process(params, tmp_path)
    for model in ("dcgan", "vae"):
        for v in (20, 60):
            d = m[m.arm == f"{model}_mix{v}"]  # one name, as its generator's
            assert sorted(d.seed.unique()) == [0, 1]
            assert {"generated_share_0", "generated_share_1", "generated_share_7",
                    "training_share_1", "abs_error", "kl_divergence"} <= set(d.metric)
            share = d[d.metric == "training_share_1"].value.iloc[0]
            assert share == pytest.approx(v / (v + 120))
    caption, table = run.study.headline(m)
    assert "training share in brackets" in caption
    assert table.shape[0] == 4 and "±" in table.iloc[0, 0]
    # what the shares leave out is beside them: the images the oracle rejected
    assert "rejection_rate" in table.columns and "rejection_rate" in caption
    named = run.study.headline(m, label=lambda c: f"{c} (named)")[1].columns  # as the data name it
    assert list(named[:3]) == ["0 (named)", "1 (named)", "7 (named)"]
    # each generator's quality against held-out real images in its mix's shares
    fd = {c.scope for c in run.checks if c.check == "Fréchet distance / real-vs-real"}
    assert fd == {f"{model}_mix{v}" for model in ("dcgan", "vae") for v in (20, 60)}
    # one model is called the better only while every generator passes its check
    from synthlib import validity
    text = verdict_text(monkeypatch, run, m, [])
    assert "dcgan minus vae: " in text and "(mean over the mixes, paired over 2 seeds, 95%)" in text
    poor = validity.Check("Fréchet distance / real-vs-real", "vae_mix60", 6.0, "<= 2.0", False,
                          "")
    text = verdict_text(monkeypatch, run, m, [poor])
    assert text.startswith("Not conclusive") and "As measured, not compared: mean " in text
    assert "more closely" not in text
    # the table alone (the index shows it) marks the failing generator's row, as the other
    # studies mark an arm resting on one, and no other
    assert "†" not in run.study.headline(m)[0]
    caption, table = run.study.headline(m, [poor])
    assert "† a generator that (or whose oracle) fails" in caption
    assert [r for r in table.index if "†" in r[0]] == [("vae †", 60)]


def test_bias_oracle_learns_from_train_and_its_reference_is_held_out(monkeypatch, tmp_path):
    """04: the oracle that reads the class shares learns from the training split; each
    generator's real reference is validation images (never test ones), and its real pool is
    training images outside the generator's own mix."""
    from types import SimpleNamespace

    from synthlib import quality

    class Uniform:
        optimizer = SimpleNamespace(iterations=3)

        def __call__(self, x, training=False):
            return np.full((len(x), 3), 1 / 3, "float32")

    run = Run(os.path.join(ROOT, "tests", "params", "digits_bias.yaml"), "smoke",
              build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.study.prepare(run)
    ds = run.data()
    for seed in run.seeds:
        for model in run.cfg.evaluate.arms:
            for v in run.cfg.bias.varied_counts:
                common.save_npz(run.path("generated.npz", seed, f"{model}_mix{v}"),
                                images=ds.x[:12])
    trained_on, compared = [], []
    monkeypatch.setattr(common, "train_reader", lambda run, ds, split, seed, role: (
        trained_on.append(role) or (Uniform(), None, 0.9)))
    monkeypatch.setattr(quality, "compare_sets", lambda *a, **k: compared.append((a, k)) or (
        {"frechet_distance": 2.0}, {"frechet_distance": 1.0}))
    run.study.label(run)
    assert trained_on == ["oracle"] * len(run.seeds)
    per_seed = len(run.cfg.evaluate.arms) * len(run.cfg.bias.varied_counts)
    assert len(compared) == per_seed * len(run.seeds)
    for i, ((oracle, synthetic, reference, pool, *_), _) in enumerate(compared):
        seed = run.seeds[i // per_seed]  # label's order: seed, mix, model
        split, mixes = run.split(seed), list(bias.mixes(run, seed).values())
        assert rows_of(reference) <= rows_of(ds.x[split.validation])
        assert not rows_of(reference) & (rows_of(ds.x[split.test]) - rows_of(ds.x[split.train]))
        # the pool: real training images the generator never saw (not its mix, which a copy
        # of would match better than new real images do)
        mix = ds.x[mixes[i % per_seed // len(run.cfg.evaluate.arms)]]
        assert len(pool) and rows_of(pool) <= rows_of(ds.x[split.train])
        assert not rows_of(pool) & rows_of(mix)


def test_kl_divergence():
    assert bias.kl_divergence([0.5, 0.5], [0.5, 0.5]) == 0
    assert bias.kl_divergence([0.5, 0.5], [1.0, 0.0]) > 2  # a class never generated
    # KL(training || generated): a class the training mix lacks costs nothing when generated
    assert bias.kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(np.log(2))


def test_bias_mixes_differ_by_the_varied_count_alone():
    """Each mix has the same images of the fixed classes; the smaller count of the varied
    class is part of the larger one; a count the split cannot hold names its key."""
    from synthlib import params
    from synthlib.imbalance import ImbalanceError

    cfg = params.load(os.path.join(ROOT, "tests", "params", "digits_bias.yaml"), "smoke")
    y = np.repeat([0, 1, 7], 100)
    pool = np.arange(0, len(y), 2)  # 50 of each class
    cfg.bias.varied_counts, cfg.bias.fixed_count = [10, 40], 30
    few, many = bias.draw_mixes(cfg, y, pool, [0, 1, 7], seed=3).values()
    for c in (0, 7):
        assert np.array_equal(few[y[few] == c], many[y[many] == c])
        assert np.sum(y[few] == c) == 30
    assert set(few[y[few] == 1]) < set(many[y[many] == 1]) and np.sum(y[many] == 1) == 40
    assert np.isin(many, pool).all()
    assert not np.array_equal(many, list(bias.draw_mixes(cfg, y, pool, [0, 1, 7], 4).values())[1])
    cfg.bias.fixed_count = 51
    with pytest.raises(ImbalanceError, match="bias.fixed_count = 51"):
        bias.draw_mixes(cfg, y, pool, [0, 1, 7], seed=3)
    cfg.bias.fixed_count, cfg.bias.varied_counts = 30, [10, 60]
    with pytest.raises(ImbalanceError, match="bias.varied_counts = 60"):
        bias.draw_mixes(cfg, y, pool, [0, 1, 7], seed=3)


def test_the_bias_reference_is_held_out_real_in_the_mix_s_shares():
    """As many held-out images as the scarcest class allows, in the training mix's shares."""
    from types import SimpleNamespace

    y = np.array([0] * 40 + [1] * 10 + [2] * 10 + [0] * 30 + [1] * 6 + [2] * 20)
    ds = SimpleNamespace(y=y)
    mix, pool = np.arange(60), np.arange(60, len(y))  # the mix 4:1:1; the pool 30, 6, 20
    reference = bias._like_mix(ds, pool, mix, seed=0)
    assert set(reference) <= set(pool.tolist())
    assert np.bincount(y[reference]).tolist() == [24, 6, 6]  # class 1's six set the total


def test_a_mix_that_leaves_too_few_images_outside_it_stops_at_the_check():
    """label() measures a generator against real training images outside its mix, in its
    shares: fewer of them than the n compared (here none of class 1) stops before training."""
    from types import SimpleNamespace

    from synthlib.imbalance import ImbalanceError

    y = np.array([0] * 40 + [1] * 10 + [2] * 10 + [0] * 30 + [1] * 6 + [2] * 20 + [0, 1, 2] * 5)
    ds = SimpleNamespace(y=y)
    cfg = SimpleNamespace(quality=SimpleNamespace(samples=10),
                          bias=SimpleNamespace(varied_class=1, fixed_count=40))
    train, validation = np.arange(116), np.arange(116, len(y))
    mix = np.arange(60)  # 40, 10, 10: outside it 30, 6, 20, i.e. 36 in its shares; n = 10
    bias.check_pool(cfg, ds, train, validation, mix, 10)
    every_1 = np.concatenate([mix, np.arange(90, 96)])  # all 16 of class 1
    with pytest.raises(ImbalanceError, match="bias.varied_counts = 16: leaves 0 training "
                                             "images of class 1 outside the mix"):
        bias.check_pool(cfg, ds, train, validation, every_1, 16)
    cfg.quality.samples = 100  # n capped by the 15 held-out images: 36 outside still do
    bias.check_pool(cfg, ds, train, validation, mix, 10)
    # exactly as many outside as compared: 35 / (70/120) is 60, not the 59.99 of floats
    y2 = np.array([0] * 105 + [1] * 150 + [0] * 70 + [1] * 50)
    mix2 = np.concatenate([np.arange(70), np.arange(105, 155)])
    cfg.quality.samples = 60  # n = 60: the 120 held out would allow 120
    bias.check_pool(cfg, SimpleNamespace(y=y2), np.arange(255), np.arange(255, 375), mix2, 50)
    cfg.quality.samples = 100
    most_0 = np.concatenate([mix, np.arange(60, 88)])  # 2 of class 0 left: 2 in its shares
    with pytest.raises(ImbalanceError, match="bias.fixed_count = 40: leaves 2 training images "
                                             "of class 0 outside the mix"):
        bias.check_pool(cfg, ds, train, validation, most_0, 10)


def _spy(monkeypatch):
    """Records what each generator would be trained on; trains none."""
    seen = []

    def spy(run, seed, name, images, labels=None, **kw):
        seen.append((seed, name, images, labels))
        return pd.DataFrame({"step": []}), {}
    monkeypatch.setattr(common, "train_generator", spy)
    return seen


@pytest.mark.parametrize("params,study", [("digits_tstr.yaml", "tstr"),
                                          ("digits_bias.yaml", "bias")])
def test_generators_see_only_the_scenarios_training_images(monkeypatch, tmp_path, params,
                                                           study):
    run = Run(os.path.join(ROOT, "tests", "params", params), "smoke",
              build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    if study == "tstr":  # a scenario smaller than the training split, as in the experiment
        run.cfg.imbalance.per_class = 40
    run.study.prepare(run)
    seen = _spy(monkeypatch)
    run.study.train(run)
    ds = run.data()
    per_seed = 1 if study == "tstr" else len(run.cfg.bias.varied_counts) * len(
        run.cfg.evaluate.arms)
    assert len(seen) == per_seed * len(run.seeds)
    for seed, name, images, labels in seen:
        split = run.split(seed)
        if study == "tstr":
            assert len(split.imbalanced) < len(split.train)
            allowed = split.imbalanced
        else:
            allowed = bias.mixes(run, seed)[int(name.rsplit("_mix", 1)[1])]
        assert np.array_equal(images, ds.x[allowed]), name
        assert rows_of(images) <= rows_of(ds.x[split.train])
        # by index too: the digits repeat a few images across splits, which rows cannot tell
        assert np.isin(allowed, split.train).all()
        assert not np.isin(allowed, np.concatenate([split.test, split.validation])).any()


def test_tstr_arms_train_on_the_scenario_s_set_or_a_snapshot_s_images_alone(monkeypatch,
                                                                           tmp_path):
    """05 of the tstr study: the `real` arm is the scenario's own training set (what its GAN
    and labeller learnt from), not the whole training split; each synthetic arm is one
    snapshot's images alone, with the GAN's labels or the labeller's."""
    run = Run(os.path.join(ROOT, "tests", "params", "digits_tstr.yaml"), "smoke",
              build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.cfg.imbalance.per_class = 40
    run.study.prepare(run)
    ds, split = run.data(), run.split(run.seeds[0])
    assert len(split.imbalanced) < len(split.train)
    made = {}
    for step in run.cfg.tstr.snapshots:
        images = np.full((6, 28, 28, 1), step, np.uint8)
        labels = np.repeat(ds.classes, 2)
        made[step] = (images, labels, labels[::-1])
        for seed in run.seeds:
            common.save_npz(run.path(f"tstr_step{step}.npz", seed), images=images,
                            labels=labels)
            common.save_npz(run.path(f"tstr_step{step}_labels.npz", seed),
                            labeller_labels=labels[::-1])
    handed = []

    def set_fits(run, seed, split, ds, sets, anchor="real"):
        handed.append(sets)
        raise RuntimeError("captured")
    monkeypatch.setattr(common, "set_fits", set_fits)
    with pytest.raises(RuntimeError, match="captured"):
        run.study.evaluate(run)
    (sets,) = handed
    x, y = sets.pop("real")
    assert np.array_equal(x, ds.x[split.imbalanced]) and np.array_equal(y, ds.y[split.imbalanced])
    for step, (images, gan_labels, labeller_labels) in made.items():
        for source, labels in (("gan", gan_labels), ("labeller", labeller_labels)):
            x, y = sets.pop(f"synthetic_{source}_labels@{step}")
            assert np.array_equal(x, images) and np.array_equal(y, labels)
    assert not sets


def test_per_class_gans_see_one_class_of_the_training_set(monkeypatch, folder_params,
                                                          tmp_path):
    run = Run(folder_params, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.study.prepare(run)
    seen = _spy(monkeypatch)
    run.study.train(run)
    seed, name, images, labels = seen[0]
    ds, split = run.data(), run.split(seed)
    assert name == "dcgan_class0"
    assert np.array_equal(images, ds.x[split.imbalanced][ds.y[split.imbalanced] == 0])


def test_augment_trains_only_the_generators_its_arms_use(folder_params, tmp_path):
    run = Run(folder_params, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.study.prepare(run)
    every = {g.name for g in run.study.generators(run)}
    assert "cgan_all_classes" in every and any(n.startswith("dcgan_class") for n in every)
    run.cfg.evaluate.arms = ["real", "augmentation", "real_plus_cgan"]
    assert {g.name for g in run.study.generators(run)} == {"cgan_all_classes"}
    run.cfg.evaluate.arms = ["real", "augmentation"]
    assert run.study.generators(run) == []


def test_generator_steps_give_one_source_its_own_budget(folder_params, tmp_path, monkeypatch):
    """gan.generator_steps trains the per-class DCGANs for their own steps; the conditional GAN
    keeps gan.steps and, since its own settings did not change, is not trained again."""
    from synthlib import gan

    run = Run(folder_params, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.study.prepare(run)
    run.cfg.gan.steps, run.cfg.gan.log_every = 3, 1
    run.cfg.gan.generator_steps = {"dcgan_per_class": 2}
    trained, real_train = [], gan.train
    monkeypatch.setattr(gan, "train", lambda *a, **kw: trained.append(a[1].steps)
                        or real_train(*a, **kw))
    generators = run.study.generators(run)
    table = common.generator_table(run, generators).set_index("generator")
    assert table.loc["cgan_all_classes", "steps"] == 3
    per_class = table.loc["cgan_all_classes", ["0 (apple)", "1 (kiwi)", "2 (plum)"]]
    assert all(type(n) is int for n in per_class)  # shown whole, not 700.0
    assert set(table.loc["dcgan_class1", per_class.index]) == {""}  # no labels: blank
    assert set(table.drop(index="cgan_all_classes").steps) == {2}
    result = run.study.train(run)
    assert list(result[(0, "cgan_all_classes")][0].step) == [1, 2, 3]
    assert list(result[(0, "dcgan_class1")][0].step) == [1, 2]
    assert sorted(trained) == [2, 2, 2, 3]
    run.cfg.gan.generator_steps = {"dcgan_per_class": 1}
    run.study.train(run)
    assert sorted(trained[4:]) == [1, 1, 1]  # the per-class DCGANs again, not the cGAN


def test_bias_scores_each_mix_against_its_training_shares(tmp_path):
    """Absolute error and KL(training || generated) per seed, model and mix; a mix whose
    images were all rejected has no shares to score (NaN), never a made-up zero."""
    from synthlib.runs import Run

    run = Run(os.path.join(ROOT, "tests", "params", "digits_bias.yaml"), "smoke",
              build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    rows = [{"seed": 0, "model": "dcgan", "varied_count": 20, "class": c,
             "generated_share": g, "training_share": t, "rejection_rate": 0.1}
            for c, g, t in ((0, 0.5, 0.4), (1, 0.1, 0.2), (7, 0.4, 0.4))]
    rows += [{"seed": 0, "model": "vae", "varied_count": 20, "class": c,
              "generated_share": float("nan"), "training_share": t, "rejection_rate": 1.0}
             for c, t in ((0, 0.4), (1, 0.2), (7, 0.4))]
    run.save_json("label_summary.json", {"rows": rows, "accuracy": [], "quality": []})
    df, _ = bias.evaluate(run)
    score = lambda arm, m: df[(df.arm == arm) & (df.metric == m)].value.item()  # noqa: E731
    assert score("dcgan_mix20", "abs_error") == pytest.approx((0.1 + 0.1 + 0.0) / 3)
    assert score("dcgan_mix20", "kl_divergence") == pytest.approx(
        bias.kl_divergence([0.4, 0.2, 0.4], [0.5, 0.1, 0.4]))
    assert np.isnan(score("vae_mix20", "abs_error"))
    assert np.isnan(score("vae_mix20", "kl_divergence"))
    assert score("vae_mix20", "rejection_rate") == 1.0


def test_tstr_headline_reads_each_snapshot_beside_real_per_classifier():
    m = pd.concat([metric_rows({"real": [0.95, 0.97], "synthetic_gan_labels@100": [0.5, 0.6],
                                "synthetic_gan_labels@500": [0.8, 0.9],
                                "real:half_budget": [0.1, 0.1]}, metric="accuracy"),
                   metric_rows({"real": [0.85, 0.87], "synthetic_gan_labels@500": [0.7, 0.7]},
                               classifier="seed_mlp", metric="accuracy"),
                   metric_rows({"real_test": [0.99, 0.99]}, classifier="labeller",
                               metric="accuracy")])
    d = tstr.by_step(m)
    assert set(d.classifier) == {"small_cnn", "seed_mlp"}  # not the labeller
    assert not d.arm.str.contains(":").any()  # nor the convergence check's half budgets
    assert sorted(d[d.source != "real"].step.unique().tolist()) == [100, 500]
    _, table = tstr.headline(m)
    assert table.loc[("small_cnn", 500), "synthetic_gan_labels"] == "0.850\u00a0±\u00a00.071"
    assert table.loc[("small_cnn", 100), "real"] == "0.960\u00a0±\u00a00.014"
    assert table.loc[("seed_mlp", 500), "real"] == "0.860\u00a0±\u00a00.014"


def test_augment_arms_add_to_real_or_stand_alone_as_named(tmp_path):
    """`augmentation` and `real_plus_cgan` add their images to the real training set; the two
    GAN arms train on synthetic images alone; `real_plus_cgan` reads the cGAN's images."""
    from types import SimpleNamespace

    ds = SimpleNamespace(x=np.zeros((10, 2, 2, 1), np.uint8), y=np.arange(10) % 2)
    split = SimpleNamespace(imbalanced=np.array([0, 1, 2, 3]))
    made = {}
    for source, value in (("augmentation", 1), ("dcgan_per_class", 2), ("cgan_all_classes", 3)):
        made[source] = tmp_path / f"{source}.npz"
        common.save_npz(made[source], images=np.full((3, 2, 2, 1), value, np.uint8),
                        labels=np.array([1, 0, 1]))
    run = SimpleNamespace(made=lambda name, seed: tmp_path / name)
    sizes = {}
    for arm in augment.ARM_TEXT:
        x, y = augment.training_set(arm, ds, split, 0, run)
        assert len(x) == len(y)
        added = x.reshape(len(x), -1)[:, 0] > 0
        assert y[added].tolist() == ([1, 0, 1] if added.any() else [])  # with their own labels
        sizes[arm] = (len(y), sorted(set(x.ravel().tolist())))
    assert sizes == {"real": (4, [0]), "augmentation": (7, [0, 1]),
                     "dcgan_per_class": (3, [2]), "cgan_all_classes": (3, [3]),
                     "real_plus_cgan": (7, [0, 3])}


def test_augment_generators_learn_from_the_small_training_set_alone(folder_params, tmp_path):
    """Each per-class DCGAN learns its class of the small training set, the conditional GAN
    all of it with each image's own label; none sees the rest of the training split."""
    run = Run(folder_params, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.cfg.imbalance.per_class = 5
    run.study.prepare(run)
    ds, split = run.data(), run.split(0)
    x, y = ds.x[split.imbalanced], ds.y[split.imbalanced]
    assert len(split.imbalanced) == 15 < len(split.train)
    generators = {g.name: g for g in run.study.generators(run)}
    for c in ds.classes:
        g = generators.pop(f"dcgan_class{c}")
        assert np.array_equal(g.images, x[y == c]) and g.labels is None
    cgan = generators.pop("cgan_all_classes")
    assert np.array_equal(cgan.images, x) and np.array_equal(cgan.labels, y)
    assert not generators


def test_augment_draws_each_class_from_its_own_source(monkeypatch, folder_params, tmp_path):
    """03 saves `generate.per_class` images per class from each source, each image beside the
    label of the class it was made for: the per-class DCGANs each with their own noise, the
    conditional GAN asked for that label, classic augmentation of that class's images."""
    from synthlib import baselines, gan

    run = Run(folder_params, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.study.prepare(run)
    ds, split, n = run.data(), run.split(0), run.cfg.generate.per_class
    x, y = ds.x[split.imbalanced], ds.y[split.imbalanced]
    monkeypatch.setattr(gan, "load_generator", lambda path: path.parent.name)
    stand_in_generators(monkeypatch, run)
    seeds, augmented = [], []

    def sample(generator, n, seed, label=None, **kw):
        seeds.append(seed)
        value = (np.asarray(label) + 1 if generator == "cgan_all_classes"
                 else np.full(n, 100 + int(generator.removeprefix("dcgan_class"))))
        return np.broadcast_to(value.astype(np.uint8)[:, None, None, None],
                               (n,) + ds.x.shape[1:]).copy()

    def augment(images, count, cfg, seed, batch_size):
        augmented.append(images)
        return np.full((count,) + images.shape[1:], 200 + len(augmented) - 1, np.uint8)
    monkeypatch.setattr(gan, "sample", sample)
    monkeypatch.setattr(baselines, "augment", augment)
    out = run.study.generate(run)
    offset = {"cgan_all_classes": 1, "dcgan_per_class": 100, "augmentation": 200}
    for source, first in offset.items():
        images, labels = out[(0, source)]
        saved = common.load_npz(run.path(f"{source}.npz", 0))
        assert np.array_equal(saved["images"], images) and np.array_equal(saved["labels"], labels)
        assert np.array_equal(np.bincount(labels), np.full(len(ds.classes), n))
        assert np.array_equal(images[:, 0, 0, 0], first + labels)  # made for its own label
    assert len(set(seeds)) == len(seeds)  # no two draws share their noise
    for c, images in zip(ds.classes, augmented):
        assert np.array_equal(images, x[y == c])


def test_augment_oracle_reads_each_class_against_the_label_it_was_made_for(monkeypatch,
                                                                          folder_params,
                                                                          tmp_path):
    """04: the oracle (trained on the training split) scores each source's images of a class
    against that class alone; each generator's quality is read against the validation split
    with its labels, in features of the training split, the synthetic images with the labels
    they were made for; classic augmentation gets agreement only."""
    from types import SimpleNamespace

    from synthlib import quality

    class ByPixel:
        """Calls an image the class its first pixel names."""
        optimizer = SimpleNamespace(iterations=7)

        def __call__(self, x, training=False):
            v = np.rint(np.asarray(x)[:, 0, 0, 0] * 255).astype(int)
            p = np.full((len(x), 3), 0.01, "float32")
            p[np.arange(len(x)), v] = 0.98
            return p

    run = Run(folder_params, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.study.prepare(run)
    ds, split = run.data(), run.split(0)
    labels = np.repeat(ds.classes, 4)
    made = {"dcgan_per_class": labels, "cgan_all_classes": np.zeros_like(labels),
            "augmentation": labels}  # the first pixel: the class the oracle will see
    for source, seen in made.items():
        images = np.zeros((len(labels),) + ds.x.shape[1:], np.uint8)
        images[:, 0, 0, 0] = seen
        common.save_npz(run.path(f"{source}.npz", 0), images=images, labels=labels)
    trained_on, compared = [], []
    monkeypatch.setattr(common, "train_reader", lambda run, ds, split, seed, role: (
        trained_on.append(role) or (ByPixel(), None, 0.9)))
    monkeypatch.setattr(quality, "compare_sets", lambda *a, **k: compared.append((a, k)) or (
        {"frechet_distance": 2.0}, {"frechet_distance": 1.0}))
    summary, accuracy, qual = run.study.label(run)
    assert trained_on == ["oracle"] and accuracy.oracle_steps.tolist() == [7]
    agreement = summary.pivot_table(index="class", columns="source", values="label_agreement")
    assert agreement["dcgan_per_class"].tolist() == agreement["augmentation"].tolist() == [1] * 3
    assert agreement["cgan_all_classes"].tolist() == [1, 0, 0]  # it drew every class as 0
    assert set(qual.generator) == {"dcgan_per_class", "cgan_all_classes"}
    for (oracle, synthetic, heldout, pool, *_), kw in compared:
        assert np.array_equal(heldout, ds.x[split.validation])
        assert np.array_equal(pool, ds.x[split.train])
        assert np.array_equal(kw["synthetic_labels"], common.encode(labels, ds.classes))
        assert np.array_equal(kw["heldout_labels"],
                              common.encode(ds.y[split.validation], ds.classes))


def test_augment_checks_each_classifier_s_real_arm_and_its_convergence(folder_params,
                                                                       tmp_path):
    """The augment write-up checks, for every classifier, the real arm's accuracy and that it
    had converged (half its steps against all), and the oracle; a classifier that learns
    nothing more from the second half of its steps passes, one still learning does not."""
    run = Run(folder_params, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.cfg.evaluate.classifiers = ["seed_mlp", "small_cnn"]
    m = pd.concat([metric_rows({"real": [0.95, 0.96], "real:half_budget": half},
                               classifier=c, metric="accuracy")
                   for c, half in (("seed_mlp", [0.95, 0.96]), ("small_cnn", [0.5, 0.6]))]
                  + [metric_rows({"real_test": [0.99, 0.99]}, classifier="oracle",
                                 metric="accuracy")])
    checks = {(c.check.split(":")[0], c.scope): c.passed for c in augment.checks(run, m)}
    assert checks == {("measuring oracle's accuracy on the real test split", "oracle"): True,
                      ("real-data arm's test accuracy", "seed_mlp"): True,
                      ("real-data arm's test accuracy", "small_cnn"): True,
                      ("real converged", "seed_mlp"): True,
                      ("real converged", "small_cnn"): False,
                      # no quality rows in these numbers: not computed, so not passed
                      ("Fréchet distance / real-vs-real", "dcgan_per_class"): False,
                      ("Fréchet distance / real-vs-real", "cgan_all_classes"): False}


def test_augment_withholds_every_gan_verdict_when_its_oracle_fails():
    from synthlib import validity

    m = metric_rows({"real": [0.9, 0.91, 0.9], "augmentation": [0.92, 0.93, 0.92],
                     "dcgan_per_class": [0.8, 0.81, 0.8], "cgan_all_classes": [0.7, 0.72, 0.7],
                     "real_plus_cgan": [0.95, 0.96, 0.95]}, metric="accuracy")
    bad = validity.Check("oracle accuracy", "oracle", 0.5, ">= 0.98", False, "")
    comparisons = augment.comparisons(m, checks_=[bad])
    assert len(comparisons)
    assert comparisons.verdict.str.startswith("not conclusive: oracle").all()


def test_bias_checks_each_generator_s_shares_at_equal_counts(tmp_path):
    """At the mix whose classes are equally many, each class's share of a generator's images
    (mean over seeds) must be within validity.share_gap of its training share; a generator whose
    images were all rejected, or which has no shares, fails as not computed."""
    rows = []

    def add(arm, seed, generated, training):
        for c, g, t in zip((0, 1, 7), generated, training):
            rows.extend({"experiment": "e", "arm": arm, "classifier": "oracle", "seed": seed,
                         "metric": f"{kind}_share_{c}", "value": v}
                        for kind, v in (("generated", g), ("training", t)))

    third, nan = [1 / 3] * 3, float("nan")
    add("dcgan_mix300", 0, [0.33, 0.33, 0.34], third)
    add("dcgan_mix300", 1, [0.30, 0.35, 0.35], third)
    add("vae_mix300", 0, [0.25, 0.30, 0.45], third)
    add("vae_mix300", 1, [0.30, 0.25, 0.45], third)
    add("vae_mix30", 0, [0.50, 0.0, 0.50], [0.476, 0.048, 0.476])
    add("vae_mix60", 0, [nan] * 3, third)
    checks = {c.scope: c for c in bias.balance_checks(
        pd.DataFrame(rows), ["dcgan_mix300", "vae_mix300", "vae_mix60", "dcgan_mix60"],
        config.ValidityConfig())}
    assert set(checks) == {"dcgan_mix300", "vae_mix300", "vae_mix60", "dcgan_mix60"}
    assert checks["dcgan_mix300"].passed
    assert checks["dcgan_mix300"].measured == pytest.approx(1 / 3 - 0.315)
    vae = checks["vae_mix300"]
    assert not vae.passed and vae.measured == pytest.approx(0.45 - 1 / 3)
    assert vae.detail.startswith("shares 0.275/0.275/0.450 of classes 0/1/7, 0.333 each")
    assert vae.detail.endswith("per seed: 0.117, 0.117)")
    assert not checks["vae_mix60"].passed and "vae_mix60 rejected" in checks["vae_mix60"].detail
    assert checks["dcgan_mix60"].detail == "not computed: no shares for dcgan_mix60"
    # a run names the balanced mix's generators, where its profile has one
    run, _ = study_text(tmp_path, "bias_dcgan_vs_vae", "full")
    names = {c.scope for c in bias.checks(run, pd.DataFrame(rows))
             if c.check == bias.BALANCE_CHECK}
    assert names == {"dcgan_mix300", "vae_mix300"}
    run.cfg.bias.varied_counts = [30, 100]
    assert not [c for c in bias.checks(run, pd.DataFrame(rows)) if c.check == bias.BALANCE_CHECK]
    tolerant = config.ValidityConfig(share_gap=0.12)
    assert all(c.passed for c in bias.balance_checks(pd.DataFrame(rows), ["vae_mix300"],
                                                     tolerant))


def test_bias_names_a_closer_model_only_where_its_interval_excludes_zero():
    def err(dcgan, vae):
        return pd.DataFrame([{"seed": s, "varied_count": v, "model": m, "value": x}
                             for m, xs in (("dcgan", dcgan), ("vae", vae))
                             for (s, v), x in zip([(0, 20), (0, 60), (1, 20), (1, 60)], xs)])
    clear = bias.closer_to_shares(err([0.01, 0.02, 0.015, 0.012], [0.05, 0.06, 0.055, 0.05]))
    # two seeds, each the mean of its two mixes: -0.04, -0.039
    assert clear.startswith("**dcgan** follows") and "paired over 2 seeds" in clear
    assert "-0.040 ± 0.006" in clear
    mixed = bias.closer_to_shares(err([0.01, 0.06, 0.015, 0.05], [0.05, 0.02, 0.055, 0.012]))
    assert mixed.startswith("Neither model")


def test_images_are_drawn_only_from_the_generator_this_run_s_settings_train(tmp_path):
    """A notebook session that trained with other settings (or a training cut short after the
    old key went) leaves another generator in place: 03 says so in one line, rather than
    drawing from it into reports the params file does not make."""
    from synthlib.runs import RunError

    params = write_params(tmp_path, "data: {dataset: digits}\nimbalance: {minority_class: 5, "
                          "kept_fraction: 0.2}\nevaluate: {arms: [imbalanced, dcgan_minority, "
                          "upper_bound], tstr: false}\n")
    run = Run(params, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    with pytest.raises(RunError, match="not made yet"):  # 01 has not run
        run.study.generate(run)
    run.study.prepare(run)
    with pytest.raises(RunError, match="generator.keras: not made yet"):  # nor has 02
        run.study.generate(run)
    run.study.train(run)
    run.study.generate(run)  # the generator these settings train: drawn from
    run.cfg.gan.steps = 40  # a session's edit, never trained
    with pytest.raises(RunError, match="02_train_gan last ran with other settings"):
        run.study.generate(run)
    # the generator's own key says so too, where the record of the stages is not consulted
    with pytest.raises(RunError, match="not the generator this run's settings train"):
        rebalance.generate(run)
    run.cfg.gan.steps = 20
    run.path("generator.key", 0, "dcgan_minority").unlink()  # a training cut short
    with pytest.raises(RunError,
                       match="02_train_gan.ipynb` then `make report EXP=exp PROFILE=smoke"):
        run.study.generate(run)


def test_an_interrupted_training_says_so_in_one_line(monkeypatch, tmp_path):
    from synthlib import workers

    run = Run(os.path.join(ROOT, "tests", "params", "digits_bias.yaml"), "smoke",
              build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    run.study.prepare(run)

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(workers, "run", interrupted)
    with pytest.raises(KeyboardInterrupt) as e:  # still an interrupt, to whatever catches one
        run.study.train(run)
    assert e.value._render_traceback_() == [
        "Interrupted: interrupted. Finished generators are kept, and an unfinished one resumes "
        "from its last checkpoint: run this cell again"]


# ---- what the pages say ----------------------------------------------------------------------

EXPERIMENTS = ("five_minority", "gan_vs_augmentation", "tstr_vs_training", "bias_dcgan_vs_vae")


def study_text(tmp_path, experiment, profile="quick"):
    """(run, its ABOUT) as the notebooks read them: through run.study, with the run's Config."""
    run = Run(os.path.join(ROOT, "params", f"{experiment}.yaml"), profile,
              build_dir=tmp_path / experiment / profile / "b", reports_dir=tmp_path / "r")
    return run, run.study.ABOUT


def test_a_page_describes_only_the_models_its_run_trains(tmp_path):
    """five_minority's default profile trains the minority DCGAN alone, with the small CNN
    alone and no TSTR table: its 02, 03 and 05 paragraphs name nothing else, while the full
    profile's name all of it. A setting changed in a session changes the text with it."""
    run, about = study_text(tmp_path, "five_minority")
    assert run.cfg.generators() == ["dcgan_minority"]
    assert "`dcgan_minority`" in about["02"]
    for stage in ("02", "03", "04", "05"):
        for absent in ("cgan_all_classes", "conditional GAN", "conditional on", "_diffaug",
                       "DiffAugment", "BAGAN", "seed_mlp", "16-1-2", "TSTR", "herding"):
            assert absent not in about[stage], (stage, absent)
    assert "`small_cnn`" in about["05"] and "No filter is trained" in about["04"]
    run.cfg.evaluate.arms = ["imbalanced", "dcgan_minority_diffaug", "upper_bound"]
    run.cfg.label.filter = True
    assert "DiffAugment" in run.study.ABOUT["02"] and "`dcgan_minority`" in run.study.ABOUT["02"]
    assert "**filter** learns only from" in run.study.ABOUT["04"]

    _, about = study_text(tmp_path, "five_minority", "full")
    assert "`cgan_all_classes`" in about["02"] and "BAGAN (the balancing GAN" in about["02"]
    assert "`seed_mlp`" in about["05"] and "TSTR table" in about["05"]
    assert "TSTR table" in about["03"]

    run, about = study_text(tmp_path, "gan_vs_augmentation")
    assert "conditional" in about["02"] and "per class" not in about["02"]
    assert "dcgan_per_class" not in about["05"] and "`real_plus_cgan`" in about["05"]
    _, about = study_text(tmp_path, "gan_vs_augmentation", "full")
    assert "DCGAN **per class**" in about["02"] and "`dcgan_per_class`" in about["05"]

    run, about = study_text(tmp_path, "bias_dcgan_vs_vae")
    assert "its KL term weighted 4: `gan.kl_weight`" in about["02"]
    run.cfg.gan.kl_weight = 1.0
    assert "VAE (keras.io's recipe)" in run.study.ABOUT["02"]
    run.cfg.evaluate.arms = ["vae"]
    assert "DCGAN" not in run.study.ABOUT["02"].replace("DCGAN's", "")  # the VAE alone
    run, _ = study_text(tmp_path, "tstr_vs_training")
    run.cfg.evaluate.arms = ["real", "synthetic_gan_labels"]
    assert "labeller_labels" not in run.study.ABOUT["05"]


def test_each_list_on_the_pages_ends_with_a_full_stop(tmp_path):
    for experiment in EXPERIMENTS:
        for profile in ("smoke", "quick", "full"):
            for stage, text in study_text(tmp_path, experiment, profile)[1].items():
                for paragraph in text.split("\n\n"):
                    items = [line for line in paragraph.splitlines() if line.startswith("* ")]
                    if items:
                        assert items[-1].endswith("."), (experiment, profile, stage, items[-1])
                        assert all(i.endswith(";") for i in items[:-1]), (experiment, stage)


def test_the_pages_say_which_seed_they_mean(tmp_path):
    """"Seed" names both the documents an experiment comes from and the random seeds: each
    01 says which is which, and no page leans on the first sense unexplained."""
    import re

    import yaml

    unexplained = re.compile(r"\bthe seed(?:'s| notebook| plotted| ran)\b|\bseed notebook"
                             r"|\bminus its leak|\bthe BAGAN argument")
    for experiment in EXPERIMENTS:
        for profile in ("quick", "full"):
            run, about = study_text(tmp_path, experiment, profile)
            assert "*seed documents*" in about["01"] and "random seed" in about["01"]
            assert re.search(r"from the source \w+ \(seed documents? 00\d", about["01"])
            for stage, text in about.items():
                assert not unexplained.search(text), (experiment, stage, text)
        description = yaml.safe_load(open(os.path.join(ROOT, "params", f"{experiment}.yaml"),
                                          encoding="utf-8"))["description"]
        assert not unexplained.search(description), experiment  # the index page shows it


@pytest.mark.parametrize("study", [augment, bias])
def test_04_heads_its_accuracy_table_apart_from_the_notebook_s_oracle_section(monkeypatch,
                                                                              study):
    """04's notebook has its own section "The oracle" (the network and its settings): a
    second under the same heading would make two sections a reader cannot tell apart."""
    from synthlib import show

    headings, said = [], []
    monkeypatch.setattr(show, "heading", lambda text, level=2: headings.append(text))
    monkeypatch.setattr(show, "table", lambda *a, **k: None)
    monkeypatch.setattr(show, "text", said.append)
    accuracy = pd.DataFrame([{"seed": 0, "oracle_test_accuracy": 0.99, "oracle_steps": 10}])
    if study is augment:
        summary = pd.DataFrame([{"seed": 0, "source": s, "class": c, "label_agreement": 1.0,
                                 "mean_confidence": 1.0, "rejection_rate": 0.0}
                                for s in ("augmentation", "cgan_all_classes") for c in (0, 1)])
        quality = pd.DataFrame([{"seed": 0, "generator": "cgan_all_classes", "images": i,
                                 "n": 500, "label_agreement": 1.0, "frechet_distance": 1.0}
                                for i in ("synthetic", "real")])
        result = summary, accuracy, quality
    else:
        result = pd.DataFrame([{"seed": 0, "model": "vae", "varied_count": 30, "class": c,
                                "generated_share": 0.5, "training_share": 0.5,
                                "rejection_rate": 0.0} for c in (0, 1)]), accuracy

    class Run:
        class_label = staticmethod(str)
    study.show_label(Run(), result)
    assert "The oracle" not in headings and len(set(headings)) == len(headings)
    assert any("accuracy" in h for h in headings)
    if study is augment:  # augmentation's agreement is the bar, not the most there is
        assert any("reads shifted" in t and "not a ceiling" in t for t in said), said
        # one seed is no mean over seeds; the Fréchet distance is read at its n
        assert not any("mean over seeds" in t for t in said), said
        assert any("`n` real validation images" in t for t in said), said


def test_rebalance_04_says_what_its_columns_measure_and_why_kid_may_be_negative(monkeypatch):
    from synthlib import plots, show
    from synthlib.config import Config
    from synthlib.studies import rebalance

    said = []
    monkeypatch.setattr(show, "heading", lambda text, level=2: said.append(f"## {text}"))
    monkeypatch.setattr(show, "table", lambda df, **k: said.append(list(df.columns)))
    monkeypatch.setattr(show, "text", said.append)
    monkeypatch.setattr(plots, "confidence_by_generator", lambda *a, **k: None)
    measured = {"images": 10, "label_agreement": 1.0, "mean_confidence": 0.9,
                "mean_target_probability": 0.9, "rejection_rate": 0.0}
    quality = {**measured, "frechet_distance": 1.0, "kid": -0.5}
    summary = {"n_generated": 10, "n_needed": 10, "n_accepted": 10,
               "training_set_changed_by": "none", "oracle_on_synthetic": measured,
               "oracle_on_real_minority": measured, "filter_on_synthetic": None,
               "quality_measured_on": "generated", "quality_synthetic": quality,
               "quality_as_generated": None, "quality_real_reference": quality,
               "oracle_test_accuracy": 0.99, "oracle_validation_accuracy": 0.99,
               "filter_test_accuracy": None}

    class Run:
        seeds = [0]
        cfg = Config(experiment="e").validate()
        class_label = staticmethod(str)
    rebalance.show_label(Run(), {(0, "dcgan_minority"): {"summary": summary}})
    assert "## The oracle and the filter" not in said  # no filter in this run
    first = next(i for i, x in enumerate(said) if isinstance(x, list)
                 and "mean_target_probability" in x)
    assert "`mean_target_probability`" in said[first - 1]  # said before the table shows it
    kid = next(i for i, x in enumerate(said) if isinstance(x, list) and "kid" in x)
    assert "negative `kid`" in said[kid - 1]
    about = rebalance.ABOUT["04"](Run.cfg)  # where the measures are described
    assert "can come out negative" in about and "squared units" in about


def test_rebalance_04_of_a_run_without_generators_describes_no_synthetic_image(monkeypatch,
                                                                               tmp_path):
    """Classic arms alone train no generator: 04 then trains no oracle (it measures generated
    images alone), says so, and shows none of the tables, measures or histograms of generated
    images a run with a generator shows; the write-up does not hold the run to the oracle."""
    from synthlib import plots, show

    params = write_params(tmp_path, "description: classic arms only\n"
                          "data: {dataset: digits}\nevaluate:\n"
                          "  arms: [imbalanced, random_oversampling, smote, upper_bound]\n"
                          "  tstr: false\n", name="classic.yaml")
    run = Run(params, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    assert run.cfg.generators() == []
    about = run.study.ABOUT["04"]
    assert "No generator was trained" in about and "no **measuring oracle**" in about
    monkeypatch.setattr(rebalance, "_readers", lambda *a: pytest.fail("an oracle for nothing"))
    assert run.study.label(run) == {} and rebalance.label_rows(run) == []
    m = metric_rows({"imbalanced": [0.5, 0.6], "upper_bound": [0.9, 0.91]})
    assert not any("oracle" in c.check for c in rebalance.checks(run, m))
    said, tables = [], []
    monkeypatch.setattr(show, "heading", lambda text, level=2: said.append(text))
    monkeypatch.setattr(show, "text", said.append)
    monkeypatch.setattr(show, "table", lambda df, **k: tables.append(df))
    monkeypatch.setattr(plots, "confidence_by_generator",
                        lambda *a, **k: pytest.fail("a histogram of no generator's images"))
    rebalance.show_label(run, {})  # what label() returns where no generator was trained
    assert tables == []
    page = " ".join(said + [about])
    assert "The oracle" not in said  # the notebook's own section is headed so
    assert "this run trains no generator" in page
    for absent in ("Who touched", "Generator quality", "On each seed's synthetic images",
                   "`kid`", "label_agreement"):
        assert absent not in page, absent


def test_rebalance_01_and_06_of_a_run_without_generators_name_no_gan_or_synthetic_image(
        monkeypatch, tmp_path):
    """01 says what the kept minority images are for without the minority GANs a run of
    classic arms does not train, and 06 shows no comparison of GAN arms and no section on
    synthetic images' quality."""
    from synthlib import plots, show

    params = write_params(tmp_path, "description: classic arms only\n"
                          "data: {dataset: digits}\nevaluate:\n"
                          "  arms: [imbalanced, smote, upper_bound]\n  tstr: false\n",
                          name="classic.yaml")
    run = Run(params, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    said = []
    monkeypatch.setattr(show, "heading", lambda text, level=2: said.append(text))
    monkeypatch.setattr(show, "text", said.append)
    monkeypatch.setattr(show, "table", lambda *a, **k: None)
    monkeypatch.setattr(show, "collapsed", lambda *a, **k: None)
    for name in ("class_counts", "sample_grid", "metric_points"):
        monkeypatch.setattr(plots, name, lambda *a, **k: None)
    monkeypatch.setattr(plots, "forest", lambda *a, **k: pytest.fail("no GAN arm to compare"))
    rebalance.show_prepare(run, rebalance.prepare(run))
    rebalance.show_writeup(run, metric_rows({"imbalanced": [0.5, 0.6], "smote": [0.6, 0.7],
                                             "upper_bound": [0.9, 0.9]}))
    page = " ".join(said)
    assert "what every rebalancing arm starts from" in page
    for absent in ("GAN", "synthetic images?", "real-vs-real"):
        assert absent not in page, absent
