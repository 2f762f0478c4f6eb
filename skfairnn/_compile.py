# SPDX-License-Identifier: BSD-3-Clause
"""The compiled option: whether ``torch.compile`` can run here, and compiled functions.

skorch's own ``compile=True`` (with ``compile__*`` arguments for
``torch.compile``, e.g. ``compile__mode="reduce-overhead"`` for CUDA graphs)
compiles ``module_`` and ``criterion_`` when the network is initialised.
:meth:`skfairnn.FairNetClassifier.torch_compile` keeps them eager, with a
:class:`~skfairnn.exceptions.CompileWarning`, where compiling cannot work:

* :func:`compile_problem` names what is missing on this machine (no
  ``torch.compile``, an unsupported Python, inductor without a C++ compiler
  on the CPU or without Triton on CUDA);
* a method whose training step differentiates through gradients (GCM,
  FAIRER, Fair Mixup: ``torch.compile`` does not support double backward) or
  records activations with hooks (RUNNER) declares it
  (``_compilable_step``).

A compiled network also runs the penalty's tensor code compiled through
:func:`compiled_function` (FairReg's relaxed gap), memoised per function
and ``compile__*`` settings at module level: nothing of it is stored on the
estimator, so a fitted network pickles and clones as an eager one does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

__all__ = ["compile_problem", "compiled_function", "is_compiled"]


def is_compiled(module) -> bool:
    """Whether ``module`` is a ``torch.compile`` wrapper (``OptimizedModule``)."""
    optimized = getattr(getattr(torch, "_dynamo", None), "eval_frame", None)
    optimized = getattr(optimized, "OptimizedModule", None)
    return optimized is not None and isinstance(module, optimized)


def compile_problem(device, params: Mapping) -> str | None:
    """Why ``torch.compile`` with ``params`` cannot run on ``device`` here, or ``None``.

    Parameters
    ----------
    device : str or torch.device
        The training device.
    params : mapping
        The ``torch.compile`` keyword arguments (skorch's ``compile__*``).

    Returns
    -------
    str or None
        A sentence naming what is missing; ``None`` when nothing is known
        to be missing (the default backend, inductor, needs a C++ compiler
        on the CPU and Triton on CUDA; other backends are not checked).
    """
    if not hasattr(torch, "compile"):
        return f"torch {torch.__version__} has no torch.compile"
    try:
        from torch import _dynamo

        if not _dynamo.is_dynamo_supported():
            return "torch.compile does not support this Python version or platform"
    except (ImportError, AttributeError, RuntimeError) as exc:
        return f"torch.compile cannot be imported ({exc})"
    if params.get("backend", "inductor") != "inductor":
        return None
    if str(device).startswith("cuda"):
        try:
            from torch.utils._triton import has_triton
        except ImportError:
            return None
        return None if has_triton() else "inductor needs Triton on CUDA, which is not installed"
    try:
        from torch._inductor.cpp_builder import get_cpp_compiler
    except ImportError:
        return None
    try:
        get_cpp_compiler()
    except Exception as exc:  # inductor's InvalidCxxCompiler, or an OSError probing for one
        return f"inductor needs a C++ compiler on the CPU and found none ({exc})"
    return None


def _frozen(value):
    """A hashable stand-in for a ``torch.compile`` argument (options dicts, lists)."""
    if isinstance(value, Mapping):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple, set)):
        return tuple(_frozen(item) for item in value)
    return value


#: compiled wrappers by (function, frozen settings); a handful per process
_COMPILED: dict[tuple, Callable] = {}


def compiled_function(fn: Callable, params: Mapping) -> Callable:
    """``torch.compile(fn, **params)``, one compiled wrapper per function and settings.

    Calling ``torch.compile`` in every training step would build a new
    wrapper each time; the memo keeps one (the compiled graphs themselves are
    cached by dynamo on ``fn``'s code, guarded on the inputs' shapes, dtypes
    and devices).

    Parameters
    ----------
    fn : callable
        A function of tensors (and Python constants).
    params : mapping
        ``torch.compile`` keyword arguments (skorch's ``compile__*``).
    """
    key = (fn, _frozen(params))
    if key not in _COMPILED:
        _COMPILED[key] = torch.compile(fn, **params)
    return _COMPILED[key]
