# SPDX-License-Identifier: BSD-3-Clause
"""App. C.3 check: first-order influence (Eq. 11) vs the actual output change.

A two-layer ReLU net (hidden 64) is trained on Adult with the relaxed DP
penalty (γ = 1). For 1,000 random (train i, test j) pairs the parameters are
moved by the counterfactual step of example i's objective,
θ₁ = θ₀ + (η/n) ∇_θ[ℓ(f(x_i), y_i) + λ c_i f(x_i)] (removal inverts a gradient
step, Eq. 5–6; c_i = ∂φ̂(f, i)/∂f from :func:`skfairnn.diagnostics.constraint_gradient`,
held fixed as Assumption 3.2 allows), and the actual change f(x_j; θ₁) − f(x_j; θ₀)
is compared with Eq. 11, (η/n) Θ(x_i, x_j) (ℓ'_i + λ c_i). Computed in float64.
Reports the Pearson correlation for several step sizes η (η = 1e-3 is the
paper's learning rate).

Run::

    OMP_NUM_THREADS=2 nice -n 10 python benchmarks/c3_first_order.py --seed 0
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch.func import functional_call

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _adult_raw import balanced_split  # noqa: E402

from skfairnn import FairRegClassifier  # noqa: E402
from skfairnn.diagnostics import constraint_gradient  # noqa: E402


def _flat_grads(module, X):
    """Per-row ∇_θ f(x) as (rows, p), float64, by one backward per row (1,000 rows)."""
    rows = []
    for x in X:
        module.zero_grad()
        module(x[None]).reshape(()).backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in module.parameters()]))
    return torch.stack(rows)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    Xtr, ytr, Atr, Xte, yte, Ate = balanced_split(args.seed)
    net = FairRegClassifier(
        constraint="demographic_parity", fairness_weight=1.0, sampling="random",
        module__hidden_sizes=(64,), max_epochs=args.epochs, random_state=args.seed,
    ).fit(Xtr, ytr, sensitive_features=Atr)  # fmt: skip
    module = copy.deepcopy(net.module_).double().eval()
    n = len(Xtr)
    Xtr_t = torch.as_tensor(Xtr, dtype=torch.float64)
    Xte_t = torch.as_tensor(Xte, dtype=torch.float64)
    with torch.no_grad():
        f_train = module(Xtr_t).numpy()
    c = constraint_gradient(f_train, ytr, Atr)  # Eq. 16 derivative, relaxed DP on logits
    dloss = 1 / (1 + np.exp(-f_train)) - ytr  # BCE derivative ℓ'(f_i)

    rng = np.random.default_rng(args.seed)
    i = rng.integers(0, n, args.pairs)
    j = rng.integers(0, len(Xte), args.pairs)
    Gi, Gj = _flat_grads(module, Xtr_t[i]), _flat_grads(module, Xte_t[j])
    ntk = (Gi * Gj).sum(1).numpy()  # Θ(x_i, x_j), Eq. 7
    coef = dloss[i] + 1.0 * c[i]  # ℓ'_i + λ c_i, λ = 1
    params = {k: v.detach() for k, v in module.named_parameters()}
    sizes = [v.numel() for v in params.values()]
    with torch.no_grad():
        f0 = module(Xte_t[j]).numpy()
    result = {"seed": args.seed, "pairs": args.pairs, "n_train": n, "correlation": {}}
    for eta in (1e-3, 1.0, 100.0, 1000.0):
        step = eta / n
        predicted = step * coef * ntk  # Eq. 11
        actual = np.empty(args.pairs)
        for k in range(args.pairs):
            direction = torch.split(step * coef[k] * Gi[k], sizes)
            moved = {name: p + d.view_as(p) for (name, p), d in zip(params.items(), direction)}
            with torch.no_grad():
                out = functional_call(module, moved, (Xte_t[j[k]][None],)).reshape(())
            actual[k] = float(out) - f0[k]
        result["correlation"][f"eta={eta:g}"] = float(np.corrcoef(predicted, actual)[0, 1])
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
