import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DIGITS_PARAMS, ROOT, write_params
from synthlib import config, pipeline
from synthlib.data import DataError
from synthlib.imbalance import ImbalanceError


def load_text(tmp_path, text, profile="quick"):
    return config.load(write_params(tmp_path, text), profile)


def test_every_params_file_is_valid_in_every_profile():
    import glob
    files = glob.glob(f"{ROOT}/params/*.yaml")
    assert files
    for f in files:
        for profile in config.PROFILES:
            cfg = config.load(f, profile)
            assert cfg.profile == profile


def test_defaults_and_profiles_are_applied(tmp_path):
    cfg = load_text(tmp_path, "imbalance: {kept_fraction: 0.1}\n", "smoke")
    assert cfg.imbalance.kept_fraction == 0.1
    assert cfg.gan.steps == config.PROFILES["smoke"]["gan"]["steps"]
    assert cfg.experiment == "exp"
    full = load_text(tmp_path, "profiles: {full: {gan: {steps: 7}}}\n", "full")
    assert full.gan.steps == 7 and len(full.seeds) == 4
    # a body's size stands where its own profile section says the same, and smoke shrinks it
    text = "gan: {steps: 3000}\nprofiles: {quick: {gan: {steps: 3000}}}\n"
    assert load_text(tmp_path, text).gan.steps == 3000
    assert load_text(tmp_path, text, "smoke").gan.steps == config.PROFILES["smoke"]["gan"]["steps"]


def test_step_budgets_name_only_what_changes(tmp_path):
    default = config.EvaluateConfig().steps
    cfg = load_text(tmp_path, "evaluate: {steps: {small_cnn: 500}}\n")
    assert cfg.evaluate.steps == {**default, "small_cnn": 500}
    cfg = load_text(tmp_path, "evaluate: {steps: 300, chunks: 4}\n")
    assert set(cfg.evaluate.steps.values()) == {300} and cfg.evaluate.steps_for("seed_mlp") == 300
    cfg = load_text(tmp_path, "evaluate: {steps: 301, chunks: 4}\n")
    assert cfg.evaluate.steps_for("small_cnn") == 304  # whole chunks


def test_generator_steps_set_one_generator_s_budget(tmp_path):
    cfg = load_text(tmp_path, "study: augment\nprofiles: {quick: {gan: "
                              "{generator_steps: {dcgan_per_class: 1000}}}}\n")
    assert cfg.gan.for_generator("dcgan_per_class").steps == 1000
    assert cfg.gan.for_generator("cgan_all_classes").steps == 2000
    assert cfg.gan.for_generator("dcgan_per_class").generator_steps == {}
    assert load_text(tmp_path, "study: augment\n").gan.generator_steps == {}


def test_yaml_1_1_exponent_strings_are_accepted_as_floats(tmp_path):
    cfg = load_text(tmp_path, "gan: {d_learning_rate: 1e-4}\n")
    assert cfg.gan.d_learning_rate == pytest.approx(1e-4)


@pytest.mark.parametrize("text, expected", [
    ("imbalance: {kept_fractoin: 0.1}\n",
     "imbalance.kept_fractoin = 0.1: unknown key (did you mean 'kept_fraction'?)"),
    ("imbalance: {kept_fraction: 1.5}\n", "imbalance.kept_fraction = 1.5: must be in (0, 1]"),
    ("imbalance: {kept_fraction: 0}\n", "imbalance.kept_fraction = 0.0: must be in (0, 1]"),
    ("data: {dataset: mnsit}\n", "data.dataset = 'mnsit': unknown dataset"),
    ("gan: {steps: many}\n", "gan.steps = 'many': expected int"),
    ("gan: {architecture: big}\n", "gan.architecture = 'big': unknown architecture"),
    ("evaluate: {arms: [imbalanced, smoot]}\n", "evaluate.arms = 'smoot': unknown; choose"),
    ("data: {dataset: npz}\n", "data.path = '': dataset 'npz' needs a path"),
    ("profiles: {fast: {}}\n", "profiles.fast = ...: unknown profile; choose one of smoke, "
                                "quick, full"),
    # every value the file writes is checked, even where a profile overrides it
    ("gan: {steps: -5}\n", "gan.steps = -5: must be >= 1"),
    ("gan: {rotation_weight: -1}\n", "gan.rotation_weight = -1.0: must be >= 0"),
    ("profiles: {full: {gan: {steps: -5}}}\n", "profiles.full.gan.steps = -5: must be >= 1"),
    ("profiles: {smoke: {evaluate: {steps: {small_cnn: 0}}}}\n",
     "profiles.smoke.evaluate.steps.small_cnn = 0: must be an integer >= 1"),
    ("evaluate: {steps: {small_cnm: 100}}\n", "evaluate.steps = 'small_cnm': unknown classifier"),
    ("evaluate: {epochs: 3}\n", "evaluate.epochs = 3: unknown key; training budgets are "
                                "optimizer steps now, the same for every arm: use evaluate.steps"),
    ("gan: {generator_steps: {dcgan_minorty: 100}}\n", "gan.generator_steps = 'dcgan_minorty': no "
     "such generator in study 'rebalance'; choose from dcgan_minority, dcgan_minority_diffaug, "
     "cgan_all_classes, cgan_all_classes_diffaug (did you mean 'dcgan_minority'?)"),
    ("gan: {generator_steps: {cgan_all_classes: 0}}\n",
     "gan.generator_steps.cgan_all_classes = 0: must be an integer >= 1"),
    ("gan: {generator_steps: 100}\n", "gan.generator_steps = 100: expected dict"),
    # training runs in whole chunks of log_every: a budget between two would not be the one run
    ("gan: {steps: 1200, log_every: 500}\n",
     "gan.steps = 1200: must be a multiple of gan.log_every (500), or at most it"),
    ("gan: {log_every: 500, generator_steps: {cgan_all_classes: 1200}}\n",
     "gan.generator_steps.cgan_all_classes = 1200: must be a multiple of gan.log_every (500)"),
    # a size the built-in profile would replace unseen
    ("gan: {steps: 3000}\n",
     "gan.steps = 3000: the quick profile sets gan.steps (2000); write it under profiles.quick"),
    ("seeds: [5]\n", "seeds = [5]: the quick profile sets seeds ([0, 1]); write it under "
                      "profiles.quick to change it"),
    ("study: tstr\ngan: {generator_steps: {cgan_all_classes: 100}}\n",
     "gan.generator_steps = 'cgan_all_classes': no such generator in study 'tstr'; it trains "
     "its generator to its last snapshot"),
    ("validity: {frechet_ratio: 0.5}\n", "validity.frechet_ratio = 0.5: must be >= 1"),
    ("generate: {select_from: 0}\n", "generate.select_from = 0: must be in [1, 50]"),
    ("evaluate: {precision: bfloat16}\n", "evaluate.precision = 'bfloat16': choose one of "
                                         "float32, mixed_bfloat16"),
])
def test_bad_parameters_give_one_line_naming_key_and_value(tmp_path, text, expected):
    with pytest.raises(config.ConfigError) as e:
        load_text(tmp_path, text)
    assert str(e.value).startswith(expected)
    assert "\n" not in str(e.value)


def test_unknown_arm_suggests_the_closest():
    with pytest.raises(config.ConfigError, match=r"\(did you mean 'smote'\?\)"):
        config.EvaluateConfig(arms=["smoot"]).validate()


def test_unknown_profile_and_missing_file(tmp_path):
    with pytest.raises(config.ConfigError, match="profile = 'quik': unknown profile"):
        config.load(DIGITS_PARAMS, "quik")
    with pytest.raises(config.ConfigError, match="no such file"):
        config.load(tmp_path / "nope.yaml")


def test_check_stops_on_absent_class_missing_file_and_empty_minority(tmp_path):
    p = write_params(tmp_path, "data: {dataset: digits}\nimbalance: {minority_class: 12}\n")
    with pytest.raises(ImbalanceError, match=r"imbalance.minority_class = 12: not a class"):
        pipeline.check(p, "smoke")
    p = write_params(tmp_path, f"data: {{dataset: npz, path: {tmp_path}/missing.npz}}\n")
    with pytest.raises(DataError, match="missing.npz: no such file"):
        pipeline.check(p, "smoke")
    p = write_params(tmp_path, "data: {dataset: digits}\nimbalance: {kept_fraction: 0.001}\n")
    with pytest.raises(ImbalanceError, match=r"kept_fraction = 0.001: keeps 0 of the"):
        pipeline.check(p, "smoke")


def test_command_line_prints_one_line_and_no_traceback(tmp_path):
    p = write_params(tmp_path, "data: {dataset: digits}\nimbalance: {kept_fraction: 2}\n")
    out = subprocess.run([sys.executable, "-m", "synthlib.pipeline", "stage", "01_imbalance",
                          "--params", str(p), "--profile", "smoke",
                          "--build-dir", str(tmp_path / "b"), "--reports-dir",
                          str(tmp_path / "r")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    lines = [l for l in out.stderr.splitlines() if l.strip() and "Warning" not in l]
    assert lines == ["error: exp.yaml: imbalance.kept_fraction = 2.0: must be in (0, 1]"]
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("target", ["report", "check", "rescore"])
def test_an_unknown_experiment_stops_make_naming_the_experiments(target):
    # -n: the guard runs as make expands the recipe, before anything is built or trained
    out = subprocess.run(["make", "-n", target, "EXP=five_minorty"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "EXP=five_minorty: no params/five_minorty.yaml; the experiments are: " \
           "bias_dcgan_vs_vae five_minority" in out.stderr


def test_report_starts_the_longest_chains_first():
    """Chains start longest first, whatever order EXP names them in; every experiment runs."""
    def chains(*args):
        out = subprocess.run(["make", "-n", "report", *args], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return re.findall(r"make --no-print-directory build/(\w+)/quick/06_writeup", out.stdout)

    everything = chains()
    assert everything[:2] == ["five_minority", "bias_dcgan_vs_vae"]
    assert sorted(everything) == sorted(p.stem for p in (Path(ROOT) / "params").glob("*.yaml"))
    assert chains("EXP=gan_vs_augmentation five_minority") == ["five_minority",
                                                                "gan_vs_augmentation"]


def test_rescore_stops_on_an_unknown_arm_or_an_unfinished_run(tmp_path, monkeypatch, capsys):
    from synthlib import runs
    from synthlib.tools import rescore

    monkeypatch.setattr(runs, "BUILD_DIR", tmp_path / "b")
    monkeypatch.setattr(runs, "REPORTS_DIR", tmp_path / "r")
    args = ["--params", DIGITS_PARAMS, "--profile", "smoke"]
    assert rescore.main(args + ["--arms", "smoe"]) == 2
    assert "--arms 'smoe': not re-scored here; choose among imbalanced" in capsys.readouterr().err
    assert rescore.main(args) == 2
    assert "no finished 05_evaluate in " in capsys.readouterr().err
    assert rescore.main(args + ["--arms", "none", "--generators"]) == 2
    assert "no finished 04_label in " in capsys.readouterr().err
    assert rescore.main(["--params", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
