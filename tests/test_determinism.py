"""Same parameters and seed, same machine: the same split and the same metrics."""
import pandas as pd

from conftest import DIGITS_PARAMS
from synthlib.studies import rebalance
from synthlib.runs import Run


def run_once(base):
    run = Run(DIGITS_PARAMS, "smoke", build_dir=base / "build", reports_dir=base / "reports")
    run.cfg.evaluate.arms = ["imbalanced", "smote", "augmentation", "dcgan_minority"]
    run.cfg.evaluate.tstr = False
    rebalance.prepare(run)
    rebalance.train(run)
    rebalance.generate(run)
    rebalance.label(run)
    return rebalance.evaluate(run)[0]


def test_the_pipeline_is_deterministic(tmp_path):
    first, second = run_once(tmp_path / "a"), run_once(tmp_path / "b")
    assert len(first) > 50
    pd.testing.assert_frame_equal(first, second, check_exact=False, rtol=1e-6)
