# SPDX-License-Identifier: BSD-3-Clause
r"""Adversarial debiasing (Zhang, Lemoine & Mitchell 2018).

Two players share each training batch: the *adversary* predicts the sensitive
group from the predictor's output (and, for equalized odds, the true label),
and the *predictor* minimises its task loss with a gradient from which the
part that would help the adversary is removed:

.. math::

    g_W = \nabla_W L_P - \mathrm{proj}_{\nabla_W L_A} \nabla_W L_P
          - \alpha\, \nabla_W L_A .

:class:`AdversarialClassifier` is the estimator; :class:`ZhangAdversary` the
default adversary network; :func:`projected_gradients` the update rule.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._base import FairBatch
from .._two_player import TwoPlayerFairNet
from ..modules import MLP

__all__ = ["AdversarialClassifier", "ZhangAdversary", "projected_gradients"]


class ZhangAdversary(nn.Module):
    r"""The adversary of Zhang et al. (2018), Sec. 6, with optional hidden layers.

    It maps the predictor's logit :math:`z` (and the label :math:`y`) to
    group logits. Following the paper's UCI Adult adversary, the logit is
    first squashed as :math:`s = \sigma((1 + |c|)\, z)` with a learnable
    scale :math:`c` (started at 0.1: at 0 the gradient of :math:`|c|` is
    zero and :math:`c` would never move); the features are :math:`[s]` for demographic parity and
    equal opportunity and :math:`[s,\ s y,\ s (1 - y),\ y]` for equalized
    odds (the paper's three plus the label itself, see
    :class:`AdversarialClassifier` Notes).
    An MLP (``hidden_sizes``; ``()`` is the paper's linear adversary) maps
    them to one logit (two groups) or one logit per group.

    Parameters
    ----------
    n_groups : int, default=2
        Number of sensitive groups (filled in by the estimator).
    use_label : bool, default=False
        Whether the features include the label (equalized odds; filled in).
    hidden_sizes : sequence of int, default=(16,)
        Hidden layer widths of the adversary.
    activation : {"relu", "tanh", "gelu", "leaky_relu"}, default="relu"
        Hidden activation.
    """

    def __init__(
        self,
        n_groups: int = 2,
        use_label: bool = False,
        hidden_sizes: Sequence[int] = (16,),
        activation: str = "relu",
    ):
        super().__init__()
        self.use_label = use_label
        # c of Sec. 6; not started at 0, where |c| has a zero (sub)gradient
        self.scale = nn.Parameter(torch.tensor(0.1))
        n_outputs = 1 if n_groups <= 2 else n_groups
        body = MLP(4 if use_label else 1, hidden_sizes=hidden_sizes, activation=activation)
        if n_outputs > 1:
            last = body.net[-1]
            body.net[-1] = nn.Linear(last.in_features, n_outputs)
        self.body = body.net

    def forward(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        s = torch.sigmoid((1 + self.scale.abs()) * logits)
        features = [s, s * y, s * (1 - y), y] if self.use_label else [s]
        out = self.body(torch.stack(features, dim=1))
        return out[:, 0] if out.shape[1] == 1 else out


def projected_gradients(
    predictor_grads: Sequence[torch.Tensor],
    adversary_grads: Sequence[torch.Tensor],
    alpha: float,
    projection: bool = True,
) -> list[torch.Tensor]:
    r"""The predictor's update direction of Zhang et al. (2018), Sec. 3.

    .. math::

        g = \nabla_W L_P - \frac{\langle \nabla_W L_P, \nabla_W L_A\rangle}
            {\|\nabla_W L_A\|^2} \nabla_W L_A - \alpha \nabla_W L_A,

    where the inner product and norm run over *all* predictor parameters as
    one vector :math:`W`. ``projection=False`` drops the projection term
    (plain gradient reversal).

    Parameters
    ----------
    predictor_grads : sequence of Tensor
        :math:`\nabla_W L_P`, one tensor per parameter.
    adversary_grads : sequence of Tensor
        :math:`\nabla_W L_A`, same shapes.
    alpha : float
        :math:`\alpha` (``fairness_weight``).
    projection : bool, default=True
        Remove the projection of :math:`\nabla_W L_P` onto :math:`\nabla_W L_A`.

    Returns
    -------
    list of Tensor
        The update direction, one tensor per parameter.
    """
    coef = alpha
    if projection:
        dot = sum((gp * ga).sum() for gp, ga in zip(predictor_grads, adversary_grads))
        norm2 = sum((ga * ga).sum() for ga in adversary_grads)
        tiny = torch.finfo(norm2.dtype).tiny
        # Zero adversary gradient: nothing to project out (0 / tiny = 0).
        coef = alpha + dot / norm2.clamp_min(tiny)
    return [gp - coef * ga for gp, ga in zip(predictor_grads, adversary_grads)]


class AdversarialClassifier(TwoPlayerFairNet):
    r"""Network trained against an adversary that predicts the sensitive group.

    Adversarial debiasing of Zhang, Lemoine & Mitchell [1]_. Each batch, the
    adversary :math:`a_U` sees the predictor's output and tries to predict
    the group :math:`A`; its loss :math:`L_A` (cross-entropy) is minimised
    over :math:`U`. The predictor's weights :math:`W` follow

    .. math::

        \nabla_W L_P - \mathrm{proj}_{\nabla_W L_A} \nabla_W L_P
        - \alpha \nabla_W L_A

    (Sec. 3 of [1]_): the task gradient with its component along the
    adversary's gradient removed (so the predictor never helps the
    adversary), minus :math:`\alpha \nabla_W L_A` (so it actively hurts it).
    At the equilibrium the output carries no information on :math:`A`
    (demographic parity) or none beyond the label (equalized odds).

    Parameters
    ----------
    module : nn.Module class or instance, default=MLP
        The predictor (one output logit).
    fairness_weight : float, default=1.0
        :math:`\alpha`, the weight of the adversary's gradient in the
        predictor's update (≥ 0). ``0`` switches the game off (plain ERM with
        the same sampling), although Zhang et al.'s update at :math:`\alpha = 0`
        would still project the task gradient; use a small positive value for
        the projection alone.
    constraint : str, default="demographic_parity"
        One of "demographic_parity", "equalized_odds", "equal_opportunity".
        What the adversary sees (Sec. 4 of [1]_): the output only (DP); the
        output and the label (EO); the output, on rows with :math:`y=1`
        only (EOp: the adversary's loss, and hence its gradient, uses only
        the positive rows).
    adversary : nn.Module class or instance or None, default=None
        The adversary. ``None`` is :class:`ZhangAdversary` (configure with
        ``adversary__hidden_sizes=(...)``, ``adversary__activation``). A
        custom class is called with ``n_groups`` and ``use_label`` when its
        constructor takes them; its ``forward(logits, y)`` gets the
        predictor's logits and the float labels and returns one logit per
        row (two groups) or ``(n, n_groups)`` logits.
    adversary_optimizer : torch optimizer class, default=torch.optim.Adam
        Optimizer of the adversary; its parameters via
        ``adversary_optimizer__*``.
    adversary_lr : float or None, default=None
        The adversary's learning rate; ``None`` uses ``lr``.
    projection : bool, default=True
        Remove the projection term; ``False`` is plain gradient reversal
        (:math:`\nabla_W L_P - \alpha \nabla_W L_A`).
    sampling : str, default="random"
        Batch sampling (the paper trains on plain shuffled batches).
    **kwargs
        Any :class:`~skfairnn.FairNetClassifier` parameter.

    Attributes
    ----------
    adversary_ : nn.Module
        The fitted adversary.
    adversary_optimizer_ : torch.optim.Optimizer
        Its optimizer.
    module_, optimizer_, classes_, sensitive_groups_ : see
        :class:`~skfairnn.FairNetClassifier`.

    Notes
    -----
    Readings of the paper and choices made here:

    * **Adversary input.** The paper's UCI Adult adversary (Sec. 6) gets
      :math:`s = \sigma((1+|c|) z)` of the predictor's logit :math:`z` with a
      learnable :math:`c`, and for equalized odds the features
      :math:`[s, s y, s(1-y)]`. We add the label :math:`y` itself to these
      three (fairlearn's ``AdversarialFairnessClassifier`` concatenates
      :math:`[\hat y, y]`): equalized odds asks :math:`\hat Y \perp A \mid Y`,
      so the adversary must be able to model :math:`P(A \mid Y)` without the
      score; otherwise it reads :math:`Y` through :math:`s`, and the
      predictor, to fool it, distorts the scores within each label (with
      the three features and equal learning rates, one Adult run showed ΔDP
      falling and ΔEO rising). The paper's adversary is linear
      on its features; the default here adds one hidden layer of 16 units
      (``adversary__hidden_sizes=()`` gives the linear one), which lets it
      detect non-monotone dependence on the score.
    * **Learning rates.** The adversary must keep up with the predictor:
      with equal learning rates the two players oscillate (the predictor
      overshoots and favours the other group). An adversary about ten times
      faster than the predictor (``adversary_lr=10 * lr``) trains stably in
      our runs; ``adversary_lr=None`` (equal rates) is the default.
    * **Projection over all weights.** :math:`W` is read as one vector: the
      inner product and norm of the projection run over every predictor
      parameter together (:func:`projected_gradients`). fairlearn 0.15
      projects per parameter tensor, and for weight matrices its
      ``torch.sum(torch.inner(u, g))`` is :math:`(\sum_i u_i)\cdot(\sum_j g_j)`
      over rows rather than the Frobenius inner product, so its update is not
      orthogonal to :math:`\nabla_W L_A`; ours is (tested).
    * **More than two groups.** The adversary is a softmax classifier over
      all groups trained with cross-entropy (binary cross-entropy on one
      logit for two groups); the paper states only the binary case.
    * **Weights and rows.** :math:`L_A` is the ``sample_weight``-weighted
      mean over the batch (over its :math:`y=1` rows for EOp); a batch
      without such rows contributes nothing.
    * **Schedules.** The paper's convergence argument decays the learning
      rate and grows :math:`\alpha` (e.g. :math:`\alpha = \sqrt{t}`); both are
      constant here, as in fairlearn. Use skorch's ``LRScheduler`` callback
      for a decay.
    * Without ``sensitive_features`` (or with fewer than two groups) the
      adversary is idle and training is plain ERM; so it is at
      ``fairness_weight=0``.

    References
    ----------
    .. [1] Zhang, Lemoine & Mitchell, "Mitigating Unwanted Biases with
       Adversarial Learning", AIES 2018 (``zhang2018mitigating``).

    Examples
    --------
    >>> import numpy as np
    >>> from skfairnn import AdversarialClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4)).astype("float32")
    >>> A = (X[:, 0] > 0).astype(int)
    >>> y = (X[:, 1] + A > 0.5).astype(int)
    >>> clf = AdversarialClassifier(fairness_weight=1.0, max_epochs=2, random_state=0)
    >>> clf.fit(X, y, sensitive_features=A).predict(X[:3]).shape
    (3,)
    """

    _fairness_weights = ("fairness_weight",)
    _parameter_constraints = {
        **TwoPlayerFairNet._parameter_constraints,
        "adversary": [nn.Module, callable, None],
        "projection": ["boolean"],
    }

    def __init__(
        self,
        module=MLP,
        *,
        fairness_weight=1.0,
        constraint="demographic_parity",
        adversary=None,
        adversary_optimizer=torch.optim.Adam,
        adversary_lr=None,
        projection=True,
        sampling="random",
        **kwargs,
    ):
        super().__init__(
            module,
            fairness_weight=fairness_weight,
            constraint=constraint,
            adversary_optimizer=adversary_optimizer,
            adversary_lr=adversary_lr,
            sampling=sampling,
            **kwargs,
        )
        self.adversary = adversary
        self.projection = projection

    def initialize_module(self):
        """Build the predictor ``module_`` and the adversary ``adversary_``."""
        super().initialize_module()
        adversary = ZhangAdversary if self.adversary is None else self.adversary
        kwargs = self.get_params_for("adversary")
        if isinstance(adversary, type):
            signature = inspect.signature(adversary).parameters
            defaults = {
                "n_groups": max(getattr(self, "n_groups_", 2), 2),
                "use_label": self.constraint == "equalized_odds",
            }
            for name, value in defaults.items():
                if name in signature and name not in kwargs:
                    kwargs[name] = value
        self.adversary_ = self.initialized_instance(adversary, kwargs)
        return self

    def adversary_loss(self, batch: FairBatch, logits: torch.Tensor) -> torch.Tensor:
        """The adversary's loss :math:`L_A`: cross-entropy of its group prediction.

        Weighted by ``sample_weight``; restricted to rows with ``y = 1`` for
        equal opportunity. Differentiable in both players' parameters.
        """
        weight = batch.sample_weight
        if self.constraint == "equal_opportunity":
            weight = weight * batch.y
        group_logits = self.adversary_(logits, batch.y)
        if group_logits.dim() == 1:
            per_row = F.binary_cross_entropy_with_logits(
                group_logits, batch.group.to(group_logits.dtype), reduction="none"
            )
        else:
            per_row = F.cross_entropy(group_logits, batch.group, reduction="none")
        return (per_row * weight).sum() / weight.sum().clamp_min(1e-12)

    def predictor_gradients(self, task_grads, adversary_grads):
        """Zhang et al.'s update (:func:`projected_gradients`)."""
        return projected_gradients(
            task_grads, adversary_grads, self.fairness_weight, self.projection
        )
