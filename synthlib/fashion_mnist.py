"""Fashion-MNIST (all 70,000 images) through a chain of sources, the first that works wins:
  1. data/fashion-mnist/: Debian's `dataset-fashion-mnist` package unpacked into the project,
     without root (`make setup FASHION=1`, or `python -m synthlib.fashion_mnist`);
  2. /usr/share/datasets/fashion-mnist/: the same package installed (`apt install
     dataset-fashion-mnist`);
  3. `keras.datasets.fashion_mnist.load_data()` (needs the internet).
Each gives the same arrays in keras' order, training images first, so the same run.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from synthlib.data import DataError, as_images, keras_dataset, read_idx
from synthlib.paths import DATA_DIR, shown

PACKAGE = "dataset-fashion-mnist"
PACKAGE_DIR = Path("usr/share/datasets/fashion-mnist")  # where the package puts its idx files
SYSTEM_DIR = Path("/") / PACKAGE_DIR
CLASS_NAMES = dict(enumerate(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                              "Shirt", "Sneaker", "Bag", "Ankle boot"]))
PARTS = ("train", "t10k")  # keras' order


def local_dir(data_dir=None):
    return Path(data_dir or DATA_DIR) / "fashion-mnist"


def read_dir(path):
    """(x, y) from the package's four idx files in `path`, training images first."""
    xs, ys = [], []
    for part in PARTS:
        for kind, out in (("images-idx3", xs), ("labels-idx1", ys)):
            f = path / f"{part}-{kind}-ubyte.gz"
            if not f.exists():
                raise DataError(f"{shown(f)}: missing; {shown(path)} holds only part of "
                                f"Fashion-MNIST (make setup FASHION=1 fetches it again)")
            out.append(read_idx(f))
        if len(xs[-1]) != len(ys[-1]):
            raise DataError(f"{shown(path)}: {part} holds {len(xs[-1])} images and "
                            f"{len(ys[-1])} labels")
    return as_images(np.concatenate(xs), np.concatenate(ys), path)


def load(data_dir=None, keras=True):
    """(x, y, source, class names) from the first source of the chain that works (without
    keras: from the folders alone)."""
    for path in (local_dir(data_dir), SYSTEM_DIR):
        if path.is_dir():
            x, y = read_dir(path)
            return x, y, f"Fashion-MNIST idx files in {shown(path)}", CLASS_NAMES
    if not keras:
        raise DataError(f"Fashion-MNIST is in neither {shown(local_dir(data_dir))} nor "
                        f"{SYSTEM_DIR}")
    x, y = keras_dataset("fashion_mnist", f"make setup FASHION=1 (Debian's {PACKAGE}, "
                                           f"unpacked into {shown(local_dir(data_dir))})")
    return x, y, "keras.datasets.fashion_mnist (70,000 images)", CLASS_NAMES


def _run(command, cwd):
    try:
        out = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise DataError(f"{' '.join(command[:2])} {PACKAGE}: no answer in 10 minutes") from None
    if out.returncode != 0:
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        why = lines[-1] if lines else f"exit status {out.returncode}"
        if "Unable to locate package" in why:  # apt's lists are the machine's, made by root
            why += " (this machine's package lists lack it: `apt-get update`, as root)"
        raise DataError(f"{' '.join(command[:2])} {PACKAGE} failed: {why}")


def fetch(data_dir=None):
    """Debian's package, downloaded and unpacked without root into data/fashion-mnist/ (the
    registry answers where the internet does not). The folder it made: checked whole before
    it takes the place of an earlier one, which a failure leaves as it was."""
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise DataError(f"{tool} is not installed: Debian's {PACKAGE} needs Debian or "
                            f"Ubuntu; elsewhere keras downloads Fashion-MNIST when online")
    target = local_dir(data_dir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # beside the target, so that the last step is a rename on one file system; a folder
        # of its own, so that two fetches at once cannot take each other's
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fashion-") as tmp:
            tmp = Path(tmp)
            _run(["apt-get", "download", PACKAGE], tmp)
            debs = sorted(tmp.glob(f"{PACKAGE}_*.deb"))
            if not debs:
                raise DataError(f"apt-get download {PACKAGE} left no .deb file")
            _run(["dpkg-deb", "-x", str(debs[-1]), "unpacked"], tmp)
            found = tmp / "unpacked" / PACKAGE_DIR
            read_dir(found)  # whole and readable
            earlier = tmp / "earlier"  # goes with tmp
            if target.exists():
                target.rename(earlier)
            try:
                found.rename(target)
            except OSError:
                if earlier.exists():
                    earlier.rename(target)
                raise
    except OSError as e:
        raise DataError(f"{shown(e.filename or target)}: {e.strerror or e}") from None
    return target


def main(argv=None):
    """`python -m synthlib.fashion_mnist`: make sure Fashion-MNIST is here (`make setup
    FASHION=1`): fetched from Debian's package unless a source of the chain has it whole."""
    import argparse

    argparse.ArgumentParser(prog="python -m synthlib.fashion_mnist",
                            description=main.__doc__).parse_args(argv)
    try:
        try:
            x, y, source, _ = load(keras=False)
        except DataError as e:  # absent, or a folder damaged since: fetched (again)
            if local_dir().exists():
                print(f"fetching Fashion-MNIST again: {e}")
            fetch()
            x, y, source, _ = load(keras=False)
    except DataError as e:
        print(f"warning: {e}", file=sys.stderr)
        return 1
    print(f"Fashion-MNIST ready: {len(y)} images from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
