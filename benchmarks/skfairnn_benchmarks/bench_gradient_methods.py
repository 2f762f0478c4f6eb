# SPDX-License-Identifier: BSD-3-Clause
"""Cost of GCM, FAIRER, FairReg and RUNNER relative to ERM with the same sampling and epochs.

CPU (default): Adult-sized tabular data (27k × 120 one-hot features, the
paper's 120→200→200→1 MLP, batch 2000; ``--data adult`` for the Fair Mixup
Adult split itself). CUDA: a ResNet-18 on 64×64 images::

    OMP_NUM_THREADS=1 python -m skfairnn_benchmarks.bench_gradient_methods
    python -m skfairnn_benchmarks.bench_gradient_methods --data adult --batch-size 256 \
        --batches-per-epoch 50 --threads 1
    python -m skfairnn_benchmarks.bench_gradient_methods --model resnet18 --device cuda \
        [--cudnn-benchmark] [--conv-sums {grouped,matmul,per_cell}] [--cuda-graphs]

Each fit is timed ``--repeats`` times, the estimators taking turns (the
minimum is reported), and the ratio to the ERM fit with the same sampling is
printed; a JSON summary goes
to ``--out``. ``--cuda-graphs`` adds a ``+graphs`` twin of every row, fitted
with ``cuda_graphs=True``; its ratio is printed against the ERM twin (both
replayed) and against the eager ERM. ``--clock process`` times the CPU seconds of this process
instead of the wall clock (CPU runs only): on a machine whose cores other
jobs share, a fit waiting for a core then does not count the wait.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import torch
from sklearn.base import clone
from torch import nn

import skfairnn._segments as segments
from skfairnn import (
    ERMClassifier,
    FairerClassifier,
    FairRegClassifier,
    GCMClassifier,
    RunnerClassifier,
)
from skfairnn._conv_sums import CONV_SUMS


class BasicBlock(nn.Module):
    """ResNet basic block (two 3×3 convs with batch norm and a skip)."""

    def __init__(self, in_planes: int, planes: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18 (torchvision layout, 4×2 basic blocks) with one output logit."""

    def __init__(self, in_channels: int = 3, width: int = 64):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 7, 2, 3, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, 1),
        )
        blocks, planes = [], width
        for stage, stride in enumerate((1, 2, 2, 2)):
            out = width * 2**stage
            blocks += [BasicBlock(planes, out, stride), BasicBlock(out, out, 1)]
            planes = out
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(planes, 1)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)).mean((2, 3))).squeeze(-1)


def tabular_data(n=27_000, d=120, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, d)) < 0.2).astype(np.float32)
    group = (rng.random(n) < 0.33).astype(int)
    y = ((X[:, :10].sum(1) + 0.8 * group + rng.normal(size=n)) > 2.5).astype(int)
    return X, y, group


def adult_data(seed=0):
    """The Fair Mixup Adult training split (``SKFAIRNN_DATA_HOME``)."""
    from skfairnn.benchmarks import load_protocol_data

    data = load_protocol_data("adult", seed=seed)
    return data.X_train, data.y_train, data.a_train


def image_data(n=2048, size=64, seed=0):
    """Random images whose label depends on the first channel's mean and the group.

    All four (group, label) cells are populated (about 43 % positives in group
    0, 57 % in group 1), so cell-balanced batches of 128 have four cells of 32.
    (Until this version the group shift dwarfed the signal and group 1 had no
    negatives: cell-balanced batches had three cells of 42.)
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3, size, size)).astype(np.float32)
    group = rng.integers(0, 2, n)
    signal = X[:, 0].mean((1, 2)) * size  # a standard normal per image
    y = (signal + 0.5 * group + rng.normal(size=n) > 0.25).astype(int)
    return X, y, group


CLOCKS = {"wall": time.perf_counter, "process": time.process_time}


def add_cudnn_benchmark_option(parser: argparse.ArgumentParser) -> None:
    """``--cudnn-benchmark``: ``torch.backends.cudnn.benchmark = True`` for every fit."""
    parser.add_argument(
        "--cudnn-benchmark", action="store_true",
        help="torch.backends.cudnn.benchmark = True (process-wide) for every fit, ERM "
        "included: cuDNN times its algorithms per shape",
    )  # fmt: skip


def add_conv_sums_option(parser: argparse.ArgumentParser) -> None:
    """``--conv-sums``: how the segments take a convolution's per-cell weight gradients."""
    parser.add_argument(
        "--conv-sums", choices=CONV_SUMS, default=None,
        help="how the segments take a convolution's per-cell weight gradients "
        f"(skfairnn._conv_sums; default: {segments._CONV_SUMS!r})",
    )  # fmt: skip


def use_conv_sums(way: str | None) -> None:
    """Make ``way`` (``--conv-sums``) the segments' way for this process; ``None``: the default."""
    if way:
        segments._CONV_SUMS = way


def resnet_ab_setup(description: str, argv=None):
    """The command line, data and estimator settings of the in-process ResNet-18 A/Bs.

    ``bench_cell_norm`` and ``bench_conv_sums`` fit ResNet-18 on ``--images``
    synthetic images of ``--size`` pixels in ``--rounds`` alternating rounds
    (``--cudnn-benchmark``: with ``torch.backends.cudnn.benchmark`` on).
    Returns ``(args, (X, y, group), common)``, ``common`` being the estimator
    parameters they share.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--size", type=int, default=64, help="image side")
    parser.add_argument("--width", type=int, default=64, help="ResNet-18 base width")
    parser.add_argument("--rounds", type=int, default=3)
    add_cudnn_benchmark_option(parser)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    common = dict(
        module=ResNet18, module__width=args.width, batch_size=128, lr=1e-4, max_epochs=2,
        device=args.device, random_state=0, verbose=0,
    )  # fmt: skip
    return args, image_data(n=args.images, size=args.size), common


def time_fit(estimator, X, y, group, repeats, clock=time.perf_counter):
    best = np.inf
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = clock()
        estimator.fit(X, y, sensitive_features=group)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, clock() - start)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["mlp", "resnet18"], default="mlp")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--data", choices=["synthetic", "adult"], default="synthetic", help="tabular data (mlp)"
    )
    parser.add_argument("--batch-size", type=int, default=None, help="mlp: 2000, resnet18: 128")
    parser.add_argument("--batches-per-epoch", type=int, default=None, help="None: one pass")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--methods", default=None, help="comma-separated subset of the rows")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall: elapsed time; process: CPU time of this process (CPU runs only)",
    )
    parser.add_argument(
        "--cell-gradients",
        choices=["auto", "segments", "loop"],
        default="auto",
        help="GCM's and FAIRER's cell_gradients: auto (segments for skfairnn's MLPs, the "
        "loop otherwise), segments (one forward, per-cell batch-norm statistics), loop",
    )
    add_cudnn_benchmark_option(parser)
    add_conv_sums_option(parser)
    parser.add_argument(
        "--cuda-graphs", action="store_true",
        help="also fit every row with cuda_graphs=True (a '+graphs' twin)",
    )  # fmt: skip
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    use_conv_sums(args.conv_sums)
    if args.clock == "process" and args.device != "cpu":
        parser.error("--clock process counts CPU time only; use it with --device cpu.")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.model == "mlp":
        X, y, group = tabular_data() if args.data == "synthetic" else adult_data()
        common = dict(batch_size=2000, module__hidden_sizes=(200, 200))
    else:
        X, y, group = image_data()
        common = dict(module=ResNet18, batch_size=128, lr=1e-4)
    if args.batch_size:
        common["batch_size"] = args.batch_size
    common.update(
        max_epochs=args.epochs,
        device=args.device,
        random_state=0,
        batches_per_epoch=args.batches_per_epoch,
    )
    per_cell = {"cell_gradients": args.cell_gradients}
    runs = {
        "ERM(cell_balanced)": ERMClassifier(sampling="cell_balanced", **common),
        "GCM(T=2)": GCMClassifier(fairness_weight=3.0, temperature=2, **per_cell, **common),
        "GCM(T=0,abs,all)": GCMClassifier(
            fairness_weight=1.0,
            temperature=0,
            magnitude="abs",
            penalized_params="all",
            **per_cell,
            **common,
        ),
        "FAIRER(EO)": FairerClassifier(
            alignment_weight=0.01,
            constraint="equalized_odds",
            sampling="cell_balanced",
            **per_cell,
            **common,
        ),
        "FairReg(EO)": FairRegClassifier(fairness_weight=1.0, **common),
        "ERM(group_balanced)": ERMClassifier(sampling="group_balanced", **common),
        "FAIRER(DP)": FairerClassifier(alignment_weight=0.01, **per_cell, **common),
        "RUNNER(DP)": RunnerClassifier(fairness_weight=0.3, top_k=0.1, **common),
    }
    if args.methods:
        chosen = set(args.methods.split(","))
        runs = {name: est for name, est in runs.items() if name in chosen or "ERM" in name}
    if args.cuda_graphs:
        runs.update(
            {
                f"{name}+graphs": clone(est).set_params(cuda_graphs=True)
                for name, est in runs.items()
            }
        )
    baseline = {"cell_balanced": "ERM(cell_balanced)", "group_balanced": "ERM(group_balanced)"}
    ERMClassifier(**{**common, "max_epochs": 1}).fit(X, y, sensitive_features=group)  # warm-up
    # the estimators alternate within each repeat, so a drift of the machine's speed
    # (shared cores) reaches every row alike; the minimum over the repeats is kept
    seconds = {name: np.inf for name in runs}
    for _ in range(args.repeats):
        for name, est in runs.items():
            seconds[name] = min(seconds[name], time_fit(est, X, y, group, 1, CLOCKS[args.clock]))
    rows = []
    for name, est in runs.items():
        sampling = est._sampler_name()  # "auto" resolved for the method's constraint
        graphs = "+graphs" if est.cuda_graphs else ""
        erm = baseline[sampling]
        ratio = seconds[name] / seconds[erm + graphs]
        row = {"method": name, "seconds": seconds[name], "ratio_to_erm": ratio}
        line = f"{name:28s} {seconds[name]:8.2f} s   ×{ratio:5.2f} {erm}{graphs}"
        if graphs:
            row["ratio_to_eager_erm"] = seconds[name] / seconds[erm]
            line += f"   ×{row['ratio_to_eager_erm']:5.2f} {erm}"
        rows.append(row)
        print(line)
    summary = {
        "model": args.model,
        "device": args.device,
        "shape": list(X.shape),
        "batch_size": common["batch_size"],
        "batches_per_epoch": args.batches_per_epoch,
        "threads": torch.get_num_threads(),
        "clock": args.clock,
        "cell_gradients": args.cell_gradients,
        "cudnn_benchmark": args.cudnn_benchmark,
        "conv_sums": segments._CONV_SUMS,
        "cuda_graphs": args.cuda_graphs,
        "epochs": args.epochs,
        "rows": rows,
    }
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(summary, fh, indent=2)
    return summary


if __name__ == "__main__":
    main()
