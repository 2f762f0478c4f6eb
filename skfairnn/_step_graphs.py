# SPDX-License-Identifier: BSD-3-Clause
"""The ``cuda_graphs`` option: a training step captured in a CUDA graph and replayed.

A step of a small model, or of a method that differentiates per-cell
gradients (GCM, FAIRER), issues thousands of small operations; on a GPU the
host then spends more time launching them than the device spends running
them. A CUDA graph records the launches of one step once and replays them in
one call. skfairnn's training step reads nothing back from the device (the
per-cell layout comes from the batch's CPU copies,
:attr:`~skfairnn.FairBatch.host`), so the whole of
:meth:`~skfairnn.FairNetClassifier.train_step_single` (forward, penalty,
double backward, the batch norms' running statistics) can be captured. The
optimiser's step stays outside, eager, so any optimiser works (fused Adam,
``optimizer__fused=True``, is one launch).

What a replay relies on, and how :class:`StepGraphs` keeps it true:

* **The same layout.** A graph replays the operations of the batch it was
  captured on; what the step decided on the host from the batch (tensor
  shapes, and for a per-cell forward the cells' sizes) must be the same. The
  estimator names that layout (``FairNetClassifier._step_layout``); one graph is
  captured per layout, after :data:`WARMUP_STEPS` eager steps of it (the
  warm-up PyTorch's documentation asks for; they train as any step does),
  for at most :data:`MAX_LAYOUTS` layouts. Balanced sampling gives every full
  batch one layout; a last, shorter batch trains eagerly.
* **Static tensors.** Each replay copies the batch into the captured input
  tensors, and points every parameter's ``.grad`` back at the gradient the
  graph writes (skorch's ``zero_grad`` sets it to ``None`` between steps).
  The returned loss and logits are copies, so callbacks that keep them
  (``StepLog``'s penalty sum, training scores) see each step's values.
* **Host constants.** A constant the step copies from the host
  (:func:`~skfairnn._cell_gradients.host_tensor`) is copied from pinned
  memory that the graph keeps (:func:`device_constant`).

A step that cannot be captured (it reads a device value on the host, e.g.
batch norm with ``momentum=None``) raises during capture; the fit then
trains eagerly with a :class:`~skfairnn.exceptions.CompileWarning`. So does
one whose batches never repeat a layout (random batches of a per-cell
method). The graphs live in a context variable for the duration of one
``fit_loop`` (:func:`step_graphs`), never on the estimator, so a fitted
network pickles and clones as an eager one does.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import torch

from .exceptions import CompileWarning

__all__ = [
    "CudaGraphBackend",
    "StepGraphs",
    "active_step_graphs",
    "device_constant",
    "step_graphs",
]

#: eager steps of a layout before its graph is captured
WARMUP_STEPS = 2
#: layouts captured per fit at most (each graph holds its step's activations)
MAX_LAYOUTS = 4
#: distinct layouts seen without a capture, after which the fit stops looking
MAX_UNCAPTURED_LAYOUTS = 64

_MSG_EAGER = "{name}: cuda_graphs=True is ignored and the steps run eagerly: {reason}."

#: the step graphs of the networks whose fit loops are running, by ``id(net)``
_ACTIVE: ContextVar[dict[int, StepGraphs] | None] = ContextVar("skfairnn_step_graphs", default=None)
#: the pinned host constants of the capture in progress (kept by its graph)
_CAPTURE_CONSTANTS: ContextVar[list | None] = ContextVar("skfairnn_capture_constants", default=None)


def device_constant(values: torch.Tensor, device) -> torch.Tensor:
    """``values`` (a CPU tensor) copied to ``device`` inside a capture, replayable.

    A copy from pageable memory cannot be captured; a copy from pinned memory
    is replayed from that memory, which therefore stays with the graph.
    Outside a capture it is a plain non-blocking copy.
    """
    kept = _CAPTURE_CONSTANTS.get()
    if kept is None or torch.device(device).type != "cuda":
        return values.to(device, non_blocking=True)
    pinned = values.pin_memory()
    kept.append(pinned)
    return pinned.to(device, non_blocking=True)


#: one warm-up stream per device for the process (cuBLAS keeps a workspace per stream)
_WARM_UP_STREAMS: dict[int, torch.cuda.Stream] = {}


def _warm_up_stream() -> torch.cuda.Stream:
    device = torch.cuda.current_device()
    if device not in _WARM_UP_STREAMS:
        _WARM_UP_STREAMS[device] = torch.cuda.Stream()
    return _WARM_UP_STREAMS[device]


class CudaGraphBackend:
    """How :class:`StepGraphs` warms up and captures on a CUDA device (PyTorch's recipe)."""

    def warm_up(self, step: Callable[[], dict]) -> dict:
        """Run ``step`` eagerly on a side stream, as PyTorch asks before a capture."""
        current = torch.cuda.current_stream()
        side = _warm_up_stream()
        side.wait_stream(current)
        with torch.cuda.stream(side):
            outputs = step()
        current.wait_stream(side)
        return outputs

    def capture(self, step: Callable[[], dict], pool) -> tuple[Callable[[], None], dict, object]:
        """Record ``step`` (without running it): its replay, its outputs and the memory pool."""
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=pool):
            outputs = step()
        return graph.replay, outputs, graph.pool()


def _tensor_keys(batch) -> list[str | None]:
    """The keys of the batch's tensors: ``Xi``'s, then ``None`` for ``y``."""
    Xi, yi = batch
    keys: list[str | None] = [key for key, value in Xi.items() if isinstance(value, torch.Tensor)]
    return [*keys, None] if isinstance(yi, torch.Tensor) else keys


def _tensor_at(batch, key: str | None) -> torch.Tensor:
    return batch[1] if key is None else batch[0][key]


def _static_copy(batch):
    """``batch`` with every tensor cloned (the graph's inputs); host copies shared."""
    Xi, yi = batch
    Xi = {
        key: value.clone() if isinstance(value, torch.Tensor) else value
        for key, value in Xi.items()
    }
    return Xi, yi.clone() if isinstance(yi, torch.Tensor) else yi


def _copy_outputs(value, detach: bool):
    """Tensors of a step's outputs (dicts included) detached (``detach``) or cloned."""
    if isinstance(value, dict):
        return {key: _copy_outputs(item, detach) for key, item in value.items()}
    if isinstance(value, torch.Tensor):
        return value.detach() if detach else value.clone()
    return value


@dataclass
class _CapturedStep:
    """One layout's graph: its replay, static inputs, outputs and the gradients it writes."""

    replay: Callable[[], None]
    inputs: list[torch.Tensor]
    outputs: dict
    grads: list[tuple[torch.Tensor, torch.Tensor]]
    constants: list[torch.Tensor] = field(default_factory=list)

    def run(self, batch) -> dict:
        for static, key in zip(self.inputs, _tensor_keys(batch)):
            static.copy_(_tensor_at(batch, key), non_blocking=True)
        self.replay()
        for param, grad in self.grads:
            if param.requires_grad:  # a parameter frozen since the capture gets none
                param.grad = grad
        return _copy_outputs(self.outputs, detach=False)


class StepGraphs:
    """The captured training steps of one fit loop, one graph per batch layout.

    Parameters
    ----------
    step : callable
        The eager training step, ``step(batch) -> dict`` (skorch's
        ``train_step_single`` outputs); it must leave the gradients in the
        parameters' ``.grad``.
    params : sequence of Tensor
        The parameters whose gradients ``step`` produces.
    name : str
        The estimator's name, for warnings.
    backend : CudaGraphBackend, default=None
        How steps are warmed up and captured (a stand-in in tests).
    """

    def __init__(self, step, params, name: str, backend: CudaGraphBackend | None = None):
        self._step, self._params, self._name = step, list(params), name
        self._backend = CudaGraphBackend() if backend is None else backend
        self._seen: dict[Hashable, int] = {}
        self._captured: dict[Hashable, _CapturedStep] = {}
        self._pool = None
        self._stopped: str | None = None

    def __call__(self, batch, layout: Hashable) -> dict:
        """Train one step on ``batch``: a replay of its layout's graph, or eagerly."""
        captured = self._captured.get(layout)
        if captured is not None:
            return captured.run(batch)
        if self._stopped is not None or len(self._captured) >= MAX_LAYOUTS:
            return self._eager(batch)
        seen = self._seen.get(layout, 0)
        if seen < WARMUP_STEPS:
            self._seen[layout] = seen + 1
            if len(self._seen) > MAX_UNCAPTURED_LAYOUTS and not self._captured:
                self._stop(
                    f"its batches took {len(self._seen)} different layouts (shapes or cell "
                    "sizes) without repeating one; balanced sampling gives full batches one"
                )
            return self._backend.warm_up(lambda: self._eager(batch))
        captured = self._capture(batch)
        if captured is None:
            return self._eager(batch)
        self._captured[layout] = captured
        return captured.run(batch)

    def _eager(self, batch) -> dict:
        """An eager step whose outputs hold no autograd graph.

        A graph kept alive past its step (skorch keeps the last step's
        outputs while it runs the next) keeps its gradient accumulators, and
        with them the stream they were created on, into the next capture.
        """
        return _copy_outputs(self._step(batch), detach=True)

    def _capture(self, batch) -> _CapturedStep | None:
        static = _static_copy(batch)
        for param in self._params:
            param.grad = None  # the graph allocates the gradients it writes
        constants: list[torch.Tensor] = []
        token = _CAPTURE_CONSTANTS.set(constants)
        try:
            replay, outputs, self._pool = self._backend.capture(
                lambda: self._step(static), self._pool
            )
        except RuntimeError as exc:  # a host read of a device value, or an op a graph cannot hold
            for param in self._params:
                param.grad = None
            self._stop(f"the step could not be captured ({str(exc).splitlines()[0]})")
            return None
        finally:
            _CAPTURE_CONSTANTS.reset(token)
        grads = [(param, param.grad) for param in self._params if param.grad is not None]
        inputs = [_tensor_at(static, key) for key in _tensor_keys(static)]
        return _CapturedStep(replay, inputs, _copy_outputs(outputs, detach=True), grads, constants)

    def _stop(self, reason: str) -> None:
        self._stopped = reason
        warnings.warn(
            _MSG_EAGER.format(name=self._name, reason=reason), CompileWarning, stacklevel=4
        )

    def release(self) -> None:
        """Drop the graphs and their memory.

        A graph's memory pool is freed once no tensor of it is left; the
        gradients it wrote stay on the parameters (as an eager fit leaves
        them), so they are copied out of it first.
        """
        for captured in self._captured.values():
            for param, grad in captured.grads:
                if param.grad is grad:
                    param.grad = grad.clone()
        self._captured.clear()
        self._seen.clear()
        self._pool = None


def active_step_graphs(net) -> StepGraphs | None:
    """The step graphs of ``net``'s running fit loop, or ``None`` (eager steps)."""
    active = _ACTIVE.get()
    return None if active is None else active.get(id(net))


@contextmanager
def step_graphs(net, reason: str | None, backend: CudaGraphBackend | None = None) -> Iterator:
    """Within this context ``net``'s training steps are captured and replayed.

    Parameters
    ----------
    net : FairNetClassifier
        The network whose fit loop runs inside the context.
    reason : str or None
        Why its steps cannot be captured; the context then warns once and
        the steps run eagerly.
    backend : CudaGraphBackend, default=None
        See :class:`StepGraphs`.
    """
    if reason is not None:
        warnings.warn(
            _MSG_EAGER.format(name=type(net).__name__, reason=reason), CompileWarning, stacklevel=4
        )
        yield None
        return
    params = [param for _, param in net.get_all_learnable_params()]
    graphs = StepGraphs(net._train_step_eager, params, type(net).__name__, backend)
    token = _ACTIVE.set({**(_ACTIVE.get() or {}), id(net): graphs})
    try:
        yield graphs
    finally:
        _ACTIVE.reset(token)
        graphs.release()
