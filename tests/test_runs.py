"""Where a run's artefacts go, that they are written whole or not at all, and what a run
records about its data: synthlib.paths, synthlib.runs and the small helpers of
synthlib.studies.common, on tiny data."""
import dataclasses
import os

import numpy as np
import pandas as pd
import pytest

from conftest import DIGITS_PARAMS, ROOT
from synthlib import data, gan, paths, runs
from synthlib.runs import Run
from synthlib.studies import common

TSTR_PARAMS = os.path.join(ROOT, "tests", "params", "digits_tstr.yaml")


def _run(tmp_path, params=DIGITS_PARAMS):
    return Run(params, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")


def test_written_files_get_the_mode_of_any_new_file(monkeypatch, tmp_path):
    """Reports and caches are shared: not the private mode of a temporary file."""
    monkeypatch.setattr(paths, "_UMASK", 0o027)
    paths.write_text(tmp_path / "report.html", "x")
    assert (tmp_path / "report.html").stat().st_mode & 0o777 == 0o640


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    """An interrupted write must never leave a truncated file under the real name, nor litter
    the folder; a finished one replaces the file whole."""
    target = tmp_path / "sub" / "metrics.csv"
    paths.write_text(target, "old")
    with pytest.raises(KeyboardInterrupt):
        with paths.atomic_path(target) as tmp:
            assert tmp != target and tmp.parent == target.parent
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["metrics.csv"]
    paths.write_text(target, "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["metrics.csv"]


def test_save_npz_interrupted_leaves_no_file(tmp_path, monkeypatch):
    """The arrays of a stage (splits, synthetic images, grids) appear whole or not at all."""
    target = tmp_path / "images.npz"

    def half_written(f, **arrays):
        f.write(b"PK\x03\x04 truncated")
        raise KeyboardInterrupt
    monkeypatch.setattr(np, "savez_compressed", half_written)
    with pytest.raises(KeyboardInterrupt):
        common.save_npz(target, images=np.zeros(3))
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_the_code_digest_follows_what_the_code_does_not_its_comments(tmp_path):
    """Kept generators, classifiers and fits are keyed on code_digest: an edit to a comment,
    a docstring or the layout keeps them; a change to one statement, anywhere, does not."""
    import types

    def digest(*sources):
        modules = []
        for i, source in enumerate(sources):
            (tmp_path / f"m{i}.py").write_text(source)
            modules.append(types.SimpleNamespace(__file__=str(tmp_path / f"m{i}.py")))
        return paths.code_digest(*modules)

    plain = ('"""Module."""\nclass A:\n    """A."""\n    def f(self, x):\n'
             '        """Doubles."""\n        return 2 * x  # why\n')
    reworded = ('"""Other words."""\n# a comment\nclass A:\n    """B."""\n\n'
                '    def f(self, x):\n        """Twice x."""\n        return 2 * (x)\n')
    assert digest(plain) == digest(reworded)
    # a string after the first statement is code, not a docstring
    for changed in (plain.replace("2 * x", "3 * x"), plain.replace("x):", "x, y=0):"),
                    plain.replace("# why", "\n        'dead string'"),
                    # a first statement that is an expression but no string is code too
                    plain.replace('"""Doubles."""', "print(x)")):
        assert digest(changed) != digest(plain)
    printing = plain.replace('"""Doubles."""', "print(x)")
    assert digest(printing) != digest(printing.replace("print(x)", "print(-x)"))
    assert digest(plain, "x = 1\n") != digest(plain, "x = 2\n") != digest(plain)



@pytest.mark.parametrize("module", ["compiled", "progress", "networks"])
def test_every_key_follows_the_training_loop_and_its_callbacks(tmp_path, monkeypatch, module):
    """A kept generator, classifier or fit is trained by compiled.fit with progress's callbacks
    (checkpoints, random states): an edit to either retrains it, as one to a network does."""
    import importlib

    from synthlib import classifiers, evaluation

    x, y = np.zeros((4, 8, 8, 1), "uint8"), np.array([0, 1, 0, 1])
    keys = (common._code_digest,
            lambda: classifiers._fit_key("small_cnn", x, y, 2, 10, 4, 0, {}),
            lambda: (evaluation._code_digest.cache_clear(), evaluation._code_digest())[1])
    before = [key() for key in keys]
    edited = tmp_path / f"{module}.py"
    edited.write_text("# edited\n")
    monkeypatch.setattr(importlib.import_module(f"synthlib.{module}"), "__file__", str(edited))
    try:
        assert all(key() != b for key, b in zip(keys, before))
    finally:
        monkeypatch.undo()
        evaluation._code_digest.cache_clear()


@pytest.mark.parametrize("module, keys", [
    ("classifiers", ("classifier", "fit")), ("metrics", ("fit",)), ("evaluation", ("fit",)),
    ("gan", ("generator",)), ("vae", ("generator",))])
def test_a_kept_model_s_key_follows_the_module_that_makes_it(tmp_path, monkeypatch, module,
                                                            keys):
    """A kept classifier is trained by classifiers, a fit's scores come from evaluation and
    metrics, a generator from gan or vae: an edit to the module retrains what it made."""
    import importlib

    from synthlib import classifiers, evaluation

    x, y = np.zeros((4, 8, 8, 1), "uint8"), np.array([0, 1, 0, 1])
    digests = {"generator": common._code_digest,
               "classifier": lambda: classifiers._fit_key("small_cnn", x, y, 2, 10, 4, 0, {}),
               "fit": lambda: (evaluation._code_digest.cache_clear(),
                               evaluation._code_digest())[1]}
    before = {k: digests[k]() for k in keys}
    (tmp_path / f"{module}.py").write_text("# edited\n")
    monkeypatch.setattr(importlib.import_module(f"synthlib.{module}"), "__file__",
                        str(tmp_path / f"{module}.py"))
    try:
        assert all(digests[k]() != before[k] for k in keys)
    finally:
        monkeypatch.undo()
        evaluation._code_digest.cache_clear()


def test_relative_paths_are_read_from_the_repository_root():
    """Notebooks run from notebooks/: a relative --build-dir must not land there."""
    assert paths.resolve("build/x") == paths.ROOT / "build" / "x"
    assert paths.resolve("/abs/x") == paths.Path("/abs/x")


def test_artefacts_go_under_build_experiment_profile_and_reports_experiment(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setattr(runs, "BUILD_DIR", tmp_path / "build")
    monkeypatch.setattr(runs, "REPORTS_DIR", tmp_path / "reports")
    run = Run(DIGITS_PARAMS, "smoke")
    assert run.dir == tmp_path / "build" / run.experiment / "smoke"
    assert Run(DIGITS_PARAMS, "quick").seeds == [0, 1]  # every seed of the profile
    assert run.reports == tmp_path / "reports" / run.experiment
    # one folder per seed, and under it one per generator: seeds never share a file
    assert run.path("split.npz") == run.dir / "split.npz"
    assert run.path("split.npz", 1) == run.dir / "seed1" / "split.npz"
    assert run.path("g.keras", 0, "dcgan_minority") == run.dir / "seed0" / "dcgan_minority" / \
        "g.keras"
    # numpy's numbers and arrays go to JSON as the Python numbers they are
    run.save_json("counts.json", {"n": np.int64(3), "share": np.float32(0.5),
                                  "per_class": np.array([1, 2])})
    saved = run.load_json("counts.json")
    assert saved == {"n": 3, "share": 0.5, "per_class": [1, 2]} and type(saved["n"]) is int


def test_later_stages_refuse_data_that_changed_since_the_split(tmp_path):
    """The split's indices are only valid for the data they were made for: a later stage stops
    and says to re-run 01; 01 itself (fresh) makes a new split and records the new data."""
    run = _run(tmp_path, TSTR_PARAMS)
    run.save_json("data.json", {"digest": "0123456789ab", "source": "old", "images": 1,
                                "class_counts": {}})
    with pytest.raises(data.DataError, match="data changed since stage 01.*01_imbalance"):
        _run(tmp_path, TSTR_PARAMS).data()
    ds, splits = common.plain_splits(_run(tmp_path, TSTR_PARAMS))  # 01 again: no error
    recorded = run.load_json("data.json")
    assert recorded["digest"] == ds.digest() and recorded["images"] == len(ds.y)
    assert recorded["class_counts"] == {str(k): v for k, v in ds.class_counts().items()}
    assert _run(tmp_path, TSTR_PARAMS).data().digest() == ds.digest()  # now it matches
    described = run.describe()
    assert f"data: {ds.source}" in described and f"{len(ds.y)} images" in described
    assert described.count(f"{len(ds.y)} images") == 1  # not again after a subsample's count
    assert "images per class: " + ", ".join(f"{k}: {v}" for k, v in
                                            ds.class_counts().items()) in described
    # named where the data name their classes, in 01's record as in the class labels
    recorded["class_names"] = {"0": "T-shirt/top", "1": "Trouser"}
    run.save_json("data.json", recorded)
    described = run.describe()
    assert "images per class: 0 (T-shirt/top): " in described and ", 1 (Trouser): " in described
    assert run.class_label(1) == "1 (Trouser)" and run.class_label(2) == "2"


def test_encode_indexes_into_the_sorted_classes():
    """Classes need not be 0..K-1 (digits [0, 1, 7], a folder's labels): targets are
    indices."""
    assert common.encode([7, 0, 1, 7], [0, 1, 7]).tolist() == [2, 0, 1, 2]


def _generator(images, labels=None, model="dcgan"):
    return common.Generator(seed=0, name="g", images=images, labels=labels, model=model)


def test_a_generator_is_trained_only_when_key_and_networks_are_there(tmp_path):
    """Its key covers the labels of a conditional GAN; a GAN without its discriminator (which
    generate.select_from needs) is not "trained already"; a VAE has none to keep."""
    run = _run(tmp_path)
    images = np.zeros((4, 8, 8, 1), np.uint8)
    _, key_a, files, done = common._saved(run, _generator(images, np.array([0, 0, 1, 1])))
    _, key_b, _, _ = common._saved(run, _generator(images, np.array([0, 1, 0, 1])))
    assert not done and key_a != key_b
    paths.write_text(files["generator.key"], key_a)
    assert not common._saved(run, _generator(images, np.array([0, 0, 1, 1])))[3]
    files["discriminator.keras"].write_text("")
    assert common._saved(run, _generator(images, np.array([0, 0, 1, 1])))[3]
    files["discriminator.keras"].unlink()
    _, vae_key, vae_files, _ = common._saved(run, _generator(images, model="vae"))
    paths.write_text(vae_files["generator.key"], vae_key)
    assert common._saved(run, _generator(images, model="vae"))[3]
    # what it learns from and how are in the key; the class its sample grids show is not
    base = _generator(images)
    variants = [base, *(dataclasses.replace(base, **change) for change in (
        {"snapshots": (2,)}, {"diffaugment": True}, {"model": "vae"}, {"images": images + 1}))]
    assert len({common._saved(run, g)[1] for g in variants}) == len(variants)
    assert common._saved(run, dataclasses.replace(base, grid_label=3))[1] == \
        common._saved(run, base)[1]


def test_an_interrupted_generator_training_is_not_taken_for_a_finished_one(tmp_path,
                                                                           monkeypatch):
    """The key is written last: a training killed half-way leaves no key, and the next run
    trains again rather than reusing a half-trained generator."""
    run = _run(tmp_path)
    images = np.zeros((4, 8, 8, 1), np.uint8)
    _, _, files, _ = common._saved(run, _generator(images))
    paths.write_text(files["generator.key"], "other")  # one trained with other settings

    def killed(*a, **kw):
        raise KeyboardInterrupt
    monkeypatch.setattr(gan, "train", killed)
    with pytest.raises(KeyboardInterrupt):
        common.train_generator(run, 0, "g", images)
    _, _, files, done = common._saved(run, _generator(images))
    assert not done and not files["generator.key"].exists()  # nor the older generator's


def test_a_kept_generator_s_key_covers_its_seed_its_own_settings_and_the_code(tmp_path,
                                                                             monkeypatch):
    """Each of these trains another generator: one the key forgot would be drawn from as if
    this run's settings had trained it. Another generator's budget leaves it as it is."""
    run = _run(tmp_path)
    base = _generator(np.zeros((4, 8, 8, 1), np.uint8), np.array([0, 0, 1, 1]))
    key = lambda g=base: common._saved(run, g)[1]  # noqa: E731
    before = key()
    assert key(dataclasses.replace(base, seed=1)) != before
    run.cfg.gan.generator_steps = {"another": 40}
    assert key() == before
    run.cfg.gan.generator_steps = {"g": 40}
    assert key() != before
    run.cfg.gan.generator_steps = {}
    run.cfg.gan.r1_weight = 1.0
    assert key() != before
    run.cfg.gan.r1_weight = _run(tmp_path).cfg.gan.r1_weight
    monkeypatch.setattr(common, "_code_digest", lambda: "edited")
    assert key() != before


def test_a_generator_killed_while_saved_is_not_taken_for_a_finished_one(tmp_path,
                                                                        monkeypatch):
    """The key goes last: killed while the new generator's files are written, the older
    generator's files (or part of the new) must not pass for the one these settings train."""
    import types

    run = _run(tmp_path)
    images = np.zeros((4, 8, 8, 1), np.uint8)
    _, _, files, _ = common._saved(run, _generator(images))
    paths.write_text(files["generator.key"], "other")  # one trained with other settings
    files["discriminator.keras"].write_text("")  # ... whose discriminator is still there
    trained = types.SimpleNamespace(generator=None, discriminator=None)
    monkeypatch.setattr(gan, "train", lambda *a, **kw: (
        trained, pd.DataFrame({"step": [2]}), {2: np.zeros((1, 8, 8, 1))}))

    def killed(*a, **kw):
        raise KeyboardInterrupt
    monkeypatch.setattr(gan, "save_generator", killed)
    with pytest.raises(KeyboardInterrupt):
        common.train_generator(run, 0, "g", images)
    assert not common._saved(run, _generator(images))[3]


def test_label_rows_keep_each_generators_quality_beside_its_real_reference(tmp_path):
    run = _run(tmp_path)
    run.save_json("label_summary.json", {
        "accuracy": [{"seed": 0, "oracle_test_accuracy": 0.9, "oracle_steps": 10}],
        "quality": [{"seed": 0, "generator": "cgan", "images": "synthetic", "n": 30,
                     "frechet_distance": 24.0},
                    {"seed": 0, "generator": "cgan", "images": "real", "n": 30,
                     "frechet_distance": 12.0}]})
    d = pd.DataFrame(common.label_rows(run))
    assert set(d.classifier) == {"oracle"}
    fd = d[d.metric == "frechet_distance"].set_index("arm").value.to_dict()
    assert fd == {"cgan": 24.0, "cgan:real": 12.0}
    assert d[d.arm == "real_test"].set_index("metric").value.to_dict() == {
        "accuracy": 0.9, "optimizer_steps": 10}
    # the n each side was read at, which the Fréchet check names
    assert d[d.metric == "n"].set_index("arm").value.to_dict() == {"cgan": 30, "cgan:real": 30}


def test_metrics_csv_is_written_to_the_build_and_the_reports(tmp_path):
    """06 reads the build copy; the reports copy is the one published beside the HTML."""
    run = _run(tmp_path)
    rows = [{"experiment": "e", "arm": "real", "classifier": "small_cnn", "seed": 0,
             "metric": "accuracy", "value": 0.5}]
    common.write_metrics(run, rows)
    for target in (run.path("metrics.csv"), run.reports / "metrics.csv"):
        assert pd.read_csv(target).to_dict("records") == rows


def test_set_fits_score_on_the_test_split_and_half_budget_only_the_anchor(tmp_path, digits,
                                                                          digits_split):
    run = _run(tmp_path)
    sp = digits_split
    sets = {"real": (digits.x[sp.imbalanced], digits.y[sp.imbalanced]),
            "other": (digits.x[sp.imbalanced][:20], digits.y[sp.imbalanced][:20])}
    fits = common.set_fits(run, 0, sp, digits, sets)
    assert {(f.arm, f.half_budget) for f in fits} == {("real", True), ("other", False)}
    (x_val, _), (x_test, y_test) = fits[0].held_out
    assert np.array_equal(x_val, digits.x[sp.validation])
    assert np.array_equal(x_test, digits.x[sp.test])
    assert np.array_equal(y_test, common.encode(digits.y[sp.test], digits.classes))


@pytest.mark.parametrize("role,on", [("oracle", "train"), ("labeller", "imbalanced")])
def test_the_oracle_learns_its_part_validates_on_validation_and_scores_on_test(
        tmp_path, monkeypatch, role, on):
    """The measuring oracle learns the training split, the tstr labeller the scenario's own
    training set; both follow the validation split while training and report their accuracy
    on the test split, which they never saw."""
    from types import SimpleNamespace

    from synthlib import classifiers

    run = _run(tmp_path)
    run.cfg.imbalance.per_class = 20
    common.plain_splits(run)
    ds, split = run.data(), run.split(0)
    assert len(split.imbalanced) == 200 < len(split.train)
    seen = {}

    def fit_kept(path, name, x, y, n_classes, *a, validation, **kw):
        seen.update(path=path, x=x, validation=validation[0])
        return SimpleNamespace(), None
    monkeypatch.setattr(classifiers, "fit_kept", fit_kept)
    monkeypatch.setattr(classifiers, "predict_proba", lambda model, x: np.eye(10)[
        np.full(len(x), 3)])  # calls every image a 3
    _, _, accuracy = common.train_reader(run, ds, split, 0, role)
    assert seen["path"].name == f"{role}.keras"
    assert np.array_equal(seen["x"], ds.x[getattr(split, on)])
    assert np.array_equal(seen["validation"], ds.x[split.validation])
    assert accuracy == np.mean(ds.y[split.test] == 3) != np.mean(ds.y[split.validation] == 3)


def test_02_shows_one_pair_of_networks_per_kind_of_generator(tmp_path):
    """The networks 02 shows are built as each kind trains them: one pair per kind, the
    conditional GAN's taking the label beside the noise, the VAE's decoder and encoder."""
    run = _run(tmp_path)
    images = np.zeros((4, 28, 28, 1), np.uint8)
    kinds = {"dcgan": _generator(images), "cgan": _generator(images, np.arange(4) % 3),
             "dcgan2": _generator(images), "vae": _generator(images, model="vae")}
    shown = common.networks(run, [dataclasses.replace(g, name=n) for n, g in kinds.items()])
    assert len(shown) == 6 and not any(k.startswith("dcgan2:") for k in shown)
    conditional = [net for net in shown.values() if len(net.inputs) == 2]
    assert len(conditional) == 2  # the conditional GAN's generator and discriminator
    for net in conditional:  # each embeds the labels' three classes
        assert {layer.input_dim for layer in net.layers if hasattr(layer, "input_dim")} == {3}


def test_each_notebook_names_what_this_run_trains(tmp_path):
    """The pages describe every arm a study has; the header under them names this run's."""
    run = _run(tmp_path, DIGITS_PARAMS)
    run.cfg.evaluate.arms, run.cfg.evaluate.classifiers = ["imbalanced", "smote"], ["seed_mlp"]
    run.cfg.evaluate.tstr = False
    assert ("arms: imbalanced, smote; classifiers: seed_mlp; TSTR table off"
            in run.describe())
    bias_run = _run(tmp_path, os.path.join(ROOT, "tests", "params", "digits_bias.yaml"))
    assert "generators: dcgan, vae" in bias_run.describe()
    assert "classifiers" not in bias_run.describe()


def test_a_notebook_opened_at_a_profile_that_has_not_run_says_so_in_one_line(tmp_path):
    """In JupyterLab the parameters cell says quick while the last run was smoke: the first
    file an earlier stage makes names the profile, what did run, and the command."""
    smoke = Run(DIGITS_PARAMS, "smoke", build_dir=tmp_path / "exp" / "smoke",
                reports_dir=tmp_path / "r")
    (smoke.dir / "01_imbalance.ipynb").write_text("{}")
    quick = Run(DIGITS_PARAMS, "quick", build_dir=tmp_path / "exp" / "quick",
                reports_dir=tmp_path / "r")
    with pytest.raises(runs.RunError) as e:
        quick.split(0)
    message = str(e.value)
    assert "\n" not in message
    assert f"{quick.dir / 'seed0' / 'split.npz'}: not made yet" in message
    assert (f"{quick.experiment} at profile quick has not been run (finished here at profile "
            f"smoke: set profile = \"smoke\" in the parameters cell)") in message
    assert f"make report EXP={quick.experiment} PROFILE=quick" in message
    assert not (quick.dir / "seed0").exists()  # nothing made by looking
    with pytest.raises(runs.RunError, match="metrics.csv: not made yet"):  # 06's first read
        quick.made("metrics.csv")
    (quick.dir / "01_imbalance.ipynb").write_text("{}")
    with pytest.raises(runs.RunError, match="has finished 01_imbalance only"):
        quick.load_json("label_summary.json")
    assert isinstance(e.value, data.DataError)  # the pipeline's one-line errors
    # and one line in a notebook too: IPython shows what this hook gives, not a traceback
    assert e.value._render_traceback_() == [f"RunError: {message}"]


def test_a_parameter_error_is_one_line_in_a_notebook_too():
    from synthlib import config

    e = config.ConfigError("gan.steps = -1: must be >= 1")
    assert e._render_traceback_() == ["ConfigError: gan.steps = -1: must be >= 1"]


def test_01_names_the_classes_with_fewer_images_than_per_class_asks(tmp_path):
    """Capped at what the training split holds, as the smoke profile needs: said, not silent."""
    run = _run(tmp_path, TSTR_PARAMS)
    run.cfg.imbalance.per_class = 130
    ds, splits = common.plain_splits(run)
    counts = {int(c): int(np.sum(ds.y[splits[0].train] == c)) for c in ds.classes}
    few = [c for c, n in counts.items() if n < 130]
    assert few  # digits' training split holds fewer than 130 of some classes
    said = common.short_classes(run, ds, splits)
    assert said.split(", ") == [f"class {c}: {counts[c]} (seed 0)" for c in few]
    run.cfg.imbalance.per_class = 10
    assert common.short_classes(run, ds, common.plain_splits(run)[1]) == ""


def test_a_damaged_generator_file_is_named_with_the_way_out(tmp_path):
    """Keras reads a damaged .keras file as "File not found"; the stage says which file, that it
    is damaged, and how to train it again."""
    run = _run(tmp_path)
    path = run.path("generator.keras", 0, "dcgan_minority")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04 not a whole zip")
    with pytest.raises(runs.RunError, match="generator.keras cannot be read .*damaged, or saved "
                                            "by another Keras. Delete .*dcgan_minority and run "
                                            "02_train_gan again"):
        run.load_model("generator.keras", 0, "dcgan_minority")


def test_a_stage_stops_where_an_earlier_one_last_ran_with_other_settings(tmp_path):
    """In JupyterLab a notebook may run again with other settings while those after it do
    not: each stage is held to the settings it and the ones before it read."""
    import types

    run = _run(tmp_path)
    done = []
    module = types.SimpleNamespace(**{w: (lambda w: lambda r: done.append(w) or w)(w)
                                      for w in runs.WORK}, checks=lambda r, m: "checked")
    study = runs._Study(module, run)
    for work in runs.WORK:
        assert getattr(study, work)(run) == work
    assert done == list(runs.WORK) and study.checks(run, None) == "checked"
    # trying other GAN steps in 02 keeps 01's split good, and 02 records them
    run.cfg.gan.steps = 40
    study.train(run)
    # ... but 03 made its images, and 04 labelled them, from the generator before
    with pytest.raises(runs.RunError, match=r"^03_generate last ran with other settings .* "
                                            r"from 03_generate"):
        study.label(run)
    study.generate(run)
    with pytest.raises(runs.RunError, match=r"^04_label last ran with other settings"):
        study.evaluate(run)
    with pytest.raises(runs.RunError, match=r"^04_label last ran"):
        study.checks(run, None)
    # the params file's settings again, in a new session: now 02 is the one out of step
    fresh = _run(tmp_path)
    with pytest.raises(runs.RunError, match=r"^02_train_gan last ran with other settings"):
        runs._Study(module, fresh).generate(fresh)
    # 06's thresholds are read by no stage before it
    run.cfg.validity.frechet_ratio = 3.0
    study.label(run), study.evaluate(run)
    assert study.checks(run, None) == "checked"
    # a classic arm tried in 05 needs no generator: 02-04 stay good
    run.cfg.evaluate.arms = [a for a in run.cfg.evaluate.arms if a != "smote"]
    study.evaluate(run)
    # a stage cut short may have written part of what it makes: it counts as out of step
    def cut_short(r):
        raise KeyboardInterrupt
    stopped = runs._Study(types.SimpleNamespace(generate=cut_short, label=module.label), run)
    with pytest.raises(KeyboardInterrupt):
        stopped.generate(run)
    with pytest.raises(runs.RunError, match=r"^03_generate last ran .* or did not finish"):
        stopped.label(run)


def test_make_starts_again_from_a_stage_a_session_ran_with_other_settings(tmp_path):
    from synthlib import pipeline

    run = _run(tmp_path)
    for work in runs.WORK:
        run.record_stage(work)
    for name in paths.NOTEBOOKS:
        (run.dir / f"{name}.ipynb").write_text("{}")
    pipeline.same_settings("05_evaluate", run.cfg, DIGITS_PARAMS, run.dir)  # in step
    session = _run(tmp_path)
    session.cfg.generate.per_class = 7
    session.record_stage("generate")  # 03 run again in a notebook, with other settings
    with pytest.raises(pipeline.StageFailed, match="03_generate last ran in .* make starts "
                                                   "again from 03_generate"):
        pipeline.same_settings("05_evaluate", run.cfg, DIGITS_PARAMS, run.dir)
    assert not (run.dir / "03_generate.ipynb").exists()  # so make runs it, and all after it
    assert (run.dir / "02_train_gan.ipynb").exists()
    # the params file edited while make runs: said as that, and make starts again from 01
    pipeline.same_settings("01_imbalance", run.cfg, DIGITS_PARAMS, run.dir)
    with pytest.raises(pipeline.StageFailed, match="changed since 01_imbalance ran"):
        pipeline.same_settings("05_evaluate", session.cfg, DIGITS_PARAMS, run.dir)


BIAS_PARAMS = os.path.join(ROOT, "tests", "params", "digits_bias.yaml")


# augment on the bundled digits, each of its arm kinds once
AUGMENT_TEXT = ("study: augment\ndata: {dataset: digits, classes: [3, 5, 8]}\n"
                "imbalance: {per_class: 20}\n"
                "evaluate: {arms: [real, augmentation, dcgan_per_class, cgan_all_classes]}\n")


@pytest.mark.parametrize("params", [DIGITS_PARAMS, TSTR_PARAMS, BIAS_PARAMS, AUGMENT_TEXT],
                         ids=["rebalance", "tstr", "bias", "augment"])
def test_no_stage_reads_a_setting_its_record_leaves_to_a_later_one(tmp_path, monkeypatch,
                                                                   params):
    """The stage record holds each stage to the settings runs.FIRST_READ_BY says it and the
    stages before it read: a setting a stage reads sooner than listed would leave what it made
    unrecorded, and a later change to it would not stop the stages that read its output.
    Every setting each stage of a tiny run reads, spied as it reads it, is one its record
    covers."""
    import importlib

    from synthlib import config

    if params == AUGMENT_TEXT:
        (tmp_path / "augment.yaml").write_text(params)
        params = tmp_path / "augment.yaml"
    run = _run(tmp_path, params)
    if run.cfg.study == "rebalance":  # one GAN arm of each kind, the filter and TSTR too
        run.cfg.evaluate.arms = ["imbalanced", "class_weight", "augmentation",
                                 "dcgan_minority_diffaug", "cgan_all_classes", "upper_bound"]
        run.cfg.label.filter = run.cfg.evaluate.tstr = True
    module = importlib.import_module(f"synthlib.studies.{run.cfg.study}")
    sections = {type(getattr(run.cfg, f.name)): f.name
                for f in dataclasses.fields(run.cfg)
                if isinstance(getattr(run.cfg, f.name), config.Section)}
    reads, stage = {}, [None]
    plain = config.Section.__getattribute__

    def spy(self, name):
        value = plain(self, name)
        if stage[0] and name in type(self).__dataclass_fields__ \
                and not isinstance(value, config.Section):
            section = sections.get(type(self))
            reads.setdefault(f"{section}.{name}" if section else name, set()).add(stage[0])
        return value

    first_read_by = {**runs.FIRST_READ_BY, **runs.STUDY_FIRST_READ_BY.get(run.cfg.study, {})}

    def read_by(key):
        parts = key.split(".")
        return next((first_read_by[".".join(parts[:n])] for n in range(len(parts), 0, -1)
                     if ".".join(parts[:n]) in first_read_by), "prepare")

    monkeypatch.setattr(config.Section, "__getattribute__", spy)
    for work in runs.WORK:
        stage[0] = work
        getattr(module, work)(run)
    stage[0] = None
    # the arms a stage before 05 reads only for the generators they need: "generators" in
    # the record stands for them (runs._generators)
    generators = {"evaluate.arms", "evaluate.tstr"}
    early = sorted(
        f"{key} read in {work}, recorded from {read_by(key)}"
        for key, works in reads.items() for work in works
        if not (key in generators and runs.WORK.index(work) >= runs.WORK.index("train"))
        and (read_by(key) is None or runs.WORK.index(read_by(key)) > runs.WORK.index(work)))
    assert not early, early
    # the spy saw every stage read its settings (else the check above would hold of nothing)
    assert {w for works in reads.values() for w in works} == set(runs.WORK)
    assert any(key.startswith("gan.") and "train" in works for key, works in reads.items())


@pytest.mark.parametrize("study, setting, value, stage", [
    ("rebalance", "imbalance.kept_fraction", 0.5, "prepare"),  # a section no entry names
    ("rebalance", "seeds", [3], "prepare"),  # a setting outside any section
    ("rebalance", "gan.steps", 40, "train"),
    ("rebalance", "evaluate.arms", ["imbalanced", "dcgan_minority"], "train"),  # a generator
    ("rebalance", "generate.per_class", 7, "generate"),
    ("rebalance", "label.oracle_steps", 7, "label"),
    ("rebalance", "quality.samples", 7, "label"),
    ("rebalance", "evaluate.batch_size", 8, "label"),  # a key read before its section
    ("rebalance", "evaluate.chunks", 3, "label"),
    ("rebalance", "evaluate.steps", {"small_cnn": 4, "seed_mlp": 4}, "evaluate"),
    ("rebalance", "augmentation.rotation", 5.0, "evaluate"),  # rebalance's own
    ("tstr", "augmentation.rotation", 5.0, "generate"),
    ("tstr", "tstr.snapshots", [20], "train"),
    ("bias", "quality.samples", 7, "prepare"),  # bias's own
    ("bias", "evaluate.arms", ["dcgan"], "train"),  # its arms are its generators
    ("rebalance", "validity.frechet_ratio", 3.0, None),  # read by 06 alone
])
def test_a_changed_setting_holds_the_first_notebook_that_reads_it_and_those_after(
        tmp_path, study, setting, value, stage):
    """What each stage made stays good until a setting it or a stage before it reads changes:
    a digest that missed the setting would let a later stage read what was made under the
    old one, and one that took it too early would make the notebooks before it run again."""
    cfg = _run(tmp_path, {"rebalance": DIGITS_PARAMS, "tstr": TSTR_PARAMS,
                          "bias": BIAS_PARAMS}[study]).cfg
    before = {work: runs.stage_digest(cfg, work) for work in runs.WORK}
    section, _, name = setting.rpartition(".")
    setattr(getattr(cfg, section) if section else cfg, name, value)
    changed = [work for work in runs.WORK if runs.stage_digest(cfg, work) != before[work]]
    assert changed == ([] if stage is None else list(runs.WORK[runs.WORK.index(stage):]))
