"""Independent fits on single-thread worker processes: the same scores however many run at
once, as many at once as the stage has free cores."""
import os
import time

import pytest

from synthlib import workers  # light: the workers import this module to find napping


def napping(seconds):
    start = time.time()
    time.sleep(seconds)
    print(f"napped {seconds}")
    return os.getpid(), os.environ.get("TF_NUM_INTRAOP_THREADS"), start, time.time()


def overlaps(spans):
    spans = sorted(spans)
    return any(b[0] < a[1] for a, b in zip(spans, spans[1:]))


def test_jobs_run_on_as_many_workers_as_free_cores(monkeypatch):
    monkeypatch.setenv("SYNTHLIB_WORKERS", "2")
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    said = []
    one = workers.run(napping, [(1.0,)] * 3, slots=lambda: 1,
                      announce=lambda i, text: said.append((i, text)))
    assert {pid for pid, *_ in one}.isdisjoint({os.getpid()})  # on workers, not here
    assert {threads for _, threads, *_ in one} == {"1"}  # each on one thread
    assert not overlaps([span for *_, start, end in one for span in [(start, end)]])
    assert sorted(i for i, _ in said) == [0, 1, 2] and all(t == "napped 1.0\n" for _, t in said)
    two = workers.run(napping, [(2.0,)] * 2, slots=lambda: 2, announce=lambda i, text: None)
    assert overlaps([(start, end) for *_, start, end in two])
    # a core freed while the jobs run is taken for the next job
    free = iter([1, 1] + [2] * 100)
    later = workers.run(napping, [(2.0,), (2.0,), (2.0,)], slots=lambda: next(free),
                        announce=lambda i, text: None)
    spans = [(start, end) for *_, start, end in later]
    assert not overlaps(spans[:2]) and overlaps(spans[1:])


def test_scores_do_not_depend_on_how_many_fits_run_at_once(monkeypatch, tmp_path, digits,
                                                          digits_split):
    from synthlib import config, evaluation

    cfg = config.Config(experiment="t")
    cfg.evaluate.arms = ["imbalanced", "class_weight", "random_oversampling"]
    cfg.evaluate.classifiers, cfg.evaluate.steps = ["seed_mlp"], {"seed_mlp": 20}
    cfg.evaluate.chunks = 2
    results = {}
    for n in ("1", "2"):
        monkeypatch.setenv("SYNTHLIB_WORKERS", n)
        monkeypatch.setattr(workers, "free_cores", lambda: int(n))
        rows, confusions, history = evaluation.evaluate_seed("t", cfg, digits, digits_split,
                                                             {}, 0, workdir=tmp_path / n)
        results[n] = rows, history.drop(columns=[c for c in history if "time" in c])
        assert len({r["arm"] for r in rows}) == 3 and len(list((tmp_path / n).glob("*.json")))
    assert results["1"][0] == results["2"][0]
    assert results["1"][1].equals(results["2"][1])


def test_a_bad_worker_count_says_what_it_wants(monkeypatch):
    monkeypatch.setenv("SYNTHLIB_WORKERS", "two")
    with pytest.raises(ValueError, match="SYNTHLIB_WORKERS = 'two': a number"):
        workers.most()


def test_generators_train_alike_on_one_worker_or_two(monkeypatch, tmp_path, capsys):
    import numpy as np

    from conftest import DIGITS_PARAMS
    from synthlib.runs import Run
    from synthlib.studies import common

    trained = {}
    for n in ("1", "2"):
        monkeypatch.setenv("SYNTHLIB_WORKERS", n)
        monkeypatch.setattr(workers, "free_cores", lambda: int(n))
        run = Run(DIGITS_PARAMS, "smoke", build_dir=tmp_path / n / "b",
                  reports_dir=tmp_path / n / "r")
        run.study.prepare(run)
        generators = run.study.generators(run)
        assert len(generators) >= 2
        trained[n] = common.train_all(run, generators)
    assert trained["1"].keys() == trained["2"].keys()
    for k, (history, grids) in trained["1"].items():
        assert history.drop(columns="seconds", errors="ignore").equals(
            trained["2"][k][0].drop(columns="seconds", errors="ignore"))
        assert all(np.array_equal(grids[s], trained["2"][k][1][s]) for s in grids)
    capsys.readouterr()
    again = common.train_all(run, generators)  # trained: read back here, nothing trains
    assert capsys.readouterr().out.count("already trained, reused") == len(generators)
    assert again.keys() == trained["2"].keys()
