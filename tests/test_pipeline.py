"""pipeline.py, the driver make calls: a stage's outputs, its console lines, its HTML (pages.py),
the runs beside it (chains.py), and the errors it stops on."""
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from conftest import (DIGITS_PARAMS, free_elsewhere, held_elsewhere, make_image_folder,
                      write_params)
from synthlib import chains, pages, pipeline
from synthlib.tools import browser_check
from synthlib.imbalance import ImbalanceError

NOISE_LINE = "I0000 00:00:1795995762.262333    1589 port.cc:153] oneDNN custom operations.\n"


def test_console_lines_carry_the_stage_s_prefix_without_noise_or_blanks(capsys):
    import sys

    echo = pipeline.Echo("five_minority 02 | ", sys.stdout)
    echo.write(f"step 100\n\n   \n{NOISE_LINE}step 200\n")
    assert capsys.readouterr().out == "five_minority 02 | step 100\nfive_minority 02 | step 200\n"


def test_an_executed_notebook_keeps_every_output_but_tensorflow_s_noise():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print()")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=NOISE_LINE),
                    nbformat.v4.new_output("stream", name="stderr", text=NOISE_LINE + "real\n"),
                    nbformat.v4.new_output("stream", name="stdout", text=NOISE_LINE)]
    nb.cells = [cell, nbformat.v4.new_markdown_cell("text")]
    outputs = pages.clean(nb).cells[0].outputs
    assert [(o.name, o.text) for o in outputs] == [("stderr", "real\n"),
                                                  ("stdout", NOISE_LINE)]


def test_the_html_hides_code_and_needs_no_network(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("secret_call_into_synthlib()")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="visible result\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# A title"), cell]
    nbformat.write(nb, tmp_path / "n.ipynb")
    pages.to_html(tmp_path / "n.ipynb", tmp_path / "n.html")
    html = (tmp_path / "n.html").read_text()
    assert "visible result" in html and "A title" in html
    assert "secret_call_into_synthlib" not in html
    assert not re.search(r"<script[^>]+src=\"https?://", html)  # no CDN scripts
    assert "<title>n</title>" in html  # not nbconvert's "Notebook" on every page
    nb.metadata["papermill"] = {"parameters": {"params_file": "params/five_minority.yaml",
                                               "profile": "quick"}}
    nbformat.write(nb, tmp_path / "02_train_gan.ipynb")
    pages.to_html(tmp_path / "02_train_gan.ipynb", tmp_path / "02_train_gan.html")
    assert ("<title>five_minority · 02_train_gan (quick)</title>"
            in (tmp_path / "02_train_gan.html").read_text())


@pytest.mark.skipif(not os.access(browser_check.CHROMIUM, os.X_OK),
                    reason="needs Debian's chromium")
def test_a_long_log_scrolls_in_its_own_box_on_screen_and_prints_whole(tmp_path):
    # the kernel sends each flush as an output of its own: each fit's lines, as 05 prints them
    fits = [f"[{i}/100] seed 0  imbalanced  small_cnn\n  step 1000/2000\n  step 2000/2000\n"
            for i in range(1, 101)]
    nb = nbformat.v4.new_notebook()
    cells = [nbformat.v4.new_code_cell("") for _ in range(2)]
    cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in fits]
    cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="short\n")]
    nb.cells = cells
    nbformat.write(nb, tmp_path / "n.ipynb")
    page = tmp_path / "n.html"
    pages.to_html(tmp_path / "n.ipynb", page)
    probe, _, err = browser_check.probe_page(browser_check.CHROMIUM, page, tmp_path)
    assert probe, err
    assert "[100/100]" in probe["text"] and "short" in probe["text"]  # all of it is there
    assert probe["height"] < 1000  # 300 lines of about 17 px would be over 5,000
    assert not probe["overflowing"]  # the box scrolls down, not sideways
    pdf = tmp_path / "n.pdf"
    browser_check.run_chromium(browser_check.CHROMIUM, [f"--print-to-pdf={pdf}",
                               "--no-pdf-header-footer", page.as_uri()], tmp_path)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes())) >= 4  # on paper, whole
    # a long line wraps between words, not anywhere as JupyterLab's style has it
    assert f"{pages.TEXT_OUTPUT} {{ word-break: normal;" in page.read_text()


def test_a_stage_runs_its_notebook_with_its_directories_and_records_its_time(tmp_path):
    build, reports = tmp_path / "b", tmp_path / "r"
    build.mkdir()
    (build / "01_imbalance.failed.ipynb").write_text("{}")  # from an earlier, failed try
    pipeline.run_stage("01_imbalance", DIGITS_PARAMS, "smoke", build, reports)
    nb = nbformat.read(build / "01_imbalance.ipynb", as_version=4)
    injected = next(c.source for c in nb.cells if "injected-parameters" in c.metadata.get(
        "tags", []))
    assert f"build_dir = {str(build)!r}" in injected.replace('"', "'")
    assert f"reports_dir = {str(reports)!r}" in injected.replace('"', "'")
    assert (reports / "01_imbalance.html").exists()
    assert not (build / "01_imbalance.failed.ipynb").exists()
    times = json.loads((build / "stage_times.json").read_text())
    assert times["01_imbalance"]["seconds"] > 0 and times["01_imbalance"]["threads"] >= 1


def test_a_stage_keeps_its_notebook_cleaned_and_the_times_of_every_stage(tmp_path,
                                                                        monkeypatch):
    import papermill

    def executed(src, dst, **kw):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("train()")]
        nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stderr", text=NOISE_LINE)]
        nbformat.write(nb, dst)
    monkeypatch.setattr(papermill, "execute_notebook", executed)
    for stage in ("02_train_gan", "03_generate"):
        pipeline.run_stage(stage, DIGITS_PARAMS, "smoke", tmp_path / "b", tmp_path / "r")
    assert set(json.loads((tmp_path / "b" / "stage_times.json").read_text())) == \
        {"02_train_gan", "03_generate"}
    kept = nbformat.read(tmp_path / "b" / "03_generate.ipynb", as_version=4)
    assert kept.cells[0].outputs == []


def test_the_first_stage_checks_the_data_before_running_anything(tmp_path):
    p = write_params(tmp_path, "data: {dataset: digits}\nimbalance: {minority_class: 12}\n")
    with pytest.raises(ImbalanceError, match="minority_class = 12"):
        pipeline.run_stage("01_imbalance", p, "smoke", tmp_path / "b", tmp_path / "r")
    assert not (tmp_path / "b").exists()


def test_missing_data_stops_the_command_with_one_line(tmp_path, capsys):
    p = write_params(tmp_path, f"data: {{dataset: npz, path: {tmp_path}/gone.npz}}\n")
    assert pipeline.main(["check", "--params", str(p), "--profile", "smoke"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: exp.yaml: ") and "gone.npz" in err and "Traceback" not in err


def test_check_numbers_a_folder_s_classes_as_the_params_file_names_them(tmp_path, capsys):
    """Sub-folders in name order: apple 0, kiwi 1, plum 2; minority_class takes the number."""
    make_image_folder(tmp_path / "fruit", per_class=40, sizes=((32, 32),))
    p = write_params(tmp_path, f"data: {{dataset: folder, path: {tmp_path}/fruit, classes: "
                               f"[0, 2]}}\nimbalance: {{minority_class: 2, kept_fraction: 0.5}}"
                               f"\n")
    assert pipeline.main(["check", "--params", str(p), "--profile", "smoke"]) == 0, \
        capsys.readouterr().err
    assert "classes: 0 apple, 2 plum\n" in capsys.readouterr().out
    p = write_params(tmp_path, f"data: {{dataset: folder, path: {tmp_path}/fruit}}\n"
                               f"imbalance: {{minority_class: 3}}\n")
    assert pipeline.main(["check", "--params", str(p), "--profile", "smoke"]) == 2
    assert "(classes: 0 apple, 1 kiwi, 2 plum)" in capsys.readouterr().err


@pytest.mark.parametrize("size,shown", [((30, 30), "30x30"), ((28, 32), "32x28"),
                                        ((8, 8), "8x8")])
def test_images_the_gans_cannot_draw_stop_the_check_with_one_line(tmp_path, capsys, size,
                                                                  shown):
    """Images the GANs cannot draw (a side not a multiple of 4, or not square) or the small
    CNN cannot read (a side under 12) are refused by `make check`, and so before 01, rather
    than in 02 or 04 from inside the networks."""
    if min(size) >= 16:
        make_image_folder(tmp_path / "fruit", per_class=10, sizes=(size,))
        p = write_params(tmp_path, f"data: {{dataset: folder, path: {tmp_path}/fruit}}\n")
    else:  # too small to draw a fruit in: an npz of 8x8 digits, as scikit-learn ships them
        from sklearn.datasets import load_digits
        d = load_digits()
        np.savez(tmp_path / "small.npz", x=(d.images * 15).astype(np.uint8), y=d.target)
        p = write_params(tmp_path, f"data: {{dataset: npz, path: {tmp_path}/small.npz}}\n")
    assert pipeline.main(["check", "--params", str(p), "--profile", "smoke"]) == 2
    err = capsys.readouterr().err
    assert f"images are {shown}" in err and "data.image_size" in err and "Traceback" not in err


def test_default_directories_are_by_experiment_and_profile():
    from synthlib import params

    cfg = params.load(DIGITS_PARAMS, "smoke")
    build, reports = pipeline._dirs(cfg, "", "")
    assert build == pipeline.BUILD_DIR / "digits_smoke" / "smoke"
    assert reports == pipeline.REPORTS_DIR / "digits_smoke"


def test_the_index_command_writes_the_index(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "REPORTS_DIR", tmp_path)
    assert pipeline.main(["index"]) == 0
    assert (tmp_path / "index.html").exists()


def test_make_s_jobs_cap_the_chains_a_stage_shares_the_cores_with(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    monkeypatch.setattr(chains, "cores", lambda: 6)
    held = []
    for i in range(3):  # three chains hold a slot, though make runs at most two stages
        held.append(os.open(tmp_path / f"{i}.lock", os.O_RDWR | os.O_CREAT))
        fcntl.flock(held[-1], fcntl.LOCK_EX)
    try:
        with chains.core_share(2, tmp_path) as threads:
            assert threads == 3
        with chains.core_share(3, tmp_path) as threads:
            assert threads == 2
    finally:
        for fd in held:
            os.close(fd)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_kill_or_a_closed_terminal_takes_ctrl_c_s_way_out(sig):
    """So that a stage shuts its kernel and workers down, as on Ctrl-C, rather than die
    leaving them to train on."""
    proc = subprocess.Popen([sys.executable, "-u", "-m", "synthlib.pipeline", "quiet"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    proc.stdin.write("ready\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "ready\n"  # in its loop, the handlers set
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == 130


def test_quiet_outlives_ctrl_c_and_shows_the_writer_s_last_lines():
    """Ctrl-C reaches both ends of `bench | quiet`: the filter reads on, so that what the
    interrupted bench says it kept reaches the terminal."""
    proc = subprocess.Popen([sys.executable, "-u", "-m", "synthlib.pipeline", "quiet"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    proc.stdin.write("ready\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGINT)
    proc.stdin.write("bench interrupted: kept\n")
    proc.stdin.close()
    assert proc.stdout.read() == "bench interrupted: kept\n"
    assert proc.wait(timeout=60) == 0


# make's part in a chain, as make takes a SIGTERM: passed on to its stage, which takes a
# moment to shut its kernel down, then done
STAGE_LIKE = """
import signal, sys, time
def stopped(sig, frame):
    open(sys.argv[1], "a").write(f"stopped by {signal.Signals(sig).name}\\n")
    time.sleep(1)
    open(sys.argv[1], "a").write("shut down\\n")
    sys.exit(130)
signal.signal(signal.SIGTERM, stopped)
open(sys.argv[1], "a").write("ready\\n")
time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_an_interrupted_chain_stops_its_stage_once_and_waits_for_it_before_letting_go(tmp_path,
                                                                                      sig):
    """Ctrl-C, a kill of make, a closed terminal: the stage is told once, whatever reached the
    chain, and the build folder's lock is held until it has shut down, so that no stage goes on
    training unseen beside the next run."""
    b, log = tmp_path / "b", tmp_path / "log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "synthlib.pipeline", "chain", "--lock", str(b), "--",
         sys.executable, "-c", STAGE_LIKE, str(log)],
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as in a terminal
    for _ in range(600):
        if log.exists() and "ready" in log.read_text():
            break
        time.sleep(0.05)
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == 130
    assert log.read_text() == "ready\nstopped by SIGTERM\nshut down\n"
    with chains.one_run_in(b):  # let go
        pass


def _fake_papermill(monkeypatch, ran):
    import papermill

    def executed(src, dst, **kw):
        ran.append(os.path.basename(src))
        nbformat.write(nbformat.v4.new_notebook(), dst)
    monkeypatch.setattr(papermill, "execute_notebook", executed)


def test_a_second_run_in_a_build_folder_stops_at_once_naming_the_first(tmp_path, monkeypatch,
                                                                      capsys):
    ran = []
    _fake_papermill(monkeypatch, ran)
    b, r = tmp_path / "b", tmp_path / "r"
    stage = ["stage", "02_train_gan", "--params", str(DIGITS_PARAMS), "--profile", "smoke",
             "--build-dir", str(b), "--reports-dir", str(r)]
    with held_elsewhere(b):
        assert pipeline.main(stage) == 2
        err = capsys.readouterr().err
        assert f"another run is under way in {b} (pid {os.getpid()})" in err, err
        assert "Traceback" not in err and not ran
    assert pipeline.main(stage) == 0 and ran == ["02_train_gan.ipynb"]  # the lock went with it


def test_a_kernel_that_does_not_start_is_started_once_more(tmp_path, monkeypatch, capsys):
    """make -j: two kernels may be handed one port, and one dies before any cell runs."""
    import papermill

    tries = []

    def flaky(src, dst, **kw):
        tries.append(dst)
        if len(tries) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        nbformat.write(nbformat.v4.new_notebook(), dst)
    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    pipeline.run_stage("02_train_gan", DIGITS_PARAMS, "smoke", tmp_path / "b", tmp_path / "r")
    assert len(tries) == 2 and (tmp_path / "b" / "02_train_gan.ipynb").exists()
    assert "its kernel did not start" in capsys.readouterr().out
    tries.clear()
    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **k: tries.append(1) or (
        _ for _ in ()).throw(RuntimeError("Kernel died before replying to kernel_info")))
    with pytest.raises(RuntimeError):  # twice: not hidden
        pipeline.run_stage("03_generate", DIGITS_PARAMS, "smoke", tmp_path / "b",
                           tmp_path / "r")
    assert len(tries) == 2


def test_a_kernel_that_dies_fails_its_stage_in_one_line_keeping_the_notebook(tmp_path,
                                                                           monkeypatch, capsys):
    """Killed, or out of memory: nbclient's DeadKernelError, not a traceback through papermill."""
    import papermill
    from nbclient.exceptions import DeadKernelError

    def died(src, dst, **kw):
        nbformat.write(nbformat.v4.new_notebook(), dst)  # papermill saves as it goes
        raise DeadKernelError("Kernel died")
    monkeypatch.setattr(papermill, "execute_notebook", died)
    b, r = tmp_path / "b", tmp_path / "r"
    assert pipeline.main(["stage", "02_train_gan", "--params", str(DIGITS_PARAMS), "--profile",
                          "smoke", "--build-dir", str(b), "--reports-dir", str(r)]) == 2
    err = capsys.readouterr().err
    assert "02_train_gan failed: the notebook's kernel died (killed, or out of memory" in err
    assert "Traceback" not in err and (b / "02_train_gan.failed.ipynb").exists()
    assert not (b / "02_train_gan.ipynb").exists()


def test_a_chain_holds_its_folder_for_its_own_stages_alone(tmp_path, monkeypatch):
    b = tmp_path / "b"
    child = [sys.executable, "-c", "import os, sys; from synthlib import chains\n"
             f"with chains.one_run_in({str(b)!r}): sys.exit(7)"]
    assert pipeline.run_chain(child, tmp_path / "slots", build=b) == 7  # its stages run
    with held_elsewhere(b):  # another run's chain does not start
        with pytest.raises(chains.Busy, match="another run is under way"):
            pipeline.run_chain(child, tmp_path / "slots", build=b)
    monkeypatch.setenv(chains.HELD, str(tmp_path / "elsewhere"))  # another folder's chain
    with held_elsewhere(b):
        with pytest.raises(chains.Busy):
            with chains.one_run_in(b):
                pass


def test_a_stage_that_starts_again_clears_its_own_and_later_pages(tmp_path, monkeypatch):
    """So that reports/<experiment>/ never mixes a new run's pages with an old run's, as a
    rerun cut short would leave it; and a killed run's temporary notebook goes too."""
    ran = []
    _fake_papermill(monkeypatch, ran)
    b, r = tmp_path / "b", tmp_path / "r"
    r.mkdir()
    b.mkdir()
    for name in pipeline.NOTEBOOKS:
        (r / f"{name}.html").write_text("old")
    for f in ("metrics.csv", "summary.json"):
        (r / f).write_text("old")
    (b / ".03_generate.abc123.tmp.ipynb").write_text("{}")
    for f in ("rescore_5_epochs.csv", "rescore_generators.csv"):  # make rescore's, of 01-05
        (b / f).write_text("old")
    (b / "stage_times.json").write_text(json.dumps(dict.fromkeys(pipeline.NOTEBOOKS, {})))
    for name in ("02_train_gan", "05_evaluate"):  # the build's copies of the pages
        (b / f"{name}.html").write_text("old")
    (b / ".04_label.abc123.tmp.ipynb").write_text("{}")  # another stage's: not this one's
    original = pages.to_html

    def to_html(nb, html):  # the later pages are gone by the time the stage runs
        assert sorted(p.name for p in r.iterdir()) == ["01_imbalance.html", "02_train_gan.html"]
        original(nb, html)
    monkeypatch.setattr(pages, "to_html", to_html)
    pipeline.run_stage("03_generate", DIGITS_PARAMS, "smoke", b, r)
    assert sorted(p.name for p in r.iterdir()) == [
        "01_imbalance.html", "02_train_gan.html", "03_generate.html"]
    assert (r / "01_imbalance.html").read_text() == "old"
    assert (b / "03_generate.html").read_bytes() == (r / "03_generate.html").read_bytes()
    assert (b / "02_train_gan.html").exists() and not (b / "05_evaluate.html").exists()
    assert not (b / ".03_generate.abc123.tmp.ipynb").exists()
    assert (b / ".04_label.abc123.tmp.ipynb").exists()
    assert not list(b.glob("rescore_*"))
    # 06's manifest shows this run's stages, none of an earlier run's that has not run again
    assert list(json.loads((b / "stage_times.json").read_text())) == list(pipeline.NOTEBOOKS[:3])
    # the index lists the experiment no longer, at once: a run cut short leaves no dead links
    assert "No experiment has been reported yet" in (tmp_path / "index.html").read_text()



def test_make_rescore_s_tables_stay_while_only_the_write_up_runs_again(tmp_path, monkeypatch):
    """They re-score what 01-05 made: a new write-up leaves them true, a new 05 does not."""
    _fake_papermill(monkeypatch, [])
    b, r = tmp_path / "b", tmp_path / "r"
    b.mkdir()
    (b / "rescore_5_epochs.csv").write_text("old")
    pipeline.run_stage("06_writeup", DIGITS_PARAMS, "smoke", b, r)
    assert (b / "rescore_5_epochs.csv").exists()
    pipeline.run_stage("05_evaluate", DIGITS_PARAMS, "smoke", b, r)
    assert not (b / "rescore_5_epochs.csv").exists()

def _finished_build(b, text):
    for name in pipeline.NOTEBOOKS:
        (b / f"{name}.ipynb").write_text("{}")
        (b / f"{name}.html").write_text(f"{name} {text}")
    for f in ("metrics.csv", "summary.json"):
        (b / f).write_text(f"{f} {text}")


def test_a_chain_whose_stages_were_up_to_date_puts_its_own_pages_back(tmp_path, monkeypatch):
    """make skips a profile's finished stages: reports/<experiment>/ must not keep the pages
    of the profile run before it."""
    b, r = tmp_path / "build" / "quick", tmp_path / "reports"
    b.mkdir(parents=True)
    r.mkdir()
    _finished_build(b, "quick")
    for f in ("01_imbalance.html", "05_evaluate.html", "metrics.csv", "summary.json"):
        (r / f).write_text("smoke")
    (b / "06_writeup.html").unlink()  # a build from before the pages were kept beside it
    monkeypatch.setattr(pages, "to_html",
                        lambda nb, html: Path(html).write_text(f"{Path(nb).stem} rendered"))
    ok = [sys.executable, "-c", "pass"]
    assert pipeline.run_chain(ok, tmp_path / "slots", build=b, reports=r) == 0
    for name in pipeline.NOTEBOOKS[:-1]:
        assert (r / f"{name}.html").read_text() == f"{name} quick"
    assert (r / "06_writeup.html").read_text() == "06_writeup rendered"
    assert (r / "metrics.csv").read_text() == "metrics.csv quick"
    assert (r / "summary.json").read_text() == "summary.json quick"
    assert pipeline.publish(b, r) == 0  # nothing left to copy


def test_a_failed_chain_publishes_nothing(tmp_path):
    b, r = tmp_path / "b", tmp_path / "r"
    b.mkdir()
    r.mkdir()
    _finished_build(b, "new")
    (r / "01_imbalance.html").write_text("old")
    failing = [sys.executable, "-c", "raise SystemExit(3)"]
    assert pipeline.run_chain(failing, tmp_path / "slots", build=b, reports=r) == 3
    assert [p.name for p in r.iterdir()] == ["01_imbalance.html"]
    assert (r / "01_imbalance.html").read_text() == "old"


def test_a_notebook_session_stops_while_another_run_holds_its_build_folder(tmp_path,
                                                                          monkeypatch):
    """make report holds build/<exp>/<profile>/.lock while its chain runs; a Run opened in
    JupyterLab on the same folder stops in one line rather than training into it. The stages
    the chain runs (their kernels inherit HELD) open their Run as usual."""
    from synthlib.runs import Run

    build = tmp_path / "b"
    with held_elsewhere(build):
        monkeypatch.delenv(chains.HELD, raising=False)
        with pytest.raises(chains.Busy, match="another run is under way"):
            Run(DIGITS_PARAMS, "smoke", build_dir=build, reports_dir=tmp_path / "r")
        monkeypatch.setenv(chains.HELD, str(build.resolve()))
        Run(DIGITS_PARAMS, "smoke", build_dir=build, reports_dir=tmp_path / "r")
    monkeypatch.delenv(chains.HELD)
    Run(DIGITS_PARAMS, "smoke", build_dir=build, reports_dir=tmp_path / "r")  # free again


def test_the_lock_lets_through_only_the_thread_that_holds_it(tmp_path, monkeypatch):
    import threading

    monkeypatch.delenv(chains.HELD, raising=False)
    b, seen = tmp_path / "b", []

    def other():
        try:
            with chains.one_run_in(b):
                seen.append("through")
        except chains.Busy:
            seen.append("busy")

    with chains.one_run_in(b):
        with chains.one_run_in(b):  # the same thread: through
            t = threading.Thread(target=other)
            t.start()
            t.join()
        assert seen == ["busy"] and not free_elsewhere(b)  # the inner exit let nothing go
    assert free_elsewhere(b)


def test_a_session_s_stage_work_holds_the_folder_while_it_runs(tmp_path, monkeypatch):
    """Run() checks the lock only as a session opens: a make report started later must stop
    while a notebook cell trains, and the cell must stop while make holds the folder."""
    from synthlib.runs import Run
    from synthlib.studies import rebalance

    monkeypatch.delenv(chains.HELD, raising=False)
    build = tmp_path / "b"
    run = Run(DIGITS_PARAMS, "smoke", build_dir=build, reports_dir=tmp_path / "r")

    seen = []

    def train(run):
        seen.append(free_elsewhere(build))  # could a make report started now take it?
        return "trained"

    monkeypatch.setattr(rebalance, "train", train)
    assert run.study.train(run) == "trained" and seen == [False]
    # work that calls other work in the same process does not find its own lock
    monkeypatch.setattr(rebalance, "generate", lambda run: run.study.train(run))
    assert run.study.generate(run) == "trained"
    with held_elsewhere(build):  # make holds it: the session's cell stops
        with pytest.raises(chains.Busy):
            run.study.train(run)
        assert "02" in run.study.ABOUT  # what is not WORK takes no lock
    monkeypatch.setenv(chains.HELD, str(build.resolve()))  # a stage make runs
    with held_elsewhere(build):
        assert run.study.train(run) == "trained"


def test_a_setting_changed_in_a_notebook_is_shown_and_refused_under_make(tmp_path, monkeypatch):
    """In a session: the change against the params file, as a table. In a stage make runs (a
    notebook saved with the change, JupyterLab saves by itself): one line naming it, since
    the reports' settings tables show the params file's values."""
    from conftest import DIGITS_PARAMS
    from synthlib.config import ConfigError
    from synthlib.runs import Run

    monkeypatch.delenv(chains.HELD, raising=False)
    run = Run(DIGITS_PARAMS, "smoke", build_dir=tmp_path / "b", reports_dir=tmp_path / "r")
    assert run.check_settings() is None
    run.cfg.validity.frechet_ratio = 2  # the params file's 2.0: no change
    assert run.check_settings() is None
    run.cfg.gan.steps = 40
    diff = run.check_settings()
    assert diff.to_dict("records") == [{"parameter": "gan.steps", "params file": "20",
                                        "this session": "40"}]
    run.cfg.gan.generator_steps = {"dcgan_minority": 30}  # a key the file does not have
    assert diff_rows(run.check_settings())["gan.generator_steps.dcgan_minority"] == (
        "(unset)", "30")
    run.cfg.gan.generator_steps = {}
    monkeypatch.setenv(chains.HELD, str(run.dir))
    with pytest.raises(ConfigError, match=r"changes settings from the params file \(gan.steps "
                                          r"20 -> 40\): make runs what tests/params/"):
        run.check_settings()


def diff_rows(diff):
    return {r["parameter"]: (r["params file"], r["this session"]) for r in diff.to_dict("records")}


def test_a_params_file_edited_while_a_run_goes_on_stops_its_next_stage(tmp_path, monkeypatch,
                                                                       capsys):
    """Each stage reads the params file as it starts: one edited after 01 would give a report
    whose split follows one setting and whose later stages and manifest another."""
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda src, dst, **kw: nbformat.write(nbformat.v4.new_notebook(), dst))
    p = write_params(tmp_path, "data: {dataset: digits}\n")
    args = ["--params", str(p), "--profile", "smoke", "--build-dir", str(tmp_path / "b"),
            "--reports-dir", str(tmp_path / "r")]
    assert pipeline.main(["stage", "01_imbalance", *args]) == 0
    assert pipeline.main(["stage", "02_train_gan", *args]) == 0  # the same settings
    p.write_text(p.read_text() + "imbalance: {kept_fraction: 0.5}\n")
    capsys.readouterr()
    assert pipeline.main(["stage", "03_generate", *args]) == 2
    err = capsys.readouterr().err
    assert "changed since 01_imbalance ran" in err and "Traceback" not in err
    assert not (tmp_path / "b" / "03_generate.ipynb").exists()
    # 01's notebook goes, so that make runs 01 again even where the file was edited while 01
    # ran (the notebook newer than the file)
    assert not (tmp_path / "b" / "01_imbalance.ipynb").exists()
    assert pipeline.main(["stage", "01_imbalance", *args]) == 0
    assert pipeline.main(["stage", "03_generate", *args]) == 0


def test_a_file_the_stage_cannot_write_stops_it_in_one_line(tmp_path, monkeypatch, capsys):
    def full(src, dst, **kw):
        raise OSError(28, "No space left on device", str(dst))
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook", full)
    assert pipeline.main(["stage", "02_train_gan", "--params", str(DIGITS_PARAMS), "--profile",
                          "smoke", "--build-dir", str(tmp_path / "b"), "--reports-dir",
                          str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "02_train_gan" in err and "Traceback" not in err


def test_a_damaged_record_of_stage_times_costs_the_times_not_the_run(tmp_path, monkeypatch,
                                                                    capsys):
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda src, dst, **kw: nbformat.write(nbformat.v4.new_notebook(), dst))
    build = tmp_path / "b"
    build.mkdir()
    (build / "stage_times.json").write_text('{"01_imbalance": {"seconds"')
    pipeline.run_stage("02_train_gan", DIGITS_PARAMS, "smoke", build, tmp_path / "r")
    assert set(json.loads((build / "stage_times.json").read_text())) == {"02_train_gan"}
    assert "stage_times.json is damaged" in capsys.readouterr().out
