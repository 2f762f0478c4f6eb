# SPDX-License-Identifier: BSD-3-Clause
"""Shared fixtures: deterministic seeding, small biased data, the shared datasets."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch

torch.set_num_threads(min(2, torch.get_num_threads()))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
os.environ.setdefault("SKFAIRNN_DATA_HOME", str(SHARED_DATA))


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)  # noqa: NPY002  (third-party code may use the legacy global RNG)
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op thread for a module of tiny networks (several threads contend).

    Use as ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def biased_data():
    """Tabular data with a strong equalized-odds gap for an unconstrained model.

    Group 1 is the minority; the label depends on a feature whose relation to
    the label is shifted between groups, so ERM's TPR/FPR differ by group.
    """
    rng = np.random.default_rng(0)
    n = 3000
    group = (rng.random(n) < 0.3).astype(int)
    signal = rng.normal(size=n)
    y = (signal + 0.8 * group + rng.normal(scale=0.7, size=n) > 0.4).astype(int)
    X = np.column_stack(
        [
            signal + rng.normal(scale=0.3, size=n),
            group + rng.normal(scale=0.2, size=n),
            rng.normal(size=(n, 3)),
        ]
    ).astype(np.float32)
    return X, y, group
