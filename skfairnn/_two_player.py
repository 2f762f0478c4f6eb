# SPDX-License-Identifier: BSD-3-Clause
"""``TwoPlayerFairNet``: the two-player variant of the method contract.

Most methods add a penalty to the loss (:class:`~skfairnn.FairPenaltyClassifier`).
An adversarial method instead plays a game on every batch: an *adversary*
``adversary_`` (built by the method in ``initialize_module``) with its own
optimizer ``adversary_optimizer_`` minimises its loss, and the predictor
follows an update rule built from the task gradient and the adversary's
gradient. The variant replaces skorch's ``train_step`` with one simultaneous
step of both players and asks the method for two named hooks:

* :meth:`TwoPlayerFairNet.adversary_loss` — the adversary's loss on the
  batch, differentiable in both players' parameters;
* :meth:`TwoPlayerFairNet.predictor_gradients` — the predictor's update
  direction from the two gradients.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from numbers import Real

import torch
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator

from ._base import FairBatch
from ._penalty import FairPenaltyClassifier
from .modules import MLP
from .utils._sklearn import Interval

__all__ = ["TwoPlayerFairNet"]

#: constructor parameters whose names start with the ``adversary`` component prefix
_PLAIN_PREFIXED = ("adversary_lr", "adversary_optimizer")


class TwoPlayerFairNet(FairPenaltyClassifier):
    """A predictor and an adversary, both updated from every training batch.

    Parameters
    ----------
    module : nn.Module class or instance, default=MLP
        The predictor (one output logit).
    fairness_weight : float, default=1.0
        Weight of the adversary's gradient in the predictor's update; ``0``
        leaves the adversary idle (plain ERM with the same sampling).
    constraint : str, default="demographic_parity"
        One of "demographic_parity", "equalized_odds", "equal_opportunity".
    adversary_optimizer : torch optimizer class, default=torch.optim.Adam
        Optimizer of the adversary; its parameters via
        ``adversary_optimizer__*``.
    adversary_lr : float or None, default=None
        The adversary's learning rate; ``None`` uses ``lr``.
    sampling : str, default="random"
    **kwargs
        Any :class:`~skfairnn.FairNetClassifier` parameter.
    """

    _eager_step_reason = (
        "its game step takes two gradients through one graph (retain_graph=True), "
        "which compiled backward graphs refuse"
    )
    _graph_step_reason = "its game step runs two optimisers of its own inside the step"
    _parameter_constraints = {
        **FairPenaltyClassifier._parameter_constraints,
        "adversary_optimizer": [callable],
        "adversary_lr": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        module=MLP,
        *,
        fairness_weight=1.0,
        constraint="demographic_parity",
        adversary_optimizer=torch.optim.Adam,
        adversary_lr=None,
        sampling="random",
        **kwargs,
    ):
        super().__init__(
            module,
            fairness_weight=fairness_weight,
            constraint=constraint,
            sampling=sampling,
            **kwargs,
        )
        self.adversary_optimizer = adversary_optimizer
        self.adversary_lr = adversary_lr

    # ------------------------------------------------------------ the hooks
    @abstractmethod
    def adversary_loss(self, batch: FairBatch, logits: torch.Tensor) -> torch.Tensor:
        """The adversary's loss on ``batch`` given the predictor's ``logits``."""

    def predictor_gradients(
        self, task_grads: Sequence[torch.Tensor], adversary_grads: Sequence[torch.Tensor]
    ) -> list[torch.Tensor]:
        """The predictor's update direction; the default is gradient reversal."""
        return [gt - self.fairness_weight * ga for gt, ga in zip(task_grads, adversary_grads)]

    def fairness_loss(self, batch, forward):
        """The adversary's loss on the batch: what the predictor's update works against."""
        return self.adversary_loss(batch, forward.logits)

    def fairness_penalty(self, batch, forward):
        """``None``: the adversary acts through the update rule, not as a penalty."""
        return None

    # ------------------------------------------------------- skorch plumbing
    def set_params(self, **params):
        """Set parameters; ``adversary_lr``/``adversary_optimizer`` rebuild the optimizers.

        skorch reads names that start with a component's prefix (here
        ``adversary``) as that component's arguments; these two are plain
        constructor parameters, so they are set here and, on a fitted net,
        the optimizers are rebuilt.
        """
        plain = {key: params.pop(key) for key in _PLAIN_PREFIXED if key in params}
        for key, value in plain.items():
            setattr(self, key, value)
        if plain and self.initialized_:
            self._initialize_optimizer()
        return super().set_params(**params)

    def initialize_optimizer(self, *args, **kwargs):
        """One optimizer per player: ``optimizer_`` and ``adversary_optimizer_``."""
        named = list(self.module_.named_parameters())
        criterion_params = getattr(self.criterion_, "named_parameters", None)
        if criterion_params is not None:
            named += [(f"criterion.{k}", p) for k, p in criterion_params()]
        args, kwargs = self.get_params_for_optimizer("optimizer", named)
        self.optimizer_ = self.optimizer(*args, **kwargs)
        args, kwargs = self.get_params_for_optimizer(
            "adversary_optimizer", self.adversary_.named_parameters()
        )
        if "lr" not in self.get_params_for("adversary_optimizer"):
            kwargs["lr"] = self.lr if self.adversary_lr is None else self.adversary_lr
        self.adversary_optimizer_ = self.adversary_optimizer(*args, **kwargs)
        return self

    def train_step(self, batch, **fit_params):
        """One simultaneous step of both players (replaces skorch's closure step)."""
        self._set_training(True)
        self._zero_grad_optimizer()
        Xi, yi = unpack_data(batch)
        fair_batch = self._fair_batch(Xi, yi)
        logits = self.network_logits(fair_batch.X)
        loss = self.get_loss(logits, fair_batch.y, X=Xi, training=True)
        playing = self._adversary_plays()
        if playing:
            adversary_loss = self.adversary_loss(fair_batch, logits)
            self._set_gradients(loss, adversary_loss)
            self.history.record_batch("adversary_loss", float(adversary_loss.detach()))
        else:
            loss.backward()
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        self.optimizer_.step()
        if playing:
            self.adversary_optimizer_.step()
        return {"loss": loss, "y_pred": logits}

    def _adversary_plays(self) -> bool:
        """Whether this step is a game step; otherwise it is a plain task-loss step.

        The adversary plays when a fairness weight is non-zero and the
        training data has at least two groups (it predicts the group). A
        method whose adversary does not need the groups overrides this.
        """
        return (
            self.sensitive_groups_ is not None
            and len(self.sensitive_groups_) > 1
            and self._has_fairness_term()
        )

    def _predictor_params(self) -> list[torch.Tensor]:
        params = [p for group in self.optimizer_.param_groups for p in group["params"]]
        return [p for p in params if p.requires_grad]

    def _set_gradients(self, loss, adversary_loss):
        """Write the update rule's gradients into ``.grad`` of both players."""
        predictor = self._predictor_params()
        adversary = [p for p in self.adversary_.parameters() if p.requires_grad]
        task_grads = torch.autograd.grad(loss, predictor, retain_graph=True, materialize_grads=True)
        adv_grads = torch.autograd.grad(
            adversary_loss, predictor + adversary, materialize_grads=True
        )
        update = self.predictor_gradients(task_grads, adv_grads[: len(predictor)])
        for param, grad in zip(predictor + adversary, [*update, *adv_grads[len(predictor) :]]):
            param.grad = grad
