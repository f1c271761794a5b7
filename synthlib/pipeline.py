"""The driver the Makefile calls: validate parameters, run one notebook with papermill, and
convert it to HTML, so that a finished stage and only a finished stage leaves its outputs.

    python -m synthlib.pipeline check  --params params/five_minority.yaml --profile quick
    python -m synthlib.pipeline stage 02_train_gan --params params/five_minority.yaml
    python -m synthlib.pipeline index
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

# jsonschema (behind nbformat, papermill and nbconvert) builds a grammar for IRI string formats
# on import when rfc3987_syntax is installed, as JupyterLab's dependencies make it: two seconds
# per stage for a format no notebook holds. Without the module, jsonschema skips that check.
sys.modules.setdefault("rfc3987_syntax", None)

from synthlib import config, data, params, workers  # noqa: E402  (scikit-learn loads only where a stage needs it)
from synthlib.paths import (BUILD_DIR, NOTEBOOKS, REPORTS_DIR, ROOT, atomic_path, resolve,
                            shown, write_text)


def check(params_file, profile):
    """Everything that can be wrong before any training: parameters, data, class, fraction."""
    import importlib

    cfg = params.load(params_file, profile)
    ds = data.load(cfg.data)
    data.check_gan_shape(ds.x.shape[1:])
    importlib.import_module(f"synthlib.studies.{cfg.study}").check(cfg, ds)
    return cfg, ds


def _dirs(cfg, build_dir, reports_dir):
    b = resolve(build_dir) if build_dir else BUILD_DIR / cfg.experiment / cfg.profile
    r = resolve(reports_dir) if reports_dir else REPORTS_DIR / cfg.experiment
    return b, r


# A text output longer than LOG_BOX (05_evaluate's log of 72 fits, 02's of each generator)
# scrolls in its own box on screen rather than push the figures and tables a few thousand
# pixels down; printed (reports are handed in), every line is on paper. A long line wraps
# between words, where JupyterLab's style breaks it anywhere ("profi/le").
LOG_BOX = "32em"
TEXT_OUTPUT = ".jp-RenderedText.jp-OutputArea-output > pre"
OFFLINE_TEMPLATE = (
    "{%- extends 'index.html.j2' -%}"
    "{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}"
    "{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}"
    f"{{%- block html_head_css -%}}<style>{TEXT_OUTPUT} {{ word-break: normal; "
    f"overflow-wrap: anywhere; }} @media screen {{ {TEXT_OUTPUT} {{ max-height: {LOG_BOX}; "
    "overflow-y: auto; } }</style>"
    "{%- endblock html_head_css -%}")


# TensorFlow's C++ start-up lines, written straight to stderr before its log level applies
# (TF_CPP_MIN_LOG_LEVEL cannot hold them back), and grappler's harmless "remapper failed" on
# the GAN steps: neither says anything to a reader. Every other line is kept.
NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
                   r"|I\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+\] "
                   r"|E\d{4} \d\d:\d\d:[\d.]+ +\d+ meta_optimizer\.cc:\d+\] remapper failed)")


def without_noise(text):
    return "".join(line for line in text.splitlines(keepends=True) if not NOISE.match(line))


def clean(nb):
    """Drop TensorFlow's start-up noise from the executed notebook's stderr outputs."""
    for cell in nb.cells:
        outputs = []
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                o["text"] = without_noise(o["text"])
                if not o["text"].strip():
                    continue
            outputs.append(o)
        if cell.cell_type == "code":
            cell.outputs = outputs
    return nb


class Echo:
    """Where a stage's cell output goes on the console, line by line: prefixed with the
    experiment and stage (make runs several at once), TensorFlow's start-up noise dropped.
    Only what cells print reaches it, not the tables and figures they display."""

    def __init__(self, prefix, stream=None):
        self.prefix, self.stream = prefix, stream or sys.stdout

    def write(self, text):
        for line in without_noise(text).splitlines():
            if line.strip():
                self.stream.write(f"{self.prefix}{line}\n")

    def flush(self):
        self.stream.flush()


@contextlib.contextmanager
def kernel_stderr_to(path):
    """Children started inside (the notebook kernel) write their own stderr to `path`; this
    process keeps the console. What a cell writes to stderr still reaches the notebook and,
    through `echo`, the console; the kernel's own chatter (its transport warning, its
    shutdown message, the copy of what it captured) goes to the file."""
    sys.stderr.flush()
    console = os.dup(2)
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    saved = sys.stderr
    sys.stderr = os.fdopen(os.dup(console), "w", buffering=1)
    os.dup2(log, 2)
    try:
        yield
    finally:
        os.dup2(console, 2)
        sys.stderr.close()
        sys.stderr = saved
        os.close(console)
        os.close(log)


def to_html(notebook_path, html_path):
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    nb = nbformat.read(notebook_path, as_version=4)
    # the page's title, as browser tabs and bookmarks show it: the experiment, stage and profile
    ran = nb.metadata.get("papermill", {}).get("parameters", {})
    stage = Path(html_path).stem
    nb.metadata["title"] = (f"{Path(ran['params_file']).stem} · {stage} ({ran.get('profile')})"
                            if "params_file" in ran else stage)
    # Reports are for reading: code cells are hidden (the notebooks hold only a few calls into
    # synthlib, and each report prints its parameters).
    # The lab template's require.js and MathJax come from a CDN; the reports need neither, and
    # must open offline from a copied folder.
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, raw_template=OFFLINE_TEMPLATE)
    exporter.log.setLevel(logging.ERROR)  # not its note on images without alt text, per page
    # A cell's consecutive prints in one block (the kernel sends each flush as its own output:
    # 05_evaluate's 72 fits would be 72 boxes), so that LOG_BOX caps the whole log.
    exporter.register_preprocessor(CoalesceStreamsPreprocessor(), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    write_text(html_path, with_alt_text(body, nb))


def with_alt_text(body, nb):
    """Each figure's description (plots.describe, sent as its output's metadata) as its
    image's alt text: the lab template writes none, and nbconvert fills in "No description has
    been provided". The images are matched to the outputs in order; when their numbers differ
    the page is left as it is rather than given wrong descriptions."""
    from bs4 import BeautifulSoup

    alts = [o.get("metadata", {}).get("image/png", {}).get("alt")
            for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    soup = BeautifulSoup(body, features="html.parser")
    images = soup.select(".jp-RenderedImage img")
    if len(images) != len(alts) or not any(alts):
        return body
    for img, alt in zip(images, alts):
        if alt:
            img["alt"] = alt
    return str(soup)


RUNNING_DIR = BUILD_DIR / ".running"


def cores():
    """The cores this process may run on (all of them where the OS cannot say: macOS)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def fair_share(chains):
    """Cores for one of `chains` chains of stages running at once (all of them for one)."""
    return max(1, cores() // max(1, chains))


def running_chains(directory=RUNNING_DIR):
    """How many chains of stages run now: each holds a lock on its own file in `directory`
    while it runs; the file of a chain that was killed holds none and is removed."""
    n = 0
    for f in Path(directory).glob("*.lock"):
        try:
            fd = os.open(f, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            n += 1
        else:
            f.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return n


class Busy(config.OneLine, RuntimeError):
    pass


HELD = "SYNTHLIB_RUN_LOCK"  # the build folder whose lock a chain holds for its stages
_HELD_HERE = {}  # build folder: the thread of this process that holds its lock


@contextlib.contextmanager
def one_run_in(build):
    """One run at a time in a build folder: two would train the same generators and fits and
    write the same files. A lock held while the run lasts (a killed run's goes with it); a
    second run stops at once, naming the first. A chain holds the lock for all its stages
    (HELD tells them so), so that no other run slips in between two of them."""
    build = Path(build).resolve()
    # a chain's stage, or work this thread already does there (a lock is per open file:
    # taken twice in one process, the second would find the first's)
    if os.environ.get(HELD) == str(build) or _HELD_HERE.get(build) == threading.get_ident():
        yield
        return
    build.mkdir(parents=True, exist_ok=True)
    fd = os.open(build / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = os.pread(fd, 20, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise Busy(f"another run is under way in {shown(build)} (pid {pid}): wait for it to "
                   f"end, or stop it, then run this again") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _HELD_HERE[build] = threading.get_ident()
        yield
    finally:
        _HELD_HERE.pop(build, None)
        os.close(fd)


@contextlib.contextmanager
def _environ(key, value):
    before = os.environ.get(key)
    os.environ[key] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


def run_chain(command, directory=RUNNING_DIR, build=None, reports=None):
    """Run `command` (make's chain of one experiment's stages) holding a slot in `directory`,
    so that each of its stages knows how many chains share the cores, and the lock of its
    `build` folder, if named (one_run_in); once it has succeeded, `reports` (if named) is
    brought up to date from `build` (publish). Its exit status."""
    if build is None:
        return _run_chain(command, directory)
    build = Path(build).resolve()
    with one_run_in(build):
        status = _run_chain(command, directory, {HELD: str(build)})
        if status == 0 and reports is not None:
            n = publish(build, Path(reports).resolve())
            if n:
                print(f"{shown(reports)}: {n} page(s) and file(s) from {shown(build)} in "
                      f"place of another run's", flush=True)
        return status


def _run_chain(command, directory, env=None):
    import subprocess

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # locked before it gets its .lock name, so that no one counts it free and removes it
    tmp = directory / f"{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    slot = tmp.with_suffix(".lock")
    os.replace(tmp, slot)
    try:
        # close_fds=False: make's jobserver reaches the sub-make through inherited descriptors.
        # Its own process group, so that an interruption reaches its stage once, from here
        # (below), whether it came as Ctrl-C to the terminal's group or as a kill of make.
        proc = subprocess.Popen(command, close_fds=False, env={**os.environ, **(env or {})},
                                stdin=subprocess.DEVNULL, process_group=0)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            # As SIGTERM, which make passes on to its stage (SIGINT it would not, and a run
            # started in the background ignores SIGINT), which takes Ctrl-C's way out: the
            # kernel and its workers shut down. Then wait, however often interrupted, so that
            # the build folder's lock is let go only once nothing of the run is left in it.
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            while True:
                with contextlib.suppress(KeyboardInterrupt):
                    proc.wait()
                    break
            raise
    finally:
        slot.unlink(missing_ok=True)
        os.close(fd)


# The stage that trains the measuring oracle runs on one thread in every run, alone or beside
# other chains: TensorFlow splits its sums among its threads, so an oracle trained on two came
# out with other weights, and every Fréchet ratio is read in its features (a copy of
# five_minority's 30 kept 5s read 3.2x real-vs-real there, 2.8x with the one-thread oracle).
# An instrument should not change with what else ran. So should a score: 05 trains each
# evaluation classifier on one thread too, as many at once as it has cores (workers.py). And
# so should the images: a generator's convolutions, summed on two threads, moved 22 pixels of
# five_minority's smoke run by one grey level, and its Fréchet distance in the sixth digit.
PINNED_THREADS = {"03_generate": (1, "in every run"),
                  "04_label": (1, "in every run"),
                  "05_evaluate": (1, "per fit, in every run; one worker process per free core")}


@contextlib.contextmanager
def core_share(jobs, directory=RUNNING_DIR, pinned=None):
    """Under `make -jN` several chains of stages run at once, and TensorFlow would give each
    stage every core. Inside, the stage's notebook gets an equal share of the cores among the
    chains running when it starts: one core each while two chains run, every core once a
    chain is left alone; `pinned` threads instead, however many chains run. Yields the thread
    count (None: TensorFlow's own choice, with jobs <= 1 and nothing pinned, or
    TF_NUM_INTRAOP_THREADS set by the user)."""
    if "TF_NUM_INTRAOP_THREADS" in os.environ or (jobs <= 1 and not pinned):
        yield None
        return
    threads = pinned or fair_share(min(running_chains(directory), jobs))
    os.environ.update(TF_NUM_INTRAOP_THREADS=str(threads), TF_NUM_INTEROP_THREADS="1")
    try:
        yield threads
    finally:
        for k in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
            os.environ.pop(k, None)


def threads_used(share):
    """The intra-op threads a stage ran on: its share of the cores, the user's own
    TF_NUM_INTRAOP_THREADS, or TensorFlow's default of one per core. Recorded with the stage's
    time, because TensorFlow splits its sums among threads: a rerun matches a run bit for bit
    at the same thread count, not at another."""
    if share:
        return share
    try:
        return int(os.environ["TF_NUM_INTRAOP_THREADS"]) or cores()
    except (KeyError, ValueError):
        return cores()


def run_stage(name, params_file, profile, build_dir="", reports_dir="", echo=None, jobs=1):
    if name not in NOTEBOOKS:
        raise config.ConfigError(f"stage = {name!r}: unknown; choose one of "
                                 f"{', '.join(NOTEBOOKS)}")
    if name == NOTEBOOKS[0]:
        cfg, _ = check(params_file, profile)
    else:
        cfg = params.load(params_file, profile)
    build, reports = _dirs(cfg, build_dir, reports_dir)
    with one_run_in(build):
        _run_stage(name, cfg, params_file, profile, build, reports, echo, jobs)


# What a stage leaves in reports/<experiment>/ besides its page
REPORT_FILES = {"05_evaluate": ("metrics.csv",), "06_writeup": ("summary.json",)}
RESCORES = "rescore_*.csv"  # make rescore's, in the build folder of the run they re-score


SETTINGS_FILE = "settings.digest"  # the digest of the settings the run's 01 ran with
TIMES_FILE = "stage_times.json"  # each finished stage's time, memory and threads


def same_settings(name, cfg, params_file, build):
    """Every stage of a run runs with the settings its first stage ran with: each stage reads
    the params file when it starts, and a file edited while a run goes on would otherwise give
    a report whose later stages, and its manifest, follow other settings than its split."""
    kept = build / SETTINGS_FILE
    if name == NOTEBOOKS[0]:
        write_text(kept, cfg.digest())
    elif kept.exists() and kept.read_text(encoding="utf-8") != cfg.digest():
        # 01's notebook goes too: edited while 01 ran, the file is older than the notebook,
        # and make would take 01 for up to date and stop here again
        (build / f"{NOTEBOOKS[0]}.ipynb").unlink(missing_ok=True)
        raise StageFailed(f"{name}: {params_file} changed since {NOTEBOOKS[0]} ran in "
                          f"{shown(build)}; this run's stages would follow two settings. Run "
                          f"the same command again: make starts again from {NOTEBOOKS[0]}")


def stage_times(build):
    """The stages' times so far ({} without any): a record too damaged to read only costs the
    manifest those times, not the run."""
    times_file = build / TIMES_FILE
    try:
        times = json.loads(times_file.read_text(encoding="utf-8")) if times_file.exists() else {}
    except ValueError:  # UnicodeDecodeError too
        times = None
    if isinstance(times, dict):
        return times
    print(f"{shown(times_file)} is damaged: the stages' times start again", flush=True)
    return {}


def clear_from(name, reports, build):
    """A stage that starts again makes every page from its own on stale: they go, so that
    reports/<experiment>/ never mixes a new run's first pages with an old run's last ones (a
    rerun cut short would), and the index leaves the experiment out until 06 is done. make
    rescore's tables go with any stage but the write-up: they re-score what 01-05 made."""
    if name != NOTEBOOKS[-1]:
        for f in build.glob(RESCORES):
            f.unlink(missing_ok=True)
    times_file = build / TIMES_FILE  # the manifest 06 shows: no earlier run's times
    if times_file.exists():
        times = stage_times(build)
        write_text(times_file, json.dumps({k: v for k, v in times.items()
                                           if k not in NOTEBOOKS[NOTEBOOKS.index(name):]},
                                          indent=2))
    listed = (reports / "summary.json").exists()
    for later in NOTEBOOKS[NOTEBOOKS.index(name):]:
        (build / f"{later}.html").unlink(missing_ok=True)
        for f in (f"{later}.html", *REPORT_FILES.get(later, ())):
            (reports / f).unlink(missing_ok=True)
    if listed and not (reports / "summary.json").exists():
        from synthlib.report import write_index

        write_index(reports.parent)  # now, not when the run ends: it may be cut short


def publish(build, reports):
    """reports/<experiment>/ as the finished stages in `build` have it: make skips stages that
    are up to date, so the pages there may be another profile's, or an older run's; each page
    and file that differs from the build's copy is copied back. The number copied."""
    copied = 0
    for name in NOTEBOOKS:
        page, notebook = build / f"{name}.html", build / f"{name}.ipynb"
        if not notebook.exists():  # not finished: its stage clears its pages when it runs
            continue
        if not page.exists():  # a build from before pages were kept
            to_html(notebook, page)
        for f in (f"{name}.html", *REPORT_FILES.get(name, ())):
            source, target = build / f, reports / f
            if source.exists() and not (target.exists()
                                        and target.read_bytes() == source.read_bytes()):
                _copy(source, target)
                copied += 1
    return copied


def _copy(source, target):
    with atomic_path(target) as tmp:  # makes target's folder
        shutil.copyfile(source, tmp)


def _run_stage(name, cfg, params_file, profile, build, reports, echo, jobs):
    import nbformat
    import papermill
    from nbclient.exceptions import DeadKernelError

    build.mkdir(parents=True, exist_ok=True)
    for stale in build.glob(f".{name}.*.tmp.ipynb"):  # a killed run's (atomic_path's) temporary
        stale.unlink(missing_ok=True)
    same_settings(name, cfg, params_file, build)
    clear_from(name, reports, build)
    out = build / f"{name}.ipynb"
    failed = build / f"{name}.failed.ipynb"
    parameters = {"params_file": str(params_file), "profile": profile,
                  "build_dir": str(build), "reports_dir": str(reports)}
    start = time.perf_counter()
    pinned, why = PINNED_THREADS.get(name, (None, f"its share of {cores()} cores"))
    with atomic_path(out) as tmp, core_share(jobs, pinned=pinned) as threads:
        if threads:  # one write, so that another chain's lines cannot split it
            sys.stdout.write(f"{cfg.experiment}/{name}: {threads} thread(s), {why}\n")
            sys.stdout.flush()
        try:
            # the kernel's Run knows the folder's lock is its own stage's
            with kernel_stderr_to(build / f"{name}.kernel.log"), \
                    _environ(HELD, str(build.resolve())):
                papermill.execute_notebook(
                    str(ROOT / "notebooks" / f"{name}.ipynb"), str(tmp), parameters=parameters,
                    kernel_name="python3", progress_bar=False, stdout_file=echo,
                    stderr_file=echo, cwd=str(ROOT / "notebooks"))
        except papermill.PapermillExecutionError as e:
            os.replace(tmp, failed)
            first = e.evalue.splitlines()[0] if e.evalue else ""
            raise StageFailed(f"{name} failed: {e.ename}: {first} (executed notebook kept at "
                              f"{shown(failed)})") from None
        except DeadKernelError:  # killed, or out of memory: what it printed is in its log
            kept = ""
            if tmp.exists():
                os.replace(tmp, failed)
                kept = f"; executed notebook kept at {shown(failed)}"
            raise StageFailed(f"{name} failed: the notebook's kernel died (killed, or out of "
                              f"memory; {shown(build / f'{name}.kernel.log')} has its last "
                              f"words{kept}). Finished generators and fits are kept: run the "
                              f"same command again") from None
        nbformat.write(clean(nbformat.read(tmp, as_version=4)), tmp)
        to_html(tmp, build / f"{name}.html")  # the build's copy, which publish brings back
        _copy(build / f"{name}.html", reports / f"{name}.html")
    failed.unlink(missing_ok=True)
    seconds = time.perf_counter() - start
    peak = workers.peak_memory_mib(children=True)
    times_file = build / TIMES_FILE
    times = stage_times(build)
    times[name] = {"seconds": round(seconds, 1), "peak_rss_mib": round(peak, 1),
                   "threads": threads_used(threads)}
    write_text(times_file, json.dumps(times, indent=2))
    print(f"{cfg.experiment}/{name}: done in {seconds:.0f} s -> {reports / (name + '.html')}")


class StageFailed(RuntimeError):
    pass


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m synthlib.pipeline", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    for cmd in ("check", "stage"):
        s = sub.add_parser(cmd)
        if cmd == "stage":
            s.add_argument("name", help="notebook name, e.g. 02_train_gan")
        s.add_argument("--params", required=True, help="params/<experiment>.yaml")
        s.add_argument("--profile", default=config.DEFAULT_PROFILE,
                       help="smoke | quick | full")
        s.add_argument("--build-dir", default="")
        s.add_argument("--reports-dir", default="")
        if cmd == "stage":
            s.add_argument("--jobs", type=int, default=1,
                           help="chains make runs at once (make -jN): they share the cores")
    chain = sub.add_parser("chain", help="run a command (make's chain of one experiment's "
                                         "stages) holding a slot: its stages share the cores")
    chain.add_argument("--lock", default=None,
                       help="the chain's build folder: no other run may start in it meanwhile")
    chain.add_argument("--publish", default=None,
                       help="the experiment's reports folder, brought up to date from the "
                            "build folder once the chain has succeeded")
    chain.add_argument("cmd", nargs=argparse.REMAINDER)
    sub.add_parser("index")
    sub.add_parser("quiet", help="stdin to stdout without TensorFlow's start-up noise (make "
                                 "bench, make rescore)")
    args = p.parse_args(argv)
    # A kill (SIGTERM) or a closed terminal (SIGHUP) takes Ctrl-C's way out, which shuts the
    # notebook's kernel and its workers down rather than leaving them training unseen
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.default_int_handler)
    try:
        return _run(args)
    except KeyboardInterrupt:  # Ctrl-C reaches every process of the run (a chain passes it on
        # to its stages): no tracebacks, and one line from each stage that was running
        logging.getLogger("asyncio").disabled = True  # the cut-short cell's task, reported
        if args.command == "stage":
            print(f"{Path(args.params).stem}/{args.name}: interrupted. Finished generators and "
                  f"fits are kept, and a training cut short resumes from its last checkpoint "
                  f"with the same result: run the same command again.", file=sys.stderr)
        return 130


def _run(args):
    if args.command == "chain":
        try:
            return run_chain(args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd,
                             build=args.lock, reports=args.publish)
        except Busy as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    if args.command == "quiet":
        for line in sys.stdin:
            if not NOISE.match(line):
                sys.stdout.write(line)
                sys.stdout.flush()
        return 0
    # make runs several experiments at once: each line says whose it is.
    prefix = f"{Path(args.params).stem} {args.name[:2]} | " if args.command == "stage" else ""
    logging.basicConfig(level=logging.WARNING, format=prefix.replace("%", "%%") + "%(message)s")
    try:
        if args.command == "check":
            cfg, ds = check(args.params, args.profile)
            print(f"{cfg.experiment} ({args.profile}): parameters valid; {len(ds.y)} images "
                  f"from {ds.source}")
            if ds.class_names:  # what imbalance.minority_class and data.classes number
                print("classes: " + ", ".join(f"{k} {v}" for k, v in
                                              sorted(ds.class_names.items()) if k in ds.y))
        elif args.command == "stage":
            run_stage(args.name, args.params, args.profile, args.build_dir, args.reports_dir,
                      echo=Echo(prefix), jobs=args.jobs)
        else:
            from synthlib.report import write_index
            write_index(REPORTS_DIR)
    except (config.ConfigError, data.DataError, StageFailed, Busy) as e:  # ImbalanceError too
        print(f"error: {Path(args.params).name + ': ' if hasattr(args, 'params') else ''}{e}",
              file=sys.stderr)
        return 2
    except OSError as e:  # a full disk, a read-only reports folder: the file and the reason
        print(f"error: {shown(e.filename)}: {e.strerror or e}"
              if getattr(e, "filename", None) else f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
