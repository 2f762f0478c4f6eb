# SPDX-License-Identifier: BSD-3-Clause
"""The pruning study of Wang, Wang & Liu (ICML 2022): §6.2 / Fig. 2 and App. C.3.

* :func:`pruning_study` — for each seed: Adult resampled to balance the class
  and group membership (the paper's balancing step, §6.2 and App. C.2,
  :func:`~skfairnn_benchmarks.balanced_adult.balance_rows`, option
  ``balance``) and split 80/20; a two-layer ReLU net (hidden 64,
  Adam lr 1e-3) trained with the relaxed DP penalty (γ = 1) on all training
  rows scores every row (:class:`~skfairnn.InfluencePruner`); for each
  strategy (random, prune by accuracy, prune by fairness) and kept fraction a
  fresh net with the relaxed DP penalty is trained on the kept rows only (the
  paper retrains on the subset) with the same number of optimisation steps as
  the full-data model. Baselines on all rows: ERM, FairReg (γ = 1) and
  fairlearn's ``ExponentiatedGradient`` with ``DemographicParity`` on a
  logistic regression (the paper's "reduction"). Reported: test accuracy and
  DP violation |P(ŷ=1|A=1) − P(ŷ=1|A=0)| of hard predictions, and the share
  of group A=0 and of positives among the kept rows.
* :func:`plot_pruning` — Fig. 2 (a)–(c).
* :func:`first_order_check` — App. C.3: Eq. 11 against the actual change of
  the output after one counterfactual update, for random (train, test) pairs.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from skfairnn import ERMClassifier, FairRegClassifier, InfluencePruner
from skfairnn.benchmarks import load_protocol_data
from skfairnn.influence import constraint_gradient
from skfairnn.influence._ntk import _per_sample_output_grads, functional_output
from skfairnn.metrics import demographic_parity_difference
from skfairnn.modules import HingeLoss
from skfairnn.weighting.pruning import STRATEGIES

from .balanced_adult import BALANCING, PAPER_BALANCING, balance_rows, load_balanced_adult

__all__ = [
    "FRACTIONS",
    "first_order_check",
    "plot_pruning",
    "pruning_study",
    "reproduce_c3",
    "reproduce_fig2",
]

#: kept fractions of Fig. 2 (b)–(c)
FRACTIONS = (1.0, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1)


def _resolve_balance(dataset: str, balance) -> str:
    """The balancing step of a run: ``None`` is the paper's on Adult, none elsewhere."""
    if balance is None:
        return PAPER_BALANCING if dataset == "adult" else "none"
    if balance not in BALANCING:
        raise ValueError(f"balance must be one of {BALANCING} or None; got {balance!r}.")
    return balance


def _load_split(dataset: str, seed: int, balance: str, scale: str, data_home):
    """(X_tr, y_tr, A_tr, X_te, y_te, A_te), A coded 1 for the more frequent group."""
    if dataset == "adult":  # balanced before the split, as the paper resamples the dataset
        return load_balanced_adult(seed, balance=balance, scale=scale, data_home=data_home)
    data = load_protocol_data(dataset, seed=seed, data_home=data_home)
    X_train = np.concatenate([data.X_train, data.X_val]).astype(np.float32)
    y_train = np.concatenate([data.y_train, data.y_val])
    a_train = np.concatenate([data.a_train, data.a_val])
    values, counts = np.unique(a_train, return_counts=True)
    majority = values[np.argmax(counts)]
    a_train = (a_train == majority).astype(np.int64)
    kept = balance_rows(a_train, y_train, balance, random_state=seed)  # the fixed split's train
    return (
        X_train[kept], y_train[kept], a_train[kept],
        data.X_test.astype(np.float32), data.y_test, (data.a_test == majority).astype(np.int64),
    )  # fmt: skip


def _dp_metrics(pred, y, A) -> dict:
    pred = np.asarray(pred).astype(int)
    return {
        "accuracy": float((pred == y).mean()),
        "dp_violation": demographic_parity_difference(y, pred, sensitive_features=A),
    }


def _seed_rows(seed, *, epochs, fractions, strategies, options, device, data_home):
    from fairlearn.reductions import DemographicParity, ExponentiatedGradient
    from sklearn.linear_model import LogisticRegression

    dataset = options.get("dataset", "adult")
    balance = _resolve_balance(dataset, options.get("balance"))
    scale = options.get("scale", "standard")
    Xtr, ytr, Atr, Xte, yte, Ate = _load_split(dataset, seed, balance, scale, data_home)
    fair = {
        "constraint": "demographic_parity",
        "fairness_weight": 1.0,
        "gap_scale": options.get("penalty", "proba"),  # "logit": the authors' train.py
    }
    if options.get("loss", "bce") == "hinge":
        fair["criterion"] = HingeLoss

    def net(cls, **params):
        return cls(
            module__hidden_sizes=(64,), lr=1e-3, batch_size=256, max_epochs=epochs,
            batches_per_epoch=math.ceil(len(Xtr) / 256), sampling="random",
            prior_correction=None, random_state=seed, device=device or "cpu", **params,
        )  # fmt: skip

    rows = []

    def record(method, fraction, pred, keep=None):
        row = {"dataset": dataset, "balance": balance, "seed": seed, "method": method}
        row["fraction"] = fraction
        row |= _dp_metrics(pred, yte, Ate)
        if keep is not None:
            row |= {"kept_a0": float((Atr[keep] == 0).mean()), "kept_positive": ytr[keep].mean()}
        rows.append(row)

    record("ERM", 1.0, net(ERMClassifier).fit(Xtr, ytr).predict(Xte))
    fairreg = net(FairRegClassifier, **fair).fit(Xtr, ytr, sensitive_features=Atr)
    record("FairReg", 1.0, fairreg.predict(Xte))
    reduction = ExponentiatedGradient(LogisticRegression(max_iter=1000), DemographicParity())
    reduction.fit(Xtr, ytr, sensitive_features=Atr)
    record("reduction", 1.0, reduction.predict(Xte, random_state=seed))
    for strategy in strategies:
        pruner = InfluencePruner(  # scores once, from the full-data model
            fairreg,
            keep_fraction=1.0,
            strategy=strategy,
            relaxed=options.get("relaxed", "conditional"),
            output=options.get("output", "logit"),
            stratify=options.get("stratify", False),
            aggregate=options.get("aggregate", "dataset"),
            random_state=seed,
        ).fit(Xtr, ytr, sensitive_features=Atr)
        for fraction in fractions:
            keep = pruner.ranking_[: max(1, round(fraction * len(Xtr)))]
            if len(np.unique(ytr[keep])) < 2:  # one class kept: the only classifier is constant
                pred = np.full(len(Xte), ytr[keep][0])
            else:
                groups = Atr[keep] if len(np.unique(Atr[keep])) > 1 else None
                model = net(FairRegClassifier, **fair).fit(
                    Xtr[keep], ytr[keep], sensitive_features=groups
                )
                pred = model.predict(Xte)
            record(f"prune_{strategy}", fraction, pred, keep)
    return rows


def pruning_study(
    seeds: Iterable[int] = range(3),
    *,
    fractions: Sequence[float] = FRACTIONS,
    strategies: Sequence[str] = STRATEGIES,
    epochs: int = 10,
    device=None,
    data_home=None,
    **options,
) -> pd.DataFrame:
    """§6.2 / Fig. 2: accuracy and DP violation against the fraction of rows kept.

    Parameters
    ----------
    seeds : iterable of int
        Seeds of the resampling, split, networks and random pruning.
    fractions : sequence of float, default=FRACTIONS
        Kept fractions.
    strategies : sequence of str, default=("fairness", "accuracy", "random")
    epochs : int, default=10
        Epochs of every network (each retraining takes as many steps as the
        full-data fit).
    device : str, default=None
    data_home : str or Path, default=None
    **options
        ``dataset`` ("adult", the balanced Adult of
        :func:`~skfairnn_benchmarks.balanced_adult.load_balanced_adult`,
        or a protocol dataset: train + validation rows trained on, ``A`` = 1
        for the more frequent group); ``balance``, the paper's balancing step
        (§6.2, App. C.2: "we resample the dataset to balance the class and
        group membership"; :func:`~skfairnn_benchmarks.balanced_adult.balance_rows`):
        ``"marginals"``, ``"cells"`` or ``"none"``, default ``None`` =
        ``"marginals"`` on Adult (before the 80/20 split) and ``"none"`` on a
        protocol dataset (applied to its training rows only); ``scale``
        (Adult); ``loss`` ("bce" or the authors' "hinge"); ``penalty`` (the
        ``gap_scale`` of every ``FairRegClassifier``: "proba" or the
        authors' "logit"); and ``relaxed``, ``output`` (default "logit", the
        estimator's; "auto": the ``penalty`` scale), ``aggregate`` and ``stratify`` of
        :class:`~skfairnn.InfluencePruner`.

    Returns
    -------
    DataFrame
        One row per seed × method × fraction: ``balance`` (the balancing step
        that ran), ``accuracy``, ``dp_violation``, and for the pruning
        strategies ``kept_a0`` and ``kept_positive``.
    """
    unknown = set(options) - {
        "dataset", "balance", "scale", "loss", "penalty", "relaxed", "output", "aggregate",
        "stratify",
    }  # fmt: skip
    if unknown:
        raise TypeError(f"pruning_study got unexpected options {sorted(unknown)}.")
    rows = []
    for seed in seeds:
        rows += _seed_rows(
            seed,
            epochs=epochs,
            fractions=fractions,
            strategies=strategies,
            options=options,
            device=device,
            data_home=data_home,
        )
    return pd.DataFrame(rows)


def plot_pruning(results: pd.DataFrame, *, reference_fraction: float = 0.3):
    """Fig. 2: (a) baselines and prune by fairness, (b) accuracy and (c) DP vs kept %.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    stats = results.groupby(["method", "fraction"])[["accuracy", "dp_violation"]]
    stats = stats.agg(["mean", "std"]).fillna(0.0)
    methods = set(stats.index.get_level_values("method"))
    figure = Figure(figsize=(15, 4.2))
    axes = figure.subplots(1, 3)
    for method in ("ERM", "FairReg", "reduction", "prune_fairness"):
        if method not in methods:
            continue
        sub = stats.loc[method]
        if method == "prune_fairness":
            sub = sub.loc[[reference_fraction]] if reference_fraction in sub.index else sub
        axes[0].errorbar(
            sub[("dp_violation", "mean")],
            sub[("accuracy", "mean")],
            xerr=sub[("dp_violation", "std")],
            yerr=sub[("accuracy", "std")],
            fmt="o",
            capsize=3,
            label=method,
        )
    axes[0].set(xlabel="DP violation", ylabel="test accuracy", title="(a) baselines")
    axes[0].legend(fontsize=8)
    for strategy in STRATEGIES:
        if f"prune_{strategy}" not in methods:
            continue
        sub = stats.loc[f"prune_{strategy}"].sort_index()
        for ax, metric in zip(axes[1:], ("accuracy", "dp_violation")):
            ax.errorbar(
                100 * sub.index.to_numpy(),
                sub[(metric, "mean")],
                yerr=sub[(metric, "std")],
                marker="o",
                capsize=3,
                label=f"prune by {strategy}",
            )
    for ax, metric, title in zip(
        axes[1:], ("accuracy", "dp_violation"), ("(b) test accuracy", "(c) DP violation")
    ):
        if "ERM" in methods:
            ax.axhline(float(stats.loc["ERM"][(metric, "mean")].iloc[0]), color="grey", ls="--")
        ax.set(xlabel="% of training data kept", ylabel=metric, title=title)
        ax.invert_xaxis()
        ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def first_order_check(
    seed: int = 0,
    *,
    pairs: int = 1000,
    epochs: int = 10,
    step_sizes: Sequence[float] = (1e-3, 1.0, 100.0, 1000.0),
    data_home=None,
) -> dict:
    r"""App. C.3: first-order influence (Eq. 11) against the actual output change.

    A two-layer ReLU net (hidden 64) is trained on
    :func:`~skfairnn_benchmarks.balanced_adult.load_balanced_adult`
    with the relaxed DP penalty (γ = 1). For ``pairs`` random (train i, test
    j) pairs the parameters are moved by the counterfactual step of example
    i's objective, :math:`\theta_1 = \theta_0 + \frac{\eta}{n}\nabla_\theta
    [\ell(f(x_i), y_i) + \lambda c_i f(x_i)]` (removal undoes a gradient step,
    Eq. 5–6; :math:`c_i` from
    :func:`~skfairnn.diagnostics.constraint_gradient`, held fixed as
    Assumption 3.2 allows), and the actual change
    :math:`f(x_j;\theta_1) - f(x_j;\theta_0)` is compared with Eq. 11,
    :math:`\frac{\eta}{n}\Theta(x_i, x_j)(\ell'_i + \lambda c_i)`, in float64.

    Returns
    -------
    dict
        ``seed``, ``pairs``, ``n_train`` and ``correlation``: the Pearson
        correlation per step size η (η = 1e-3 is the paper's learning rate).
    """
    Xtr, ytr, Atr, Xte, _, _ = load_balanced_adult(seed, data_home=data_home)
    net = FairRegClassifier(
        constraint="demographic_parity", fairness_weight=1.0, sampling="random",
        prior_correction=None, module__hidden_sizes=(64,), max_epochs=epochs, random_state=seed,
    ).fit(Xtr, ytr, sensitive_features=Atr)  # fmt: skip
    module = copy.deepcopy(net.module_).double().eval()
    params, f = functional_output(module)  # f(params, X) -> logits, Eq. 7's f
    n = len(Xtr)
    Xtr_t = torch.as_tensor(Xtr, dtype=torch.float64)
    Xte_t = torch.as_tensor(Xte, dtype=torch.float64)
    with torch.no_grad():
        f_train = f(params, Xtr_t).numpy()
    c = constraint_gradient(f_train, ytr, Atr)  # relaxed DP on logits, Eq. 16
    dloss = 1 / (1 + np.exp(-f_train)) - ytr  # BCE derivative ℓ'(f_i)
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, n, pairs), rng.integers(0, len(Xte), pairs)
    grad_i = _per_sample_output_grads(f, params, Xtr_t[i])
    grad_j = _per_sample_output_grads(f, params, Xte_t[j])
    ntk = (grad_i * grad_j).sum(1).numpy()  # Θ(x_i, x_j), Eq. 7
    coef = dloss[i] + 1.0 * c[i]  # ℓ'_i + λ c_i with λ = 1
    sizes = [v.numel() for v in params.values()]
    with torch.no_grad():
        f0 = f(params, Xte_t[j]).numpy()
    result = {"seed": seed, "pairs": pairs, "n_train": n, "correlation": {}}
    for eta in step_sizes:
        step = eta / n
        predicted = step * coef * ntk  # Eq. 11
        actual = np.empty(pairs)
        for k in range(pairs):
            direction = torch.split(step * coef[k] * grad_i[k], sizes)
            moved = {name: p + d.view_as(p) for (name, p), d in zip(params.items(), direction)}
            with torch.no_grad():
                actual[k] = float(f(moved, Xte_t[j[k]][None])[0]) - f0[k]
        result["correlation"][f"eta={eta:g}"] = float(np.corrcoef(predicted, actual)[0, 1])
    return result


# ------------------------------------------------------------------ ``skfairnn reproduce``
def reproduce_fig2(seeds, *, quick=False, data_home=None, device=None, out=None):
    """``skfairnn reproduce pruning-adult``: §6.2 / Fig. 2, written to ``out``, as a table.

    The paper's protocol: Adult resampled to balance class and group
    (``balance=PAPER_BALANCING``, §6.2 and App. C.2), then scoring, pruning
    and retraining. ``quick`` keeps 100 % and 30 %, one seed, one epoch.
    """
    seeds = list(seeds)[:1] if quick else list(seeds)
    results = pruning_study(
        seeds,
        dataset="adult",
        balance=PAPER_BALANCING,
        fractions=(1.0, 0.3) if quick else FRACTIONS,
        epochs=1 if quick else 10,
        device=device,
        data_home=data_home,
    )
    columns = [c for c in ("accuracy", "dp_violation", "kept_a0", "kept_positive") if c in results]
    table = results.groupby(["method", "fraction"])[columns].mean().round(3)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        results.to_csv(out / "pruning_adult_runs.csv", index=False)
        table.to_csv(out / "pruning_adult_summary.csv")
        plot_pruning(results).savefig(out / "pruning_adult_fig2.png", dpi=120)
    return table


def reproduce_c3(seeds, *, quick=False, data_home=None, device=None, out=None):
    """``skfairnn reproduce pruning-first-order``: App. C.3 correlations, one row per seed.

    ``quick`` uses 100 pairs, one epoch, one seed and η = 1e-3 only.
    """
    seeds = list(seeds)[:1] if quick else list(seeds)
    rows = []
    for seed in seeds:
        result = first_order_check(
            seed,
            pairs=100 if quick else 1000,
            epochs=1 if quick else 10,
            step_sizes=(1e-3,) if quick else (1e-3, 1.0, 100.0, 1000.0),
            data_home=data_home,
        )
        rows.append({"seed": seed, "pairs": result["pairs"], **result["correlation"]})
    table = pd.DataFrame(rows).set_index("seed").round(4)
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        table.to_csv(Path(out) / "pruning_first_order.csv")
    return table
