"""evaluation.py on scikit-learn's digits: what each arm trains on, what a fit records, and
when a finished fit may stand for another."""
import numpy as np
import pytest

from synthlib import classifiers, config, evaluation


def small_eval(steps=8, **kw):
    return config.EvaluateConfig(classifiers=["seed_mlp"], steps={"seed_mlp": steps}, chunks=2,
                                 batch_size=16, **kw)


def a_fit(digits, digits_split, arm="imbalanced", **kw):
    cfg = config.Config(experiment="t")
    x, y, class_weight = evaluation.training_set(arm, digits, digits_split, {}, cfg, 0)
    held_out = (evaluation.validation_set(digits, digits_split),
                evaluation.test_set(digits, digits_split))
    return evaluation.Fit(arm, "seed_mlp", 0, (x, y), held_out, 2, kw.pop("eval_cfg",
                                                                         small_eval()),
                          evaluation.binary_score, class_weight=class_weight, **kw)


def test_held_out_sets_are_the_validation_and_test_splits(digits, digits_split):
    for part, (x, y) in ((digits_split.validation, evaluation.validation_set(digits,
                                                                             digits_split)),
                         (digits_split.test, evaluation.test_set(digits, digits_split))):
        assert np.array_equal(x, digits.x[part])
        assert np.array_equal(y, (digits.y[part] == digits_split.minority_class).astype(int))


def test_the_upper_bound_has_every_minority_image_of_the_training_split(digits, digits_split):
    cfg = config.Config(experiment="t")
    x, y, _ = evaluation.training_set("upper_bound", digits, digits_split, {}, cfg, 0)
    kept = evaluation.training_set("imbalanced", digits, digits_split, {}, cfg, 0)[1]
    assert len(y) == len(digits_split.train)
    assert y.sum() == np.sum(digits.y[digits_split.train] == digits_split.minority_class)
    assert y.sum() > kept.sum()


@pytest.mark.parametrize("arm", ["random_oversampling", "smote", "augmentation"])
def test_resampling_follows_the_seed(digits, digits_split, arm):
    cfg = config.Config(experiment="t")
    sets = [evaluation.training_set(arm, digits, digits_split, {}, cfg, s)[0] for s in (0, 0, 1)]
    assert np.array_equal(sets[0], sets[1]) and not np.array_equal(sets[0], sets[2])


def test_a_fit_records_its_images_and_a_confusion_over_its_classes(digits, digits_split):
    fit = a_fit(digits, digits_split)
    result = evaluation.fit_and_score(fit)
    assert result["scores"]["training_images"] == len(fit.train[1])
    assert result["scores"]["optimizer_steps"] == 8
    assert result["confusion"].sum() == len(digits_split.test)
    three = evaluation.Fit("real", "seed_mlp", 0, (digits.x[:300], digits.y[:300] % 3),
                           ((digits.x[300:340], digits.y[300:340] % 3),
                            (digits.x[340:400], digits.y[340:400] % 3)), 3, small_eval(),
                           evaluation.multiclass_score([0, 1, 2]))
    assert evaluation.fit_and_score(three)["confusion"].shape == (3, 3)


def test_half_budget_scores_are_those_of_half_the_steps(digits, digits_split):
    whole = evaluation.fit_and_score(a_fit(digits, digits_split, half_budget=True))
    half = evaluation.fit_and_score(a_fit(digits, digits_split, eval_cfg=small_eval(4)))
    assert whole["half_budget"] == pytest.approx(
        {k: half["scores"][k] for k in whole["half_budget"]}, abs=1e-6)
    assert whole["half_budget"]["pr_auc"] != whole["scores"]["pr_auc"]


def test_a_fit_trains_with_its_class_weight_precision_and_records_test_curves(
        monkeypatch, digits, digits_split):
    seen = []
    real_fit = classifiers.fit
    monkeypatch.setattr(evaluation.classifiers, "fit",
                        lambda *a, **k: seen.append(k) or real_fit(*a, **k))
    fit = a_fit(digits, digits_split, "class_weight", curves=True,
                eval_cfg=small_eval(precision="mixed_bfloat16"))
    result = evaluation.fit_and_score(fit)
    assert seen[0]["class_weight"] == fit.class_weight and fit.class_weight[1] > 1
    assert seen[0]["precision"] == "mixed_bfloat16"
    assert {"test_loss", "test_accuracy"} <= set(result["history"].columns)


def test_scores_read_the_minority_probability():
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.45, 0.55]])
    assert evaluation.binary_score(y, proba)["pr_auc"] == 1.0
    # labels index into the classes as given, not as sorted
    scores = evaluation.multiclass_score([7, 3])(np.array([0, 0, 1]),
                                                 np.array([[1, 0], [1, 0], [1, 0]]))
    assert scores["recall_7"] == 1.0 and scores["recall_3"] == 0.0


def test_a_fit_s_key_covers_labels_half_budget_and_code(monkeypatch, tmp_path, digits,
                                                        digits_split):
    fit = a_fit(digits, digits_split)
    x, y = fit.train
    assert a_fit(digits, digits_split, half_budget=True).key != fit.key
    flipped = evaluation.Fit(fit.arm, fit.classifier, 0, (x, 1 - y), fit.held_out, 2,
                             fit.eval_cfg, fit.score)
    assert flipped.key != fit.key
    # a network edited: every key changes
    edited = tmp_path / "networks.py"
    edited.write_text("# edited\n")
    evaluation._code_digest.cache_clear()
    before = evaluation._code_digest()
    monkeypatch.setattr(evaluation.classifiers.networks, "__file__", str(edited))
    evaluation._code_digest.cache_clear()
    try:
        assert evaluation._code_digest() != before
    finally:
        monkeypatch.undo()
        evaluation._code_digest.cache_clear()


def test_tstr_labels_are_the_generator_s_classes_made_binary(digits, digits_split):
    cfg = config.Config(experiment="t")
    synthetic_x = digits.x[digits_split.train][:40]
    synthetic_y = digits.y[digits_split.train][:40]
    fits = {f.arm: f for f in evaluation.tstr_fits(cfg, digits, digits_split, synthetic_x,
                                                   synthetic_y, 0)}
    expected = (synthetic_y == digits_split.minority_class).astype(int)
    assert 0 < expected.sum() < 40
    assert np.array_equal(fits["TSTR"].train[1], expected)
    assert np.array_equal(fits["TRSTR"].train[1][-40:], expected)


def test_identical_fits_in_one_run_train_once_and_each_keeps_its_file(monkeypatch, tmp_path,
                                                                     digits, digits_split):
    calls = []
    real_fit = classifiers.fit
    monkeypatch.setattr(evaluation.classifiers, "fit",
                        lambda *a, **k: calls.append(a[0]) or real_fit(*a, **k))
    one = a_fit(digits, digits_split, workdir=tmp_path)
    other = a_fit(digits, digits_split, workdir=tmp_path)
    other.arm = "TRTR"
    results = evaluation.run_fits([one, other])
    assert len(calls) == 1 and results[0]["scores"] == results[1]["scores"]
    assert (tmp_path / "imbalanced__seed_mlp.json").exists()
    assert (tmp_path / "TRTR__seed_mlp.json").exists()


def test_a_damaged_fit_record_is_dropped_and_its_fit_runs_again(monkeypatch, tmp_path, digits,
                                                                capsys, digits_split):
    calls = []
    real_fit = classifiers.fit
    monkeypatch.setattr(evaluation.classifiers, "fit",
                        lambda *a, **k: calls.append(a[0]) or real_fit(*a, **k))
    first = evaluation.run_fits([a_fit(digits, digits_split, workdir=tmp_path)])
    record = tmp_path / "imbalanced__seed_mlp.json"
    record.write_text(record.read_text()[:len(record.read_text()) // 2])
    capsys.readouterr()
    again = evaluation.run_fits([a_fit(digits, digits_split, workdir=tmp_path)])
    assert len(calls) == 2 and "imbalanced__seed_mlp.json is damaged" in capsys.readouterr().out
    assert again[0]["scores"] == first[0]["scores"]


def test_each_fit_trains_with_its_own_seed(monkeypatch, digits, digits_split):
    seen = []

    def fit(name, x, y, n_classes, steps, batch_size, seed, **kw):
        seen.append(seed)
        raise RuntimeError("seen")
    monkeypatch.setattr(classifiers, "fit", fit)
    cfg = config.Config(experiment="e").validate()
    cfg.evaluate.arms, cfg.evaluate.classifiers = ["imbalanced"], ["seed_mlp"]
    for seed in (3, 4):
        (one,) = evaluation.seed_fits(cfg, digits, digits_split, {}, seed)
        with pytest.raises(RuntimeError, match="seen"):
            evaluation.fit_and_score(one)
    assert seen == [3, 4]


def test_a_fit_s_key_covers_what_it_trains_on_and_how_and_not_which_fits_run(digits,
                                                                            digits_split):
    """A finished fit is read back while its key is the same: each of these trains or scores
    another model, and one the key forgot would put the old fit's scores in the table (new
    synthetic images, say, with the labels they had before). What only chooses which fits
    run, or another classifier's budget, leaves it as it is."""
    import dataclasses

    both = small_eval(steps=8)
    both.steps = {"seed_mlp": 8, "small_cnn": 8}
    fit = a_fit(digits, digits_split, eval_cfg=both)
    (x, y), (validation, (x_test, y_test)) = fit.train, fit.held_out

    def key(**change):
        return dataclasses.replace(fit, **change).key

    def evaluate(**change):
        return dataclasses.replace(both, **change)
    others = [key(train=(255 - x, y)), key(held_out=(validation, (255 - x_test, y_test))),
              key(classifier="small_cnn"), key(seed=1), key(class_weight={0: 1.0, 1: 4.0}),
              key(half_budget=True), key(curves=True),
              *(key(eval_cfg=evaluate(**{k: v})) for k, v in (
                  ("chunks", 4), ("batch_size", 32), ("precision", "mixed_bfloat16"),
                  ("steps", {"seed_mlp": 10, "small_cnn": 8})))]
    assert len({fit.key, *others}) == len(others) + 1
    assert {fit.key} == {key(arm="TRTR"), *(key(eval_cfg=evaluate(**{k: v})) for k, v in (
        ("arms", ["smote"]), ("classifiers", ["small_cnn"]), ("tstr", not both.tstr),
        ("tstr_classifier", "seed_mlp"), ("steps", {"seed_mlp": 8, "small_cnn": 99})))}
