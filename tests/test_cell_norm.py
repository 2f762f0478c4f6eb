# SPDX-License-Identifier: BSD-3-Clause
"""Per-cell batch norm with a closed-form double backward (skfairnn._cell_norm)."""

import pytest
import torch
import torch.nn.functional as F

from skfairnn._cell_norm import CellBatchNorm, biased_variance, fold_cells, unfold_cells

N_CELLS, ROWS, CHANNELS = 3, 4, 2


def _inputs(affine, seed=0, spatial=(5,)):
    generator = torch.Generator().manual_seed(seed)
    shape = (N_CELLS * ROWS, CHANNELS, *spatial)
    x = torch.randn(shape, generator=generator, dtype=torch.double) * 2 + 1
    parameters = [None, None]
    if affine in ("both", "weight"):
        parameters[0] = torch.randn(N_CELLS, CHANNELS, generator=generator, dtype=torch.double)
    if affine in ("both", "bias"):
        parameters[1] = torch.randn(N_CELLS, CHANNELS, generator=generator, dtype=torch.double)
    return [t if t is None else t.requires_grad_() for t in (x, *parameters)]


def _cell_rows(x):
    """The rows of each cell: row ``k`` of cell ``c`` is row ``k * N_CELLS + c`` (interleaved)."""
    return [x[c::N_CELLS] for c in range(N_CELLS)]


def _reference(x, weight, bias, eps):
    """F.batch_norm of each cell's rows, back in the interleaved order."""
    per_cell = [
        F.batch_norm(
            rows, None, None, None if weight is None else weight[c],
            None if bias is None else bias[c], True, 0.0, eps,
        )
        for c, rows in enumerate(_cell_rows(x))
    ]  # fmt: skip
    return torch.stack(per_cell, 1).flatten(0, 1)


def test_fold_and_unfold_are_inverse_views():
    x = torch.arange(N_CELLS * ROWS * CHANNELS * 3.0).view(N_CELLS * ROWS, CHANNELS, 3)
    folded = fold_cells(x, N_CELLS)
    assert folded.shape == (ROWS, N_CELLS * CHANNELS, 3)
    torch.testing.assert_close(folded[1, CHANNELS], x[N_CELLS + 1, 0])  # row 1 of cell 1
    torch.testing.assert_close(folded[2, 2 * CHANNELS + 1], x[2 * N_CELLS + 2, 1])
    assert folded.data_ptr() == x.data_ptr() and folded.is_contiguous()  # no copy
    unfolded = unfold_cells(folded, N_CELLS)
    torch.testing.assert_close(unfolded, x)
    assert unfolded.data_ptr() == x.data_ptr()


@pytest.mark.parametrize("spatial", [(), (5,), (2, 3)], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("affine", ["both", "none"])
def test_equals_batch_norm_of_each_cell(affine, spatial):
    x, weight, bias = _inputs(affine, spatial=spatial)
    out, mean, invstd = CellBatchNorm.apply(x, weight, bias, N_CELLS, 1e-5)
    mean, variance = mean.view(N_CELLS, -1), biased_variance(invstd, 1e-5).view(N_CELLS, -1)
    torch.testing.assert_close(out, _reference(x, weight, bias, 1e-5))
    dims = [0, *range(2, x.dim())]
    for c, rows in enumerate(_cell_rows(x)):
        torch.testing.assert_close(mean[c], rows.mean(dims))
        torch.testing.assert_close(variance[c], rows.var(dims, correction=0))


@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
def test_first_and_second_derivatives_match_finite_differences(affine):
    inputs = [t for t in _inputs(affine) if t is not None]
    x, weight, bias = _inputs(affine)

    def output(*args):
        values = iter(args)
        x_ = next(values)
        w = next(values) if weight is not None else None
        b = next(values) if bias is not None else None
        return CellBatchNorm.apply(x_, w, b, N_CELLS, 1e-3)[0]

    assert torch.autograd.gradcheck(output, inputs)
    assert torch.autograd.gradgradcheck(output, inputs)


@pytest.mark.parametrize("spatial", [(), (2, 3)], ids=["1d", "3d"])
def test_a_penalty_on_gradients_has_the_gradient_of_autograd_through_batch_norm(spatial):
    """GCM's and FAIRER's double backprop: the same second order as through F.batch_norm."""
    x, weight, bias = _inputs("both", seed=1, spatial=spatial)
    target = torch.randn(x.shape, dtype=torch.double)

    def penalty(normalise, wrt):
        out = normalise(x, weight, bias, 1e-5)
        loss = (out - target).square().mul(out.tanh()).sum()
        grads = torch.autograd.grad(loss, wrt, create_graph=True)
        return torch.autograd.grad(sum(g.abs().sum() for g in grads), (x, weight, bias))

    def ours(*args):
        return CellBatchNorm.apply(*args[:3], N_CELLS, args[3])[0]

    for wrt in [(x, weight, bias), (weight,), (x,), (bias,)]:  # each output gradient alone
        for expected, got in zip(penalty(_reference, wrt), penalty(ours, wrt)):
            torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-11)
