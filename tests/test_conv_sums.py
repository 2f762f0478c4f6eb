# SPDX-License-Identifier: BSD-3-Clause
"""Every cell's convolution weight gradient (skfairnn._conv_sums), each way against autograd."""

import numpy as np
import pytest
import torch
from torch import nn

import skfairnn._segments as segments_module
from skfairnn import GCMClassifier
from skfairnn._conv_sums import CONV_SUMS, conv_weight_sums
from skfairnn._segments import CellRows

CUDA = pytest.param(
    "cuda",
    marks=[pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU")],
)
CONVOLUTIONS = {
    "3x3": lambda: nn.Conv2d(4, 6, 3, padding=1),
    "strided-dilated-groups": lambda: nn.Conv2d(
        4, 6, 3, stride=2, padding=2, dilation=2, groups=2
    ),  # fmt: skip
    "same-uneven": lambda: nn.Conv2d(4, 4, (3, 2), padding="same", dilation=(1, 2)),
    "1d-valid": lambda: nn.Conv1d(3, 5, 4, stride=3, padding="valid"),
    "3d": lambda: nn.Conv3d(2, 3, 2, padding=1, stride=(1, 2, 1)),
    "1x1-strided": lambda: nn.Conv2d(4, 6, 1, stride=2),
}


def _autograd_cell_gradients(conv, x, delta, cells):
    """Reference: autograd's weight gradient of each cell's rows, with its graph."""
    return torch.stack([
        torch.autograd.grad(conv(x[rows]), conv.weight, delta[rows], create_graph=True)[0]
        for rows in cells
    ])  # fmt: skip


@pytest.mark.parametrize("device", ["cpu", CUDA])
@pytest.mark.parametrize("how", CONV_SUMS)
@pytest.mark.parametrize("equal", [True, False], ids=["interleaved", "blocks"])
@pytest.mark.parametrize("make", CONVOLUTIONS.values(), ids=CONVOLUTIONS.keys())
def test_each_way_gives_autograds_cell_gradients_and_their_derivatives(make, equal, how, device):
    torch.manual_seed(0)
    conv = make().double().to(device)
    spatial = conv.weight.dim() - 2
    x = torch.randn(12, conv.in_channels, *[7] * spatial, dtype=torch.double, device=device,
                    requires_grad=True)  # fmt: skip
    delta = torch.randn_like(conv(x)).requires_grad_()
    if equal:  # three cells of four rows, interleaved: row k of cell c at 3k + c
        rows = CellRows.for_sizes([4, 4, 4], [0, 1, 2])
        cells = [torch.arange(c, 12, 3, device=device) for c in range(3)]
    else:
        rows = CellRows.for_sizes([5, 7], [0, 1])
        cells = [slice(0, 5), slice(5, 12)]
    assert rows.interleaved == equal
    got = conv_weight_sums(conv, x, delta, rows, how)
    expected = _autograd_cell_gradients(conv, x, delta, cells)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)
    gamma = torch.randn_like(expected)  # the penalty's double backward goes through them
    second = torch.autograd.grad((got * gamma).sum(), (x, delta))
    expected_second = torch.autograd.grad((expected * gamma).sum(), (x, delta))
    for a, b in zip(second, expected_second):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_a_subset_of_the_cells_gets_their_gradients_only():
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, 3).double()
    x, rows = torch.randn(12, 2, 6, 6, dtype=torch.double), CellRows.for_sizes([4, 4, 4], [2, 0])
    delta = torch.randn_like(conv(x))
    cells = [torch.arange(2, 12, 3), torch.arange(0, 12, 3)]
    for how in CONV_SUMS:
        got = conv_weight_sums(conv, x, delta, rows, how)
        torch.testing.assert_close(got, _autograd_cell_gradients(conv, x, delta, cells))


class _SamePadded(nn.Module):
    """A linear layer, then a convolution with ``padding="same"`` (an even kernel: uneven)."""

    def __init__(self):
        super().__init__()
        self.linear, self.conv = nn.Linear(6, 6), nn.Conv1d(1, 2, 4, padding="same")
        self.head = nn.Linear(12, 1)

    def forward(self, X):
        return self.head(torch.relu(self.conv(self.linear(X)[:, None])).flatten(1))


@pytest.mark.parametrize("how", CONV_SUMS)
def test_segments_train_a_same_padded_convolution_as_the_loop_does(how, monkeypatch):
    """Before 0.2.0's fifth speed round, ``padding="same"`` reached
    ``convolution_backward`` as a string: a torch RuntimeError."""
    monkeypatch.setattr(segments_module, "_CONV_SUMS", how)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(96, 6)).astype(np.float32)
    group = rng.integers(0, 2, 96)
    y = (X[:, 0] + group > 0.5).astype(int)
    fits = {
        mode: GCMClassifier(
            _SamePadded, cell_gradients=mode, max_epochs=2, batch_size=32, random_state=0,
            optimizer=torch.optim.SGD, lr=0.1, verbose=0,
        ).fit(X, y, sensitive_features=group)
        for mode in ("loop", "segments")
    }  # fmt: skip
    for (name, a), b in zip(
        fits["loop"].module_.named_parameters(), fits["segments"].module_.parameters()
    ):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6, msg=name)
