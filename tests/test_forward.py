# SPDX-License-Identifier: BSD-3-Clause
"""The per-cell forward against the loop it replaced (a `nonzero` and a host read per cell)."""

import pytest
import torch
from torch import nn

from skfairnn._base import FairBatch
from skfairnn._forward import forward_by_cell
from skfairnn.cells import cell_codes


def reference_forward_by_cell(logits_of, batch, constraint):
    """The per-cell forward before it was optimised: one ``nonzero`` and one sync per cell."""
    codes, n_cells = cell_codes(batch.group, batch.y, constraint, batch.n_groups)
    cells = [(code, torch.nonzero(codes == code).squeeze(1)) for code in range(n_cells)]
    cells = [(code, rows) for code, rows in cells if rows.numel()]
    logits = [logits_of(batch.X[rows]) for _, rows in cells]
    order = torch.cat([rows for _, rows in cells])
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(len(order))
    present = [
        (code, rows, cell_logits)
        for (code, rows), cell_logits in zip(cells, logits)
        if bool(batch.sample_weight[rows].sum() > 0)
    ]
    return torch.cat(logits)[inverse], present


def _batch(n_groups, *, empty_cell, zero_cell):
    generator = torch.Generator().manual_seed(0)
    n = 40
    group = torch.randint(0, n_groups, (n,), generator=generator)
    y = torch.randint(0, 2, (n,), generator=generator).float()
    if empty_cell:  # no row of group 0 with label 1
        y[group == 0] = 0.0
    weight = torch.rand(n, generator=generator) + 0.5
    weight[::5] = 0.0
    if zero_cell:  # every row of group 1 with label 0 has weight 0
        weight[(group == 1) & (y == 0)] = 0.0
    X = torch.randn(n, 3, generator=generator)
    return FairBatch(X=X, y=y, group=group, sample_weight=weight, n_groups=n_groups)


@pytest.mark.parametrize(
    "constraint", ["demographic_parity", "equalized_odds", "equal_opportunity"]
)
@pytest.mark.parametrize("n_groups", [2, 3])
@pytest.mark.parametrize("empty_cell, zero_cell", [(False, False), (True, True)])
def test_forward_by_cell_matches_the_reference_loop(constraint, n_groups, empty_cell, zero_cell):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 1))
    calls = []

    def logits_of(X):
        calls.append(len(X))
        return net(X).squeeze(-1)

    batch = _batch(n_groups, empty_cell=empty_cell, zero_cell=zero_cell)
    expected_logits, present = reference_forward_by_cell(logits_of, batch, constraint)
    reference_calls, calls[:] = list(calls), []
    forward = forward_by_cell(logits_of, batch, constraint)
    assert calls == reference_calls  # one forward per non-empty cell, of the same rows
    torch.testing.assert_close(forward.logits, expected_logits, rtol=0, atol=0)
    cells = forward.cells
    assert cells.codes == [code for code, _, _ in present]
    for rows, logits, (_, expected_rows, expected) in zip(cells.index, cells.logits, present):
        assert rows.tolist() == expected_rows.tolist()
        torch.testing.assert_close(logits, expected, rtol=0, atol=0)
    if zero_cell and constraint != "demographic_parity":
        assert 2 not in cells.codes  # group 1, label 0: rows present, all of weight 0
