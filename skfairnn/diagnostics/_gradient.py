# SPDX-License-Identifier: BSD-3-Clause
"""Gradient diagnostics: GCM's group contribution disparity, FAIRER's neuron parity.

Both take a fitted skfairnn network and data with labels and sensitive
features, and look at the gradients (or ablations) of each group's mean loss.
The public functions encode ``y`` and ``A`` like the estimator did; the
underscored ones work on encoded tensors and serve the callbacks.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils import Bunch
from torch.func import functional_call, vmap
from torch.nn import functional as F

from .._rationale import scaled_cosine, taylor_importance
from ..gaps import group_means
from ..modules import as_logits, eval_mode, find_layers
from ._probe import encode_probe

__all__ = ["group_contribution_disparity", "neuron_parity_scores"]


def _pair(groups, net) -> tuple[int, int]:
    """Codes of the two groups to compare: ``groups`` labels or the first two."""
    if groups is None:
        return 0, 1
    known = getattr(net, "sensitive_groups_", None)
    labels = [] if known is None else list(known)
    try:
        return labels.index(groups[0]), labels.index(groups[1])
    except ValueError:
        raise ValueError(f"groups must be two of {labels}; got {groups!r}.") from None


def _cell_sum_gradients(module, X, y, rows, params):
    """Gradient of the *summed* BCE of ``rows`` (GCM Eq. 6-7: n·mean gradient)."""
    logits = as_logits(module(X[rows]))
    loss = F.binary_cross_entropy_with_logits(logits, y[rows], reduction="sum")
    return torch.autograd.grad(loss, params, materialize_grads=True)


def _contribution_disparity(module, X, y, group, pair, per_layer: bool) -> dict:
    names, params = zip(*[(n, p) for n, p in module.named_parameters() if p.requires_grad])
    ratios = {}
    for label in (0, 1):
        grads = []
        for a in pair:
            rows = (group == a) & (y == label)
            if not bool(rows.any()):
                grads = None
                break
            grads.append(_cell_sum_gradients(module, X, y, rows, params))
        ratios[label] = None if grads is None else [_mean_ratio(g0, g1) for g0, g1 in zip(*grads)]
    if per_layer:
        return {
            name: {
                f"y={lab}": (np.nan if r is None else r[k][0] / r[k][1])
                for lab, r in ratios.items()
            }
            for k, name in enumerate(names)
        }
    out = {}
    for label, r in ratios.items():
        out[f"y={label}"] = np.nan if r is None else sum(s for s, _ in r) / sum(c for _, c in r)
    return out


def _mean_ratio(g0, g1) -> tuple[float, int]:
    """(sum of |g0|/|g1| over elements with g1 != 0, their count)."""
    keep = g1 != 0
    ratio = (g0.abs()[keep] / g1.abs()[keep]).sum()
    return float(ratio), int(keep.sum())


def group_contribution_disparity(
    net, X, y, sensitive_features, *, per_layer: bool = False, groups=None
) -> dict:
    r"""Group contribution disparity of GCM (Eq. 8; per parameter tensor, Eq. 9).

    .. math::

        \hat r^{Y=y} = \frac1p \sum_{w}
        \frac{|Z_{0y}|\,|\bar g_w^{0,y}|}{|Z_{1y}|\,|\bar g_w^{1,y}|}

    where :math:`\bar g_w^{a,y}` is the mean-loss gradient of cell
    :math:`(a, y)` of the given data. 1 means equal contributions.

    Parameters
    ----------
    net : fitted FairNetClassifier
    X, y : array-like
        Data (a training batch in the paper's Fig. 2, or any sample).
    sensitive_features : array-like of shape (n_samples,)
    per_layer : bool, default=False
        Return Eq. 9 for each parameter tensor (``named_parameters`` keys;
        weights and biases apart, as in GCM Table 2) instead of Eq. 8.
    groups : pair of group labels, default=None
        Numerator and denominator groups; ``None`` is the first two of
        ``net.sensitive_groups_``.

    Returns
    -------
    dict
        ``{"y=0": r, "y=1": r}`` (NaN for a label where a cell is empty), or
        ``{param_name: {"y=0": r, "y=1": r}}`` with ``per_layer=True``.

    Notes
    -----
    Elements where the denominator gradient is exactly 0 (e.g. dead ReLUs)
    are left out of the mean, so the score stays finite; the authors' code
    logs a different summary (per-tensor squared-norm ratio).
    """
    data = encode_probe(net, X, y, sensitive_features)
    X, y, group = data.X, data.y, data.group
    with eval_mode(net.module_) as module:
        return _contribution_disparity(module, X, y, group, _pair(groups, net), per_layer)


def _group_losses(module, params, X, y, group, n_groups):
    """Mean BCE per group, as a function of the parameter dict (for vmap)."""
    logits = as_logits(functional_call(module, params, (X,)))
    per_row = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    return group_means(per_row, group, n_groups)[0]


def _ablation_scores(module, name, layer, X, y, group, pair, unit: bool, chunk: int):
    """Eq. 4: squared loss change of each group when one weight (or unit) is zeroed."""
    params = {k: v.detach() for k, v in module.named_parameters()}
    n_groups = int(group.max()) + 1
    base = _group_losses(module, params, X, y, group, n_groups)[list(pair)]
    weight = layer.weight.detach()
    n_items = weight.shape[0] if unit else weight.numel()
    bias_key = f"{name}.bias" if f"{name}.bias" in params else None

    def loss_with(mask):
        changed = dict(params)
        shape = (-1,) + (1,) * (weight.dim() - 1) if unit else weight.shape
        changed[f"{name}.weight"] = weight * mask.reshape(shape)
        if unit and bias_key:
            changed[bias_key] = params[bias_key] * mask
        return _group_losses(module, changed, X, y, group, n_groups)[list(pair)]

    out = []
    for start in range(0, n_items, chunk):
        k = torch.arange(start, min(start + chunk, n_items), device=weight.device)
        masks = torch.ones(len(k), n_items, dtype=weight.dtype, device=weight.device)
        masks[torch.arange(len(k)), k] = 0
        out.append(vmap(loss_with)(masks))
    return (base[None, :] - torch.cat(out)).square().T  # (2, n_items)


def _taylor_scores(module, layers, X, y, group, pair, unit: bool):
    """Eq. 8: (g w)^2 of each group's mean loss, per layer."""
    weights = [layer.weight for _, layer in layers]
    scores = [[] for _ in layers]
    for a in pair:
        rows = group == a
        loss = F.binary_cross_entropy_with_logits(as_logits(module(X[rows])), y[rows])
        for k, g in enumerate(torch.autograd.grad(loss, weights)):
            granularity = "unit" if unit else "parameter"
            scores[k].append(taylor_importance(weights[k].detach(), g, granularity))
    return [torch.stack(s) for s in scores]


def neuron_parity_scores(
    net,
    X,
    y,
    sensitive_features,
    *,
    method: str = "taylor",
    importance: str = "parameter",
    layers=None,
    groups=None,
    chunk_size: int = 64,
) -> Bunch:
    r"""FAIRER's neuron parity scores (Eq. 4–5) and rationale similarity (Eq. 9).

    For each weight (or unit) :math:`w_k` of the chosen layers and each of
    two groups, the importance is

    * ``method="ablation"``: :math:`c_k^a = (J(F, P_a) - J(F_{w_k=0}, P_a))^2`
      (Eq. 4, exact: the network is re-evaluated with :math:`w_k` zeroed,
      vectorised over ``chunk_size`` ablations with ``torch.func.vmap``);
    * ``method="taylor"``: :math:`\hat c_k^a = (g_k^a w_k)^2` (Eq. 8).

    The parity score is :math:`d_k = |c_k^0 - c_k^1|^2` (Eq. 5) and the
    network score :math:`d_F = \sum_k d_k`; the similarity is
    :math:`\sum_l \cos(\vec c_l^0, \vec c_l^1)` (Table 1's approximation).

    Parameters
    ----------
    net : fitted FairNetClassifier
    X, y, sensitive_features : array-like
    method : {"taylor", "ablation"}, default="taylor"
    importance : {"parameter", "unit"}, default="parameter"
        One score per weight, or per output neuron/filter (ablation then
        zeroes the unit's weights and bias).
    layers : list of str or None, default=None
        Names of ``nn.Linear``/``nn.Conv2d`` submodules; ``None``: every such
        layer, the output layer included (:func:`skfairnn.modules.find_layers`).
    groups : pair of group labels, default=None
        ``None``: the first two of ``net.sensitive_groups_``.
    chunk_size : int, default=64
        Ablations evaluated at once (memory: ``chunk_size`` forward passes).

    Returns
    -------
    Bunch
        ``layers`` (names), ``importances`` (per layer, array (2, K_l)),
        ``parity`` (per layer, :math:`d_k`), ``parity_score`` (:math:`d_F`),
        ``layer_similarity`` (per layer cosine) and ``similarity`` (their sum).

    Notes
    -----
    Sec. 4.1 writes :math:`d_F = \sum_k d_k = \lVert c^0 - c^1 \rVert_1`,
    which contradicts the square in Eq. 5; ``parity_score`` follows Eq. 5.
    Exact ablation costs one forward pass of ``X`` per weight: use
    ``importance="unit"`` or a subsample for large networks.
    """
    if method not in ("taylor", "ablation"):
        raise ValueError(f"method must be 'taylor' or 'ablation'; got {method!r}.")
    if importance not in ("parameter", "unit"):
        raise ValueError(f"importance must be 'parameter' or 'unit'; got {importance!r}.")
    data = encode_probe(net, X, y, sensitive_features)
    X, y, group = data.X, data.y, data.group
    with eval_mode(net.module_) as module:
        return _parity(
            module, X, y, group, _pair(groups, net), method, importance, layers, chunk_size
        )


def _parity(module, X, y, group, pair, method, importance, layers, chunk_size) -> Bunch:
    found = find_layers(module, layers)
    unit = importance == "unit"
    if method == "taylor":
        scores = _taylor_scores(module, found, X, y, group, pair, unit)
    else:
        with torch.no_grad():
            scores = [
                _ablation_scores(module, name, layer, X, y, group, pair, unit, chunk_size)
                for name, layer in found
            ]
    parity = [(s[0] - s[1]).square() for s in scores]
    cosines = [float(scaled_cosine(s[0], s[1])) for s in scores]
    return Bunch(
        layers=[name for name, _ in found],
        importances=[s.detach().cpu().numpy() for s in scores],
        parity=[d.detach().cpu().numpy() for d in parity],
        parity_score=float(sum(d.sum() for d in parity)),
        layer_similarity=cosines,
        similarity=float(sum(cosines)),
    )
