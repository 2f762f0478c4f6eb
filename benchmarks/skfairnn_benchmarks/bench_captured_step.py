# SPDX-License-Identifier: BSD-3-Clause
"""The launch-free floor of a training step: one step replayed from a CUDA graph.

The per-step floor of ``cuda_graphs=True``: how fast ERM's, GCM's and
FAIRER's ResNet-18 steps are when nothing has to be launched from the host.
Unlike the option (which captures ``train_step_single`` and steps the
optimiser eagerly, within whole fits), it captures skorch's whole
``train_step``, Adam included, on one fixed batch. Each estimator is fitted
for one epoch (with Adam's ``capturable=True``), then ``net.train_step`` on
one fixed cell-balanced batch is timed eagerly and captured in a
``torch.cuda.CUDAGraph`` and replayed.
skfairnn's step reads nothing from the device, so it can be captured; its
few host constants (GCM's contrast rows and label values) are copied to the
device once here instead of at every step, which a capture needs.

    python -m skfairnn_benchmarks.bench_captured_step [--images 512] [--steps 20] \
        [--conv-sums {grouped,matmul,per_cell}]

Prints milliseconds per step, eager and replayed, and the ratios to ERM's.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

import skfairnn._cell_gradients as cell_gradients_module
import skfairnn.methods.gcm as gcm_module
from skfairnn import ERMClassifier, FairerClassifier, GCMClassifier

from .bench_gradient_methods import ResNet18, add_conv_sums_option, image_data, use_conv_sums


def _device_constants():
    """``host_tensor`` that copies each distinct constant to the device once."""
    made = {}
    copy = cell_gradients_module.host_tensor

    def host_tensor(values, like):
        key = (repr(list(values)), like.dtype, like.device)
        if key not in made:
            made[key] = copy(values, like)
        return made[key]

    return host_tensor


def _batch(X, y, group, per_cell, seed=0):
    """One cell-balanced batch, as ``TrainingBatches`` yields it for data on the GPU."""
    rng = np.random.default_rng(seed)
    rows = np.concatenate([
        rng.choice(np.flatnonzero((group == a) & (y == b)), per_cell, replace=False)
        for a in (0, 1) for b in (0, 1)
    ])  # fmt: skip
    rng.shuffle(rows)
    host = {
        "group": torch.as_tensor(group[rows]),
        "y": torch.as_tensor(y[rows]),
        "sample_weight": torch.ones(len(rows)),
    }
    Xi = {key: value.cuda() for key, value in host.items() if key != "y"}
    Xi["X"] = torch.as_tensor(X[rows]).cuda()
    Xi["host"] = host
    return Xi, host["y"].cuda()


def _milliseconds(fn, steps):
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps * 1e3


def captured(step, steps):
    """Milliseconds per replay of ``step`` captured in a CUDA graph (after a warm-up)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return min(_milliseconds(graph.replay, steps) for _ in range(3))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--steps", type=int, default=20)
    add_conv_sums_option(parser)
    args = parser.parse_args(argv)
    use_conv_sums(args.conv_sums)
    if not torch.cuda.is_available():
        parser.error("needs a CUDA device")
    warnings.filterwarnings("ignore")
    constants = _device_constants()
    cell_gradients_module.host_tensor = gcm_module.host_tensor = constants
    X, y, group = image_data(n=args.images)
    common = dict(
        module=ResNet18, batch_size=128, lr=1e-4, max_epochs=1, device="cuda",
        random_state=0, verbose=0, optimizer__capturable=True,
    )  # fmt: skip
    estimators = {
        "ERM": ERMClassifier(sampling="cell_balanced", **common),
        "GCM(T=2)": GCMClassifier(fairness_weight=3.0, temperature=2, **common),
        "FAIRER(EO)": FairerClassifier(
            alignment_weight=0.01,
            constraint="equalized_odds",
            sampling="cell_balanced",
            **common,
        ),
    }
    batch = _batch(X, y, group, per_cell=32)
    times = {}
    for name, estimator in estimators.items():
        if name != "ERM":
            estimator.set_params(cell_gradients="segments")
        estimator.fit(X, y, sensitive_features=group)

        def step(estimator=estimator):
            return estimator.train_step(batch)

        eager = min(_milliseconds(step, args.steps) for _ in range(3))
        times[name] = (eager, captured(step, args.steps))
        print(f"{name:11s} eager {eager:6.2f} ms/step   replayed {times[name][1]:6.2f} ms/step")
    erm_eager, erm_replayed = times["ERM"]
    for name, (eager, replayed) in times.items():
        print(
            f"{name:11s} eager / ERM eager {eager / erm_eager:5.2f}   replayed / ERM eager "
            f"{replayed / erm_eager:5.2f}   replayed / ERM replayed {replayed / erm_replayed:5.2f}"
        )
    return times


if __name__ == "__main__":
    main()
