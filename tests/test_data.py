import gzip

import numpy as np
import pytest

from conftest import idx_bytes
from synthlib import config, data
from synthlib.data import DataError


def test_builtin_digits_are_mnist_shaped(digits):
    assert digits.x.shape == (1797, 28, 28, 1) and digits.x.dtype == np.uint8
    assert set(digits.classes.tolist()) == set(range(10))
    assert digits.x.max() == 255 and digits.x[:, :4].max() == 0  # centred in a 20x20 box


def test_npz_formats_roundtrip(tmp_path, digits):
    p = tmp_path / "a.npz"
    np.savez(p, x=digits.x[:50, ..., 0], y=digits.y[:50])
    x, y, source = data.load_npz(p)
    assert x.shape == (50, 28, 28, 1) and np.array_equal(y, digits.y[:50])
    k = tmp_path / "keras.npz"
    np.savez(k, x_train=digits.x[:30, ..., 0], y_train=digits.y[:30],
             x_test=digits.x[30:50, ..., 0], y_test=digits.y[30:50])
    x2, y2, _ = data.load_npz(k)
    assert np.array_equal(x2, x) and np.array_equal(y2, y)
    f = tmp_path / "floats.npz"
    np.savez(f, x=digits.x[:5].astype("float32") / 255.0, y=digits.y[:5])
    assert np.array_equal(data.load_npz(f)[0], digits.x[:5])


def test_npz_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match="missing.npz: no such file"):
        data.load_npz(tmp_path / "missing.npz")
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(DataError, match="corrupt.npz: corrupt or truncated"):
        data.load_npz(bad)
    good = tmp_path / "trunc.npz"
    np.savez(good, x=np.zeros((100, 28, 28), np.uint8), y=np.zeros(100, int))
    good.write_bytes(good.read_bytes()[:300])
    with pytest.raises(DataError, match="trunc.npz: corrupt or truncated"):
        data.load_npz(good)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, images=np.zeros((2, 28, 28)))
    with pytest.raises(DataError, match="expected arrays x and y"):
        data.load_npz(wrong)
    short = tmp_path / "short.npz"
    np.savez(short, x=np.zeros((3, 28, 28), np.uint8), y=np.zeros(2, int))
    with pytest.raises(DataError, match="3 images but 2 labels"):
        data.load_npz(short)


def test_idx_directory(tmp_path, digits):
    for prefix, sl in (("train", slice(0, 40)), ("t10k", slice(40, 60))):
        (tmp_path / f"{prefix}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(idx_bytes(digits.x[sl, ..., 0])))
        (tmp_path / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(digits.y[sl]))
    x, y, source = data.load_idx_dir(tmp_path)
    assert x.shape == (60, 28, 28, 1)
    assert sorted(y.tolist()) == sorted(digits.y[:60].tolist())


def test_idx_errors(tmp_path, digits):
    with pytest.raises(DataError, match="no \\*-images-idx3-ubyte"):
        data.load_idx_dir(tmp_path)
    raw = idx_bytes(digits.x[:10, ..., 0])
    (tmp_path / "train-images-idx3-ubyte").write_bytes(raw[:-50])
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(digits.y[:10]))
    with pytest.raises(DataError, match="train-images-idx3-ubyte: truncated idx file"):
        data.load_idx_dir(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x01\x02" + raw[2:])
    with pytest.raises(DataError, match="bad magic number"):
        data.load_idx_dir(tmp_path)
    with pytest.raises(DataError, match="no such directory"):
        data.load_idx_dir(tmp_path / "nowhere")
    (tmp_path / "train-images-idx3-ubyte").write_bytes(raw)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(digits.y[:9]))
    with pytest.raises(DataError, match="train-labels-idx1-ubyte: 9 labels for 10 images"):
        data.load_idx_dir(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\[.gz\]: missing label file "
                                        "for train-images-idx3-ubyte"):
        data.load_idx_dir(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(digits.y[:10]))[:-8])
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz: unreadable idx file"):
        data.load_idx_dir(tmp_path)


@pytest.mark.parametrize("name, hint", [("fashion_mnist", "make setup FASHION=1"),
                                        ("cifar10", None)])
def test_a_keras_download_that_fails_offline_is_one_line(monkeypatch, tmp_path, name, hint):
    """keras' own words say why (its Exception names the URL and the cause)."""
    import keras

    def offline():
        print("Downloading data from https://storage.googleapis.com/x.gz")
        raise Exception("URL fetch failure on https://storage.googleapis.com/x.gz: None -- "
                        "[Errno -3] Temporary failure\n in name resolution")
    monkeypatch.setattr(getattr(keras.datasets, name), "load_data", offline)
    from synthlib import fashion_mnist
    # neither the project's folder nor Debian's: a machine set up with FASHION=1 has the first
    monkeypatch.setattr(fashion_mnist, "DATA_DIR", tmp_path / "absent")
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIR", tmp_path / "absent too")
    with pytest.raises(DataError) as e:
        data.load(config.DataConfig(dataset=name))
    assert str(e.value).startswith(
        f"data.dataset = {name!r}: keras could not download it (URL fetch failure on "
        "https://storage.googleapis.com/x.gz: None -- [Errno -3] Temporary failure in name "
        "resolution)")
    assert (hint in str(e.value)) if hint else "offline, use" not in str(e.value)
    assert "\n" not in str(e.value)


def test_max_images_is_a_stratified_fixed_subsample():
    from synthlib.config import DataConfig
    a = data.load(DataConfig(dataset="digits", max_images=500))
    b = data.load(DataConfig(dataset="digits", max_images=500))
    assert len(a.y) == 500 and np.array_equal(a.x, b.x)
    assert set(a.classes.tolist()) == set(range(10))
    assert "stratified subsample of 500 images (of 1797)" in a.source  # what the source holds too
    # fewer images than classes: one line, not scikit-learn's traceback
    with pytest.raises(data.DataError, match=r"data.max_images = 5: cannot keep every one of "
                                             r"10 classes"):
        data.load(DataConfig(dataset="digits", max_images=5))


def test_npz_images_are_checked_and_floats_rounded_to_pixels(tmp_path):
    def saved(name, x, y):
        f = tmp_path / name
        np.savez(f, x=x, y=y)
        return f

    with pytest.raises(DataError, match=r"images must be .* got \(2, 4, 4, 2\)"):
        data.load_npz(saved("two.npz", np.zeros((2, 4, 4, 2), np.uint8), [0, 1]))
    with pytest.raises(DataError, match="holds no images"):
        data.load_npz(saved("empty.npz", np.zeros((0, 4, 4), np.uint8), np.zeros(0, int)))
    with pytest.raises(DataError, match="labels must be integers"):
        data.load_npz(saved("half.npz", np.zeros((2, 4, 4), np.uint8), [0.5, 1.0]))
    x, y, _ = data.load_npz(saved("float.npz", np.full((2, 4, 4), 0.999), [1.0, 2.0]))
    assert (x == 255).all() and y.dtype == np.int64 and y.tolist() == [1, 2]  # rounded, not cut


def test_images_stored_on_another_scale_are_named_as_near_black(tmp_path, capsys):
    """scikit-learn's digits hold 0..16: saved as they are, they would load as near-black
    images without a word."""
    from sklearn.datasets import load_digits

    d = load_digits()
    f = tmp_path / "digits8.npz"
    np.savez(f, x=d.images.astype(np.uint8), y=d.target)
    x, _, _ = data.load_npz(f)
    assert x.max() == 16  # loaded as given: the warning is all that changes
    assert "the brightest pixel is 16 of 255" in capsys.readouterr().err
    np.savez(f, x=(d.images * 255 / 16).astype(np.uint8), y=d.target)
    data.load_npz(f)
    assert "brightest" not in capsys.readouterr().err


@pytest.mark.parametrize("x, y, message", [
    # pixels that clipping into 0..255 would change without a word
    (np.full((2, 4, 4), -0.5), [0, 1], r"pixel values must be finite and in 0..255 .* -0.5"),
    (np.full((2, 4, 4), 25400, np.int16), [0, 1], r"in 0..255 .* got 25400 to 25400"),
    (np.full((2, 4, 4), np.nan), [0, 1], "NaN or inf"),
    # labels that are no class numbers: names, negatives
    (np.zeros((3, 4, 4), np.uint8), ["a", "b", "c"], "labels must be class numbers, got <U1"),
    (np.zeros((3, 4, 4), np.uint8), [-1, 0, 1], "class numbers from 0, got -1 to 1"),
])
def test_npz_pixels_and_labels_out_of_range_are_refused(tmp_path, x, y, message):
    f = tmp_path / "d.npz"
    np.savez(f, x=x, y=np.asarray(y))
    with pytest.raises(DataError, match=message):
        data.load_npz(f)


def test_labels_past_999_are_refused_unless_data_classes_leaves_them_out(tmp_path):
    """A conditional GAN embeds labels 0..max: 2e9 would be an embedding of 2e9 rows."""
    f = tmp_path / "far.npz"
    np.savez(f, x=np.zeros((6, 12, 12), np.uint8), y=np.array([0, 3, 2 * 10**9] * 2))
    with pytest.raises(DataError, match=r"far: labels must be class numbers from 0 to 999 "
                                        r"\(after data.classes\), got up to 2000000000"):
        data.load(config.DataConfig(dataset="npz", path=str(f)))
    ds = data.load(config.DataConfig(dataset="npz", path=str(f), classes=[0, 3]))
    assert ds.classes.tolist() == [0, 3]


def test_boolean_images_read_as_black_and_white(tmp_path):
    f = tmp_path / "binary.npz"
    np.savez(f, x=np.eye(4, dtype=bool)[None].repeat(2, 0), y=[0, 1])
    x, _, _ = data.load_npz(f)
    assert x.dtype == np.uint8 and set(np.unique(x)) == {0, 255}


def test_an_npy_a_folder_object_arrays_and_one_class_each_say_what_they_are(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(DataError, match="an .npy file holds one array; .* np.savez"):
        data.load_npz(tmp_path / "x.npy")
    with pytest.raises(DataError, match="a folder, not an npz file"):
        data.load_npz(tmp_path)
    np.savez(tmp_path / "obj.npz", x=np.zeros((2, 4, 4), np.uint8),
             y=np.array([0, 1], dtype=object))
    with pytest.raises(DataError, match="holds Python objects"):
        data.load_npz(tmp_path / "obj.npz")
    np.savez(tmp_path / "one.npz", x=np.zeros((4, 12, 12), np.uint8), y=np.zeros(4, int))
    with pytest.raises(DataError, match="every image has the label 0; .* two or more"):
        data.load(config.DataConfig(dataset="npz", path=str(tmp_path / "one.npz")))


def test_subsamples_keep_each_class_s_share_and_the_original_order():
    from synthlib.config import DataConfig
    full = data.load(DataConfig(dataset="digits"))
    a = data.load(DataConfig(dataset="digits", max_images=200))
    shares = np.bincount(a.y, minlength=10) / 200
    assert np.abs(shares - np.bincount(full.y) / len(full.y)).max() <= 0.006
    rows = {x.tobytes(): i for i, x in enumerate(full.x)}
    where = [rows[x.tobytes()] for x in a.x]
    assert where == sorted(where)


def test_resizing_leaves_tensorflow_out_of_the_parameter_check():
    # make check prints only its own lines: TensorFlow's start-up lines would reach the console
    import subprocess
    import sys
    code = ("import sys; from synthlib import data, config; "
            "ds = data.load(config.DataConfig(dataset='digits', image_size=16, max_images=20)); "
            "print(ds.x.shape, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["(20,", "16,", "16,", "1)", "False"]


def test_resizing_smooths_and_grey_weighs_the_channels_as_the_eye_does():
    from synthlib.config import DataConfig
    ds = data.load(DataConfig(dataset="digits", image_size=14, max_images=50))
    assert "resized to 14x14" in ds.source
    checker = np.zeros((1, 4, 4, 1), np.uint8)
    checker[0, ::2, ::2] = checker[0, 1::2, 1::2] = 255
    small = data._resize(checker, 2)
    assert ((small > 100) & (small < 155)).all()  # averaged (antialiased), not pixels picked
    rgb = np.array([[[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 10, 11]]]], np.uint8)
    assert data._convert_channels(rgb, 1).ravel().tolist() == [76, 150, 29, 10]
