"""The image-folder loader (FIDS30 layout), Fashion-MNIST's chain of sources, class selection."""
import gzip
import os
import shutil
import subprocess

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
    (tmp_path / "a.png").write_bytes(b"")  # a file where the folder goes: the setting named
    with pytest.raises(DataError, match="a.png: a file, not a directory: data.path for dataset "
                                        "folder names the folder that holds one sub-folder"):
        data.load_image_folder(tmp_path / "a.png")
    with pytest.raises(DataError, match="a file, not a directory: data.path for dataset idx"):
        data.load_idx_dir(tmp_path / "a.png")
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


def write_fashion_files(folder, digits):
    """Debian's four idx files, train (20 images) and t10k (10), from scikit-learn's digits."""
    folder.mkdir(parents=True, exist_ok=True)
    for part, rows in (("train", slice(0, 20)), ("t10k", slice(20, 30))):
        for name, array in (("images-idx3", digits.x[rows, ..., 0]),
                            ("labels-idx1", digits.y[rows])):
            (folder / f"{part}-{name}-ubyte.gz").write_bytes(gzip.compress(idx_bytes(array)))


def test_fashion_mnist_comes_from_the_project_s_folder_then_debian_s(tmp_path, monkeypatch,
                                                                      digits):
    from synthlib import fashion_mnist

    monkeypatch.setattr(fashion_mnist, "DATA_DIR", tmp_path / "data")
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIR", tmp_path / "usr")
    write_fashion_files(tmp_path / "usr", digits)
    ds = data.load(DataConfig(dataset="fashion_mnist"))
    assert ds.x.shape == (30, 28, 28, 1) and "idx files in" in ds.source
    assert ds.class_names[9] == "Ankle boot"
    # keras' order, training images first, whatever the names sort as ("t10k" < "train")
    np.testing.assert_array_equal(ds.x, digits.x[:30])
    np.testing.assert_array_equal(ds.y, digits.y[:30])
    write_fashion_files(tmp_path / "data" / "fashion-mnist", digits)
    assert "data/fashion-mnist" in data.load(DataConfig(dataset="fashion_mnist")).source
    (tmp_path / "data" / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz: missing; .* holds only "
                                        "part of Fashion-MNIST"):
        data.load(DataConfig(dataset="fashion_mnist"))


def test_offline_keras_dataset_is_one_line(tmp_path, monkeypatch):
    from synthlib import fashion_mnist

    monkeypatch.setattr(fashion_mnist, "DATA_DIR", tmp_path / "absent")
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIR", tmp_path / "absent too")

    def offline(name, hint):
        raise DataError(f"data.dataset = {name!r}: keras could not download it (URLError)"
                        f"; offline, use {hint}")
    monkeypatch.setattr(fashion_mnist, "keras_dataset", offline)
    with pytest.raises(DataError, match=r"offline, use make setup FASHION=1"):
        data.load(DataConfig(dataset="fashion_mnist"))


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs Debian's dpkg-deb")
def test_make_setup_fashion_unpacks_debian_s_package_without_root(tmp_path, monkeypatch,
                                                                    digits):
    """A stand-in apt-get on PATH hands over a package built here: what the registry sends."""
    from synthlib import fashion_mnist

    tree = tmp_path / "tree"
    write_fashion_files(tree / fashion_mnist.PACKAGE_DIR, digits)
    (tree / "DEBIAN").mkdir()
    (tree / "DEBIAN" / "control").write_text(
        "Package: dataset-fashion-mnist\nVersion: 1\nArchitecture: all\n"
        "Maintainer: t <t@t>\nDescription: t\n")
    deb = tmp_path / "dataset-fashion-mnist_1_all.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(tree), str(deb)],
                   check=True, capture_output=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    apt = bin_dir / "apt-get"
    apt.write_text(f'#!/bin/sh\n[ "$1 $2" = "download dataset-fashion-mnist" ] && '
                   f'cp "{deb}" . || {{ echo "E: Unable to locate package $2" >&2; exit 100; }}\n')
    apt.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(fashion_mnist, "DATA_DIR", tmp_path / "data")
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIR", tmp_path / "absent")
    folder = tmp_path / "data" / "fashion-mnist"
    assert fashion_mnist.main([]) == 0
    x, y, source, _ = fashion_mnist.load()
    assert len(y) == 30 and sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in (tree / fashion_mnist.PACKAGE_DIR).iterdir())
    # a folder damaged since is fetched again, whole
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"cut short")
    assert fashion_mnist.main([]) == 0
    assert len(fashion_mnist.load()[1]) == 30
    # a fetch that fails leaves the folder there as it was, and nothing beside it
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    monkeypatch.setattr(fashion_mnist, "PACKAGE", "no-such-package")
    with pytest.raises(DataError, match="apt-get download no-such-package failed: E: Unable "
                                        "to locate package .*apt-get update"):
        fashion_mnist.fetch()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in folder.parent.iterdir()] == ["fashion-mnist"]


def test_without_apt_get_fetching_says_what_it_needs(tmp_path, monkeypatch):
    from synthlib import fashion_mnist

    monkeypatch.setenv("PATH", str(tmp_path))  # neither apt-get nor dpkg-deb there
    with pytest.raises(DataError, match="apt-get is not installed: Debian's "
                                        "dataset-fashion-mnist needs Debian or Ubuntu"):
        fashion_mnist.fetch(tmp_path)


def test_classes_selects_labels_and_rejects_absent_ones():
    ds = data.load(DataConfig(dataset="digits", classes=[1, 7, 8]))
    assert sorted(ds.classes.tolist()) == [1, 7, 8] and "classes [1, 7, 8] only" in ds.source
    with pytest.raises(DataError, match=r"data.classes = \[1, 12\]: \[12\] not among"):
        data.load(DataConfig(dataset="digits", classes=[1, 12]))


def test_resize_and_channels_for_any_dataset():
    ds = data.load(DataConfig(dataset="digits", image_size=16, channels=3, max_images=100))
    assert ds.x.shape == (100, 16, 16, 3)
