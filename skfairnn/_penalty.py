# SPDX-License-Identifier: BSD-3-Clause
"""``FairPenaltyClassifier``: the intermediate base of the penalised methods.

Declares the two parameters every penalised method has, ``fairness_weight``
(:math:`\\lambda`) and ``constraint`` (one of :data:`skfairnn.cells.CONSTRAINTS`),
with their ``_parameter_constraints`` once, and splits the penalty hook into
``fairness_weight * fairness_loss(batch, forward)``, so that a method with
one penalty term implements :meth:`FairPenaltyClassifier.fairness_loss` only.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from numbers import Real

import torch

from ._base import FairBatch, FairNetClassifier
from ._forward import TrainingForward, cell_tally, forward_by_cell, forward_recording
from .cells import CONSTRAINTS
from .gaps import fairness_gap
from .modules import MLP
from .utils._sklearn import Interval, StrOptions

__all__ = ["FairPenaltyClassifier"]

#: why a step with each recording forward stays eager under compile=True
_EAGER_FORWARDS = {
    "cells": (
        "its per-cell gradients are taken with create_graph=True, a double backward "
        "that torch.compile does not support"
    ),
    "activations": "it records activations with hooks on submodules of the compiled module",
}


class FairPenaltyClassifier(FairNetClassifier, metaclass=ABCMeta):
    r"""Network trained with its task loss plus ``fairness_weight`` times a fairness loss.

    .. math::

        \frac1n\sum_i w_i\ell_i + \lambda\,\mathcal L_{fair}

    The base of every penalised method (FairReg, GCM, FAIRER, RUNNER, Fair
    Mixup, Adversarial). A subclass implements :meth:`fairness_loss`
    (:math:`\mathcal L_{fair}` on one batch); methods with several weighted
    terms override :meth:`fairness_penalty` instead.

    Parameters
    ----------
    module : nn.Module class or instance, default=MLP
    fairness_weight : float, default=1.0
        :math:`\lambda`; ``0`` trains without the penalty (plain ERM with the
        same sampling).
    constraint : str, default="equalized_odds"
        The fairness criterion, one of "equalized_odds", "equal_opportunity",
        "demographic_parity" (:mod:`skfairnn.cells`).
    sampling : str, default="auto"
        ``"auto"`` is the papers' loop for ``constraint`` (group-balanced
        batches for demographic parity, cell-balanced otherwise).
    **kwargs
        Any :class:`~skfairnn.FairNetClassifier` parameter.
    """

    _parameter_constraints = {
        **FairNetClassifier._parameter_constraints,
        "fairness_weight": [Interval(Real, 0, None, closed="left")],
        "constraint": [StrOptions(set(CONSTRAINTS))],
    }
    _fairness_weights = ("fairness_weight",)
    #: what the training forward records besides the logits: ``None``, ``"cells"``
    #: (one forward per cell) or ``"activations"`` (of the layers in ``layers_``)
    _forward_records: str | None = None
    #: the parameter that must be non-zero for the forward to record them
    _forward_records_when = "fairness_weight"

    @property
    def _eager_step_reason(self) -> str | None:
        """Why ``torch.compile`` cannot capture the step: a recording forward, or ``None``.

        The per-cell forward (``"cells"``) exists for per-cell gradients
        taken with ``create_graph=True`` (GCM, FAIRER), a double backward
        that ``torch.compile`` does not support; the activation recording
        (``"activations"``, RUNNER) hooks submodules inside the compiled one.
        """
        return _EAGER_FORWARDS.get(self._forward_records)

    def __init__(
        self,
        module=MLP,
        *,
        fairness_weight=1.0,
        constraint="equalized_odds",
        sampling="auto",
        **kwargs,
    ):
        super().__init__(module, sampling=sampling, **kwargs)
        self.fairness_weight = fairness_weight
        self.constraint = constraint

    def training_forward(self, batch: FairBatch) -> TrainingForward:
        """The batch's forward, recording what the method declares in ``_forward_records``.

        ``"cells"``: :func:`~skfairnn._forward.forward_by_cell` for
        ``constraint`` (GCM, FAIRER); ``"activations"``:
        :func:`~skfairnn._forward.forward_recording` of the layers in
        ``layers_`` (RUNNER). Only while the weight named by
        ``_forward_records_when`` is non-zero; otherwise one plain forward.
        """
        if self._forward_records is None or not getattr(self, self._forward_records_when):
            return super().training_forward(batch)
        if self._forward_records == "cells":
            return forward_by_cell(
                self.network_logits, batch, self._cell_layout(), self._segmentable_module(),
                self._cell_gradients_mode(),
            )  # fmt: skip
        return forward_recording(self.network_logits, self.module_, self.layers_, batch.X)

    def _step_layout(self, batch) -> tuple:
        """The cells' sizes when the step forwards by cell (a CUDA graph holds one layout)."""
        if self._forward_records != "cells" or not getattr(self, self._forward_records_when):
            return ()
        Xi, yi = batch
        columns = Xi.get("host")  # the CPU copies, when the batch has them
        if columns is None:
            columns = {"group": Xi["group"], "y": yi, "sample_weight": Xi["sample_weight"]}
        return cell_tally(columns, self._cell_layout(), self.n_groups_)

    def cell_forward(self, batch: FairBatch, forward: TrainingForward | None = None):
        """The per-cell forwards of ``forward``, or of a fresh per-cell pass of ``batch``.

        A loss called outside a training step (a test, a diagnostic) gets the
        cells it needs without a training forward that recorded them.
        """
        if forward is not None and forward.cells is not None:
            return forward.cells
        layout = self._cell_layout()
        module, mode = self._segmentable_module(), self._cell_gradients_mode()
        return forward_by_cell(self.network_logits, batch, layout, module, mode).cells

    def _segmentable_module(self):
        """``module_``, for one forward of all cells, unless ``network_logits`` is overridden.

        That forward (:mod:`skfairnn._segments`) walks the module's layers
        itself; a method that computes its logits otherwise keeps the loop.
        """
        if type(self).network_logits is not FairNetClassifier.network_logits:
            return None
        return self.module_

    def _cell_gradients_mode(self) -> str:
        """The method's ``cell_gradients`` parameter (``"auto"`` for a method without it)."""
        return getattr(self, "cell_gradients", "auto")

    def _cell_layout(self) -> str:
        """The constraint whose cells the per-cell forward separates: ``constraint``.

        A method whose variant compares other cells than its constraint names
        (GCM's demographic parity on (group, label) cells) overrides it.
        """
        return self.constraint

    def fairness_penalty(self, batch: FairBatch, forward: TrainingForward):
        """``fairness_weight * fairness_loss(batch, forward)``; ``None`` when the weight is 0."""
        if not self.fairness_weight:
            return None
        loss = self.fairness_loss(batch, forward)
        return None if loss is None else self.fairness_weight * loss

    @abstractmethod
    def fairness_loss(self, batch: FairBatch, forward: TrainingForward) -> torch.Tensor:
        r""":math:`\mathcal L_{fair}` of one training batch (before ``fairness_weight``).

        Parameters
        ----------
        batch : FairBatch
            Inputs, labels, group codes and weights of the batch.
        forward : TrainingForward
            What :meth:`training_forward` produced for the batch.

        Returns
        -------
        Tensor
            A scalar attached to the graph.
        """

    def relaxed_gap(self, batch: FairBatch, logits: torch.Tensor) -> torch.Tensor:
        """The relaxed gap of ``constraint`` on the probabilities ``sigmoid(logits)``.

        Compiled with the network when ``compile=True`` (:meth:`compiled`).
        """
        return self.compiled(proba_gap)(
            self.constraint, logits, batch.y, batch.group, batch.n_groups, batch.sample_weight
        )


def proba_gap(constraint, logits, y, group, n_groups, sample_weight):
    """:func:`~skfairnn.gaps.fairness_gap` of ``constraint`` on ``sigmoid(logits)``."""
    return fairness_gap(constraint, torch.sigmoid(logits), y, group, n_groups, sample_weight)
