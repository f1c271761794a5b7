"""Study `bias` (seed 004): does a generator reproduce the class shares of its training mix?

The classes of data.classes (three in the seed): all at `bias.fixed_count` training images
except `bias.varied_class`, which takes each of `bias.varied_counts` in turn: one training mix per
count. An unconditional DCGAN and a VAE whose decoder is the same network are trained on each
mix; the measuring oracle (trained on the real training split, measures only) classifies the
generated images, rejecting those below `label.threshold` confidence. The class shares of the
generated images, mean ± std over seeds, are set against the training shares: absolute error
and KL divergence.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# gan and classifiers (TensorFlow: seconds to import) are imported where a stage trains or
# samples, so that the stages that only read and draw start without them.
from synthlib import imbalance, plots, show
from synthlib.studies import common


def _about_generators(cfg):
    """02's paragraph: the models this run's `evaluate.arms` name, and no other."""
    kl = cfg.gan.kl_weight
    models = {"dcgan": "an unconditional DCGAN",
              "vae": "a VAE (keras.io's recipe" + ("" if kl == 1 else
                                                    f", its KL term weighted {kl:g}: "
                                                    "`gan.kl_weight`") + ")"}
    both = len(cfg.evaluate.arms) > 1
    return ("For every seed and mix: " + " and ".join(models[m] for m in cfg.evaluate.arms)
            + (", each" if both else ",") + " trained on the mix alone, without labels"
            + ("; the VAE's decoder is the DCGAN's generator, so both generators have the "
               "same capacity." if both else "."))


ABOUT = {
    "01": "**Study `bias`**, from the source thesis (seed document 004, an MSc thesis on class "
          "imbalance in generative models): controlled class mixes. Every class of "
          "`data.classes` has `bias.fixed_count` training images except `bias.varied_class`, "
          "which has each of `bias.varied_counts` in turn. Within a seed the fixed classes' "
          "images are the same in every mix, and a smaller count of the varied class is part "
          "of a larger one: the mixes differ by that count alone.\n\n"
          + common.SEED_DOCUMENTS,
    "02": _about_generators,
    "03": "`generate.per_class` x (number of classes) images from each generator.",
    "04": "The measuring oracle, trained on the real training split of these classes, "
          "classifies every generated image; images it is less than `label.threshold` sure of "
          "are counted as rejected and left out of the shares. It measures only: no training "
          "set depends on it.",
    "05": "Class shares of the accepted generated images against the training shares of the "
          "mix: absolute error (mean over classes) and KL divergence KL(training || generated), "
          "each computed per seed and shown as mean ± std over seeds (each seed's in "
          "metrics.csv).",
}


def _counts(cfg, classes):
    return {v: {int(c): (v if c == cfg.bias.varied_class else cfg.bias.fixed_count)
                for c in classes} for v in cfg.bias.varied_counts}


# One name per generator and arm, in paths, metrics.csv and the reports: model and mix.
MIX_NAME = r"(.+)_mix(\d+)"


def mix_name(model, varied_count):
    return f"{model}_mix{varied_count}"


def draw_mixes(cfg, y, pool, classes, seed):
    """{varied count: the mix's image indices, drawn from `pool`}, one draw per seed: every mix has
    the same images of the fixed classes, and a smaller count of the varied class is the start
    of a larger one's, so that the mixes differ by the varied class's count alone rather than
    also by which images they drew."""
    rng = np.random.default_rng(seed)
    counts = _counts(cfg, classes)
    order = {}
    for c in counts[max(counts)]:
        key = "bias.varied_counts" if c == cfg.bias.varied_class else "bias.fixed_count"
        most = max(m[c] for m in counts.values())
        order[c] = rng.permutation(imbalance.take_per_class(y, pool, {c: most}, seed, key))
    return {v: np.sort(np.concatenate([order[c][:n] for c, n in m.items()]))
            for v, m in counts.items()}


def check(cfg, ds):
    for seed in cfg.seeds:
        train, validation, _ = imbalance.stratified_split(ds.y, cfg.split, seed)
        for v, idx in draw_mixes(cfg, ds.y, train, ds.classes, seed).items():
            check_pool(cfg, ds, train, validation, idx, v)


def check_pool(cfg, ds, train, validation, mix, varied_count):
    """label() measures each generator against real training images outside its mix, in the
    mix's shares: a mix that leaves fewer of them than the images compared (n) would measure
    against a handful, or none."""
    outside = np.setdiff1d(train, mix)
    n = min(cfg.quality.samples, _like_mix_size(ds, validation, mix))
    have = _like_mix_size(ds, outside, mix)
    if have < n:
        c = _scarcest(ds, outside, mix)
        key, value = (("bias.varied_counts", varied_count) if c == cfg.bias.varied_class
                      else ("bias.fixed_count", cfg.bias.fixed_count))
        raise imbalance.ImbalanceError(
            f"{key} = {value}: leaves {np.sum(ds.y[outside] == c)} training images of class "
            f"{c} outside the mix of {varied_count}, too few to measure its generators by: "
            f"{have} real images in the mix's shares where the Fréchet check compares {n}; "
            f"lower it (or quality.samples), or use more data")


def prepare(run):
    ds = run.data(fresh=True)
    common.record_data(run, ds)
    splits, mixes = {}, {}
    for seed in run.seeds:
        split = imbalance.make_plain_split(ds.y, run.cfg.split, seed)
        split.save(run.path("split.npz", seed))
        splits[seed] = split
        for v, idx in draw_mixes(run.cfg, ds.y, split.train, ds.classes, seed).items():
            check_pool(run.cfg, ds, split.train, split.validation, idx, v)
            mixes[(seed, v)] = idx
        common.save_npz(run.path("mixes.npz", seed),
                        **{f"mix{v}": mixes[(seed, v)] for v in run.cfg.bias.varied_counts})
    return ds, splits, mixes


def mixes(run, seed):
    d = common.load_npz(run.made("mixes.npz", seed))
    return {v: d[f"mix{v}"] for v in run.cfg.bias.varied_counts}


def generators(run):
    """Per seed and mix: an unconditional DCGAN and a VAE, on the mix's images, no labels."""
    ds = run.data()
    return [common.Generator(seed, mix_name(model, v), ds.x[idx], model=model, source=model)
            for seed in run.seeds for v, idx in mixes(run, seed).items()
            for model in run.cfg.evaluate.arms]


def train(run):
    return common.train_all(run, generators(run))


def generate(run):
    common.require_trained(run, generators(run))
    from synthlib import gan

    ds, cfg = run.data(), run.cfg
    n = cfg.generate.per_class * len(ds.classes)
    out = {}
    for seed in run.seeds:
        for v in cfg.bias.varied_counts:
            for model in cfg.evaluate.arms:
                name = mix_name(model, v)
                g = run.load_model("generator.keras", seed, name)
                images = gan.sample(g, n, seed=40_000 + seed, batch_size=cfg.generate.batch_size,
                                    train_batch=common.train_batch(cfg))
                common.save_npz(run.path("generated.npz", seed, name), images=images)
                out[(seed, name)] = (images, None)
        print(f"seed {seed}: {n} images from each of {len(cfg.bias.varied_counts)} mixes x "
              f"{len(cfg.evaluate.arms)} models", flush=True)
    return out


def _in_shares(ds, pool, mix):
    """{class: how many images of `pool` in the mix's shares that class alone allows}, in
    whole numbers so that an exact fit is no float's rounding."""
    classes, counts = np.unique(ds.y[mix], return_counts=True)
    return {int(c): int(np.sum(ds.y[pool] == c)) * int(counts.sum()) // int(n)
            for c, n in zip(classes, counts)}


def _like_mix_size(ds, pool, mix):
    """About how many images of `pool` `_like_mix` draws: the class that runs out first
    decides."""
    return min(_in_shares(ds, pool, mix).values())


def _scarcest(ds, pool, mix):
    """The class that runs out first."""
    allows = _in_shares(ds, pool, mix)
    return min(allows, key=allows.get)


def _like_mix(ds, pool, mix, seed):
    """Real images from `pool` (held out) in the class shares of a training mix, as many as
    the pool allows: the real-vs-real reference for a generator trained on that mix."""
    classes, counts = np.unique(ds.y[mix], return_counts=True)
    shares = counts / counts.sum()
    have = np.array([np.sum(ds.y[pool] == c) for c in classes])
    total = int(np.min(have / shares))
    take = {int(c): max(1, int(share * total)) for c, share in zip(classes, shares)}
    return imbalance.take_per_class(ds.y, pool, take, seed, "validity reference")


def label(run):
    """Oracle class shares of each generator's images (rejections left out), and each
    generator's Fréchet distance beside held-out real images drawn in the mix's shares, at the
    same n, both to real training images outside the mix (in its shares too)."""
    from synthlib import classifiers, quality

    ds, cfg = run.data(), run.cfg
    rows, accuracy, qual = [], [], []
    for seed in run.seeds:
        split = run.split(seed)
        oracle, _, acc = common.train_reader(run, ds, split, seed, "oracle")
        accuracy.append({"seed": seed, "oracle_test_accuracy": acc,
                         "oracle_steps": int(oracle.optimizer.iterations)})
        for v, idx in mixes(run, seed).items():
            train_counts = pd.Series(ds.y[idx]).value_counts()
            reference = ds.x[_like_mix(ds, split.validation, idx, seed)]
            # both sides measured against real training images the generator never saw, in
            # its mix's shares: against the mix itself, a copy of it would score below real
            # held-out images, and memorising would pass the check
            pool = _like_mix(ds, np.setdiff1d(split.train, idx), idx, seed)
            for model in cfg.evaluate.arms:
                name = mix_name(model, v)
                images = common.load_npz(run.made("generated.npz", seed, name))["images"]
                proba = classifiers.predict_proba(oracle, images)
                accepted = proba.max(1) >= cfg.label.threshold
                predicted = ds.classes[proba.argmax(1)][accepted]
                for c in ds.classes:
                    rows.append({"seed": seed, "model": model, "varied_count": v,
                                 "class": int(c),
                                 "generated_share": float(np.mean(predicted == c))
                                 if len(predicted) else float("nan"),
                                 "training_share": float(train_counts.get(c, 0) / len(idx)),
                                 "rejection_rate": float(1 - accepted.mean())})
                synth, real = quality.compare_sets(oracle, images, reference, ds.x[pool],
                                                   cfg.quality.samples, seed,
                                                   draws=cfg.quality.draws)
                qual += [{"seed": seed, "generator": name, "images": "synthetic", **synth},
                         {"seed": seed, "generator": name, "images": "real", **real}]
    shares = pd.DataFrame(rows)
    run.save_json("label_summary.json", {"rows": shares.to_dict("records"),
                                         "accuracy": accuracy, "quality": qual})
    return shares, pd.DataFrame(accuracy)


def kl_divergence(p, q, eps=1e-3):
    """KL(p || q) with a small floor on q, so that a class the generator never produced gives
    a large, finite divergence."""
    from scipy.special import rel_entr

    q = np.clip(np.asarray(q, float), eps, None)
    return float(np.sum(rel_entr(np.asarray(p, float), q / q.sum())))


def evaluate(run):
    """Per seed, model and mix: shares, absolute error and KL; metrics.csv."""
    summary = run.load_json("label_summary.json")
    shares = pd.DataFrame(summary["rows"])
    rows_ = []
    for (seed, model, v), g in shares.groupby(["seed", "model", "varied_count"]):
        arm = mix_name(model, v)
        gen, tr = g["generated_share"].to_numpy(), g["training_share"].to_numpy()
        scores = {f"generated_share_{c}": s for c, s in zip(g["class"], gen)}
        scores.update({f"training_share_{c}": s for c, s in zip(g["class"], tr)})
        # every image rejected: no shares to compare (NaN, shown as such), never a fake 0
        none = bool(np.isnan(gen).all())
        scores.update({"abs_error": float("nan") if none else float(np.mean(np.abs(gen - tr))),
                       "kl_divergence": float("nan") if none else kl_divergence(tr, gen),
                       "rejection_rate": float(g["rejection_rate"].iloc[0])})
        rows_ += common.rows(run.experiment, arm, "oracle", int(seed), scores)
    rows_ += common.label_rows(run)
    df = common.write_metrics(run, rows_)
    return df, shares


def shares_long(metrics_df):
    d = metrics_df[metrics_df.metric.str.contains("_share_")
                   & metrics_df.arm.str.fullmatch(MIX_NAME)].copy()
    parts = d.arm.str.extract(MIX_NAME)
    d["model"], d["varied_count"] = parts[0], pd.to_numeric(parts[1])
    d["kind"] = np.where(d.metric.str.startswith("generated"), "generated", "training")
    d["class"] = d.metric.str.rsplit("_", n=1).str[1]
    return d


# ---- what the notebooks show ---------------------------------------------------------------

def show_prepare(run, result):
    ds, splits, mixes_ = result
    show.heading("The training mixes")
    show.text("Training images per class in each mix (drawn from the training split only).")
    rows = [{"seed": s, "mix (varied count)": v,
             **{ds.class_label(c): int(np.sum(ds.y[idx] == c)) for c in ds.classes}}
            for (s, v), idx in mixes_.items()]
    show.table(pd.DataFrame(rows))


def show_classifiers(run):
    show.heading("How the arms are scored")
    show.text("No classifier is trained in this stage. The measuring oracle of `04_label` has "
              "named the class of every generated image; here the class shares it found are "
              "compared with the shares of the mix each generator learnt from. "
              "`evaluate.classifiers` and `evaluate.steps` are not used by this study.")


def show_label(run, result):
    shares, accuracy = result
    show.heading("The oracle's accuracy on the real test split")
    show.table(accuracy.round(3))  # as the write-up reads it
    show.heading("Generated class shares (mean over seeds)")
    show.table(shares.pivot_table(index=["model", "varied_count"], columns="class",
                                  values=["generated_share", "training_share"]).round(3)
               .rename(columns=run.class_label, level="class"))


def headline(metrics_df, checks_=(), label=str):
    """(caption, table) for the write-up and the index, a column per class (named by `label`,
    runs.Run.class_label). No row names a winner, so none is in bold; a row whose generator
    (or the oracle that reads it) fails one of `checks_` is marked †, as the other studies
    mark a GAN arm resting on such a generator, so that the table read alone (the index shows
    it) does not pass its shares off as what its kind of model does."""
    from synthlib import report, validity

    d = shares_long(metrics_df)
    gen = d[d.kind == "generated"]
    tr = d[d.kind == "training"].groupby(["model", "varied_count", "class"])["value"].mean()
    out = []
    for (model, v, c), g in gen.groupby(["model", "varied_count", "class"]):
        sd = g["value"].std()
        mean = g["value"].mean()
        cell = "n/a: every image rejected" if pd.isna(mean) else report.mean_sd(mean, sd)
        out.append({"model": model, "varied count": v, "class": c,
                    "cell": cell + f" ({tr[(model, v, c)]:.3f})"})
    t = (pd.DataFrame(out).pivot(index=["model", "varied count"], columns="class", values="cell")
         .rename(columns=label))
    for metric in ("abs_error", "kl_divergence", "rejection_rate"):
        m = metrics_df[metrics_df.metric == metric].copy()
        m[["model", "varied count"]] = m.arm.str.extract(MIX_NAME)
        m["varied count"] = pd.to_numeric(m["varied count"])
        agg = m.groupby(["model", "varied count"])["value"].agg(["mean", "std"])
        t[metric] = [report.mean_sd(r["mean"], r["std"])
                     for _, r in agg.reindex(t.index).iterrows()]
    failing = {(m, v) for m, v in t.index
               if not validity.conclusive_for(checks_, mix_name(m, v), "oracle")}
    if failing:
        t.index = pd.MultiIndex.from_tuples(
            [(m + report.WITHHELD_MARK if (m, v) in failing else m, v) for m, v in t.index],
            names=t.index.names)
    return (f"Class shares of the generated images, per class: {report.over_seeds(metrics_df)} "
            "(training share in brackets), the images the oracle rejects (no class at "
            "`label.threshold` or more: `rejection_rate`) left out; absolute error (mean over "
            "classes) and KL divergence (nats; a class never generated counts as a share of "
            "0.001) against the training mix, 0 where the shares match it"
            + ("; † a generator that (or whose oracle) fails a validity check: its shares "
               "describe this generator, not what its kind of model does" if failing else ""),
            t)


def show_evaluate(run, result):
    metrics_df, _ = result
    caption, table = headline(metrics_df, label=run.class_label)
    show.heading("Generated against training shares")
    show.text(caption + ".")
    show.table(table)
    plots.shares(shares_long(metrics_df), run.cfg.bias.varied_class, label=run.class_label)


def _generator_names(run):
    return [mix_name(m, v) for m in run.cfg.evaluate.arms for v in run.cfg.bias.varied_counts]


def checks(run, metrics_df):
    """The write-up's validity checks: the oracle's accuracy (every number here is its
    reading, so it speaks for all), each generator's Fréchet distance against held-out real
    images in its mix's shares, and, at equal counts, each generator's class shares."""
    from synthlib import validity

    v, b = run.cfg.validity, run.cfg.bias
    balanced = ([mix_name(m, b.fixed_count) for m in run.cfg.evaluate.arms]
                if b.fixed_count in b.varied_counts else [])
    return (validity.oracle_check(metrics_df, v, scope="all")
            + validity.generator_checks(metrics_df, _generator_names(run), v)
            + balance_checks(metrics_df, balanced, v))


BALANCE_CHECK = "largest share gap at equal counts"


def balance_checks(metrics_df, generators, cfg):
    """Each of `generators`, trained on a mix whose classes are equally many (the profile's
    mix where the varied count is the fixed one, if it has one): every class's share of its
    images, the mean over seeds, within `validity.share_gap` of its training share. A model
    that cannot keep equal counts equal says little about how it treats a skewed mix."""
    from synthlib import validity

    out = []
    q = metrics_df[metrics_df.classifier == "oracle"]
    for g in generators:
        rows = q[q.arm == g]
        training = rows[rows.metric.str.startswith("training_share_")]
        classes = [m.removeprefix("training_share_") for m in training.metric.unique()]
        wide = rows[rows.metric.str.contains("_share_")].pivot(
            index="seed", columns="metric", values="value")
        shares = [f"generated_share_{c}" for c in classes]
        generated = wide.reindex(columns=shares).to_numpy()
        equal = wide.reindex(columns=[f"training_share_{c}" for c in classes]).to_numpy()
        drawn = ~np.isnan(generated).any(axis=1)  # a seed whose every image was rejected
        if not drawn.any():
            out.append(validity.not_computed(
                BALANCE_CHECK, g, f"<= {cfg.share_gap:.2f}",
                f"every image of {g} rejected" if len(generated) else f"no shares for {g}"))
            continue
        means = generated[drawn].mean(axis=0)
        gap = float(np.max(np.abs(means - equal[0])))
        per_seed = np.abs(generated[drawn] - equal[drawn]).max(axis=1)
        out.append(validity.Check(
            BALANCE_CHECK, g, gap, f"<= {cfg.share_gap:.2f}", bool(gap <= cfg.share_gap),
            f"shares {'/'.join(f'{m:.3f}' for m in means)} of classes {'/'.join(classes)}, "
            f"{equal[0][0]:.3f} each in training ("
            + ("means over seeds, whose largest gap is checked; per seed: "
               + ", ".join(f"{x:.3f}" for x in per_seed) if len(per_seed) > 1 else "one seed")
            + ")"))
    return out


def closer_to_shares(err):
    """Which model's shares are nearer its training mix's: the absolute share error, each
    seed's difference averaged over its mixes and paired by seed, with its 95% interval; a
    model is named only where the interval excludes zero. (A seed's mixes share their split,
    oracle and fixed-class images: counted as pairs of their own they would narrow the
    interval beyond what the seeds show.)"""
    from synthlib import metrics

    wide = err.pivot_table(index=["seed", "varied_count"], columns="model", values="value")
    if wide.shape[1] != 2:
        return "One model: no comparison between models."
    a, b = wide.columns
    diff = (wide[a] - wide[b]).dropna().groupby(level="seed").mean()
    mean, _, half = metrics.mean_ci(diff)
    if len(diff) < 2:
        return f"{a} minus {b} share error: {mean:+.3f} on one seed, no interval."
    said = (f"{a} minus {b}: {mean:+.3f} ± {half:.3f} (mean over the mixes, paired over "
            f"{len(diff)} seeds, 95%)")
    if abs(mean) > half:
        return f"**{b if mean > 0 else a}** follows the training shares more closely: {said}."
    return f"Neither model follows the training shares measurably more closely: {said}."


def show_writeup(run, metrics_df, checks_=()):
    from synthlib import validity

    caption, table = headline(metrics_df, checks_, label=run.class_label)
    show.heading("Headline")
    show.text(caption + ".")
    show.table(table)
    lines = []
    err = metrics_df[metrics_df.metric == "abs_error"].copy()
    err[["model", "varied_count"]] = err.arm.str.extract(MIX_NAME)
    by_model = err.groupby("model")["value"].mean()
    errors = ("Mean absolute share error over every mix and seed: "
              + ", ".join(f"{m} {v:.3f}" for m, v in by_model.items()) + ".")
    names = _generator_names(run)
    if validity.conclusive_for(checks_, *names):
        lines += [errors, closer_to_shares(err)]
    else:
        # the withholding first: two errors side by side, read before it, are a ranking
        lines += ["Not conclusive: " + validity.failing_for(checks_, *names)
                  + ". How closely a generator below the stated quality follows the "
                  "shares, well or badly, says more about its training than about its kind "
                  "of model, so no model is called the better one.",
                  "As measured, not compared: " + errors[0].lower() + errors[1:]]
    d = shares_long(metrics_df)
    varied = d[(d["class"] == str(run.cfg.bias.varied_class))]
    for model, g in varied.groupby("model"):
        gen = g[g.kind == "generated"].groupby("varied_count")["value"].mean()
        tr = g[g.kind == "training"].groupby("varied_count")["value"].mean()
        counts = sorted(gen.index, key=int)  # "50" after "150" as text
        lines.append(f"{model}: the varied class {run.class_label(run.cfg.bias.varied_class)} "
                     "makes up "
                     + "; ".join(f"{gen[v]:.3f} of the images from the mix with {v} of it "
                                 f"(a training share of {tr[v]:.3f})" for v in counts) + ".")
    show.heading("Verdict")
    show.text("\n\n".join(lines))
    plots.shares(d, run.cfg.bias.varied_class, label=run.class_label)
