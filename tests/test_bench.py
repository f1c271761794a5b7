"""`make bench`'s quality curves (synthlib/tools/quality_curve.py): what each generator learns
from, what the measuring oracle reads, and that each point is what it says. The bench chooses
the profiles' GAN budgets, so the test split stays out of it as it does out of model selection."""
import dataclasses

import numpy as np
import pytest

from conftest import DIGITS_PARAMS, record_frechet, rows_of
from synthlib import classifiers, config, gan
from synthlib.tools import quality_curve


@pytest.fixture(scope="module")
def watched():
    """The digits scenario built with every image the oracle learns from or reads recorded."""
    mp = pytest.MonkeyPatch()
    seen = {"fit": [], "read": [], "batches": [], "sample": []}
    fit, read = classifiers.fit, classifiers.predict_proba
    batches, sample = gan.image_batches, gan.sample
    mp.setattr(classifiers, "fit", lambda name, x, y, *a, **k:
               seen["fit"].append((x, y)) or fit(name, x, y, *a, **k))
    mp.setattr(classifiers, "predict_proba", lambda model, images, *a, **k:
               seen["read"].append(np.asarray(images)) or read(model, images, *a, **k))
    mp.setattr(gan, "image_batches", lambda images, *a, **k:
               seen["batches"].append((images, *a)) or batches(images, *a, **k))
    mp.setattr(gan, "sample", lambda *a, **k: seen["sample"].append(k) or sample(*a, **k))
    scenario = quality_curve.Scenario(DIGITS_PARAMS, oracle_steps=20)
    yield scenario, seen
    mp.undo()


@pytest.fixture
def bench_quality_only(watched, monkeypatch):
    """`make bench` on the watched digits scenario with the speed part left out: the list it
    returns records each curve trained, as (kind, GAN settings, steps, every)."""
    from synthlib.tools import bench

    s, _ = watched
    monkeypatch.setattr(quality_curve, "Scenario", lambda keep=None: s)
    monkeypatch.setattr(bench, "speed", lambda args: {"gan": {}})
    trained = []
    curve = quality_curve.curve
    monkeypatch.setattr(quality_curve, "curve", lambda scenario, kind, cfg, steps, every:
                        trained.append((kind, cfg, steps, every))
                        or curve(scenario, kind, cfg, steps, every))
    return trained


def _which(trained):
    return [(kind, cfg.architecture, cfg.precision) for kind, cfg, _, _ in trained]


def test_the_bench_oracle_learns_the_training_split_and_never_reads_the_test_split(watched):
    s, seen = watched
    ds, sp = s.ds, s.split
    ((x, y),) = seen["fit"]
    assert np.array_equal(x, ds.x[sp.train]) and np.array_equal(y, ds.y[sp.train])
    five = sp.minority_class
    assert np.array_equal(s.heldout, ds.x[sp.validation][ds.y[sp.validation] == five])
    # the training minority's features; the held-out ones, read for agreement and in
    # features; then the copies' draws, each read both ways
    pool, *reference = seen["read"][:3]
    copies = seen["read"][3:3 + 2 * quality_curve.DRAWS]
    assert np.array_equal(pool, ds.x[sp.train][ds.y[sp.train] == five])
    assert all(np.array_equal(r, s.heldout) for r in reference)
    kept = rows_of(ds.x[sp.kept_minority])
    assert all(len(c) == len(s.heldout) and rows_of(c) <= kept for c in copies)
    assert not set().union(*map(rows_of, seen["read"])) & rows_of(ds.x[sp.test])
    assert s.reference["frechet_distance"] > 0 and s.copy_ratio > 0


def test_each_generator_learns_what_the_scenario_gives_it(watched):
    s, _ = watched
    ds, sp = s.ds, s.split
    x, labels = s.training_set("dcgan_minority")
    assert labels is None and np.array_equal(x, ds.x[sp.kept_minority])
    x, labels = s.training_set("cgan_all_classes")
    assert np.array_equal(x, ds.x[sp.imbalanced]) and np.array_equal(labels, ds.y[sp.imbalanced])


@pytest.mark.parametrize("kind", ["dcgan_minority", "cgan_all_classes"])
def test_a_curve_measures_minority_images_after_every_chunk(watched, kind, monkeypatch):
    """One row per chunk of `every` steps: the clocks count training and grow; agreement
    and the Fréchet distance are the means over DRAWS draws of n minority images, the ratio
    to the one real-vs-real reference; the conditional GAN is asked for the minority class."""
    s, seen = watched
    distances = record_frechet(monkeypatch)
    seen["batches"].clear(), seen["sample"].clear(), seen["read"].clear()
    cfg = dataclasses.replace(s.cfg.gan, batch_size=8)
    table = quality_curve.curve(s, kind, cfg, steps=4, every=2)
    assert list(table.step) == [2, 4] and set(table.generator) == {kind}
    assert (table.cpu_seconds > 0).all() and table.cpu_seconds.is_monotonic_increasing
    assert (table.wall_seconds > 0).all() and table.wall_seconds.is_monotonic_increasing
    ((images, batch, seed, labels),) = seen["batches"]
    want, want_labels = s.training_set(kind)
    assert np.array_equal(images, want) and batch == 8 and seed == s.seed
    assert (labels is None) if want_labels is None else np.array_equal(labels, want_labels)
    n, draws = len(s.heldout), quality_curve.DRAWS
    assert [k.get("label") for k in seen["sample"]] == \
        [None if kind == "dcgan_minority" else s.minority] * 2
    assert len(distances) == 2 * draws
    np.testing.assert_allclose(table.frechet_distance,
                               [np.mean(distances[:draws]), np.mean(distances[draws:])])
    np.testing.assert_allclose(table.frechet_ratio,
                               table.frechet_distance / s.reference["frechet_distance"])
    # the oracle reads each draw of n once for agreement and once in its features
    read = seen["read"]
    assert [len(r) for r in read] == [n] * (4 * draws)
    proba = [classifiers.predict_proba(s.oracle, r) for r in read[0:2 * draws:2]]
    assert table.label_agreement.iloc[0] == pytest.approx(
        np.mean([np.mean(p.argmax(1) == s.minority) for p in proba]))


def test_time_to_quality_is_the_first_point_where_both_thresholds_hold():
    import pandas as pd
    table = pd.DataFrame({"step": [1, 2, 3, 4], "label_agreement": [0.99, 0.95, 0.96, 0.99],
                          "frechet_ratio": [2.5, 2.0, 1.5, 1.0]})
    hit = quality_curve.time_to_quality(table, config.ValidityConfig(label_agreement=0.95,
                                                                     frechet_ratio=2.0))
    assert hit.step == 2  # on the thresholds counts as reaching them


def test_a_curve_trains_its_steps_and_keeps_measurement_off_the_clocks(watched, monkeypatch):
    """`steps` updates in all, `every` between points; the clocks stop while a point is
    measured (a clock that moves only while measuring leaves every point at zero)."""
    import types
    s, _ = watched
    built = []
    build = gan.build
    monkeypatch.setattr(gan, "build", lambda *a, **k: built.append(build(*a, **k)) or built[-1])
    clock = types.SimpleNamespace(now=0.0)
    monkeypatch.setattr(quality_curve, "time", types.SimpleNamespace(
        perf_counter=lambda: clock.now, process_time=lambda: clock.now))
    measure = s.measure_draws

    def slow_measure(images):
        clock.now += 100.0
        return measure(images)

    monkeypatch.setattr(s, "measure_draws", slow_measure)
    table = quality_curve.curve(s, "dcgan_minority", dataclasses.replace(s.cfg.gan, batch_size=8),
                                steps=6, every=2)
    assert list(table.step) == [2, 4, 6]
    assert int(built[0].g_optimizer.iterations) == 6
    assert int(built[0].d_optimizer.iterations) == 6
    assert (table.wall_seconds == 0).all() and (table.cpu_seconds == 0).all()


def test_bench_writes_time_to_quality_for_each_curve_and_its_figure(watched, bench_quality_only,
                                                                     monkeypatch, tmp_path):
    """`make bench` on the digits scenario, speed left out: each curve of CURVES trained with
    the scenario's own GAN settings but its architecture and precision, the first point at
    the stated quality (or none), the thresholds it was judged by, and the figure."""
    import json
    from synthlib.tools import bench

    s, _ = watched
    trained = bench_quality_only
    # a scenario whose quality bar every point clears, then one none does
    for agreement, ratio, reached in ((0.0, 1e9, True), (1.01, 0.0, False)):
        monkeypatch.setattr(s.cfg, "validity", config.ValidityConfig(
            label_agreement=agreement, frechet_ratio=ratio))
        trained.clear()
        out = tmp_path / f"{reached}" / "bench.json"
        assert bench.main(["--quality-steps", "4", "--every", "2", "--out", str(out),
                           "--kept", ""]) == 0
        result = json.loads(out.read_text())
        assert _which(trained) == bench.CURVES
        assert all(c == dataclasses.replace(s.cfg.gan, architecture=c.architecture,
                                            precision=c.precision) and (steps, every) == (4, 2)
                   for _, c, steps, every in trained)
        names = [", ".join(c) for c in bench.CURVES]
        assert list(result["time_to_quality"]) == names
        if reached:
            assert all(hit["step"] == 2 for hit in result["time_to_quality"].values())
        else:
            assert all(hit is None for hit in result["time_to_quality"].values())
        assert result["quality_thresholds"] == {
            "label_agreement": agreement, "frechet_ratio": ratio, "n": len(s.heldout),
            "real_vs_real_frechet": s.reference["frechet_distance"],
            "copy_of_training_images_ratio": s.copy_ratio}
        assert len(result["quality_curves"]) == 2 * len(bench.CURVES)
        assert result["device"].startswith(("CPU: ", "GPU: ")) and result["peak_rss_mib"] > 0
        assert (out.parent / "bench_quality.png").stat().st_size > 0
    # --quality-steps 0: speed alone
    trained.clear()
    out = tmp_path / "speed" / "bench.json"
    assert bench.main(["--quality-steps", "0", "--out", str(out)]) == 0
    assert not trained and "time_to_quality" not in json.loads(out.read_text())


def test_an_interrupted_bench_measures_again_only_the_curves_it_had_not_finished(
        watched, bench_quality_only, monkeypatch, tmp_path):
    """Finished curves are kept with their key and read back while code, settings, machine,
    data and oracle are the same; one whose key was not written (killed before it finished)
    and any whose settings changed are measured again."""
    import json
    from synthlib.tools import bench

    s, _ = watched
    trained = bench_quality_only
    kept, out = tmp_path / "kept", tmp_path / "bench.json"
    args = ["--quality-steps", "4", "--every", "2", "--out", str(out), "--kept", str(kept)]
    assert bench.main(args) == 0 and _which(trained) == bench.CURVES
    first = json.loads(out.read_text())["quality_curves"]
    trained.clear()
    (kept / "dcgan_minority_seed_dcgan_float32.key").unlink()  # as if killed while measuring
    assert bench.main(args) == 0
    assert _which(trained) == [("dcgan_minority", "seed_dcgan", "float32")]
    again = json.loads(out.read_text())["quality_curves"]
    assert [r for r in again if r["architecture"] != "seed_dcgan"] == \
        [r for r in first if r["architecture"] != "seed_dcgan"]
    trained.clear()
    (kept / "cgan_all_classes_light_dcgan_float32.csv").write_text("")  # damaged from outside
    assert bench.main(args) == 0
    assert _which(trained) == [("cgan_all_classes", "light_dcgan", "float32")]
    trained.clear()
    assert bench.main(args[:3] + ["4"] + args[4:]) == 0  # --every 4
    assert _which(trained) == bench.CURVES
    trained.clear()
    monkeypatch.setattr(s, "heldout", s.heldout[1:])  # another instrument reads them
    assert bench.main(args) == 0 and _which(trained) == bench.CURVES


@pytest.mark.parametrize("kept", ["kept", ""])
def test_an_interrupted_bench_says_in_one_line_what_it_kept(monkeypatch, tmp_path, capsys,
                                                             kept):
    from synthlib.paths import shown
    from synthlib.tools import bench

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(bench, "speed", interrupted)
    folder = str(tmp_path / kept) if kept else ""
    assert bench.main(["--out", str(tmp_path / "bench.json"), "--kept", folder]) == 130
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("bench interrupted: ")
    assert (f"kept in {shown(folder)}: the same command times the speed part again and goes on with "
            "the first curve not finished" if kept else "nothing is kept") in err
    assert not (tmp_path / "bench.json").exists()


def test_the_bench_scenario_keeps_its_oracle(monkeypatch, tmp_path):
    fits = []
    fit = classifiers.fit
    monkeypatch.setattr(classifiers, "fit", lambda *a, **k: fits.append(1) or fit(*a, **k))
    first = quality_curve.Scenario(DIGITS_PARAMS, oracle_steps=20, keep=tmp_path)
    second = quality_curve.Scenario(DIGITS_PARAMS, oracle_steps=20, keep=tmp_path)
    assert len(fits) == 1 and (tmp_path / "oracle.keras").exists()
    for a, b in zip(first.oracle.get_weights(), second.oracle.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert second.copy_ratio == first.copy_ratio


def test_interleaved_rates_take_each_subject_s_fastest_round_and_its_median(monkeypatch):
    import types
    from synthlib.tools import bench

    clock = types.SimpleNamespace(now=0.0)
    monkeypatch.setattr(bench, "time", types.SimpleNamespace(perf_counter=lambda: clock.now))
    durations = {"a": iter([4.0, 2.0, 8.0]), "b": iter([1.0, 1.0, 3.0])}

    def run(name):
        clock.now += next(durations[name])

    rates = bench.interleaved_rates({name: lambda n=name: run(n) for name in "ab"}, steps=2,
                                    rounds=3)
    assert rates == {"a": pytest.approx((1.0, 0.5)), "b": pytest.approx((2.0, 2.0))}


def test_classifier_rates_time_each_precision_and_one_step_a_call():
    from synthlib import classifiers
    from synthlib.tools import bench

    most = classifiers.MOST_PER_CALL
    rates = bench.classifier_rates({"seed_mlp": 4, "small_cnn": 2})
    assert list(rates) == [f"{n}, {p}" for n in ("seed_mlp", "small_cnn")
                           for p in ("float32", "mixed_bfloat16", "float32, one step a call")]
    assert all(r > 0 for r in rates.values()) and classifiers.MOST_PER_CALL == most


def _stand_in_scenario(labels=True):
    """What curve_key reads of a Scenario, without its oracle's training: tiny arrays."""
    import types

    images = np.arange(2 * 4 * 4, dtype="uint8").reshape(2, 4, 4, 1)
    cfg = config.Config(experiment="bench")
    return types.SimpleNamespace(
        cfg=cfg, seed=0, heldout=images[:1],
        oracle=types.SimpleNamespace(get_weights=lambda: [np.ones((2, 2), "float32")]),
        training_set=lambda kind: (images, np.array([0, 1]) if labels else None))


@pytest.mark.parametrize("change", [
    "images", "labels", "oracle", "kind", "gan", "steps", "seed", "device", "draw"])
def test_a_kept_curve_s_key_covers_each_thing_the_curve_depends_on(monkeypatch, change):
    """A kept curve is read back while its key is the same: each of these measures another
    curve, and one the key forgot would be shown as the old one's."""
    import types

    s = _stand_in_scenario()
    key = lambda kind="cgan_all_classes", cfg=s.cfg.gan, steps=4: (  # noqa: E731
        quality_curve.curve_key(s, kind, cfg, steps, 2))
    before = key()
    if change == "images":
        images, labels = s.training_set("")
        s.training_set = lambda kind: (images[::-1], labels)
    elif change == "labels":
        images, labels = s.training_set("")
        s.training_set = lambda kind: (images, labels[::-1])
    elif change == "oracle":
        s.oracle = types.SimpleNamespace(get_weights=lambda: [np.zeros((2, 2), "float32")])
    elif change == "seed":
        s.seed = 1
    elif change == "device":
        monkeypatch.setattr(quality_curve.workers, "device", lambda: "GPU: another")
    elif change == "draw":  # 03's way of drawing (batch statistics), which the bench samples by
        s.cfg.generate.batch_statistics = not s.cfg.generate.batch_statistics
    after = key(**{"kind": {"kind": "dcgan_minority"},
                   "gan": {"cfg": dataclasses.replace(s.cfg.gan, r1_weight=1.0)},
                   "steps": {"steps": 6}}.get(change, {}))
    assert after != before


@pytest.mark.parametrize("module", ["quality", "gan", "classifiers", "networks"])
def test_a_kept_curve_s_key_follows_the_code_that_trains_and_measures_it(monkeypatch,
                                                                         tmp_path, module):
    import importlib

    s = _stand_in_scenario()
    before = quality_curve.curve_key(s, "dcgan_minority", s.cfg.gan, 4, 2)
    (tmp_path / f"{module}.py").write_text("# edited\n")
    monkeypatch.setattr(importlib.import_module(f"synthlib.{module}"), "__file__",
                        str(tmp_path / f"{module}.py"))
    assert quality_curve.curve_key(s, "dcgan_minority", s.cfg.gan, 4, 2) != before


@pytest.mark.parametrize("killed_at", [".csv", ".key"])
@pytest.mark.parametrize("then", [[4, 6], [6, 4]], ids=["old_first", "new_first"])
def test_a_curve_killed_before_its_key_is_not_read_back_for_other_settings(
        monkeypatch, tmp_path, killed_at, then):
    """Measured again under other settings, a kill between writing the curve and its key
    must leave neither the new curve under the old key (were the old key left in place) nor
    the old curve under the new (were the new key written first)."""
    import pandas as pd

    from synthlib import paths

    s = _stand_in_scenario(labels=False)

    def curve(scenario, kind, cfg, steps, every):
        return pd.DataFrame({"step": [steps], "measured_at": ["now"]})
    monkeypatch.setattr(quality_curve, "curve", curve)
    kept = lambda steps: quality_curve.kept_curve(  # noqa: E731
        tmp_path, s, "dcgan_minority", s.cfg.gan, steps, 2)
    kept(4)
    real_atomic, real_write = paths.atomic_path, paths.write_text

    def atomic_killed(target):
        if str(target).endswith(killed_at):
            raise KeyboardInterrupt
        return real_atomic(target)

    def write_killed(target, text):
        if str(target).endswith(killed_at):
            raise KeyboardInterrupt
        real_write(target, text)
    monkeypatch.setattr(quality_curve, "atomic_path", atomic_killed)
    monkeypatch.setattr(quality_curve, "write_text", write_killed)
    with pytest.raises(KeyboardInterrupt):
        kept(6)
    monkeypatch.setattr(quality_curve, "atomic_path", real_atomic)
    monkeypatch.setattr(quality_curve, "write_text", real_write)
    # the curve of the settings asked for, read back or measured again
    assert [int(kept(steps).step.iloc[0]) for steps in then] == then
