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


def problem(version, system, machine):
    """What stops the pinned packages installing here, in words, or None."""
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
    return None


if __name__ == "__main__":
    message = problem(sys.version_info, platform.system(), platform.machine())
    if message:
        sys.exit(message)
