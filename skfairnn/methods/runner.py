# SPDX-License-Identifier: BSD-3-Clause
"""RUNNER: importance-based neuron diagnosis and neuron stabilizing retraining."""

from __future__ import annotations

from numbers import Integral, Real

import torch

from .._activations import (
    IMPORTANCES,
    ActivationRecorder,
    find_neuron_layers,
    n_selected,
    neuron_activations,
    neuron_discrimination,
    neuron_importance,
)
from .._base import FairNetClassifier
from ..gaps import CONSTRAINTS, fairness_gap
from ..modules import MLP
from ..utils._sklearn import Interval, StrOptions

__all__ = ["RunnerClassifier"]


class RunnerClassifier(FairNetClassifier):
    r"""Network repaired by RUNNER: diagnose unfair neurons, stabilise them, every step.

    At every training step (Algorithm 1 of [1]_), on the current batch:

    1. *Importance-based neuron diagnosis.* The relaxed gap of the
       probabilities :math:`p = \sigma(f(x))` (Eq. 3–4; ``constraint``) is
       differentiated w.r.t. the weights of each diagnosed layer and every
       neuron :math:`m` gets the unfairness importance (Eq. 6)

       .. math::

           \mathrm{UI}^l_m = \sum_j \Big(w^l_{mj}\,
           \frac{\partial\,\mathrm{Gap}}{\partial w^l_{mj}}\Big)^2 .

       The ``top_k`` neurons of each layer by :math:`\mathrm{UI}` form
       :math:`\Omega^l_k` (Eq. 7). The importances are constants (detached).
    2. *Neuron stabilizing retraining.* The loss is (Eq. 8–10)

       .. math::

           L = L_{cls} + \lambda \sum_l \frac{1}{|\Omega^l_k|}
               \sum_{m\in\Omega^l_k} \delta(m, l),\qquad
           \delta(m, l) = \big|E_{x\sim P_0} f^l_m(x) - E_{x\sim P_1} f^l_m(x)\big|,

       with :math:`f^l_m` the neuron's post-activation output, batch means
       per group; for ``"equalized_odds"`` :math:`\delta` is summed over the
       two label cells :math:`y \in \{0, 1\}` (Eq. 10), for
       ``"equal_opportunity"`` it is the :math:`y = 1` term.

    Diagnosis and repair share one forward pass: the activations are captured
    by forward hooks and :math:`\partial\,\mathrm{Gap}/\partial W` comes from
    ``torch.autograd.grad(..., retain_graph=True)`` on the same graph, so a
    step costs one forward and two backward passes (no copy of the model).
    Activations are captured per activation *call*: each layer's activation
    is the output of the activation call that consumes the layer's output in
    that pass, so one activation module may serve several layers (see
    :class:`~skfairnn._activations.ActivationRecorder`).

    Parameters
    ----------
    module : nn.Module class or instance, default=MLP
        Network with one output logit.
    fairness_weight : float, default=1.0
        :math:`\lambda`. The authors' README uses 0.3 (ΔDP) and 1.0 (ΔEO) on
        Adult.
    top_k : float in (0, 1] or int, default=0.1
        Neurons kept per layer: a float is a fraction of the layer
        (``floor(top_k * n_neurons)``, at least one), an int a count (so
        ``1`` is one neuron, ``1.0`` all of them). The paper's tables use
        10% on Adult.
    constraint : str, default="demographic_parity"
        One of "demographic_parity", "equalized_odds", "equal_opportunity".
        Gap used for the diagnosis and the cells of :math:`\delta`.
    layers : list of str or None, default=None
        Names (keys of ``dict(module.named_modules())``) of the
        ``nn.Linear``/``nn.Conv2d`` layers to diagnose. ``None``: every such
        layer except the last one (the output layer), i.e. the hidden layers,
        as in the authors' code. Conv layers have one neuron per output
        channel (weights aggregated over input channels and kernel,
        activations averaged over space).
    importance : {"elementwise", "neuron"}, default="elementwise"
        ``"elementwise"`` (the authors' code): :math:`\sum_j (w_{mj}
        g_{mj})^2`; ``"neuron"``: :math:`(\sum_j w_{mj} g_{mj})^2`, the
        first-order Taylor estimate of Eq. (5) for removing neuron :math:`m`.
    output_gap : bool or None, default=None
        Also add :math:`\lambda\,\mathrm{Gap}` (the relaxed gap of the
        outputs). ``None`` follows the authors' code: added for
        ``"equalized_odds"`` and ``"equal_opportunity"``, not for
        ``"demographic_parity"``. The paper's Eq. (10) has no such term.
    sampling : str, default="auto"
        ``"auto"`` is the papers' loop for ``constraint``: equal draws per
        group for demographic parity, per (group, label) cell for equalized
        odds and equal opportunity (the paper's ΔDP and ΔEO loops). Without it the rare label can
        vanish from batches and the penalty collapses the network (see the
        robustness study in the README); ``prior_correction`` then moves the
        decision back to the data's prior.
    **kwargs
        Any :class:`~skfairnn.FairNetClassifier` parameter.

    Attributes
    ----------
    layers_ : list of str
        Names of the diagnosed layers.
    activation_modules_ : list of str or None
        For each diagnosed layer, the module whose output is the activation:
        the activation module whose call consumes the layer's output in the
        forward pass, or the layer itself where none does (e.g. a functional
        ``F.relu``, whose input, the pre-activation, is then used). Set at
        every training step that records activations; ``None`` before.
    activation_calls_ : list of int or None
        For each diagnosed layer, which call of ``activation_modules_[i]``
        in one forward pass is its activation (``[0, 1]`` for one
        ``self.act`` applied after two layers; ``0`` for the layer itself).
    selected_neurons_ : dict of str to LongTensor
        Neurons selected at the last training step, per layer.

    Notes
    -----
    Readings of the paper and of its code [2]_ (see
    ``notes/reference-implementations.md`` §4):

    - The diagnosis runs on every training batch (Algorithm 1), with
      weights only (no biases) of the hidden layers.
    - Eq. (6) writes :math:`(\partial \mathrm{Gap}/\partial w_m \cdot
      w_m)^2` for a vector :math:`w_m`; the code squares per weight and sums
      per neuron (default ``importance="elementwise"``).
    - Eq. (9)–(10) sum :math:`\delta` over neurons; the code averages over
      the selected neurons of each layer and sums over layers. The mean is
      used here, so :math:`\lambda` values of the code transfer.
    - Activations are post-activation (post-ReLU), as in the code. They are
      paired with the layers per call in the traced forward pass, not by
      the order in which modules are registered.
    - With more than two groups, the gap and :math:`\delta` use the worst
      pair: ``max - min`` over the groups present in the batch of the
      (cell) means, which is :math:`|E_0 - E_1|` for two groups.
    - :math:`\mathrm{Gap}` and the group means use ``sample_weight``.

    References
    ----------
    .. [1] Li, Cao, Zhang, Zhao, Huang, Liu, Guo & Liu, "RUNNER: Responsible
       UNfair NEuron Repair for Enhancing Deep Neural Network Fairness",
       ICSE 2024 (bib key ``li2024runner``).
    .. [2] https://github.com/Ace0001/RUNNER (``utils.py``,
       ``NeuronImportance_GapReg``).

    Examples
    --------
    >>> from skfairnn import RunnerClassifier
    >>> from skfairnn.datasets import make_biased_classification
    >>> X, y, A = make_biased_classification(400, random_state=0)
    >>> clf = RunnerClassifier(fairness_weight=1.0, top_k=0.1, max_epochs=3, random_state=0)
    >>> clf.fit(X, y, sensitive_features=A).predict(X[:3]).shape
    (3,)
    """

    _fairness_weights = ("fairness_weight",)
    _parameter_constraints = {
        **FairNetClassifier._parameter_constraints,
        "fairness_weight": [Interval(Real, 0, None, closed="left")],
        "top_k": [
            Interval(Real, 0, 1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
        ],
        "constraint": [StrOptions(set(CONSTRAINTS))],
        "layers": [list, tuple, None],
        "importance": [StrOptions(set(IMPORTANCES))],
        "output_gap": ["boolean", None],
    }

    def __init__(
        self,
        module=MLP,
        *,
        fairness_weight=1.0,
        top_k=0.1,
        constraint="demographic_parity",
        layers=None,
        importance="elementwise",
        output_gap=None,
        sampling="auto",
        **kwargs,
    ):
        super().__init__(module, sampling=sampling, **kwargs)
        self.fairness_weight = fairness_weight
        self.top_k = top_k
        self.constraint = constraint
        self.layers = layers
        self.importance = importance
        self.output_gap = output_gap

    def initialize_module(self):
        """Build ``module_`` and find the layers to diagnose (checks ``layers`` and ``top_k``)."""
        super().initialize_module()
        found = find_neuron_layers(self.module_, self.layers)
        for layer in found:
            n_selected(self.top_k, layer.n_neurons, layer.name)
        self.layers_ = [layer.name for layer in found]
        self.activation_modules_ = None
        self.activation_calls_ = None
        self.selected_neurons_ = {}
        self._activations = None
        return self

    def _records_activations(self) -> bool:
        return (
            bool(self.fairness_weight)
            and getattr(self, "sensitive_groups_", None) is not None
            and self.module_.training
            and torch.is_grad_enabled()
        )

    def infer(self, x, **fit_params):
        """Forward pass; in training also captures the diagnosed layers' activations."""
        if not self._records_activations():
            return super().infer(x, **fit_params)
        with ActivationRecorder(self.module_, self.layers_) as recorder:
            logits = super().infer(x, **fit_params)
            self._activations = recorder.activations()
        sites = [recorder.sites[name] for name in self.layers_]
        self.activation_modules_ = [site.module for site in sites]
        self.activation_calls_ = [site.call for site in sites]
        return logits

    def _diagnose(self, gap: torch.Tensor) -> list[torch.Tensor]:
        """Eq. (6)–(7): indices of the ``top_k`` neurons of each layer by importance."""
        weights = [self.module_.get_submodule(name).weight for name in self.layers_]
        grads = [None] * len(weights)
        if gap.requires_grad:
            grads = torch.autograd.grad(gap, weights, retain_graph=True, allow_unused=True)
        selected = []
        for name, weight, grad in zip(self.layers_, weights, grads):
            grad = torch.zeros_like(weight) if grad is None else grad
            scores = neuron_importance(weight.detach(), grad, self.importance)
            count = n_selected(self.top_k, len(scores), name)
            selected.append(torch.topk(scores, count, sorted=False).indices)
        return selected

    def _uses_output_gap(self) -> bool:
        if self.output_gap is None:
            return self.constraint != "demographic_parity"
        return bool(self.output_gap)

    def fairness_loss(self, batch, y_logits, training):
        """Neuron stabilizing loss (Eq. 8–10) on the neurons diagnosed on this batch."""
        activations, self._activations = self._activations, None
        gap = fairness_gap(
            self.constraint,
            torch.sigmoid(y_logits),
            batch.y,
            batch.group,
            batch.n_groups,
            batch.sample_weight,
        )
        if activations is None:  # forward pass not recorded (not a training step)
            return gap if self._uses_output_gap() else None
        selected = self._diagnose(gap)
        loss = gap if self._uses_output_gap() else y_logits.new_zeros(())
        for name, index in zip(self.layers_, selected):
            values = neuron_activations(activations[name]).index_select(1, index)
            delta = neuron_discrimination(
                values, batch.y, batch.group, batch.n_groups, self.constraint, batch.sample_weight
            )
            loss = loss + delta.mean()
        self.selected_neurons_ = dict(zip(self.layers_, selected))
        return loss
