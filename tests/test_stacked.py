# SPDX-License-Identifier: BSD-3-Clause
"""The stacked per-cell forward (one pass, parameter copies per cell) against the loop."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

import skfairnn._forward as forward_module
import skfairnn._stacked as stacked_module
from skfairnn import FairerClassifier, GCMClassifier
from skfairnn._base import FairBatch
from skfairnn._cell_gradients import cell_gradients, cell_losses, compared_cells
from skfairnn._forward import forward_by_cell
from skfairnn._stacked import stacks_cells
from skfairnn.modules import MLP, ConvNet, LogisticRegressionModule, as_logits

CPU = torch.device("cpu")


@pytest.fixture
def stack_on_cpu(monkeypatch):
    """Take the stacked pass on the CPU too (it is taken on CUDA only)."""
    monkeypatch.setattr(stacked_module, "STACKED_DEVICES", frozenset({"cpu", "cuda"}))


def _columns(n_groups=2, n=46, seed=0):
    """Unequal cells with rows of weight 0; with 3 groups also an absent cell (group 0,
    label 1) and one whose rows all have weight 0 (group 1, label 0)."""
    generator = torch.Generator().manual_seed(seed)
    group = torch.randint(0, n_groups, (n,), generator=generator)
    y = torch.randint(0, 2, (n,), generator=generator)
    weight = torch.rand(n, generator=generator) + 0.5
    weight[::5] = 0.0
    if n_groups > 2:
        y[group == 0] = 0
        weight[(group == 1) & (y == 0)] = 0.0
    X = torch.randn(n, 6, generator=generator)
    return X, y, group, weight


def test_only_row_wise_networks_on_the_listed_devices_are_stacked(stack_on_cpu):
    assert stacks_cells(MLP(4, (8,)), CPU)
    assert stacks_cells(LogisticRegressionModule(4), CPU)
    assert not stacks_cells(MLP(4, (8,)), torch.device("meta"))  # not a listed device
    assert not stacks_cells(None, CPU)
    dropout = MLP(4, (8,), dropout=0.5)
    assert not stacks_cells(dropout, CPU)  # would draw other masks than the loop
    assert stacks_cells(dropout.eval(), CPU)
    assert not stacks_cells(ConvNet(3), CPU)
    assert not stacks_cells(nn.Sequential(nn.Linear(4, 1), nn.BatchNorm1d(1)), CPU)

    class Wider(MLP):
        def forward(self, X):
            return super().forward(X) * 2

    assert not stacks_cells(Wider(4, (8,)), CPU)  # a subclass may change the forward
    hooked = MLP(4, (8,))
    hooked.net[0].register_forward_hook(lambda *args: None)
    assert not stacks_cells(hooked, CPU)


def test_the_cpu_keeps_the_loop():
    assert "cpu" not in stacked_module.STACKED_DEVICES
    assert not stacks_cells(MLP(4, (8,)), CPU)


@pytest.mark.parametrize(
    "constraint", ["equalized_odds", "equal_opportunity", "demographic_parity"]
)
@pytest.mark.parametrize("n_groups", [2, 3])
def test_stacked_cells_give_the_loops_logits_and_gradients(stack_on_cpu, constraint, n_groups):
    torch.manual_seed(0)
    net = MLP(6, (7, 5)).double()
    X, y, group, weight = _columns(n_groups)
    batch = FairBatch(X.double(), y.double(), group, weight.double(), n_groups)

    def logits_of(rows):
        return as_logits(net(rows), net)

    loop = forward_by_cell(logits_of, batch, constraint)
    stacked = forward_by_cell(logits_of, batch, constraint, net)
    assert loop.cells.stacked is None and stacked.cells.stacked is not None
    torch.testing.assert_close(stacked.logits, loop.logits, rtol=1e-12, atol=1e-12)
    assert stacked.cells.codes == loop.cells.codes
    if constraint != "demographic_parity" and n_groups > 2:
        assert 1 not in loop.cells.codes  # absent cell
        assert 2 not in loop.cells.codes  # rows of weight 0 only
    params = list(net.parameters())
    grads = {}
    for name, forward in (("loop", loop), ("stacked", stacked)):
        cells = compared_cells(forward.cells, constraint)
        losses = cell_losses(cells, nn.BCEWithLogitsLoss(reduction="none"), batch.y, weight)
        grads[name] = cell_gradients(losses, params, cells=cells)
    assert len(grads["stacked"]) == len(grads["loop"]) > 0
    for cell_loop, cell_stacked in zip(grads["loop"], grads["stacked"]):
        for a, b in zip(cell_loop, cell_stacked):
            torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)
    # the penalty's backward reaches the parameters through the copies
    total = sum(g.square().sum() for cell in grads["stacked"] for g in cell)
    expected = sum(g.square().sum() for cell in grads["loop"] for g in cell)
    for a, b in zip(torch.autograd.grad(expected, params), torch.autograd.grad(total, params)):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)


def _step_input(n_groups=3):
    X, y, group, weight = _columns(n_groups, n=60, seed=3)
    return {"X": X, "group": group, "sample_weight": weight}, y


@pytest.mark.filterwarnings("ignore::skfairnn.exceptions.CollapseWarning")
@pytest.mark.parametrize(
    "estimator",
    [
        GCMClassifier(temperature=2.0, gradient="sum", penalized_params="all"),
        GCMClassifier(constraint="equal_opportunity", magnitude="abs"),
        FairerClassifier(constraint="equalized_odds", alignment_weight=1.0),
        FairerClassifier(importance="unit", alignment_weight=1.0),
    ],
    ids=["gcm-sum-all", "gcm-eop", "fairer-eo", "fairer-dp-unit"],
)
def test_a_stacked_training_step_trains_the_loops_parameters(monkeypatch, estimator):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 6)).astype(np.float32)
    group = rng.integers(0, 3, 80)
    y = (X[:, 0] + group > 0.5).astype(int)
    net = estimator.set_params(
        max_epochs=1, random_state=0, module__hidden_sizes=(9, 7),
        optimizer=torch.optim.SGD, lr=0.5,
    )  # fmt: skip
    net.fit(X, y, sensitive_features=group)
    stacked = copy.deepcopy(net)
    net.train_step(_step_input())
    monkeypatch.setattr(stacked_module, "STACKED_DEVICES", frozenset({"cpu"}))
    passes = []
    stacked_logits = forward_module.stacked_cell_logits
    monkeypatch.setattr(
        forward_module, "stacked_cell_logits", lambda *a: passes.append(1) or stacked_logits(*a)
    )
    stacked.train_step(_step_input())
    assert passes == [1]  # one stacked pass for the batch
    for (name, a), b in zip(net.module_.named_parameters(), stacked.module_.parameters()):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6, msg=name)
