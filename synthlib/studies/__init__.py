"""One module per study, each behind the same six notebooks with the same functions:

    prepare(run)  -> 01: split first, then the training set the scenario has
    train(run)    -> 02: the generators
    generate(run) -> 03: synthetic images
    label(run)    -> 04: the measuring oracle's view (and a filter, where the study has one)
    evaluate(run) -> 05: the arms scored (classifiers on the real test split, or in bias
                     the oracle's class shares); writes metrics.csv
and `show_<stage>(run, result)` for each, `show_classifiers(run)` (05's classifiers, or what
scores the arms where there are none), `show_writeup(run, metrics)` and
`headline(metrics, checks)` for 06 and the index, and ABOUT: a paragraph per notebook.

- rebalance (seeds 000, 001): a minority class cut to a few images, rebalanced by GANs and
  classic baselines;
- augment (seed 002): per-class DCGANs and a conditional GAN against classic augmentation;
- tstr (seed 003): train on synthetic images only, by generator training length;
- bias (seed 004): do a DCGAN and a VAE reproduce the class shares of their training mix?
"""
