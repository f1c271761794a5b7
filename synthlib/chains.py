"""Runs side by side on one machine: `make -jN` runs several experiments' chains of stages at
once, each holding a slot that lets its stages count the chains and take a fair share of the
cores; and one run at a time in a build folder, held by a lock for as long as the run lasts."""
from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import threading
from pathlib import Path

from synthlib.errors import OneLine
from synthlib.paths import BUILD_DIR, shown


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


class Busy(OneLine, RuntimeError):
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


@contextlib.contextmanager
def passed_on(build):
    """Inside, what this process starts (a stage's notebook kernel) knows that the lock of
    `build` is its own chain's."""
    with _environ(HELD, str(Path(build).resolve())):
        yield


def hold_slot(command, directory=RUNNING_DIR, env=None):
    """Run `command` (with `env` added to the environment) holding a slot in `directory`, for
    running_chains to count. Its exit status; interrupted, it lets go of the slot only once
    the command has ended."""
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
