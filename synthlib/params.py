"""Reading a `params/<experiment>.yaml` into a validated `config.Config`.

A params file states only what differs from the defaults in synthlib/config.py. Sizes come
from a profile (smoke, quick, full): the built-in ones (`config.PROFILES`), then the file's own
`profiles:` section. Merge order, later wins: defaults, YAML body, built-in profile, YAML
`profiles.<profile>`. A body value that the quick or full profile would replace is an error that
says where to write it (smoke replaces sizes by design: it proves the wiring). Every mistake
is one `ConfigError` line naming the key and the value, never a trace from deep inside a stage.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import typing
from pathlib import Path

import yaml

from synthlib.config import (DEFAULT_PROFILE, PROFILES, PROFILES_ORDER, Config, ConfigError,
                             did_you_mean)
from synthlib.paths import ROOT
from synthlib.registry import (CLASSIFIERS, DATASETS, GAN_ARCHITECTURES, OPTIMIZERS,
                               PRECISIONS, STUDIES, arm_reads, readers_elsewhere)

# Keys of earlier versions, and what replaced them.
RENAMED = {"epochs": "steps", "oracle_epochs": "oracle_steps", "filter_epochs": "filter_steps"}
# The settings that name a class, by its number
CLASS_SETTINGS = ("imbalance.minority_class", "bias.varied_class")
# What names or shapes the experiment as a whole: one value for every profile.
NOT_PER_PROFILE = ("experiment", "study", "profiles", "profile")


def _refuse_keys_written_twice(node, prefix="", above=()):
    """PyYAML keeps the last of a key written twice in one mapping: a second `gan:` block at
    the end of a file would drop the first one's settings unseen. Read on the parsed tree, so
    that the error can name the whole key; merge keys (`<<: *anchor`) are YAML's own sharing."""
    if isinstance(node, yaml.MappingNode) and node not in above:  # an alias may hold itself
        seen = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue  # merged, or a key PyYAML itself refuses, saying where
            key, line = f"{prefix}{key_node.value}", key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(f"{key} = ...: written twice (lines {seen[key]} and {line}); "
                                  f"write it once")
            seen[key] = line
            _refuse_keys_written_twice(value_node, f"{key}.", (*above, node))


# What each kind of setting takes, in words, after "expected <kind>"
KIND_WORDS = {bool: "true or false", int: "a whole number", float: "a number",
              list: "a list, e.g. [a, b]", str: "text"}
# The settings that take one of some names: a value of another kind (none, a list) names them
CHOICES = {"data.dataset": DATASETS, "gan.architecture": GAN_ARCHITECTURES,
           "gan.optimizer": OPTIMIZERS, "gan.precision": PRECISIONS,
           "evaluate.precision": PRECISIONS, "evaluate.tstr_classifier": CLASSIFIERS}
# The step budgets by name, and a name each takes (after "e.g. {")
BUDGETS = {"evaluate.steps": "small_cnn", "gan.generator_steps": "cgan_all_classes"}


def _coerce(value, typ, key, default=None):
    """YAML and papermill hand over strings for some numbers ("1e-4"): accept what is exact.
    `default`: the setting's default, named in the error as an example of the kind."""
    origin = typing.get_origin(typ) or typ
    if origin is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no"):
            return value.lower() in ("true", "yes")
    elif origin is int:
        if isinstance(value, bool):
            pass
        elif isinstance(value, int):
            return value
        elif isinstance(value, float) and value.is_integer():
            return int(value)
        elif isinstance(value, str):
            try:
                return _coerce(float(value), int, key)
            except (ValueError, ConfigError):
                pass
    elif origin is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(value):
                return float(value)
        elif isinstance(value, str):
            try:
                return _coerce(float(value), float, key)
            except ValueError:
                pass
    elif origin is str:
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value) if value is not None else ""
    elif origin is list:
        if isinstance(value, list):
            return value
        if key.split(".")[-1] == "seeds" and not isinstance(value, bool):
            # `seeds: 3` reads as well as three seeds as the seed numbered 3
            alone = f", or [{value}] for that seed alone" if isinstance(value, int) else ""
            raise ConfigError(f"{key} = {value!r}: expected a list of seeds, e.g. [0, 1, 2] "
                              f"for three seeds{alone}")
        if isinstance(value, str) and "," in value:  # `arms: smote, upper_bound`: one name
            raise ConfigError(f"{key} = {value!r}: expected a list; write [{value}]")
        if isinstance(value, (str, int)):
            return [value]
    elif origin is dict:  # the step budgets by name: evaluate.steps, gan.generator_steps
        if isinstance(value, dict):
            return {k: _coerce(v, int, f"{key}.{k}") for k, v in value.items()}
        if key.endswith("evaluate.steps"):  # one number sets every classifier
            with contextlib.suppress(ConfigError):  # else: said as a budget, below
                return dict.fromkeys(CLASSIFIERS, _coerce(value, int, key))
    setting = ".".join(key.split(".")[-2:])  # a profile's too: profiles.full.gan.optimizer
    # a class by its name ("Shirt"): the settings take its number, which make check lists
    hint = ("; classes are set by number: put one, and `make check` lists each one's name"
            if isinstance(value, str) and setting in CLASS_SETTINGS else "")
    if not hint and origin is str and setting in CHOICES:
        hint = f"; choose one of {', '.join(CHOICES[setting])}"
    if not hint and origin is dict and setting in BUDGETS:
        every = ", or one whole number for every classifier" if setting == "evaluate.steps" else ""
        hint = (f" (a mapping of names to step counts, e.g. {{{BUDGETS[setting]}: 1000}}"
                f"{every})")
    if not hint and origin in KIND_WORDS:
        example = (f" such as its default, {default!r}"
                   if origin in (int, float) and type(default) is origin else "")
        hint = f" ({KIND_WORDS[origin]}{example})"
    raise ConfigError(f"{key} = {value!r}: expected {origin.__name__}{hint}")


def _sections_with(key):
    """The sections of a params file that have a setting named `key` (a setting written at
    the wrong level: `minority_class:` at the top rather than under `imbalance:`)."""
    root = Config()
    return [f.name for f in dataclasses.fields(root)
            if dataclasses.is_dataclass(getattr(root, f.name))
            and key in {g.name for g in dataclasses.fields(getattr(root, f.name))}]


def _apply(obj, overrides, prefix=""):
    if not isinstance(overrides, dict):
        # `r1_weight:1` is one word to YAML, without the space after the colon
        space = (" (a space after each colon: `key: value`)"
                 if isinstance(overrides, str) and ":" in overrides else "")
        raise ConfigError(f"{prefix.rstrip('.') or 'params'} = {overrides!r}: expected a "
                          f"mapping{space}")
    hints = typing.get_type_hints(type(obj))
    names = [f.name for f in dataclasses.fields(obj)]
    for key, value in overrides.items():
        full = f"{prefix}{key}"
        if key not in names:
            if key in RENAMED and RENAMED[key] in names:
                raise ConfigError(f"{full} = {value!r}: unknown key; training budgets are "
                                  f"optimizer steps now, the same for every arm: use "
                                  f"{prefix}{RENAMED[key]}")
            # at the top: the file's `profiles:` section, never `profile` (the command's)
            keys = names if prefix else [n for n in names if n != "profile"] + ["profiles"]
            shown = "..." if isinstance(value, dict) else repr(value)  # a whole section
            close = did_you_mean(str(key), keys)
            elsewhere = [s for s in _sections_with(key) if f"{s}." != prefix]
            if len(elsewhere) == 1 and not close:
                close = f" here; it is a setting of {elsewhere[0]}: write it under {elsewhere[0]}:"
            elif elsewhere and not close:
                close = (f" here; it is a setting of {', '.join(elsewhere[:-1])} and "
                         f"{elsewhere[-1]}: write it under the one you mean")
            elif key == "profiles" and not close:  # profiles: nested under a section
                close = " here; profiles: is a section of the file's top level"
            elif not close:  # no name near it: the ones there are
                if prefix.count(".") == 2 and prefix.startswith("profiles."):  # a profile's own
                    where, keys = "a profile sets", [n for n in keys if n not in NOT_PER_PROFILE]
                else:
                    where = (f"the settings of {prefix.rstrip('.')} are" if prefix
                             else "the file's top-level keys are")
                close = f"; {where} {', '.join(keys)}"
            raise ConfigError(f"{full} = {shown}: unknown key" + close)
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            _apply(current, value if value is not None else {}, prefix=f"{full}.")
        elif isinstance(current, dict) and isinstance(value, dict):  # name only what changes
            setattr(obj, key, {**current, **_coerce(value, hints[key], full)})
        else:
            setattr(obj, key, _coerce(value, hints[key], full, default=current))


def _merge(base, over):
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _leaves(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict) and v:
            yield from _leaves(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def _check_study_reads(part, prefix, study):
    for key, value in _leaves(part):
        if value is None or value == {}:  # an empty section sets nothing
            continue
        studies = readers_elsewhere(study, key)
        if studies:
            names = " and ".join([", ".join(studies[:-1]), studies[-1]] if len(studies) > 1
                                 else studies)
            raise ConfigError(
                f"{prefix}{key} = {value!r}: read by the {names} "
                f"stud{'ies' if len(studies) > 1 else 'y'} only, and this experiment's "
                f"study is {study}: it would change nothing")


def _resolved(raw, own_profiles, profile, overrides=None):
    merged = _merge(raw, PROFILES[profile])
    if profile == "smoke":
        # smoke replaces every size, a generator's own budget too: the body's
        # `gan.generator_steps` (1,000 steps of ten per-class DCGANs) would hold there, merged
        # key by key, and a run meant to take minutes would train for the better part of an hour
        merged["gan"] = {k: v for k, v in merged.get("gan", {}).items()
                         if k != "generator_steps"}
    merged = _merge(merged, own_profiles.get(profile) or {})
    merged = _merge(merged, overrides or {})
    merged["profile"] = profile
    cfg = Config()
    _apply(cfg, merged)
    return cfg.validate()


def _check_arm_reads(raw, own_profiles, overrides, resolved):
    """A setting only some arms read (registry.ARM_SETTINGS) is an error where no profile it
    applies to runs such an arm: the body's, in every profile; a profile's own, in that one.
    `resolved`: the profiles' Configs resolved already; the others are resolved here."""
    resolved = dict(resolved)
    for name in PROFILES:
        if name in resolved:
            continue
        try:
            resolved[name] = _resolved(raw, own_profiles, name, overrides)
        except ConfigError:  # that profile's own error, said when it runs: count it as reading
            resolved[name] = None
    study = raw.get("study", "rebalance")
    parts = [(raw, "", tuple(PROFILES))] + [(v or {}, f"profiles.{k}.", (k,))
                                            for k, v in own_profiles.items()]
    for part, prefix, profiles in parts:
        for key, value in _leaves(part):
            reads = arm_reads(study, key)
            if reads is None or value is None or value == {}:
                continue
            needs, decided_by, test = reads
            if not any(resolved[p] is None or test(resolved[p]) for p in profiles):
                none = (f"the {profiles[0]} profile does not" if prefix else
                        "no profile of this experiment does")
                raise ConfigError(f"{prefix}{key} = {value!r}: read only where a profile "
                                  f"{needs}, and {none} ({decided_by}): it would change "
                                  f"nothing")


def _check_sizes_are_not_replaced(body, profile, own_profile):
    """A size the file's body sets and the built-in profile would replace unseen (a GAN's
    steps, the seeds) is an error naming the place that does set it."""
    if profile == "smoke":
        return
    body, own = dict(_leaves(body)), dict(_leaves(own_profile))
    for key, value in _leaves(PROFILES[profile]):
        if key in body and key not in own and body[key] != value:
            raise ConfigError(f"{key} = {body[key]!r}: the {profile} profile sets {key} "
                              f"({value!r}); write it under profiles.{profile} to change it")


def load(params_file, profile=DEFAULT_PROFILE, overrides=None):
    """Read a params YAML, apply the profile, validate; raise ConfigError with one line."""
    path = Path(params_file)
    if not path.is_absolute():
        path = ROOT / path
    if profile not in PROFILES:
        raise ConfigError(f"profile = {profile!r}: unknown profile; choose one of "
                          f"{', '.join(PROFILES_ORDER)}" + did_you_mean(str(profile), PROFILES))
    named = ROOT / "params" / f"{params_file}.yaml"  # an experiment's name, as make takes it
    if not path.is_file() and "/" not in str(params_file) and named.is_file():
        path = named
    if not path.is_file():
        known = sorted(p.stem for p in (ROOT / "params").glob("*.yaml"))
        raise ConfigError(f"params_file = {str(params_file)!r}: no such file; the experiments "
                          f"are {', '.join(known)} (params/<experiment>.yaml, or the name alone)"
                          + did_you_mean(Path(str(params_file)).stem, known))
    try:
        text = path.read_text(encoding="utf-8")  # whatever the locale
        _refuse_keys_written_twice(yaml.compose(text, Loader=yaml.SafeLoader))
        raw = yaml.safe_load(text)
        if raw is None:  # else every default: a long run of an experiment nobody wrote
            raise ConfigError(f"params_file = {str(params_file)!r}: empty; write what the "
                              f"experiment is, at least its study and a description, as "
                              f"params/five_minority.yaml does")
    except UnicodeDecodeError as e:
        raise ConfigError(f"params_file = {str(params_file)!r}: not UTF-8 text (byte "
                          f"{e.object[e.start]:#04x} at offset {e.start}); save it as "
                          f"UTF-8") from None
    except yaml.YAMLError as e:  # its message spans lines: keep what went wrong, and where
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = getattr(e, "problem", None) or str(e).splitlines()[0]
        tab = "; indent with spaces: YAML takes no tabs" if "'\\t'" in what else ""
        raise ConfigError(f"params_file = {str(params_file)!r}: not valid YAML "
                          f"({what}{where}){tab}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"params_file = {str(params_file)!r}: expected a mapping at top level")
    if "profile" in raw:  # the command line chooses it; in the file it would be ignored
        raise ConfigError(f"profile = {raw['profile']!r}: chosen when the run starts "
                          f"(make report PROFILE=full, or the notebooks' `profile`), not in "
                          f"the params file; per-profile settings go under profiles:")
    if "experiment" in raw:
        name = raw["experiment"]
        if isinstance(name, int) and not isinstance(name, bool):  # 2024 in params/2024.yaml
            name = str(name)
        if not isinstance(name, str) or not name:  # `experiment:` left empty, or a list
            raise ConfigError(f"experiment = {name!r}: an experiment is named by its params "
                              f"file; write experiment: {path.stem}, or leave the key out")
        if name != path.stem:
            # make, the build folder and reports/ know an experiment by its file's name:
            # another name here would run into, and clear, that other experiment's folders
            raise ConfigError(f"experiment = {name!r}: an experiment is named by its params "
                              f"file ({path.stem}); rename the file to {name}.yaml rather")
        raw["experiment"] = name
    if not isinstance(raw.get("study", ""), str):  # a name, before the Config that holds it
        raise ConfigError(f"study = {raw['study']!r}: expected one of {', '.join(STUDIES)}")
    own_profiles = raw.pop("profiles", None) or {}
    if not isinstance(own_profiles, dict):
        raise ConfigError(f"profiles = {own_profiles!r}: expected a mapping of profile names "
                          f"to settings, e.g. profiles: {{full: {{gan: {{steps: 3500}}}}}}")
    for name, settings in own_profiles.items():
        if name not in PROFILES:
            raise ConfigError(f"profiles.{name} = ...: unknown profile; choose one of "
                              f"{', '.join(PROFILES_ORDER)}" + did_you_mean(str(name), PROFILES))
        if not isinstance(settings, dict) and settings is not None:
            raise ConfigError(f"profiles.{name} = {settings!r}: expected a mapping of "
                              f"settings, e.g. {{gan: {{steps: 3500}}}}")
        for key in NOT_PER_PROFILE:
            if key in (settings or {}):  # `experiment` here would run in another's folders
                where = ("chosen when the run starts (PROFILE=...)" if key == "profile" else
                         "a section of the file's top level" if key == "profiles" else
                         "the same for every profile; set it at the top of the file, if at all")
                raise ConfigError(f"profiles.{name}.{key} = {settings[key]!r}: {where}")
    raw.setdefault("experiment", path.stem)
    # Check every value the file writes, the body's and each profile's, before a profile can
    # overwrite it: a typo or an impossible value stays an error in every profile.
    parts = [(raw, "")] + [(v or {}, f"profiles.{k}.") for k, v in own_profiles.items()]
    for part, prefix in parts:
        written = Config(experiment=raw["experiment"], study=raw.get("study", "rebalance"))
        _apply(written, part, prefix)
        try:
            written.validate_values()
        except ConfigError as e:
            raise ConfigError(f"{prefix}{e}") from None
        _check_study_reads(part, prefix, written.study)
    _check_sizes_are_not_replaced(raw, profile, own_profiles.get(profile) or {})
    try:
        cfg = _resolved(raw, own_profiles, profile, overrides)
    except ConfigError as e:  # a value set under profiles: say so, as for the checks above
        key = getattr(e, "key", None)
        own = dict(_leaves(own_profiles.get(profile) or {}))
        if key in own and key not in dict(_leaves(overrides or {})):
            raise ConfigError(f"profiles.{profile}.{e}") from None
        raise
    _check_arm_reads(raw, own_profiles, overrides, {profile: cfg})
    return cfg
