# SPDX-License-Identifier: BSD-3-Clause
"""Default skorch callbacks of every skfairnn network: step logging and a divergence check.

:class:`~skfairnn.FairNetClassifier` adds them to skorch's defaults (next to
:class:`~skfairnn._decision.DecisionRule`), so the training step only returns
values and the bookkeeping happens where skorch does its own.
"""

from __future__ import annotations

import numpy as np
import torch
from skorch.callbacks import Callback

__all__ = ["StepLog", "FiniteLoss"]


def _plain(value):
    """Tensors (also inside dicts) as lists or Python numbers, for ``history``."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    return value


class StepLog(Callback):
    """Log the epoch's mean fairness penalty and the last step's records.

    The training step returns ``fairness_penalty`` (a detached tensor, or
    ``None`` without a penalty) and ``records`` (values the method's loss
    asked to log, :attr:`skfairnn._forward.TrainingForward.records`, e.g.
    RUNNER's ``selected_neurons``). Both stay on the device during the epoch
    and are read once at its end, so the step does not wait for the host:
    ``train_fairness_penalty`` is the mean over the epoch's penalised steps,
    and each record of the epoch's last step is written into the epoch's
    row of ``history`` (tensors as lists).
    """

    def on_epoch_begin(self, net, **kwargs):
        self.penalty_sum_, self.penalty_batches_, self.records_ = 0.0, 0, {}

    def on_batch_end(self, net, training=False, fairness_penalty=None, records=None, **kwargs):
        if not training:
            return
        if fairness_penalty is not None:
            self.penalty_sum_ = self.penalty_sum_ + fairness_penalty
            self.penalty_batches_ += 1
        self.records_ = records or {}

    def on_epoch_end(self, net, **kwargs):
        if self.penalty_batches_:
            net.history.record(
                "train_fairness_penalty", float(self.penalty_sum_) / self.penalty_batches_
            )
        for key, value in self.records_.items():
            net.history.record(key, _plain(value))
        self.penalty_sum_, self.records_ = 0.0, {}  # nothing of the fit stays behind


class FiniteLoss(Callback):
    """Stop with a clear error instead of leaving a NaN model behind."""

    def on_epoch_end(self, net, **kwargs):
        losses = [batch.get("train_loss") for batch in net.history[-1]["batches"]]
        losses = np.array([loss for loss in losses if loss is not None], dtype=float)
        if losses.size and not np.isfinite(losses).all():
            raise FloatingPointError(
                f"{type(net).__name__}: the training loss became "
                f"{losses[~np.isfinite(losses)][0]} in epoch {len(net.history)}; training "
                f"diverged. Lower lr (now {net.lr}) or fairness_weight, or scale the inputs."
            )
