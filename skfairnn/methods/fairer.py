# SPDX-License-Identifier: BSD-3-Clause
"""FAIRER / DRAlign: fairness as decision-rationale alignment."""

from __future__ import annotations

from numbers import Real

import torch

from .._cell_gradients import cell_gradients, cell_losses, compared_cells
from .._penalty import FairPenaltyClassifier
from .._rationale import cell_taylor_importances, cosine_matrix
from .._segments import CELL_GRADIENTS, CELL_GRADIENTS_PARAMETER
from ..cells import cell_pairs
from ..modules import MLP, find_layers
from ..utils._sklearn import Interval, StrOptions

__all__ = ["FairerClassifier", "rationale_similarity"]

GRANULARITIES = ("parameter", "unit")
PAIR_AGGREGATIONS = ("mean", "worst")


def rationale_similarity(
    importances: list,
    pairs: list[list[tuple[int, int]]],
    aggregation: str = "mean",
) -> torch.Tensor:
    r"""Decision-rationale similarity :math:`\sum_l \cos(\vec c_l^{0}, \vec c_l^{1})` (Eq. 9).

    Parameters
    ----------
    importances : list of Tensor, or list of list of Tensor
        Per layer, a tensor of shape ``(n_cells, n_l)`` whose row ``c`` is
        the flattened importance vector :math:`\hat c_l` of cell ``c``; or
        ``importances[cell][layer]``, the vectors one by one.
    pairs : list of list of (int, int)
        Per label, the cell pairs to compare (:func:`cell_pairs`); labels are
        summed.
    aggregation : {"mean", "worst"}, default="mean"
        How a label's pairs combine, each pair scored by its layer sum
        :math:`s_{ab} = \sum_l \cos(\vec c_l^{a}, \vec c_l^{b})`:
        ``"mean"`` averages :math:`s_{ab}` over the pairs; ``"worst"`` takes
        the least similar pair, :math:`\min_{ab} s_{ab}`, as the relaxed gap
        takes the worst pair of groups (:mod:`skfairnn.gaps`). With two
        groups (one pair) both are Eq. 9.

    Returns
    -------
    Tensor
        Scalar, with the graph of ``importances``; zero when no label has a pair.
    """
    if aggregation not in PAIR_AGGREGATIONS:
        raise ValueError(f"aggregation must be one of {PAIR_AGGREGATIONS}; got {aggregation!r}.")
    if not isinstance(importances[0], torch.Tensor):  # [cell][layer]: stack each layer
        importances = [torch.stack(layer) for layer in zip(*importances)]
    # s_ab of every pair of cells at once: the layers' cosine matrices, summed
    scores = sum(cosine_matrix(layer) for layer in importances)
    total = scores.sum() * 0.0
    for label_pairs in pairs:
        if not label_pairs:
            continue
        pair_scores = torch.stack([scores[a, b] for a, b in label_pairs])
        total = total + (pair_scores.mean() if aggregation == "mean" else pair_scores.min())
    return total


class FairerClassifier(FairPenaltyClassifier):
    r"""FAIRER (DRAlign): align the groups' decision rationales and outputs.

    FAIRER [1]_ represents the network's *decision rationale* on a group by
    the first-order importance of every neuron for the group's loss and asks
    the groups' rationales to agree, next to the usual relaxed output gap.
    Per batch (Algorithm 1), with :math:`g_k^{a}` the gradient of group
    :math:`a`'s mean loss w.r.t. parameter :math:`w_k` of layer :math:`l`:

    .. math::

        \hat c_k^{a} = (g_k^{a} w_k)^2 \quad \text{(Eq. 8)}, \qquad
        \vec c_l^{a} = \hat c_l^{a} / \lVert \hat c_l^{a} \rVert

        \mathcal L = \tfrac1n \textstyle\sum_i w_i \ell_i
        + \lambda\, \Delta(p)
        - \beta \sum_{l} \cos(\vec c_l^{0}, \vec c_l^{1}) \quad \text{(Eq. 9)}

    where :math:`\Delta` is the relaxed gap of ``constraint`` on probabilities
    (:mod:`skfairnn.gaps`). The importances keep their graph, so the
    alignment term is differentiated through the gradients (double backprop).

    Parameters
    ----------
    module : nn.Module class or instance, default=MLP
        Any network whose weighted layers are ``nn.Linear``/``nn.Conv2d``
        submodules (MLPs, CNNs), or name them with ``layers``.
    alignment_weight : float, default=0.01
        :math:`\beta`, weight of the rationale-alignment term. ``0`` skips
        the gradients entirely: the model is then
        :class:`~skfairnn.FairRegClassifier`. The default (with
        ``fairness_weight=0.6``) is the authors' CelebA demographic-parity
        script, which scores importance *per unit* (``importance="unit"``);
        the paper gives no values for its tabular runs. Measured on Adult
        DP for the per-parameter default (MLP 200-200, the ``fairer``
        registry loop, epoch chosen on the validation probability gap, seeds
        0-1, :math:`\lambda \in \{0.1, 0.2, 0.3, 0.5\}`, against FairReg at
        matched validation AP): per-parameter :math:`\beta = 0.01` gave a
        27 % smaller gap at :math:`\lambda = 0.2` but a 39 % larger one at
        :math:`\lambda = 0.5`; :math:`\beta = 0.001` was within noise of
        FairReg; :math:`\beta \ge 0.05` lost 0.015-0.07 validation AP
        (4-epoch runs), with a larger gap than FairReg's at that AP.
        Per-unit :math:`\beta = 0.01` was at or below FairReg's gap at
        every :math:`\lambda` (9 % lower on average), which is why the
        ``fairer`` entry of
        :data:`skfairnn.benchmarks.METHODS` uses it.
    fairness_weight : float, default=0.6
        :math:`\lambda`, weight of the relaxed gap (the authors' CelebA
        default 0.6, with :math:`\beta = 0.01`).
    constraint : str, default="demographic_parity"
        One of "demographic_parity", "equalized_odds", "equal_opportunity".
        ``"demographic_parity"`` compares the groups (Algorithm 1);
        ``"equalized_odds"`` compares groups within each label and sums the
        two labels' cosines (the authors' EO code: cells 00 vs 10 and 01 vs
        11); ``"equal_opportunity"`` uses the label-1 cells only. The same
        constraint picks the relaxed gap.
    importance : {"parameter", "unit"}, default="parameter"
        ``"parameter"``: one score per weight (Eq. 8 as written);
        ``"unit"``: scores summed per output neuron / conv filter (the
        authors' code; a 1-unit output layer then always has cosine 1).
    pair_aggregation : {"mean", "worst"}, default="mean"
        More than two groups: how the group pairs' rationale similarities
        :math:`\sum_l \cos` combine per label (:func:`rationale_similarity`).
        ``"mean"`` averages them; ``"worst"`` keeps the least similar pair,
        the way the relaxed gap keeps the worst pair of groups. The paper has
        two groups only, where both are Eq. 9; ``"mean"`` is the default so
        that every group pair is pulled together at each step.
    layers : list of str or None, default=None
        Names (``module_.named_modules()`` keys) of the layers whose weights
        form the rationale. ``None``: every ``nn.Linear``/``nn.Conv2d`` found
        by :func:`skfairnn.modules.find_layers`, output layer included, as in
        the authors' code.
    %(cell_gradients_parameter)s
    sampling : str, default="auto"
        ``"auto"`` is the papers' loop for ``constraint``: equal draws per
        group for demographic parity, per (group, label) cell for equalized
        odds and equal opportunity (Algorithm 1, line 2). Without it the rare label can
        vanish from batches and the penalty collapses the network (see the
        robustness study in the README); ``prior_correction`` then moves the
        decision back to the data's prior.
    **kwargs
        Any :class:`~skfairnn.FairNetClassifier` parameter.

    Attributes
    ----------
    layers_ : list of str
        Names of the layers in the alignment term (set when the module is
        initialised).
    classes_, sensitive_groups_, n_features_in_, module_, history_ :
        See :class:`~skfairnn.FairNetClassifier`.

    See Also
    --------
    GCMClassifier : matches gradient magnitudes instead.
    skfairnn.diagnostics.neuron_parity_scores : Eq. 4–5 and Eq. 8.

    Notes
    -----
    Readings of the paper:

    * Only weights (no biases) form :math:`\hat c`, as in the authors' code;
      the paper's "neurons (i.e., parameters)" does not say.
    * The per-layer normalisation :math:`\hat c / \lVert \hat c \rVert` does
      not change a cosine, so it is implicit (as in the code).
    * The group losses are the groups' *mean* losses (Algorithm 1, line 3);
      the task loss is the mean over the whole batch, which with balanced
      sampling is half the sum :math:`\mathcal L_{cls}(X_0) +
      \mathcal L_{cls}(X_1)` of line 8 (absorbed by the learning rate).
    * More than two groups: by default the similarities of all pairs of
      present groups are averaged per label (``pair_aggregation="mean"``;
      ``"worst"`` takes the least similar pair), so two groups give Eq. 9
      exactly. A
      group or cell missing from the batch, or whose rows all have weight 0
      (rows pruned by a weighter), drops out; with fewer than two present the
      term is zero (no NaN). The gap is the worst pair (:mod:`skfairnn.gaps`).
    * Each cell is forwarded separately (as in the authors' code), which
      matters only for batch-dependent layers such as batch norm.

    References
    ----------
    .. [1] Li, Liu, Li, Xie, Guo, Zhang, Wang, Zhu, "FAIRER: Fairness as
       Decision Rationale Alignment", ICML 2023.

    Examples
    --------
    >>> from skfairnn import FairerClassifier
    >>> from skfairnn.datasets import make_biased_classification
    >>> X, y, A = make_biased_classification(400, random_state=0)
    >>> clf = FairerClassifier(alignment_weight=0.1, max_epochs=2, random_state=0,
    ...                        module__hidden_sizes=(16,))
    >>> clf.fit(X, y, sensitive_features=A).predict(X[:3]).shape
    (3,)
    """

    _fairness_weights = ("fairness_weight", "alignment_weight")

    _forward_records = "cells"  # the rationales need one forward per cell
    _forward_records_when = "alignment_weight"

    _parameter_constraints = {
        **FairPenaltyClassifier._parameter_constraints,
        "alignment_weight": [Interval(Real, 0, None, closed="left")],
        "importance": [StrOptions(set(GRANULARITIES))],
        "pair_aggregation": [StrOptions(set(PAIR_AGGREGATIONS))],
        "layers": [list, tuple, None],
        "cell_gradients": [StrOptions(set(CELL_GRADIENTS))],
    }

    def __init__(
        self,
        module=MLP,
        *,
        alignment_weight=0.01,
        fairness_weight=0.6,
        constraint="demographic_parity",
        sampling="auto",
        importance="parameter",
        pair_aggregation="mean",
        layers=None,
        cell_gradients="auto",
        **kwargs,
    ):
        super().__init__(module, fairness_weight=fairness_weight, constraint=constraint,
                         sampling=sampling, **kwargs)  # fmt: skip
        self.alignment_weight = alignment_weight
        self.importance = importance
        self.pair_aggregation = pair_aggregation
        self.layers = layers
        self.cell_gradients = cell_gradients

    def initialize_module(self):
        """Build ``module_`` and resolve ``layers`` against it."""
        super().initialize_module()
        self.layers_ = [name for name, _ in find_layers(self.module_, self.layers)]
        return self

    def rationale_alignment(self, batch, forward=None) -> torch.Tensor:
        r""":math:`\sum_l \cos(\vec c_l^0, \vec c_l^1)` of the batch (Eq. 8–9), with graph.

        Uses the per-cell forwards of ``forward`` (recomputed when ``None``).
        """
        cells = compared_cells(self.cell_forward(batch, forward), self.constraint)
        named = dict(self.module_.named_modules())
        weights = [named[name].weight for name in self.layers_]
        if not cells.codes:  # no label has two cells of positive weight
            return weights[0].sum() * 0.0
        losses = cell_losses(cells, self.criterion_, batch.y, batch.sample_weight)
        grads = cell_gradients(losses, weights, cells=cells)
        importances = [  # per layer, one row per cell
            cell_taylor_importances(w, layer, self.importance) for w, layer in zip(weights, grads)
        ]
        pairs = cell_pairs(cells.codes, self.constraint)
        return rationale_similarity(importances, pairs, self.pair_aggregation)

    def fairness_loss(self, batch, forward):
        r"""Relaxed gap :math:`\Delta(p)` of ``constraint``, the :math:`\lambda` term (Eq. 9)."""
        return self.relaxed_gap(batch, forward.logits)

    def fairness_penalty(self, batch, forward):
        r""":math:`\lambda\,\Delta(p) - \beta \sum_l \cos(\cdot)` (Eq. 9)."""
        penalty = super().fairness_penalty(batch, forward)  # lambda * gap, None at lambda = 0
        if self.alignment_weight:
            alignment = -self.alignment_weight * self.rationale_alignment(batch, forward)
            penalty = alignment if penalty is None else penalty + alignment
        return penalty


FairerClassifier.__doc__ = FairerClassifier.__doc__.replace(
    "%(cell_gradients_parameter)s", CELL_GRADIENTS_PARAMETER
)
