import contextlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Fits in the test process, where monkeypatching reaches them; tests/test_workers.py runs them
# on worker processes.
os.environ.setdefault("SYNTHLIB_WORKERS", "0")

import numpy as np
import pandas as pd
import pytest

from synthlib import config, data, imbalance

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS_PARAMS = os.path.join(ROOT, "tests", "params", "digits_smoke.yaml")


@contextlib.contextmanager
def held_elsewhere(build):
    """A build folder's lock as another process (a make report) holds it: the lock is per
    open file, and chains.one_run_in lets this process through a lock it holds itself."""
    import fcntl

    os.makedirs(build, exist_ok=True)
    fd = os.open(os.path.join(build, ".lock"), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def free_elsewhere(build):
    """Whether another process (a make report starting now) could take the folder's lock."""
    import fcntl

    fd = os.open(os.path.join(build, ".lock"), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


@pytest.fixture(autouse=True)
def _close_figures():
    """A notebook closes each figure once shown; a test that draws would otherwise keep them."""
    yield
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


@pytest.fixture(scope="session")
def digits():
    x, y, source = data.load_digits_28()
    return data.Dataset(x=x, y=y, name="digits", source=source)


@pytest.fixture(scope="session")
def digits_split(digits):
    return imbalance.make_split(digits.y, config.SplitConfig(),
                                config.ImbalanceConfig(minority_class=5, kept_fraction=0.2), 0)


def rows_of(images):
    """The images as a set of their bytes: which images a set holds, whatever their order."""
    return {np.asarray(img).tobytes() for img in images}


def record_frechet(monkeypatch):
    """Every Fréchet distance computed through synthlib.quality, in order, in the list
    returned (the values are computed as usual)."""
    from synthlib import quality
    distances, frechet = [], quality.frechet_distance
    monkeypatch.setattr(quality, "frechet_distance",
                        lambda a, b: distances.append(frechet(a, b)) or distances[-1])
    return distances


def idx_bytes(array):
    """An array as a standard unsigned-byte idx file (LeCun's MNIST format)."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def metric_rows(values, classifier="small_cnn", metric="minority_f1"):
    """metrics.csv's tidy rows from {arm: [value per seed]}."""
    return pd.DataFrame([{"experiment": "e", "arm": arm, "classifier": classifier, "seed": s,
                          "metric": metric, "value": v}
                         for arm, vs in values.items() for s, v in enumerate(vs)])


def stand_in_generators(monkeypatch, run):
    """Tests of 03 that fake gan.load_generator: each generator's saved files as empty stand-ins
    (03 reads them through run.made), and 02's key check off, since none was trained."""
    from synthlib.studies import common

    monkeypatch.setattr(common, "require_trained", lambda run, generators: None)
    for g in run.study.generators(run):
        for f in ("generator.keras", "discriminator.keras"):
            run.path(f, g.seed, g.name).touch()
        for s in g.snapshots:
            run.path(f"generator_step{s}.keras", g.seed, g.name).touch()


def write_params(tmp_path, text, name="exp.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def make_image_folder(root, per_class=12, sizes=((40, 36), (28, 30), (50, 50)), seed=0):
    """A FIDS30-like folder: three colour classes (red squares, green discs, blue stripes),
    images of varying sizes, as PNG and JPEG."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for c, name in enumerate(("apple", "kiwi", "plum")):
        (root / name).mkdir(exist_ok=True)
        for i in range(per_class):
            w, h = sizes[i % len(sizes)]
            im = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(180, 255, 3)))
            d = ImageDraw.Draw(im)
            a, b = int(rng.integers(2, w // 3)), int(rng.integers(2, h // 3))
            colour = [(200, 30, 30), (30, 160, 40), (40, 40, 200)][c]
            if c == 0:
                d.rectangle([a, b, w - a, h - b], fill=colour)
            elif c == 1:
                d.ellipse([a, b, w - a, h - b], fill=colour)
            else:
                for x0 in range(a % 5, w, 8):
                    d.rectangle([x0, 0, x0 + 3, h], fill=colour)
            im.save(root / name / f"{i:03d}.{'png' if i % 2 else 'jpg'}")
    return root


@contextlib.contextmanager
def ctrl_c_after(monkeypatch, callback, chunk):
    """Ctrl-C during `callback`'s bookkeeping at the end of chunk `chunk` (from 0), before
    that chunk's checkpoint: the block must end in KeyboardInterrupt."""
    original = callback.on_epoch_end

    def interrupted(self, epoch, logs=None):
        original(self, epoch, logs)
        if epoch == chunk:
            raise KeyboardInterrupt
    monkeypatch.setattr(callback, "on_epoch_end", interrupted)
    with pytest.raises(KeyboardInterrupt):
        yield
    monkeypatch.setattr(callback, "on_epoch_end", original)


def evaluate_seed(experiment, cfg, ds, split, synthetic, seed, workdir=None):
    """Every classifier on every arm of one seed, as rebalance.evaluate runs them. Returns
    (tidy rows, confusion matrices, per-chunk histories as one DataFrame)."""
    from synthlib import evaluation

    fits = evaluation.seed_fits(cfg, ds, split, synthetic, seed, workdir)
    rows_, confusions, histories = evaluation.fit_rows(experiment, fits,
                                                       evaluation.run_fits(fits))
    return rows_, confusions, pd.concat(histories, ignore_index=True)


def tstr_rows(experiment, cfg, ds, split, synthetic_x, synthetic_y, seed, workdir=None):
    """The rebalance TSTR table's rows of one seed."""
    from synthlib import evaluation

    fits = evaluation.tstr_fits(cfg, ds, split, synthetic_x, synthetic_y, seed, workdir)
    return evaluation.fit_rows(experiment, fits, evaluation.run_fits(fits))[0]
