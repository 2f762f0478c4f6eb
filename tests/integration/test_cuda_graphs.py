# SPDX-License-Identifier: BSD-3-Clause
"""``cuda_graphs=True`` on a GPU: steps really captured and replayed, numbers as eager.

Skipped without a GPU (CI has none; the bookkeeping is tested on the CPU in
``tests/test_step_graphs.py``); run with
``pytest -m cuda tests/integration/test_cuda_graphs.py``.
"""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch import nn

import skfairnn._step_graphs as step_graphs_module
from skfairnn import (
    ERMClassifier,
    FairerClassifier,
    FairRegClassifier,
    GCMClassifier,
    RunnerClassifier,
)
from skfairnn.exceptions import CompileWarning

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

COMMON = dict(device="cuda", max_epochs=4, batch_size=256, random_state=0)


class SmallBNNet(nn.Module):
    """Conv, batch norm, ReLU, pooling and a linear head: a step with running statistics."""

    def __init__(self, in_channels=3, momentum=0.1):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8, momentum=momentum)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(torch.relu(self.bn(self.conv(x))).mean((2, 3)))


def _images(n=512, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3, 8, 8)).astype(np.float32)
    group = rng.integers(0, 2, n)
    y = (X[:, 0].mean((1, 2)) * 8 + 0.7 * group + rng.normal(size=n) > 0.3).astype(int)
    return X, y, group


@pytest.fixture
def capture_count(monkeypatch):
    """How many steps the real backend captured."""
    counts = []
    real = step_graphs_module.CudaGraphBackend.capture

    def counting(self, step, pool):
        counts.append(1)
        return real(self, step, pool)

    monkeypatch.setattr(step_graphs_module.CudaGraphBackend, "capture", counting)
    return counts


MLP_METHODS = {
    "ERM": lambda: ERMClassifier(sampling="cell_balanced", **COMMON),
    "FairReg": lambda: FairRegClassifier(fairness_weight=1.0, **COMMON),
    "GCM(loop)": lambda: GCMClassifier(fairness_weight=1.0, cell_gradients="loop", **COMMON),
    "GCM(segments)": lambda: GCMClassifier(fairness_weight=1.0, **COMMON),
    "FAIRER": lambda: FairerClassifier(alignment_weight=0.5, constraint="equalized_odds", **COMMON),
    "RUNNER": lambda: RunnerClassifier(fairness_weight=0.3, **COMMON),
}


@pytest.mark.parametrize("make", MLP_METHODS.values(), ids=MLP_METHODS.keys())
def test_replayed_mlp_fit_matches_the_eager_fit(make, biased_data, capture_count):
    X, y, group = biased_data
    eager = make().set_params(module__hidden_sizes=(32, 32)).fit(X, y, sensitive_features=group)
    replayed = clone(eager).set_params(cuda_graphs=True).fit(X, y, sensitive_features=group)
    assert len(capture_count) >= 1
    np.testing.assert_allclose(
        replayed.decision_function(X), eager.decision_function(X), rtol=1e-3, atol=1e-4
    )
    np.testing.assert_allclose(
        replayed.history[:, "train_loss"], eager.history[:, "train_loss"], rtol=1e-4
    )


@pytest.mark.parametrize("cls", [ERMClassifier, GCMClassifier, FairerClassifier])
def test_replayed_cnn_fit_with_batch_norm_matches_the_eager_fit(cls, capture_count):
    X, y, group = _images()
    params = dict(module=SmallBNNet, lr=1e-2, **{**COMMON, "max_epochs": 3, "batch_size": 128})
    if cls is ERMClassifier:
        params["sampling"] = "cell_balanced"
    else:
        params["cell_gradients"] = "segments"
    eager = cls(**params).fit(X, y, sensitive_features=group)
    replayed = cls(cuda_graphs=True, **params).fit(X, y, sensitive_features=group)
    assert len(capture_count) == 1  # four full cell-balanced batches of one layout
    np.testing.assert_allclose(
        replayed.decision_function(X), eager.decision_function(X), rtol=1e-3, atol=1e-4
    )
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        torch.testing.assert_close(
            getattr(replayed.module_.bn, name),
            getattr(eager.module_.bn, name),
            rtol=1e-4,
            atol=1e-5,
        )


def test_a_host_read_in_the_step_falls_back_to_eager(capture_count):
    """Batch norm's cumulative average (momentum=None) reads num_batches_tracked on the host."""
    X, y, group = _images()
    params = dict(
        module=SmallBNNet, module__momentum=None, cell_gradients="segments",
        **{**COMMON, "max_epochs": 2, "batch_size": 128},
    )  # fmt: skip
    eager = GCMClassifier(**params).fit(X, y, sensitive_features=group)
    with pytest.warns(CompileWarning, match="could not be captured"):
        fallback = GCMClassifier(cuda_graphs=True, **params).fit(X, y, sensitive_features=group)
    np.testing.assert_allclose(
        fallback.decision_function(X), eager.decision_function(X), rtol=1e-4, atol=1e-5
    )


def test_device_constants_inside_a_capture_are_replayed_from_pinned_memory():
    values = torch.tensor([1.0, -2.0, 3.0])
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    graph = torch.cuda.CUDAGraph()
    kept = []
    token = step_graphs_module._CAPTURE_CONSTANTS.set(kept)
    try:
        with torch.cuda.graph(graph):
            out = step_graphs_module.device_constant(values, "cuda") * 2
    finally:
        step_graphs_module._CAPTURE_CONSTANTS.reset(token)
    assert len(kept) == 1 and kept[0].is_pinned()
    graph.replay()
    torch.testing.assert_close(out.cpu(), values * 2)
