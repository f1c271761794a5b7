"""What rebalance's pages say about the run: a paragraph per notebook (ABOUT), and the texts
under 04's tables. A paragraph that depends on what the run trains (its arms' generators, its
classifiers, its switches) is a function of the Config, so that a page never describes a model
or an image the run does not have.
"""
from __future__ import annotations

from synthlib.registry import GENERATORS
from synthlib.studies import common

# What each generator is and learns from (02), and each classic arm's training set (05): the
# pages name only those the run's config uses.
GENERATOR_TEXT = {
    "dcgan_minority": "unconditional, trained **only on the kept minority images** of that "
                      "seed's imbalanced training split. The source notebook's GAN learnt "
                      "from every minority image, the ones it had dropped included: a leak of "
                      "the very images the scenario pretends are gone, closed here",
    "cgan_all_classes": "conditional on the class, trained on the whole imbalanced training "
                        "set with class-balanced batches, so that the minority borrows "
                        "structure from the majority classes: the argument of BAGAN (the "
                        "balancing GAN of Mariani et al., 2018), which learns every class of "
                        "an imbalanced set in order to make more of the rare one",
}
DIFFAUG_TEXT = ("the same with DiffAugment on the discriminator's inputs (random brightness, "
                "contrast, shifts and cut-outs applied to real and generated images alike), "
                "the standard remedy when a GAN has only a few dozen real images")
ARM_TEXT = {
    "imbalanced": "the imbalanced training set as it is, with no rebalancing",
    "class_weight": "the imbalanced training set with inverse-frequency loss weights",
    "random_oversampling": "the kept minority images repeated at random up to balance "
                           "(imbalanced-learn, on the imbalanced training set only)",
    "smote": "new minority images interpolated between neighbouring kept ones (SMOTE, "
             "imbalanced-learn, on the imbalanced training set's flattened pixels only)",
    "augmentation": "classic augmentation of the kept minority up to balance (rotation, zoom, "
                    "translation, each to the nearest pixel, and brightness; flips only where "
                    "`augmentation.horizontal_flip` says labels survive them)",
    "upper_bound": "the real training split before the minority was cut: what rebalancing "
                   "tries to recover",
}
CLASSIFIER_TEXT = {
    "seed_mlp": "the source notebook's own evaluation network, as written: a dense layer of 16 "
                "units, then one of a single unit, before the two outputs (its 16-1-2 "
                "bottleneck)",
    "small_cnn": "a small convolutional network (keras.io's MNIST convnet with a dense layer "
                 "of 128 units before its output, whose activations are the features the "
                 "oracle's Fréchet distance reads)",
}


def _bullets(lines):
    return "\n".join(f"* {line}" + (";" if i < len(lines) - 1 else ".")
                      for i, line in enumerate(lines))


def _about_generators(cfg):
    names = cfg.generators()
    if not names:
        return ("This run's arms (`evaluate.arms`) use no generator, and it makes no TSTR "
                "table: nothing is trained here.")
    why = "this run's arms use (`evaluate.arms`)"
    if cfg.evaluate.tstr and "cgan_all_classes" not in cfg.evaluate.arms:
        why += " and its TSTR table needs (`evaluate.tstr`)"
    lines = []
    for name in names:
        conditional, diffaug = GENERATORS[name]
        base = "cgan_all_classes" if conditional else "dcgan_minority"
        lines.append(f"`{name}`: " + (f"`{base}` {DIFFAUG_TEXT}" if diffaug else
                                      GENERATOR_TEXT[name]))
    one = len(names) == 1
    return (f"For each seed, {'the generator' if one else 'every generator'} {why}, "
            f"{'a' if one else 'each a'} `synthlib.gan.DCGAN` (a `keras.Model` with its own "
            "`train_step`) on the networks named by `gan.architecture`:\n\n" + _bullets(lines))


def _about_generate(cfg):
    names = cfg.generators()
    if not names:
        return "No generator was trained: there is nothing to sample."
    conditional = [n for n in names if GENERATORS[n][0]]
    oversample = cfg.generate.oversample
    text = ("Each seed's saved generators are reloaded from `generator.keras` and sampled until "
            "the imbalanced training set would be balanced"
            + (f", times `generate.oversample` ({oversample:g})" if oversample > 1 else "")
            + (", which leaves the filter room to reject some" if oversample > 1
               and cfg.label.filter else "") + ".")
    if conditional:
        text += " The conditional GAN is asked for the minority label."
    if cfg.evaluate.tstr:
        text += (" For the TSTR table (`evaluate.tstr`) `cgan_all_classes` also draws a "
                 "class-balanced set of every class.")
    if cfg.generate.select_from > 1 and len(conditional) < len(names):
        text += (f" Each unconditional GAN's image is one of `generate.select_from` "
                 f"({cfg.generate.select_from}) drawn, chosen by kernel herding towards the kept "
                 "minority images' mean in the GAN's own discriminator's features "
                 "(`synthlib.selection`): the discriminator learnt from those images alone, so "
                 "neither the oracle nor a dropped image has a say. The generator's own draw is "
                 "kept, and 04 measures both.")
    return text


# Under 04's tables: a column's name alone does not say what it measures, nor why a real
# reference may read below zero
MEASURES_TEXT = (
    "On each seed's synthetic images and on the real held-out minority images: "
    "`label_agreement`, the share the oracle calls the minority class; `mean_confidence`, its "
    "mean top probability, whatever class it names; `mean_target_probability`, its mean "
    "probability for the minority class over all the images, those it calls another class "
    "included (a softer label agreement); `rejection_rate`, the share it calls another class or "
    "is less sure of than `label.threshold`.")
QUALITY_TEXT = (
    "The four measures of the table above, on the images each side was read at (`images`), "
    "then the quality measures described at the top of this page. A negative `kid` reads as "
    "zero: an unbiased estimate of a distance near zero falls below it about as often as "
    "above.")


def _about_label(cfg):
    if not cfg.generators():
        return ("No generator was trained: there are no synthetic images to read, and so no "
                "**measuring oracle** is trained either (it measures generated images alone), "
                "nor held to `validity.oracle_accuracy`. The network below is the one a run "
                "with a generator trains as its oracle.")
    readers = ("Two classifiers look at the synthetic images, in roles kept apart:\n\n* "
               if cfg.label.filter else "")
    text = (readers + ("the **measuring oracle**" if readers else "The **measuring oracle**")
            + " learns all classes from the *full* real training split. It has seen the "
            "minority images the scenario pretends are gone, so it **only measures**: label "
            "agreement (share of synthetic images it calls minority), confidence, rejection "
            "rate at `label.threshold`, and the generator-quality measures below")
    if cfg.label.filter:
        text += (";\n* the **filter** learns only from the *imbalanced* training set, which is "
                 "what a practitioner would have. It drops synthetic images it does not call "
                 "minority with at least `label.filter_threshold` confidence, before they join "
                 "a training set.")
    else:
        text += (". No filter is trained (`label.filter` is off): every synthetic image needed "
                 "for balance joins its arm's training set.")
    return text + (
        "\n\nEvery quality measure is shown next to a **real-vs-real reference** at the same "
        "sample count: real held-out minority images (validation split) measured the same "
        "way. The Fréchet distance and KID (kernel inception distance) compare the oracle's "
        "penultimate-layer features with those of the real training-split minority, unscaled "
        "(in those features' squared units): lower is closer. KID is an unbiased estimate of "
        "a squared distance, so where the true distance is near zero, as for the real "
        "reference, it can come out negative: a negative value reads as zero, within the "
        "estimate's noise. The classifier score is the Inception Score with the oracle as "
        "classifier; memorisation is the pixel distance from each image to its nearest image "
        "in the generator's kept minority training set (`nn_distance_median`, images in [0, 1]; "
        "`near_duplicate_share`: closer than `quality.near_duplicate` x the real median); "
        "`training_images_frechet` is the Fréchet distance a copy of that training set scores "
        "(its images drawn with repeats to the same count): what a generator that only "
        "memorised them would score. It is no floor: a few dozen images, repeated, vary less "
        "than the real class, so a generator that varies its images beyond them can come "
        "closer.")


def _about_evaluate(cfg):
    names = cfg.evaluate.classifiers
    if len(names) == 1:
        text = (f"The evaluation classifier this run names (`evaluate.classifiers`) is "
                f"`{names[0]}`, {CLASSIFIER_TEXT[names[0]]}. It is trained")
    else:
        text = ("The evaluation classifiers this run names (`evaluate.classifiers`):\n\n"
                + _bullets([f"`{c}`: {CLASSIFIER_TEXT[c]}" for c in names])
                + "\n\nEach is trained")
    synthetic = ("the imbalanced training set plus synthetic minority images up to balance "
                 + ("(those the filter accepts) " if cfg.label.filter else "")
                 + "from the generator of that name (`02_train_gan`)")
    text += (" on each training set this run names (`evaluate.arms`), with the same split per "
             "seed:\n\n" + _bullets([f"`{a}`: {ARM_TEXT.get(a, synthetic)}"
                                      for a in cfg.evaluate.arms])
             + "\n\nAll are scored once on the **real** test split, which holds no synthetic "
             "image. Validation curves use the real validation split.")
    if cfg.evaluate.tstr:
        text += (f" The TSTR table (`evaluate.tstr`) trains `{cfg.evaluate.tstr_classifier}` "
                 "on real data (TRTR: the `imbalanced` arm's training set, so that arm's fit "
                 "where it ran), on the conditional GAN's synthetic images only (TSTR) and on "
                 "both (TRSTR).")
    return text


ABOUT = {
    "01": "**Study `rebalance`**, from the source notebook (seed documents 000 and 001, two "
          "versions of one notebook): one minority class is thinned out to "
          "`imbalance.kept_fraction` of its training images; GANs and classic baselines try to "
          "repair the imbalance.\n\n" + common.SEED_DOCUMENTS,
    "02": _about_generators,
    "03": _about_generate,
    "04": _about_label,
    "05": _about_evaluate,
}
