import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from synthlib import config, data, imbalance

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS_PARAMS = os.path.join(ROOT, "tests", "params", "digits_smoke.yaml")


@pytest.fixture(scope="session")
def digits():
    x, y, source = data.load_digits_28()
    return data.Dataset(x=x, y=y, name="digits", source=source)


@pytest.fixture(scope="session")
def digits_split(digits):
    return imbalance.make_split(digits.y, config.SplitConfig(),
                                config.ImbalanceConfig(minority_class=5, kept_fraction=0.2), 0)


def write_params(tmp_path, text, name="exp.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path
