"""One module per study, each behind the same six notebooks with the same functions:

    check(cfg, ds)   -> make check: what the data must hold for this study
    prepare(run)     -> 01: split first, then the training set the scenario has
    generators(run)  -> 02, 03: the generators this run trains, named by the arm that uses them
    train(run)       -> 02: the generators
    generate(run)    -> 03: synthetic images
    label(run)       -> 04: the measuring oracle's view (and a filter, where the study has one)
    evaluate(run)    -> 05: the arms scored (classifiers on the real test split, or in bias
                        the oracle's class shares); writes metrics.csv
    checks(run, metrics_df) -> 06: the write-up's validity checks (synthlib/validity.py)
and `show_<stage>(run, result)` for 01, 04 and 05 (02 and 03 show every study's generators
alike, through `common` and `plots`), `show_classifiers(run)` (05's classifiers, or what
scores the arms where there are none), `show_writeup(run, metrics_df, checks_)` and
`headline(metrics_df, checks_, label)` for 06 and the index (every study takes `label`, a
class as the reports name it, runs.Run.class_label; only bias, whose table has a column per
class, uses it), and ABOUT: a paragraph per notebook or, where the paragraph depends on what
the run trains (its arms' generators, its classifiers), a function of the Config returning it
(runs.Run.study calls it with the run's).

- rebalance (seeds 000, 001): a minority class cut to a few images, rebalanced by GANs and
  classic baselines;
- augment (seed 002): per-class DCGANs and a conditional GAN against classic augmentation;
- tstr (seed 003): train on synthetic images only, by generator training length;
- bias (seed 004): do a DCGAN and a VAE reproduce the class shares of their training mix?
"""
