# SPDX-License-Identifier: BSD-3-Clause
"""Training data and the batch loaders skorch iterates over.

``fit`` packs the validated inputs into one :class:`FairDataset` (inputs,
group codes, sample weights and labels, as tensors on the training device,
plus how batches are to be drawn) and hands it to skorch. skorch builds its
iterators from the estimator's ``iterator_train`` / ``iterator_valid``
classes with ``batch_size`` and any ``iterator_train__*`` /
``iterator_valid__*`` settings, once per call of ``fit``:

* :class:`TrainingBatches` (the default ``iterator_train``) draws batches
  with the sampler of :mod:`skfairnn.sampling` and yields
  ``({"X", "group", "sample_weight"}, y)``, cut from the tensors in memory, so
  a step costs what a hand-written loop costs;
* :class:`EvaluationBatches` (the default ``iterator_valid``) yields the
  rows in order, inputs only (plus ``y`` for skorch's internal validation),
  for prediction and validation.

Everything a fit needs between steps (the tensors, the batch generator)
lives in these objects, which skorch keeps in its ``fit_loop`` locals; none of
it is stored on the estimator.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from skorch.dataset import Dataset

from .sampling import RandomBatchSampler, make_batch_sampler

__all__ = [
    "FairDataset",
    "HostRows",
    "TrainingBatches",
    "EvaluationBatches",
    "observed_rows",
    "training_tensors",
]

#: Training data above this size stays on the CPU (batches are moved per step).
ON_DEVICE_LIMIT_BYTES = 2 * 1024**3


class FairDataset(Dataset):
    """The packed training data of one ``fit`` call.

    Parameters
    ----------
    X : ndarray of shape (n, ...)
        Validated float32 inputs.
    y : ndarray of shape (n,)
        Encoded labels (0/1).
    group : ndarray of shape (n,)
        Group codes.
    sample_weight : ndarray of shape (n,)
        Normalised sample weights.
    sampling : str
        The sampler (:data:`skfairnn.sampling.SAMPLINGS`).
    n_batches : int or None
        Batches per epoch; ``None`` is one pass.
    seed : int or None
        Seeds the batch order (``None``: torch's global generator).
    device : str or torch.device
        Where the tensors live (the CPU above :data:`ON_DEVICE_LIMIT_BYTES`).
    n_observed : int, default=None
        How many of the first rows were passed to ``fit``; the rows after
        them were added by the method
        (:meth:`~skfairnn.FairNetClassifier.augment_training_rows`).
        ``None``: all of them.
    """

    def __init__(
        self, X, y, *, group, sample_weight, sampling, n_batches, seed, device, n_observed=None
    ):
        columns = {"X": X, "group": group, "sample_weight": sample_weight}
        super().__init__(columns, y)
        n_bytes = sum(np.asarray(v).nbytes for v in columns.values())
        device = device if n_bytes <= ON_DEVICE_LIMIT_BYTES else "cpu"
        self.tensors = {k: torch.as_tensor(np.asarray(v)).to(device) for k, v in columns.items()}
        self.y_tensor = torch.as_tensor(np.asarray(y)).to(device)
        self.sampling = sampling
        self.n_batches = n_batches
        self.seed = seed
        self.n_observed = len(y) if n_observed is None else int(n_observed)


def observed_rows(dataset):
    """The rows of a :class:`FairDataset` (or a ``Subset`` of one) that were passed to ``fit``.

    Leaves out the rows a method appended
    (:meth:`~skfairnn.FairNetClassifier.augment_training_rows`); any other
    dataset is returned unchanged.
    """
    if isinstance(dataset, torch.utils.data.Subset):
        source = dataset.dataset
        if isinstance(source, FairDataset) and source.n_observed < len(source):
            indices = [i for i in np.asarray(dataset.indices) if i < source.n_observed]
            return torch.utils.data.Subset(source, indices)
        return dataset
    if isinstance(dataset, FairDataset) and dataset.n_observed < len(dataset):
        return torch.utils.data.Subset(dataset, range(dataset.n_observed))
    return dataset


def training_tensors(dataset) -> tuple[dict, torch.Tensor | None, FairDataset | None]:
    """``(tensors, y, source)`` of a :class:`FairDataset` or a ``Subset`` of one.

    ``source`` is the underlying :class:`FairDataset` (``None`` for any other
    dataset, whose columns are converted to CPU tensors).
    """
    if isinstance(dataset, torch.utils.data.Subset):
        tensors, y, source = training_tensors(dataset.dataset)
        index = torch.as_tensor(np.asarray(dataset.indices))
        index = index.to(tensors["X"].device)
        return {k: v[index] for k, v in tensors.items()}, (None if y is None else y[index]), source
    if isinstance(dataset, FairDataset):
        return dataset.tensors, dataset.y_tensor, dataset
    X = dataset.X
    columns = dict(X) if isinstance(X, Mapping) else {"X": X}
    tensors = {k: torch.as_tensor(np.asarray(v)) for k, v in columns.items()}
    y = dataset.y
    return tensors, (None if y is None else torch.as_tensor(np.asarray(y))), None


class HostRows:
    """CPU copies of one batch's rows of ``group``, ``y`` and ``sample_weight``, gathered when read.

    What :class:`TrainingBatches` yields under ``"host"`` when the data lives
    on an accelerator (:attr:`~skfairnn.FairBatch.host`). ``rows["group"]``
    gathers the batch's rows of that column on the CPU at the first read; a
    step that never reads them (a method without a per-cell forward) does
    not pay for the gathers. It is deliberately not a ``Mapping``: skorch's
    ``get_len`` then counts it as one column of ``len(rows)`` rows.

    Parameters
    ----------
    columns : dict of str to Tensor
        The training data's columns on the CPU.
    index : LongTensor
        The batch's rows (on the CPU).
    """

    __slots__ = ("_columns", "_index", "_gathered")

    def __init__(self, columns: dict[str, torch.Tensor], index: torch.Tensor):
        self._columns, self._index, self._gathered = columns, index, {}

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key) -> bool:
        return key in self._columns

    def __getitem__(self, key: str) -> torch.Tensor:
        if key not in self._gathered:
            self._gathered[key] = self._columns[key][self._index]
        return self._gathered[key]


def _cut(tensors: dict, y, index_sampler, *, inputs_only: bool, host: dict | None = None):
    device = tensors["X"].device
    for host_index in index_sampler:
        index = _to_device(host_index, device)
        y_batch = None if y is None else y[index]
        if inputs_only:
            yield tensors["X"][index], y_batch
            continue
        batch = {key: value[index] for key, value in tensors.items()}
        if host is not None:
            batch["host"] = HostRows(host, host_index)
        yield batch, y_batch


def _to_device(index: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``index`` on ``device``; to CUDA through pinned memory, so the host does not wait."""
    if device.type == "cuda" and index.device.type == "cpu":
        return index.pin_memory().to(device, non_blocking=True)
    return index.to(device)


class TrainingBatches:
    """skfairnn's default ``iterator_train``: sampled batches with groups and weights.

    Yields ``({"X", "group", "sample_weight"}, y)``; when the data lives on an
    accelerator, the dict also holds ``"host"``: CPU copies of the batch's
    ``group``, ``y`` and ``sample_weight`` (:attr:`~skfairnn.FairBatch.host`).

    Parameters
    ----------
    dataset : FairDataset or Subset of one
        The packed training data (from ``fit``).
    batch_size : int
        Rows per batch (skorch passes ``iterator_train__batch_size`` if set,
        otherwise the estimator's ``batch_size``).
    """

    def __init__(self, dataset, batch_size: int):
        self.tensors, self.y, source = training_tensors(dataset)
        if source is None:
            raise TypeError(
                f"{type(self).__name__} draws batches from the data that "
                "FairNetClassifier.fit packs; it got a "
                f"{type(dataset).__name__}. Call fit(X, y, sensitive_features=...)."
            )
        generator = None if source.seed is None else torch.Generator().manual_seed(source.seed + 1)
        host = {
            "group": self.tensors["group"].cpu(),
            "y": self.y.cpu(),
            "sample_weight": self.tensors["sample_weight"].cpu(),
        }
        self.index_sampler = make_batch_sampler(
            source.sampling,
            groups=host["group"].numpy(),
            y=host["y"].numpy(),
            batch_size=batch_size,
            generator=generator,
            n_batches=source.n_batches,
            sample_weight=host["sample_weight"].numpy(),
        )
        # batches cut on an accelerator carry CPU copies of these columns
        # (FairBatch.host), from which the per-cell forward reads the cell sizes
        self.host = None if self.tensors["X"].device.type == "cpu" else host

    def __len__(self) -> int:
        return len(self.index_sampler)

    def __iter__(self):
        return _cut(self.tensors, self.y, self.index_sampler, inputs_only=False, host=self.host)


class EvaluationBatches:
    """skfairnn's default ``iterator_valid``: the rows in order, inputs only.

    Yields ``(X, y)`` with ``X`` a tensor (``y`` is ``None`` when predicting),
    so skorch's ``infer`` passes ``X`` straight to the module.
    """

    def __init__(self, dataset, batch_size: int):
        self.tensors, self.y, _ = training_tensors(dataset)
        self.index_sampler = RandomBatchSampler(len(self.tensors["X"]), batch_size, shuffle=False)

    def __len__(self) -> int:
        return len(self.index_sampler)

    def __iter__(self):
        return _cut(self.tensors, self.y, self.index_sampler, inputs_only=True)
