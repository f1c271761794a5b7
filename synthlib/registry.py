"""What exists, by name, and which settings each study and arm reads: the datasets,
architectures, classifiers, generators, arms and studies a params file may name, and the
settings only some studies (STUDY_SETTINGS) or some arms (ARM_SETTINGS) read.

It imports no TensorFlow: config.py validates a params file against these names in `make
check` and 01, before anything trains (tests/test_networks.py checks that the builders in
networks.py match the names here).
"""
from __future__ import annotations

DATASETS = ("mnist", "digits", "npz", "idx", "folder", "fashion_mnist", "cifar10")
PATH_DATASETS = ("npz", "idx", "folder")
GAN_ARCHITECTURES = ("light_dcgan", "seed_dcgan")
PRECISIONS = ("float32", "mixed_bfloat16")
OPTIMIZERS = ("adam", "rmsprop")
CLASSIFIERS = ("seed_mlp", "small_cnn")
# The measuring oracle's network, and the tstr labeller's (synthlib/labeling.py): named here so
# that a study's prose can say which evaluation classifier it matches without TensorFlow
ORACLE_ARCH = "small_cnn"
# Training-set variants ("arms"), baseline first. Each GAN arm names the generator it uses.
GENERATORS = {  # name -> (conditional on all classes?, DiffAugment?)
    "dcgan_minority": (False, False),
    "dcgan_minority_diffaug": (False, True),
    "cgan_all_classes": (True, False),
    "cgan_all_classes_diffaug": (True, True),
}
CLASSIC_ARMS = ("imbalanced", "class_weight", "random_oversampling", "smote", "augmentation")
ARMS = CLASSIC_ARMS + tuple(GENERATORS) + ("upper_bound",)
# Arms of earlier versions: its labels came from the labeller, never the measuring oracle.
RENAMED_ARMS = {"synthetic_oracle_labels": "synthetic_labeller_labels"}
# Each study is one module in synthlib/studies/ behind the same six notebooks.
STUDIES = ("rebalance", "augment", "tstr", "bias")
STUDY_ARMS = {
    "rebalance": ARMS,
    # seed 002: the same CNN on real, augmented and synthetic training sets
    "augment": ("real", "augmentation", "dcgan_per_class", "cgan_all_classes",
                "real_plus_cgan"),
    "tstr": ("real", "synthetic_gan_labels", "synthetic_labeller_labels"),
    "bias": ("dcgan", "vae"),  # the generative models compared
}
# The arms a study runs when its params file names none (`evaluate.arms` empty). rebalance
# leaves out the DiffAugment arms, which do not reach the stated generator quality within the
# profiles' budgets (docs/generator_quality.md); they stay available by name.
DEFAULT_ARMS = {**STUDY_ARMS,
                "rebalance": tuple(a for a in ARMS if not GENERATORS.get(a, (0, False))[1])}
# The generators each study trains, by the arm that uses them: the names `gan.generator_steps`
# takes. tstr trains its one generator to its last snapshot (`tstr.snapshots`).
STUDY_GENERATORS = {
    "rebalance": tuple(GENERATORS),
    "augment": ("dcgan_per_class", "cgan_all_classes"),  # dcgan_per_class: one DCGAN per class
    "tstr": (),
    "bias": ("dcgan", "vae"),  # one per mix
}
# gan.* settings only one kind of generator reads (GanConfig.read_by keys a kept generator on
# the rest): the VAE trains with Adam at gan.g_learning_rate and has no discriminator; the
# DCGAN has no KL term.
DCGAN_ONLY = ("optimizer", "beta_1", "d_learning_rate", "class_loss_weight", "r1_weight",
              "mode_seeking_weight", "rotation_weight")
VAE_ONLY = ("kl_weight",)
# Settings that only some studies read (a key, or a whole section): written in another
# study's params file they would change nothing, without a word, so params.load refuses them.
STUDY_SETTINGS = {
    "imbalance.minority_class": ("rebalance",),
    "imbalance.kept_fraction": ("rebalance",),
    "imbalance.per_class": ("augment", "tstr"),
    "generate.oversample": ("rebalance",),
    "generate.select_from": ("rebalance",),
    "generate.per_class": ("augment", "tstr", "bias"),
    "label.filter": ("rebalance",),
    "label.filter_steps": ("rebalance",),
    "label.filter_threshold": ("rebalance",),
    "validity.real_accuracy": ("augment", "tstr"),
    "validity.oracle_accuracy": ("rebalance", "augment", "bias"),  # tstr: real_accuracy
    "validity.spread_floor": ("rebalance", "augment", "tstr"),  # bias compares no arms
    "validity.share_gap": ("bias",),  # its generators' shares at equal counts
    "label.threshold": ("rebalance", "augment", "bias"),
    "evaluate.tstr": ("rebalance",),  # rebalance's TSTR table; the tstr study is one whole
    "evaluate.tstr_classifier": ("rebalance",),
    "tstr": ("tstr",),
    "bias": ("bias",),
    # what a study's generators and measures leave unread
    "gan.steps": ("rebalance", "augment", "bias"),  # tstr trains to max(tstr.snapshots)
    "gan.class_loss_weight": ("rebalance", "augment", "tstr"),  # bias's GANs are unconditional
    "gan.kl_weight": ("bias",),  # the VAE's, and only bias trains one
    "generate.batch_statistics": ("rebalance", "augment", "bias"),  # unconditional GANs only
    "augmentation": ("rebalance", "augment"),
    "quality": ("rebalance", "augment", "bias"),
    "quality.near_duplicate": ("rebalance",),
    "validity.frechet_ratio": ("rebalance", "augment", "bias"),
    "validity.label_agreement": ("rebalance", "augment"),
    "evaluate.classifiers": ("rebalance", "augment", "tstr"),  # bias trains no classifier
    "evaluate.steps": ("rebalance", "augment", "tstr"),
    "evaluate.precision": ("rebalance", "augment", "tstr"),
}


# augment's arms that use generated images, and the generator whose images each uses
AUGMENT_GENERATOR_OF = {"dcgan_per_class": "dcgan_per_class",
                        "cgan_all_classes": "cgan_all_classes",
                        "real_plus_cgan": "cgan_all_classes"}


def trained_generators(cfg):
    """The generators a rebalance or augment run trains, by name."""
    if cfg.study == "augment":
        return {AUGMENT_GENERATOR_OF[a] for a in cfg.evaluate.arms if a in AUGMENT_GENERATOR_OF}
    return set(cfg.generators())  # the arms' generators, and the TSTR table's


def _conditional(name):
    return GENERATORS.get(name, (False,))[0]  # augment's dcgan_per_class is unconditional


# Settings that only some arms read, per study: written in a params file none of whose
# profiles runs such an arm, they would change nothing, so params.load refuses them. An entry
# maps a study to (what a profile must do to read it, the settings that decide, the test on a
# profile's resolved Config); the first entry that covers a key counts, so the narrower come
# first. Studies an entry does not name read the setting whatever their arms.
_ANY = ("trains a generator", "evaluate.arms, evaluate.tstr",
        lambda cfg: bool(trained_generators(cfg)))
_CONDITIONAL = ("trains a conditional GAN", "evaluate.arms, evaluate.tstr",
                lambda cfg: any(map(_conditional, trained_generators(cfg))))
_UNCONDITIONAL = ("trains an unconditional GAN", "evaluate.arms",
                  lambda cfg: not all(map(_conditional, trained_generators(cfg))))


def _trains(generator, decided_by):
    return (f"trains {generator}", decided_by, lambda cfg: generator in trained_generators(cfg))


_DECIDED_BY = {"rebalance": "evaluate.arms, evaluate.tstr", "augment": "evaluate.arms"}
ARM_SETTINGS = {
    # one generator's own budget (before "gan", which covers it)
    **{f"gan.generator_steps.{g}": {s: _trains(g, by) for s, by in _DECIDED_BY.items()
                                    if g in STUDY_GENERATORS[s]}
       for g in dict.fromkeys(STUDY_GENERATORS["rebalance"] + STUDY_GENERATORS["augment"])},
    # augment makes its augmented images whatever its arms, and shows them in 03
    "augmentation": {"rebalance": ("runs the augmentation arm", "evaluate.arms",
                                   lambda cfg: "augmentation" in cfg.evaluate.arms)},
    "gan.class_loss_weight": {"rebalance": _CONDITIONAL, "augment": _CONDITIONAL},
    "generate.batch_statistics": {"rebalance": _UNCONDITIONAL, "augment": _UNCONDITIONAL},
    "generate.select_from": {"rebalance": _UNCONDITIONAL},
    "gan": {"rebalance": _ANY, "augment": _ANY},
    # bias trains the DCGAN and the VAE its arms name (its GANs are unconditional)
    **{f"gan.{k}": {"bias": ("trains the VAE", "evaluate.arms",
                             lambda cfg: "vae" in cfg.evaluate.arms)} for k in VAE_ONLY},
    **{f"gan.{k}": {"bias": ("trains the DCGAN", "evaluate.arms",
                             lambda cfg: "dcgan" in cfg.evaluate.arms)}
       for k in DCGAN_ONLY if k != "class_loss_weight"},
    # rebalance's oracle, measures and filter are of its generators' images alone (its
    # augmentation arm reads generate.batch_size)
    **{k: {"rebalance": _ANY}
       for k in ("generate.oversample", "quality", "label.filter", "label.filter_steps",
                 "label.filter_threshold", "label.threshold", "label.oracle_steps",
                 "validity.frechet_ratio", "validity.label_agreement",
                 "validity.oracle_accuracy")},
    "evaluate.tstr_classifier": {"rebalance": ("makes the TSTR table", "evaluate.tstr",
                                               lambda cfg: cfg.evaluate.tstr)},
}


def arm_reads(study, key):
    """(what a profile must do to read `key`, the settings that decide, the test) from the
    first ARM_SETTINGS entry that covers `key` (the key, or a section above it) and names
    `study`; else None."""
    for setting, by_study in ARM_SETTINGS.items():
        if (key == setting or key.startswith(setting + ".")) and study in by_study:
            return by_study[study]
    return None


def readers_elsewhere(study, key):
    """The studies that read `key` (a dotted setting) when `study` is not among them, from the
    first STUDY_SETTINGS entry that covers it (the key, or a section above it); else ()."""
    for setting, studies in STUDY_SETTINGS.items():
        if (key == setting or key.startswith(setting + ".")) and study not in studies:
            return studies
    return ()
