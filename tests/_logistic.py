# SPDX-License-Identifier: BSD-3-Clause
"""Reference logistic regression for the influence tests: LBFGS to a strict minimum."""

import torch

from skfairnn.influence import bce_with_logits
from skfairnn.modules import LogisticRegressionModule

#: ridge term of the reference loss; it enters the Hessian as damping ``2 * L2``
L2 = 1e-3


def fit_logistic(X, y, weights=None, start=None):
    """Weighted float64 logistic regression with ridge ``L2``, trained to convergence.

    ``start`` (a fitted module) warm-starts the optimiser.
    """
    module = LogisticRegressionModule(X.shape[1]).double()
    if start is not None:
        module.load_state_dict(start.state_dict())
    weights = torch.ones(len(y), dtype=torch.float64) if weights is None else weights
    optimizer = torch.optim.LBFGS(
        module.parameters(),
        max_iter=1000,
        tolerance_grad=1e-13,
        tolerance_change=1e-15,
        line_search_fn="strong_wolfe",
    )

    def closure():
        optimizer.zero_grad()
        penalty = L2 * sum((p**2).sum() for p in module.parameters())
        loss = (weights * bce_with_logits(module(X), y)).mean() + penalty
        loss.backward()
        return loss

    optimizer.step(closure)
    return module
