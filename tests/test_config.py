import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DIGITS_PARAMS, ROOT, write_params
from synthlib import config, params, pipeline, registry
from synthlib.data import DataError
from synthlib.imbalance import ImbalanceError


def load_text(tmp_path, text, profile="quick"):
    return params.load(write_params(tmp_path, text), profile)


def test_every_params_file_is_valid_in_every_profile():
    import glob
    files = glob.glob(f"{ROOT}/params/*.yaml")
    assert files
    for f in files:
        for profile in config.PROFILES:
            cfg = params.load(f, profile)
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
    # smoke replaces every size, a generator's own budget in the file's body too; its own
    # profiles.smoke may still set one
    body = "study: augment\ngan: {generator_steps: {dcgan_per_class: 1000}}\n"
    assert load_text(tmp_path, body).gan.for_generator("dcgan_per_class").steps == 1000
    smoke = load_text(tmp_path, body, "smoke")
    assert smoke.gan.generator_steps == {} and smoke.gan.steps == 20
    own = load_text(tmp_path, body + "profiles: {smoke: {gan: {generator_steps: "
                                      "{dcgan_per_class: 40}}}}\n", "smoke")
    assert own.gan.for_generator("dcgan_per_class").steps == 40


def test_anchors_merge_keys_and_empty_sections_are_read_as_yaml_means_them(tmp_path):
    """The loader that refuses a key written twice leaves YAML's own sharing alone: `<<:`
    merges an anchored mapping, and a key written beside it overrides the merged one."""
    cfg = load_text(tmp_path, "gan: &g {latent_dim: 32, r1_weight: 1}\nprofiles:\n"
                              "  quick: {gan: {<<: *g, r1_weight: 0.5}}\n"
                              "tstr:\nbias: {}\n")  # empty sections: nothing set, no error
    assert cfg.gan.latent_dim == 32 and cfg.gan.r1_weight == 0.5


@pytest.mark.parametrize("text", [
    # one profile's arms read it: the body's setting is for that profile
    "evaluate: {tstr: false}\nprofiles: {quick: {evaluate: {arms: [imbalanced, smote]}}}\n"
    "gan: {r1_weight: 0.5}\n",
    # the TSTR table trains the conditional GAN, whatever the arms
    "evaluate: {arms: [imbalanced, upper_bound], tstr: true}\ngan: {r1_weight: 0.5}\n",
    "evaluate: {arms: [imbalanced, augmentation]}\naugmentation: {rotation: 5}\n",
    # augment makes its augmented images whatever its arms
    "study: augment\nimbalance: {per_class: 10}\nevaluate: {arms: [real, cgan_all_classes]}\n"
    "augmentation: {rotation: 5}\n",
    # rebalance's augmentation arm draws its images in batches of generate.batch_size
    "evaluate: {arms: [imbalanced, augmentation, upper_bound], tstr: false}\n"
    "generate: {batch_size: 100}\n",
    # the TSTR table's conditional GAN reads the conditional settings
    "evaluate: {arms: [imbalanced, dcgan_minority], tstr: true}\ngan: {class_loss_weight: 0.5}\n",
])
def test_a_setting_some_profile_s_arms_read_is_accepted(tmp_path, text):
    for profile in config.PROFILES:
        params.load(write_params(tmp_path, text), profile)


def test_an_override_that_adds_a_generator_arm_lets_its_settings_through(tmp_path):
    path = write_params(tmp_path, "evaluate: {arms: [imbalanced, smote], tstr: false}\n"
                                  "gan: {r1_weight: 0.3}\n")
    with pytest.raises(config.ConfigError, match="gan.r1_weight = 0.3: read only where"):
        params.load(path, "quick")
    cfg = params.load(path, "quick", overrides={"evaluate": {"arms": ["dcgan_minority"]}})
    assert cfg.gan.r1_weight == 0.3


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
    # a name is text: a list or a mapping inside the list is refused, not looked up
    ("evaluate: {arms: [[smote]]}\n", "evaluate.arms = ['smote']: unknown; choose from"),
    ("evaluate: {classifiers: [{small_cnn: 1}]}\n",
     "evaluate.classifiers = {'small_cnn': 1}: unknown; choose from seed_mlp, small_cnn"),
    ("data: {dataset: npz}\n", "data.path = '': dataset 'npz' needs a path"),
    ("profiles: {fast: {}}\n", "profiles.fast = ...: unknown profile; choose one of smoke, "
                                "quick, full"),
    # every value the file writes is checked, even where a profile overrides it
    ("gan: {steps: -5}\n", "gan.steps = -5: must be >= 1"),
    ("gan: {rotation_weight: -1}\n", "gan.rotation_weight = -1.0: must be >= 0"),
    ("profiles: {full: {gan: {steps: -5}}}\n", "profiles.full.gan.steps = -5: must be >= 1"),
    ("profiles: {smoke: {evaluate: {steps: {small_cnn: 0}}}}\n",
     "profiles.smoke.evaluate.steps.small_cnn = 0: must be an integer from 1 to 1,000,000"),
    ("evaluate: {steps: {small_cnm: 100}}\n", "evaluate.steps = 'small_cnm': unknown classifier"),
    ("evaluate: {epochs: 3}\n", "evaluate.epochs = 3: unknown key; training budgets are "
                                "optimizer steps now, the same for every arm: use evaluate.steps"),
    ("gan: {generator_steps: {dcgan_minorty: 100}}\n", "gan.generator_steps = 'dcgan_minorty': no "
     "such generator in study 'rebalance'; choose from dcgan_minority, dcgan_minority_diffaug, "
     "cgan_all_classes, cgan_all_classes_diffaug (did you mean 'dcgan_minority'?)"),
    ("gan: {generator_steps: {cgan_all_classes: 0}}\n",
     "gan.generator_steps.cgan_all_classes = 0: must be an integer from 1 to"),
    ("gan: {generator_steps: 100}\n", "gan.generator_steps = 100: expected dict"),
    # training runs in whole chunks of log_every: a budget between two would not be the one run
    ("profiles: {quick: {gan: {steps: 1200, log_every: 500}}}\n",
     "profiles.quick.gan.steps = 1200: must be a multiple of gan.log_every (500), or at most it"),
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
    # one value just past each bound: each check names its key
    ("data: {max_images: -1}\n", "data.max_images = -1: must be >= 0"),
    ("data: {image_size: 260}\n", "data.image_size = 260: must be 0 or a multiple of 4"),
    ("data: {image_size: 4}\n", "data.image_size = 4: must be 0 or a multiple of 4"),
    ("data: {image_size: 8}\n", "data.image_size = 8: must be 0 or a multiple of 4 in [12,"),
    ("data: {image_size: 30}\n", "data.image_size = 30: must be 0 or a multiple of 4"),
    ("data: {channels: 2}\n", "data.channels = 2: must be 0, 1 or 3"),
    ("data: {classes: [3, -1]}\n", "data.classes = -1: labels are integers >= 0"),
    ("data: {classes: [3, 3]}\n", "data.classes = [3, 3]: repeated class"),
    ("data: {classes: [true, 2]}\n", "data.classes = True: labels are integers >= 0"),
    ("study: tstr\ntstr: {snapshots: [true, 500]}\n", "tstr.snapshots = True: "),
    ("seeds: [1000000]\n", "seeds = 1000000: seeds are integers from 0 to 999,999"),
    ("evaluate: {chunks: 4}\nlabel: {oracle_steps: 2}\n",
     "evaluate.chunks = 4: more chunks than label.oracle_steps (2)"),
    # what a study's generators and measures leave unread
    ("study: tstr\ngan: {steps: 3000}\n", "gan.steps = 3000: read by the rebalance, augment and "
     "bias studies only, and this experiment's study is tstr"),
    ("study: tstr\nquality: {samples: 100}\n", "quality.samples = 100: read by the rebalance"),
    ("study: augment\nquality: {near_duplicate: 0.3}\n",
     "quality.near_duplicate = 0.3: read by the rebalance study only"),
    ("study: bias\ndata: {classes: [0, 1]}\nevaluate: {classifiers: [small_cnn]}\n",
     "evaluate.classifiers = ['small_cnn']: read by the rebalance, augment and tstr"),
    ("study: bias\ndata: {classes: [0, 1]}\naugmentation: {rotation: 5}\n",
     "augmentation.rotation = 5: read by the rebalance and augment studies only"),
    ("data: {classes: [5]}\n", "data.classes = [5]: one class leaves nothing to classify"),
    ("data: {path: data/mine.npz}\n", "data.path = 'data/mine.npz': dataset 'mnist' reads no "
                                      "path; for a file or folder, set data.dataset to one of "
                                      "npz, idx, folder"),
    # Written twice, an arm's rows would enter metrics.csv twice and count as two seeds.
    ("evaluate: {arms: [smote, smote, imbalanced]}\n",
     "evaluate.arms = ['smote', 'smote', 'imbalanced']: named twice"),
    ("evaluate: {classifiers: [small_cnn, small_cnn]}\n",
     "evaluate.classifiers = ['small_cnn', 'small_cnn']: named twice"),
    ("study: bias\ndata: {classes: [0, 1]}\nbias: {varied_counts: [50, 50]}\n",
     "bias.varied_counts = [50, 50]: repeated count"),
    ("profiles: {quick: {seeds: [true]}}\n", "profiles.quick.seeds = True: seeds are integers"),
    ("gan: {mode_seeking_weight: 0.05}\nprofiles: {quick: {gan: {batch_size: 1}}}\n",
     "profiles.quick.gan.batch_size = 1: the mode-seeking term compares the images of a "
     "batch in pairs"),
    # the quick profile's log_every (500) with a step count the file's own quick section sets
    ("profiles: {quick: {gan: {steps: 700}}}\n",
     "profiles.quick.gan.steps = 700: must be a multiple of gan.log_every (500)"),
    # PyYAML keeps the last of two: the first block's settings would be lost unseen
    ("gan: {steps: 10}\nseeds: [0]\ngan: {r1_weight: 1}\n",
     "gan = ...: written twice (lines 1 and 3); write it once"),
    ("gan:\n  r1_weight: 1\n  r1_weight: 2\n", "gan.r1_weight = ...: written twice (lines 2 "
     "and 3)"),
    # one experiment, one study, whatever the profile
    ("profiles: {smoke: {experiment: five_minority}}\n",
     "profiles.smoke.experiment = 'five_minority': the same for every profile"),
    ("profiles: {full: {study: tstr}}\n", "profiles.full.study = 'tstr': the same for every"),
    ("profiles: {smoke: {profiles: {}}}\n",
     "profiles.smoke.profiles = {}: a section of the file's top level"),
    ("profiles: {full: {profile: full}}\n",
     "profiles.full.profile = 'full': chosen when the run starts (PROFILE=...)"),
    ("gan:\n  ? [a, b]\n  : 1\n", "params_file = "),  # PyYAML's words: an unhashable key
    ("study: augment\nevaluate: {tstr: false}\n",
     "evaluate.tstr = False: read by the rebalance study only"),
    # a setting another study reads would change nothing here
    ("study: augment\nimbalance: {kept_fraction: 0.02}\n",
     "imbalance.kept_fraction = 0.02: read by the rebalance study only, and this experiment's "
     "study is augment: it would change nothing"),
    ("imbalance: {per_class: 100}\n", "imbalance.per_class = 100: read by the augment and "
     "tstr studies only, and this experiment's study is rebalance"),
    ("profiles: {smoke: {tstr: {snapshots: [10, 20]}}}\n",
     "profiles.smoke.tstr.snapshots = [10, 20]: read by the tstr study only"),
    ("study: tstr\nbias: {varied_class: 3}\n", "bias.varied_class = 3: read by the bias study"),
    ("gan: {kl_weight: 4}\n", "gan.kl_weight = 4: read by the bias study only"),  # the VAE's
    ("validity: {share_gap: 0.2}\n", "validity.share_gap = 0.2: read by the bias study only"),
    # tstr's labeller is judged by validity.real_accuracy, and bias compares no arms
    ("study: tstr\nlabel: {threshold: 0.9}\n", "label.threshold = 0.9: read by the rebalance, "
     "augment and bias studies only"),
    ("study: tstr\nvalidity: {oracle_accuracy: 0.9}\n", "validity.oracle_accuracy = 0.9: read "
     "by the rebalance, augment and bias studies only"),
    ("study: bias\ndata: {classes: [0, 1]}\nvalidity: {spread_floor: 0.02}\n",
     "validity.spread_floor = 0.02: read by the rebalance, augment and tstr studies only"),
    ("study: bias\ndata: {classes: [0, 1]}\nlabel: {filter: true}\n",
     "label.filter = True: read by the rebalance study only"),
    # a class by its name: the settings take numbers, which make check names
    ("imbalance: {minority_class: Shirt}\n", "imbalance.minority_class = 'Shirt': expected "
     "int; classes are set by number: put one, and `make check` lists each one's name"),
    # a setting only arms that no profile runs read would change nothing too
    ("evaluate: {arms: [imbalanced, smote, upper_bound], tstr: false}\ngan: {r1_weight: 0.3}\n",
     "gan.r1_weight = 0.3: read only where a profile trains a generator, and no profile of this "
     "experiment does (evaluate.arms, evaluate.tstr): it would change nothing"),
    # bias: a setting of the model its arms do not train
    ("study: bias\ndata: {classes: [0, 1, 7]}\nevaluate: {arms: [dcgan]}\ngan: {kl_weight: 2}\n",
     "gan.kl_weight = 2: read only where a profile trains the VAE, and no profile of this "
     "experiment does (evaluate.arms)"),
    ("study: bias\ndata: {classes: [0, 1, 7]}\nevaluate: {arms: [vae]}\ngan: {r1_weight: 0.2}\n",
     "gan.r1_weight = 0.2: read only where a profile trains the DCGAN"),
    ("evaluate: {arms: [imbalanced, upper_bound], tstr: false}\nlabel: {filter: false}\n",
     "label.filter = False: read only where a profile trains a generator"),
    ("evaluate: {arms: [imbalanced, augmentation], tstr: false}\n"
     "generate: {oversample: 2.0}\n", "generate.oversample = 2.0: read only where a profile "
     "trains a generator"),
    ("evaluate: {arms: [imbalanced, dcgan_minority]}\naugmentation: {rotation: 5}\n",
     "augmentation.rotation = 5: read only where a profile runs the augmentation arm, and no "
     "profile of this experiment does (evaluate.arms)"),
    ("evaluate: {tstr: false, tstr_classifier: seed_mlp}\n",
     "evaluate.tstr_classifier = 'seed_mlp': read only where a profile makes the TSTR table, "
     "and no profile of this experiment does (evaluate.tstr)"),
    # the conditional GAN's and the unconditional ones' own settings
    ("evaluate: {arms: [imbalanced, dcgan_minority], tstr: false}\n"
     "gan: {class_loss_weight: 0.5}\n", "gan.class_loss_weight = 0.5: read only where a "
     "profile trains a conditional GAN"),
    ("evaluate: {arms: [imbalanced, cgan_all_classes]}\ngenerate: {select_from: 4}\n",
     "generate.select_from = 4: read only where a profile trains an unconditional GAN"),
    ("study: augment\nimbalance: {per_class: 10}\nevaluate: {arms: [real, cgan_all_classes]}\n"
     "generate: {batch_statistics: false}\n", "generate.batch_statistics = False: read only "
     "where a profile trains an unconditional GAN"),
    ("study: augment\nimbalance: {per_class: 10}\nevaluate: {arms: [real, augmentation]}\n"
     "gan: {r1_weight: 0.5}\n", "gan.r1_weight = 0.5: read only where a profile trains a "
     "generator, and no profile"),
    # a profile's own setting, where that profile runs no such arm (full does)
    ("profiles:\n  quick: {evaluate: {arms: [imbalanced, smote], tstr: false}, "
     "gan: {latent_dim: 32}}\n", "profiles.quick.gan.latent_dim = 32: read only where a "
     "profile trains a generator, and the quick profile does not"),
    ("gan: {architecture: light_dcgna}\n", "gan.architecture = 'light_dcgna': unknown "
     f"architecture; choose one of {', '.join(registry.GAN_ARCHITECTURES)} (did you mean "
     "'light_dcgan'?)"),
    # make knows it by the file's name: another would run into, and clear, that one's folders
    ("experiment: five_minority\n", "experiment = 'five_minority': an experiment is named by "
                                    "its params file (exp); rename the file to "
                                    "five_minority.yaml rather"),
    # `experiment:` left empty, or not a name: the file's name is the one to write
    ("experiment:\n", "experiment = None: an experiment is named by its params file; write "
                      "experiment: exp, or leave the key out"),
    ("experiment: [exp]\n", "experiment = ['exp']: an experiment is named by its params file;"),
    ("study:\n", "study = None: expected one of rebalance, augment, tstr, bias"),
    ("study: [augment]\n", "study = ['augment']: expected one of rebalance, augment, tstr"),
    ("study: 1\n", "study = 1: expected one of rebalance, augment, tstr, bias"),
    ("profile: full\n", "profile = 'full': chosen when the run starts (make report "
                        "PROFILE=full"),
    ("profiles: [quick]\n", "profiles = ['quick']: expected a mapping of profile names"),
    ("profiles: {full: 5}\n", "profiles.full = 5: expected a mapping of settings"),
    ("split: {validation_fraction: 0}\n", "split.validation_fraction = 0.0: must be in (0, 1)"),
    ("split: {test_fraction: 1}\n", "split.test_fraction = 1.0: must be in (0, 1)"),
    ("split: {validation_fraction: 0.3, test_fraction: 0.65}\n",
     "split.test_fraction = 0.65: validation + test must leave at least 10%"),
    ("imbalance: {per_class: -1}\n", "imbalance.per_class = -1: must be >= 0"),
    ("imbalance: {minority_class: -1}\n", "imbalance.minority_class = -1: must be a class"),
    ("gan: {precision: float16}\n", "gan.precision = 'float16': choose one of float32"),
    ("gan: {optimizer: sgd}\n", "gan.optimizer = 'sgd': choose one of adam, rmsprop"),
    ("gan: {latent_dim: 0}\n", "gan.latent_dim = 0: must be >= 1"),
    ("gan: {batch_size: 0}\n", "gan.batch_size = 0: must be >= 1"),
    ("gan: {log_every: 0}\n", "gan.log_every = 0: must be >= 1"),
    ("gan: {d_learning_rate: 1}\n", "gan.d_learning_rate = 1.0: must be in (0, 1)"),
    ("gan: {g_learning_rate: 0}\n", "gan.g_learning_rate = 0.0: must be in (0, 1)"),
    ("gan: {beta_1: 1}\n", "gan.beta_1 = 1.0: must be in [0, 1)"),
    ("gan: {class_loss_weight: -0.5}\n", "gan.class_loss_weight = -0.5: must be >= 0"),
    ("gan: {r1_weight: -0.5}\n", "gan.r1_weight = -0.5: must be >= 0"),
    ("gan: {mode_seeking_weight: -0.5}\n", "gan.mode_seeking_weight = -0.5: must be >= 0"),
    ("study: bias\ngan: {kl_weight: 0}\n", "gan.kl_weight = 0.0: must be > 0 (0 leaves an "
     "autoencoder"),
    ("generate: {per_class: 0}\n", "generate.per_class = 0: must be from 1 to 100,000"),
    ("study: augment\ngenerate: {per_class: 1000000000}\n",
     "generate.per_class = 1000000000: must be from 1 to 100,000"),
    ("gan: {latent_dim: 1000000000}\n", "gan.latent_dim = 1000000000: must be at most 65,536"),
    # a step budget's extra zeros would train for weeks
    ("profiles: {full: {gan: {steps: 200000000}}}\n",
     "profiles.full.gan.steps = 200000000: must be at most 1,000,000"),
    ("profiles: {quick: {gan: {log_every: 200000000}}}\n",
     "profiles.quick.gan.log_every = 200000000: must be at most 1,000,000"),
    ("study: augment\ngan: {generator_steps: {cgan_all_classes: 20000000}}\n",
     "gan.generator_steps.cgan_all_classes = 20000000: must be an integer from 1 to 1,000,000"),
    ("evaluate: {steps: 2000000000}\n",
     "evaluate.steps.seed_mlp = 2000000000: must be an integer from 1 to 1,000,000"),
    ("label: {oracle_steps: 3000000}\n", "label.oracle_steps = 3000000: must be at most"),
    ("label: {filter_steps: 3000000}\n", "label.filter_steps = 3000000: must be at most"),
    ("study: tstr\ntstr: {snapshots: [500, 5000000000]}\n",
     "tstr.snapshots = 5000000000: step counts are integers from 1 to 1,000,000"),
    ("evaluate: {batch_size: 1000000000}\n",
     "evaluate.batch_size = 1000000000: must be from 1 to 65,536"),
    ("generate: {oversample: 0.5}\n", "generate.oversample = 0.5: must be in [1, 10]"),
    ("generate: {oversample: 11}\n", "generate.oversample = 11.0: must be in [1, 10]"),
    ("generate: {batch_size: 0}\n", "generate.batch_size = 0: must be from 1 to 65,536"),
    ("generate: {select_from: 51}\n", "generate.select_from = 51: must be in [1, 50]"),
    ("augmentation: {rotation: 190}\n", "augmentation.rotation = 190.0: must be in [0, 180]"),
    ("augmentation: {zoom: 1}\n", "augmentation.zoom = 1.0: must be in [0, 1)"),
    ("augmentation: {translation: -0.1}\n", "augmentation.translation = -0.1: must be in"),
    ("augmentation: {brightness: 1}\n", "augmentation.brightness = 1.0: must be in [0, 1)"),
    ("quality: {samples: 9}\n", "quality.samples = 9: must be >= 10"),
    ("quality: {draws: 0}\n", "quality.draws = 0: must be >= 1"),
    ("quality: {near_duplicate: 0}\n", "quality.near_duplicate = 0.0: must be in (0, 1]"),
    ("quality: {near_duplicate: 1.5}\n", "quality.near_duplicate = 1.5: must be in (0, 1]"),
    ("label: {oracle_steps: 0}\n", "label.oracle_steps = 0: must be >= 1"),
    ("label: {filter_steps: 0}\n", "label.filter_steps = 0: must be >= 1"),
    ("label: {threshold: 1.5}\n", "label.threshold = 1.5: must be in [0, 1]"),
    ("label: {filter_threshold: -0.1}\n", "label.filter_threshold = -0.1: must be in [0, 1]"),
    ("validity: {oracle_accuracy: 1.1}\n", "validity.oracle_accuracy = 1.1: must be in [0, 1]"),
    ("validity: {label_agreement: -0.1}\n", "validity.label_agreement = -0.1: must be in"),
    ("validity: {real_accuracy: 1.1}\n", "validity.real_accuracy = 1.1: must be in [0, 1]"),
    ("validity: {spread_floor: 1}\n", "validity.spread_floor = 1.0: must be in [0, 1)"),
    ("study: bias\ndata: {classes: [0, 1, 7]}\nvalidity: {share_gap: 0}\n",
     "validity.share_gap = 0.0: must be in (0, 1)"),
    ("tstr: {snapshots: []}\n", "tstr.snapshots = []: must list at least one step count"),
    ("tstr: {snapshots: [0, 500]}\n", "tstr.snapshots = 0: step counts are integers from 1 to"),
    ("tstr: {snapshots: [1000, 500]}\n", "tstr.snapshots = [1000, 500]: must be increasing"),
    ("tstr: {snapshots: [500, 500]}\n", "tstr.snapshots = [500, 500]: must be increasing"),
    ("study: tstr\ntstr: {snapshots: [500, 750]}\n",
     "tstr.snapshots = 750: must be a multiple of gan.log_every (500)"),
    ("bias: {fixed_count: 0}\n", "bias.fixed_count = 0: must be >= 1"),
    ("bias: {varied_counts: []}\n", "bias.varied_counts = []: must list at least one count"),
    ("bias: {varied_counts: [50, 0]}\n", "bias.varied_counts = 0: counts are integers >= 1"),
    ("study: bias\n", "data.classes = []: the bias study needs the classes of its mixes"),
    ("study: bias\ndata: {classes: [3, 7]}\n",
     "bias.varied_class = 1: must be one of data.classes [3, 7]"),
    ("evaluate: {classifiers: []}\n", "evaluate.classifiers = []: must name at least one"),
    ("evaluate: {arms: []}\nstudy: bogus\n", "study = 'bogus': unknown study"),
    ("evaluate: {tstr_classifier: resnet}\n", "evaluate.tstr_classifier = 'resnet': unknown"),
    ("evaluate: {chunks: 3}\n", "evaluate.chunks = 3: must be an even number >= 2"),
    ("evaluate: {chunks: 0}\n", "evaluate.chunks = 0: must be an even number >= 2"),
    ("evaluate: {chunks: 100000}\n", "evaluate.chunks = 100000: more chunks than the 40000 "
                                     "steps of classifier 'seed_mlp'"),
    ("evaluate: {batch_size: 0}\n", "evaluate.batch_size = 0: must be from 1 to 65,536"),
    ("seeds: []\n", "seeds = []: must list at least one seed"),
    ("profiles_x: 1\n", "profiles_x = 1: unknown key (did you mean 'profiles'?)"),
    ("GAN: {steps: 100}\n", "GAN = ...: unknown key (did you mean 'gan'?)"),
    # no name near it: the names there are
    ("imbalance: {xyz: 3}\n", "imbalance.xyz = 3: unknown key; the settings of imbalance are "
                              "minority_class, kept_fraction, per_class"),
    ("zzz: 3\n", "zzz = 3: unknown key; the file's top-level keys are experiment, description, "
                 "study, seeds, data, split, imbalance, gan,"),
    ("profiles: {quick: {zzz: 3}}\n", "profiles.quick.zzz = 3: unknown key; a profile sets "
                                      "description, seeds, data, split,"),
    ("gan: {profiles: {full: {steps: 3500}}}\n",
     "gan.profiles = ...: unknown key here; profiles: is a section of the file's top level"),
    # three seeds, or the seed numbered 3?
    ("profiles: {quick: {seeds: 3}}\n", "profiles.quick.seeds = 3: expected a list of seeds, "
                                        "e.g. [0, 1, 2] for three seeds, or [3] for that seed "
                                        "alone"),
    ("seeds: [0, -1]\n", "seeds = -1: seeds are integers from 0 to 999,999"),
    ("seeds: [0, 0]\n", "seeds = [0, 0]: repeated seed"),
    # numbers are taken as written only where exact
    ("gan: {latent_dim: 1.5}\n", "gan.latent_dim = 1.5: expected int"),
    ("gan: {latent_dim: true}\n", "gan.latent_dim = True: expected int"),
    ("augmentation: {rotation: .nan}\n", "augmentation.rotation = nan: expected float"),
    ("augmentation: {zoom: .inf}\n", "augmentation.zoom = inf: expected float"),
    ("label: {filter: maybe}\n", "label.filter = 'maybe': expected bool (true or false)"),
    ("gan: {steps: many}\n",
     "gan.steps = 'many': expected int (a whole number such as its default, 1500)"),
    # a setting written in the wrong section names the one it belongs in
    ("minority_class: 3\n", "minority_class = 3: unknown key here; it is a setting of "
                            "imbalance: write it under imbalance:"),
    ("gan: {kept_fraction: 0.1}\n", "gan.kept_fraction = 0.1: unknown key here; it is a "
                                    "setting of imbalance: write it under imbalance:"),
    ("batch_size: 32\n", "batch_size = 32: unknown key here; it is a setting of gan, generate "
                         "and evaluate: write it under the one you mean"),
    # a misspelt section: its contents would only hide the name
    ("evaluat: {arms: [imbalanced], tstr: false}\n",
     "evaluat = ...: unknown key (did you mean 'evaluate'?)"),
    # a budget for a generator none of the experiment's profiles trains would change nothing
    ("evaluate: {arms: [imbalanced, dcgan_minority], tstr: false}\n"
     "gan: {generator_steps: {cgan_all_classes: 500}}\n",
     "gan.generator_steps.cgan_all_classes = 500: read only where a profile trains "
     "cgan_all_classes, and no profile of this experiment does"),
    ("- a\n- b\n", "params_file = "),
    ("gan: 5\n", "gan = 5: expected a mapping"),
    ("gan:\n  r1_weight:1\n", "gan = 'r1_weight:1': expected a mapping (a space after each "
                             "colon: `key: value`)"),
    # a value of the wrong kind says what the setting takes
    ("data: {dataset: }\n", "data.dataset = None: expected str; choose one of mnist, digits,"),
    ("profiles: {full: {gan: {optimizer: [adam]}}}\n",
     "profiles.full.gan.optimizer = ['adam']: expected str; choose one of adam, rmsprop"),
    ("description:\n", "description = None: expected str (text)"),
    ("evaluate: {steps: [100, 200]}\n", "evaluate.steps = [100, 200]: expected dict (a mapping "
     "of names to step counts, e.g. {small_cnn: 1000}, or one whole number for every "
     "classifier)"),
    ("gan: {generator_steps: [cgan_all_classes, 100]}\n", "gan.generator_steps = "
     "['cgan_all_classes', 100]: expected dict (a mapping of names to step counts, e.g. "
     "{cgan_all_classes: 1000})"),
    # names written with commas but no brackets are one name to YAML
    ("evaluate:\n  arms: smote, upper_bound\n",
     "evaluate.arms = 'smote, upper_bound': expected a list; write [smote, upper_bound]"),
    ("profiles: {quick: {seeds: '0-3'}}\n", "profiles.quick.seeds = '0-3': expected a list of "
     "seeds, e.g. [0, 1, 2] for three seeds"),
    ("profiles: {quick: {imbalance: {minority_class: Shirt}}}\n",
     "profiles.quick.imbalance.minority_class = 'Shirt': expected int; classes are set by"),
    ("augmentation: {rotation: ten}\n", "augmentation.rotation = 'ten': expected float"),
    # the TSTR table's classifier is checked for convergence only as an evaluation classifier
    ("evaluate: {classifiers: [seed_mlp]}\n", "evaluate.tstr_classifier = 'small_cnn': must "
                                              "be one of evaluate.classifiers ['seed_mlp']"),
])
def test_bad_parameters_give_one_line_naming_key_and_value(tmp_path, text, expected):
    with pytest.raises(config.ConfigError) as e:
        load_text(tmp_path, text)
    assert str(e.value).startswith(expected)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("text, expected", [
    ("gan: {steps: 100\n", "expected ',' or '}', but got '<stream end>' at line 2, column 1"),
    ("gan:\n  steps: 100\n r1_weight: 1\n",  # one space short
     "expected <block end>, but found '<block mapping start>' at line 3, column 2"),
])
def test_yaml_that_does_not_parse_says_what_and_where(tmp_path, text, expected):
    with pytest.raises(config.ConfigError) as e:
        load_text(tmp_path, text)
    assert str(e.value).endswith(f": not valid YAML ({expected})")


def test_a_tab_in_the_yaml_says_to_indent_with_spaces(tmp_path):
    with pytest.raises(config.ConfigError) as e:
        load_text(tmp_path, "gan:\n\tsteps: 100\n")
    assert str(e.value).endswith("at line 2, column 1); indent with spaces: YAML takes no tabs")


@pytest.mark.parametrize("text", [
    # smoke's log_every is 10: 150 steps are 15 chunks of it, not one and a half of the default's
    "profiles: {smoke: {gan: {steps: 150}}}\n",
    # a profile's own log_every with the profile's steps (2,000): the default's 1,500 is not run
    "profiles: {quick: {gan: {log_every: 400}}}\n",
    # the body's budget is held to the log_every of the profiles it applies to (smoke drops it)
    "study: augment\ngan: {generator_steps: {cgan_all_classes: 750}}\n"
    "profiles: {quick: {gan: {log_every: 250}}, full: {gan: {log_every: 250}}}\n",
    # tstr trains to its last snapshot, not to the profile's gan.steps, which it does not read
    "study: tstr\nprofiles: {quick: {gan: {log_every: 300}, tstr: {snapshots: [300, 900]}}}\n",
])
def test_step_budgets_are_held_to_the_log_every_of_the_profile_they_run_in(tmp_path, text):
    for profile in config.PROFILES:
        params.load(write_params(tmp_path, text), profile)
    with pytest.raises(config.ConfigError, match=r"^profiles.full.gan.steps = 3750: must be a "
                                                 r"multiple of gan.log_every \(500\)"):
        load_text(tmp_path, "profiles: {full: {gan: {steps: 3750}}}\n", "full")


def test_the_filter_s_steps_are_held_to_the_chunks_only_where_the_filter_trains(tmp_path):
    text = ("label: {filter: %s}\n"  # smoke replaces the body's sizes; its own section stands
            "profiles: {smoke: {evaluate: {chunks: 4}, label: {filter_steps: 2}}}\n")
    params.load(write_params(tmp_path, text % "false"), "smoke")
    with pytest.raises(config.ConfigError, match="more chunks than label.filter_steps"):
        params.load(write_params(tmp_path, text % "true"), "smoke")


def test_a_params_file_that_is_not_utf8_says_so_in_one_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("description: café\n".encode("latin-1"))
    with pytest.raises(config.ConfigError, match=r"not UTF-8 text \(byte 0xe9 at offset 16\); "
                                                 r"save it as UTF-8$"):
        params.load(path)


@pytest.mark.parametrize("args, message", [
    (["report", "JOBS=0"], "JOBS=0: how many experiments run at once, 1 or more"),
    (["report", "JOBS=two"], "JOBS=two: how many experiments run at once"),
    (["setup", "GPU=yes"], "GPU=yes: 1 turns it on; 0, or leaving it out, leaves it off"),
    (["setup", "MNIST=all"], "MNIST=all: full fetches all 70,000 digits"),
    (["rescore", "EXP=five_minority", "GENERATORS=yes"], "GENERATORS=yes: 1 turns it on"),
])
def test_make_refuses_a_switch_or_a_count_it_would_misread(args, message):
    out = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode != 0 and message in out.stderr


def test_a_params_file_make_cannot_name_is_refused_rather_than_split(tmp_path):
    """`params/my exp.yaml` would be two experiments to make, `my` and `exp`, and break every
    `make report`."""
    import shutil

    clone = tmp_path / "repo"
    (clone / "params").mkdir(parents=True)
    for name in ("Makefile", "requirements.txt", "pyproject.toml"):
        shutil.copy(Path(ROOT) / name, clone)
    (clone / ".venv").mkdir()
    (clone / ".venv" / ".installed").touch()  # set up: make goes straight to the check
    for name in ("five_minority.yaml", "my exp.yaml"):
        (clone / "params" / name).write_text("seeds: [0]\n")
    out = subprocess.run(["make", "-n", "check"], cwd=clone, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode != 0
    assert "params/my exp.yaml: an experiment's name is letters, digits, _ . - only" in out.stderr


def test_an_experiment_named_with_a_dot_runs_by_its_name(tmp_path):
    """`three.v2` is a name the README allows: make must not cut it at its dot, and so
    refuse every experiment."""
    import shutil

    clone = tmp_path / "repo"
    (clone / "params").mkdir(parents=True)
    for name in ("Makefile", "requirements.txt", "pyproject.toml"):
        shutil.copy(Path(ROOT) / name, clone)
    (clone / ".venv").mkdir()
    (clone / ".venv" / ".installed").touch()
    for name in ("five_minority.yaml", "three.v2.yaml"):
        (clone / "params" / name).write_text("seeds: [0]\n")
    for args, names in ((["EXP=three.v2"], "three.v2"),
                        (["EXP=params/three.v2.yaml"], "three.v2"),
                        ([], "five_minority three.v2")):
        out = subprocess.run(["make", "-n", "check", *args], cwd=clone, capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert f"for e in {names}; do" in out.stdout


def test_unknown_arm_suggests_the_closest():
    with pytest.raises(config.ConfigError, match=r"\(did you mean 'smote'\?\)"):
        config.EvaluateConfig(arms=["smoot"]).validate()


def test_a_renamed_arm_names_its_new_name():
    with pytest.raises(config.ConfigError, match=r"\(renamed: now 'synthetic_labeller_labels'\)"):
        config.EvaluateConfig(arms=["real", "synthetic_oracle_labels"]).validate("tstr")


def test_unknown_profile_and_missing_file(tmp_path):
    with pytest.raises(config.ConfigError, match="profile = 'quik': unknown profile"):
        params.load(DIGITS_PARAMS, "quik")
    with pytest.raises(config.ConfigError, match="no such file"):
        params.load(tmp_path / "nope.yaml")
    # an experiment's name alone, as make takes it (EXP=...), names its params file
    assert params.load("five_minority", "smoke").experiment == "five_minority"
    with pytest.raises(config.ConfigError, match="the experiments are .*five_minority.* "
                                                 r"\(did you mean 'five_minority'\?\)"):
        params.load("five_minorty", "smoke")


def test_check_stops_on_absent_class_missing_file_and_empty_minority(tmp_path):
    p = write_params(tmp_path, "data: {dataset: digits}\nimbalance: {minority_class: 12}\n")
    with pytest.raises(ImbalanceError, match=r"imbalance.minority_class = 12: not a class"):
        pipeline.check(p, "smoke")
    p = write_params(tmp_path, f"data: {{dataset: npz, path: {tmp_path}/missing.npz}}\n")
    with pytest.raises(DataError, match="missing.npz': nothing there$"):
        pipeline.check(p, "smoke")
    p = write_params(tmp_path, "data: {dataset: digits}\nimbalance: {kept_fraction: 0.001}\n")
    with pytest.raises(ImbalanceError, match=r"kept_fraction = 0.001: keeps 0 of the"):
        pipeline.check(p, "smoke")


def test_check_checks_the_parameters_at_every_profile(tmp_path):
    """"valid" holds whichever profile runs next: seeds in the body, which the full profile
    replaces, pass at quick and stop at full."""
    p = write_params(tmp_path, "data: {dataset: digits}\nseeds: [0, 1]\n")
    assert params.load(p, "quick").seeds == [0, 1]
    with pytest.raises(config.ConfigError, match=r"^at PROFILE=full: seeds = \[0, 1\]: the "
                                                 r"full profile sets seeds"):
        pipeline.check(p, "smoke", every_profile=True)
    pipeline.check(p, "smoke")  # a run's own 01 checks the profile it runs


def test_check_stops_where_04_would_have_too_few_real_minority_images_to_measure_by(tmp_path):
    """Found before the GANs train, not after; with no GAN arm nothing is measured by them."""
    text = "data: {dataset: digits}\nsplit: {validation_fraction: 0.01}\n"
    with pytest.raises(ImbalanceError, match=r"split.validation_fraction = 0.01: seed 0's "
                                             r"validation split holds \d image\(s\) of class 5"):
        pipeline.check(write_params(tmp_path, text), "smoke")
    classic = text + "evaluate: {arms: [imbalanced, smote, upper_bound], tstr: false}\n"
    pipeline.check(write_params(tmp_path, classic), "smoke")


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


# as make lists them: params/*.yaml by name (a new experiment is one more file)
EXPERIMENTS = " ".join(sorted(p.stem for p in Path(ROOT, "params").glob("*.yaml")))


@pytest.mark.parametrize("target", ["report", "check", "rescore"])
def test_an_unknown_experiment_stops_make_naming_the_experiments(target):
    # -n: the guard runs as make expands the recipe, before anything is built or trained
    out = subprocess.run(["make", "-n", target, "EXP=five_minorty"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert ("EXP=five_minorty: no params/five_minorty.yaml; the experiments are: "
            + EXPERIMENTS) in out.stderr


@pytest.mark.parametrize("args, message", [
    (["EXP="], "EXP is empty; the experiments are: " + EXPERIMENTS),
    (["EXP=five_minority,bias_dcgan_vs_vae"], "EXP=five_minority,bias_dcgan_vs_vae: separate "
     'experiments with spaces, EXP="five_minority bias_dcgan_vs_vae"'),
    (["PROFILE=fast"], "PROFILE=fast: no such profile; the profiles are: smoke quick full"),
    (["PROFILE=quick full"], "PROFILE=quick full: no such profile"),
    # the driver's --params, given to make: it would check or run every experiment instead
    (["PARAMS=params/five_minority.yaml"], "PARAMS=params/five_minority.yaml: make takes the "
     "experiment as EXP, e.g. EXP=five_minority"),
    # make's names are case-sensitive: profile=smoke would run the default profile instead
    (["profile=smoke"], "profile=smoke: make's variables are upper case; write PROFILE=smoke"),
    (["exp=five_minority"], "exp=five_minority: make's variables are upper case; write "
     "EXP=five_minority"),
])
def test_an_empty_or_comma_separated_exp_or_an_unknown_profile_stops_make_first(args, message):
    """Before any chain starts: not make's usage text for -j0, nor a lock folder per chain."""
    out = subprocess.run(["make", "-n", "report", *args], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and message in out.stderr, out.stderr
    assert "chain-" not in out.stdout


def test_make_knows_the_profiles_config_has():
    makefile = (Path(ROOT) / "Makefile").read_text()
    assert re.search(r"^PROFILES := (.*)$", makefile, re.M).group(1).split() == list(
        config.PROFILES_ORDER)


def test_setup_gpu_swaps_in_tensorflow_s_cuda_build_at_the_pinned_version():
    requirements = (Path(ROOT) / "requirements.txt").read_text()
    pinned = re.search(r"^tensorflow-cpu==([\d.]+)", requirements, re.M).group(1)

    def dry_run(*args):  # -B: the venv's recipe as a fresh clone would run it; -n: nothing runs
        out = subprocess.run(["make", "-n", "-B", "setup", *args], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return [line for line in out.stdout.splitlines() if not line.startswith("#")]

    gpu = dry_run("GPU=1")
    swap = next(i for i, line in enumerate(gpu) if "tensorflow[and-cuda]" in line)
    assert gpu[swap].endswith(f'pip uninstall --quiet -y tensorflow-cpu && .venv/bin/python -m '
                              f'pip install --quiet "tensorflow[and-cuda]=={pinned}"')
    assert "-r requirements.txt" in gpu[swap - 1] and "-e ." in gpu[swap + 1]
    assert not any("cuda" in line or "uninstall" in line for line in dry_run())


def test_setup_mnist_full_asks_for_all_70000_digits():
    def fetch_line(*args):
        out = subprocess.run(["make", "-n", "setup", *args], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return next(line for line in out.stdout.splitlines() if "-m synthlib.mnist" in line)
    assert "synthlib.mnist --full" in fetch_line("MNIST=full")
    assert "--full" not in fetch_line()



@pytest.mark.parametrize("value, on", [("", False), ("0", False), ("1", True)])
def test_rescore_reads_the_generators_only_with_generators_1(value, on):
    """GENERATORS=0 means off, as GPU=0 does for setup: not any non-empty value."""
    out = subprocess.run(["make", "-n", "rescore", "EXP=five_minority", f"GENERATORS={value}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert ("--generators" in out.stdout) == on


def test_help_lists_every_target_once_a_newcomer_s_first_commands_first():
    out = subprocess.run(["make", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    listed = re.findall(r"^  make (\S+)", out.stdout, re.M)
    documented = re.findall(r"^([a-z-]+):.*## ", (Path(ROOT) / "Makefile").read_text(), re.M)
    assert sorted(listed) == sorted(documented)
    assert listed[:5] == ["setup", "report", "check", "test", "lab"]
    assert all(len(line) <= 100 for line in out.stdout.splitlines()
               if line.startswith(("  make ", " " * 21)))


def test_a_dataset_put_in_the_data_folder_starts_each_chain_again(tmp_path):
    """01 depends on MNIST's caches as on its params file: the full MNIST put in data/ after a
    run on the 10k fallback must not leave that run's reports standing as up to date."""
    (tmp_path / "mnist.npz").write_bytes(b"")
    out = subprocess.run(["make", "-pn", "help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, env={**os.environ, "SYNTHLIB_DATA": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    for e in (p.stem for p in (Path(ROOT) / "params").glob("*.yaml")):
        rule = re.search(rf"^build/{e}/quick/01_imbalance\.ipynb:(.*)$", out.stdout, re.M)
        assert str(tmp_path / "mnist.npz") in rule.group(1).split(), e


def test_report_starts_the_longest_chains_first():
    """Chains start longest first, whatever order EXP names them in; every experiment runs."""
    def chains(*args):
        out = subprocess.run(["make", "-n", "report", *args], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        # make runs a line that calls $(MAKE) even under -n: a dry run's chain takes no lock
        # and publishes nothing
        assert "--lock" not in out.stdout and "--publish" not in out.stdout
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
    # a run whose params file has changed since: its stage record stops the re-scoring
    run = runs.Run(DIGITS_PARAMS, "smoke")
    for stage in runs.NOTEBOOKS[:5]:
        (run.dir / f"{stage}.ipynb").touch()
    for work in runs.WORK:
        run.record_stage(work)
    run.cfg.gan.steps += 1
    run.record_stage("train")
    assert rescore.main(args + ["--arms", "none", "--generators"]) == 2
    assert "02_train_gan last ran with other settings" in capsys.readouterr().err
    run.record_stage("label", finished=False)
    run.cfg.gan.steps -= 1
    run.record_stage("train")
    assert rescore.main(args) == 2
    assert "04_label last ran with other settings" in capsys.readouterr().err
    assert rescore.main(["--params", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("section, values", [
    (config.DataConfig, {"max_images": 0, "image_size": 12, "channels": 3, "classes": [0, 9]}),
    (config.DataConfig, {"image_size": 256, "channels": 1}),
    (config.ImbalanceConfig, {"kept_fraction": 1.0, "per_class": 0, "minority_class": 0}),
    (config.GanConfig, {"beta_1": 0.0, "class_loss_weight": 0.0, "r1_weight": 0.0,
                        "mode_seeking_weight": 0.0, "rotation_weight": 0.0, "steps": 50,
                        "log_every": 100, "generator_steps": {"dcgan_minority": 300}}),
    (config.GenerateConfig, {"oversample": 1.0, "select_from": 50}),
    (config.GenerateConfig, {"oversample": 10.0, "select_from": 1}),
    (config.AugmentationConfig, {"rotation": 180.0, "zoom": 0.0, "brightness": 0.0}),
    (config.QualityConfig, {"samples": 10, "draws": 1, "near_duplicate": 1.0}),
    (config.LabelConfig, {"threshold": 0.0, "filter_threshold": 1.0}),
    (config.ValidityConfig, {"oracle_accuracy": 1.0, "label_agreement": 0.0,
                             "frechet_ratio": 1.0, "spread_floor": 0.0}),
    (config.TstrConfig, {"snapshots": [1]}),
    # the largest step budgets
    (config.GanConfig, {"steps": config.MAX_STEPS, "log_every": config.MAX_STEPS,
                        "generator_steps": {"dcgan_minority": config.MAX_STEPS}}),
    (config.LabelConfig, {"oracle_steps": config.MAX_STEPS, "filter_steps": config.MAX_STEPS}),
    (config.TstrConfig, {"snapshots": [config.MAX_STEPS]}),
    (config.EvaluateConfig, {"steps": {"small_cnn": config.MAX_STEPS}}),
    (config.BiasConfig, {"fixed_count": 1, "varied_counts": [1]}),
    (config.EvaluateConfig, {"chunks": 2, "batch_size": 1, "steps": {"small_cnn": 1}}),
])
def test_each_bound_itself_is_accepted(section, values):
    section(**values).validate()


def test_a_generator_budget_is_a_whole_number():
    for v in (1.5, True):
        with pytest.raises(config.ConfigError, match="generator_steps.dcgan_minority = "):
            config.GanConfig(generator_steps={"dcgan_minority": v}).validate()


def test_every_classifier_evaluated_needs_a_step_budget():
    cfg = config.Config(experiment="x", evaluate=config.EvaluateConfig(steps={"small_cnn": 5}))
    with pytest.raises(config.ConfigError, match="names no step budget for classifier 'seed_mlp'"):
        cfg.validate()
    cfg = config.Config(experiment="x", evaluate=config.EvaluateConfig(
        steps={"small_cnn": 5}, classifiers=["small_cnn"]))
    # empty arms: the study's own, the DiffAugment arms only by name
    assert cfg.validate().evaluate.arms == [
        "imbalanced", "class_weight", "random_oversampling", "smote", "augmentation",
        "dcgan_minority", "cgan_all_classes", "upper_bound"]
    assert set(cfg.generators()) == {"dcgan_minority", "cgan_all_classes"}


def test_tstr_trains_its_generator_to_the_last_snapshot(tmp_path):
    cfg = load_text(tmp_path, "study: tstr\ntstr: {snapshots: [500, 1000]}\n")
    assert cfg.gan.steps == 1000


def test_a_rebalance_run_trains_the_generators_its_arms_use(tmp_path):
    cfg = load_text(tmp_path, "evaluate: {arms: [imbalanced, dcgan_minority], tstr: false}\n")
    assert cfg.generators() == ["dcgan_minority"]
    cfg = load_text(tmp_path, "evaluate: {arms: [imbalanced], tstr: true}\n")
    assert cfg.generators() == ["cgan_all_classes"]  # the TSTR table's
    assert load_text(tmp_path, "study: augment\n").generators() == []


def test_an_experiment_is_named_by_its_params_file(tmp_path):
    assert params.load(write_params(tmp_path, "experiment: exp\n"), "quick").experiment == "exp"
    # a name YAML reads as a number is the file's name all the same
    assert params.load(write_params(tmp_path, "experiment: 2024\n", name="2024.yaml"),
                       "quick").experiment == "2024"
    with pytest.raises(config.ConfigError, match="experiment = 'my exp': names folders under "
                                                 "build/"):
        params.load(write_params(tmp_path, "study: rebalance\n", name="my exp.yaml"), "quick")
    # an empty file, or one of comments alone, would be every default: a long run nobody wrote
    for text in ("", "# to do\n"):
        with pytest.raises(config.ConfigError, match="empty; write what the experiment is, at "
                                                     "least its study and a description"):
            load_text(tmp_path, text)


def test_yaml_and_papermill_strings_and_scalars_are_taken_where_exact(tmp_path):
    cfg = load_text(tmp_path, 'label: {filter: "yes"}\ngenerate: {batch_statistics: "no"}\n'
                              'evaluate: {tstr: "False", arms: dcgan_minority}\n'
                              'quality: {samples: "2e2"}\n')
    assert cfg.label.filter is True and cfg.generate.batch_statistics is False
    assert cfg.evaluate.tstr is False and cfg.quality.samples == 200
    assert cfg.evaluate.arms == ["dcgan_minority"]  # one name for a list of one


def test_overrides_win_over_the_profile():
    cfg = params.load(DIGITS_PARAMS, "quick", overrides={"gan": {"steps": 30}, "seeds": [7]})
    assert cfg.gan.steps == 30 and cfg.seeds == [7]


def test_a_setting_changed_in_a_notebook_session_is_checked_by_name_and_kind():
    """`run.cfg.gan.step = 500` would pass unseen (training reads `steps`); `steps = "500"`
    would stop in a comparison inside validate(): both are one line, at the assignment."""
    cfg = params.load(DIGITS_PARAMS, "smoke")
    with pytest.raises(config.ConfigError, match=r"GanConfig.step = 500: no such setting "
                                                 r"\(did you mean 'steps'\?\)"):
        cfg.gan.step = 500
    with pytest.raises(config.ConfigError, match="GanConfig.steps = '500': expected int"):
        cfg.gan.steps = "500"
    with pytest.raises(config.ConfigError, match="expected int"):
        cfg.gan.steps = True
    cfg.gan.steps, cfg.validity.frechet_ratio = 40, 3  # an int where a float goes is a number
    assert cfg.validate().gan.steps == 40
    # stored as the YAML loader stores it: 2 reads (and keys a generator) as 2.0 does
    assert type(cfg.validity.frechet_ratio) is float and cfg.validity.frechet_ratio == 3.0
    import numpy as np
    cfg.gan.steps = np.int64(30)
    assert type(cfg.gan.steps) is int


def test_the_settings_table_shows_what_the_run_reads_and_what_a_zero_means():
    cfg = config.Config(experiment="t", evaluate=config.EvaluateConfig(
        classifiers=["small_cnn"], arms=["imbalanced", "dcgan_minority", "upper_bound"],
        tstr=False)).validate()
    shown = dict(cfg.table().values)
    # no conditional GAN, no TSTR table, no MLP, no path-based dataset: nothing reads these
    for unread in ("gan.class_loss_weight", "evaluate.tstr_classifier",
                   "evaluate.steps.seed_mlp", "data.path", "label.filter_steps"):
        assert unread not in shown
    assert shown["evaluate.steps.small_cnn"] == "2000"
    assert shown["data.image_size"] == "0 (each image's own size)"
    assert shown["data.classes"] == "[] (every class)"
    assert shown["gan.r1_weight"] == "0.0 (off)"
    # a run that trains the conditional GAN and makes the TSTR table reads them again
    cfg.evaluate.arms, cfg.evaluate.tstr = ["imbalanced", "cgan_all_classes", "upper_bound"], True
    shown = dict(cfg.table().values)
    assert shown["gan.class_loss_weight"] == "1.0" and "evaluate.tstr_classifier" in shown
    # bias's table holds the settings of the models its arms train
    bias = config.Config(experiment="b", study="bias", data=config.DataConfig(classes=[0, 1, 7]),
                         evaluate=config.EvaluateConfig(arms=["vae"])).validate()
    shown = dict(bias.table().values)
    assert shown["gan.kl_weight"] == "1.0" and "gan.r1_weight" not in shown
    bias.evaluate.arms = ["dcgan"]
    shown = dict(bias.table().values)
    assert "gan.kl_weight" not in shown and shown["gan.r1_weight"] == "0.0 (off)"
    # what a session's edits are compared on keeps every setting, as written
    everything = dict(cfg.table(unread=True).values)
    assert everything["evaluate.steps.seed_mlp"] == "40000" and everything["data.image_size"] == "0"


def test_check_and_01_s_checks_start_no_tensorflow():
    """TensorFlow's start-up lines go straight to the console, ahead of a stage's prefixed
    lines: `make check` and 01's checks, which train nothing, do not import it."""
    code = ("import sys\nfrom synthlib import pipeline\n"
            "for e in ('five_minority', 'gan_vs_augmentation', 'tstr_vs_training', "
            "'bias_dcgan_vs_vae'):\n    pipeline.check(f'params/{e}.yaml', 'quick')\n"
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
