# SPDX-License-Identifier: BSD-3-Clause
"""FairIF Table 1 (MLP) on coloured digits, and the sample-weight study of §6.4.

``make_colored_digits`` (CI-MNIST on scikit-learn's 8x8 digits, flattened to
192 features) under the three bias settings of FairIF Sec. 6.1; a 60/20/20
stratified split; the validation rows carry their background colour, the
training rows none. Original = an MLP with one hidden layer of 64 units
(App. F) trained by ERM; FairIF = the same MLP retrained with
``FairIFReweighter``'s weights. Test Acc (%), AD (%), AOD, EOD, mean ± std
over seeds. Then, as in §6.4, the training rows' groups (never used in
training) show which cells FairIF up- and down-weights: a box plot of the
weights per (colour, label) cell and the most up-/down-weighted images, saved
as ``fairif_weights_<bias>.png``.

Run::

    nice -n 10 python benchmarks/reproduce_fairif_digits.py --seeds 3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skfairnn import ERMClassifier, FairIFReweighter, ReweightedClassifier  # noqa: E402
from skfairnn.datasets import make_colored_digits  # noqa: E402
from skfairnn.metrics import (  # noqa: E402
    accuracy_difference,
    average_odds_difference,
    equal_opportunity_difference,
)

BIASES = ("group_size", "distribution_shift", "class_size")
PAPER = {  # Table 1 (MLP): Acc %, AD %, AOD, EOD
    ("group_size", "Original"): (97.55, 1.104, 0.013, 0.011),
    ("group_size", "FairIF"): (98.01, 1.012, 0.011, 0.006),
    ("distribution_shift", "Original"): (98.19, 0.256, 0.065, 0.056),
    ("distribution_shift", "FairIF"): (98.49, 0.223, 0.053, 0.031),
    ("class_size", "Original"): (97.27, 0.818, 0.010, 0.012),
    ("class_size", "FairIF"): (97.71, 0.108, 0.008, 0.011),
}


def mlp(seed: int, epochs: int) -> ERMClassifier:
    return ERMClassifier(
        module__hidden_sizes=(64,), max_epochs=epochs, batch_size=64, lr=1e-3, random_state=seed
    )


def split(bias: str, seed: int):
    X, y, A = make_colored_digits(bias=bias, flatten=True, random_state=seed)
    rows = np.arange(len(y))
    cells = 2 * A + y
    train, rest = train_test_split(rows, test_size=0.4, random_state=seed, stratify=cells)
    val, test = train_test_split(rest, test_size=0.5, random_state=seed, stratify=cells[rest])
    return X, y, A, train, val, test


def scores(pred, y, a) -> dict:
    return {
        "Acc": 100 * float(np.mean(pred == y)),
        "AD": 100 * accuracy_difference(y, pred, sensitive_features=a),
        "AOD": average_odds_difference(y, pred, sensitive_features=a),
        "EOD": equal_opportunity_difference(y, pred, sensitive_features=a),
    }


def run_one(bias: str, seed: int, epochs: int, curvature: str):
    X, y, A, train, val, test = split(bias, seed)
    fit_rows = np.concatenate([train, val])
    groups = np.concatenate([np.full(len(train), None), A[val]]).astype(object)
    weighter = FairIFReweighter(mlp(seed, epochs), curvature=curvature, random_state=seed)
    fair = ReweightedClassifier(weighter, mlp(seed, epochs)).fit(
        X[fit_rows], y[fit_rows], sensitive_features=groups
    )
    rows = []
    for method, model in (("Original", fair.weighter_.estimator_), ("FairIF", fair)):
        pred = model.predict(X[test])
        rows.append(
            {"bias": bias, "seed": seed, "method": method, **scores(pred, y[test], A[test])}
        )
    weights = fair.weighter_.sample_weight_[: len(train)]
    return rows, (X[train], y[train], A[train], weights)


def plot_weights(bias: str, X, y, A, weights, path: Path):
    """Weights per (colour, label) cell, and the most up-/down-weighted images."""
    fig = plt.figure(figsize=(11, 4))
    grid = fig.add_gridspec(2, 8)
    ax = fig.add_subplot(grid[:, :3])
    labels = [f"{c}\n{d}" for c in ("blue", "red") for d in ("odd", "even")]
    data = [weights[(A == a) & (y == label)] for a in (0, 1) for label in (0, 1)]
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, 5), labels)
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_ylabel("FairIF sample weight")
    ax.set_title(f"{bias}: weight per cell (n = {[len(d) for d in data]})", fontsize=9)
    order = np.argsort(weights)
    for row, picks in enumerate((order[::-1][:5], order[:5])):
        for col, index in enumerate(picks):
            image = X[index].reshape(3, 8, 8).transpose(1, 2, 0)
            axis = fig.add_subplot(grid[row, 3 + col])
            axis.imshow(np.clip(image, 0, 1))
            axis.set_axis_off()
            axis.set_title(f"{weights[index]:.2f} y={y[index]}", fontsize=8)
    fig.suptitle("Top: most up-weighted, bottom: most down-weighted training images", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--curvature", default="gauss_newton", choices=["hessian", "gauss_newton"])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    rows, cells = [], []
    for bias in BIASES:
        for seed in range(args.seeds):
            result, (X, y, A, weights) = run_one(bias, seed, args.epochs, args.curvature)
            rows += result
            for a in (0, 1):
                for label in (0, 1):
                    mask = (A == a) & (y == label)
                    cells.append(
                        {
                            "bias": bias,
                            "seed": seed,
                            "colour": ["blue", "red"][a],
                            "label": ["odd", "even"][label],
                            "n": int(mask.sum()),
                            "mean_weight": float(weights[mask].mean()),
                        }
                    )
            if seed == 0:
                plot_weights(bias, X, y, A, weights, args.out / f"fairif_weights_{bias}.png")
    results = pd.DataFrame(rows)
    grouped = results.groupby(["bias", "method"], sort=False)[["Acc", "AD", "AOD", "EOD"]]
    summary = (
        grouped.mean().round(3).astype(str) + " ± " + grouped.std().fillna(0).round(3).astype(str)
    )
    paper = pd.DataFrame(PAPER, index=["Acc", "AD", "AOD", "EOD"]).T.add_prefix("paper_")
    paper.index.names = ["bias", "method"]
    summary = summary.join(paper)
    cell_table = (
        pd.DataFrame(cells)
        .groupby(["bias", "colour", "label"], sort=False)
        .mean(numeric_only=True)[["n", "mean_weight"]]
    )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary)
        print(cell_table.round(3))
    results.to_csv(args.out / "fairif_digits.csv", index=False)
    summary.to_csv(args.out / "fairif_digits_summary.csv")
    cell_table.to_csv(args.out / "fairif_digits_cell_weights.csv")


if __name__ == "__main__":
    main()
