"""Classifier training checkpoints and finished fits kept for re-runs."""
import numpy as np
import pytest

from conftest import ctrl_c_after, evaluate_seed, tstr_rows
from synthlib import classifiers, config, evaluation, progress


def test_interrupted_classifier_training_resumes(monkeypatch, tmp_path, digits, capsys):
    x, y = digits.x[:300], (digits.y[:300] == 5).astype(int)
    # small_cnn has dropout: its random state is resumed too
    halfway = classifiers.ProbabilitiesAt(digits.x[300:350], 10, 5)
    whole, whole_history = classifiers.fit("small_cnn", x, y, 2, 15, 64, 0, chunks=3,
                                           callbacks=[halfway])
    kept = tmp_path / "b" / "half_budget.npy"
    with ctrl_c_after(monkeypatch, progress.LogLine, 2):  # past the half-budget step's checkpoint
        classifiers.fit("small_cnn", x, y, 2, 15, 64, 0, chunks=3, backup_dir=tmp_path / "b",
                        callbacks=[classifiers.ProbabilitiesAt(digits.x[300:350], 10, 5, kept)])
    capsys.readouterr()
    resumed = classifiers.ProbabilitiesAt(digits.x[300:350], 10, 5, kept)
    model, history = classifiers.fit("small_cnn", x, y, 2, 15, 64, 0, chunks=3,
                                     backup_dir=tmp_path / "b", callbacks=[resumed])
    out = capsys.readouterr().out
    assert "resuming from the checkpoint after step 10" in out and "step     10/15" not in out
    assert list(history.step) == [5, 10, 15]
    assert int(model.optimizer.iterations) == 15
    assert not (tmp_path / "b").exists()
    # bit for bit the uninterrupted training, and the half-budget scores taken before the kill
    assert all(np.array_equal(a, b) for a, b in zip(whole.get_weights(), model.get_weights()))
    assert history.equals(whole_history)
    assert np.array_equal(resumed.proba, halfway.proba)


def test_steps_taken_several_a_call_train_the_same_weights(monkeypatch, digits):
    """Several steps a call of the traced step (what makes the seed's MLP three times faster)
    takes exactly the budget and trains the weights one step a call would, bit for bit."""
    assert [classifiers.steps_per_call(n) for n in (1, 7, 10, 53, 1000, 1500, 4000)] == \
        [1, 7, 10, 1, 50, 50, 50]
    x, y = digits.x[:300], (digits.y[:300] == 5).astype(int)
    fits = {}
    for most in (1, classifiers.MOST_PER_CALL):
        monkeypatch.setattr(classifiers, "MOST_PER_CALL", most)
        for name in ("seed_mlp", "small_cnn"):  # the CNN's dropout draws random numbers
            fits[name, most] = classifiers.fit(name, x, y, 2, 120, 32, 0, chunks=2)
    for name in ("seed_mlp", "small_cnn"):
        (one, h1), (many, h2) = fits[name, 1], fits[name, classifiers.MOST_PER_CALL]
        assert int(one.optimizer.iterations) == int(many.optimizer.iterations) == 120
        assert all(np.array_equal(a, b) for a, b in zip(one.get_weights(), many.get_weights()))
        assert h1.equals(h2)


def test_held_out_scores_are_recorded_never_used(digits):
    """The test split's curves and the validation scores are read after each chunk; neither
    may change what is trained (no early stopping, no best-chunk restore): the weights equal
    those of a fit with no test split and validation labels scrambled."""
    x, y = digits.x[:300], digits.y[:300]
    held, rng = (digits.x[300:400], digits.y[300:400]), np.random.default_rng(0)
    scored, history = classifiers.fit("small_cnn", x, y, 10, 12, 32, 0, chunks=3,
                                      validation=held, curves_on=held)
    blind, _ = classifiers.fit("small_cnn", x, y, 10, 12, 32, 0, chunks=3,
                               validation=(held[0], rng.permutation(held[1])))
    assert {"test_accuracy", "val_accuracy"} <= set(history.columns) and len(history) == 3
    assert int(scored.optimizer.iterations) == int(blind.optimizer.iterations) == 12
    assert all(np.array_equal(a, b) for a, b in zip(scored.get_weights(), blind.get_weights()))


def test_validation_scores_are_those_of_the_validation_images_given(digits):
    """Keras scores the validation set as given, nothing added to it (no training or
    synthetic image): the last chunk's val_accuracy and val_loss are the trained model's on
    exactly those images. Their labels are the wrong ones (5 against the rest, flipped), so
    that the training images, which the model has learnt, would score otherwise."""
    x, y = digits.x[:300], (digits.y[:300] == 5).astype(int)
    x_val = digits.x[300:400]
    y_val = (digits.y[300:400] != 5).astype(int)
    model, history = classifiers.fit("seed_mlp", x, y, 2, 60, 32, 0, chunks=2,
                                     validation=(x_val, y_val))
    proba = classifiers.predict_proba(model, x_val)
    assert history.val_accuracy.iloc[-1] == pytest.approx(np.mean(proba.argmax(1) == y_val))
    loss = -np.mean(np.log(np.clip(proba[np.arange(len(y_val)), y_val], 1e-7, 1.0)))
    assert history.val_loss.iloc[-1] == pytest.approx(loss, rel=1e-3)
    on_train = classifiers.predict_proba(model, x).argmax(1) == y
    assert abs(on_train.mean() - history.val_accuracy.iloc[-1]) > 0.1  # so that it can fail
    # nor is anything chosen by them: a validation loss that only rises (the labels are the
    # wrong ones) stops nothing early and restores no earlier chunk; the weights are those of
    # a fit without validation, after every step of the budget
    assert history.val_loss.is_monotonic_increasing and len(history) == 2
    blind, _ = classifiers.fit("seed_mlp", x, y, 2, 60, 32, 0, chunks=2)
    assert int(model.optimizer.iterations) == int(blind.optimizer.iterations) == 60
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), blind.get_weights()))


def test_finished_fits_are_reused_only_for_the_same_inputs(monkeypatch, tmp_path, digits,
                                                           digits_split):
    cfg = config.Config(experiment="t")
    cfg.evaluate.arms, cfg.evaluate.classifiers = ["imbalanced", "class_weight"], ["seed_mlp"]
    cfg.evaluate.steps, cfg.evaluate.chunks = {"seed_mlp": 4}, 2
    calls = []
    real_fit = classifiers.fit
    monkeypatch.setattr(evaluation.classifiers, "fit",
                        lambda *a, **k: calls.append(a[0]) or real_fit(*a, **k))
    first = evaluate_seed("t", cfg, digits, digits_split, {}, 0, workdir=tmp_path)
    again = evaluate_seed("t", cfg, digits, digits_split, {}, 0, workdir=tmp_path)
    assert len(calls) == 2 and first[0] == again[0]
    assert np.array_equal(first[1][("imbalanced", "seed_mlp", 0)],
                          again[1][("imbalanced", "seed_mlp", 0)])
    # what chooses which fits run, or another classifier's budget, leaves these as they are
    cfg.evaluate.arms, cfg.evaluate.tstr = ["imbalanced"], False
    cfg.evaluate.steps = {"seed_mlp": 4, "small_cnn": 9}
    evaluate_seed("t", cfg, digits, digits_split, {}, 0, workdir=tmp_path)
    assert len(calls) == 2
    cfg.evaluate.arms = ["imbalanced", "class_weight"]
    cfg.evaluate.steps = {"seed_mlp": 6}  # a different fit: trained again
    evaluate_seed("t", cfg, digits, digits_split, {}, 0, workdir=tmp_path)
    assert len(calls) == 4
    cfg.evaluate.precision = "mixed_bfloat16"  # so is one in another precision
    evaluate_seed("t", cfg, digits, digits_split, {}, 0, workdir=tmp_path)
    assert len(calls) == 6
    # and one by other code (a fix to a network, the training step or a metric)
    monkeypatch.setattr(evaluation, "_code_digest", lambda: "edited")
    evaluate_seed("t", cfg, digits, digits_split, {}, 0, workdir=tmp_path)
    assert len(calls) == 8


def test_an_identical_fit_under_another_tag_is_reused(monkeypatch, tmp_path, digits,
                                                    digits_split):
    """The TSTR table's TRTR trains the TSTR classifier on the scenario's own training set,
    as the `imbalanced` arm does: one fit, not two."""
    cfg = config.Config(experiment="t")
    cfg.evaluate.arms, cfg.evaluate.classifiers = ["imbalanced"], ["small_cnn"]
    cfg.evaluate.steps, cfg.evaluate.chunks = {"small_cnn": 4}, 2
    calls = []
    real_fit = classifiers.fit
    monkeypatch.setattr(evaluation.classifiers, "fit",
                        lambda *a, **k: calls.append(a[0]) or real_fit(*a, **k))
    rows = evaluate_seed("t", cfg, digits, digits_split, {}, 0, workdir=tmp_path)[0]
    synthetic_x = digits.x[digits_split.train][:40]
    synthetic_y = np.full(40, digits_split.minority_class)
    tstr = tstr_rows("t", cfg, digits, digits_split, synthetic_x, synthetic_y, 0,
                                workdir=tmp_path)
    assert len(calls) == 3  # imbalanced, then TSTR and TRSTR; TRTR is imbalanced's fit
    scores = {r["metric"]: r["value"] for r in rows if r["arm"] == "imbalanced"}
    assert scores == {r["metric"]: r["value"] for r in tstr if r["arm"] == "TRTR"}
    assert (tmp_path / "TRTR__small_cnn.json").exists()


def test_bfloat16_classifiers_learn_and_answer_in_float32(digits):
    import keras
    x, y = digits.x[:600], digits.y[:600]
    model, _ = classifiers.fit("small_cnn", x, y, 10, 150, 64, 0, precision="mixed_bfloat16")
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    assert model.get_layer("features").compute_dtype == "bfloat16"
    assert all(w.dtype == "float32" for w in model.weights)
    proba = classifiers.predict_proba(model, digits.x[600:900])
    assert proba.dtype == np.float32 and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert np.mean(proba.argmax(1) == digits.y[600:900]) > 0.7  # it learnt the digits
    again, _ = classifiers.fit("small_cnn", x, y, 10, 150, 64, 0)  # float32 stays float32
    assert again.get_layer("features").compute_dtype == "float32"


def test_a_kept_classifier_is_trained_once_for_the_same_inputs(monkeypatch, tmp_path, digits,
                                                              capsys):
    """The oracle, the filter and the labeller are kept: 04 run again (or after a kill) loads
    them, the same model; other data or settings train anew; a killed training resumes."""
    x, y, val = digits.x[:300], digits.y[:300], (digits.x[300:360], digits.y[300:360])
    path = tmp_path / "seed0" / "oracle.keras"
    calls, real_fit = [], classifiers.fit
    monkeypatch.setattr(classifiers, "fit", lambda *a, **k: calls.append(a[0]) or real_fit(
        *a, **k))
    kept = lambda steps=6, images=x: classifiers.fit_kept(  # noqa: E731
        path, "small_cnn", images, y, 10, steps, 32, 0, chunks=3, validation=val)
    with ctrl_c_after(monkeypatch, progress.LogLine, 1):
        kept()
    model, history = kept()  # resumed after its second chunk
    assert len(calls) == 2 and list(history.step) == [2, 4, 6]
    assert not list(path.parent.glob("*backup*"))  # the checkpoint goes once it is done
    capsys.readouterr()
    again, again_history = kept()
    assert len(calls) == 2 and "trained already" in capsys.readouterr().out
    assert again_history.equals(history) and int(again.optimizer.iterations) == 6
    probe = digits.x[400:450]
    assert np.array_equal(classifiers.predict_proba(again, probe),
                          classifiers.predict_proba(model, probe))
    whole, _ = real_fit("small_cnn", x, y, 10, 6, 32, 0, chunks=3, validation=val)
    assert np.array_equal(classifiers.predict_proba(whole, probe),
                          classifiers.predict_proba(model, probe))  # as if never killed
    kept(steps=9)
    kept(steps=9, images=x[::-1])
    assert len(calls) == 4


def test_a_kept_classifier_whose_files_were_damaged_trains_again(monkeypatch, tmp_path, digits,
                                                                 capsys):
    """A history cut short would give 04 another oracle accuracy without a word, a model cut
    short a stack trace from Keras: either is trained again, and the log says why."""
    x, y = digits.x[:200], digits.y[:200]
    path = tmp_path / "oracle.keras"
    calls, real_fit = [], classifiers.fit
    monkeypatch.setattr(classifiers, "fit", lambda *a, **k: calls.append(a[0]) or real_fit(
        *a, **k))
    kept = lambda: classifiers.fit_kept(path, "seed_mlp", x, y, 10, 6, 32, 0,  # noqa: E731
                                        chunks=3)
    _, history = kept()
    history_file = path.with_suffix(".csv")
    history_file.write_text("\n".join(history_file.read_text().splitlines()[:-1]))  # cut short
    capsys.readouterr()
    _, again = kept()
    assert len(calls) == 2 and "damaged (cut short)" in capsys.readouterr().out
    assert again.step.iloc[-1] == 6
    path.write_bytes(path.read_bytes()[:100])
    kept()
    assert len(calls) == 3 and "damaged" in capsys.readouterr().out
    history_file.write_text("other,columns\n1,2\n")  # not a history at all
    kept()
    assert len(calls) == 4 and "damaged" in capsys.readouterr().out
    # a budget fit rounds up to whole chunks is whole, not cut short: kept, not trained again
    odd = lambda: classifiers.fit_kept(tmp_path / "odd.keras", "seed_mlp", x, y, 10, 7, 32, 0,  # noqa: E731
                                       chunks=2)
    odd()
    odd()
    assert len(calls) == 5


def test_batches_carry_class_weights_per_image_and_reshuffle_every_pass():
    x = np.arange(10, dtype="uint8").reshape(10, 1, 1, 1)
    y = np.array([0] * 7 + [1] * 3)
    stream = iter(classifiers.batches(x, y, 10, seed=0, class_weight={0: 0.5, 1: 2.0}))
    first, second = (next(stream) for _ in range(2))
    for images, labels, weights in (first, second):
        order = np.rint(np.asarray(images).ravel() * 255).astype(int)
        assert sorted(order) == list(range(10))  # every image once a pass
        assert np.array_equal(np.asarray(labels), y[order])
        assert np.array_equal(np.asarray(weights), np.where(y[order] == 1, 2.0, 0.5))
    orders = [np.asarray(b[0]).ravel().tolist() for b in (first, second)]
    assert orders[0] != sorted(orders[0]) and orders[0] != orders[1]


def test_held_out_loss_is_the_cross_entropy_of_the_true_class():
    class Fixed:
        output_shape = (None, 2)

        def __call__(self, x, training=False):
            return np.tile([[0.8, 0.2]], (len(x), 1))

    scores = classifiers.HeldOutScores(np.zeros((2, 1, 1, 1), "uint8"), [0, 1], "test_")
    scores.set_model(Fixed())
    logs = {}
    scores.on_epoch_end(0, logs)
    assert logs["test_loss"] == pytest.approx(-(np.log(0.8) + np.log(0.2)) / 2)
    assert logs["test_accuracy"] == 0.5


def test_a_kept_classifier_s_key_covers_validation_settings_and_batch():
    x, y = np.zeros((4, 2, 2, 1), "uint8"), np.array([0, 1, 0, 1])
    val = (np.ones((2, 2, 2, 1), "uint8"), np.array([0, 1]))
    key = lambda batch=32, **kw: classifiers._fit_key(  # noqa: E731
        "small_cnn", x, y, 2, 10, batch, 0, {"validation": val, "log_label": "oracle", **kw})
    assert key() == key(log_label="another log label")
    assert key() != key(batch=64)
    assert key() != key(validation=(val[0], val[1][::-1]))
    assert key() != key(class_weight={0: 1.0, 1: 3.0})
    assert key() != key(precision="mixed_bfloat16")
    with pytest.raises(ValueError, match="its own to set"):
        classifiers.fit_kept("m.keras", "small_cnn", x, y, 2, 10, 32, 0, callbacks=[object()])


def test_a_kept_classifier_s_key_covers_its_data_network_budget_and_seed():
    """Each input of fit changes the model it trains: a key that forgot one would load a
    classifier trained for the old value of it."""
    x, y = np.zeros((4, 2, 2, 1), "uint8"), np.array([0, 1, 0, 1])
    args = dict(name="small_cnn", x=x, y=y, n_classes=2, steps=10, batch_size=32, seed=0)

    def key(kw=None, **change):
        return classifiers._fit_key(**{**args, **change}, kw=kw or {"chunks": 2})
    others = [key(x=x + 1), key(y=1 - y), key(name="seed_mlp"), key(n_classes=3),
              key(steps=12), key(seed=1), key(kw={"chunks": 5})]
    assert len({key(), *others}) == len(others) + 1


@pytest.mark.parametrize("killed_at", [".keras", ".csv", ".key"])
@pytest.mark.parametrize("then", ["old", "new"])
def test_a_kept_classifier_killed_before_its_new_key_is_not_taken_for_the_old(monkeypatch,
                                                                             tmp_path,
                                                                             killed_at, then):
    """Trained again for other data, a kill while its files are written must leave neither
    the new model under the old key (were the old key left in place) nor the old model under
    the new (were the new key written before the model): asked for either data next, it
    gives that data's model."""
    import pandas as pd

    from synthlib import paths

    def quick_fit(name, x, y, n_classes, steps, *a, **kw):
        # a whole history, so that only the key can tell the two models apart, and which
        # data the model learnt from
        return (classifiers.build("seed_mlp", x.shape[1:], n_classes),
                pd.DataFrame({"step": [steps], "images": [len(x)]}))
    monkeypatch.setattr(classifiers, "fit", quick_fit)
    x, y = np.zeros((4, 28, 28, 1), "uint8"), np.array([0, 1, 0, 1])
    path = tmp_path / "oracle.keras"

    def kept(images):
        return classifiers.fit_kept(path, "seed_mlp", images, y[:len(images)], 2, 10, 32, 0)
    kept(x)
    real_write, real_atomic = paths.write_text, paths.atomic_path

    def write_killed(p, text):
        if str(p).endswith(killed_at):
            raise KeyboardInterrupt
        real_write(p, text)

    def atomic_killed(p):
        if str(p).endswith(killed_at):
            raise KeyboardInterrupt
        return real_atomic(p)
    monkeypatch.setattr(classifiers, "write_text", write_killed)
    monkeypatch.setattr(classifiers, "atomic_path", atomic_killed)
    with pytest.raises(KeyboardInterrupt):
        kept(x[:2])
    monkeypatch.setattr(classifiers, "write_text", real_write)
    monkeypatch.setattr(classifiers, "atomic_path", real_atomic)
    images = x if then == "old" else x[:2]
    assert kept(images)[1]["images"].iloc[0] == len(images)
