"""The reports' table of a run's settings (`Config.table`): every resolved value the run
reads, and nothing it leaves unread, with what a value standing for "none" or "all" means.

Which settings a study or an arm reads is in synthlib/registry.py; this module applies it
to one run's resolved Config.
"""
from __future__ import annotations

from synthlib.registry import PATH_DATASETS, arm_reads, readers_elsewhere

# What a value that stands for "none", "all" or "off" means, for the reports' tables of
# settings: a bare 0 there would read as an image size or a class count of zero.
_OFF = {"0.0": "0.0 (off)"}
VALUE_MEANS = {
    "data.image_size": {"0": "0 (each image's own size)"},
    "data.channels": {"0": "0 (as the files hold)"},
    "data.classes": {"[]": "[] (every class)"},
    "data.max_images": {"0": "0 (every image)"},
    "imbalance.per_class": {"0": "0 (the whole training split)"},
    "generate.select_from": {"1": "1 (every image drawn is used)"},
    **{f"gan.{k}": _OFF for k in ("class_loss_weight", "r1_weight", "mode_seeking_weight",
                                  "rotation_weight")},
}


def table(cfg, section=None, unread=False):
    """Every resolved value `cfg` (a Config) reads, as (parameter, value) rows for the
    reports; with `section` (e.g. "gan"), that section's alone. A setting only other studies
    read (STUDY_SETTINGS) is left out: shown, it would look as if it changed something. So is,
    unless `unread`, one this run's arms, classifiers or switches leave unread, and a value
    that stands for "none" or "all" says so (VALUE_MEANS)."""
    import pandas as pd

    flat = pd.json_normalize(cfg.to_dict(), sep=".").iloc[0]
    keys = [k for k in flat.index if (section is None or k.startswith(section + "."))
            and not readers_elsewhere(cfg.study, k) and (unread or reads(cfg, k))]
    values = [str(flat[k]) for k in keys]
    if not unread:
        values = [VALUE_MEANS.get(k, {}).get(v, v) for k, v in zip(keys, values)]
    return pd.DataFrame({"parameter": keys, "value": values})


def reads(cfg, key):
    """Whether the run of `cfg` reads `key` (a dotted setting), given its arms and switches."""
    arm = arm_reads(cfg.study, key)
    if arm and not arm[2](cfg):
        return False
    if key.startswith("evaluate.steps."):
        tstr = cfg.study == "rebalance" and cfg.evaluate.tstr
        return (key.split(".", 2)[2] in cfg.evaluate.classifiers
                or tstr and key == f"evaluate.steps.{cfg.evaluate.tstr_classifier}")
    unread = {"data.path": cfg.data.dataset not in PATH_DATASETS,
              "gan.beta_1": cfg.gan.optimizer != "adam",
              "label.filter_steps": not cfg.label.filter,
              "label.filter_threshold": not cfg.label.filter}
    return not unread.get(key, False)
