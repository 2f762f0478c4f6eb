# SPDX-License-Identifier: BSD-3-Clause
"""Influence machinery: per-sample gradients, inverse-Hessian products, NTK products."""

from ._ntk import network_outputs, ntk_diagonal, ntk_matrix, ntk_weighted_sum

__all__ = ["network_outputs", "ntk_diagonal", "ntk_matrix", "ntk_weighted_sum"]
