"""Re-score a finished rebalance run independently of synthlib's training code.

Reads each seed's split (split.npz) and the training sets the run compared, and trains an
ordinary Keras CNN on each classic arm and the upper bound the usual way: `model.fit` on the
arrays for a number of epochs (so larger arms get more updates), batch 64, Adam, no selection
on held-out data, class weights through Keras's own `class_weight`. Minority F1 on the same
real test split, beside the report's own number. If the two disagree, one of them is wrong.
With --generators, each generator's images are also read by an independent classifier
(trained here on the run's real training split).

    python -m synthlib.tools.rescore --params params/five_minority.yaml --profile full --epochs 5
    python -m synthlib.tools.rescore --params params/five_minority.yaml --profile full --steps 2000
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from synthlib import paths  # noqa: E402
from synthlib.config import ConfigError  # noqa: E402
from synthlib.data import DataError  # noqa: E402
from synthlib.registry import CLASSIC_ARMS  # noqa: E402

CLASSIC = CLASSIC_ARMS + ("upper_bound",)


def convnet(image_shape, n_classes=2):
    """keras.io's MNIST convnet with a 128-unit dense layer before the output (its features:
    `penultimate`), as networks.small_cnn; written out here rather than taken from synthlib."""
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input(image_shape),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(128, activation="relu", name="penultimate"),
        layers.Dropout(0.5), layers.Dense(n_classes, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def generator_quality(run, epochs=10, draws=10):
    """Each generator's synthetic minority images (those its arm trained on; with
    label.filter or generate.select_from, also all it generated), read by an independent
    CNN of every class trained on the real training split: label agreement, and the Fréchet distance to the real
    test minority in its penultimate features, beside held-out real minority images (the
    validation split's) at the same n. The distance at a few dozen images varies from one
    draw to the next: the synthetic side is the mean over `draws` disjoint draws of n."""
    import keras

    from synthlib.quality import disjoint_draws
    from synthlib.quality import frechet_distance as frechet
    from synthlib.studies import rebalance

    ds = run.data()
    rows = []
    for seed in run.seeds:
        split = run.split(seed)
        minority = split.minority_class
        keras.utils.set_random_seed(2000 + seed)
        model = convnet(ds.x.shape[1:], int(ds.y.max()) + 1)
        model.fit(ds.x[split.train] / 255.0, ds.y[split.train], epochs=epochs, batch_size=64,
                  verbose=0)
        accuracy = model.evaluate(ds.x[split.test] / 255.0, ds.y[split.test], verbose=0)[1]
        features = keras.Model(model.inputs, model.get_layer("penultimate").output)
        test = features.predict(ds.x[split.test][ds.y[split.test] == minority] / 255.0,
                                verbose=0)
        held = ds.x[split.validation][ds.y[split.validation] == minority]
        n = len(held)
        reference = frechet(features.predict(held / 255.0, verbose=0), test)
        rng = np.random.default_rng(seed)
        # the kept minority images every generator learned from, repeated to the same n: how
        # close a generator that memorised them would come
        kept = ds.x[split.kept_minority]
        copy_ratio = np.mean([frechet(features.predict(
            kept[rng.integers(0, len(kept), n)] / 255.0, verbose=0), test)
            for _ in range(draws)]) / reference
        for name in run.cfg.generators():
            row = {"seed": seed, "generator": name}
            # the images the arm trained on (with label.filter: those the filter accepted;
            # with generate.select_from: those herding chose), and, where either chose, the
            # generator's own draw
            sets = {"": rebalance.accepted_synthetic(run, seed, name)}
            drawn = rebalance.load_generated(run, seed, name)
            if drawn is not None or run.cfg.label.filter:
                sets["generated_"] = rebalance.load_synthetic(run, seed, name)[0] \
                    if drawn is None else drawn
            for prefix, images in sets.items():
                images = images / 255.0
                picks = disjoint_draws(rng, len(images), n, draws)
                k = len(picks)
                agree = float(np.mean(model.predict(images[picks.ravel()], verbose=0)
                                      .argmax(1) == minority))
                fds = np.array([frechet(features.predict(images[p], verbose=0), test)
                                for p in picks])
                what = "all generated" if prefix else (
                    "accepted by the filter" if run.cfg.label.filter else
                    "chosen by herding" if drawn is not None else "generated")
                print(f"seed {seed} {name:<26} {what}: agreement {agree:.3f}  Fréchet "
                      f"{fds.mean():.1f} (sd {fds.std():.1f} over {k} draws of {n}) vs "
                      f"{reference:.1f} real ({fds.mean() / reference:.2f}x; a copy of the "
                      f"kept images {copy_ratio:.2f}x); classifier {accuracy:.4f}", flush=True)
                row.update({f"{prefix}label_agreement": agree,
                            f"{prefix}frechet_ratio": fds.mean() / reference,
                            f"{prefix}frechet_ratio_sd": fds.std() / reference})
            rows.append({**row, "copy_frechet_ratio": copy_ratio,
                         "classifier_accuracy": accuracy})
    return pd.DataFrame(rows).groupby("generator").mean().drop(columns="seed")


def rescore(run, epochs, arms=CLASSIC, batch_size=64, steps=None):
    """Tidy rows: seed, arm, the re-scored minority F1 and the optimizer steps it took.
    With `steps`, every arm gets that many updates (shuffled batches, reshuffled each pass)
    instead of `epochs` passes."""
    import keras
    import tensorflow as tf
    from sklearn.metrics import f1_score

    from synthlib import evaluation

    ds = run.data()
    rows = []
    for seed in run.seeds:
        split = run.split(seed)
        x_test, y_test = evaluation.test_set(ds, split)
        for arm in arms:
            # the same images the run trained on (the resampling baselines are seeded)
            x, y, class_weight = evaluation.training_set(arm, ds, split, {}, run.cfg, seed)
            keras.utils.set_random_seed(1000 + seed)
            model = convnet(x.shape[1:])
            x = x.astype("float32") / 255.0
            if steps:
                data = (tf.data.Dataset.from_tensor_slices((x, y))
                        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
                        .repeat().batch(batch_size))
                model.fit(data, epochs=1, steps_per_epoch=steps, class_weight=class_weight,
                          shuffle=False, verbose=0)  # the dataset shuffles
            else:
                model.fit(x, y, epochs=epochs, batch_size=batch_size,
                          class_weight=class_weight, verbose=0)
            pred = model.predict(x_test.astype("float32") / 255.0, verbose=0).argmax(1)
            f1 = f1_score(y_test, pred, pos_label=1, zero_division=0)
            taken = int(model.optimizer.iterations)
            print(f"seed {seed} {arm:<20} minority F1 {f1:.3f} ({taken} steps)", flush=True)
            rows.append({"seed": seed, "arm": arm, "rescored": f1, "steps": taken})
    return pd.DataFrame(rows)


def compare(run, rescored, classifier="small_cnn"):
    """Mean over seeds of the report's minority F1 and of the re-scoring, per arm."""
    m = pd.read_csv(run.path("metrics.csv"))
    own = m[(m.classifier == classifier) & (m.metric == "minority_f1")]
    table = (rescored.groupby("arm", sort=False)[["rescored", "steps"]].mean()
             .join(own.groupby("arm")["value"].mean().rename("report")))
    table["difference"] = table["report"] - table["rescored"]
    table["steps"] = table["steps"].round().astype(int)  # a count, not a score to 3 decimals
    return table[["report", "rescored", "difference", "steps"]]


def main(argv=None):
    from synthlib.runs import Run

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--params", required=True)
    p.add_argument("--profile", default="quick")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--steps", type=int, default=0,
                   help="train every arm for this many steps of batch 64 instead (equal "
                        "compute per arm, like the report's own evaluators)")
    p.add_argument("--arms", default=",".join(CLASSIC),
                   help="comma-separated arms to re-score (default: the classic ones and the "
                        "upper bound; none: only --generators)")
    p.add_argument("--generators", action="store_true",
                   help="also read each generator's images with an independent classifier")
    args = p.parse_args(argv)
    if args.epochs < 1 or args.steps < 0:  # 0 epochs would "re-score" an untrained CNN
        p.error(f"EPOCHS={args.epochs}, STEPS={args.steps}: EPOCHS must be 1 or more, and "
                f"STEPS 0 (use EPOCHS) or more")
    arms = [] if args.arms in ("", "none") else args.arms.split(",")
    try:
        run = Run(args.params, args.profile)
        if run.cfg.study != "rebalance":
            print(f"{run.experiment}: study {run.cfg.study!r} has no classic arms to re-score; "
                  "skipped")
            return 0
        check(run, arms, args.generators)
    except (ConfigError, DataError) as e:  # DataError: a RunError among them
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        return _rescore(run, args, arms)
    except KeyboardInterrupt:
        print("rescore interrupted: each of its tables is written only once complete, and the "
              "run it re-scores is as it was; run the same command again.", file=sys.stderr,
              flush=True)
        return 130


def _rescore(run, args, arms):
    if args.generators:
        g = generator_quality(run)
        g.to_csv(run.path("rescore_generators.csv"))  # beside the run it reads
        print(g.round(3).to_string())
        print(f"written {paths.shown(run.path('rescore_generators.csv'))}")
    if not arms:
        return 0
    rescored = rescore(run, args.epochs, arms, steps=args.steps)
    table = compare(run, rescored)
    name = f"rescore_{args.steps}_steps" if args.steps else f"rescore_{args.epochs}_epochs"
    out = run.path(f"{name}.csv")
    table.to_csv(out)
    rescored.to_csv(out.with_name(f"{name}_by_seed.csv"), index=False)
    with pd.option_context("display.float_format", "{:.3f}".format):
        print(table.to_string())
    print(f"largest |report - rescored|: {table['difference'].abs().max():.3f}; written "
          f"{paths.shown(out)}")
    return 0


def check(run, arms, generators):
    """Before any training: the arms are ones this tool re-scores, and the run has got as far
    as they need (04_label for the generators' images, 05_evaluate for the report's scores),
    under the settings the params file gives now: a run made before the file was edited would
    be re-scored against a Config it never ran, and its images read as another run's."""
    from synthlib.runs import WORK

    unknown = [a for a in arms if a not in CLASSIC]
    if unknown:
        raise ConfigError(f"--arms {unknown[0]!r}: not re-scored here; choose among "
                          f"{', '.join(CLASSIC)} (or none), and GENERATORS=1 for the GAN arms")
    for stage, needed in (("04_label", generators), ("05_evaluate", bool(arms))):
        if needed and not (run.dir / f"{stage}.ipynb").exists():
            raise ConfigError(
                f"no finished {stage} in {run.dir}: run `make report EXP={run.experiment} "
                f"PROFILE={run.cfg.profile}` first")
    if arms or generators:
        run.check_stages(len(WORK) if arms else WORK.index("label") + 1)


if __name__ == "__main__":
    sys.exit(main())
