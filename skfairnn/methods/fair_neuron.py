# SPDX-License-Identifier: BSD-3-Clause
"""FairNeuron: path analysis, biased-sample detection and selective dropout retraining."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import torch
from skorch import NeuralNet
from skorch.dataset import unpack_data
from torch import nn

from .._base import FairNetClassifier, _seeded
from .._paths import (
    CONTRIBUTIONS,
    activation_paths,
    linear_chain,
    path_signatures,
    rare_path_mask,
    rows_per_chunk,
)
from ..exceptions import FairnessWarning
from ..modules import MLP
from ..utils._sklearn import Interval, StrOptions

__all__ = ["FairNeuronClassifier"]

DETECTIONS = ("frequency", "group_frequency", "flip")
DROPOUT_NEURONS = ("path", "layer")
RETRAINS = ("finetune", "scratch")

_MSG_NO_GROUPS = (
    "FairNeuronClassifier(detection='group_frequency') was fitted without "
    "sensitive_features, so path sets are counted over all rows (detection='frequency')."
)


@contextmanager
def selective_dropout(module: nn.Module, layers: Sequence[nn.Linear], mask: torch.Tensor, p: float):
    """Drop, in training mode, only the masked hidden neurons of each row.

    While active, the input of ``layers[l + 1]`` (the activation of hidden
    layer ``l``) is multiplied by :math:`m / (1 - p)` on the neurons where
    ``mask`` is set, :math:`m \\sim \\mathrm{Bernoulli}(1 - p)`, and left
    unchanged elsewhere: inverted dropout restricted to the selected neurons
    of each row. Rows whose mask is empty are untouched.

    Parameters
    ----------
    module : nn.Module
        The network (dropout acts only while ``module.training``).
    layers : sequence of nn.Linear
        Its layer chain (:func:`skfairnn._paths.linear_chain`).
    mask : Tensor of shape (n, sum of the hidden widths)
        Selected neurons per row, hidden layers side by side.
    p : float in [0, 1)
        Dropout probability.
    """
    widths = [layer.out_features for layer in layers[:-1]]
    bounds = np.cumsum([0, *widths])
    selected = mask.to(torch.bool)

    def hook(index):
        def drop(_module, args):
            if not module.training or p == 0:
                return None
            rows = selected[:, bounds[index] : bounds[index + 1]]
            keep = torch.rand(rows.shape, device=rows.device) >= p
            factor = torch.where(rows, keep.to(args[0].dtype) / (1.0 - p), 1.0)
            return (args[0] * factor.to(args[0].device), *args[1:])

        return drop

    handles = [layers[i + 1].register_forward_pre_hook(hook(i)) for i in range(len(widths))]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


class FairNeuronClassifier(FairNetClassifier):
    r"""Network repaired by FairNeuron: slice paths, find biased samples, retrain them with dropout.

    A fit has three stages ([1]_, Sec. 4; the authors' ``FN/FairNeuron.py``):

    1. *Training.* The network is trained for ``max_epochs`` (plain
       empirical risk minimisation).
    2. *Neural network slicing and sample separation.* Every training row
       gets its activation path (:mod:`skfairnn._paths`): from the output
       neuron with the largest value backwards, each path neuron :math:`j`
       keeps its incoming synapses in decreasing order of contribution
       :math:`w_{jk} s_k` until they sum to :math:`\gamma z_j`. A row is
       *biased* when (``detection``)

       - ``"frequency"`` (the authors' code): its path set is rare, i.e. it
         occurs at most :math:`\max(\theta\, c_{\max}, 1)` times, with
         :math:`c_{\max}` the count of the most frequent path set;
       - ``"group_frequency"``: the same, counted within the row's group of
         ``sensitive_features``;
       - ``"flip"``: its path set changes when the sensitive attribute (the
         column ``sensitive_column`` of ``X``) is swapped for the other value;
         the neurons on exactly one of the two paths are its *conflicting
         neurons*.
    3. *Selective retraining* (the adversary game between accuracy and
       fairness, played per neuron): ``retrain_epochs`` more epochs in which
       the selected neurons of the biased rows are dropped with probability
       ``dropout`` (:func:`selective_dropout`); benign rows train without
       dropout.

    Parameters
    ----------
    module : nn.Module class or instance, default=MLP
        A feed-forward stack of ``nn.Linear`` layers applied in registration
        order (the default MLP; the authors' nets have three hidden layers of
        32, Census 128, set with ``module__hidden_sizes``).
    gamma : float in (0, 1], default=0.9
        :math:`\gamma`, the share of a neuron's value its path synapses must
        reach (the code's default 0.9; its grid 0.6–0.95).
    theta : float in [0, 1], default=1e-3
        :math:`\theta`, the rarity threshold of ``"frequency"`` detection
        (the code's default; its grid 1e-4–0.1, log-spaced).
    dropout : float in [0, 1), default=0.1
        Dropout probability on the selected neurons (the code's 0.1).
    detection : {"frequency", "group_frequency", "flip"}, default="frequency"
        Which rows are biased (see above). ``"frequency"`` is what the code
        does and uses no sensitive attribute at all: the authors bring the
        attribute in only through choosing :math:`(\theta, \gamma)` by a
        fairness objective on validation data, which here is a
        :class:`~sklearn.model_selection.GridSearchCV` over ``theta`` and
        ``gamma`` with :func:`~skfairnn.metrics.make_fairness_scorer`.
    sensitive_column : int, str or None, default=None
        For ``detection="flip"``: the column of ``X`` holding a two-valued
        sensitive attribute (an index, or a name of ``feature_names_in_``);
        flipping swaps its two values. Required by ``"flip"`` (a
        ``ValueError`` otherwise), unused by the other detections.
        ``sensitive_features`` need not be a column of ``X`` in skfairnn, so
        the column is named explicitly rather than guessed.
    dropout_neurons : {"path", "layer"}, default="path"
        Which neurons of a biased row are dropped: ``"path"`` its own path
        neurons (``"flip"``: its conflicting neurons), the paper's selective
        neurons; ``"layer"`` every neuron of the first hidden layer, which is
        what the code does (its nets' only dropout follows ``fc1`` and is
        switched on for the biased batches).
    contribution : {"pre", "post"}, default="pre"
        Source value of a synapse's contribution: the source layer's output
        before its activation (the code's hooks read the ``nn.Linear``
        outputs) or after it (the signal the synapse carries).
    retrain : {"finetune", "scratch"}, default="finetune"
        Retrain the diagnosed network (``"finetune"``), or a freshly
        initialised one as the code does (``"scratch"``). The path neurons
        are neurons of the diagnosed network, so ``"scratch"`` requires
        ``dropout_neurons="layer"``.
    retrain_epochs : int or None, default=None
        Epochs of stage 3; ``None`` is ``max_epochs`` (the code trains both
        stages for 50 epochs).
    **kwargs
        Any :class:`~skfairnn.FairNetClassifier` parameter.

    Attributes
    ----------
    layers_ : list of str
        Names of the ``nn.Linear`` layers of the path analysis.
    biased_samples_ : ndarray of bool, shape (n_samples,)
        Training rows found biased in stage 2.
    biased_fraction_ : float
        Their share of the training rows.
    n_path_sets_ : int
        Number of distinct path sets among the training rows.
    neuron_counts_ : dict of str to ndarray
        Per hidden layer, how many biased rows drop each neuron.

    Notes
    -----
    Readings of the paper and of its code [2]_ (see
    ``notes/reference-implementations.md`` §7):

    - The code's nets are trained with MSE on the label and Adam at lr 1e-2;
      the loss here is skfairnn's ``criterion`` (BCE by default).
    - The code repeats stage 2–3 ten times from the same trained net and
      keeps each retrained net; one repetition is done here.
    - NNSlicer's profiling step (contributions relative to mean activations),
      which RUNNER's description of FairNeuron mentions, is not in the code
      and not done here: contributions use the sample's own values.
    - With more than two groups, ``"group_frequency"`` counts within each
      group; ``"flip"`` needs a two-valued column.
    - ``history_`` holds the epochs of the retraining (stage 3) only, so
      an epoch chosen from it (the benchmark protocol's selection) is a
      repaired network, never one of the first training.
    - ``partial_fit`` continues training without a new diagnosis.

    References
    ----------
    .. [1] Gao, Zhai, Ma, Shen, Chen & Wang, "FairNeuron: Improving Deep
       Neural Network Fairness with Adversary Games on Selective Neurons",
       ICSE 2022, pp. 921–933.
    .. [2] https://github.com/Antimony5292/FairNeuron (``FN/FairNeuron.py``,
       ``FN/utils/path_analysis.py``, ``FN/Evaluate.py``).

    Examples
    --------
    >>> from skfairnn import FairNeuronClassifier
    >>> from skfairnn.datasets import make_biased_classification
    >>> X, y, A = make_biased_classification(400, random_state=0)
    >>> clf = FairNeuronClassifier(max_epochs=2, theta=0.1, random_state=0)
    >>> clf.fit(X, y, sensitive_features=A).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        **FairNetClassifier._parameter_constraints,
        "gamma": [Interval(Real, 0, 1, closed="right")],
        "theta": [Interval(Real, 0, 1, closed="both")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "detection": [StrOptions(set(DETECTIONS))],
        "sensitive_column": [Interval(Integral, None, None, closed="neither"), str, None],
        "dropout_neurons": [StrOptions(set(DROPOUT_NEURONS))],
        "contribution": [StrOptions(set(CONTRIBUTIONS))],
        "retrain": [StrOptions(set(RETRAINS))],
        "retrain_epochs": [Interval(Integral, 0, None, closed="left"), None],
    }
    _requires_groups = False
    _eager_step_reason = (
        "its path analysis traces the module's nn.Linear layers, which the compiled module hides"
    )
    _graph_step_reason = "its training step switches between its own phases on the host"

    def __init__(
        self,
        module=MLP,
        *,
        gamma=0.9,
        theta=1e-3,
        dropout=0.1,
        detection="frequency",
        sensitive_column=None,
        dropout_neurons="path",
        contribution="pre",
        retrain="finetune",
        retrain_epochs=None,
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.gamma = gamma
        self.theta = theta
        self.dropout = dropout
        self.detection = detection
        self.sensitive_column = sensitive_column
        self.dropout_neurons = dropout_neurons
        self.contribution = contribution
        self.retrain = retrain
        self.retrain_epochs = retrain_epochs

    # ------------------------------------------------------------ checks
    def _check_options(self) -> None:
        if self.retrain == "scratch" and self.dropout_neurons == "path":
            raise ValueError(
                "retrain='scratch' draws a new network whose neurons are not the ones the "
                "path analysis selected; use dropout_neurons='layer' with it (the authors' "
                "code), or retrain='finetune'."
            )
        if self.detection == "flip" and self.sensitive_column is None:
            raise ValueError(
                "detection='flip' swaps the sensitive attribute in X, so it needs "
                "sensitive_column (the index or name of that column of X); got None."
            )

    def _column_index(self) -> int:
        """``sensitive_column`` as an index into the validated ``X``."""
        column, n_features = self.sensitive_column, self.n_features_in_
        if isinstance(column, str):
            names = getattr(self, "feature_names_in_", None)
            if names is None or column not in list(names):
                raise ValueError(
                    f"sensitive_column={column!r} is not a column of X "
                    f"(feature names: {None if names is None else list(names)})."
                )
            return list(names).index(column)
        if not -n_features <= column < n_features:
            raise ValueError(
                f"sensitive_column={column} is out of range for X with {n_features} columns."
            )
        return column % n_features

    # ------------------------------------------------------------ training
    def initialize_module(self):
        """Build ``module_`` and check that it is a chain of ``nn.Linear`` layers."""
        super().initialize_module()
        names = {id(m): name for name, m in self.module_.named_modules()}
        self.layers_ = [names[id(layer)] for layer in linear_chain(self.module_)]
        return self

    def fit(self, X, y, *, sensitive_features=None, sample_weight=None):
        """Train, find the biased rows, retrain them with selective dropout.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numerical inputs.
        y : array-like of shape (n_samples,)
            Binary labels.
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k), default=None
            Groups, used by ``detection="group_frequency"`` and by balanced
            ``sampling``; the other detections do not need them.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the task loss.

        Returns
        -------
        self
        """
        self._check_parameter_table()
        self._check_options()
        if self.detection == "group_frequency" and sensitive_features is None:
            warnings.warn(_MSG_NO_GROUPS, FairnessWarning, stacklevel=2)
        dataset = self._pack(X, y, sensitive_features, sample_weight, reset=True)
        column = self._column_index() if self.detection == "flip" else None
        if column is not None:  # checked before any training
            values = torch.unique(dataset.tensors["X"][:, column])
            if len(values) != 2:
                raise ValueError(
                    f"sensitive_column={self.sensitive_column!r} must hold exactly two values "
                    f"to be flipped; it holds {len(values)}."
                )
        epochs = self.max_epochs if self.retrain_epochs is None else self.retrain_epochs
        with _seeded(dataset.seed, self.device):
            NeuralNet.fit(self, dataset, dataset.y)
            mask = self._diagnose(dataset.tensors, column)
            if self.retrain == "scratch":
                self.initialize()
            else:  # history_ holds the retraining's epochs, as after a retraining from scratch
                self.initialize_history()
            dataset.tensors["dropout_mask"] = mask
            NeuralNet.partial_fit(self, dataset, dataset.y, epochs=epochs)
        return self

    def _diagnose(self, tensors: Mapping, column: int | None) -> torch.Tensor:
        """Stage 2: set the diagnosis attributes; return each row's neurons to drop."""
        layers = linear_chain(self.module_)
        X = tensors["X"]
        size = rows_per_chunk(layers)
        signatures, masks, changed = [], [], []
        if column is not None:
            low, high = torch.unique(X[:, column])
        for start in range(0, len(X), size):
            rows = X[start : start + size]
            paths = activation_paths(self.module_, layers, rows, self.gamma, self.contribution)
            masks.append(paths.neuron_mask())
            signatures += path_signatures(paths)
            if column is not None:
                flipped = rows.clone()
                flipped[:, column] = torch.where(rows[:, column] == low, high, low)
                other = activation_paths(
                    self.module_, layers, flipped, self.gamma, self.contribution
                )
                changed += [a != b for a, b in zip(path_signatures(paths), path_signatures(other))]
                masks[-1] = masks[-1] ^ other.neuron_mask()
        neurons = torch.cat(masks)
        if self.detection == "flip":
            biased = np.asarray(changed, dtype=bool)
        else:
            groups = tensors["group"].cpu().numpy() if self.detection == "group_frequency" else None
            biased = rare_path_mask(signatures, self.theta, groups)
        if self.dropout_neurons == "layer":
            neurons = torch.zeros_like(neurons)
            neurons[:, : layers[0].out_features] = True
        neurons &= torch.as_tensor(biased, device=neurons.device).unsqueeze(1)
        self.biased_samples_ = biased
        self.biased_fraction_ = float(biased.mean()) if len(biased) else 0.0
        self.n_path_sets_ = len(set(signatures))
        bounds = np.cumsum([0, *(layer.out_features for layer in layers[:-1])])
        counts = neurons.sum(dim=0).cpu().numpy()
        self.neuron_counts_ = {
            name: counts[lo:hi] for name, lo, hi in zip(self.layers_, bounds[:-1], bounds[1:])
        }
        return neurons.to(torch.float32)

    def train_step_single(self, batch, **fit_params):
        """One step; in stage 3 the selected neurons are dropped (:func:`selective_dropout`)."""
        Xi, _ = unpack_data(batch)
        mask = Xi.get("dropout_mask") if isinstance(Xi, Mapping) else None
        if mask is None:
            return super().train_step_single(batch, **fit_params)
        mask = torch.as_tensor(mask, device=self.device)
        with selective_dropout(self.module_, linear_chain(self.module_), mask, self.dropout):
            return super().train_step_single(batch, **fit_params)
