"""Experiment parameters: one validated object per stage, every default in this file (the
names a setting may take, and the arms a study runs by default, are in synthlib/registry.py).

A `params/<experiment>.yaml` states only what differs from these defaults; synthlib/params.py
reads it (`params.load`), applying a profile: the sizes in `PROFILES` below, then the file's own
`profiles:` section.
"""
from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import numbers
import re
from dataclasses import dataclass, field

from synthlib import settings_table
from synthlib.errors import OneLine
from synthlib.registry import (CLASSIFIERS, DATASETS, DCGAN_ONLY, DEFAULT_ARMS, GAN_ARCHITECTURES,
                               GENERATORS, OPTIMIZERS, PATH_DATASETS, PRECISIONS, RENAMED_ARMS,
                               STUDIES, STUDY_ARMS, STUDY_GENERATORS, VAE_ONLY)

PROFILES_ORDER = ("smoke", "quick", "full")
DEFAULT_PROFILE = "quick"


class ConfigError(OneLine, ValueError):
    """A parameter is wrong; the message is one line naming the key and the value."""


def _check(ok, key, value, why):
    if not ok:
        error = ConfigError(f"{key} = {value!r}: {why}")
        error.key = key  # params.load names where in the file the value was written
        raise error


def did_you_mean(word, choices):
    """' (did you mean ...?)' for the closest of `choices`, or '' when none is close; case
    aside (`GAN:` for `gan:`)."""
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        by_lower = {str(c).lower(): c for c in choices}
        close = [by_lower[c] for c in difflib.get_close_matches(str(word).lower(), list(by_lower),
                                                                 n=1, cutoff=0.6)]
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_choice(value, choices, key, what=""):
    _check(value in choices, key, value, f"{what}{'; ' if what else ''}choose one of "
           f"{', '.join(choices)}" + did_you_mean(str(value), choices))


# The fewest images a Fréchet distance is computed from (a covariance needs some): here, so
# that 01's check of the validation split reads it without importing TensorFlow
MIN_IMAGES = 3

MAX_SEED = 999_999
# A typo's extra zeros in a batch or a latent code would exhaust memory before anything said
# why (a latent code of 10^9 numbers is a 10^9-row weight matrix): these stop it at the check.
MAX_BATCH = 65_536
MAX_GENERATED_PER_CLASS = 100_000  # 10 classes of 28x28 images: about 0.8 GB of uint8
# And in a step budget they would train for weeks before anything said why: a million is 25
# times the largest budget here (the seed's MLP's 40,000 steps)
MAX_STEPS = 1_000_000


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)  # YAML's true is no seed or count


# What a setting of each kind (its annotation) may be set to in a session, and what it is
# stored as: 2 in a float setting is 2.0, as the YAML loader makes it, so that it reads (and
# keys a generator) as the params file's 2.0 does; numpy's numbers count as numbers
_KINDS = {"int": (lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool), int),
          "float": (lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool), float),
          "bool": (lambda v: isinstance(v, bool), None),
          "str": (lambda v: isinstance(v, str), None),
          "list": (lambda v: isinstance(v, list), None),
          "dict": (lambda v: isinstance(v, dict), None)}


class Section:
    """A config section that refuses, in one line, a setting it does not have or a value of
    the wrong kind, set in a notebook session: `run.cfg.gan.step = 500` would otherwise pass
    unseen (the training reads `steps`), and `steps = "500"` stop in a comparison deep inside
    validate()."""

    def __setattr__(self, name, value):
        fields = {f.name: f for f in dataclasses.fields(self)}
        where = type(self).__name__
        if name not in fields:
            raise ConfigError(f"{where}.{name} = {value!r}: no such setting"
                              + did_you_mean(name, fields))
        kind = fields[name].type  # a string: this module's annotations are postponed
        if kind in _KINDS:
            ok, as_kind = _KINDS[kind]
            if not ok(value):
                raise ConfigError(f"{where}.{name} = {value!r}: expected {kind}")
            value = as_kind(value) if as_kind else value
        super().__setattr__(name, value)


@dataclass
class DataConfig(Section):
    # mnist | digits (scikit-learn's, tiny) | fashion_mnist | cifar10 (online) | npz | idx |
    # folder (one sub-folder of images per class, as FIDS30)
    dataset: str = "mnist"
    path: str = ""  # file (npz) or directory (idx, folder) for the path-based datasets
    image_size: int = 0  # > 0: resize to this square side (folder images vary in size)
    channels: int = 0  # 1 or 3 converts; 0 keeps what the files hold
    classes: list = field(default_factory=list)  # empty: every class; else only these labels
    max_images: int = 0  # 0 keeps all; otherwise a stratified subsample, for fast profiles

    def validate(self):
        _check_choice(self.dataset, DATASETS, "data.dataset", "unknown dataset")
        if self.dataset in PATH_DATASETS:
            _check(bool(self.path), "data.path", self.path,
                   f"dataset {self.dataset!r} needs a path")
        else:  # else the file would be ignored, and the run use another dataset than meant
            _check(not self.path, "data.path", self.path,
                   f"dataset {self.dataset!r} reads no path; for a file or folder, set "
                   f"data.dataset to one of {', '.join(PATH_DATASETS)}")
        _check(self.max_images >= 0, "data.max_images", self.max_images, "must be >= 0")
        # A multiple of 4 for the GANs; 12 or more for the small CNN's two conv-pool blocks.
        _check(self.image_size == 0 or (12 <= self.image_size <= 256
                                        and self.image_size % 4 == 0),
               "data.image_size", self.image_size, "must be 0 or a multiple of 4 in [12, 256]")
        _check(self.channels in (0, 1, 3), "data.channels", self.channels, "must be 0, 1 or 3")
        for c in self.classes:
            _check(_is_int(c) and c >= 0, "data.classes", c, "labels are integers >= 0")
        _check(len(set(self.classes)) == len(self.classes), "data.classes", self.classes,
               "repeated class")
        _check(len(self.classes) != 1, "data.classes", self.classes,
               "one class leaves nothing to classify: name two or more, or none for all")


@dataclass
class SplitConfig(Section):
    validation_fraction: float = 0.1
    test_fraction: float = 0.2

    def validate(self):
        for k in ("validation_fraction", "test_fraction"):
            v = getattr(self, k)
            _check(0 < v < 1, f"split.{k}", v, "must be in (0, 1)")
        _check(self.validation_fraction + self.test_fraction < 0.9, "split.test_fraction",
               self.test_fraction, "validation + test must leave at least 10% for training")


@dataclass
class ImbalanceConfig(Section):
    minority_class: int = 5  # rebalance study
    kept_fraction: float = 0.05  # rebalance: share of the minority's training images kept
    per_class: int = 0  # augment, tstr: training images per class (0: the whole split)

    def validate(self):
        _check(self.per_class >= 0, "imbalance.per_class", self.per_class, "must be >= 0")
        _check(0 < self.kept_fraction <= 1, "imbalance.kept_fraction", self.kept_fraction,
               "must be in (0, 1]")
        _check(self.minority_class >= 0, "imbalance.minority_class", self.minority_class,
               "must be a class label >= 0")


@dataclass
class GanConfig(Section):
    architecture: str = "light_dcgan"  # or seed_dcgan: the seed notebook's layers
    latent_dim: int = 100
    batch_size: int = 64
    steps: int = 1500
    # Steps for some generators instead of `steps`, by name (registry.STUDY_GENERATORS): a budget
    # set by each generator's quality where one converges sooner than another. Set it in the
    # profile it sizes: no built-in profile resets it (smoke's 20 steps would not apply).
    generator_steps: dict = field(default_factory=dict)
    log_every: int = 100  # steps between loss log lines, sample grids and checkpoints
    optimizer: str = "adam"  # adam (DCGAN paper) | rmsprop (the seed's choice)
    d_learning_rate: float = 2e-4
    g_learning_rate: float = 2e-4
    beta_1: float = 0.5  # adam only
    # Conditional GANs: weight of the auxiliary classifier loss (AC-GAN) beside the projection
    # discriminator's; it makes images recognisable as the class asked for. 0: none.
    class_loss_weight: float = 1.0
    # Weight of the R1 gradient penalty on the discriminator at real images (0: none): it
    # steadies a discriminator that learns from a few dozen images (docs/generator_quality.md).
    # Costs a second backward pass through the discriminator per step.
    r1_weight: float = 0.0
    # Weight of the mode-seeking term in the generator's loss (MSGAN; 0: none): it rewards two
    # latent codes far apart for giving images far apart, i.e. variety, which is what a
    # generator learnt from a few dozen images lacks (docs/generator_quality.md).
    mode_seeking_weight: float = 0.0
    # Weight of the rotation heads' losses, in both networks' losses (DAG; 0: none): the
    # discriminator also judges the real and generated images turned by 90, 180 and 270
    # degrees, each turn with its own realness head, so that it learns from four views of the
    # few real images it has (docs/generator_quality.md). Three more discriminator passes on
    # each side: about twice the time per step.
    rotation_weight: float = 0.0
    # The VAE's alone: weight of its KL term against the reconstruction term (a beta-VAE;
    # keras.io's recipe weighs it 1). Heavier, it pulls the training images' codes towards the
    # N(0, 1) that samples are drawn from: in the bias study what the VAE draws then keeps the
    # training shares better, and its images blur (docs/generator_quality.md).
    kl_weight: float = 1.0
    # mixed_bfloat16 computes in bfloat16 with float32 weights: faster where the CPU has
    # bf16 instructions (AVX-512 BF16, AMX) or on a GPU; `make bench` measures both.
    precision: str = "float32"

    def validate(self):
        _check_choice(self.architecture, GAN_ARCHITECTURES, "gan.architecture",
                      "unknown architecture")
        _check_choice(self.precision, PRECISIONS, "gan.precision")
        _check_choice(self.optimizer, OPTIMIZERS, "gan.optimizer")
        for k in ("latent_dim", "batch_size", "steps", "log_every"):
            _check(getattr(self, k) >= 1, f"gan.{k}", getattr(self, k), "must be >= 1")
        for k in ("steps", "log_every"):
            _check(getattr(self, k) <= MAX_STEPS, f"gan.{k}", getattr(self, k),
                   f"must be at most {MAX_STEPS:,}")
        for k in ("latent_dim", "batch_size"):
            _check(getattr(self, k) <= MAX_BATCH, f"gan.{k}", getattr(self, k),
                   f"must be at most {MAX_BATCH:,}")
        for g, v in self.generator_steps.items():
            _check(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_STEPS,
                   f"gan.generator_steps.{g}", v, f"must be an integer from 1 to {MAX_STEPS:,}")
        for k in ("d_learning_rate", "g_learning_rate"):
            _check(0 < getattr(self, k) < 1, f"gan.{k}", getattr(self, k), "must be in (0, 1)")
        _check(0 <= self.beta_1 < 1, "gan.beta_1", self.beta_1, "must be in [0, 1)")
        _check(self.class_loss_weight >= 0, "gan.class_loss_weight", self.class_loss_weight,
               "must be >= 0")
        _check(self.r1_weight >= 0, "gan.r1_weight", self.r1_weight, "must be >= 0")
        _check(self.kl_weight > 0, "gan.kl_weight", self.kl_weight,
               "must be > 0 (0 leaves an autoencoder whose codes nothing ties to the N(0, 1) "
               "that samples are drawn from)")
        _check(self.mode_seeking_weight >= 0, "gan.mode_seeking_weight",
               self.mode_seeking_weight, "must be >= 0")
        _check(self.mode_seeking_weight == 0 or self.batch_size >= 2, "gan.batch_size",
               self.batch_size, "the mode-seeking term compares the images of a batch in "
               "pairs: it needs batches of 2 or more")
        _check(self.rotation_weight >= 0, "gan.rotation_weight", self.rotation_weight,
               "must be >= 0")

    def check_chunks(self):
        """Training runs in whole chunks of log_every steps (a checkpoint after each): a budget
        between two chunks would train to the next one and be reported as asked. A check of
        the resolved settings (Config.validate): a params file's body or one profile's section
        may leave log_every to the profile."""
        for key, v in [("steps", self.steps), *((f"generator_steps.{g}", v)
                                                for g, v in self.generator_steps.items())]:
            _check(v <= self.log_every or v % self.log_every == 0, f"gan.{key}", v,
                   f"must be a multiple of gan.log_every ({self.log_every}), or at most it")

    def for_generator(self, name):
        """The settings one generator trains with: its own step budget where
        `generator_steps` names it, `steps` otherwise."""
        return dataclasses.replace(self, steps=self.generator_steps.get(name, self.steps),
                                   generator_steps={})

    def read_by(self, model):
        """The settings a model of kind `model` ("dcgan" or "vae") reads, by name: what a kept
        generator is keyed on, so that a setting only the other kind reads retrains none of
        this kind (tests/test_vae.py trains each kind with the other's changed)."""
        other = VAE_ONLY if model != "vae" else DCGAN_ONLY
        return {k: v for k, v in vars(self).items() if k not in other}


@dataclass
class GenerateConfig(Section):
    # Synthetic minority images = (majority count - kept minority count) * oversample; more
    # than 1 leaves room for the filter to reject some and still reach balance.
    oversample: float = 1.0
    batch_size: int = 500
    per_class: int = 500  # augment, tstr, bias: synthetic images per class
    # Unconditional GAN generators draw in batches of gan.batch_size with batch normalisation's
    # per-batch statistics, as they were trained; false: inference mode's moving averages
    # (docs/generator_quality.md: as trained reads closer to the real images in one measure,
    # the same in another).
    batch_statistics: bool = True
    # rebalance: each unconditional GAN's synthetic image is one of this many drawn, chosen by
    # kernel herding towards the kept minority images' mean in the GAN's own discriminator's
    # features (synthlib/selection.py); 1: every image drawn is used. Off by default: in a
    # full five_minority run it did not bring the DCGAN's 5s nearer the real ones as an
    # independent classifier reads them (docs/generator_quality.md).
    select_from: int = 1

    def validate(self):
        _check(1 <= self.per_class <= MAX_GENERATED_PER_CLASS, "generate.per_class",
               self.per_class, f"must be from 1 to {MAX_GENERATED_PER_CLASS:,}")
        _check(1 <= self.select_from <= 50, "generate.select_from", self.select_from,
               "must be in [1, 50]")
        _check(1 <= self.oversample <= 10, "generate.oversample", self.oversample,
               "must be in [1, 10]")
        _check(1 <= self.batch_size <= MAX_BATCH, "generate.batch_size", self.batch_size,
               f"must be from 1 to {MAX_BATCH:,}")


@dataclass
class AugmentationConfig(Section):
    """Classic augmentation: in rebalance, of the minority up to balance (the `augmentation`
    arm); in augment, `generate.per_class` augmented images of every class."""
    rotation: float = 15.0  # degrees, either way
    zoom: float = 0.1
    translation: float = 0.1  # share of the side
    brightness: float = 0.2  # intensity gain in [1 - b, 1 + b]: a black background stays black
    horizontal_flip: bool = False  # only where labels survive a mirror (not for digits)

    def validate(self):
        _check(0 <= self.rotation <= 180, "augmentation.rotation", self.rotation,
               "must be in [0, 180] degrees")
        for k in ("zoom", "translation", "brightness"):
            _check(0 <= getattr(self, k) < 1, f"augmentation.{k}", getattr(self, k),
                   "must be in [0, 1)")


@dataclass
class QualityConfig(Section):
    """Generator-quality measures, each beside a real-vs-real reference of the same size."""
    samples: int = 500  # at most this many images per set (capped by the real reference)
    draws: int = 10  # the synthetic measures: mean over this many disjoint draws of that size
    near_duplicate: float = 0.5  # closer to a training image than this x the real median

    def validate(self):
        _check(self.samples >= 10, "quality.samples", self.samples, "must be >= 10")
        _check(self.draws >= 1, "quality.draws", self.draws, "must be >= 1")
        _check(0 < self.near_duplicate <= 1, "quality.near_duplicate", self.near_duplicate,
               "must be in (0, 1]")


@dataclass
class LabelConfig(Section):
    # The measuring oracle and the filter train for a fixed number of optimizer steps (batch
    # evaluate.batch_size), enough that the oracle converges: about 98% on MNIST's real test
    # split when it learns the default profile's 7,000-image training split.
    oracle_steps: int = 3000
    threshold: float = 0.5  # oracle confidence below this counts as a rejection (measured only)
    filter: bool = False  # drop synthetic images the filter does not call minority
    filter_steps: int = 3000
    filter_threshold: float = 0.5

    def validate(self):
        for k in ("oracle_steps", "filter_steps"):
            _check(getattr(self, k) >= 1, f"label.{k}", getattr(self, k), "must be >= 1")
            _check(getattr(self, k) <= MAX_STEPS, f"label.{k}", getattr(self, k),
                   f"must be at most {MAX_STEPS:,}")
        for k in ("threshold", "filter_threshold"):
            _check(0 <= getattr(self, k) <= 1, f"label.{k}", getattr(self, k),
                   "must be in [0, 1]")


@dataclass
class ValidityConfig(Section):
    """The checks every write-up runs on its own numbers (README, "When is a number a
    result?"). A failed one puts a
    "not conclusive" banner on the write-up and the index, and no verdict is drawn from what
    it touches. Set the dataset-dependent ones in the params file, with a comment saying why."""
    oracle_accuracy: float = 0.98  # the measuring oracle's accuracy on the real test split
    label_agreement: float = 0.95  # share of a generator's images the oracle gives its class
    frechet_ratio: float = 2.0  # Fréchet distance / the real-vs-real one at the same n
    real_accuracy: float = 0.90  # augment, tstr: the real-data arm's test accuracy (tstr: the
    # labeller's too)
    # bias: at equal counts, each class's share of a generator's images within this of its
    # training share (a third, for three classes)
    share_gap: float = 0.1
    # "Beyond the seed spread": a mean paired difference larger than the std over seeds of the
    # differences, and never less than this (with one seed, which measures no spread, this).
    spread_floor: float = 0.01

    def validate(self):
        for k in ("oracle_accuracy", "label_agreement", "real_accuracy"):
            _check(0 <= getattr(self, k) <= 1, f"validity.{k}", getattr(self, k),
                   "must be in [0, 1]")
        _check(self.frechet_ratio >= 1, "validity.frechet_ratio", self.frechet_ratio,
               "must be >= 1 (1: as close as two real samples)")
        _check(0 <= self.spread_floor < 1, "validity.spread_floor", self.spread_floor,
               "must be in [0, 1)")
        _check(0 < self.share_gap < 1, "validity.share_gap", self.share_gap,
               "must be in (0, 1)")


@dataclass
class TstrConfig(Section):
    """tstr study (seed 003): the conditional GAN saved at these step counts."""
    # each a multiple of gan.log_every (the quick and full profiles': 500)
    snapshots: list = field(default_factory=lambda: [500, 1000, 2000])

    def validate(self):
        _check(len(self.snapshots) >= 1, "tstr.snapshots", self.snapshots,
               "must list at least one step count")
        for v in self.snapshots:
            _check(_is_int(v) and 1 <= v <= MAX_STEPS, "tstr.snapshots", v,
                   f"step counts are integers from 1 to {MAX_STEPS:,}")
        _check(list(self.snapshots) == sorted(set(self.snapshots)), "tstr.snapshots",
               self.snapshots, "must be increasing")


@dataclass
class BiasConfig(Section):
    """bias study (seed 004): every class of data.classes at fixed_count training images
    except varied_class, at each of varied_counts in turn: one training mix per count."""
    varied_class: int = 1
    varied_counts: list = field(default_factory=lambda: [50, 150, 500])
    fixed_count: int = 500

    def validate(self):
        _check(self.fixed_count >= 1, "bias.fixed_count", self.fixed_count, "must be >= 1")
        _check(len(self.varied_counts) >= 1, "bias.varied_counts", self.varied_counts,
               "must list at least one count")
        for v in self.varied_counts:
            _check(_is_int(v) and v >= 1, "bias.varied_counts", v, "counts are integers >= 1")
        _check(len(set(self.varied_counts)) == len(self.varied_counts), "bias.varied_counts",
               self.varied_counts, "repeated count")


@dataclass
class EvaluateConfig(Section):
    classifiers: list = field(default_factory=lambda: list(CLASSIFIERS))
    arms: list = field(default_factory=list)  # empty: the study's DEFAULT_ARMS
    # Optimizer steps per fit, per classifier, the same for every arm: with a fixed number of
    # epochs an arm with twice the images would get twice the updates. Sized so that the
    # upper bound has converged (half the steps scores within the seed spread): the small CNN
    # by ~1,000 steps of 64 on MNIST. The seed's 16-1-2 MLP, read on the validation split
    # (docs/runs.md), still gained up to 0.07 in minority F1 between 8,000 and 20,000 steps
    # and moved less than 0.011 a seed from 20,000 to 40,000; its steps cost a thirtieth of
    # the CNN's. One number sets every classifier.
    steps: dict = field(default_factory=lambda: {"small_cnn": 2000, "seed_mlp": 40000})
    batch_size: int = 64
    # Each fit (and the oracle's, the filter's) runs in this many equal chunks of steps:
    # a log line, a checkpoint (a killed run resumes) and held-out scores, recorded only. Each
    # checkpoint costs about as much as 80 steps of the small CNN here: few chunks. Two is
    # the fewest, since the convergence check scores the reference arm half-way.
    chunks: int = 2
    tstr: bool = True  # train on synthetic only / real + synthetic (needs cgan_all_classes)
    tstr_classifier: str = "small_cnn"  # one of `classifiers`, whose convergence is checked
    # The evaluation classifiers' precision. mixed_bfloat16 held their accuracy in `make bench`
    # and trains the small CNN 1.7x as fast on a CPU with AMX; float32 stays the default since
    # bfloat16's sums depend on the CPU's instructions (AMX or AVX-512 BF16), where float32
    # gave the same scores on both kinds of CPU here (README). The oracle, filter and
    # labeller always train in float32, so that measures stay comparable across runs.
    precision: str = "float32"

    def validate(self, study="rebalance"):
        if not self.arms:
            self.arms = list(DEFAULT_ARMS[study])
        for name, choices, key in ((self.classifiers, CLASSIFIERS, "evaluate.classifiers"),
                                   (self.arms, STUDY_ARMS[study], "evaluate.arms")):
            _check(len(name) > 0, key, name, "must name at least one")
            for c in name:
                # a name is text: a list or a mapping in the list ([[smote]]) is no name
                hint = (f" (renamed: now {RENAMED_ARMS[c]!r})"
                        if isinstance(c, str) and RENAMED_ARMS.get(c) in choices
                        else did_you_mean(str(c), choices))
                _check(c in choices, key, c, f"unknown; choose from {', '.join(choices)}"
                       + hint)
            # a name twice would put its rows twice in metrics.csv, and count its seeds twice
            _check(len(set(name)) == len(name), key, name, "named twice")
        _check_choice(self.tstr_classifier, CLASSIFIERS, "evaluate.tstr_classifier", "unknown")
        _check(self.chunks >= 2 and self.chunks % 2 == 0, "evaluate.chunks", self.chunks,
               "must be an even number >= 2 (the convergence check scores the half-way point)")
        for c, v in self.steps.items():
            _check(c in CLASSIFIERS, "evaluate.steps", c,
                   f"unknown classifier; choose from {', '.join(CLASSIFIERS)}"
                   + did_you_mean(str(c), CLASSIFIERS))
            _check(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_STEPS,
                   f"evaluate.steps.{c}", v, f"must be an integer from 1 to {MAX_STEPS:,}")
        _check(1 <= self.batch_size <= MAX_BATCH, "evaluate.batch_size", self.batch_size,
               f"must be from 1 to {MAX_BATCH:,}")
        _check_choice(self.precision, PRECISIONS, "evaluate.precision")

    def steps_for(self, classifier):
        """Optimizer steps of one fit of `classifier`: its budget rounded up to whole chunks."""
        per = -(-self.steps[classifier] // self.chunks)
        return per * self.chunks


@dataclass
class Config(Section):
    experiment: str = ""
    description: str = ""
    study: str = "rebalance"  # rebalance | augment | tstr | bias: see synthlib/studies/
    profile: str = DEFAULT_PROFILE
    # each seed: its own split, kept minority images, GAN and classifier initialisation (the
    # sample of data.max_images is one for every seed: seeds vary the scenario, not the data)
    seeds: list = field(default_factory=lambda: [0])
    data: DataConfig = field(default_factory=DataConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    imbalance: ImbalanceConfig = field(default_factory=ImbalanceConfig)
    gan: GanConfig = field(default_factory=GanConfig)
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    augmentation: AugmentationConfig = field(default_factory=AugmentationConfig)
    label: LabelConfig = field(default_factory=LabelConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    tstr: TstrConfig = field(default_factory=TstrConfig)
    bias: BiasConfig = field(default_factory=BiasConfig)
    validity: ValidityConfig = field(default_factory=ValidityConfig)

    def validate(self):
        self.validate_values()
        if self.study == "tstr":
            for v in self.tstr.snapshots:
                _check(v % self.gan.log_every == 0, "tstr.snapshots", v,
                       f"must be a multiple of gan.log_every ({self.gan.log_every})")
            self.gan.steps = max(self.tstr.snapshots)  # training runs to the last snapshot
        self.gan.check_chunks()  # (tstr: the steps it runs, not a profile's unread ones)
        if self.study == "bias":
            _check(len(self.data.classes) >= 2, "data.classes", self.data.classes,
                   "the bias study needs the classes of its mixes (at least two)")
            _check(self.bias.varied_class in self.data.classes, "bias.varied_class",
                   self.bias.varied_class, f"must be one of data.classes {self.data.classes}")
        if self.study == "rebalance" and self.evaluate.tstr:
            # its fits are checked for convergence only as one of the evaluation classifiers
            _check(self.evaluate.tstr_classifier in self.evaluate.classifiers,
                   "evaluate.tstr_classifier", self.evaluate.tstr_classifier,
                   f"must be one of evaluate.classifiers {self.evaluate.classifiers}, whose "
                   "convergence the write-up checks (or set evaluate.tstr: false)")
        for c in self.evaluate.classifiers + [self.evaluate.tstr_classifier]:
            _check(c in self.evaluate.steps, "evaluate.steps", self.evaluate.steps,
                   f"names no step budget for classifier {c!r}; give it one in "
                   f"EvaluateConfig.steps (synthlib/config.py), or in the params file "
                   f"(evaluate: {{steps: {{{c}: 2000}}}})")
            # each chunk is at least one step, so more chunks than steps would add steps
            _check(self.evaluate.chunks <= self.evaluate.steps[c], "evaluate.chunks",
                   self.evaluate.chunks, f"more chunks than the {self.evaluate.steps[c]} "
                   f"steps of classifier {c!r}")
        for k in ("oracle_steps",) + (("filter_steps",) if self.label.filter else ()):
            # the oracle and the filter train in chunks too
            _check(self.evaluate.chunks <= getattr(self.label, k), "evaluate.chunks",
                   self.evaluate.chunks, f"more chunks than label.{k} "
                   f"({getattr(self.label, k)})")
        return self

    def validate_values(self):
        """Each value on its own (the checks that do not depend on another section)."""
        _check(bool(self.experiment), "experiment", self.experiment, "must be named")
        _check(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", str(self.experiment)) is not None,
               "experiment", self.experiment, "names folders under build/ and reports/: "
               "letters, digits, _ . - only")
        _check_choice(self.study, STUDIES, "study", "unknown study")
        _check(len(self.seeds) >= 1, "seeds", self.seeds, "must list at least one seed")
        for s in self.seeds:
            # numpy's, scikit-learn's and Keras' seeds are 32-bit, and the studies offset
            # theirs from the run's (1000 x seed + class, 10,000 + ...)
            _check(_is_int(s) and 0 <= s <= MAX_SEED, "seeds", s, "seeds are integers from 0 "
                   f"to {MAX_SEED:,}")
        _check(len(set(self.seeds)) == len(self.seeds), "seeds", self.seeds, "repeated seed")
        names = STUDY_GENERATORS.get(self.study, ())
        for g in self.gan.generator_steps:
            _check(g in names, "gan.generator_steps", g,
                   f"no such generator in study {self.study!r}; "
                   + (f"choose from {', '.join(names)}" + did_you_mean(str(g), names) if names
                      else "it trains its generator to its last snapshot (tstr.snapshots)"))
        for f in dataclasses.fields(self):
            sub = getattr(self, f.name)
            if isinstance(sub, EvaluateConfig):
                sub.validate(self.study)
            elif dataclasses.is_dataclass(sub):
                sub.validate()

    def generators(self):
        """The generators this run trains: those its arms use (and the TSTR table's)."""
        if self.study != "rebalance":
            return []
        names = [a for a in self.evaluate.arms if a in GENERATORS]
        if self.evaluate.tstr and "cgan_all_classes" not in names:
            names.append("cgan_all_classes")
        return names

    def to_dict(self):
        return dataclasses.asdict(self)

    def table(self, section=None, unread=False):
        """Every resolved value this run reads, as (parameter, value) rows for the reports;
        with `section` (e.g. "gan"), that section's alone (synthlib/settings_table.py)."""
        return settings_table.table(self, section, unread)

    def digest(self):
        """A short hash of every resolved value: equal digests, equal runs."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


# Sizes per profile. quick is the default and the one the README times. A profile may cut
# seeds, data or arms to fit the clock, never training below convergence: the evaluators'
# and the oracle's step budgets (the defaults above, or an experiment's own from its params
# file) hold in every profile but smoke, and every write-up checks its own validity
# (synthlib/validity.py).
PROFILES = {
    "smoke": {  # about 3 minutes for all four experiments: proves the wiring; its write-ups
        # say "not conclusive", and that this is expected
        "data": {"max_images": 1500},
        "gan": {"steps": 20, "log_every": 10, "batch_size": 16},
        "label": {"oracle_steps": 20, "filter_steps": 20},
        "evaluate": {"steps": 20, "chunks": 2},
        "quality": {"samples": 50},
        "tstr": {"snapshots": [10, 20]},  # the tstr study trains to its last snapshot
    },
    "quick": {  # the default: two seeds on 10,000 images (a stratified sample of MNIST's
        # 70,000; all of the 10k fallback where only it could be fetched)
        "seeds": [0, 1],
        "data": {"max_images": 10000},
        # make bench: by 2,000 steps the minority DCGAN's and the conditional GAN's minority
        # images are >= 95% recognisable to the oracle, and improve little after
        "gan": {"steps": 2000, "log_every": 500, "batch_size": 64},
    },
    "full": {  # four seeds on all the data (five_minority: ~18 minutes a seed on one core here
        # on the 10,000; about 24 on the 70,000 of `make setup MNIST=full`)
        "seeds": [0, 1, 2, 3],
        "gan": {"steps": 2000, "log_every": 500, "batch_size": 64},
    },
}
