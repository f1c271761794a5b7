"""What differs between the machines synthlib's users run it on (Linux, macOS on Apple
silicon, WSL): the interpreter `make setup` accepts, memory figures, the browser, make 3.81."""
import os
import platform
import subprocess
import sys

import pytest

from conftest import ROOT
from synthlib import workers
from synthlib.tools import browser_check, check_python


@pytest.mark.parametrize("version, system, machine, says", [
    ((3, 10, 12), "Linux", "x86_64", "needs Python 3.11 to 3.13"),
    ((3, 14, 0), "Linux", "x86_64", "this is 3.14: PYTHON_BASE=python3.12"),
    ((3, 12, 1), "Darwin", "x86_64", "no wheels for Intel macOS"),
    ((3, 12, 1), "Windows", "AMD64", "WSL2"),
])
def test_setup_names_an_interpreter_or_platform_the_pinned_wheels_do_not_cover(
        version, system, machine, says):
    assert says in check_python.problem(version, system, machine)


@pytest.mark.parametrize("system, machine, libc, mac, says", [
    ("Linux", "x86_64", ("glibc", "2.17"), "", "need glibc 2.27 or later (not CentOS 7); "
                                                "this machine has 2.17"),
    ("Linux", "armv7l", ("glibc", "2.31"), "", "x86-64 and aarch64 only; this machine is armv7l"),
    ("Darwin", "arm64", ("", ""), "11.7.10", "need macOS 12 or later; this is 11.7.10"),
])
def test_setup_names_a_system_too_old_for_the_pinned_wheels(system, machine, libc, mac, says):
    assert says in check_python.problem((3, 12, 1), system, machine, libc, mac)


@pytest.mark.parametrize("system, machine, libc, mac", [
    ("Linux", "x86_64", ("glibc", "2.27"), ""), ("Linux", "aarch64", ("glibc", "2.39"), ""),
    ("Linux", "x86_64", ("", ""), ""),  # no glibc named (musl): pip has its say
    ("Darwin", "arm64", ("", ""), "12.0"), ("Darwin", "arm64", ("", ""), "15.1"),
    ("Darwin", "arm64", ("", ""), "12")])  # a release without its minor number
def test_setup_accepts_the_systems_the_pinned_wheels_cover(system, machine, libc, mac):
    assert check_python.problem((3, 12, 1), system, machine, libc, mac) is None


@pytest.mark.parametrize("version, system, machine", [
    ((3, 11, 0), "Linux", "x86_64"), ((3, 13, 5), "Linux", "aarch64"),
    ((3, 12, 1), "Darwin", "arm64")])
def test_setup_accepts_what_the_pinned_wheels_cover(version, system, machine):
    assert check_python.problem(version, system, machine) is None


def test_the_interpreter_check_runs_on_the_interpreter_it_checks():
    """It runs before anything is installed: no synthlib import, whatever the working folder."""
    out = subprocess.run([sys.executable, "synthlib/tools/check_python.py"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    here = check_python.problem(sys.version_info, platform.system(), platform.machine(),
                                platform.libc_ver(), platform.mac_ver()[0])
    assert out.returncode == (1 if here else 0) and out.stderr.strip() == (here or "")


def test_peak_memory_is_in_mib_on_linux_and_on_macos(monkeypatch):
    import resource

    usage = type("Usage", (), {"ru_maxrss": 2 * 1024 ** 3})  # 2 GiB in macOS's bytes
    monkeypatch.setattr(resource, "getrusage", lambda who: usage)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert workers.peak_memory_mib() == 2048
    usage.ru_maxrss = 2 * 1024 ** 2  # 2 GiB in Linux's KiB
    monkeypatch.setattr(sys, "platform", "linux")
    assert workers.peak_memory_mib(children=True) == 2048


def test_the_browser_is_found_where_the_system_puts_it(monkeypatch):
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setattr(browser_check.shutil, "which",
                        lambda name: "/usr/bin/chromium-browser"
                        if name == "chromium-browser" else None)
    assert browser_check.find_chromium() == "/usr/bin/chromium-browser"
    monkeypatch.setattr(browser_check.shutil, "which", lambda name: None)
    assert browser_check.find_chromium() == "/usr/bin/chromium"  # named in the error
    monkeypatch.setenv("CHROMIUM", "/opt/chrome/chrome")
    assert browser_check.find_chromium() == "/opt/chrome/chrome"


@pytest.mark.parametrize("flags, jobs", [([], "1"), (["-j3"], "3"), (["-j", "JOBS=5"], "5")])
def test_each_stage_knows_how_many_chains_share_the_cores(flags, jobs):
    """A bare -j is what make before 4.2 (macOS's 3.81) shows a sub-make under the
    jobserver: the stage then takes JOBS as the count, not 1 (every core to each of them)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    out = subprocess.run(["make", "-n", "-B", *flags, "build/five_minority/quick/01_imbalance"
                          ".ipynb"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env=env)  # not the flags of a `make test` this may run under
    assert out.returncode == 0, out.stderr
    assert f"--jobs {jobs} " in out.stdout
