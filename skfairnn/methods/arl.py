# SPDX-License-Identifier: BSD-3-Clause
r"""Adversarially Reweighted Learning (ARL; Lahoti et al. 2020).

Fairness without demographics: a *learner* :math:`h_\theta` minimises a
reweighted loss while an *adversary* :math:`f_\phi(x, y) \in (0, 1)`, which
sees the features and the label but never the sensitive group, chooses the
weights to maximise it:

.. math::

    \min_\theta \max_\phi \sum_{i=1}^n \lambda_\phi(x_i, y_i)\,
    \ell(h_\theta(x_i), y_i), \qquad
    \lambda_\phi(x_i, y_i) = 1 + n \frac{f_\phi(x_i, y_i)}{\sum_{j=1}^n f_\phi(x_j, y_j)} .

The adversary thus up-weights computationally identifiable regions of high
loss, which improves the worst-off group's accuracy (Rawlsian max-min
fairness) when the groups correlate with the features and labels.

:class:`ARLClassifier` is the estimator; :class:`ARLAdversary` the default
adversary; :func:`adversarial_weights` the normalised weights
:math:`n f_\phi / \sum f_\phi`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from numbers import Integral

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._base import FairBatch
from .._two_player import TwoPlayerFairNet
from ..modules import MLP
from ..utils._sklearn import Interval

__all__ = ["ARLClassifier", "ARLAdversary", "adversarial_weights"]

#: lower bound on the mean adversary score in the normalisation (the authors' code uses 1e-4)
_MIN_MEAN_SCORE = 1e-4
_MSG_ADVERSARY_SHAPE = (
    "adversary must return one logit per row, shape ({n},); got shape {shape}. "
    "A custom adversary's forward(X, y) maps the batch to one logit per row."
)


class ARLAdversary(nn.Module):
    r"""The ARL adversary :math:`f_\phi(x, y)`: an MLP on the features and the label.

    The features (flattened) and the label are concatenated and mapped to
    one logit; :math:`f_\phi` is its sigmoid. ``hidden_sizes=()`` (the
    default) is the paper's linear adversary.

    Parameters
    ----------
    input_dim : int
        Number of features (filled in by the estimator); the network sees
        ``input_dim + 1`` inputs (the label is the last).
    hidden_sizes : sequence of int, default=()
        Hidden layer widths; ``()`` is a linear (logistic) adversary.
    activation : {"relu", "tanh", "gelu", "leaky_relu"}, default="relu"
        Hidden activation.
    """

    def __init__(self, input_dim: int, hidden_sizes: Sequence[int] = (), activation: str = "relu"):
        super().__init__()
        self.body = MLP(input_dim + 1, hidden_sizes=hidden_sizes, activation=activation)

    def forward(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        features = torch.cat([X.flatten(1), y.to(X.dtype)[:, None]], dim=1)
        return self.body(features)


def adversarial_weights(
    adversary_logits: torch.Tensor, sample_weight: torch.Tensor | None = None
) -> torch.Tensor:
    r"""The adversarial part of ARL's example weights, :math:`n f_\phi / \sum_j f_\phi`.

    With :math:`f_i = \sigma(a_i)` the adversary's scores, returns
    :math:`f_i / \bar f` where :math:`\bar f` is their mean over the rows
    (weighted by ``sample_weight`` when given), so the weights average to 1;
    ARL's :math:`\lambda_\phi = 1 + n f_i / \sum_j f_j` is one plus this.
    The mean is bounded below by ``1e-4`` (as in the authors' code).
    Differentiable in the logits.

    Parameters
    ----------
    adversary_logits : Tensor of shape (n,)
        The adversary's logits :math:`a_i`.
    sample_weight : Tensor of shape (n,), default=None
        Row weights of the mean; ``None`` weighs the rows equally.

    Returns
    -------
    Tensor of shape (n,)
    """
    scores = torch.sigmoid(adversary_logits)
    if sample_weight is None:
        mean = scores.mean()
    else:
        mean = (sample_weight * scores).sum() / sample_weight.sum().clamp_min(1e-12)
    return scores / mean.clamp_min(_MIN_MEAN_SCORE)


class ARLClassifier(TwoPlayerFairNet):
    r"""Network trained against an adversary that reweights high-loss regions.

    Adversarially Reweighted Learning of Lahoti et al. [1]_. On every batch
    the adversary :math:`f_\phi(x, y)` scores each row from its features and
    label, and the learner minimises the reweighted cross-entropy

    .. math::

        J(\theta, \phi) = \frac1n \sum_{i=1}^n w_i \Big(1 + \eta\,
        \frac{f_\phi(x_i, y_i)}{\bar f_\phi}\Big)\, \ell(h_\theta(x_i), y_i),

    which the adversary maximises (:math:`w_i` the sample weights,
    :math:`\bar f_\phi` the batch mean of the scores). With :math:`\eta = 1`
    (``fairness_weight=1``) these are the example weights
    :math:`\lambda_\phi = 1 + n f_\phi / \sum_j f_\phi` of the ARL objective
    (Sec. 3 of [1]_). Both players take one simultaneous step per batch, as
    in the authors' code; for the first ``pretrain_steps`` batches only the
    learner trains, on the plain loss.

    **Sensitive features are not used.** ARL's point is fairness *without*
    demographics: ``fit`` accepts ``sensitive_features`` (so it runs in
    Pipelines, ``GridSearchCV`` and the benchmark harness, whose scorers
    need the groups) and validates them like every estimator here, recording
    ``sensitive_groups_``, but training never reads them: the fit with
    groups equals the fit without (tested), and ``sensitive_features=None``
    trains the same model without a warning. Use the groups to *evaluate*
    (worst-group accuracy or AUC).

    Parameters
    ----------
    module : nn.Module class or instance, default=MLP
        The learner (one output logit). The paper's is
        ``module__hidden_sizes=(64, 32)`` with ReLU.
    fairness_weight : float, default=1.0
        :math:`\eta`, the weight of the adversarial part of the example
        weights (≥ 0). ``1`` is ARL; ``0`` switches the adversary off
        (plain ERM); larger values lean the learner further towards the
        regions the adversary finds. ARL itself has no such knob: it is the
        study's strength parameter (see Notes).
    adversary : nn.Module class or instance or None, default=None
        The adversary. ``None`` is :class:`ARLAdversary` (configure with
        ``adversary__hidden_sizes=(...)``; the default ``()`` is the paper's
        linear adversary). A custom class gets ``input_dim`` when its
        constructor takes it; its ``forward(X, y)`` gets the batch's inputs
        and float labels and returns one logit per row.
    adversary_optimizer : torch optimizer class, default=torch.optim.Adagrad
        The adversary's optimizer (the authors': Adagrad for both players);
        its parameters via ``adversary_optimizer__*``.
    adversary_lr : float or None, default=None
        The adversary's learning rate; ``None`` uses ``lr``. The authors'
        Adult setting is ``lr=0.01``, ``adversary_lr=2`` with Adagrad and
        batches of 512 (their README); the paper tunes both rates on a grid.
    pretrain_steps : int, default=250
        Training batches of the learner alone before the game starts (the
        authors' trainer default; the paper does not state one). Counted
        over the whole fit (``partial_fit`` continues the count).
    sampling : str, default="random"
        Batch sampling (the paper trains on plain shuffled batches; the
        balanced samplers would need the groups, which ARL does not use).
    optimizer : torch optimizer class, default=torch.optim.Adagrad
        The learner's optimizer (the authors' code).
    lr : float, default=0.01
        The learner's learning rate (the authors' Adult setting).
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
    Readings of the paper and of the authors' code
    (``google-research/group_agnostic_fairness``), and choices made here:

    * **Normalisation per batch.** :math:`n` and :math:`\sum_j f_\phi` run
      over the batch (the paper states them over the training set; a
      minibatch estimate is what the authors' code computes), weighted by
      ``sample_weight`` (:func:`adversarial_weights`). The adversary's
      gradient flows through the normalisation.
    * **The update.** The learner's gradient is
      :math:`\nabla_\theta J`, the task gradient plus :math:`\eta` times the
      gradient of the reweighted part (the default gradient-reversal rule
      of ``TwoPlayerFairNet`` applied to the adversary's loss
      :math:`-\frac1n\sum_i w_i (f_i/\bar f)\,\ell_i`); the adversary
      descends that loss, i.e. ascends :math:`J` (the factor :math:`\eta`
      is left out of its step: it only rescales it). One simultaneous step
      of both players per batch, as the authors' ``tf.group`` of the two
      train ops; the paper describes alternating updates.
    * **Adversary.** The paper's adversary is linear
      (``hidden_sizes=()``). The authors' code puts a 32-unit layer
      *without* activation before the output, which computes a linear
      function too (over-parameterised, so it trains differently);
      ``adversary__hidden_sizes=(32,)`` with an activation gives a
      non-linear adversary. The adversary sees the label
      (``adversary_include_label=True`` in the authors' code).
    * **Pretraining.** The authors train the learner alone for
      ``pretrain_steps`` (flag default 250), on the unweighted loss, and
      the adversary not at all; the paper does not mention it.
    * **The study's knob.** ARL has no fairness weight. We expose
      :math:`\eta` (``fairness_weight``) because it is monotone (0 is ERM,
      1 is ARL) and comparable across datasets, where the other candidate,
      the adversary's learning rate, interacts with the optimizer (Adagrad
      damps it) and its effect is not monotone.
    * **Constraints.** ARL targets Rawlsian max-min fairness (the worst
      group's utility), not a parity criterion, so it takes no
      ``constraint``.

    References
    ----------
    .. [1] Lahoti, Beutel, Chen, Lee, Prost, Thain, Wang & Chi, "Fairness
       without Demographics through Adversarially Reweighted Learning",
       NeurIPS 2020 (``lahoti2020fairness``).

    Examples
    --------
    >>> import numpy as np
    >>> from skfairnn import ARLClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4)).astype("float32")
    >>> y = (X[:, 1] + X[:, 0] > 0.5).astype(int)
    >>> clf = ARLClassifier(pretrain_steps=2, max_epochs=2, random_state=0)
    >>> clf.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    _requires_groups = False
    _fairness_weights = ("fairness_weight",)
    _parameter_constraints = {
        **TwoPlayerFairNet._parameter_constraints,
        "adversary": [nn.Module, callable, None],
        "pretrain_steps": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        module=MLP,
        *,
        fairness_weight=1.0,
        adversary=None,
        adversary_optimizer=torch.optim.Adagrad,
        adversary_lr=None,
        pretrain_steps=250,
        sampling="random",
        optimizer=torch.optim.Adagrad,
        lr=0.01,
        **kwargs,
    ):
        super().__init__(
            module,
            fairness_weight=fairness_weight,
            adversary_optimizer=adversary_optimizer,
            adversary_lr=adversary_lr,
            sampling=sampling,
            optimizer=optimizer,
            lr=lr,
            **kwargs,
        )
        # ARL has no fairness criterion: drop the base's ``constraint`` so that it
        # is not a parameter (get_params/clone would otherwise pass it back).
        del self.constraint
        self.adversary = adversary
        self.pretrain_steps = pretrain_steps

    def initialize_module(self):
        """Build the learner ``module_`` and the adversary ``adversary_``."""
        super().initialize_module()
        adversary = ARLAdversary if self.adversary is None else self.adversary
        kwargs = self.get_params_for("adversary")
        if isinstance(adversary, type) and hasattr(self, "input_shape_"):
            signature = inspect.signature(adversary).parameters
            if "input_dim" in signature and "input_dim" not in kwargs:
                kwargs["input_dim"] = int(math.prod(self.input_shape_))
        self.adversary_ = self.initialized_instance(adversary, kwargs)
        return self

    # ------------------------------------------------------------ the hooks
    def _adversary_plays(self) -> bool:
        """The game runs once ``pretrain_steps`` batches are done; groups are not needed."""
        return self._has_fairness_term() and self._pretraining_done()

    def _pretraining_done(self) -> bool:
        """Whether ``pretrain_steps`` training batches precede this one (read from ``history``)."""
        if not self.pretrain_steps:
            return True
        done = 0
        for epoch in self.history:
            # the current batch has no "train_loss" yet; validation batches have none
            done += sum("train_loss" in batch for batch in epoch["batches"])
            if done >= self.pretrain_steps:
                return True
        return False

    def _adversary_logits(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        logits = self.adversary_(X, y)
        if logits.shape != (len(X),):
            raise ValueError(_MSG_ADVERSARY_SHAPE.format(n=len(X), shape=tuple(logits.shape)))
        return logits

    def adversary_loss(self, batch: FairBatch, logits: torch.Tensor) -> torch.Tensor:
        r"""The adversary's loss: minus the reweighted part of :math:`J`.

        :math:`-\frac1n \sum_i w_i\, (f_i / \bar f)\, \ell(h_\theta(x_i), y_i)`
        on the batch, differentiable in both players' parameters (the
        learner through :math:`\ell`, the adversary through the weights).
        """
        per_row = self.criterion_(logits, batch.y)
        adversary_logits = self._adversary_logits(batch.X, batch.y)
        weights = adversarial_weights(adversary_logits, batch.sample_weight)
        return -(batch.sample_weight * weights * per_row).mean()

    # ---------------------------------------------------------- inspection
    def example_weights(self, X, y) -> np.ndarray:
        r"""ARL's example weights :math:`1 + \eta\, n f_\phi / \sum_j f_\phi` of the rows.

        The rows are normalised together as one batch (training normalises
        per batch). ``y`` are labels in ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = torch.as_tensor(self._validate_X(X), device=self.device)
        y = self._encode_target(np.asarray(y), reset=False)
        y = torch.as_tensor(y, dtype=torch.float32, device=self.device)
        with torch.no_grad():
            weights = adversarial_weights(self._adversary_logits(X, y))
        return 1.0 + self.fairness_weight * weights.cpu().numpy().astype(np.float64)
