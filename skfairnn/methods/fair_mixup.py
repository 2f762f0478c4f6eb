# SPDX-License-Identifier: BSD-3-Clause
r"""Fair Mixup: smoothness of the expected prediction along paths between groups.

Chuang & Mroueh (ICLR 2021) regularise the model on the *path* of mixup
interpolates between two groups. With :math:`x_t = t\,x_0 + (1-t)\,x_1`,
:math:`x_0 \sim P_0`, :math:`x_1 \sim P_1` and :math:`s = \sigma \circ f`,
the expected prediction :math:`\mu(t) = E[s(x_t)]` moves from the mean
prediction of group 1 (:math:`t = 0`) to that of group 0 (:math:`t = 1`), so
:math:`\Delta_{DP} = |\int_0^1 \mu'(t)\,dt| \le \int_0^1 |\mu'(t)|\,dt`:
the paper's mixup regulariser. Its authors train with one draw
:math:`t \sim \mathrm{Beta}(\alpha, \alpha)` per step and the chain rule
:math:`\mu'(t) = E[\langle \nabla_x s(x_t),\, x_0 - x_1 \rangle]`
(``adult/utils.py`` of ``chingyaoc/fair-mixup``: double backprop through the
input gradient, on the sigmoid output). This module holds the maths on plain
tensors and a logit function; :class:`FairMixupClassifier` is the estimator.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real

import torch

from .._penalty import FairPenaltyClassifier
from ..cells import cell_codes, cell_pairs
from ..gaps import group_means
from ..modules import MLP
from ..utils._sklearn import Interval, StrOptions

__all__ = ["FairMixupClassifier"]

#: output scale whose path derivative is penalised
SCALES = ("probability", "logit")


def mixup_pairs(
    group: torch.Tensor,
    y: torch.Tensor,
    weight: torch.Tensor,
    constraint: str,
    n_groups: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pair the rows of the cells that Fair Mixup interpolates between.

    A cell is a group (demographic parity) or a (group, label) cell (equalized
    odds: both labels; equal opportunity: label 1). Only rows of positive
    weight count. For every pair of present cells of the same label, the
    :math:`i`-th row of the one is paired with the :math:`i`-th row of the
    other, up to the smaller count (the batch samplers shuffle within a cell,
    so this is a random matching, as in the authors' two group batches). Each
    pair of cells is one *term*.

    Returns
    -------
    rows_0, rows_1 : LongTensor of shape (n_pairs,)
        Batch positions of the two ends of each path.
    term : LongTensor of shape (n_pairs,)
        Term of each paired row.
    coef : Tensor of shape (n_terms,)
        Weight of each term: ``1 / (number of cell pairs of its label)``, so
        that the pairs of a label are averaged and the labels summed.
    """
    codes, _ = cell_codes(group, y, constraint, n_groups)
    positive = weight > 0
    present = torch.unique(codes[positive]).tolist()
    members = [torch.nonzero(positive & (codes == code)).squeeze(1) for code in present]
    rows_0, rows_1, coef = [], [], []
    for label_pairs in cell_pairs(present, constraint):
        for first, second in label_pairs:
            m = min(len(members[first]), len(members[second]))
            rows_0.append(members[first][:m])
            rows_1.append(members[second][:m])
            coef.append(1.0 / len(label_pairs))
    empty = group.new_zeros(0, dtype=torch.long)
    term = [torch.full_like(rows, k) for k, rows in enumerate(rows_0)]
    return (
        torch.cat([empty, *rows_0]),
        torch.cat([empty, *rows_1]),
        torch.cat([empty, *term]),
        torch.tensor(coef, dtype=weight.dtype, device=weight.device),
    )


def path_slopes(
    logit_fn: Callable[[torch.Tensor], torch.Tensor],
    x_0: torch.Tensor,
    x_1: torch.Tensor,
    t: torch.Tensor,
    term: torch.Tensor,
    n_terms: int,
    weight: torch.Tensor,
    scale: str = "probability",
) -> torch.Tensor:
    r"""Derivative of each term's weighted mean output along its mixup path.

    For term :math:`k` with interpolation weight :math:`t_k`,

    .. math::

        \mu_k'(t_k) = \frac{\sum_{i \in k} w_i\,
        \langle \nabla_x s(x_{t_k,i}),\, x_{0,i} - x_{1,i} \rangle}{\sum_{i \in k} w_i},
        \qquad x_{t,i} = t\,x_{0,i} + (1-t)\,x_{1,i},

    where :math:`s` is the probability :math:`\sigma(f(x))` (``scale=
    "probability"``) or the logit :math:`f(x)` (``"logit"``). The input
    gradients come from one ``torch.autograd.grad(..., create_graph=True)``
    over all paired rows, so the result stays differentiable in the network's
    parameters (double backprop). Inputs of any shape work (images
    ``(n, C, H, W)``: the inner product runs over all non-batch axes).

    Parameters
    ----------
    logit_fn : callable
        Maps a batch of inputs to one logit per row.
    x_0, x_1 : Tensor of shape (n_pairs, ...)
        The two ends of each path.
    t : Tensor of shape (n_terms,)
        Interpolation weight of each term.
    term : LongTensor of shape (n_pairs,)
        Term of each row.
    n_terms : int
        Number of terms.
    weight : Tensor of shape (n_pairs,)
        Weight of each path in its term's mean.
    scale : {"probability", "logit"}, default="probability"

    Returns
    -------
    Tensor of shape (n_terms,)
        Signed slope :math:`\mu_k'(t_k)` of each term.
    """
    t_rows = t[term].view(-1, *([1] * (x_0.dim() - 1)))
    x_t = (t_rows * x_0 + (1 - t_rows) * x_1).detach().requires_grad_(True)
    with torch.enable_grad():  # the input gradient is needed even under no_grad
        out = logit_fn(x_t)
        if scale == "probability":
            out = torch.sigmoid(out)
        (grad,) = torch.autograd.grad(out.sum(), x_t, create_graph=True, materialize_grads=True)
    slope = (grad * (x_0 - x_1)).flatten(1).sum(1)
    return group_means(slope, term, n_terms, weight)[0]


def mixup_path_penalty(
    logit_fn: Callable[[torch.Tensor], torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    group: torch.Tensor,
    sample_weight: torch.Tensor,
    n_groups: int,
    *,
    constraint: str = "demographic_parity",
    alpha: float = 1.0,
    scale: str = "probability",
    t: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Fair Mixup's path regulariser of one batch.

    .. math::

        R = \sum_{y} \frac{1}{|P_y|} \sum_{(a,b) \in P_y}
        \left| \mu_{ab,y}'(t_{ab,y}) \right|,
        \qquad t_{ab,y} \sim \mathrm{Beta}(\alpha, \alpha),

    with :math:`\mu_{ab,y}(t)` the weighted mean of :math:`s(x_t)` on the path
    from cell :math:`(b, y)` to cell :math:`(a, y)` (:func:`path_slopes`) and
    :math:`P_y` the pairs of present groups of label :math:`y`. Demographic
    parity has one "label" (whole groups), equalized odds :math:`y \in \{0, 1\}`,
    equal opportunity :math:`y = 1`. With two groups this is the authors'
    ``|E[<grad, x_1 - x_0>]|`` (DP) and its sum over labels (EO).

    One :math:`t` is drawn per term, not per row: with a :math:`t` per row the
    mean slope would estimate :math:`\int_0^1 \mu'(t)\,dt`, the signed gap
    itself, and the absolute value inside the integral (the smoothness
    prior) would be lost.

    Parameters
    ----------
    logit_fn : callable
        Maps a batch of inputs to one logit per row (the network's forward).
    X : Tensor of shape (n, ...)
        Inputs of the batch.
    y : Tensor of shape (n,)
        Labels (0/1).
    group : LongTensor of shape (n,)
        Group codes.
    sample_weight : Tensor of shape (n,)
        Row weights. Rows of weight 0 are left out before pairing; a path's
        weight is the product of its two ends' weights (the weighted product
        measure :math:`P_0 \times P_1` that the paths are drawn from).
    n_groups : int
        Number of groups.
    constraint : str, default="demographic_parity"
        One of "demographic_parity", "equalized_odds", "equal_opportunity".
    alpha : float, default=1.0
        Beta concentration (1: :math:`t` uniform, the authors' value).
    scale : {"probability", "logit"}, default="probability"
        See :func:`path_slopes`.
    t : Tensor of shape (n_terms,), default=None
        Interpolation weights; ``None`` draws them with torch's global
        generator (seeded from ``random_state`` inside ``fit``).

    Returns
    -------
    Tensor
        Scalar penalty; 0 when no label has two groups present.
    """
    rows_0, rows_1, term, coef = mixup_pairs(group, y, sample_weight, constraint, n_groups)
    if not len(coef):
        return X.new_zeros(())
    if t is None:
        concentration = torch.tensor(float(alpha), dtype=torch.float64)
        t = torch.distributions.Beta(concentration, concentration).sample((len(coef),))
    t = t.to(device=X.device, dtype=X.dtype)
    weight = sample_weight[rows_0] * sample_weight[rows_1]
    slopes = path_slopes(logit_fn, X[rows_0], X[rows_1], t, term, len(coef), weight, scale)
    return (coef.to(slopes.dtype) * slopes.abs()).sum()


class FairMixupClassifier(FairPenaltyClassifier):
    r"""Network trained with Fair Mixup's path regulariser ("FairReg (Aug)").

    Minimises

    .. math::

        \frac{1}{n}\sum_i w_i\,\ell(f(x_i), y_i) + \lambda\,R,

    where :math:`R` (:func:`mixup_path_penalty`) is the absolute derivative
    of the expected prediction along the mixup path between the groups'
    batches, at one :math:`t \sim \mathrm{Beta}(\alpha, \alpha)` per step: for
    ``"demographic_parity"`` between the groups, for ``"equalized_odds"``
    between the groups' rows of each label (summed over the two labels), for
    ``"equal_opportunity"`` the label-1 term only. Interpolation is in input
    space, so any input shape works (images ``(n, C, H, W)`` with a CNN).
    Where FairReg (:class:`~skfairnn.FairRegClassifier`) penalises the gap
    between the groups, Fair Mixup penalises how fast the prediction changes
    on the way from one group to the other, which the paper shows bounds the
    gap and generalises better. Called "FairMixup" / "FairReg (Aug)" in
    FAIRER, GCM and RUNNER.

    Parameters
    ----------
    module : nn.Module class or instance, default=MLP
    fairness_weight : float, default=0.5
        :math:`\lambda`. The default is the authors' ``--lam`` default; their
        Adult README suggests 0.1–0.7 for DP and 0.5–5 for EO.
    constraint : str, default="equalized_odds"
        One of "demographic_parity", "equalized_odds", "equal_opportunity".
    alpha : float, default=1.0
        Concentration of the Beta distribution of :math:`t` (the authors'
        code: 1, i.e. uniform).
    scale : {"probability", "logit"}, default="probability"
        Whose path derivative is penalised: the probability
        :math:`\sigma(f(x))` (the authors' code, whose networks end in a
        sigmoid; this is also the scale on which ΔDP and ΔEO are measured)
        or the logit :math:`f(x)` (the paper's generic :math:`f`; unbounded,
        so it keeps pushing on confident rows where the probability's slope
        has vanished).
    sampling : str, default="auto"
        ``"auto"`` is the papers' loop for ``constraint``: equal draws per
        group for demographic parity, per (group, label) cell for equalized
        odds and equal opportunity (the authors draw the two groups' batches
        exactly so). With other samplers the paths use as many rows of each
        cell as the smaller cell of the pair has.
    **kwargs
        Any :class:`~skfairnn.FairNetClassifier` parameter.

    Attributes
    ----------
    classes_, sensitive_groups_, n_features_in_, module_, history_ :
        See :class:`~skfairnn.FairNetClassifier`.

    Notes
    -----
    * Pairing: within each pair of cells, the first rows of the one are
      matched with the first rows of the other up to the smaller count (the
      samplers shuffle within cells, so the matching is random).
    * Sample weights: zero-weight rows are dropped before pairing; each path
      is weighted by the product of its ends' weights.
    * More than two groups: for each label, the term is computed for every
      pair of present groups and the pair terms are averaged (as in
      :class:`~skfairnn.GCMClassifier`). Each pair's term bounds that pair's
      gap, as in the paper's two-group case, so all pairwise gaps are
      penalised, two groups give exactly the paper's term, and the penalty's
      scale does not grow with the number of groups. A label with fewer than
      two groups present contributes zero (no NaN).
    * Cost: one extra forward of the paired rows and one input-gradient pass
      per step, whose graph the final backward differentiates again.

    References
    ----------
    .. [1] Chuang & Mroueh, "Fair Mixup: Fairness via Interpolation", ICLR 2021.

    Examples
    --------
    >>> from skfairnn import FairMixupClassifier
    >>> from skfairnn.datasets import make_biased_classification
    >>> X, y, A = make_biased_classification(400, random_state=0)
    >>> clf = FairMixupClassifier(fairness_weight=1.0, max_epochs=3, random_state=0)
    >>> clf.fit(X, y, sensitive_features=A).predict(X[:3]).shape
    (3,)
    """

    _eager_step_reason = (
        "its penalty differentiates the input gradient of the mixed logits, a double "
        "backward that torch.compile does not support"
    )
    _graph_step_reason = (
        "Fair Mixup draws its mixing weights and pairs on the host at every step, "
        "which a replayed graph would repeat"
    )
    _parameter_constraints = {
        **FairPenaltyClassifier._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "scale": [StrOptions(set(SCALES))],
    }

    def __init__(
        self,
        module=MLP,
        *,
        fairness_weight=0.5,
        constraint="equalized_odds",
        alpha=1.0,
        scale="probability",
        sampling="auto",
        **kwargs,
    ):
        super().__init__(module, fairness_weight=fairness_weight, constraint=constraint,
                         sampling=sampling, **kwargs)  # fmt: skip
        self.alpha = alpha
        self.scale = scale

    def fairness_loss(self, batch, forward):
        """Path regulariser of the batch (see :func:`mixup_path_penalty`)."""
        return mixup_path_penalty(
            self.network_logits,
            batch.X,
            batch.y,
            batch.group,
            batch.sample_weight,
            batch.n_groups,
            constraint=self.constraint,
            alpha=self.alpha,
            scale=self.scale,
        )
