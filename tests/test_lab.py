"""`make lab` works: JupyterLab from the venv starts offline, serves the notebooks, and would
run them on the venv's own Python.

Standard library only (subprocess, socket, urllib). The server gets a random token, a free
loopback port and a private runtime/config dir, and is always stopped in a finally block.
"""
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import ROOT

VENV = os.path.join(ROOT, ".venv")
JUPYTER = os.path.join(VENV, "bin", "jupyter")
START_TIMEOUT_S = 60
KERNEL_TIMEOUT_S = 30


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, timeout=5):
    """(status, parsed JSON or None); connection errors give (None, None)."""
    return _request("GET", url, timeout=timeout)


def _request(method, url, body=None, timeout=5):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            is_json = r.headers.get_content_type() == "application/json"
            return r.status, (json.loads(raw) if raw and is_json else None)
    except urllib.error.HTTPError as e:
        return e.code, None
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return None, None


def _stop(proc):
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # jupyter_server shuts kernels down on SIGTERM
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _kernel_cmdline(kernel_id):
    """argv of the kernel process whose connection file names kernel_id (Linux /proc)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = [a.decode() for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        if any(kernel_id in a for a in argv) and "ipykernel_launcher" in argv:
            return argv
    return None


@pytest.mark.skipif(not os.path.exists(JUPYTER), reason="no .venv/bin/jupyter: run make setup")
def test_jupyter_lab_starts_and_serves_the_notebooks(tmp_path):
    port, token = _free_port(), secrets.token_hex(24)
    base = f"http://127.0.0.1:{port}"
    q = "?" + urllib.parse.urlencode({"token": token})
    env = dict(os.environ,
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),  # no files left in ~
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"),    # a user's config can't interfere
               PYTHONWARNINGS="ignore")
    log_path = tmp_path / "lab.log"
    cmd = [JUPYTER, "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", "--notebook-dir=notebooks"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers; lab refuses root otherwise
        cmd.append("--allow-root")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    kernel_id = None

    def log_tail():
        return log_path.read_text(errors="replace")[-3000:]

    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        status = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{log_tail()}")
            status, _ = _get(f"{base}/api/status{q}", timeout=2)
            if status == 200:
                break
            time.sleep(0.25)
        assert status == 200, f"/api/status never answered 200 in {START_TIMEOUT_S} s:\n{log_tail()}"

        # The token is really required (the server is not open to anyone on the machine).
        assert _get(f"{base}/api/contents/01_imbalance.ipynb")[0] in (401, 403)

        st, nb = _get(f"{base}/api/contents/01_imbalance.ipynb{q}", timeout=10)
        assert st == 200, log_tail()
        assert nb["type"] == "notebook" and nb["content"]["cells"], "notebook served without cells"

        st, _ = _get(f"{base}/lab{q}", timeout=10)
        assert st == 200, f"/lab answered {st}: the JupyterLab front end is not installed\n{log_tail()}"

        st, specs = _get(f"{base}/api/kernelspecs{q}")
        assert st == 200
        assert specs["default"] == "python3", specs["default"]
        assert "python3" in specs["kernelspecs"], sorted(specs["kernelspecs"])
        argv0 = specs["kernelspecs"]["python3"]["spec"]["argv"][0]
        # "python" is replaced by the server's own interpreter (the venv's) when launched.
        assert argv0 in ("python", "python3") or os.path.realpath(argv0).startswith(
            os.path.realpath(VENV)), f"python3 kernel runs {argv0}, not the venv's python"

        # Start one kernel and check, from /proc, which interpreter it actually runs on.
        st, kernel = _request("POST", f"{base}/api/kernels{q}", body={"name": "python3"},
                              timeout=KERNEL_TIMEOUT_S)
        assert st in (200, 201), f"starting a python3 kernel answered {st}\n{log_tail()}"
        kernel_id = kernel["id"]
        if sys.platform.startswith("linux"):
            argv = _kernel_cmdline(kernel_id)
            deadline = time.monotonic() + KERNEL_TIMEOUT_S
            while argv is None and time.monotonic() < deadline:
                time.sleep(0.1)
                argv = _kernel_cmdline(kernel_id)
            assert argv, f"no kernel process found for {kernel_id}\n{log_tail()}"
            # Compare folders, not resolved binaries: a venv's python is a symlink to the
            # system one, and the system python running the kernel is exactly the failure.
            assert os.path.samefile(os.path.dirname(argv[0]), os.path.join(VENV, "bin")), (
                f"the python3 kernel runs {argv[0]}, not the venv's python")
    finally:
        if kernel_id and proc.poll() is None:
            _request("DELETE", f"{base}/api/kernels/{kernel_id}{q}", timeout=10)
        _stop(proc)
    assert proc.returncode is not None
