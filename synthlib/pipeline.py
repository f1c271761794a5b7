"""The driver the Makefile calls: validate parameters, run one notebook with papermill, and
convert it to HTML, so that a finished stage and only a finished stage leaves its outputs.

    python -m synthlib.pipeline check  --params params/five_minority.yaml --profile quick
    python -m synthlib.pipeline stage 02_train_gan --params params/five_minority.yaml
    python -m synthlib.pipeline index
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import time
from pathlib import Path

# jsonschema (behind nbformat, papermill and nbconvert) builds a grammar for IRI string formats
# on import when rfc3987_syntax is installed, as JupyterLab's dependencies make it: two seconds
# per stage for a format no notebook holds. Without the module, jsonschema skips that check.
sys.modules.setdefault("rfc3987_syntax", None)

# (scikit-learn loads only where a stage needs it)
from synthlib import chains, config, data, pages, params, workers  # noqa: E402
from synthlib.paths import (BUILD_DIR, NOTEBOOKS, REPORTS_DIR, ROOT, atomic_path, resolve,
                            shown, write_text)


def check(params_file, profile, every_profile=False):
    """Everything that can be wrong before any training: parameters, data, class, fraction;
    with `every_profile` (make check), the parameters at the other profiles too, so that
    "valid" holds for whichever runs next."""
    import importlib

    cfg = params.load(params_file, profile)
    for other in config.PROFILES_ORDER if every_profile else ():
        if other != profile:
            try:
                params.load(params_file, other)
            except config.ConfigError as e:
                raise config.ConfigError(f"at PROFILE={other}: {e}") from None
    ds = data.load(cfg.data)
    data.check_gan_shape(ds.x.shape[1:])
    importlib.import_module(f"synthlib.studies.{cfg.study}").check(cfg, ds)
    return cfg, ds


def _dirs(cfg, build_dir, reports_dir):
    b = resolve(build_dir) if build_dir else BUILD_DIR / cfg.experiment / cfg.profile
    r = resolve(reports_dir) if reports_dir else REPORTS_DIR / cfg.experiment
    return b, r


class Echo:
    """Where a stage's cell output goes on the console, line by line: prefixed with the
    experiment and stage (make runs several at once), TensorFlow's start-up noise dropped.
    Only what cells print reaches it, not the tables and figures they display."""

    def __init__(self, prefix, stream=None):
        self.prefix, self.stream = prefix, stream or sys.stdout

    def write(self, text):
        for line in pages.without_noise(text).splitlines():
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


def run_chain(command, directory=chains.RUNNING_DIR, build=None, reports=None):
    """Run `command` (make's chain of one experiment's stages) holding a slot in `directory`,
    so that each of its stages knows how many chains share the cores, and the lock of its
    `build` folder, if named (one_run_in); once it has succeeded, `reports` (if named) is
    brought up to date from `build` (publish). Its exit status."""
    if build is None:
        return chains.hold_slot(command, directory)
    build = Path(build).resolve()
    with chains.one_run_in(build):
        status = chains.hold_slot(command, directory, {chains.HELD: str(build)})
        if status == 0 and reports is not None:
            n = publish(build, Path(reports).resolve())
            if n:
                print(f"{shown(reports)}: {n} page(s) and file(s) from {shown(build)} in "
                      f"place of another run's", flush=True)
        return status


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


def run_stage(name, params_file, profile, build_dir="", reports_dir="", echo=None, jobs=1):
    if name not in NOTEBOOKS:
        raise config.ConfigError(f"stage = {name!r}: unknown; choose one of "
                                 f"{', '.join(NOTEBOOKS)}")
    if name == NOTEBOOKS[0]:
        cfg, _ = check(params_file, profile)
    else:
        cfg = params.load(params_file, profile)
    build, reports = _dirs(cfg, build_dir, reports_dir)
    with chains.one_run_in(build):
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
    from synthlib.runs import WORK, stale_stage

    # the params file as 01 read it: a JupyterLab session may still have run an earlier stage
    # again, with other settings, into this folder, which make (reading only its own
    # notebooks' times) would take for up to date
    stale = stale_stage(build, cfg, min(NOTEBOOKS.index(name), len(WORK)))
    if stale is not None:
        (build / f"{NOTEBOOKS[stale]}.ipynb").unlink(missing_ok=True)
        raise StageFailed(f"{name}: {NOTEBOOKS[stale]} last ran in {shown(build)} with other "
                          f"settings, or did not finish (a notebook session's). Run the same "
                          f"command again: make starts again from {NOTEBOOKS[stale]}")


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
            pages.to_html(notebook, page)
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
    pinned, why = PINNED_THREADS.get(name, (None, f"its share of {chains.cores()} cores"))
    with atomic_path(out) as tmp, chains.core_share(jobs, pinned=pinned) as threads:
        if threads:  # one write, so that another chain's lines cannot split it
            sys.stdout.write(f"{cfg.experiment}/{name}: {threads} thread(s), {why}\n")
            sys.stdout.flush()
        try:
            # the kernel's Run knows the folder's lock is its own stage's
            with kernel_stderr_to(build / f"{name}.kernel.log"), \
                    chains.passed_on(build):
                for attempt in (1, 2):
                    try:
                        papermill.execute_notebook(
                            str(ROOT / "notebooks" / f"{name}.ipynb"), str(tmp),
                            parameters=parameters, kernel_name="python3", progress_bar=False,
                            stdout_file=echo, stderr_file=echo, cwd=str(ROOT / "notebooks"))
                        break
                    except RuntimeError as e:
                        # Two kernels started at once (make -j) may be given the same port:
                        # jupyter_client picks it, the kernel binds it later. No cell has run,
                        # so the stage starts once more rather than fail the whole report.
                        if attempt == 2 or "before replying to kernel_info" not in str(e):
                            raise
                        print(f"{cfg.experiment}/{name}: its kernel did not start ({e}); "
                              f"starting it again", flush=True)
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
        nbformat.write(pages.clean(nbformat.read(tmp, as_version=4)), tmp)
        pages.to_html(tmp, build / f"{name}.html")  # the build's copy, which publish brings back
        _copy(build / f"{name}.html", reports / f"{name}.html")
    failed.unlink(missing_ok=True)
    seconds = time.perf_counter() - start
    peak = workers.peak_memory_mib(children=True)
    times_file = build / TIMES_FILE
    times = stage_times(build)
    times[name] = {"seconds": round(seconds, 1), "peak_rss_mib": round(peak, 1),
                   "threads": chains.threads_used(threads)}
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
        except chains.Busy as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    if args.command == "quiet":
        # Ctrl-C reaches the filter too: it reads on to the end, so that the writer's last
        # lines (what an interrupted bench kept) are shown rather than cut off with the pipe
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for line in sys.stdin:
            if not pages.NOISE.match(line):
                sys.stdout.write(line)
                sys.stdout.flush()
        return 0
    # make runs several experiments at once: each line says whose it is.
    prefix = f"{Path(args.params).stem} {args.name[:2]} | " if args.command == "stage" else ""
    logging.basicConfig(level=logging.WARNING, format=prefix.replace("%", "%%") + "%(message)s")
    try:
        if args.command == "check":
            cfg, ds = check(args.params, args.profile, every_profile=True)
            print(f"{cfg.experiment}: parameters valid at every profile; at {args.profile}, "
                  f"{len(ds.y)} images from {ds.source}")
            if ds.class_names:  # what imbalance.minority_class and data.classes number
                print("classes: " + ", ".join(f"{k} {v}" for k, v in
                                              sorted(ds.class_names.items()) if k in ds.y))
        elif args.command == "stage":
            run_stage(args.name, args.params, args.profile, args.build_dir, args.reports_dir,
                      echo=Echo(prefix), jobs=args.jobs)
        else:
            from synthlib.report import write_index
            write_index(REPORTS_DIR)
    # ImbalanceError is a DataError
    except (config.ConfigError, data.DataError, StageFailed, chains.Busy) as e:
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
