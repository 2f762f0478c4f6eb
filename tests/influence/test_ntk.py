# SPDX-License-Identifier: BSD-3-Clause
"""NTK products (skfairnn.influence._ntk) against explicit references."""

import numpy as np
import pytest
import torch
from torch import nn

from skfairnn.influence import network_outputs, ntk_diagonal, ntk_matrix, ntk_weighted_sum
from skfairnn.modules import MLP


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    module = MLP(4, hidden_sizes=(5, 3), dropout=0.5)
    X = np.random.default_rng(0).normal(size=(23, 4)).astype(np.float32)
    return module, X


def _loop_jacobian(module, X, output="logit"):
    """Per-row gradients by one backward per row (the obviously correct reference)."""
    rows = []
    module.eval()
    for x in torch.as_tensor(X):
        module.zero_grad()
        out = module(x[None]).reshape(())
        (torch.sigmoid(out) if output == "proba" else out).backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in module.parameters()]))
    module.train()
    return torch.stack(rows)


@pytest.mark.parametrize("output", ["logit", "proba"])
def test_ntk_matrix_matches_loop(tiny, output):
    module, X = tiny
    J = _loop_jacobian(module, X, output)
    torch.testing.assert_close(ntk_matrix(module, X, output=output), J @ J.T, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(
        ntk_diagonal(module, X, output=output, chunk_size=4), (J * J).sum(1), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("chunk_size", [1, 5, 100])
def test_jvp_form_equals_explicit_kernel_sum(tiny, chunk_size):
    module, X = tiny
    coef = np.random.default_rng(1).normal(size=len(X)).astype(np.float32)
    expected = ntk_matrix(module, X) @ torch.as_tensor(coef)
    got = ntk_weighted_sum(module, X, coef, chunk_size=chunk_size)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    Xq = X[:7] * 2
    expected_q = ntk_matrix(module, Xq, X) @ torch.as_tensor(coef)
    torch.testing.assert_close(
        ntk_weighted_sum(module, X, coef, X_query=Xq, chunk_size=chunk_size),
        expected_q,
        rtol=1e-4,
        atol=1e-5,
    )


def test_eval_mode_used_and_restored(tiny):
    module, X = tiny
    module.train()
    first = network_outputs(module, X)
    assert module.training
    torch.testing.assert_close(first, network_outputs(module, X))  # dropout off
    module.eval()
    torch.testing.assert_close(first, module(torch.as_tensor(X)).detach())


def test_column_output_module():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))  # returns (n, 1)
    X = np.random.default_rng(0).normal(size=(9, 3)).astype(np.float32)
    coef = np.ones(9, dtype=np.float32)
    expected = ntk_matrix(module, X).sum(1)
    torch.testing.assert_close(ntk_weighted_sum(module, X, coef), expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="output must be one of"):
        ntk_weighted_sum(module, X, coef, output="margin")
