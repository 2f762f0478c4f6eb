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
from .._penalty import FairPenaltyClassifier
from ..modules import MLP, eval_mode
from ..utils._sklearn import Interval, StrOptions

__all__ = ["RunnerClassifier"]


class RunnerClassifier(FairPenaltyClassifier):
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
        ``F.relu``, whose input, the pre-activation, is then used). Traced
        from one forward pass of a zero batch when the module is built in
        ``fit``; ``None`` before.
    activation_calls_ : list of int or None
        For each diagnosed layer, which call of ``activation_modules_[i]``
        in one forward pass is its activation (``[0, 1]`` for one
        ``self.act`` applied after two layers; ``0`` for the layer itself).
    selected_neurons_ : dict of str to LongTensor
        Neurons selected at the last training step, per layer (read from
        ``history``, where each epoch records ``selected_neurons`` of its
        last step).

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

    _forward_records = "activations"  # of the diagnosed layers ``layers_``

    _parameter_constraints = {
        **FairPenaltyClassifier._parameter_constraints,
        "top_k": [
            Interval(Real, 0, 1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
        ],
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
        super().__init__(module, fairness_weight=fairness_weight, constraint=constraint,
                         sampling=sampling, **kwargs)  # fmt: skip
        self.top_k = top_k
        self.layers = layers
        self.importance = importance
        self.output_gap = output_gap

    def initialize_module(self):
        """Build ``module_``, find the layers to diagnose and trace their activations."""
        super().initialize_module()
        found = find_neuron_layers(self.module_, self.layers)
        for layer in found:
            n_selected(self.top_k, layer.n_neurons, layer.name)
        self.layers_ = [layer.name for layer in found]
        self.activation_modules_, self.activation_calls_ = self._trace_activation_sites()
        return self

    def _trace_activation_sites(self):
        """Pair each diagnosed layer with its activation call on one zero batch."""
        if not hasattr(self, "input_shape_"):
            return None, None
        parameter = next(self.module_.parameters())
        zeros = parameter.new_zeros((2, *self.input_shape_))
        with torch.enable_grad(), eval_mode(self.module_):
            with ActivationRecorder(self.module_, self.layers_) as recorder:
                self.network_logits(zeros)
                recorder.activations()
        sites = [recorder.sites[name] for name in self.layers_]
        return [site.module for site in sites], [site.call for site in sites]

    @property
    def selected_neurons_(self) -> dict[str, torch.Tensor]:
        """Neurons selected at the last training step, per diagnosed layer."""
        history = getattr(self, "history_", None)
        if not history or "selected_neurons" not in history[-1]:
            raise AttributeError(
                f"{type(self).__name__} has selected no neurons yet: fit it with "
                "sensitive_features and fairness_weight > 0."
            )
        return {
            name: torch.as_tensor(index, dtype=torch.long)
            for name, index in history[-1, "selected_neurons"].items()
        }

    def _diagnose(self, gap: torch.Tensor) -> list[torch.Tensor]:
        """Eq. (6)–(7): indices of the ``top_k`` neurons of each layer by importance."""
        weights = [self.module_.get_submodule(name).weight for name in self.layers_]
        grads = [torch.zeros_like(weight) for weight in weights]
        if gap.requires_grad:
            grads = torch.autograd.grad(gap, weights, retain_graph=True, materialize_grads=True)
        selected = []
        for name, weight, grad in zip(self.layers_, weights, grads):
            scores = neuron_importance(weight.detach(), grad, self.importance)
            count = n_selected(self.top_k, len(scores), name)
            selected.append(torch.topk(scores, count, sorted=False).indices)
        return selected

    def _uses_output_gap(self) -> bool:
        if self.output_gap is None:
            return self.constraint != "demographic_parity"
        return bool(self.output_gap)

    def fairness_loss(self, batch, forward):
        """Neuron stabilizing loss (Eq. 8–10) on the neurons diagnosed on this batch."""
        gap = self.relaxed_gap(batch, forward.logits)
        if forward.activations is None:  # a forward that did not record activations
            return gap if self._uses_output_gap() else None
        selected = self._diagnose(gap)
        loss = gap if self._uses_output_gap() else forward.logits.new_zeros(())
        for name, index in zip(self.layers_, selected):
            values = neuron_activations(forward.activations[name]).index_select(1, index)
            delta = neuron_discrimination(
                values, batch.y, batch.group, batch.n_groups, self.constraint, batch.sample_weight
            )
            loss = loss + delta.mean()
        forward.records["selected_neurons"] = dict(zip(self.layers_, selected))
        return loss
