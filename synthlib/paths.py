"""Where things live: the repository root, atomic file writes used for every artefact, and
the fingerprint of the code that kept artefacts are keyed on."""
from __future__ import annotations

import ast
import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

# synthlib is installed editable, so the package sits in the repository it came from.
ROOT = Path(os.environ.get("SYNTHLIB_ROOT", Path(__file__).resolve().parents[1]))
DATA_DIR = Path(os.environ.get("SYNTHLIB_DATA", ROOT / "data"))
PARAMS_DIR = ROOT / "params"  # one YAML file per experiment
BUILD_DIR = ROOT / "build"
REPORTS_DIR = ROOT / "reports"
# The stages, in order: notebooks/<stage>.ipynb, and build/<experiment>/<profile>/<stage>.ipynb
# once it has finished.
NOTEBOOKS = ("01_imbalance", "02_train_gan", "03_generate", "04_label", "05_evaluate",
             "06_writeup")
_UMASK = os.umask(0o022)  # read once (os.umask only reads by setting), then put back
os.umask(_UMASK)


def shown(path):
    """A path as a message shows it: relative to the repository root where it lies inside."""
    path = Path(path).resolve()
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def resolve(path):
    """A path relative to the repository root (notebooks run from notebooks/ in JupyterLab);
    ~ is the home folder, as in a shell."""
    p = Path(path)
    try:
        p = p.expanduser()
    except RuntimeError:  # ~user with no such user: left as written, and not found as such
        pass
    return p if p.is_absolute() else ROOT / p


@contextlib.contextmanager
def atomic_path(target):
    """Yield a temporary path beside `target`; rename it over `target` only on success.

    A run killed half-way leaves a `.tmp` file, never a truncated file under the real name.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}",
                               dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes the file private (0600): give it the mode any new file gets here, so
        # that shared reports and caches stay readable to whom the umask allows
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(target, text):
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def code_digest(*modules):
    """A fingerprint of the code of `modules`, on which kept artefacts (trained generators and
    classifiers, finished fits) are keyed: their syntax trees without docstrings, so that a
    change to what the code does retrains what it made, and an edit to a comment or a
    docstring does not."""
    h = hashlib.sha256()
    for module in modules:
        tree = ast.parse(Path(module.__file__).read_bytes())  # bytes: UTF-8 whatever the locale
        for node in ast.walk(tree):
            first = node.body[0] if isinstance(node, _DOCUMENTED) and node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                node.body = node.body[1:]
        h.update(ast.dump(tree).encode())
    return h.hexdigest()


_DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
