"""Can `make setup` build its venv with this interpreter? Run by the interpreter itself
(PYTHON_BASE), before anything is installed: it imports nothing from synthlib, and keeps to
syntax an old Python can read, so that it can say what is wrong rather than fail on it.

The pins in requirements.txt (TensorFlow 2.21, h5py 3.14) have wheels for Python 3.11 to
3.13, on Linux (x86-64 and aarch64, glibc 2.27 or later) and on macOS 12 or later on Apple
silicon; elsewhere pip would stop on "no matching distribution" for a package the user
never named.
"""
import platform
import sys

OLDEST, NEWEST = (3, 11), (3, 13)


OLDEST_GLIBC, OLDEST_MACOS = (2, 27), (12, 0)


def _release(text):
    """'2.27', '12.6.1' or '15' as (2, 27), (12, 6) or (15, 0); () where it is no version."""
    parts = []
    for part in text.split(".")[:2]:
        if not part.isdigit():
            return ()
        parts.append(int(part))
    return tuple(parts + [0] * (2 - len(parts)))


def problem(version, system, machine, libc=("", ""), mac_release=""):
    """What stops the pinned packages installing here, in words, or None. `libc`: as
    platform.libc_ver() gives it; `mac_release`: platform.mac_ver()'s first item."""
    if not OLDEST <= tuple(version[:2]) <= NEWEST:
        return ("make setup needs Python %d.%d to %d.%d (TensorFlow 2.21's wheels); this is "
                "%d.%d: PYTHON_BASE=python3.12 make setup picks another interpreter"
                % (OLDEST + NEWEST + tuple(version[:2])))
    if system == "Darwin" and machine == "x86_64":
        return ("make setup: TensorFlow 2.21 has no wheels for Intel macOS (its last were "
                "2.16); on Apple silicon, an arm64 Python is needed (this one runs as x86-64, "
                "under Rosetta: an Intel Homebrew or Anaconda, or `arch -x86_64`)")
    if system == "Windows":
        return ("make setup: run synthlib under WSL2 (Ubuntu), where its Makefile and "
                "TensorFlow's Linux wheels work")
    if system == "Linux" and machine not in ("x86_64", "aarch64", "arm64"):
        return ("make setup: TensorFlow 2.21 has Linux wheels for x86-64 and aarch64 only; "
                "this machine is %s" % machine)
    # (musl, as on Alpine, reports no glibc: pip says so itself, naming the platform)
    glibc = _release(libc[1]) if system == "Linux" and libc[0] == "glibc" else ()
    if glibc and glibc < OLDEST_GLIBC:
        return ("make setup: TensorFlow 2.21's Linux wheels need glibc %d.%d or later (not "
                "CentOS 7); this machine has %s" % (OLDEST_GLIBC + (libc[1],)))
    macos = _release(mac_release) if system == "Darwin" else ()
    if macos and macos < OLDEST_MACOS:
        return ("make setup: TensorFlow 2.21's macOS wheels need macOS %d or later; this is "
                "%s" % (OLDEST_MACOS[0], mac_release))
    return None


if __name__ == "__main__":
    message = problem(sys.version_info, platform.system(), platform.machine(),
                      platform.libc_ver(), platform.mac_ver()[0])
    if message:
        sys.exit(message)
