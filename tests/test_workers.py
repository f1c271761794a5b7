"""Independent fits on single-thread worker processes: the same scores however many run at
once, as many at once as the stage has free cores."""
import os
import time
from pathlib import Path

import pytest

from synthlib import workers  # light: the workers import this module to find `meet`


def meet(folder, name, others=()):
    """A job that marks its start, then waits (a minute at most) until the jobs named in
    `others` have started too. Returns where it ran, on how many threads, which jobs had ended
    before it started, and whether it met the others."""
    folder = Path(folder)
    ended_before = sorted(p.stem for p in folder.glob("*.end"))
    (folder / f"{name}.start").touch()
    deadline = time.monotonic() + 60
    while not (met := all((folder / f"{o}.start").exists() for o in others)):
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
    (folder / f"{name}.end").touch()
    print(f"{name} ran")
    return os.getpid(), os.environ.get("TF_NUM_INTRAOP_THREADS"), ended_before, met


def test_jobs_run_on_as_many_workers_as_free_cores(monkeypatch, tmp_path):
    """Told by the order of the jobs' marks, never by a clock: with one core each job starts
    after the last has ended; with two, two jobs wait for each other and meet."""
    monkeypatch.setenv("SYNTHLIB_WORKERS", "2")
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    for folder in ("one", "two", "later"):
        (tmp_path / folder).mkdir()
    said = []
    one = workers.run(meet, [(tmp_path / "one", f"job{i}") for i in range(3)],
                      slots=lambda: 1, say=said.append)
    assert {pid for pid, *_ in one}.isdisjoint({os.getpid()})  # on workers, not here
    assert {threads for _, threads, *_ in one} == {"1"}  # each on one thread
    assert [ended for *_, ended, _ in one] == [[], ["job0"], ["job0", "job1"]]
    assert said == [f"[{i + 1}/3] job{i} ran" for i in range(3)]
    two = workers.run(meet, [(tmp_path / "two", "a", ("b",)), (tmp_path / "two", "b", ("a",))],
                      slots=lambda: 2, say=lambda line: None)
    assert [met for *_, met in two] == [True, True]
    # a core freed while the jobs run is taken for the next job
    free = iter([1, 1] + [2] * 100)
    later = workers.run(meet, [(tmp_path / "later", "first"),
                               (tmp_path / "later", "second", ("third",)),
                               (tmp_path / "later", "third", ("second",))],
                        slots=lambda: next(free), say=lambda line: None)
    assert later[1][2] == ["first"] and later[1][3] and later[2][3]


def test_scores_do_not_depend_on_how_many_fits_run_at_once(monkeypatch, tmp_path, digits,
                                                          digits_split):
    from conftest import evaluate_seed
    from synthlib import config

    cfg = config.Config(experiment="t")
    cfg.evaluate.arms = ["imbalanced", "class_weight", "random_oversampling"]
    cfg.evaluate.classifiers, cfg.evaluate.steps = ["seed_mlp"], {"seed_mlp": 20}
    cfg.evaluate.chunks = 2
    results = {}
    for n in ("1", "2"):
        monkeypatch.setenv("SYNTHLIB_WORKERS", n)
        monkeypatch.setattr(workers, "free_cores", lambda: int(n))
        rows, confusions, history = evaluate_seed("t", cfg, digits, digits_split,
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


def test_workers_follow_the_cores_the_setting_and_the_chains(monkeypatch):
    """Unset, one worker per core; a stage's share of the cores never exceeds the workers."""
    from synthlib import chains
    monkeypatch.delenv("SYNTHLIB_WORKERS", raising=False)
    monkeypatch.setattr(chains, "cores", lambda: 3)
    assert workers.most() == 3
    monkeypatch.setattr(chains, "fair_share", lambda n: 8)
    assert workers.free_cores() == 3
    monkeypatch.setenv("SYNTHLIB_WORKERS", "2")
    assert workers.free_cores() == 2
    monkeypatch.setattr(chains, "fair_share", lambda n: 0)
    assert workers.free_cores() == 1


def test_with_no_workers_jobs_run_here_printing_as_they_go(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SYNTHLIB_WORKERS", "0")
    said = []
    out = workers.run(meet, [(tmp_path, f"job{i}") for i in range(3)],
                      say=said.append)
    assert {pid for pid, *_ in out} == {os.getpid()}
    assert capsys.readouterr().out == "".join(f"job{i} ran\n" for i in range(3))
    assert not said


def test_a_lone_job_runs_on_one_thread_as_it_would_beside_others(monkeypatch, tmp_path):
    """A resumed stage may have one training left: it must learn what it would have learnt
    beside the others, on a worker of one thread, not on this process's threads."""
    monkeypatch.setenv("SYNTHLIB_WORKERS", "2")
    said = []
    [(pid, threads, _, _)] = workers.run(meet, [(tmp_path, "alone")], ["[alone]"],
                                         say=said.append)
    assert pid != os.getpid() and threads == os.environ.get("TF_NUM_INTRAOP_THREADS", "1")
    assert said == ["[alone] alone ran"]


def test_on_a_gpu_every_job_runs_here(monkeypatch, tmp_path):
    """One process owns the GPU: single-thread workers would each take its memory for a CPU's
    reason."""
    monkeypatch.setenv("SYNTHLIB_WORKERS", "2")
    monkeypatch.setattr(workers, "_gpu", lambda: True)
    out = workers.run(meet, [(tmp_path, f"job{i}") for i in range(3)],
                      say=lambda line: None)
    assert {pid for pid, *_ in out} == {os.getpid()}


def talk(folder, name, go_on):
    """A job that prints a line, then waits (half a minute at most) for the file `go_on`,
    prints a last line without its newline and returns its name and whether the file came."""
    print(f"{name} started", flush=True)
    deadline = time.monotonic() + 30
    while not (came := (Path(folder) / go_on).exists()) and time.monotonic() < deadline:
        time.sleep(0.01)
    print(f"{name} ends", end="")
    return name, came


def test_a_job_s_lines_arrive_while_it_runs_each_headed_by_its_label(monkeypatch, tmp_path):
    """A long training is never silent: its first line reaches the stage before it ends (the
    job waits for a file that only the line's arrival writes), each line whole, with its
    label, and a last line without a newline is passed on too."""
    monkeypatch.setenv("SYNTHLIB_WORKERS", "2")
    said = []

    def say(line):
        said.append(line)
        if line.endswith("started"):
            (tmp_path / f"{line.split()[0]}.go").touch()

    out = workers.run(talk, [(tmp_path, "a", "[a].go"), (tmp_path, "b", "[b].go")],
                      ["[a]", "[b]"], slots=lambda: 2, say=say)
    assert out == [("a", True), ("b", True)]
    assert sorted(said) == ["[a] a ends", "[a] a started", "[b] b ends", "[b] b started"]
    assert said.index("[a] a started") < said.index("[a] a ends")


def test_a_job_starts_even_when_no_core_is_free(monkeypatch, tmp_path):
    monkeypatch.setenv("SYNTHLIB_WORKERS", "2")
    out = workers.run(meet, [(tmp_path, "a"), (tmp_path, "b")], slots=lambda: 0,
                      say=lambda line: None)
    assert [ended for *_, ended, _ in out] == [[], ["a"]]


def test_device_names_the_gpu_tensorflow_sees_else_the_cpu(monkeypatch):
    import tensorflow as tf

    here = workers.device()
    assert here.startswith("CPU: ") and here.endswith(f", {os.cpu_count()} cores"), here
    gpu = tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: [gpu] if kind == "GPU" else [])
    monkeypatch.setattr(tf.config.experimental, "get_device_details",
                        lambda device: {"device_name": "NVIDIA H200"} if device == gpu else {})
    assert workers.device() == "GPU: NVIDIA H200"
