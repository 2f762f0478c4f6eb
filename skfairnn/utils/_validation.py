# SPDX-License-Identifier: BSD-3-Clause
"""Validation of user inputs shared by the estimators, weighters and metrics."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["check_sample_weight"]

_MSG_SHAPE = "sample_weight must have shape ({n_samples},); got {shape}."
_MSG_VALUES = "sample_weight must be finite and non-negative; got {problem}."
_MSG_SUM = "sample_weight sums to zero; at least one row needs a positive weight."
_MSG_NUMERIC = "sample_weight must be numeric; got {kind}."


def check_sample_weight(
    sample_weight, n_samples: int, *, normalize: bool = True, dtype=np.float64
) -> np.ndarray:
    """Validated sample weights, one per row (ones when ``sample_weight`` is None).

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), Tensor or None
        User weights (a torch tensor on any device is accepted).
    n_samples : int
        Number of rows the weights belong to.
    normalize : bool, default=True
        Divide by the mean weight of the rows of positive weight, so that the
        rows that take part have mean weight 1 (rows of weight 0 are never
        drawn into a batch: 0/1 weights then train like the kept rows alone).
        ``False`` returns the weights as given.
    dtype : numpy dtype, default=np.float64
        dtype of the result.

    Returns
    -------
    ndarray of shape (n_samples,)

    Raises
    ------
    ValueError
        Naming ``sample_weight``, if it is not 1-D of length ``n_samples``,
        has NaN, infinite or negative values, or sums to zero.
    """
    if sample_weight is None:
        return np.ones(n_samples, dtype=dtype)
    if isinstance(sample_weight, torch.Tensor):
        sample_weight = sample_weight.detach().cpu().numpy()
    try:
        weight = np.array(sample_weight, dtype=np.float64)  # a copy: never the user's array
    except (TypeError, ValueError):
        raise ValueError(_MSG_NUMERIC.format(kind=type(sample_weight).__name__)) from None
    if weight.ndim != 1 or len(weight) != n_samples:
        raise ValueError(_MSG_SHAPE.format(n_samples=n_samples, shape=weight.shape))
    if not np.isfinite(weight).all():
        raise ValueError(_MSG_VALUES.format(problem="NaN or infinite values"))
    if (weight < 0).any():
        raise ValueError(_MSG_VALUES.format(problem=f"minimum {weight.min()}"))
    if weight.sum() <= 0:
        raise ValueError(_MSG_SUM)
    if normalize:
        weight = weight / weight[weight > 0].mean()
    return weight.astype(dtype, copy=False)
