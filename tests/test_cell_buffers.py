# SPDX-License-Identifier: BSD-3-Clause
"""Batch norm's running statistics after a side-by-side forward of the cells."""

import pytest
import torch
from torch import nn
from torch.func import functional_call, vmap

from skfairnn._cell_buffers import fold_running_stats, stack_buffers


def _net(momentum):
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=momentum), nn.ReLU(), nn.Linear(4, 1)
    ).train()


@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_folded_running_stats_equal_the_sequential_forwards(momentum):
    sequential, side_by_side = _net(momentum), _net(momentum)
    cells = torch.randn(3, 6, 3) * torch.tensor([1.0, 3.0, 0.5]).view(3, 1, 1)
    for _ in range(2):  # the second step starts from statistics that are not the initial ones
        for cell in cells:
            sequential(cell)
        stacked = stack_buffers(side_by_side, len(cells))
        params = dict(side_by_side.named_parameters())
        vmap(lambda b, x, p=params: functional_call(side_by_side, {**p, **b}, (x,)))(stacked, cells)
        fold_running_stats(side_by_side, stacked)
    for (name, expected), (_, folded) in zip(
        sequential.named_buffers(), side_by_side.named_buffers()
    ):
        torch.testing.assert_close(folded, expected, msg=name)
    assert int(side_by_side[1].num_batches_tracked) == 6


def test_a_cell_forward_without_the_fold_would_differ():
    # guards the test above: the per-cell copies alone are not the sequential statistics
    net = _net(0.1)
    cells = torch.randn(3, 6, 3) + torch.arange(3.0).view(3, 1, 1)
    stacked = stack_buffers(net, 3)
    params = dict(net.named_parameters())
    vmap(lambda b, x: functional_call(net, {**params, **b}, (x,)))(stacked, cells)
    reference = _net(0.1)
    for cell in cells:
        reference(cell)
    assert not torch.allclose(stacked["1.running_mean"][-1], reference[1].running_mean)


def test_modules_with_other_buffers_are_not_stacked():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("calls", torch.zeros(()))

        def forward(self, x):
            self.calls += 1
            return x

    assert stack_buffers(nn.Sequential(nn.Linear(2, 2), Counter()), 2) is None
    # a cumulative average reads num_batches_tracked to the host: vmap cannot batch it
    assert stack_buffers(nn.BatchNorm1d(2, momentum=None), 2) is None
    assert stack_buffers(nn.Linear(2, 2), 2) == {}
    untracked = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2, track_running_stats=False))
    assert stack_buffers(untracked, 2) == {}
