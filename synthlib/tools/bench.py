"""`make bench`: how fast GAN training runs here, and how soon each generator is good enough.

Quality per CPU-minute is the headline: for the minority DCGAN and the conditional GAN on
MNIST, the quality curve (oracle label agreement and Fréchet ratio against training time,
synthlib/tools/quality_curve.py) and the seconds to the stated quality, beside the seed
notebook's network. Then speed, as ratios measured in one process:

- the reference: the seed notebook's loop in float32 (`generator.predict`, then
  `train_on_batch` on the discriminator with its weights trainable, then `train_on_batch` on
  the combined model with the discriminator frozen);
- synthlib's `DCGAN.fit` on the `seed_dcgan` preset and on the default architecture;
- achieved FLOP/s of a GAN step (multiply-adds counted from the layer shapes) as a share of the
  float32 matmul peak measured now; images/s for generation and classifier training in both
  precisions, and the small CNN's accuracy trained as `evaluate` trains it in each; peak
  resident memory. The GAN steps are timed in interleaved rounds, the fastest round counted
  (`interleaved_rates` says why); the other figures are medians of a few repeats.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from synthlib import classifiers, config, gan, networks, params, plots, registry, workers
from synthlib.paths import BUILD_DIR, REPORTS_DIR, ROOT, shown, write_text


def macs_per_image(model):
    """Multiply-adds of one forward pass, from Dense / Conv2D / Conv2DTranspose shapes."""
    total = 0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            total += layer.kernel.shape[0] * layer.kernel.shape[1]
        elif kind in ("Conv2D", "Conv2DTranspose"):
            kh, kw = layer.kernel_size
            cin = layer.input.shape[-1]
            # Conv2D: every output position; Conv2DTranspose: every input position
            h, w = (layer.output.shape[1:3] if kind == "Conv2D" else layer.input.shape[1:3])
            total += h * w * kh * kw * cin * layer.filters
    return total


def step_flops(generator, discriminator, batch):
    """One GAN step: D on a real and a fake batch (forward + backward ~ 3 forwards) after a
    generator forward; then G forward + backward through D."""
    g, d = macs_per_image(generator), macs_per_image(discriminator)
    return 2 * batch * (4 * g + 9 * d)


def matmul_peak(n=2048, repeats=10, dtype="float32"):
    a = tf.cast(tf.random.normal((n, n)), dtype)
    b = tf.cast(tf.random.normal((n, n)), dtype)
    f = tf.function(tf.linalg.matmul)
    f(a, b).numpy()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f(a, b).numpy()
        times.append(time.perf_counter() - t)
    return 2 * n ** 3 / statistics.median(times)


def seed_loop_step(images, batch, latent_dim=100):
    """The seed notebook's training loop, as it ran (float32, RMSprop, predict per step).
    Returns (one step as a function, generator, discriminator)."""
    keras.utils.set_random_seed(0)
    generator = networks.seed_dcgan_generator(latent_dim)
    base = networks.seed_dcgan_discriminator()
    out = keras.layers.Activation("sigmoid")(base.output)
    discriminator = keras.Model(base.input, out)
    discriminator.compile(loss="binary_crossentropy", optimizer=keras.optimizers.RMSprop(2e-4),
                          metrics=["accuracy"])
    z = keras.Input((latent_dim,))
    adversarial = keras.Model(z, discriminator(generator(z)))
    adversarial.compile(loss="binary_crossentropy", optimizer=keras.optimizers.RMSprop(1e-4),
                        metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = images.astype("float32") / 255.0
    y = np.concatenate([np.ones((batch, 1)), np.zeros((batch, 1))])

    def step():
        noise = rng.uniform(-1, 1, (batch, latent_dim))
        fake = generator.predict(noise, verbose=0)
        real = x[rng.integers(0, len(x), batch)]
        discriminator.trainable = True  # Keras 3 reads this at train time: D must learn here
        discriminator.train_on_batch(np.concatenate([real, fake]), y)
        discriminator.trainable = False  # ... and stay fixed while G learns through it
        adversarial.train_on_batch(rng.uniform(-1, 1, (batch, latent_dim)),
                                   np.ones((batch, 1)))
    return step, generator, discriminator


def synthlib_step(images, architecture, batch, steps, precision="float32"):
    """(`steps` steps of DCGAN.fit as a function, the model); traced once, outside the clock."""
    cfg = config.GanConfig(architecture=architecture, batch_size=batch, precision=precision)
    model = gan.build(cfg, images.shape[1:], seed=0)
    data = gan.image_batches(images, batch, 0)
    model.fit(data, epochs=1, steps_per_epoch=5, verbose=0, shuffle=False)
    return lambda: model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0,
                             shuffle=False), model


def interleaved_rates(runs, steps, rounds=5):
    """Steps/s of each {name: function running `steps` steps}, timed in turn within each
    round, so that a slow spell of the machine touches every subject rather than all the
    repeats of one. The headline is the fastest round (timeit's advice: slower ones measure
    interference, not the code), the median comes with it: the two parting is how tf.data's
    autotuner showed itself here (whole fits at half speed; now off, gan.FIXED_PIPELINE)."""
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            t = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - t) / steps)
    return {name: (1.0 / min(ts), 1.0 / statistics.median(ts)) for name, ts in times.items()}


def images_per_second(fn, n, repeats=3):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return n / statistics.median(times)


def speed(args):
    """Steps/s of each network and precision against the seed loop; share of the matmul peak
    of the precision it computes in."""
    images = np.random.default_rng(0).integers(0, 255, (64, 28, 28, 1), dtype=np.uint8)
    peaks = {"float32": matmul_peak(), "mixed_bfloat16": matmul_peak(dtype="bfloat16")}
    seed_step = seed_loop_step(images, args.batch)[0]
    for _ in range(3):
        seed_step()  # warm-up: the first calls trace predict and train_on_batch
    reference = "reference: seed loop, float32"
    runs, models = {reference: lambda: [seed_step() for _ in range(args.steps)]}, {}
    for arch in ("seed_dcgan", "light_dcgan"):
        for precision in registry.PRECISIONS:
            name = f"synthlib DCGAN.fit, {arch}, {precision}"
            runs[name], model = synthlib_step(images, arch, args.batch, args.steps, precision)
            models[name] = model, precision
    rates = interleaved_rates(runs, args.steps)
    ref = rates[reference][0]
    rows = {}
    for name, (rate, median) in rates.items():
        rows[name] = {"steps_per_s": rate, "steps_per_s_median": median,
                      "ratio_to_reference": rate / ref}
        if name in models:
            model, precision = models[name]
            flops = step_flops(model.generator, model.discriminator, args.batch)
            rows[name].update({"gflop_per_step": flops / 1e9, "gflop_per_s": rate * flops / 1e9,
                               "share_of_matmul_peak": rate * flops / peaks[precision]})
    gen = models["synthlib DCGAN.fit, seed_dcgan, float32"][0].generator
    gen_rate = images_per_second(lambda: gan.sample(gen, 2000, seed=0), 2000)
    clf = classifier_rates()
    print(f"\nmatmul peak: float32 {peaks['float32'] / 1e9:.0f}, bfloat16 "
          f"{peaks['mixed_bfloat16'] / 1e9:.0f} GFLOP/s (2048x2048, median of 10)")
    print(f"{'':52} {'steps/s':>8} {'(median)':>9} {'x ref':>6} {'GFLOP/step':>10} "
          f"{'GFLOP/s':>8} {'of peak':>8}")
    for name, r in rows.items():
        median = f"({r['steps_per_s_median']:.2f})"
        print(f"{name:52} {r['steps_per_s']:8.2f} {median:>9} "
              f"{r['ratio_to_reference']:6.2f} "
              f"{r.get('gflop_per_step', float('nan')):10.1f} "
              f"{r.get('gflop_per_s', float('nan')):8.0f} "
              f"{100 * r.get('share_of_matmul_peak', float('nan')):7.0f}%")
    print(f"generation (seed_dcgan): {gen_rate:.0f} images/s")
    for name, rate in clf.items():
        print(f"classifier training ({name}): {rate:.0f} images/s")
    held = classifier_precision()
    return {"matmul_peak_gflop_per_s": {k: v / 1e9 for k, v in peaks.items()},
            "batch": args.batch, "gan": rows, "generation_images_per_s_seed_dcgan": gen_rate,
            "classifier_training_images_per_s": clf, "classifier_precision": held}


def classifier_rates(steps=None):
    """Training images/s of each evaluation classifier in each precision, and in float32 one
    step a call of the traced step (classifiers.MOST_PER_CALL's reason). Whole fits, long
    enough that a fit's fixed cost (about 0.4 s) does not hide the step's."""
    steps = steps or {"seed_mlp": 2000, "small_cnn": 300}
    xs = np.random.default_rng(1).integers(0, 255, (4000, 28, 28, 1), dtype=np.uint8)
    ys = np.random.default_rng(1).integers(0, 2, 4000)
    most, out = classifiers.MOST_PER_CALL, {}
    for name in ("seed_mlp", "small_cnn"):
        for precision, per_call in [(p, most) for p in registry.PRECISIONS] + [("float32", 1)]:
            classifiers.MOST_PER_CALL = per_call
            try:
                out[f"{name}, {precision}" + (", one step a call" if per_call == 1 else "")] = \
                    images_per_second(lambda: classifiers.fit(
                        name, xs, ys, 2, steps[name], 64, 0, log_label="  step",
                        precision=precision), steps[name] * 64, repeats=2)
            finally:
                classifiers.MOST_PER_CALL = most
    return out


def classifier_precision(steps=None):
    """Does bfloat16 hold an evaluation classifier's accuracy? The small CNN trained as
    `evaluate` trains it (its step budget, batch and seed 0) on the full profile's training
    split in each precision, scored on their validation split (the test split stays unseen):
    accuracy and wall seconds."""
    from synthlib import data, imbalance

    cfg = params.load(ROOT / "params" / "five_minority.yaml", "full")
    ds = data.load(cfg.data)
    sp = imbalance.make_split(ds.y, cfg.split, cfg.imbalance, 0)
    steps = steps or cfg.evaluate.steps_for("small_cnn")
    out = {}
    for precision in registry.PRECISIONS:
        start = time.perf_counter()
        model, _ = classifiers.fit("small_cnn", ds.x[sp.train], ds.y[sp.train], 10, steps,
                                   cfg.evaluate.batch_size, 0, log_label="  step",
                                   precision=precision)
        seconds = time.perf_counter() - start
        proba = classifiers.predict_proba(model, ds.x[sp.validation])
        out[precision] = {"accuracy": float(np.mean(proba.argmax(1) == ds.y[sp.validation])),
                          "seconds": seconds, "steps": steps}
    print(f"small_cnn, {steps} steps on {len(sp.train)} training digits, validation accuracy: "
          + "; ".join(f"{k} {v['accuracy']:.4f} in {v['seconds']:.0f} s" for k, v in out.items()))
    return out


# What the quality curves compare: each generator of the default architecture in both
# precisions, and the seed notebook's network (the reference the issue of quality is about).
CURVES = [("dcgan_minority", "light_dcgan", "float32"),
          ("dcgan_minority", "light_dcgan", "mixed_bfloat16"),
          ("dcgan_minority", "seed_dcgan", "float32"),
          ("cgan_all_classes", "light_dcgan", "float32"),
          ("cgan_all_classes", "light_dcgan", "mixed_bfloat16")]


def quality(args):
    """Quality against training time per generator; seconds to reach the stated quality."""
    from synthlib.tools import quality_curve

    kept = args.kept or None  # "": measure everything anew, keep nothing
    scenario = quality_curve.Scenario(keep=kept)
    validity_cfg = scenario.cfg.validity
    curves, reached = [], {}
    steps = args.quality_steps or scenario.cfg.gan.steps
    for kind, arch, precision in CURVES:
        # The scenario's own training settings (its full profile's R1 and mode-seeking
        # weights, batch size), so that the curve is the one its budget is chosen from.
        gan_cfg = dataclasses.replace(scenario.cfg.gan, architecture=arch, precision=precision)
        c = quality_curve.kept_curve(kept, scenario, kind, gan_cfg, steps, args.every)
        curves.append(c)
        hit = quality_curve.time_to_quality(c, validity_cfg)
        reached[f"{kind}, {arch}, {precision}"] = None if hit is None else {
            k: float(hit[k]) for k in ("step", "wall_seconds", "cpu_seconds")}
    table = pd.concat(curves, ignore_index=True)
    print(f"\ntime to quality (oracle agreement >= {validity_cfg.label_agreement}, Fréchet "
          f"distance <= {validity_cfg.frechet_ratio} x real-vs-real at n = "
          f"{len(scenario.heldout)}; a copy of the {len(scenario.split.kept_minority)} kept "
          f"minority images scores {scenario.copy_ratio:.2f}x):")
    for name, hit in reached.items():
        print(f"  {name:48} " + ("not within the budget" if hit is None else
                                 f"{hit['step']:.0f} steps, {hit['wall_seconds']:.0f} s wall, "
                                 f"{hit['cpu_seconds']:.0f} s CPU"))
    return {"quality_thresholds": {"label_agreement": validity_cfg.label_agreement,
                                   "frechet_ratio": validity_cfg.frechet_ratio,
                                   "n": len(scenario.heldout),
                                   "real_vs_real_frechet": scenario.reference["frechet_distance"],
                                   "copy_of_training_images_ratio": scenario.copy_ratio},
            "time_to_quality": reached, "quality_curves": table.to_dict("records")}, table


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m synthlib.tools.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=30, help="GAN steps per speed repeat")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--quality-steps", type=int, default=None,
                   help="training budget of each quality curve (default: five_minority's "
                   "full-profile GAN steps; 0: speed only)")
    p.add_argument("--every", type=int, default=250, help="steps between quality points")
    p.add_argument("--out", default=str(REPORTS_DIR / "bench.json"))
    p.add_argument("--kept", default=str(BUILD_DIR / "bench"),
                   help="folder of the oracle and the finished quality curves, reused while "
                   "their code, settings and machine are the same (an interrupted bench goes on "
                   "with the next curve); '' keeps nothing")
    args = p.parse_args(argv)
    try:
        return _bench(args)
    except KeyboardInterrupt:
        kept = (f"the measuring oracle and each finished quality curve are kept in "
                f"{shown(args.kept)}: the same command times the speed part again and goes on "
                f"with the first curve not finished" if args.kept else "nothing is kept (--kept "
                "''): the same command starts again")
        print(f"bench interrupted: {kept}.", file=sys.stderr, flush=True)
        return 130


def _bench(args):
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)  # the figure goes beside it
    result = {"device": workers.device(), **speed(args)}
    if args.quality_steps != 0:
        q, table = quality(args)
        result.update(q)
        figure = Path(args.out).with_name("bench_quality.png")
        plots.quality_curves(table, result["quality_thresholds"], path=figure)
        print(f"figure: {figure}")
    result["peak_rss_mib"] = workers.peak_memory_mib()
    print(f"peak resident memory: {result['peak_rss_mib']:.0f} MiB")
    write_text(args.out, json.dumps(result, indent=2, default=float))
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
