"""Does the run behind a write-up support a verdict? The checks of the README's "When is a number a
result?", computed from the run's own metrics.csv, with the thresholds of `validity.*` in the
config.

A model that has not converged produces a number, not a result. So every write-up checks, before
it says anything: that its evaluators converged (half the step budget scores within the seed
spread of the full budget) and can learn the task (the upper bound beats no rebalancing and no
arm beats it beyond the seed spread); that the measuring oracle is accurate; that each generator
reaches a stated quality against its real-vs-real reference (and, in the bias study, keeps equal
counts equal: synthlib/studies/bias.py); where a study has a real-data arm, that it reaches a
stated accuracy; and, where a filter chose the synthetic images, that it left each arm balanced.
A failed check puts a "not conclusive" banner on the write-up and the index, and the verdicts
that rest on it are withheld.

Each check speaks for a scope: a classifier's name, a generator's name, "oracle", or "all".
"""
from __future__ import annotations

import html
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

HALF = ":half_budget"  # arm suffix of the scores taken half-way through a fit's steps


@dataclass
class Check:
    check: str  # what is checked, in words
    scope: str  # what the check speaks for (a classifier, a generator, "oracle" or "all")
    measured: float
    threshold: str  # the condition `measured` must meet, e.g. ">= 0.98"
    passed: bool
    detail: str  # by how much, in words


def counted(n, noun, plural=None):
    """'one seed', '3 seeds': a count and its noun, as a sentence says them."""
    return f"one {noun}" if n == 1 else f"{n:,} {plural or noun + 's'}"


def not_computed(check, scope, threshold, why):
    """A check the run has no numbers for fails: an absent check would read as a pass."""
    return Check(check, scope, float("nan"), threshold, False, f"not computed: {why}")


def _seed_values(df, arm, classifier, metric):
    d = df[(df.arm == arm) & (df.classifier == classifier) & (df.metric == metric)]
    return d.set_index("seed")["value"].sort_index()


def spread(values, floor):
    """The seed-to-seed spread: the std over seeds, never below `floor` (one seed measures no
    spread at all)."""
    v = np.asarray(values, dtype=float)
    sd = float(np.std(v, ddof=1)) if len(v) > 1 else 0.0
    return max(sd, floor)


def _within(values, floor, what="seed spread"):
    """A check's tolerance and what it is, for its threshold column: the seeds' spread, or
    the floor where that is smaller or there is one seed."""
    tol = spread(values, floor)
    measured = len(values) > 1 and tol > floor
    return tol, f"{tol:.3f} ({what if measured else 'validity.spread_floor'})"


def anchor_checks(df, metric, arms, cfg, anchor="upper_bound", below="imbalanced"):
    """Per classifier: the anchor (all real data) beats `below` (no repair) beyond the seed
    spread, and no other arm beats the anchor beyond it. If either fails, the evaluator is the
    suspect: it cannot learn the task, or has not converged."""
    out = []
    for clf in sorted(set(df[df.arm == anchor].classifier)):
        top = _seed_values(df, anchor, clf, metric)
        low = _seed_values(df, below, clf, metric)
        if len(low):
            diff = (top - low).dropna()
            tol, within = _within(diff, cfg.spread_floor)
            out.append(Check(f"{anchor} beats {below} on {metric}", clf, float(diff.mean()),
                             f"> {within}", bool(diff.mean() > tol),
                             f"{top.mean():.3f} vs {low.mean():.3f}"))
        else:  # without it nothing shows that the evaluator learns the task at all
            out.append(not_computed(f"{anchor} beats {below} on {metric}", clf,
                                    "> the seed spread", f"no {below} scores in this run "
                                    f"(add {below} to evaluate.arms)"))
        worst, worst_arm, worst_tol, worst_within = -np.inf, "", 0.0, ""
        for arm in arms:
            if arm in (anchor, below):
                continue
            diff = (_seed_values(df, arm, clf, metric) - top).dropna()
            tol, within = _within(diff, cfg.spread_floor)
            if len(diff) and diff.mean() - tol > worst - worst_tol:
                worst, worst_arm, worst_tol, worst_within = float(diff.mean()), arm, tol, within
        if worst_arm:
            # an anchor at zero, which learnt nothing, is beaten by nothing: no evidence
            learnt = bool(top.mean() > 0)
            out.append(Check(f"no arm beats {anchor} on {metric}", clf, worst,
                             f"<= {worst_within}", bool(worst <= worst_tol) and learnt,
                             f"closest: {worst_arm}, {worst:+.3f} against {anchor}"
                             + ("" if learnt else f" ({anchor} learnt nothing: "
                                                  f"{top.mean():.3f})")))
    return out


def convergence_checks(df, metric, cfg, classifiers, anchor="upper_bound"):
    """Per classifier: the anchor's score moves from half-way through its steps to the end by
    no more than the tighter of two seed spreads (the scores', each seed's change's), on
    average over seeds; if not, the budget is too small."""
    out = []
    for clf in classifiers:
        full = _seed_values(df, anchor, clf, metric)
        half = _seed_values(df, anchor + HALF, clf, metric)
        if not (len(full) and len(half)):
            out.append(not_computed(f"{anchor} converged: {metric} at half the steps", clf,
                                    "<= the seed spread", f"no {anchor} scores at "
                                    + ("half the steps" if len(full) else "all the steps")))
            continue
        change = (full - half).dropna()
        # Each seed's own move, not their mean: one seed still learning while another has
        # stopped, or one rising while another falls, is not a converged budget.
        gap = float(change.abs().mean())
        # The tighter of two spreads: that of the scores over seeds (the differences the
        # comparisons can resolve), and that of each seed's change (a gain every seed makes
        # alike is training still under way, however small beside the scores' spread).
        tol, within = min(_within(full, cfg.spread_floor, "seed spread of the scores"),
                          _within(change, cfg.spread_floor, "seed spread of the changes"),
                          key=lambda t: t[0])
        # a score of zero at both points (a classifier that never names the class) is flat
        # because nothing was learnt, not because the budget sufficed
        learnt = bool(full.mean() > 0)
        out.append(Check(f"{anchor} converged: {metric} at half the steps", clf, gap,
                         f"<= {within}", bool(gap <= tol) and learnt,
                         ("" if learnt else "learnt nothing, zero at both: ")
                         + f"{half.mean():.3f} at half the steps, {full.mean():.3f} at all "
                         f"(largest move of a seed {change.abs().max():.3f})"))
    return out


def accuracy_check(df, arm, classifier, threshold, what, scope, metric="accuracy"):
    """The mean over seeds of `metric` for one arm and classifier, against a minimum."""
    v = df[(df.arm == arm) & (df.classifier == classifier) & (df.metric == metric)]["value"]
    if not len(v):
        return [not_computed(what, scope, f">= {threshold:.3f}",
                             f"no {metric} of {arm} by {classifier} in this run")]
    m = float(v.mean())
    return [Check(what, scope, m, f">= {threshold:.3f}", bool(m >= threshold),
                  f"{m - threshold:+.3f} " + (f"(range {v.min():.3f} to {v.max():.3f} over "
                                              f"{counted(len(v), 'seed')})" if len(v) > 1
                                              else "(one seed)"))]


def oracle_check(df, cfg, what="measuring oracle's accuracy on the real test split",
                 scope="oracle"):
    return accuracy_check(df, "real_test", "oracle", cfg.oracle_accuracy, what, scope)


def generator_checks(df, generators, cfg):
    """Each generator against its real-vs-real reference at the same sample count (rows arm
    `<generator>` and `<generator>:real`, classifier "oracle"): the oracle's label agreement,
    where the generator was asked for a class, and the Fréchet distance ratio."""
    out = []
    q = df[df.classifier == "oracle"]
    for g in generators:
        agree = q[(q.arm == g) & (q.metric == "label_agreement")]["value"]
        if len(agree):
            real = q[(q.arm == f"{g}:real") & (q.metric == "label_agreement")]["value"]
            m = float(agree.mean())
            # real images the oracle names less often than the bar asks make the bar one no
            # generator can be expected to meet: a threshold set for other data (MNIST's)
            below = (", below the bar themselves: set validity.label_agreement from them"
                     if m < cfg.label_agreement and len(real)
                     and round(real.mean(), 3) < cfg.label_agreement else "")
            out.append(Check("oracle label agreement", g, m,
                             f">= {cfg.label_agreement:.3f}", bool(m >= cfg.label_agreement),
                             f"{m - cfg.label_agreement:+.3f}; real images: "
                             + (f"{real.mean():.3f}" if len(real) else "n/a") + below))
        fd_rows = q[(q.arm == g) & (q.metric == "frechet_distance")]
        ref_rows = q[(q.arm == f"{g}:real") & (q.metric == "frechet_distance")]
        fd, ref = fd_rows["value"], ref_rows["value"]
        if not (len(fd) and len(ref)):
            out.append(not_computed("Fréchet distance / real-vs-real", g,
                                    f"<= {cfg.frechet_ratio:.1f}",
                                    f"no Fréchet distance for {g}"
                                    + ("" if len(ref) else " and its real reference")))
        else:
            ratio = float(fd.mean() / max(ref.mean(), 1e-12))
            copies = q[(q.arm == g) & (q.metric == "training_images_frechet")]["value"]
            copy = copies.mean() / max(ref.mean(), 1e-12) if len(copies) else None
            # where even a copy of the training images passes, passing says less: the bar does
            # not ask the generator to go beyond what it was shown
            # and where a copy fails too, the bar asks the generator to go beyond its images
            bound = ("" if copy is None else f"; a copy of its training images: {copy:.2f}x"
                     + (", within the bar too" if copy <= cfg.frechet_ratio
                        else ", beyond the bar too"))
            raw = q[(q.arm == f"{g}:generated") & (q.metric == "frechet_distance")]["value"]
            if len(raw):  # the filter or herding chose among the generator's images
                bound += (f"; measured on the images chosen for the arm (as generated: "
                          f"{raw.mean() / ref.mean():.1f}x)")
            # one draw of real images sets each seed's reference: the seeds' own ratios show
            # how far a verdict near the threshold could move with another draw
            per_seed = (fd_rows.groupby("seed")["value"].mean()
                        / ref_rows.groupby("seed")["value"].mean()).dropna()
            spread = (f"; per seed: {', '.join(f'{r:.2f}x' for r in per_seed)}"
                      if len(per_seed) > 1 else "")
            # the same bar is stricter at a larger n: both distances carry the covariances'
            # sampling error, which shrinks as n grows (docs/generator_quality.md)
            n = q[(q.arm == f"{g}:real") & (q.metric == "n")]["value"]
            at = (f" at n = {int(n.min())}" + (f" to {int(n.max())}" if n.max() > n.min() else "")
                  if len(n) else "")
            out.append(Check("Fréchet distance / real-vs-real", g, ratio,
                             f"<= {cfg.frechet_ratio:.1f}", bool(ratio <= cfg.frechet_ratio),
                             f"{fd.mean():.3g} vs {ref.mean():.3g} for real images{at} ("
                             + ("means over seeds, whose ratio is checked" if len(per_seed) > 1
                                else "one seed") + f"){spread}{bound}"))
    return out


def filter_checks(df, generators):
    """Where `label.filter` chose each GAN arm's images: the filter accepted as many as balance
    needs, on every seed (rows metric `filter_accepted_share`, accepted over needed). Short of
    that, the arm trains on a set still imbalanced, and a score below oversampling's would
    tell of the missing images, not of the generator."""
    out = []
    for g in generators:
        share = df[(df.arm == g) & (df.metric == "filter_accepted_share")]
        what = "the filter accepted the images balance needs"
        if not len(share):
            out.append(not_computed(what, g, ">= 1.000", f"no filter counts for {g}"))
            continue
        per_seed = share.groupby("seed")["value"].min()
        worst = float(per_seed.min())
        out.append(Check(what, g, worst, ">= 1.000", bool(worst >= 1.0),
                         "accepted / needed, fewest over seeds"
                         + (f" (per seed: {', '.join(f'{v:.2f}' for v in per_seed)})"
                            if len(per_seed) > 1 else "")
                         + ("" if worst >= 1.0 else "; generate.oversample above 1 gives the "
                            "filter images to reject")))
    return out


def table(checks):
    """The checks as a report table, failures first."""
    t = pd.DataFrame([asdict(c) for c in checks],
                     columns=["check", "scope", "measured", "threshold", "passed", "detail"])
    t["measured"] = t["measured"].map(_number)
    t["passed"] = t["passed"].map({True: "pass", False: "FAIL"})
    return t.sort_values("passed", kind="stable").reset_index(drop=True)


def _number(v):
    return "n/a" if np.isnan(v) else f"{v:.3f}"


def failed(checks):
    return [c for c in checks if not c.passed]


def conclusive_for(checks, *scopes):
    """No failed check speaks for any of `scopes` (or for "all")."""
    return not any(c.scope in scopes + ("all",) for c in failed(checks))


def failing_for(checks, *scopes):
    """The failed checks that speak for any of `scopes`, in words."""
    return "; ".join(f"{c.check} ({c.scope}) {_number(c.measured)}, needs {c.threshold}"
                     for c in failed(checks) if c.scope in scopes + ("all",))


def describe(check):
    return (f"{check.check} ({check.scope}): {_number(check.measured)}, needs "
            f"{check.threshold} [{check.detail}]")


ONE_SEED = ("one seed measures no spread, so each tolerance is the floor that "
            "validity.spread_floor sets, and no difference between arms is tested: the "
            "comparisons describe this run")


SMOKE = ("expected of the smoke profile, whose tiny budgets prove the wiring and nothing "
         "more: the quick or full profile gives numbers")


def headline(checks, seeds=None, profile=None):
    """(conclusive, one line): "not conclusive: <which check, by how much>" or a pass, which
    says so when it rests on one seed (`seeds`: how many the run has). A smoke run's failures
    say that they are expected."""
    bad = failed(checks)
    if not checks:
        return False, "not conclusive: no validity check could be computed from this run"
    if not bad:
        return True, ("the one validity check passes" if len(checks) == 1 else
                      f"all {len(checks)} validity checks pass") + (
            f" on one seed: {ONE_SEED}" if seeds == 1 else "")
    return False, (f"not conclusive: {len(bad)} of {len(checks)} validity checks fail: "
                   + "; ".join(describe(c) for c in bad)
                   + (f" ({SMOKE})" if profile == "smoke" else ""))


CONCLUSIVE, ONE_SEED_VALID, NOT_CONCLUSIVE = "conclusive", "valid on one seed", "not conclusive"


def verdict(checks, seeds=None):
    """The write-up's verdict in words, as its banner and summary.json give it: every check
    passing on one seed is valid, but not conclusive, since one seed tests no difference
    between arms."""
    ok, _ = headline(checks, seeds)
    return NOT_CONCLUSIVE if not ok else ONE_SEED_VALID if seeds == 1 else CONCLUSIVE


def banner_html(checks, seeds=None, profile=None):
    """The banner at the top of a write-up and of its index entry."""
    ok, line = headline(checks, seeds, profile)
    colour, background = ("#1a6b2a", "#eaf6ec") if ok else ("#a11", "#fdecea")
    if verdict(checks, seeds) == ONE_SEED_VALID:
        colour, background = "#1f4e8c", "#eaf0fa"
        title, items = "Valid, on one seed: " + line.replace(" on one seed:", ";"), []
    elif ok:
        title, items = "Conclusive: " + line, []
    elif not checks:
        title, items = "Not conclusive", [line[len("not conclusive: "):]]
    else:
        title = f"Not conclusive: {len(failed(checks))} of {len(checks)} validity checks fail"
        items = [describe(c) for c in failed(checks)]
    if not ok and profile == "smoke":
        title += f" ({SMOKE})"
    body = "".join(f"<li>{html.escape(i)}</li>" for i in items)
    return (f'<div class="validity" style="border:2px solid {colour};background:{background};'
            f'padding:.5em 1em;margin:.5em 0;border-radius:4px"><strong style="color:{colour}">'
            f"{html.escape(title)}</strong>"
            + (f'<ul style="margin:.3em 0">{body}</ul>' if body else "") + "</div>")
