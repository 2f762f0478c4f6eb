# SPDX-License-Identifier: BSD-3-Clause
"""Relaxed-gap regularisation: the papers' EOR / FairReg / GapReg baseline."""

from __future__ import annotations

from .._penalty import FairPenaltyClassifier
from ..gaps import fairness_gap
from ..modules import MLP
from ..utils._sklearn import StrOptions

__all__ = ["FairRegClassifier"]


class FairRegClassifier(FairPenaltyClassifier):
    r"""Network trained with a relaxed fairness-gap penalty (GapReg).

    Minimises

    .. math::

        \frac{1}{n}\sum_i w_i\,\ell(f(x_i), y_i) + \lambda\,\Delta(p),

    where :math:`p = \sigma(f(x))` and :math:`\Delta` is the batch's relaxed
    gap on probabilities (:mod:`skfairnn.gaps`): ``"demographic_parity"``
    :math:`|E[p|A=0]-E[p|A=1]|`, ``"equalized_odds"``
    :math:`\sum_y |E[p|A=0,Y=y]-E[p|A=1,Y=y]|`, ``"equal_opportunity"`` the
    :math:`y=1` term. This is "GapReg" of Fair Mixup [1]_ (its Adult code),
    called "EOR" in GCM, "FairReg (noAug)" in FAIRER and the fairness
    regulariser of Madras et al. [2]_. With more than two groups the gap is
    the worst pair (max minus min of the group means).

    Parameters
    ----------
    module : nn.Module class or instance, default=MLP
    fairness_weight : float, default=1.0
        :math:`\lambda`, the gap penalty's weight (Fair Mixup's Adult README
        suggests 0.1–0.7 for DP and 0.5–5 for EO).
    constraint : str, default="equalized_odds"
        One of "demographic_parity", "equalized_odds", "equal_opportunity".
    gap_scale : {"proba", "logit"}, default="proba"
        Where the gap is measured: ``"proba"`` on :math:`p = \sigma(f(x))`
        (GapReg as the papers and Fair Mixup's code define it); ``"logit"``
        on the raw logits :math:`f(x)` (an unbounded gap that keeps
        pushing where the sigmoid saturates; the pruning study's
        "FairReg (logit)" row).
    sampling : str, default="auto"
        ``"auto"`` is the papers' loop for ``constraint``: equal draws per
        group for demographic parity, per (group, label) cell for equalized
        odds and equal opportunity. Without it the rare label can
        vanish from batches and the penalty collapses the network (see the
        robustness study in the README); ``prior_correction`` then moves the
        decision back to the data's prior.
    **kwargs
        Any :class:`~skfairnn.FairNetClassifier` parameter.

    References
    ----------
    .. [1] Chuang & Mroueh, "Fair Mixup: Fairness via Interpolation", ICLR 2021.
    .. [2] Madras et al., "Learning Adversarially Fair and Transferable
       Representations", ICML 2018.

    Examples
    --------
    >>> from skfairnn import FairRegClassifier
    >>> from skfairnn.datasets import make_biased_classification
    >>> X, y, A = make_biased_classification(400, random_state=0)
    >>> clf = FairRegClassifier(fairness_weight=1.0, max_epochs=3, random_state=0)
    >>> clf.fit(X, y, sensitive_features=A).predict(X[:3]).shape
    (3,)
    """

    _fairness_weights = ("fairness_weight",)
    _parameter_constraints = {
        **FairPenaltyClassifier._parameter_constraints,
        "gap_scale": [StrOptions({"proba", "logit"})],
    }

    def __init__(
        self,
        module=MLP,
        *,
        fairness_weight=1.0,
        constraint="equalized_odds",
        gap_scale="proba",
        sampling="auto",
        **kwargs,
    ):
        super().__init__(module, fairness_weight=fairness_weight, constraint=constraint,
                         sampling=sampling, **kwargs)  # fmt: skip
        self.gap_scale = gap_scale

    def fairness_loss(self, batch, forward):
        """Relaxed gap of the batch's probabilities (or logits; see class docstring)."""
        if self.gap_scale == "proba":
            return self.relaxed_gap(batch, forward.logits)
        return self.compiled(fairness_gap)(
            self.constraint,
            forward.logits,
            batch.y,
            batch.group,
            batch.n_groups,
            batch.sample_weight,
        )
