# SPDX-License-Identifier: BSD-3-Clause
"""skorch callbacks that log the gradient diagnostics into ``net.history`` each epoch."""

from __future__ import annotations

from skorch.callbacks import Callback

from ..modules import eval_mode
from ._gradient import _contribution_disparity, _pair, _parity
from ._probe import probe_for

__all__ = ["ContributionDisparityLogger", "NeuronParityLogger"]


class _GradientLogger(Callback):
    def __init__(
        self,
        X=None,
        y=None,
        sensitive_features=None,
        *,
        groups=None,
        max_samples=2000,
        random_state=0,
    ):
        self.X = X
        self.y = y
        self.sensitive_features = sensitive_features
        self.groups = groups
        self.max_samples = max_samples
        self.random_state = random_state

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        if getattr(net, "sensitive_groups_", None) is None:
            return
        data = probe_for(self, net, dataset_train)
        X, y, group = data.X, data.y, data.group
        with eval_mode(net.module_) as module:
            values = self._compute(module, X, y, group, _pair(self.groups, net))
        for key, value in values.items():
            net.history.record(key, value)


class ContributionDisparityLogger(_GradientLogger):
    """Log GCM's group contribution disparity (Eq. 8) per label after each epoch.

    Records ``contribution_disparity_y0`` and ``contribution_disparity_y1`` in
    ``net.history`` (see :func:`group_contribution_disparity`), computed on
    ``X, y, sensitive_features`` if given, else on a random subsample of at
    most ``max_samples`` training rows (fixed across epochs).
    """

    def _compute(self, module, X, y, group, pair):
        values = _contribution_disparity(module, X, y, group, pair, per_layer=False)
        return {f"contribution_disparity_y{k[-1]}": float(v) for k, v in values.items()}


class NeuronParityLogger(_GradientLogger):
    """Log FAIRER's parity score and rationale similarity (Taylor form) after each epoch.

    Records ``neuron_parity_score`` (:math:`\\sum_k d_k` with Eq. 8
    importances) and ``rationale_similarity`` (:math:`\\sum_l \\cos`), see
    :func:`neuron_parity_scores`; the data are chosen as in
    :class:`ContributionDisparityLogger`.
    """

    def __init__(
        self,
        X=None,
        y=None,
        sensitive_features=None,
        *,
        importance="parameter",
        layers=None,
        groups=None,
        max_samples=2000,
        random_state=0,
    ):
        super().__init__(
            X,
            y,
            sensitive_features,
            groups=groups,
            max_samples=max_samples,
            random_state=random_state,
        )
        self.importance = importance
        self.layers = layers

    def _compute(self, module, X, y, group, pair):
        result = _parity(module, X, y, group, pair, "taylor", self.importance, self.layers, 64)
        return {
            "neuron_parity_score": result.parity_score,
            "rationale_similarity": result.similarity,
        }
