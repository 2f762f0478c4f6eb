# SPDX-License-Identifier: BSD-3-Clause
"""Group Contribution Matching (GCM): gradient matching with gradient reweighing."""

from __future__ import annotations

from numbers import Real

import torch

from .._cell_gradients import (
    cell_gradients,
    cell_losses,
    compared_cells,
    host_tensor,
    mean_cell_scores,
)
from .._forward import CellForward
from .._penalty import FairPenaltyClassifier
from .._segments import CELL_GRADIENTS, CELL_GRADIENTS_PARAMETER
from ..cells import cell_group_label, cell_pairs
from ..modules import MLP
from ..sampling import resolve_sampling
from ..utils._sklearn import Interval, StrOptions

__all__ = [
    "GCMClassifier",
    "gradient_matching_penalty",
    "confidence_weights",
    "contribution_scales",
]

PARAMETER_SELECTIONS = ("skip_first_weight", "all", "weights", "biases")
MAGNITUDES = {"squared": torch.square, "abs": torch.abs}
#: ``gradient`` options: the cell's mean-loss gradient, or Eq. 6's |Z|-scaled one
GRADIENTS = ("mean", "sum")
#: ``dp_cells`` options: whole groups, or (group, label) cells after DP resampling (§4.3)
DP_CELLS = ("groups", "label_cells")

_MSG_UNKNOWN_PARAMS = (
    "penalized_params names parameters that {module} does not have: {missing}. "
    "Available: {available}."
)


def confidence_weights(
    mean_scores: torch.Tensor, codes: list[int], constraint: str, temperature: float
) -> torch.Tensor:
    r"""Gradient-reweighing weights :math:`W = c^T` of each cell (GCM Eq. 12–13).

    :math:`c^{a,y} = \bar y^{a,y} y + (1-\bar y^{a,y})(1-y)` for a (group,
    label) cell; for a demographic-parity cell (a whole group) :math:`c^a =
    \bar y^a`, the group's mean score (higher means privileged under DP).
    """
    labels = [cell_group_label(code, constraint)[1] for code in codes]
    label = host_tensor([1.0 if lab is None else float(lab) for lab in labels], mean_scores)
    confidence = mean_scores * label + (1 - mean_scores) * (1 - label)
    return confidence.pow(temperature)


def contribution_scales(cells: CellForward, weight: torch.Tensor) -> torch.Tensor:
    r"""Factor :math:`|Z_{ay}| / \bar n` that turns a cell's mean gradient into Eq. 6's.

    Eq. 6 writes the contribution of cell :math:`(a,y)` as
    :math:`g = |Z_{ay}|\,\bar g` (its summed-loss gradient). Here it is
    divided by :math:`\bar n = |Z| / K`, the mean size of the batch's
    :math:`K` present cells (sizes are sums of sample weights):

    .. math::

        s^{a,y} = \frac{K\,|Z_{ay}|}{|Z|}, \qquad g^{a,y} = s^{a,y}\,\bar g^{a,y}

    The common factor :math:`1/\bar n` leaves Eq. 6's ratio
    :math:`|Z_{0y}||\bar g^{0,y}| / |Z_{1y}||\bar g^{1,y}|` unchanged and makes
    the penalty's scale independent of ``batch_size``: on a batch whose
    present cells are equally large (cell-balanced batches, or
    group-balanced ones with demographic-parity cells) every
    :math:`s = 1` and the penalty equals the mean-gradient one, so one
    ``fairness_weight`` grid serves both ``gradient`` options.

    Parameters
    ----------
    cells : CellForward
        The present cells of the batch.
    weight : Tensor of shape (n,)
        Sample weights of the batch's rows.

    Returns
    -------
    Tensor of shape (n_cells,)
    """
    sizes = torch.stack([weight[rows].sum() for rows in cells.index])
    return len(cells.index) * sizes / sizes.sum()


def gradient_matching_penalty(
    magnitudes, weights: torch.Tensor, pairs: list[list[tuple[int, int]]]
) -> torch.Tensor:
    r"""Reweighed gradient-matching term of GCM (Eq. 13), summed over labels.

    .. math::

        \sum_{y} \frac{1}{|P_y|} \sum_{(a,b)\in P_y}
        \sum_{w} \left| W^{a,y}\, m_w^{a,y} - W^{b,y}\, m_w^{b,y} \right|

    computed as :math:`\sum |C\,m|` with one row of the contrast matrix
    :math:`C` per pair, :math:`(W^{a,y} e_a - W^{b,y} e_b) / |P_y|`: one
    product for every pair, whose backward writes each cell's gradient once.

    Parameters
    ----------
    magnitudes : Tensor of shape (n_cells, n_elements) or list of Tensor
        Per cell (row), the flattened gradient magnitudes :math:`m_w`
        (``|g|`` or ``g**2``) of the penalised parameters.
    weights : Tensor of shape (n_cells,)
        :math:`W` of each cell (detached).
    pairs : list of list of (int, int)
        Per label, the cell pairs to compare (:func:`cell_pairs`).
    """
    if not isinstance(magnitudes, torch.Tensor):
        magnitudes = torch.stack(list(magnitudes))
    rows = []
    for label_pairs in pairs:
        for a, b in label_pairs:
            row = [0.0] * len(magnitudes)
            row[a], row[b] = 1.0 / len(label_pairs), -1.0 / len(label_pairs)
            rows.append(row)
    if not rows:
        return magnitudes.sum() * 0.0
    contrasts = host_tensor(rows, magnitudes) * weights.to(magnitudes.dtype)
    return (contrasts @ magnitudes).abs().sum()


class GCMClassifier(FairPenaltyClassifier):
    r"""Group Contribution Matching: match how strongly each group drives the gradients.

    GCM [1]_ penalises the difference between the gradient magnitudes that the
    (group, label) cells of a batch induce on every parameter, reweighed by a
    confidence score so that the currently unprivileged cell is allowed to
    contribute more. Per batch, with :math:`g_w^{a,y}` the gradient of cell
    :math:`(a,y)`'s mean loss w.r.t. parameter element :math:`w` (Eq. 7; Eq.
    6's size-scaled form with ``gradient="sum"``),

    .. math::

        c^{a,y} = \bar y^{a,y} y + (1-\bar y^{a,y})(1-y), \qquad
        W^{a,y} = (c^{a,y})^T \quad \text{(Eq. 12)}

        \mathcal L_{fair} = \sum_w \sum_y
        \left| W^{0,y}\, m(g_w^{0,y}) - W^{1,y}\, m(g_w^{1,y}) \right|
        \quad \text{(Eq. 13)}

        \mathcal L = \tfrac1n \textstyle\sum_i w_i \ell_i + \lambda \mathcal L_{fair}
        \quad \text{(Eq. 11)}

    where :math:`\bar y^{a,y}` is the cell's mean predicted probability
    (treated as a constant) and :math:`m` is the magnitude (``magnitude``).
    ``temperature=0`` gives :math:`W = 1`, the plain gradient matching of
    Eq. 10. The penalty is differentiated through the gradients (double
    backprop; see :mod:`skfairnn._forward` and :mod:`skfairnn._cell_gradients`).

    Parameters
    ----------
    module : nn.Module class or instance, default=MLP
    fairness_weight : float, default=1.0
        :math:`\lambda` of Eq. 11. The authors' Adult runs use 0.5–5 with the
        squared magnitudes (their headline T=2 result: 3).
    temperature : float, default=2.0
        :math:`T` of the weights :math:`W = c^T`; the paper uses 0 and 2.
    constraint : str, default="equalized_odds"
        One of "equalized_odds", "equal_opportunity", "demographic_parity".
        ``"equalized_odds"``: cells are (group, label) pairs, compared within
        each label (Eq. 13). ``"equal_opportunity"``: only the label-1 cells.
        ``"demographic_parity"``: see ``dp_cells``.
    magnitude : {"squared", "abs"}, default="squared"
        :math:`m(g)`: ``"abs"`` is the paper's :math:`|g|` (Eq. 10, 13);
        ``"squared"`` is the authors' code (:math:`g^2`). The code comment
        calls the two equivalent; they are not once :math:`T > 0`. The
        penalty of a pair vanishes where :math:`W^0 m(g^0) = W^1 m(g^1)`:
        with :math:`|g|` at :math:`|g^0|/|g^1| = (c^1/c^0)^T`, with
        :math:`g^2` at :math:`|g^0|/|g^1| = (c^1/c^0)^{T/2}`, so squared
        magnitudes at ``temperature=2`` aim at the balance of :math:`|g|` at
        ``temperature=1`` (they agree at :math:`T = 0` only, and the
        penalties' scales differ by a factor of the order of :math:`|g|`).
        Default: the code's, because it produced the paper's published Adult
        numbers and the λ grids quoted above refer to it.
    gradient : {"mean", "sum"}, default="mean"
        Which gradient :math:`g` of a cell enters the matching.
        ``"mean"``: :math:`\bar g^{a,y}`, the gradient of the cell's mean
        loss (Eq. 7 "average gradient", and the authors' code). ``"sum"``:
        Eq. 6's contribution :math:`g^{a,y} = |Z_{ay}|\,\bar g^{a,y}`, so a
        cell that is more numerous in the batch contributes more (the
        mechanism of §3.1, Table 1), rescaled by the batch's mean cell size
        :math:`\bar n = |Z|/K` (:func:`contribution_scales`): on
        cell-balanced batches both options give the same penalty, on random
        batches ``"sum"`` sees the cells' sizes and ``"mean"`` does not.
        Default: the code's, with which the paper's numbers were produced
        (on its cell-balanced batches the two coincide).
    dp_cells : {"groups", "label_cells"}, default="groups"
        The cells of ``constraint="demographic_parity"`` (ignored for the
        other constraints). ``"groups"``: Eq. 13 on whole groups, with
        confidence :math:`c^a = \bar y^a` (a group scored higher is
        privileged), on the group-balanced batches of Fair Mixup's and
        FAIRER's DP loop; this is skfairnn's extension, not the paper's DP
        setup. ``"label_cells"``: GCM §4.3 ("Experiments on Other Fairness
        Metrics"): the batch is drawn by DP resampling (Kamiran–Calders
        uniform sampling, ``sampling="dp_resampled"``: every (group, label)
        cell sized :math:`n_a n_y / n`, so the label is independent of the
        group), and :math:`\bar g^{0,y}` is matched with
        :math:`\bar g^{1,y}` for each label as in Eq. 13, with Eq. 12's
        confidence (§4.3 does not name the weights; this is the EO reading).
        ``sampling="auto"`` then means ``"dp_resampled"``.
        Default: ``"groups"``, the behaviour before this option existed.
    penalized_params : str or list of str, default="skip_first_weight"
        One of "skip_first_weight", "all", "weights", "biases", or a list of
        parameter names. Which parameter tensors enter the sum over :math:`w`.
        ``"skip_first_weight"`` is every tensor but the first one of
        ``module_.named_parameters()`` (the first layer's weight), as in all
        the authors' runs (``--sl 1``); ``"all"`` is the paper's
        :math:`w \in \theta`; ``"weights"``/``"biases"`` select by name
        suffix; a list names tensors (``module_.named_parameters()`` keys,
        e.g. ``["net.0.bias"]`` for the "bias_0" row of Table 2).
    %(cell_gradients_parameter)s
    sampling : str, default="auto"
        ``"auto"`` is the papers' loop for ``constraint``: equal draws per
        (group, label) cell for equalized odds and equal opportunity (the
        paper's Adult loop); for demographic parity equal draws per group
        (Fair Mixup's and FAIRER's DP loop; GCM's own DP loop is
        ``"dp_resampled"``, which ``"auto"`` picks with
        ``dp_cells="label_cells"``). Without it the rare label can
        vanish from batches and the penalty collapses the network (see the
        robustness study in the README); ``prior_correction`` then moves the
        decision back to the data's prior.
    **kwargs
        Any :class:`~skfairnn.FairNetClassifier` parameter.

    Attributes
    ----------
    penalized_params_ : list of str
        Names of the parameter tensors in the penalty (set when the module is
        initialised).
    classes_, sensitive_groups_, n_features_in_, module_, history_ :
        See :class:`~skfairnn.FairNetClassifier`.

    See Also
    --------
    FairerClassifier : aligns per-group importance vectors instead.
    skfairnn.diagnostics.group_contribution_disparity : Eq. 8–9.

    Notes
    -----
    Readings of the paper:

    * Eq. 10 and 13 are written without an outer absolute value, which would
      make the term unbounded below; the text says the aim is to "minimize
      the magnitude variance", and the authors' code takes
      :math:`|W^0 m^0 - W^1 m^1|` per element. Both magnitudes use that outer
      absolute value here.
    * :math:`g` is, by default, the gradient of each cell's *mean* loss
      (Eq. 7 "average gradient", the authors' code); with sample weights the
      mean is weighted. Eq. 6 defines the contribution as
      :math:`|Z_{ay}|\,\bar g` instead; ``gradient="sum"`` uses it. With
      ``"sum"`` and magnitude :math:`m`, the penalty is
      :math:`\sum |W^0 m(s^0 \bar g^0) - W^1 m(s^1 \bar g^1)|` with
      :math:`s = K|Z_{ay}|/|Z|`, i.e. :math:`\bar n^{-1}` (``"abs"``) or
      :math:`\bar n^{-2}` (``"squared"``) times the penalty on Eq. 6's
      :math:`g`; that constant is what keeps λ on the scale of ``"mean"``.
    * §4.3's DP variant matches the *mean* gradients
      :math:`\bar g^{a,y}` of the resampled cells (the paper writes the
      bar); after DP resampling the cells of one label differ in size by
      the group sizes :math:`n_0/n_1`, which ``gradient="sum"`` would weigh
      in.
    * More than two groups: for each label, every pair of present groups is
      compared and the pair terms are averaged, so two groups give exactly
      Eq. 13. A cell missing from a batch, or whose rows all have weight 0
      (rows pruned by a weighter), drops out; a label with fewer than two
      groups present contributes zero (no NaN).
    * Each cell is forwarded separately (as in the authors' code), which
      matters only for batch-dependent layers such as batch norm.

    References
    ----------
    .. [1] Li, Li, Li, Liu, Guo, Xie, Wang, Zhu, "Fairness via Group
       Contribution Matching", IJCAI 2023.

    Examples
    --------
    >>> from skfairnn import GCMClassifier
    >>> from skfairnn.datasets import make_biased_classification
    >>> X, y, A = make_biased_classification(400, random_state=0)
    >>> clf = GCMClassifier(fairness_weight=1.0, max_epochs=2, random_state=0,
    ...                     module__hidden_sizes=(16,))
    >>> clf.fit(X, y, sensitive_features=A).predict(X[:3]).shape
    (3,)
    """

    _forward_records = "cells"  # the per-cell gradients need one forward per cell

    _parameter_constraints = {
        **FairPenaltyClassifier._parameter_constraints,
        "temperature": [Interval(Real, 0, None, closed="left")],
        "magnitude": [StrOptions(set(MAGNITUDES))],
        "gradient": [StrOptions(set(GRADIENTS))],
        "dp_cells": [StrOptions(set(DP_CELLS))],
        "penalized_params": [StrOptions(set(PARAMETER_SELECTIONS)), list, tuple],
        "cell_gradients": [StrOptions(set(CELL_GRADIENTS))],
    }

    def __init__(
        self,
        module=MLP,
        *,
        fairness_weight=1.0,
        temperature=2.0,
        constraint="equalized_odds",
        magnitude="squared",
        gradient="mean",
        dp_cells="groups",
        penalized_params="skip_first_weight",
        sampling="auto",
        cell_gradients="auto",
        **kwargs,
    ):
        super().__init__(module, fairness_weight=fairness_weight, constraint=constraint,
                         sampling=sampling, **kwargs)  # fmt: skip
        self.temperature = temperature
        self.magnitude = magnitude
        self.gradient = gradient
        self.dp_cells = dp_cells
        self.penalized_params = penalized_params
        self.cell_gradients = cell_gradients

    def _cell_layout(self) -> str:
        """Cells of the penalty: (group, label) cells for §4.3's DP variant."""
        if self.constraint == "demographic_parity" and self.dp_cells == "label_cells":
            return "equalized_odds"
        return self.constraint

    def _sampler_name(self) -> str:
        """``"auto"``: DP resampling for §4.3's DP variant, else the papers' loop."""
        if self.sampling == "auto" and self._cell_layout() != self.constraint:
            return "dp_resampled"
        return resolve_sampling(self.sampling, self.constraint)

    def initialize_module(self):
        """Build ``module_`` and resolve ``penalized_params`` against it."""
        super().initialize_module()
        self.penalized_params_ = self._resolve_penalized_params()
        return self

    def _resolve_penalized_params(self) -> list[str]:
        names = [name for name, p in self.module_.named_parameters() if p.requires_grad]
        selection = self.penalized_params
        by_rule = {
            "all": names,
            "skip_first_weight": names[1:],
            "weights": [n for n in names if n.rsplit(".", 1)[-1] == "weight"],
            "biases": [n for n in names if n.rsplit(".", 1)[-1] == "bias"],
        }
        if isinstance(selection, str):
            chosen = by_rule[selection]
        else:
            missing = [n for n in selection if n not in names]
            if missing:
                raise ValueError(
                    _MSG_UNKNOWN_PARAMS.format(
                        module=type(self.module_).__name__, missing=missing, available=names
                    )
                )
            chosen = list(selection)
        if not chosen:
            raise ValueError(
                f"penalized_params={selection!r} selects no parameter of "
                f"{type(self.module_).__name__} (parameters: {names})."
            )
        return chosen

    def fairness_loss(self, batch, forward):
        """GCM's reweighed gradient-matching term, Eq. 13 (see class docstring)."""
        cells = self.cell_forward(batch, forward)
        named = dict(self.module_.named_parameters())
        params = [named[name] for name in self.penalized_params_]
        layout = self._cell_layout()
        compared = compared_cells(cells, layout)  # the cells some pair compares
        if not compared.codes:  # no label has two cells of positive weight
            return params[0].sum() * 0.0
        losses = cell_losses(compared, self.criterion_, batch.y, batch.sample_weight)
        if self.gradient == "sum":  # Eq. 6: g = |Z_ay| * mean gradient, per mean cell size
            scales = contribution_scales(cells, batch.sample_weight).to(losses[0].dtype)
            position = {code: i for i, code in enumerate(cells.codes)}
            losses = [scales[position[code]] * loss for code, loss in zip(compared.codes, losses)]
        grads = cell_gradients(losses, params, cells=compared)  # per parameter, (cell, ...)
        flat = [g.flatten(1) for g in grads]  # one (cell, element) matrix, a copy only if several
        flat = torch.cat(flat, dim=1) if len(flat) > 1 else flat[0]
        magnitudes = MAGNITUDES[self.magnitude](flat)
        means = mean_cell_scores(compared, batch.sample_weight)
        weights = confidence_weights(means, compared.codes, layout, self.temperature)
        return gradient_matching_penalty(magnitudes, weights, cell_pairs(compared.codes, layout))


GCMClassifier.__doc__ = GCMClassifier.__doc__.replace(
    "%(cell_gradients_parameter)s", CELL_GRADIENTS_PARAMETER
)
