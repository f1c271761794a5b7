"""Tools about the product, not steps of an experiment: the benchmark, the browser check of
the reports, and an independent re-scoring of a finished rebalance run."""
