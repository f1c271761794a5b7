"""The image-folder loader (FIDS30 layout), Fashion-MNIST's idx files, class selection."""
import gzip

import numpy as np
import pytest
from PIL import Image

from conftest import idx_bytes, make_image_folder
from synthlib import data, paths
from synthlib.config import DataConfig
from synthlib.data import DataError


def test_folder_resizes_colour_images_and_names_classes(tmp_path):
    root = make_image_folder(tmp_path / "fruit")
    x, y, source, names = data.load_image_folder(root, image_size=16)
    assert x.shape == (36, 16, 16, 3) and x.dtype == np.uint8
    assert names == {0: "apple", 1: "kiwi", 2: "plum"}
    assert np.bincount(y).tolist() == [12, 12, 12]
    red = x[y == 0].reshape(-1, 3).mean(0)
    assert red[0] > red[2]  # the red class really is red: channels kept in order
    ds = data.load(DataConfig(dataset="folder", path=str(root), image_size=16))
    assert ds.class_names[2] == "plum" and ds.x.shape[1:] == (16, 16, 3)


def test_folder_to_grey(tmp_path):
    root = make_image_folder(tmp_path / "fruit", per_class=2)
    x, *_ = data.load_image_folder(root, image_size=12, channels=1)
    assert x.shape == (6, 12, 12, 1)


def test_a_missing_data_path_names_the_key_and_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(DataError) as e:
        data.load(DataConfig(dataset="folder", path="data/nope"))
    assert str(e.value) == (f"data.path = 'data/nope': nothing there ({paths.ROOT}/data/nope: "
                            "a relative path is read from the repository root)")
    with pytest.raises(DataError) as e:  # ~ is the home folder, as in a shell
        data.load(DataConfig(dataset="folder", path="~/fruit"))
    assert str(e.value) == f"data.path = '~/fruit': nothing there ({tmp_path}/fruit)"
    make_image_folder(tmp_path / "fruit", per_class=2)
    assert len(data.load(DataConfig(dataset="folder", path="~/fruit", image_size=12)).y) == 6
    # ~user with no such user: not found as written, no traceback from expanduser
    assert paths.resolve("~nosuchuser9/x") == paths.ROOT / "~nosuchuser9/x"


def test_folder_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match="nowhere: no such directory"):
        data.load_image_folder(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no class sub-folders"):
        data.load_image_folder(tmp_path / "empty")
    root = make_image_folder(tmp_path / "fruit", per_class=3)
    with pytest.raises(DataError, match=r"001.png: 28x30 image among 40x36 ones.*image_size"):
        data.load_image_folder(root)
    Image.new("L", (20, 20)).save(root / "kiwi" / "grey.png")
    with pytest.raises(DataError, match=r"grey.png: grey image among colour ones.*channels"):
        data.load_image_folder(root, image_size=16)
    assert data.load_image_folder(root, image_size=16, channels=3)[0].shape[-1] == 3
    (root / "kiwi" / "grey.png").unlink()
    good = (root / "plum" / "000.jpg").read_bytes()
    (root / "plum" / "000.jpg").write_bytes(good[: len(good) // 3])
    with pytest.raises(DataError, match="plum/000.jpg: unreadable or truncated image"):
        data.load_image_folder(root, image_size=16)
    (root / "plum" / "000.jpg").write_bytes(b"not an image")
    with pytest.raises(DataError, match="plum/000.jpg: unreadable or truncated image"):
        data.load_image_folder(root, image_size=16)
    (root / "plum" / "000.jpg").unlink()
    (root / "pear").mkdir()
    with pytest.raises(DataError, match="pear: class folder holds no images"):
        data.load_image_folder(root, image_size=16)


def test_fashion_mnist_from_debian_idx_files(tmp_path, monkeypatch, digits):
    for name, array in (("images-idx3", digits.x[:30, ..., 0]), ("labels-idx1", digits.y[:30])):
        (tmp_path / f"train-{name}-ubyte.gz").write_bytes(gzip.compress(idx_bytes(array)))
    monkeypatch.setattr(data, "FASHION_DIR", tmp_path)
    ds = data.load(DataConfig(dataset="fashion_mnist"))
    assert ds.x.shape == (30, 28, 28, 1) and "idx files" in ds.source
    assert ds.class_names[9] == "Ankle boot"


def test_offline_keras_dataset_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "FASHION_DIR", tmp_path / "absent")

    def offline(name, hint):
        raise DataError(f"data.dataset = {name!r}: keras could not download it (URLError)"
                        f"; offline, use {hint}")
    monkeypatch.setattr(data, "_keras_dataset", offline)
    with pytest.raises(DataError, match="apt install dataset-fashion-mnist"):
        data.load(DataConfig(dataset="fashion_mnist"))


def test_classes_selects_labels_and_rejects_absent_ones():
    ds = data.load(DataConfig(dataset="digits", classes=[1, 7, 8]))
    assert sorted(ds.classes.tolist()) == [1, 7, 8] and "classes [1, 7, 8] only" in ds.source
    with pytest.raises(DataError, match=r"data.classes = \[1, 12\]: \[12\] not among"):
        data.load(DataConfig(dataset="digits", classes=[1, 12]))


def test_resize_and_channels_for_any_dataset():
    ds = data.load(DataConfig(dataset="digits", image_size=16, channels=3, max_images=100))
    assert ds.x.shape == (100, 16, 16, 3)
