# SPDX-License-Identifier: BSD-3-Clause
"""A training step reads nothing of the batch's tensors back to the host.

On CUDA every ``.tolist()``, ``.item()`` or ``bool(tensor)`` of a device
tensor makes the host wait for the device. The batch's tensors here stand for
device tensors: reading one raises. The batch carries CPU copies of its
groups, labels and weights (``FairBatch.host``, as ``TrainingBatches`` yields
them when the data lives on an accelerator), from which the per-cell layout
is read.
"""

import numpy as np
import pytest
import torch
from skorch.dataset import get_len

import skfairnn._segments as segments_module
from skfairnn import (
    FairerClassifier,
    FairRegClassifier,
    GCMClassifier,
    RunnerClassifier,
)
from skfairnn._base import FairBatch
from skfairnn._batches import FairDataset, HostRows, TrainingBatches
from skfairnn._forward import forward_by_cell

_HOST_READS = {
    torch.Tensor.tolist,
    torch.Tensor.item,
    torch.Tensor.numpy,
    torch.Tensor.cpu,
    torch.Tensor.__bool__,
    torch.Tensor.__int__,
    torch.Tensor.__float__,
    torch.Tensor.__index__,
}


class DeviceOnly(torch.Tensor):
    """A tensor whose values the host may not read (it stands for one on an accelerator)."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in _HOST_READS:
            raise AssertionError(f"the training step read a batch tensor on the host: {func}")
        return super().__torch_function__(func, types, args, kwargs or {})


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    group = rng.integers(0, 2, n)
    y = (X[:, 0] + 0.5 * group + rng.normal(scale=0.5, size=n) > 0).astype(int)
    return X, y, group


def _step_input(n_rows=40, seed=1):
    """One training batch as ``train_step_single`` receives it, with host copies."""
    X, y, group = _data(n_rows, seed)
    weight = np.ones(n_rows, dtype=np.float32)
    weight[::7] = 0.0  # rows of weight 0, as a weighter leaves them
    host = {
        "group": torch.as_tensor(group),
        "y": torch.as_tensor(y),
        "sample_weight": torch.as_tensor(weight),
    }
    Xi = {
        "X": torch.as_tensor(X).as_subclass(DeviceOnly),
        "group": host["group"].clone().as_subclass(DeviceOnly),
        "sample_weight": host["sample_weight"].clone().as_subclass(DeviceOnly),
        "host": host,
    }
    return Xi, host["y"].clone().as_subclass(DeviceOnly)


def test_device_only_tensors_refuse_host_reads():
    Xi, yi = _step_input()
    with pytest.raises(AssertionError, match="host"):
        yi.tolist()
    with pytest.raises(AssertionError, match="host"):
        bool(Xi["sample_weight"].sum() > 0)


def test_forward_by_cell_reads_the_layout_from_the_host_copies():
    Xi, yi = _step_input()
    batch = FairBatch(Xi["X"], yi.float(), Xi["group"], Xi["sample_weight"], 2, Xi["host"])
    forward = forward_by_cell(lambda X: X.sum(1), batch, "equalized_odds")
    assert len(forward.cells.codes) == 4
    without_host = FairBatch(Xi["X"], yi.float(), Xi["group"], Xi["sample_weight"], 2)
    with pytest.raises(AssertionError, match="host"):
        forward_by_cell(lambda X: X.sum(1), without_host, "equalized_odds")


@pytest.mark.filterwarnings("ignore::skfairnn.exceptions.CollapseWarning")
@pytest.mark.parametrize(
    "estimator",
    [
        GCMClassifier(temperature=2.0, gradient="sum"),
        GCMClassifier(constraint="demographic_parity", dp_cells="label_cells"),
        FairerClassifier(constraint="equalized_odds", alignment_weight=0.1),
        FairerClassifier(importance="unit", alignment_weight=0.1),
        RunnerClassifier(constraint="equalized_odds"),
        FairRegClassifier(),
    ],
    ids=["gcm-sum", "gcm-dp-label-cells", "fairer-eo", "fairer-dp-unit", "runner", "fairreg"],
)
@pytest.mark.parametrize("segmented", [False, True], ids=["loop", "segments"])
def test_training_step_reads_no_batch_tensor_on_the_host(estimator, segmented, monkeypatch):
    if not segmented:  # the per-cell loop (batch-norm networks take it)
        monkeypatch.setattr(segments_module, "SEGMENTED_MODULES", ())
    X, y, group = _data()
    net = estimator.set_params(max_epochs=1, random_state=0, module__hidden_sizes=(8,))
    net.fit(X, y, sensitive_features=group)
    Xi, yi = _step_input()
    step = net.train_step_single((Xi, yi))
    assert torch.isfinite(step["loss"].as_subclass(torch.Tensor))
    assert step["fairness_penalty"] is not None


def test_training_batches_carry_host_copies_of_their_rows():
    """On an accelerator the batches carry CPU copies of group, y and weight: the same rows."""
    X, y, group = _data(60)
    weight = np.linspace(0.5, 1.5, 60, dtype=np.float32)
    dataset = FairDataset(X, y, group=group, sample_weight=weight, sampling="cell_balanced",
                          n_batches=3, seed=0, device="cpu")  # fmt: skip
    batches = TrainingBatches(dataset, batch_size=16)
    assert batches.host is None  # on the CPU the batch is its own host copy
    batches.host = {
        "group": torch.as_tensor(group),
        "y": torch.as_tensor(y),
        "sample_weight": torch.as_tensor(weight),
    }
    for Xi, yi in batches:
        host = Xi["host"]
        assert torch.equal(host["group"], Xi["group"])
        assert torch.equal(host["sample_weight"], Xi["sample_weight"])
        assert torch.equal(host["y"], yi)


def test_host_rows_gather_a_column_when_it_is_first_read():
    """A step that never reads the host copies (no per-cell forward) pays no gathers."""
    columns = {"group": torch.arange(10), "y": torch.arange(10) % 2}
    rows = HostRows(columns, torch.tensor([3, 1]))
    assert len(rows) == 2 and "y" in rows and "X" not in rows
    assert not rows._gathered
    assert rows["group"].tolist() == [3, 1]
    assert list(rows._gathered) == ["group"]
    assert rows["group"] is rows["group"]  # gathered once
    # skorch records the batch size through get_len: one column of len(rows) rows
    assert get_len({"X": torch.zeros(2, 3), "host": rows}) == 2
