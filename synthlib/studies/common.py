"""Pieces the studies share: plain splits, cached generator training, multi-class fits scored
on the real test split, tidy rows."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

# gan, vae and classifiers (TensorFlow: seconds to import) are imported by the functions that
# train, so that the stages that only read and draw start without them.
from synthlib import imbalance, metrics
from synthlib.errors import OneLine
from synthlib.paths import atomic_path, code_digest, shown, write_text

# Closes each study's 01 text: "seed" names both the documents an experiment comes from and
# the random seeds it repeats its work over, and a student has only the report to tell them
# apart.
SEED_DOCUMENTS = (
    "The *seed documents* are the notebooks, reports and slides, numbered 000 to 004, that "
    "synthlib grew out of; these pages call the one an experiment follows its source. *Seed* "
    "on its own means a random seed: the run does its work once per seed, each with its own "
    "split and its own models, and its summaries give the mean and spread over seeds.")


def save_npz(path, **arrays):
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def load_npz(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def record_data(run, ds):
    run.save_json("data.json", {"name": ds.name, "source": ds.source, "images": len(ds.y),
                                "image_shape": list(ds.x.shape[1:]),
                                "class_counts": ds.class_counts(), "digest": ds.digest(),
                                "class_names": ds.class_names})


def plain_splits(run):
    """01 for the studies without a minority: split, then `imbalance.per_class` per class."""
    ds = run.data(fresh=True)
    record_data(run, ds)
    splits = {}
    for seed in run.seeds:
        split = imbalance.make_plain_split(ds.y, run.cfg.split, seed, run.cfg.imbalance.per_class)
        split.save(run.path("split.npz", seed))
        splits[seed] = split
    return ds, splits


def check_plain_splits(cfg, ds):
    """What plain_splits would refuse, before any work."""
    for seed in cfg.seeds:
        imbalance.make_plain_split(ds.y, cfg.split, seed, cfg.imbalance.per_class)


def show_plain_splits(run, result):
    from synthlib import show

    ds, splits = result
    show.heading("Split, then the training set")
    show.text("Images per class in each part: the training set used is drawn from the "
              "training split only.")
    show.table(plain_split_table(ds, splits))
    short = short_classes(run, ds, splits)
    if short:
        show.text(f"Fewer than `imbalance.per_class` ({run.cfg.imbalance.per_class}) in the "
                  f"training split, so all of them are used: {short}.")


def short_classes(run, ds, splits):
    """The classes a seed's training set has fewer of than `imbalance.per_class` asks, in
    words ("" when none): the split caps them at what it holds."""
    per_class, out = run.cfg.imbalance.per_class, []
    for seed, sp in splits.items():
        counts = {int(c): int(np.sum(ds.y[sp.imbalanced] == c)) for c in ds.classes}
        out += [f"class {run.class_label(c)}: {n} (seed {seed})" for c, n in counts.items()
                if per_class and n < per_class]
    return ", ".join(out)


def plain_split_table(ds, splits):
    rows = []
    for seed, sp in splits.items():
        for part, label in (("train", "train split"), ("imbalanced", "training set used"),
                            ("validation", "validation"), ("test", "test")):
            counts = np.bincount(np.searchsorted(ds.classes, ds.y[getattr(sp, part)]),
                                 minlength=len(ds.classes))
            rows.append({"seed": seed, "part": label, "images": int(counts.sum()),
                         **{ds.class_label(c): int(n) for c, n in zip(ds.classes, counts)}})
    return pd.DataFrame(rows)


def encode(y, classes):
    """Labels -> indices 0..K-1 into the sorted class list (classifier targets)."""
    return np.searchsorted(np.asarray(classes), np.asarray(y))


def _code_digest():
    # the training loop (compiled) and its callbacks (progress: checkpoints, random states)
    # shape a generator as much as its networks do
    from synthlib import compiled, gan, networks, progress, vae

    return code_digest(compiled, gan, networks, progress, vae)


@dataclass
class Generator:
    """One generator a study trains: what it learns from and how."""
    seed: int
    name: str
    images: np.ndarray  # uint8 training images, from the scenario's training set only
    labels: np.ndarray | None = None  # class labels: a conditional GAN
    model: str = "dcgan"  # or "vae"
    diffaugment: bool = False
    snapshots: tuple = ()  # steps at which the generator is also saved
    grid_label: object = "all"  # the class its sample grids show; "all": each in turn
    source: str = ""  # the arm that uses it, as `gan.generator_steps` names it ("": name)


def train_all(run, generators):
    """Train (or reuse) each generator; {(seed, name): (history, sample grids)}. Generators are
    independent: those not yet trained train side by side on single-thread worker processes,
    as many at once as the stage has cores (synthlib/workers.py), each line they print headed
    by the generator's seed and name."""
    from synthlib import workers

    done = [_saved(run, g)[3] for g in generators]
    out = {i: _train_one(run, g) for i, g in enumerate(generators) if done[i]}  # read back
    todo = [i for i in range(len(generators)) if not done[i]]
    try:
        out.update(zip(todo, workers.run(_train_one, [(run, generators[i]) for i in todo],
                                         [f"[seed {generators[i].seed} {generators[i].name}]"
                                          for i in todo])))
    except KeyboardInterrupt:
        raise Interrupted() from None
    return {(g.seed, g.name): out[i] for i, g in enumerate(generators)}


class Interrupted(OneLine, KeyboardInterrupt):
    """Training stopped by the user (a notebook's interrupt): one line, as the command line
    says it, not a traceback through the worker pool's threads."""

    def __str__(self):
        return ("interrupted. Finished generators are kept, and an unfinished one resumes "
                "from its last checkpoint: run this cell again")


def _train_one(run, g):
    return train_generator(run, g.seed, g.name, g.images, labels=g.labels, model=g.model,
                           snapshots=g.snapshots, diffaugment=g.diffaugment,
                           grid_label=g.grid_label, source=g.source)


def _saved(run, g):
    """(GAN settings, key, files, trained already?) of generator g."""
    gan_cfg = run.cfg.gan.for_generator(g.source or g.name)
    h = hashlib.sha256(np.ascontiguousarray(g.images).tobytes())
    if g.labels is not None:
        h.update(np.ascontiguousarray(g.labels).astype(np.int64).tobytes())
    key = hashlib.sha256(json.dumps(
        {"model": g.model, "gan": gan_cfg.read_by(g.model), "images": h.hexdigest(),
         "seed": g.seed, "code": _code_digest(), "snapshots": list(g.snapshots),
         "diffaugment": g.diffaugment},
        sort_keys=True, default=str).encode()).hexdigest()[:12]
    files = {f: run.path(f, g.seed, g.name) for f in ("generator.keras", "generator.key",
                                                      "gan_history.csv", "gan_grids.npz",
                                                      "discriminator.keras")}
    # a GAN's discriminator is kept too: generate.select_from chooses images with it
    done = files["generator.key"].exists() and files["generator.key"].read_text() == key \
        and (g.model == "vae" or files["discriminator.keras"].exists())
    return gan_cfg, key, files, done


def require_trained(run, generators):
    """Before a stage draws from the generators: each one saved is the one this run's settings
    train (its key), or one line on why not. A notebook session that trained with other
    settings, or a training interrupted after the old generator's key went, leaves another
    generator in its place; drawn from, it would put numbers in the reports that the params
    file does not make."""
    from synthlib.runs import RunError

    for g in generators:
        _, key, files, done = _saved(run, g)
        if not done:
            run.made("generator.keras", g.seed, g.name)  # not trained at all: says so
            raise RunError(
                f"{shown(files['generator.keras'])}: not the generator this run's settings "
                f"train (key {key}): trained with other settings or code, or its training was "
                f"cut short. Run 02_train_gan again: `rm {shown(run.dir / '02_train_gan.ipynb')}"
                f"` then `make report EXP={run.experiment} PROFILE={run.cfg.profile}`, or 02 "
                f"in this session with the same settings")


def generator_table(run, generators):
    """What each generator learns from (images per class) and for how many steps, one row per
    seed and generator."""
    rows, names = [], {c: run.class_label(c) for c in run.data().classes}
    for g in generators:
        kind = ("VAE" if g.model == "vae" else "conditional GAN" if g.labels is not None
                else "GAN") + (" + DiffAugment" if g.diffaugment else "")
        row = {"seed": g.seed, "generator": g.name, "model": kind,
               "steps": run.cfg.gan.for_generator(g.source or g.name).steps,
               "images": len(g.images)}
        if g.labels is not None:
            row.update({name: int(np.sum(g.labels == c)) for c, name in names.items()})
        rows.append(row)
    table = pd.DataFrame(rows)
    counts = [name for name in names.values() if name in table]
    # whole counts (a missing one would make the column float: 700.0), blank without labels
    return table.astype({c: "Int64" for c in counts}).astype(object).fillna("")


def networks(run, generators):
    """The networks of one generator of each kind the study trains (generator and
    discriminator, or decoder and encoder), built with this run's settings, to look at:
    {"<generator>: <network>": keras.Model}."""
    from synthlib import gan, vae

    seen, out = set(), {}
    for g in generators:
        n_classes = 0 if g.labels is None else int(np.max(g.labels)) + 1
        if (g.model, n_classes) in seen:
            continue
        seen.add((g.model, n_classes))
        if g.model == "vae":
            m = vae.build(run.cfg.gan, g.images.shape[1:], g.seed)
            nets = (m.generator, m.encoder)
        else:
            m = gan.build(run.cfg.gan, g.images.shape[1:], g.seed, n_classes)
            nets = (m.generator, m.discriminator)
        out.update({f"{g.name}: {net.name}": net for net in nets})
    return out


def generated_table(result, classes, label=str):
    """How many images each source made, per seed (and per class where they carry one, each
    named by `label`, runs.Run.class_label)."""
    rows = []
    for (seed, name), (images, labels) in result.items():
        row = {"seed": seed, "source": name, "images": len(images)}
        if labels is not None:
            row.update({label(c): int(np.sum(labels == c)) for c in classes})
        rows.append(row)
    return pd.DataFrame(rows).fillna("")


def train_batch(cfg):
    """`gan.sample`'s train_batch: draw unconditional GANs' images as they were trained."""
    return cfg.gan.batch_size if cfg.generate.batch_statistics else None


def train_generator(run, seed, name, images, labels=None, model="dcgan", snapshots=(),
                    diffaugment=False, grid_label="all", source=""):
    """Train (or reuse) one generator saved under seed<k>/<name>/: the one way every study
    trains its GANs and VAEs. What determines it (kind, GAN parameters, the exact training
    images and labels, seed, code) is its key: the same key, the same saved generator, no
    training; a killed training resumes from its last chunk. `grid_label`: the class the
    sample grids show ("all": every class in turn); `source`: the name its step budget goes by
    (`gan.generator_steps`; "": `name`). Returns (history, grids)."""
    from synthlib import gan, vae, workers

    gan_cfg, key, files, done = _saved(run, Generator(
        seed, name, images, labels, model, diffaugment, tuple(snapshots), grid_label, source))
    who = "" if workers.tagged() else f"seed {seed} {name}: "  # a worker's tag names it
    if done:
        # 02's page promises a log line per chunk of steps: say where they went
        print(f"{who}generator {key} already trained, reused (no log lines: its curves "
              f"come from its saved history)", flush=True)
    else:
        files["generator.key"].unlink(missing_ok=True)
        print(f"{who}generator {key}, training", flush=True)
        backup = run.path(f"gan_backup_{key}", seed, name)
        if model == "vae":
            trained, history, grids = vae.train(images, gan_cfg, seed, backup_dir=backup)
        else:
            shots = {s: run.path(f"generator_step{s}.keras", seed, name) for s in snapshots}
            trained, history, grids = gan.train(
                images, gan_cfg, seed, backup_dir=backup, labels=labels,
                diffaugment=diffaugment, grid_label=grid_label,
                snapshots=shots)
        with atomic_path(files["gan_history.csv"]) as tmp:
            history.to_csv(tmp, index=False)
        save_npz(files["gan_grids.npz"], steps=np.array(list(grids)),
                 images=np.stack(list(grids.values())))
        gan.save_generator(trained.generator, files["generator.keras"])
        if model != "vae":
            gan.save_generator(trained.discriminator, files["discriminator.keras"])
        write_text(files["generator.key"], key)  # last: its presence means "done"
    g = load_npz(files["gan_grids.npz"])
    return pd.read_csv(files["gan_history.csv"]), dict(zip(g["steps"].tolist(), g["images"]))


def set_fits(run, seed, split, ds, sets, anchor="real"):
    """Every classifier of `evaluate.classifiers` on each training set {arm: (x, labels)} of one
    seed, each for its step budget, scored on the real test split with validation and test
    curves per chunk (recorded, never used to choose anything); the `anchor` arm (real data)
    is also scored half-way, for the convergence check. evaluation.Fit's, for fit_rows."""
    from synthlib import evaluation

    classes = ds.classes
    held_out = ((ds.x[split.validation], encode(ds.y[split.validation], classes)),
                (ds.x[split.test], encode(ds.y[split.test], classes)))
    return [evaluation.Fit(arm, name, seed, (x, encode(y, classes)), held_out, len(classes),
                           run.cfg.evaluate, evaluation.multiclass_score(classes),
                           workdir=run.path("fits", seed), half_budget=arm == anchor,
                           curves=True)
            for arm, (x, y) in sets.items() for name in run.cfg.evaluate.classifiers]


def fit_rows(run, fits):
    """Train (or read back) every fit, all seeds at once so that the workers stay busy;
    (tidy rows, confusions, histories)."""
    from synthlib import evaluation

    return evaluation.fit_rows(run.experiment, fits, evaluation.run_fits(fits))


rows = metrics.rows


def show_classifiers(run, n_classes=None):
    """05's evaluation classifiers: their step budget and their networks, built for the task
    the study scores (`n_classes`: the data's classes unless given), then how the fits run."""
    from synthlib import networks, show

    show.heading("The classifiers and their budget")
    show.text(
        "Every fit takes the same number of optimizer steps (`evaluate.steps`, per "
        "classifier), whatever the size of its training set: with a fixed number of epochs an "
        "arm with twice the images would get twice the updates, and the table would measure "
        "compute as much as data. The budget is sized for the reference arm (all the real "
        "data) to converge in the quick and full profiles: it is also scored half-way, and "
        "the write-up checks that half the steps score within the seed spread.")
    cfg, ds = run.cfg.evaluate, run.data()
    n_classes = n_classes or len(ds.classes)
    show.table(run.cfg.table("evaluate"))
    for name in cfg.classifiers:
        print(f"{name}: {cfg.steps_for(name)} steps of {cfg.batch_size}, {n_classes} classes")
        networks.build_classifier(name, ds.x.shape[1:], n_classes).summary()
    show.heading("Training and scoring")
    show.text(
        "The fits are independent: they run side by side on worker processes, each on one "
        "thread (so a score does not depend on what else ran), as many at once as this stage "
        "has cores. Each fit prints a line for the fit (arm, classifier, training images, "
        "steps), then a log line per chunk of steps, each headed by the fit's number, [k/n], "
        "so that fits side by side can be told apart.")


def label_rows(run):
    """04's measures as metrics.csv rows (classifier "oracle"): the oracle's test accuracy
    (arm `real_test`), and each generator's quality beside its real reference (arms
    `<generator>` and `<generator>:real`), as validity.generator_checks reads them."""
    summary = run.load_json("label_summary.json")
    out = []
    for a in summary["accuracy"]:
        out += rows(run.experiment, "real_test", "oracle", a["seed"],
                    {"accuracy": a["oracle_test_accuracy"], "optimizer_steps": a["oracle_steps"]})
    for q in summary.get("quality", []):
        arm = q["generator"] + (":real" if q["images"] == "real" else "")
        measures = {k: v for k, v in q.items() if k not in ("seed", "generator", "images")}
        out += rows(run.experiment, arm, "oracle", q["seed"], measures)
    return out


def write_metrics(run, rows_):
    df = pd.DataFrame(rows_)
    for target in (run.path("metrics.csv"), run.reports / "metrics.csv"):
        with atomic_path(target) as tmp:
            df.to_csv(tmp, index=False)
    return df


def write_history(run, histories):
    """Curves of every fit (validation and test, per chunk of steps): eval_history.csv."""
    history = pd.concat(histories, ignore_index=True)
    with atomic_path(run.path("eval_history.csv")) as tmp:
        history.to_csv(tmp, index=False)
    return history


# What each role learns from: the measuring oracle the whole real training split (so it only
# measures), the tstr study's labeller the scenario's own training set (so it may label data
# that is trained on)
LEARNS_FROM = {"oracle": "train", "labeller": "imbalanced"}
LEARNS_FROM_TEXT = {"train": "the full training split",
                    "imbalanced": "the training set the scenario has"}


def train_reader(run, ds, split, seed, role="oracle"):
    """A classifier that reads images (the oracle's network), kept as seed<k>/<role>.keras: the
    measuring `oracle` or the tstr study's `labeller` (LEARNS_FROM). (rebalance's oracle and
    filter: synthlib/labeling.py.) Returns (model, history, test accuracy)."""
    from synthlib import classifiers
    from synthlib.labeling import ORACLE_ARCH

    on = LEARNS_FROM[role]
    idx = getattr(split, on)
    classes = ds.classes
    print(f"seed {seed} {role}: {ORACLE_ARCH} on {len(idx)} real images "
          f"({LEARNS_FROM_TEXT[on]}), {run.cfg.label.oracle_steps} steps", flush=True)
    model, history = classifiers.fit_kept(
        run.path(f"{role}.keras", seed),
        ORACLE_ARCH, ds.x[idx], encode(ds.y[idx], classes), len(classes),
        run.cfg.label.oracle_steps, run.cfg.evaluate.batch_size, seed,
        chunks=run.cfg.evaluate.chunks,
        validation=(ds.x[split.validation], encode(ds.y[split.validation], classes)),
        log_label=f"  {role} step")
    proba = classifiers.predict_proba(model, ds.x[split.test])
    accuracy = float(np.mean(proba.argmax(1) == encode(ds.y[split.test], classes)))
    return model, history, accuracy
