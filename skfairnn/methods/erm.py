# SPDX-License-Identifier: BSD-3-Clause
"""Vanilla training (empirical risk minimisation) and the Oversample baseline."""

from __future__ import annotations

from .._base import FairNetClassifier
from ..modules import MLP

__all__ = ["ERMClassifier"]


class ERMClassifier(FairNetClassifier):
    """Neural network trained by plain (weighted) empirical risk minimisation.

    The reference point of every comparison. With ``sampling="random"`` it is
    the papers' "Vanilla" model; with ``sampling="cell_balanced"`` (equal draws
    per (group, label) cell) it is the **Oversample** baseline of GCM and
    RUNNER, and ``sampling="group_balanced"`` is the sex-balanced batch loop
    that Fair Mixup uses for all its DP models. ``sensitive_features`` is used
    only by the balanced samplers; ``sample_weight`` weights each row's loss,
    which is how :class:`~skfairnn.ReweightedClassifier` applies FairIF,
    Kamiran–Calders or pruning weights.

    Parameters
    ----------
    module : nn.Module class or instance, default=MLP
        Network with one output logit (see :class:`FairNetClassifier`).
    **kwargs
        Any :class:`FairNetClassifier` / skorch parameter (``sampling``,
        ``max_epochs``, ``lr``, ``batch_size``, ``random_state``, ``device``,
        ``module__hidden_sizes``, ...).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skfairnn import ERMClassifier
    >>> X, y = make_classification(200, 5, random_state=0)
    >>> clf = ERMClassifier(max_epochs=5, module__hidden_sizes=(16,), random_state=0)
    >>> clf.fit(X, y).predict_proba(X).shape
    (200, 2)
    """

    _requires_groups = False
    _fairness_weights = ()

    def __init__(self, module=MLP, **kwargs):
        super().__init__(module, **kwargs)
