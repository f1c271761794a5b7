import glob
import os

import nbformat
import numpy as np
import pandas as pd
import pytest

from conftest import DIGITS_PARAMS, ROOT, rows_of
from synthlib import chains, pages, pipeline
from synthlib.imbalance import Split

NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


def test_the_six_notebooks_exist():
    assert [os.path.basename(p)[:-6] for p in NOTEBOOKS] == list(pipeline.NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_hygiene(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, "outputs committed"
            for line in cell.source.splitlines():
                assert not line.lstrip().startswith(("def ", "class ")), "belongs in synthlib"


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("smoke")
    build, reports = base / "build", base / "reports"
    saved = os.environ.pop("SYNTHLIB_WORKERS", None)  # the GANs and fits on worker processes
    try:                                              # spawned from the notebooks' kernels
        for name in pipeline.NOTEBOOKS:
            pipeline.run_stage(name, DIGITS_PARAMS, "smoke", build, reports)
    finally:
        if saved is not None:
            os.environ["SYNTHLIB_WORKERS"] = saved
    return build, reports


def test_end_to_end_smoke_run_writes_six_reports(smoke_run):
    build, reports = smoke_run
    pages = sorted(p.name for p in reports.glob("*.html"))
    assert pages == [f"{n}.html" for n in pipeline.NOTEBOOKS]
    for name in pipeline.NOTEBOOKS:
        nb = nbformat.read(build / f"{name}.ipynb", as_version=4)
        errors = [o for c in nb.cells for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors, name
    for name in ("01_imbalance", "02_train_gan", "04_label", "05_evaluate", "06_writeup"):
        assert "data:image/png;base64" in (reports / f"{name}.html").read_text(), name
    writeup = (reports / "06_writeup.html").read_text()
    assert "scikit-learn&#39;s bundled digits" in writeup or "scikit-learn's bundled digits" in writeup
    assert "minority_f1" in writeup
    # the smoke profile's budgets are far from convergence: the write-up and the index say so
    assert "Not conclusive" in writeup and "Validity checks" in writeup
    # the TSTR table says what its rows are, and that its generator failed
    assert "(TRTR: the <code>imbalanced</code> arm" in writeup
    assert "Its generator fails a validity check, so these rows describe" in writeup
    assert "<em>kid</em> (kernel inception distance" in writeup  # the quality table's legend
    # every figure is described by its titles for a reader who cannot see it
    for name in pipeline.NOTEBOOKS:
        assert "No description has been provided" not in (reports / f"{name}.html").read_text()
    # one seed: the caption promises no interval it cannot draw
    assert ('alt="Scores on the real test split: each diamond is the one seed\'s score (one '
            'seed: no interval); minority_f1') in writeup
    assert "Not conclusive" in (reports.parent / "index.html").read_text()


def test_metrics_csv_is_tidy_and_complete(smoke_run):
    build, reports = smoke_run
    m = pd.read_csv(reports / "metrics.csv")
    assert list(m.columns) == ["experiment", "arm", "classifier", "seed", "metric", "value"]
    from synthlib.registry import ARMS, GENERATORS
    scored = m[m.classifier != "oracle"]
    assert set(ARMS) | {"TRTR", "TSTR", "TRSTR", "upper_bound:half_budget"} == set(scored.arm)
    assert set(scored.classifier) == {"seed_mlp", "small_cnn"}
    assert {"minority_f1", "minority_precision", "minority_recall", "majority_recall",
            "balanced_accuracy", "g_mean", "pr_auc"} <= set(scored.metric)
    scores = scored[~scored.metric.isin(["optimizer_steps", "training_images"])]
    assert scores.value.between(0, 1).all()
    steps = scored[scored.metric == "optimizer_steps"]  # what each fit took, equal across arms
    assert len(steps) == 2 * len(ARMS) + 3 and steps.value.nunique() == 1
    quality = m[m.classifier == "oracle"]
    for gen in GENERATORS:  # every generator beside its real-vs-real reference
        for arm in (gen, f"{gen}:real"):
            assert {"frechet_distance", "kid", "label_agreement", "classifier_score",
                    "near_duplicate_share"} <= set(quality[quality.arm == arm].metric)


def test_smoke_run_gan_and_test_split_are_clean(smoke_run):
    """The run's own artefacts: the test split holds no synthetic image, and the generator
    was trained on as many images as were kept (its training set is the kept minority)."""
    build, _ = smoke_run
    from synthlib.params import load
    from synthlib.data import load as load_data
    cfg = load(DIGITS_PARAMS, "smoke")
    ds = load_data(cfg.data)
    split = Split.load(build / "seed0" / "split.npz")
    test_rows = rows_of(ds.x[split.test])
    for path in (build / "seed0").rglob("synthetic.npz"):
        with np.load(path) as f:
            assert not test_rows & rows_of(f["images"])
    log = "\n".join(o.get("text", "") for c in nbformat.read(build / "02_train_gan.ipynb", 4).cells
                    for o in c.get("outputs", []))
    assert f"on {len(split.kept_minority)} images" in log


def test_rescore_reads_each_generator_with_an_independent_classifier(smoke_run, capsys):
    """`make rescore GENERATORS=1`: per seed and generator, label agreement and the Fréchet
    ratio as the mean over disjoint draws of n synthetic images, n the held-out real count."""
    from synthlib.runs import Run
    from synthlib.tools.rescore import generator_quality

    build, reports = smoke_run
    run = Run(DIGITS_PARAMS, "smoke", build_dir=build, reports_dir=reports)
    table = generator_quality(run, epochs=1, draws=3)
    assert sorted(table.index) == sorted(run.cfg.generators())
    assert ((table.label_agreement >= 0) & (table.label_agreement <= 1)).all()
    assert (table.frechet_ratio > 0).all() and (table.frechet_ratio_sd >= 0).all()
    assert (table.copy_frechet_ratio > 0).all()
    split = Split.load(build / "seed0" / "split.npz")
    n = int(np.sum(run.data().y[split.validation] == split.minority_class))
    assert f"draws of {n})" in capsys.readouterr().out
    # where a filter chose, the images the arm trained on and all those generated, each read
    run.cfg.label.filter = True
    table = generator_quality(run, epochs=1, draws=3)
    assert (table.generated_frechet_ratio > 0).all() and (table.frechet_ratio > 0).all()
    out = capsys.readouterr().out
    assert "accepted by the filter:" in out and "all generated:" in out


def test_a_failed_stage_leaves_no_output(tmp_path):
    build, reports = tmp_path / "b", tmp_path / "r"
    # 01 has not run: its split is missing, and the error says so
    with pytest.raises(pipeline.StageFailed, match="02_train_gan failed: RunError: .*split.npz: "
                                                   "not made yet: .* has not been run"):
        pipeline.run_stage("02_train_gan", DIGITS_PARAMS, "smoke", build, reports)
    assert not (build / "02_train_gan.ipynb").exists()
    assert not (reports / "02_train_gan.html").exists()
    assert (build / "02_train_gan.failed.ipynb").exists()
    assert not [p for p in build.iterdir() if ".tmp" in p.name]


def test_an_interrupted_stage_leaves_no_output_and_one_line(tmp_path, monkeypatch, capsys):
    import papermill

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(papermill, "execute_notebook", ctrl_c)
    build = tmp_path / "b"
    assert pipeline.main(["stage", "02_train_gan", "--params", str(DIGITS_PARAMS), "--profile",
                          "smoke", "--build-dir", str(build),
                          "--reports-dir", str(tmp_path / "r")]) == 130
    err = capsys.readouterr().err
    assert "02_train_gan: interrupted" in err and "run the same command again" in err
    assert "Traceback" not in err and not (build / "02_train_gan.ipynb").exists()
    assert not [p for p in build.iterdir() if ".tmp" in p.name]


def test_stages_that_only_read_and_draw_start_without_tensorflow():
    """01 and 06 import the study modules, the report and the plots: none of them may pull in
    TensorFlow (seconds per stage), only the functions that train or sample do."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from synthlib import pipeline, plots, report, show\n"
            "from synthlib.runs import Run\n"
            "from synthlib.studies import augment, bias, rebalance, tstr\n"
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_quiet_drops_tensorflow_start_up_lines_and_keeps_the_rest(monkeypatch, capsys):
    import io

    lines = ["WARNING: All log messages before absl::InitializeLog() is called are written to "
             "STDERR\n",
             "I0000 00:00:1795995762.262333    1589 port.cc:153] oneDNN custom operations are on.\n",
             "oracle: small_cnn on 6999 training images, 3000 steps\n",
             "E0000 00:00:1795995891.996574    1589 meta_optimizer.cc:967] remapper failed: x\n",
             "E0000 00:00:1795995891.996574    1589 other.cc:1] a real error\n"]
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(lines)))
    assert pipeline.main(["quiet"]) == 0
    assert capsys.readouterr().out == lines[2] + lines[4]


def test_stages_share_the_cores_among_the_chains_running_when_they_start(tmp_path,
                                                                        monkeypatch):
    import fcntl
    import sys

    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    cores = chains.cores()
    # another experiment's chain, running: it holds the lock on its slot
    other = os.open(tmp_path / "1.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)
    # the slot of a chain that was killed: a file nobody holds a lock on
    (tmp_path / "2.lock").touch()
    # this stage's own chain holds a slot too, while the command runs
    probe = ("import sys; from synthlib import chains; "
             f"sys.exit(10 + chains.running_chains({str(tmp_path)!r}))")
    assert pipeline.run_chain([sys.executable, "-c", probe], tmp_path) == 12
    assert not (tmp_path / "2.lock").exists()
    assert chains.running_chains(tmp_path) == 1
    with chains.core_share(2, tmp_path) as threads:  # 1 chain counted, capped by jobs
        assert threads == cores
    (tmp_path / "3.lock").touch()
    third = os.open(tmp_path / "3.lock", os.O_RDWR)
    fcntl.flock(third, fcntl.LOCK_EX)
    with chains.core_share(2, tmp_path) as threads:
        assert threads == max(1, cores // 2)
        assert os.environ["TF_NUM_INTRAOP_THREADS"] == str(threads)
    assert "TF_NUM_INTRAOP_THREADS" not in os.environ
    os.close(other)
    os.close(third)  # the other chains have finished
    assert chains.running_chains(tmp_path) == 0
    with chains.core_share(2, tmp_path) as threads:
        assert threads == cores
    with chains.core_share(1, tmp_path) as threads:  # one chain at a time: TensorFlow decides
        assert threads is None and "TF_NUM_INTRAOP_THREADS" not in os.environ
    # the images' stage, the oracle's, and each evaluation fit, run on one thread alone,
    # beside other chains, and one at a time
    for stage in ("03_generate", "04_label", "05_evaluate"):
        pinned = pipeline.PINNED_THREADS[stage][0]
        for jobs in (1, 2):
            with chains.core_share(jobs, tmp_path, pinned=pinned) as threads:
                assert threads == 1 and os.environ["TF_NUM_INTRAOP_THREADS"] == "1"
            assert "TF_NUM_INTRAOP_THREADS" not in os.environ
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")  # the user's own setting stands
    with chains.core_share(2, tmp_path) as threads:
        assert threads is None and os.environ["TF_NUM_INTRAOP_THREADS"] == "1"
    assert chains.threads_used(threads) == 1  # and is what the stage's times record
    assert chains.threads_used(max(1, cores // 2)) == max(1, cores // 2)
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "2")  # over a pinned stage's too
    with chains.core_share(2, tmp_path, pinned=pinned) as threads:
        assert threads is None and os.environ["TF_NUM_INTRAOP_THREADS"] == "2"
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS")
    assert chains.threads_used(None) == cores


def test_report_images_take_their_figures_descriptions_as_alt_text(tmp_path):
    """In order, as the outputs came; a page whose images do not match its outputs one for one
    keeps nbconvert's own text rather than a wrong description."""
    import base64

    png = base64.b64encode(bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")).decode()
    figure = [nbformat.v4.new_output("display_data", data={"image/png": png},
                                     metadata={"image/png": {"alt": f"figure {i}"}})
              for i in (1, 2)]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A page"),
        nbformat.v4.new_code_cell("plots.a()", outputs=[figure[0]]),
        nbformat.v4.new_code_cell("plots.b()", outputs=[figure[1]])])
    nbformat.write(nb, tmp_path / "page.ipynb")
    pages.to_html(tmp_path / "page.ipynb", tmp_path / "page.html")
    html = (tmp_path / "page.html").read_text()
    assert html.index('alt="figure 1"') < html.index('alt="figure 2"')
    assert "No description has been provided" not in html
    body = html.replace('alt="figure 2"', "")
    assert pages.with_alt_text(body, nbformat.v4.new_notebook(cells=nb.cells[:2])) == body
