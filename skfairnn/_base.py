# SPDX-License-Identifier: BSD-3-Clause
"""``FairNetClassifier``: the skorch network every skfairnn method builds on.

``fit(X, y, *, sensitive_features=None, sample_weight=None)`` validates the
inputs once, label-encodes ``y``, encodes the groups (:mod:`skfairnn.groups`),
packs everything into one :class:`~skfairnn._batches.FairDataset` and hands it
to skorch's own ``fit``. skorch then runs its loop; the only step skfairnn
changes is ``train_step_single``, which is the method contract (see
``docs/architecture.rst``)::

    batch   = FairBatch(X, y, group, sample_weight, n_groups)
    forward = self.training_forward(batch)          # logits (+ cells / activations)
    loss    = self.get_loss(forward.logits, y, X)   # weighted task loss
    loss   += self.fairness_penalty(batch, forward) # the method's penalty, or None
    loss.backward()

Batches come from :mod:`skfairnn.sampling` through skorch's
``iterator_train`` (:class:`~skfairnn._batches.TrainingBatches`), cut from
tensors held on the training device. Logging the penalty, checking that the
loss stays finite and fitting the decision offset are default callbacks.
Nothing a fit needs between steps is stored on the estimator.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet
from skorch.dataset import unpack_data
from skorch.utils import to_tensor
from torch import nn

from ._batches import EvaluationBatches, FairDataset, HostRows, TrainingBatches
from ._callbacks import FiniteLoss, StepLog
from ._compile import compile_problem, compiled_function, is_compiled
from ._decision import PRIOR_CORRECTIONS, DecisionRule
from ._forward import TrainingForward
from ._step_graphs import active_step_graphs, step_graphs
from .exceptions import CompileWarning, FairnessWarning
from .groups import EncodedGroups, check_at_least_two_groups, encode_sensitive_features
from .modules import MLP, as_logits
from .sampling import SAMPLING_OPTIONS, label_prior, resolve_sampling
from .utils._sklearn import Interval, StrOptions, validate_parameter_constraints
from .utils._validation import check_sample_weight

__all__ = ["FairNetClassifier", "FairBatch"]

_MSG_NO_GROUPS = (
    "{name}.fit was called without sensitive_features, so it trains without its "
    "fairness term (plain empirical risk minimisation). Pass sensitive_features=... "
    "(with metadata routing enabled inside a Pipeline/GridSearchCV) to train fairly."
)
_MSG_EAGER = "{name}: compile=True is ignored and the network trains eagerly: {reason}."
_MSG_FIT_PARAMS = (
    "{name}.partial_fit got unexpected keyword arguments {names}; it takes "
    "sensitive_features and sample_weight."
)


@dataclass
class FairBatch:
    """One training batch as the method's hooks see it.

    Attributes
    ----------
    X : Tensor
        Inputs of the batch.
    y : Tensor of shape (n,)
        Encoded labels (0/1) as float.
    group : LongTensor of shape (n,)
        Group codes (indices into ``sensitive_groups_``).
    sample_weight : Tensor of shape (n,)
        Sample weights, normalised to mean 1 over the rows of positive weight.
    n_groups : int
        Number of groups in the training data.
    host : mapping of str to Tensor or None, default=None
        CPU copies of ``group``, ``y`` and ``sample_weight`` (same keys), when
        those live on an accelerator (a dict, or the
        :class:`~skfairnn._batches.HostRows` that gathers them when read): the per-cell forward
        (:func:`~skfairnn._forward.forward_by_cell`) reads the cells' sizes
        from them, so the step never waits for the device. ``None``: the
        tensors above are read (no wait when they are on the CPU).
    """

    X: torch.Tensor
    y: torch.Tensor
    group: torch.Tensor
    sample_weight: torch.Tensor
    n_groups: int
    host: Mapping[str, torch.Tensor] | HostRows | None = None


def _host_columns(Xi, yi, *, on_device: bool) -> Mapping[str, torch.Tensor] | HostRows | None:
    """CPU copies of a batch's ``group``, ``y`` and ``sample_weight`` (:attr:`FairBatch.host`).

    The ones the batch carries under ``"host"`` (what
    :class:`~skfairnn._batches.TrainingBatches` yields when the data lives on
    an accelerator); otherwise, for a step on an accelerator, the batch's own
    columns when they arrive as CPU tensors (the step moves them). ``None``
    when there are none or nothing has to be waited for (a step on the CPU).
    """
    if "host" in Xi:
        return Xi["host"]
    if not on_device:
        return None
    columns = {"group": Xi["group"], "y": yi, "sample_weight": Xi["sample_weight"]}
    if all(isinstance(v, torch.Tensor) and v.device.type == "cpu" for v in columns.values()):
        return columns
    return None


def _to_numpy(X):
    """torch tensors (any device) to numpy; everything else unchanged."""
    if isinstance(X, torch.Tensor):
        return X.detach().cpu().numpy()
    return X


def _on_device(value, device) -> torch.Tensor:
    """``value`` as a tensor on ``device``: ``Tensor.to`` for tensors, skorch's ``to_tensor`` else.

    The training batches are tensors already on the device; ``to_tensor``'s
    type dispatch costs more than the no-op move in every step.
    """
    if isinstance(value, torch.Tensor):
        return value.to(device)
    return to_tensor(value, device=device)


def _dense_float32(X) -> np.ndarray:
    """Inputs as a dense float32 array (sparse one-hot encodings are densified)."""
    if sp.issparse(X):
        X = X.toarray()
    return np.ascontiguousarray(X, dtype=np.float32)


def _fit_seed(random_state) -> int | None:
    """One seed per fit drawn from ``random_state`` (``None`` leaves torch unseeded)."""
    if random_state is None:
        return None
    return int(check_random_state(random_state).randint(2**31 - 1))


@contextmanager
def _seeded(seed: int | None, device):
    """Fix torch's global RNG (initialisation, dropout) from ``seed`` during a fit."""
    if seed is None:
        yield
        return
    devices = [torch.cuda.current_device()] if str(device).startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class FairNetClassifier(ClassifierMixin, NeuralNet):
    """Binary neural-network classifier with a pluggable fairness penalty.

    The base of every skfairnn in-processing method; on its own it trains
    without a fairness term (see :class:`~skfairnn.ERMClassifier`). It is a
    skorch :class:`~skorch.NeuralNet`, so skorch's callbacks, ``history``,
    ``set_params(module__*=...)``, ``save_params`` and devices all work.

    Parameters
    ----------
    module : nn.Module class or instance, default=MLP
        Maps a batch of ``X`` to one logit per row. A class gets its input
        size from the data: ``input_dim`` (number of features) or
        ``in_channels`` (``X.shape[1]`` for images) if its constructor takes
        it. Configure with ``module__hidden_sizes=(64,)`` etc.
    sampling : {"random", "group_balanced", "cell_balanced", "dp_resampled", "auto"}, \
            default="random"
        How training batches are drawn (:mod:`skfairnn.sampling`;
        ``"dp_resampled"``: cells sized as if the label were independent of
        the group, Kamiran–Calders resampling); ``"auto"``
        is the papers' loop for the method's ``constraint`` (group-balanced
        for demographic parity, cell-balanced for equalized odds and equal
        opportunity, random without a constraint).
    prior_correction : {"max_accuracy", "prior_shift", "match_rate"} or None, \
            default="max_accuracy"
        How the decision accounts for the data's prior when the loss saw
        another one (balanced batches, sample weights, a fairness penalty):
        one offset added to every row's logit, the same for all rows (no
        groups at predict time), fitted on the training rows after each
        epoch (:mod:`skfairnn._decision`). ``"max_accuracy"`` takes the
        offset with the best training accuracy; ``"prior_shift"`` applies
        Bayes' rule for the change from the sampled prior to the data's;
        ``"match_rate"`` predicts positives on the training rows at their
        base rate; ``None`` thresholds the raw logit at 0 (probability 0.5,
        the papers' code). The default was chosen on the robustness study
        (README; six datasets, three stress sets, 3–10 seeds): averaged over
        the in-processing methods at their default weights it costs 0.7–2.6
        accuracy points against ERM at 0.5 and never collapsed, where 0.5
        costs 6.3–8.0 points (balanced batches over-predict positives), and
        ``"prior_shift"`` collapses to one class in a third of the fits at
        λ=3 (the penalty shrinks the logits, so the Bayes shift overshoots)
        and ``"match_rate"`` costs 1.5–3.4 points and widens the gap on
        data with rare positives. ``decision_function``,
        ``predict_proba`` and ``predict`` all include the offset, so
        ``predict`` agrees with ``decision_function > 0`` and with the
        argmax of ``predict_proba``. What the scores mean: with random
        batches and ``None`` or ``"prior_shift"``, ``predict_proba``
        estimates P(y=1 | x) (up to the penalty's distortion); with balanced
        batches the raw score is the probability under the balanced prior,
        and the offset moves its 0.5 point to the chosen decision, so the
        probabilities are ranked correctly but not calibrated —
        :class:`~sklearn.calibration.CalibratedClassifierCV` calibrates them,
        and :class:`~sklearn.model_selection.TunedThresholdClassifierCV`
        tunes the threshold for another objective.
    batches_per_epoch : int, default=None
        Batches per epoch; ``None`` is one pass over the data. The papers'
        Adult loop is ``batches_per_epoch=100`` with ``batch_size=2000``.
    random_state : int, RandomState instance or None, default=None
        Seeds the module's initialisation, dropout and the batch order.
    criterion : loss class, default=nn.BCEWithLogitsLoss
        Task loss on logits; it is built with ``reduction="none"`` so that
        ``sample_weight`` weights each row.
    optimizer : torch optimizer class, default=torch.optim.Adam
    lr : float, default=1e-3
    max_epochs : int, default=10
    batch_size : int, default=256
    train_split : callable or None, default=None
        skorch's internal validation split (off: scikit-learn splits outside).
    callbacks : list or None, default=None
        skorch callbacks.
    verbose : int, default=0
        1 prints skorch's per-epoch table.
    device : str or torch.device, default="cpu"
        ``"cuda"`` trains on the GPU.
    warm_start : bool, default=False
        Continue training an already fitted network on ``fit``.
    compile : bool, default=False
        skorch's option: compile ``module_`` and ``criterion_`` with
        ``torch.compile`` when the network is initialised (``compile__*``
        are its keyword arguments, e.g. ``compile__mode="reduce-overhead"``
        for CUDA graphs, ``compile__backend=...``); a compiled network also
        runs the penalty's tensor code compiled (FairReg's gap). It saves
        kernel launches where a small model's step is bound by them (a GPU);
        the first steps pay for compiling. Where compiling cannot work the
        network trains eagerly with a
        :class:`~skfairnn.exceptions.CompileWarning`: no C++ compiler
        (inductor on the CPU) or Triton (on CUDA), and methods whose step
        differentiates through gradients (GCM, FAIRER, Fair Mixup) or
        records activations (RUNNER); for those, ``cuda_graphs=True`` is the
        launch-free option on a GPU. With fused Adam
        (``optimizer__fused=True``) the optimiser step is one launch too.
    cuda_graphs : bool, default=False
        On a CUDA device, capture the training step (forward, penalty,
        backward, double backward included) in a CUDA graph and replay it
        for every batch of the same layout: its tensors' shapes and, for GCM
        and FAIRER, the sizes of its cells (:mod:`skfairnn._step_graphs`).
        The step's thousands of launches become one, which is what bounds a
        ResNet step of the double-backprop methods and a small MLP's step.
        Each layout trains eagerly twice first (the warm-up) and is captured
        on the third; at most four layouts are captured per fit, so it pays
        off with batches of one layout: balanced sampling (the default of
        the fairness methods) or ``sampling="random"`` without a per-cell
        forward. The optimiser steps eagerly. The same kernels run, so the
        numbers match an eager fit up to floating-point reordering. Where it
        cannot work the network trains eagerly with a
        :class:`~skfairnn.exceptions.CompileWarning`: off CUDA, with a
        compiled module (``compile__mode="reduce-overhead"`` is
        ``torch.compile``'s own CUDA graphs), a step that reads a device
        value on the host (batch norm with ``momentum=None``), batches that
        never repeat a layout, and methods whose step draws random numbers
        on the host or runs its own optimisers (Fair Mixup, Adversarial,
        ARL, FairNeuron).
    iterator_train : class, default=TrainingBatches
        skorch's training iterator: :class:`~skfairnn._batches.TrainingBatches`
        draws the ``sampling`` batches from the data ``fit`` packs;
        ``iterator_train__batch_size`` overrides ``batch_size`` for training.
    iterator_valid : class, default=EvaluationBatches
        skorch's iterator for prediction and validation (rows in order);
        ``iterator_valid__batch_size`` overrides ``batch_size`` there.
    **kwargs
        Further skorch parameters (``module__*``, ``optimizer__*``,
        ``iterator_train__*``, ``callbacks__*``).

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels; ``classes_[1]`` is the positive class.
    sensitive_groups_ : ndarray or None
        Group labels seen in ``fit`` (``None`` if fitted without groups).
    n_features_in_ : int
        Number of features (``X.shape[1]``).
    feature_names_in_ : ndarray of str
        Column names, when ``X`` is a DataFrame with string column names.
    decision_offset_ : float
        The offset ``prior_correction`` added to every logit (0 for ``None``).
    n_groups_ : int
        Number of groups in the training data (1 without ``sensitive_features``).
    input_shape_ : tuple
        Shape of one input row (``X.shape[1:]``).
    training_label_prior_ : float
        Positive share of the distribution the loss saw (sampling × weights),
        which ``"prior_shift"`` corrects from.
    module_, optimizer_, history_ : see skorch.
    """

    __metadata_request__fit = {"sensitive_features": True, "sample_weight": True}

    _parameter_constraints: dict = {
        "sampling": [StrOptions(set(SAMPLING_OPTIONS))],
        "prior_correction": [StrOptions(set(PRIOR_CORRECTIONS)), None],
        "batches_per_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"-1"})],
        "cuda_graphs": ["boolean"],
    }
    #: whether the method's penalty needs group labels (False for plain ERM)
    _requires_groups = True
    #: the parameters that weigh the method's fairness terms (all 0: plain ERM)
    _fairness_weights: tuple[str, ...] = ()
    #: why ``torch.compile`` cannot capture the method's training step (``compile``
    #: is then ignored with a CompileWarning); ``None``: it can
    _eager_step_reason: str | None = None
    #: why a CUDA graph cannot hold the method's training step (``cuda_graphs`` is
    #: then ignored with a CompileWarning); ``None``: it can
    _graph_step_reason: str | None = None

    def __init__(
        self,
        module=MLP,
        *,
        sampling="random",
        prior_correction="max_accuracy",
        batches_per_epoch=None,
        random_state=None,
        criterion=nn.BCEWithLogitsLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=10,
        batch_size=256,
        iterator_train=TrainingBatches,
        iterator_valid=EvaluationBatches,
        train_split=None,
        callbacks=None,
        verbose=0,
        device="cpu",
        warm_start=False,
        cuda_graphs=False,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            iterator_train=iterator_train,
            iterator_valid=iterator_valid,
            train_split=train_split,
            callbacks=callbacks,
            verbose=verbose,
            device=device,
            warm_start=warm_start,
            **kwargs,
        )
        self.sampling = sampling
        self.prior_correction = prior_correction
        self.batches_per_epoch = batches_per_epoch
        self.random_state = random_state
        self.cuda_graphs = cuda_graphs

    # ------------------------------------------------------------ the contract
    def network_logits(self, X: torch.Tensor) -> torch.Tensor:
        """Forward ``X`` through ``module_``; one logit per row, shape ``(n,)``."""
        return as_logits(self.module_(X), self.module_)

    def training_forward(self, batch: FairBatch) -> TrainingForward:
        """The training forward pass of ``batch``, as the loss receives it.

        The default forwards the whole batch once. A method that needs the
        per-cell forwards or recorded activations returns
        :func:`~skfairnn._forward.forward_by_cell` or
        :func:`~skfairnn._forward.forward_recording` instead.
        """
        return TrainingForward(logits=self.network_logits(batch.X))

    def fairness_penalty(self, batch: FairBatch, forward: TrainingForward):
        """The penalty added to the task loss on a training batch, or ``None``.

        Called only when ``fit`` got ``sensitive_features``. The logits in
        ``forward`` are still attached to the graph, so double backprop
        through ``torch.autograd.grad(..., create_graph=True)`` works here.
        The base has no penalty (plain empirical risk minimisation).
        """
        return None

    def train_step_single(self, batch, **fit_params):
        """One training step: forward, task loss plus penalty, backward (see module docstring).

        With ``cuda_graphs=True`` the step is replayed from a CUDA graph of
        its batch layout where one was captured (:mod:`skfairnn._step_graphs`);
        the graph holds exactly the operations of the eager step.
        """
        graphs = active_step_graphs(self)
        if graphs is None:
            return self._train_step_eager(batch)
        batch = self._device_batch(batch)
        return graphs(batch, self._batch_layout(batch))

    def _train_step_eager(self, batch):
        """The training step itself (what a CUDA graph of the step records)."""
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        fair_batch = self._fair_batch(Xi, yi)
        with_groups = self.sensitive_groups_ is not None
        if with_groups:
            forward = self.training_forward(fair_batch)
        else:
            forward = TrainingForward(logits=self.network_logits(fair_batch.X))
        loss = self.get_loss(forward.logits, fair_batch.y, X=Xi, training=True)
        penalty = self.fairness_penalty(fair_batch, forward) if with_groups else None
        if penalty is not None:
            loss = loss + penalty
        loss.backward()
        return {
            "loss": loss,
            "y_pred": forward.logits,
            "fairness_penalty": None if penalty is None else penalty.detach(),
            "records": forward.records,
        }

    def _device_batch(self, batch):
        """``batch`` with its tensors on the training device and CPU copies of its columns.

        A captured step must find its inputs on the device (the graph's
        inputs are device tensors) and read the layout from the host copies.
        """
        Xi, yi = unpack_data(batch)
        host = _host_columns(Xi, yi, on_device=True)
        Xi = {
            key: value if key == "host" else _on_device(value, self.device)
            for key, value in Xi.items()
        }
        if host is not None:
            Xi["host"] = host
        return Xi, _on_device(yi, self.device)

    def _batch_layout(self, batch) -> tuple:
        """What the step decides on the host from ``batch``: its shapes, and the method's."""
        Xi, yi = batch
        shapes = tuple(
            (key, tuple(value.shape), value.dtype)
            for key, value in Xi.items()
            if isinstance(value, torch.Tensor)
        )
        return shapes, tuple(yi.shape), yi.dtype, self._step_layout(batch)

    def _step_layout(self, batch) -> tuple:
        """What the method's step decides on the host from ``batch`` (``(Xi, y)``) beyond shapes.

        None here: the base's step does the same for every batch of one shape.

        A method whose step branches on the batch's contents (the cells' sizes
        of a per-cell forward) returns them; a CUDA graph is captured per value.
        """
        return ()

    def _capture_problem(self) -> str | None:
        """Why ``cuda_graphs=True`` cannot capture this network's steps, or ``None``."""
        if not str(self.device).startswith("cuda") or not torch.cuda.is_available():
            return f"the network trains on {self.device!r}; CUDA graphs need a CUDA device"
        if is_compiled(getattr(self, "module_", None)):
            return (
                "the module is compiled (torch.compile's own CUDA graphs are "
                "compile__mode='reduce-overhead')"
            )
        return self._graph_step_reason

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """skorch's loop; with ``cuda_graphs=True`` its steps are captured and replayed."""
        if not self.cuda_graphs:
            return super().fit_loop(X, y, epochs, **fit_params)
        reason = self._capture_problem()
        index = None if reason is not None else torch.device(self.device).index
        on_device = nullcontext() if index is None else torch.cuda.device(index)
        with on_device, step_graphs(self, reason):  # streams and graphs on the net's GPU
            return super().fit_loop(X, y, epochs, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The task loss, weighted by the batch's ``sample_weight`` when ``X`` carries it."""
        logits = as_logits(y_pred)
        target = _on_device(y_true, logits.device).to(logits.dtype)
        per_row = self.criterion_(logits, target)
        if isinstance(X, Mapping) and "sample_weight" in X:
            return (per_row * _on_device(X["sample_weight"], logits.device)).mean()
        return per_row.mean()

    def compiled(self, fn):
        """``fn`` compiled with the network's ``compile__*`` settings when ``module_`` is compiled.

        For the tensor code of a penalty (a function of tensors and Python
        constants, e.g. :func:`~skfairnn.gaps.fairness_gap`): with
        ``compile=True`` it runs as one compiled graph instead of many small
        kernels; otherwise ``fn`` itself is returned. The compiled wrapper is
        kept at module level (:func:`~skfairnn._compile.compiled_function`),
        not on the estimator.
        """
        if not is_compiled(getattr(self, "module_", None)):
            return fn
        return compiled_function(fn, self.get_params_for("compile"))

    def torch_compile(self, module, name):
        """skorch's ``torch.compile`` of ``module``, or ``module`` itself where it cannot work.

        Where :func:`~skfairnn._compile.compile_problem` names something
        missing, or the method's step cannot be captured
        (``_eager_step_reason``), the module stays eager and a
        :class:`~skfairnn.exceptions.CompileWarning` (once, for ``module``)
        says why.
        """
        if not self.compile:
            return module
        reason = self._eager_step_reason or compile_problem(
            self.device, self.get_params_for("compile")
        )
        if reason is None:
            return super().torch_compile(module, name)
        if name == "module":
            warnings.warn(
                _MSG_EAGER.format(name=type(self).__name__, reason=reason),
                CompileWarning,
                stacklevel=2,
            )
        return module

    def _set_training(self, training=True):
        """skorch's train/eval switch, skipped where every module is already in that mode.

        skorch calls it at every step; ``nn.Module.train`` walks and sets
        every submodule, a Python cost comparable to a small model's
        launches. Checking the flags first leaves the modes as skorch sets
        them and costs a fraction of that.
        """
        names = [*self._modules, *self._criteria]
        modules = [getattr(self, name + "_", None) for name in names]
        if all(
            sub.training == training
            for module in modules
            if isinstance(module, nn.Module)
            for sub in module.modules()
        ):
            return
        super()._set_training(training)

    def _fair_batch(self, Xi, yi) -> FairBatch:
        device = self.device
        group = _on_device(Xi["group"], device)
        return FairBatch(
            X=_on_device(Xi["X"], device),
            y=_on_device(yi, device).to(torch.float32),
            group=group,
            sample_weight=_on_device(Xi["sample_weight"], device),
            n_groups=self.n_groups_,
            host=_host_columns(Xi, yi, on_device=group.device.type != "cpu"),
        )

    def _has_fairness_term(self) -> bool:
        return any(getattr(self, name) for name in self._fairness_weights)

    # ------------------------------------------------------- sklearn contract
    def _get_param_names(self):
        """skorch's parameter names without its own bookkeeping ``_params_to_validate``.

        skorch lists every instance attribute not ending in ``_`` as a
        parameter, its private ``_params_to_validate`` set included, which
        scikit-learn's ``set_params`` checks then overwrite. skfairnn stores
        no private attribute of its own (a fitted network holds skorch's
        attributes and public ones ending in ``_``).
        """
        return [name for name in super()._get_param_names() if not name.startswith("_")]

    def _check_parameter_table(self):
        """Validate single parameters against ``_parameter_constraints`` (once per fit)."""
        params = {k: getattr(self, k) for k in self._parameter_constraints if hasattr(self, k)}
        if params.get("batch_size") == -1:
            params.pop("batch_size")
        validate_parameter_constraints(
            self._parameter_constraints, params, caller_name=type(self).__name__
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.non_deterministic = str(self.device).startswith("cuda")
        tags.input_tags.sparse = True  # densified: tabular one-hot encodings fit in memory
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return bool(getattr(self, "initialized_", False)) and hasattr(self, "classes_")

    @property
    def _default_callbacks(self):
        """skorch's defaults plus the divergence check, the decision rule and the step log."""
        defaults = list(super()._default_callbacks)
        extra = [
            ("finite_loss", FiniteLoss()),  # first: a diverged epoch stops here
            ("decision_rule", DecisionRule()),
            ("step_log", StepLog()),
        ]
        return [*defaults[:-1], *extra, defaults[-1]]

    # -------------------------------------------------------- data handling
    _X_CHECKS = {
        "dtype": [np.float32, np.float64],
        "allow_nd": True,
        "accept_sparse": ["csr", "csc", "coo"],
    }

    def _validate_X(self, X) -> np.ndarray:
        """Validate inputs at predict time against what ``fit`` saw."""
        X = validate_data(self, _to_numpy(X), reset=False, **self._X_CHECKS)
        return _dense_float32(X)

    def _encode_target(self, y, *, reset: bool) -> np.ndarray:
        check_classification_targets(y)
        if reset:
            encoder = LabelEncoder().fit(y)
            if len(encoder.classes_) != 2:
                kind = "one class" if len(encoder.classes_) < 2 else type_of_target(y)
                raise ValueError(
                    f"Only binary classification is supported. {type(self).__name__} got "
                    f"y with {len(encoder.classes_)} class(es) ({kind}); the fairness "
                    "methods implemented here are defined for two classes."
                )
            self.classes_ = encoder.classes_
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(
                f"y contains labels {np.unique(y[unknown]).tolist()} not seen in the "
                f"first fit (classes_ = {self.classes_.tolist()})."
            )
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _encode_groups(self, sensitive_features, n_samples: int, *, reset: bool) -> EncodedGroups:
        if sensitive_features is None:
            if reset:
                self.sensitive_groups_ = None
                if self._requires_groups and self._has_fairness_term():
                    warnings.warn(
                        _MSG_NO_GROUPS.format(name=type(self).__name__),
                        FairnessWarning,
                        stacklevel=3,
                    )
            labels = np.array(["all"], dtype=object)
            return EncodedGroups(np.zeros(n_samples, dtype=np.int64), labels)
        known = None if reset else self.sensitive_groups_
        groups = encode_sensitive_features(sensitive_features, n_samples=n_samples, labels=known)
        if self._requires_groups:
            check_at_least_two_groups(groups)
        if reset:
            self.sensitive_groups_ = groups.labels
        return groups

    def _pack(self, X, y, sensitive_features, sample_weight, *, reset: bool) -> FairDataset:
        """Validate and encode the training data into one :class:`FairDataset`."""
        X, y = validate_data(self, _to_numpy(X), _to_numpy(y), reset=reset, **self._X_CHECKS)
        X = _dense_float32(X)
        y_encoded = self._encode_target(y, reset=reset)
        groups = self._encode_groups(sensitive_features, len(X), reset=reset)
        if reset:
            self.input_shape_ = X.shape[1:]
            self.n_groups_ = groups.n_groups
        weight = check_sample_weight(sample_weight, len(X), dtype=np.float32)
        n_observed, codes = len(X), groups.codes
        if sensitive_features is not None:
            X, y_encoded, codes, weight = self.augment_training_rows(X, y_encoded, codes, weight)
        sampling = self._sampler_name()
        self.training_label_prior_ = label_prior(
            sampling, groups=codes, y=y_encoded, sample_weight=weight
        )
        return FairDataset(
            X,
            y_encoded,
            group=codes,
            sample_weight=weight,
            sampling=sampling,
            n_batches=self.batches_per_epoch,
            seed=_fit_seed(self.random_state),
            device=self.device,
            n_observed=n_observed,
        )

    def augment_training_rows(self, X, y, group, sample_weight):
        """The rows batches are drawn from: the validated training rows, plus any a method adds.

        The pre-processing hook of a method that changes the training data
        (:class:`~skfairnn.FairSMOTEClassifier`'s synthetic rows). Called once
        per ``fit`` / ``partial_fit``, after validation and only when
        ``sensitive_features`` were given. The returned arrays must start
        with the ``len(X)`` rows passed in, in order (a method may change
        their weights, e.g. to 0 to leave a row out), and may append new
        rows after them; the decision rule (``prior_correction``) is fitted
        on those first rows only, the data that was passed to ``fit``. The
        base returns its arguments unchanged.

        Parameters
        ----------
        X : ndarray of shape (n, ...)
            Validated float32 inputs.
        y : ndarray of shape (n,)
            Encoded labels (0/1).
        group : ndarray of shape (n,)
            Group codes (indices into ``sensitive_groups_``).
        sample_weight : ndarray of shape (n,)
            Normalised float32 sample weights.

        Returns
        -------
        X, y, group, sample_weight : ndarrays of ``n + n_added`` rows
        """
        return X, y, group, sample_weight

    def _sampler_name(self) -> str:
        """The batch sampler in use (``"auto"`` resolved for the method's constraint)."""
        return resolve_sampling(self.sampling, getattr(self, "constraint", None))

    # ------------------------------------------------------------ training
    def fit(self, X, y, *, sensitive_features=None, sample_weight=None):
        """Train the network.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or Tensor of shape (n_samples, n_features)
            Inputs (numerical; encode categorical columns beforehand, e.g. in
            a Pipeline). Sparse matrices (one-hot encodings) are densified.
            Image inputs ``(n, C, H, W)`` work with a CNN module.
        y : array-like of shape (n_samples,)
            Binary labels of any type.
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k), default=None
            Group membership used by the fairness term (training only; not
            needed to predict). Several columns define intersectional
            groups. ``None`` trains *without* the fairness term and warns.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights multiplying each row's loss
            (normalised to mean 1 over the rows of positive weight; rows of
            weight 0 are never drawn into a batch).

        Returns
        -------
        self
        """
        self._check_parameter_table()
        dataset = self._pack(X, y, sensitive_features, sample_weight, reset=True)
        with _seeded(dataset.seed, self.device):
            return super().fit(dataset, dataset.y)

    def partial_fit(
        self, X, y=None, classes=None, *, sensitive_features=None, sample_weight=None, **fit_params
    ):
        """Train for ``max_epochs`` more epochs without re-initialising.

        Same arguments as :meth:`fit`; the first call initialises the net.
        ``classes`` is accepted for scikit-learn compatibility and unused
        (the classes are those of the first call).
        """
        if isinstance(X, FairDataset):  # called by skorch's fit with the packed data
            return super().partial_fit(X, y, classes, **fit_params)
        unknown = sorted(set(fit_params) - {"_routing_method"})
        if unknown:
            raise TypeError(_MSG_FIT_PARAMS.format(name=type(self).__name__, names=unknown))
        first = not self.__sklearn_is_fitted__()
        if first:
            self._check_parameter_table()
        dataset = self._pack(X, y, sensitive_features, sample_weight, reset=first)
        with _seeded(dataset.seed, self.device):
            return super().partial_fit(dataset, dataset.y, classes, **fit_params)

    def initialize_module(self):
        """Build ``module_``, filling its input size from the training data."""
        kwargs = self.get_params_for("module")
        if isinstance(self.module, type) and hasattr(self, "input_shape_"):
            signature = inspect.signature(self.module).parameters
            if "input_dim" in signature and "input_dim" not in kwargs:
                kwargs["input_dim"] = int(math.prod(self.input_shape_))
            if "in_channels" in signature and "in_channels" not in kwargs:
                kwargs["in_channels"] = int(self.input_shape_[0])
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def initialize_criterion(self):
        """Build ``criterion_`` with ``reduction="none"`` (:meth:`get_loss` weights the rows)."""
        kwargs = {"reduction": "none", **self.get_params_for("criterion")}
        self.criterion_ = self.initialized_instance(self.criterion, kwargs)
        return self

    # ----------------------------------------------------------- predicting
    def decision_function(self, X) -> np.ndarray:
        """Logit of the positive class ``classes_[1]`` for each row.

        The network's logit plus the fitted ``decision_offset_`` of
        ``prior_correction`` (0 when it is ``None``).
        """
        check_is_fitted(self)
        X = self._validate_X(X)
        # Pad to whole batches: every row then goes through kernels of the same
        # shape, so a row's output does not depend on which rows share its batch.
        batch_size = self.get_params_for("iterator_valid").get("batch_size", self.batch_size)
        batch_size = len(X) if batch_size == -1 else batch_size
        n_rows = len(X)
        padded = np.zeros((-(-n_rows // batch_size) * batch_size, *X.shape[1:]), dtype=X.dtype)
        padded[:n_rows] = X
        logits = as_logits(self.forward(padded, training=False, device="cpu"))[:n_rows]
        return logits.numpy().astype(np.float64) + getattr(self, "decision_offset_", 0.0)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, 2)`` in the order of ``classes_``."""
        logits = torch.as_tensor(self.decision_function(X))
        positive = torch.sigmoid(logits).numpy()
        return np.column_stack([1.0 - positive, positive])

    def predict(self, X) -> np.ndarray:
        """Predicted class labels: ``classes_[1]`` where ``decision_function`` is ≥ 0."""
        positive = self.decision_function(X) >= 0
        return self.classes_[positive.astype(int)]
