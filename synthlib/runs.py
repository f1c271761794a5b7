"""A run: one experiment at one profile, with its artefacts under build/<experiment>/<profile>/
and its reports under reports/<experiment>/. Notebooks open the same run by its parameters."""
from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from synthlib import config, data, params, registry
from synthlib.chains import HELD, one_run_in
from synthlib.imbalance import Split
from synthlib.paths import BUILD_DIR, NOTEBOOKS, REPORTS_DIR, resolve, shown, write_text


class RunError(data.DataError):
    """A file an earlier stage makes is not there: that stage has not run."""


# A study's functions that write into the build folder and run for minutes. Each holds the
# folder's lock while it runs: Run() checks the lock only as a session opens, and a make
# report started later would train into the same files while a notebook cell does.
WORK = ("prepare", "train", "generate", "label", "evaluate")


# Which settings each of WORK last ran with, so that a stage never reads what an earlier one
# made under other settings: in JupyterLab a notebook can be run again with a cell or the
# params file changed while the ones after it are not, and 05 would then train on 03's new
# images with 04's labels of the old ones. make keeps its own stages in step.
STAGES_FILE = "stages.json"
# The first of WORK that reads a setting (a section, or a key where a section is read by
# several), where that is later than `prepare`: a stage is held to the settings it and the
# stages before it read, so that trying `run.cfg.gan.steps = 500` in 02 leaves 01's split
# good. "generators": the generators the run's arms (and rebalance's TSTR table) need, rather
# than the arms, so that a classic arm changed in 05 leaves 02-04 good. None: no stage of WORK
# reads it (06's thresholds, the description).
FIRST_READ_BY = {"gan": "train", "tstr": "train", "generators": "train",
                 "generate": "generate", "augmentation": "generate", "label": "label",
                 "quality": "label", "evaluate.batch_size": "label", "evaluate.chunks": "label",
                 "evaluate": "evaluate", "validity": None, "description": None}
# Where a study reads a section sooner or later than that: rebalance augments in 05 (its
# augmentation arm), bias sizes its mixes by quality.samples in 01.
STUDY_FIRST_READ_BY = {"rebalance": {"augmentation": "evaluate"}, "bias": {"quality": "prepare"}}


def _generators(cfg):
    if cfg.study == "bias":  # its arms are its generative models
        return sorted(cfg.evaluate.arms)
    if cfg.study == "tstr":  # one conditional GAN, whatever its arms
        return []
    return sorted(registry.trained_generators(cfg))


def stage_digest(cfg, work):
    """A hash of the settings `work` (one of WORK) and the stages before it read."""
    flat = {f"{k}.{kk}": vv for k, v in cfg.to_dict().items()
            for kk, vv in (v.items() if isinstance(v, dict) else [("", v)])}
    flat["generators."] = _generators(cfg)
    first_read_by = {**FIRST_READ_BY, **STUDY_FIRST_READ_BY.get(cfg.study, {})}
    upto = WORK.index(work)

    def read_by(key):
        parts = key.rstrip(".").split(".")
        for n in range(len(parts), 0, -1):
            if ".".join(parts[:n]) in first_read_by:
                return first_read_by[".".join(parts[:n])]
        return "prepare"

    read = {k: v for k, v in flat.items()
            if read_by(k) is not None and WORK.index(read_by(k)) <= upto}
    return hashlib.sha256(json.dumps(read, sort_keys=True, default=str).encode()).hexdigest()[:12]


def stale_stage(folder, cfg, upto):
    """The index (in WORK, and NOTEBOOKS) of the first stage before WORK[upto] that last ran
    with other settings than `cfg` gives it, or did not finish its last run; None if none."""
    record = _stage_record(folder)
    return next((i for i, work in enumerate(WORK[:upto])
                 if work in record and record[work] != stage_digest(cfg, work)), None)


def _stage_record(folder):
    try:
        record = json.loads((Path(folder) / STAGES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, or damaged: nothing to hold a stage to
        return {}
    return record if isinstance(record, dict) else {}


class _Study:
    """A study module (synthlib/studies/<study>.py) whose WORK runs under the folder's lock,
    each after the stages before it ran with the same settings (`checks`, 06, reads theirs),
    and whose ABOUT describes this run: a paragraph that depends on what the run trains (its
    arms' generators, its classifiers) is a function of the Config, given the run's, so that
    a page never describes a model the run leaves out."""

    def __init__(self, module, run):
        self._module, self._run = module, run

    def __getattr__(self, name):
        if name in ("_module", "_run"):  # not set yet (copy, pickle): no recursion
            raise AttributeError(name)
        attr = getattr(self._module, name)
        if name == "ABOUT":
            return {stage: text(self._run.cfg) if callable(text) else text
                    for stage, text in attr.items()}
        if name == "checks":
            @functools.wraps(attr)
            def checked(*args, **kwargs):
                self._run.check_stages(len(WORK))
                return attr(*args, **kwargs)
            return checked
        if name not in WORK:
            return attr
        @functools.wraps(attr)
        def locked(*args, **kwargs):
            with one_run_in(self._run.dir):  # no-op in a stage make runs: it holds the lock
                self._run.check_stages(WORK.index(name))
                # until it finishes, what it made may be of neither its old settings nor these
                self._run.record_stage(name, finished=False)
                out = attr(*args, **kwargs)
                self._run.record_stage(name)
                return out
        return locked


class Run:
    def __init__(self, params_file, profile=config.DEFAULT_PROFILE, build_dir="",
                 reports_dir=""):
        self.params_file = str(params_file)
        self.cfg = params.load(params_file, profile)
        exp = self.cfg.experiment
        self.dir = resolve(build_dir) if build_dir else BUILD_DIR / exp / profile
        self.reports = resolve(reports_dir) if reports_dir else REPORTS_DIR / exp
        self.dir.mkdir(parents=True, exist_ok=True)
        self.reports.mkdir(parents=True, exist_ok=True)
        self._data = None
        self._class_names = None  # 01's record of them, read once it exists
        # a notebook session opened while make runs this experiment would train into the same
        # folder: it stops here, naming that run (the stages make runs hold the lock already)
        with one_run_in(self.dir):
            pass

    @property
    def experiment(self):
        return self.cfg.experiment

    @property
    def study(self):
        """The module that does this study's work: synthlib/studies/<cfg.study>.py, its WORK
        done under the build folder's lock."""
        import importlib

        return _Study(importlib.import_module(f"synthlib.studies.{self.cfg.study}"), self)

    def record_stage(self, work, finished=True):
        """Note the settings `work` (one of WORK) ran with, or that it has not finished."""
        write_text(self.dir / STAGES_FILE, json.dumps(
            {**_stage_record(self.dir),
             work: stage_digest(self.cfg, work) if finished else "not finished"}, indent=1))

    def check_stages(self, upto):
        """Stop, in one line, if a stage before WORK[upto] last ran with other settings than
        this session's: what it made would not be what this session's stage expects."""
        i = stale_stage(self.dir, self.cfg, upto)
        if i is not None:
            raise RunError(
                f"{NOTEBOOKS[i]} last ran with other settings than this session's (the "
                f"params file, or a cell such as run.cfg.gan.steps = ..., differs), or did "
                f"not finish: what it made would not match them. Run the notebooks again "
                f"from {NOTEBOOKS[i]} with the settings you want (in the params file, for the "
                f"reports), or `rm {shown(self.dir / NOTEBOOKS[i])}.ipynb` then `make report "
                f"EXP={self.experiment} PROFILE={self.cfg.profile}`")

    @property
    def seeds(self):
        return list(self.cfg.seeds)

    def check_settings(self):
        """Validate this session's settings (`run.cfg.gan.steps = 500` in a notebook) and say
        what differs from the params file: a table of the changes, or None. A stage that make
        runs must run what the params file says, since the reports' settings tables show it:
        an edit saved into notebooks/ (JupyterLab saves by itself) stops it here, in one line
        naming the change, rather than training something no table mentions."""
        import pandas as pd

        self.cfg.validate()
        # outer: a session may add a key (gan.generator_steps.<name>) or drop one
        file = params.load(self.params_file, self.cfg.profile)
        both = (file.table(unread=True).set_index("parameter")
                .join(self.cfg.table(unread=True).set_index("parameter"), how="outer",
                      lsuffix="_file", rsuffix="_now").fillna("(unset)"))
        both = both[both["value_file"] != both["value_now"]]
        if not len(both):
            return None
        diff = pd.DataFrame({"parameter": both.index, "params file": both["value_file"],
                             "this session": both["value_now"]}).reset_index(drop=True)
        if os.environ.get(HELD):  # a stage make (or the pipeline) runs
            raise config.ConfigError(
                "the notebook changes settings from the params file ("
                + ", ".join(f"{r.parameter} {r['params file']} -> {r['this session']}"
                            for _, r in diff.iterrows())
                + f"): make runs what {shown(resolve(self.params_file))} says; put the "
                "change there, and the notebook back")
        return diff

    def arms_text(self):
        """What this run trains of what the study's pages (and the experiment's description,
        written for every profile) describe: its arms and classifiers."""
        ev, study = self.cfg.evaluate, self.cfg.study
        listed = ", ".join
        text = (f"generators: {listed(ev.arms)}" if study == "bias" else
                f"arms: {listed(ev.arms)}; classifiers: {listed(ev.classifiers)}")
        if study == "rebalance":
            text += f"; TSTR table {'on' if ev.tstr else 'off'}"
        return text

    def describe(self):
        """One paragraph naming the run and, once 01 has run, its data source and counts."""
        text = (f"experiment {self.experiment} ({shown(resolve(self.params_file))}), profile "
                f"{self.cfg.profile}, seeds {', '.join(map(str, self.seeds))}\n"
                + self.arms_text())
        if (self.dir / "data.json").exists():
            text += f"\ndata: {self.data_text()}\nimages per class: {self.class_counts_text()}"
        return text

    def data_text(self):
        """The data 01 split: their source and how many images."""
        d = self.load_json("data.json")
        # a subsample's source already says its count
        size = "" if f"subsample of {d['images']} images" in d["source"] else \
            f"; {d['images']} images"
        return f"{d['source']}{size}"

    def class_label(self, c):
        """Class `c` as the reports name it: "6", or "6 (Shirt)" where the data name it (01's
        record of them, else the data's own)."""
        if self._class_names is None and self._where("data.json").exists():
            self._class_names = self.load_json("data.json").get("class_names") or {}
        names = self._class_names if self._class_names is not None else self.data().class_names
        return data.class_label(c, names)

    def class_counts_text(self):
        """Images per class of the data 01 split, named where the data name them."""
        d = self.load_json("data.json")
        return data.counts_text(d["class_counts"], d.get("class_names"))

    def path(self, name, seed=None, generator=None):
        """Where an artefact goes (its folder made)."""
        path = self._where(name, seed, generator)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _where(self, name, seed=None, generator=None):
        base = self.dir if seed is None else self.dir / f"seed{seed}"
        return (base / generator if generator else base) / name

    def data(self, fresh=False):
        """The dataset, checked against the one the split indices were made for (`fresh`:
        stage 01, which makes the split, skips the check)."""
        if self._data is None:
            ds = data.load(self.cfg.data)
            recorded = self.path("data.json")
            if recorded.exists() and not fresh:
                want = json.loads(recorded.read_text(encoding="utf-8"))["digest"]
                if want != ds.digest():
                    raise data.DataError(
                        f"{recorded}: the data changed since stage 01 made the split "
                        f"(digest {ds.digest()} != {want}); re-run from 01_imbalance")
            self._data = ds
        return self._data

    def split(self, seed):
        return Split.load(self.made("split.npz", seed))

    def save_json(self, name, obj, seed=None, generator=None):
        write_text(self.path(name, seed, generator), json.dumps(obj, indent=2, default=_plain))

    def load_json(self, name, seed=None, generator=None):
        return json.loads(self.made(name, seed, generator).read_text(encoding="utf-8"))

    def made(self, name, seed=None, generator=None):
        """The path of a file an earlier stage makes, or one line on why it is not there: in
        JupyterLab, a notebook opened at a profile whose stages have not run (the
        parameters cell says quick, the last run was smoke)."""
        path = self._where(name, seed, generator)
        if path.exists():
            return path
        done = [n for n in NOTEBOOKS if (self.dir / f"{n}.ipynb").exists()]
        ran = sorted(f.parent.name for f in self.dir.parent.glob("*/01_imbalance.ipynb")
                     if f.parent != self.dir)
        profile = self.cfg.profile
        raise RunError(
            f"{shown(path)}: not made yet: {self.experiment} at profile {profile} has "
            + (f"finished {', '.join(done)} only" if done else "not been run")
            + (f" (finished here at profile {', '.join(ran)}: set profile = \"{ran[0]}\" in "
               f"the parameters cell)" if ran and not done else "")
            + f". Run `make report EXP={self.experiment} PROFILE={profile}` first.")

    def load_model(self, name, seed=None, generator=None):
        """A generator or discriminator 02 saved, or one line on why it cannot be read: Keras
        says "File not found" of a damaged file (damaged from outside: it was written whole)."""
        from synthlib import gan

        path = self.made(name, seed, generator)
        try:
            return gan.load_generator(path)
        except Exception as e:  # noqa: BLE001 -- whatever a damaged file raises
            why = (str(e).splitlines() or [""])[0][:120]
            raise RunError(
                f"{shown(path)} cannot be read ({type(e).__name__}: {why}): damaged, or saved "
                f"by another Keras. Delete "
                f"{shown(path.parent)} and run 02_train_gan again: `rm "
                f"{shown(self.dir / '02_train_gan.ipynb')}` then `make report "
                f"EXP={self.experiment} PROFILE={self.cfg.profile}`") from None


def _plain(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(type(o))
