"""Independent trainings (a stage's generators, the evaluation classifiers' fits) on worker
processes of one thread each, as many at once as this stage has cores.

Two small networks trained side by side on one thread each get through 1.55x the steps of one
trained on two threads (docs/speed.md): their layers are too small to keep two threads busy.
Each training runs on one thread however many run at once, so what it learns does not depend
on what else ran. The number of workers in use is read again before each training starts: a
stage that began beside another experiment's chain takes the freed core once that chain ends.

Workers are spawned (never forked: TensorFlow's threads do not survive a fork) and import
TensorFlow once. A training's printed lines reach the stage as they are printed, each whole and
headed by the training's label, so that two trainings side by side can be told apart and a
long one is never silent.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import io
import multiprocessing
import os
from pathlib import Path

from synthlib import chains


def peak_memory_mib(children=False):
    """The largest resident memory of this process (or of its finished children), in MiB:
    getrusage gives it in KiB on Linux and in bytes on macOS."""
    import resource
    import sys

    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / (1024 ** 2 if sys.platform == "darwin" else 1024)


def one_thread():
    """In a worker, before TensorFlow starts its thread pools (a user's own
    TF_NUM_INTRAOP_THREADS stands). The worker also ends with the process that started it: a
    kernel killed outright would otherwise leave its workers training on, unseen."""
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    try:  # Linux: prctl(PR_SET_PDEATHSIG, SIGTERM)
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


_lines = None  # in a worker: where its printed lines go (the stage's SimpleQueue)


def tagged():
    """Whether this process's printed lines reach the stage headed by the job's label (on a
    worker): a line need not name the job again."""
    return _lines is not None


def _start(lines):
    global _lines
    _lines = lines
    one_thread()


class _Relay(io.TextIOBase):
    """A worker's stdout during one job: each whole line goes to the stage with the job's label
    in front. A SimpleQueue's put has reached the pipe when it returns, so every line of a job
    is there before its result."""

    def __init__(self, label):
        super().__init__()
        self.label, self.part = label, ""

    def writable(self):
        return True

    def write(self, text):
        *whole, self.part = (self.part + text).split("\n")
        for line in whole:
            _lines.put(f"{self.label} {line}")
        return len(text)

    def end(self):
        if self.part:
            self.write("\n")


def _call(fn, args, label):
    relay = _Relay(label)
    try:
        with contextlib.redirect_stdout(relay):
            return fn(*args)
    finally:
        relay.end()


def most():
    """The most workers at once: SYNTHLIB_WORKERS if set (0: every training in this process,
    on this process's threads, printing as it goes), else one per core."""
    value = os.environ.get("SYNTHLIB_WORKERS", "")
    if not value:
        return chains.cores()
    if not value.isdigit():
        raise ValueError(f"SYNTHLIB_WORKERS = {value!r}: a number of worker processes "
                         f"(0: none, every training in this process)")
    return int(value)


def free_cores():
    """Cores this stage may use now: an equal share among the chains of stages make runs at
    once (chains.fair_share), all of them outside make; at most most()."""
    return max(1, min(most(), chains.fair_share(chains.running_chains())))


def _gpu():
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def device():
    """What trains in this process: the GPU TensorFlow sees, else the CPU (`make bench`'s
    bench.json and each write-up's run manifest name it)."""
    import platform

    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)}"
    try:
        names = [line.split(":", 1)[1].strip() for line in
                 Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
    except OSError:
        names = []
    return f"CPU: {names[0] if names else platform.machine()}, {os.cpu_count()} cores"


def _said(line):
    print(line, flush=True)


def run(fn, jobs, labels=None, slots=None, say=_said):
    """fn(*job) for every job (fn a module-level function, jobs picklable), on up to slots()
    single-thread workers at once (slots: free_cores, asked again before each job starts);
    results in job order. Each line job i prints is passed on as it comes, `labels[i]` in
    front (default "[i+1/n]"), to `say` (default: print). A lone job runs on a worker too: on
    this process's threads its result would depend on how many jobs were left (a resumed
    stage may have one). With most() == 0 or a GPU (which one process should own) every job
    runs here, in order, printing as it goes."""
    jobs = list(jobs)
    if not jobs or most() == 0 or _gpu():
        return [fn(*job) for job in jobs]
    labels = labels or [f"[{i + 1}/{len(jobs)}]" for i in range(len(jobs))]
    results, slots = [None] * len(jobs), slots or free_cores
    spawn = multiprocessing.get_context("spawn")
    lines = spawn.SimpleQueue()
    pool = cf.ProcessPoolExecutor(most(), initializer=_start, initargs=(lines,),
                                  mp_context=spawn)

    def relay():
        while not lines.empty():
            say(lines.get())

    running, todo = {}, iter(enumerate(jobs))
    try:
        while True:
            while len(running) < slots() or not running:
                i, job = next(todo, (None, None))
                if job is None:
                    break
                running[pool.submit(_call, fn, job, labels[i])] = i
            if not running:
                break
            finished, _ = cf.wait(running, timeout=0.2, return_when=cf.FIRST_COMPLETED)
            relay()
            for f in finished:
                results[running.pop(f)] = f.result()
    except BaseException:
        for p in list(getattr(pool, "_processes", {}).values()):
            p.terminate()  # a fit's checkpoint lets a rerun resume it
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    lines.close()
    return results
