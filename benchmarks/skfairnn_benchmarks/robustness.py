# SPDX-License-Identifier: BSD-3-Clause
"""The robustness study: every estimator at its defaults on data it was never tuned on.

What a practitioner gets, judged through ``predict()`` as shipped — no epoch
selection, no threshold of the harness's own. Every estimator runs with
``constraint="equalized_odds"`` at its defaults and on a documented
three-value grid of its main strength (:data:`GRID`) on all six real datasets
(:func:`~skfairnn.benchmarks.load_protocol_data`) and three synthetic stress
sets from :func:`~skfairnn.datasets.make_biased_classification`
(:data:`STRESS_SETS`: 5 % positives; a 10 % minority group; three groups),
over several seeds (at least :data:`MIN_SEEDS` for datasets with small test
splits). fairlearn's ``ExponentiatedGradient`` and ``ThresholdOptimizer`` over
logistic regression run in the same study as the references (``"expgrad"``,
``"threshold"``); ``"threshold_erm"`` is ``ThresholdOptimizer`` over the default
ERM network, skfairnn's post-processing baseline.

Each run records, on the validation and the test split, AP, AUC and — for
every decision rule of :mod:`skfairnn._decision` applied to the same fitted
network (``none``, ``prior_shift``, ``match_rate``) and for what ``predict``
returned (``shipped``) — accuracy, recall, predicted positive rate, ΔDP and
ΔEO (sum of the TPR and FPR gaps), and whether the fit collapsed.
:func:`summarize_robustness` then picks each method's grid value on the
validation split and checks the issue's acceptance rule per dataset
(:func:`acceptance`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from skfairnn import (
    AdversarialClassifier,
    ARLClassifier,
    ERMClassifier,
    FairerClassifier,
    FairIFReweighter,
    FairMixupClassifier,
    FairNetClassifier,
    FairNeuronClassifier,
    FairRegClassifier,
    FairSMOTEClassifier,
    GCMClassifier,
    InfluencePruner,
    KamiranCaldersReweighter,
    ReweightedClassifier,
    RunnerClassifier,
)
from skfairnn._decision import (
    is_collapsed,
    match_rate_offset,
    max_accuracy_offset,
    prior_shift_offset,
)
from skfairnn.benchmarks import (
    decision_metrics,
    drop_failed,
    fitted_network,
    load_protocol_data,
    predicts_with_groups,
    run_tasks,
    score_metrics,
)
from skfairnn.datasets import make_biased_classification

__all__ = [
    "GRID",
    "ROBUSTNESS_DATASETS",
    "STRESS_SETS",
    "acceptance",
    "load_robustness_data",
    "plot_robustness",
    "robustness_study",
    "summarize_robustness",
    "write_report",
]

CONSTRAINT = "equalized_odds"
RULES = ("none", "prior_shift", "match_rate", "max_accuracy")
#: synthetic stress sets: keyword arguments of make_biased_classification
STRESS_SETS = {
    "synthetic_rare": dict(bias="class_size", positive_fraction=0.05),
    "synthetic_minority": dict(bias="group_size", minority_fraction=0.1),
    "synthetic_three_groups": dict(bias="distribution_shift", n_groups=3),
}
ROBUSTNESS_DATASETS = (
    "adult",
    "compas",
    "german",
    "lsac",
    "credit_default",
    "bank",
    *STRESS_SETS,
)
#: datasets whose test split is small get at least this many seeds
MIN_SEEDS = {"german": 10}
N_SYNTHETIC = 10_000

#: method -> (values of its main strength; the estimator's default is the middle one)
GRID = {
    "erm": (None,),
    "fairreg": (0.3, 1.0, 3.0),
    "gcm": (0.3, 1.0, 3.0),
    "fairer": (0.2, 0.6, 2.0),
    "runner": (0.3, 1.0, 3.0),
    "adversarial": (0.3, 1.0, 3.0),
    "fair_mixup": (0.15, 0.5, 1.5),
    # ARL has no λ: the grid scales the adversarial part of its example weights,
    # 1 + η·n·f/Σf (η = 1 is the paper's ARL; 0 would be ERM)
    "arl": (0.3, 1.0, 3.0),
    "fairneuron": (1e-4, 1e-3, 1e-2),  # theta, the rarity threshold of the biased rows
    "fairif": (None,),
    "reweighting": (None,),
    "prune": (None,),
    "expgrad": (0.01,),
    "threshold": (None,),
    "fair_smote": (1.0,),  # balance_ratio: the paper's full balance (its default)
    "threshold_erm": (None,),  # ThresholdOptimizer on the default ERM network
}
#: methods also run with random batches at their default strength (an ablation of sampling)
SAMPLING_ABLATION = ("fairreg", "gcm", "fairer", "runner")
_NETWORKS = {
    "fairreg": FairRegClassifier,
    "gcm": GCMClassifier,
    "fairer": FairerClassifier,
    "runner": RunnerClassifier,
    "adversarial": AdversarialClassifier,
    "fair_mixup": FairMixupClassifier,
}
#: share of training rows whose group FairIF may see (the rest are missing)
FAIRIF_KNOWN = 0.2


# ------------------------------------------------------------------------------ data
def _synthetic(name: str, seed: int) -> Bunch:
    X, y, a = make_biased_classification(N_SYNTHETIC, random_state=seed, **STRESS_SETS[name])
    X = X.astype(np.float32)
    rows = np.arange(len(y))
    strata = a * 2 + y
    train, rest = train_test_split(rows, test_size=0.4, random_state=seed, stratify=strata)
    val, test = train_test_split(rest, test_size=0.5, random_state=seed, stratify=strata[rest])
    out = Bunch(DESCR=f"{name}: 60/20/20 split, seed {seed}")
    for split, index in (("train", train), ("val", val), ("test", test)):
        out[f"X_{split}"], out[f"y_{split}"], out[f"a_{split}"] = X[index], y[index], a[index]
    return out


@lru_cache(maxsize=4)
def load_robustness_data(name: str, seed: int, data_home=None) -> Bunch:
    """Train/validation/test splits of a study dataset (real or synthetic) for one seed."""
    if name in STRESS_SETS:
        return _synthetic(name, seed)
    return load_protocol_data(name, seed=seed, data_home=data_home)


# --------------------------------------------------------------------------- methods
def build_estimator(method: str, weight, seed: int, *, quick: bool, device, sampling=None):
    """The estimator of one run: defaults, ``constraint="equalized_odds"``, the grid value."""
    common = {"random_state": seed}
    if quick:
        common["max_epochs"] = 2
    if device is not None:
        common["device"] = device
    if method == "erm":
        return ERMClassifier(**common)
    if method == "fair_smote":
        return FairSMOTEClassifier(**common, constraint=CONSTRAINT, balance_ratio=weight)
    if method == "threshold_erm":
        from fairlearn.postprocessing import ThresholdOptimizer

        return ThresholdOptimizer(
            estimator=ERMClassifier(**common),
            constraints="equalized_odds",
            predict_method="decision_function",
        )
    if method in _NETWORKS:
        params = dict(common, constraint=CONSTRAINT, fairness_weight=weight)
        if sampling is not None:
            params["sampling"] = sampling
        return _NETWORKS[method](**params)
    if method == "arl":  # no constraint: ARL never reads the groups
        return ARLClassifier(fairness_weight=weight, **common)
    if method == "fairneuron":
        return FairNeuronClassifier(theta=weight, **common)
    if method == "fairif":
        weighter = FairIFReweighter(ERMClassifier(**common), random_state=seed)
        return ReweightedClassifier(weighter, ERMClassifier(**common))
    if method == "reweighting":
        return ReweightedClassifier(KamiranCaldersReweighter(), ERMClassifier(**common))
    if method == "prune":
        scorer = FairRegClassifier(constraint=CONSTRAINT, **common)
        pruner = InfluencePruner(scorer, constraint=CONSTRAINT, random_state=seed)
        return ReweightedClassifier(pruner, clone(scorer))
    from sklearn.linear_model import LogisticRegression

    if method == "expgrad":
        from fairlearn.reductions import EqualizedOdds, ExponentiatedGradient

        return ExponentiatedGradient(
            LogisticRegression(max_iter=1000), EqualizedOdds(difference_bound=weight)
        )
    if method == "threshold":
        from fairlearn.postprocessing import ThresholdOptimizer

        return ThresholdOptimizer(
            estimator=LogisticRegression(max_iter=1000),
            constraints="equalized_odds",
            predict_method="predict_proba",
        )
    raise ValueError(f"unknown method {method!r}; choose from {sorted(GRID)}.")


def _train_groups(method: str, a: np.ndarray, seed: int):
    """FairIF sees the group of :data:`FAIRIF_KNOWN` of the rows; the others are missing."""
    if method != "fairif":
        return a
    rng = np.random.default_rng(seed)
    known = rng.random(len(a)) < FAIRIF_KNOWN
    return np.where(known, a.astype(object), None)


# ------------------------------------------------------------------------ one run
def _decided(y, a, hard) -> dict:
    """The study's columns of :func:`~skfairnn.benchmarks.decision_metrics` (``rate``)."""
    out = decision_metrics(y, hard, a)
    return {"acc": out["acc"], "recall": out["recall"], "rate": out["positive_rate"],
            "dp": out["dp"], "eo": out["eo"], "eo_max": out["eo_max"]}  # fmt: skip


def _fairlearn_outputs(estimator, method, data, seed):
    """Scores and hard decisions of a fairlearn estimator on each split."""
    out = {}
    for split in ("train", "val", "test"):
        X, a = data[f"X_{split}"].astype(np.float64), data[f"a_{split}"]
        if predicts_with_groups(estimator):  # a post-processor: "threshold", "threshold_erm"
            scores = estimator._pmf_predict(X, sensitive_features=a)[:, 1]
            hard = estimator.predict(X, sensitive_features=a, random_state=seed)
        else:
            scores = estimator._pmf_predict(X)[:, 1]
            hard = estimator.predict(X, random_state=seed)
        out[split] = (scores, np.asarray(hard))
    return out


def run_robustness_task(task: dict) -> dict:
    """Fit one (dataset, seed, method, grid value) and measure it on every split and rule."""
    import time

    data = load_robustness_data(task["dataset"], task["seed"], task["data_home"])
    estimator = build_estimator(
        task["method"],
        task["weight"],
        task["seed"],
        quick=task["quick"],
        device=task["device"],
        sampling=task["sampling"],
    )
    a_train = _train_groups(task["method"], data.a_train, task["seed"])
    X_train = data.X_train
    if not isinstance(estimator, (FairNetClassifier, ReweightedClassifier)):
        X_train = X_train.astype(np.float64)  # fairlearn's references (float32 trips pandas)
    start = time.perf_counter()
    estimator.fit(X_train, data.y_train, sensitive_features=a_train)
    row = {"fit_time": time.perf_counter() - start}
    network = fitted_network(estimator)
    if network is None:  # fairlearn's estimators (a post-processor on ERM included)
        outputs = _fairlearn_outputs(estimator, task["method"], data, task["seed"])
        for split in ("val", "test"):
            y, a = data[f"y_{split}"], data[f"a_{split}"]
            scores, hard = outputs[split]
            row |= {f"{split}_{k}": v for k, v in score_metrics(y, scores).items()}
            decided = _decided(y, a, hard)  # one decision rule: the same under every name
            for rule in ("shipped", *RULES):
                row |= {f"{split}_{rule}_{k}": v for k, v in decided.items()}
        for rule in ("shipped", *RULES):
            row[f"{rule}_collapsed"] = bool(outputs["train"][1].std() == 0)
        return row

    offset = network.decision_offset_
    # one forward per split: predict() is decision_function() >= 0 (the meta-estimator
    # delegates to its network), and the raw logit is that minus the fitted offset
    splits = ("train", "val", "test")
    shipped_logits = {s: network.decision_function(data[f"X_{s}"]) for s in splits}
    raw = {s: logits - offset for s, logits in shipped_logits.items()}
    data_prior = float(np.mean(data.y_train))
    offsets = {
        "none": 0.0,
        "prior_shift": prior_shift_offset(data_prior, network.training_label_prior_),
        "match_rate": match_rate_offset(raw["train"], data_prior),
        "max_accuracy": max_accuracy_offset(raw["train"], data.y_train),
    }
    train_auc = score_metrics(data.y_train, raw["train"])["auc"]
    row |= {"train_auc": train_auc, "shipped_offset": offset}
    row |= {f"{rule}_offset": value for rule, value in offsets.items()}
    shipped = {s: logits >= 0 for s, logits in shipped_logits.items()}
    for split in ("val", "test"):
        y, a = data[f"y_{split}"], data[f"a_{split}"]
        row |= {f"{split}_{k}": v for k, v in score_metrics(y, raw[split]).items()}
        decisions = {"shipped": shipped[split]}
        decisions |= {rule: raw[split] + offsets[rule] >= 0 for rule in RULES}
        for rule, hard in decisions.items():
            row |= {f"{split}_{rule}_{k}": v for k, v in _decided(y, a, hard).items()}
    train_rates = {"shipped": shipped["train"].mean()}
    train_rates |= {rule: np.mean(raw["train"] + offsets[rule] >= 0) for rule in RULES}
    for rule, rate in train_rates.items():
        row[f"{rule}_collapsed"] = bool(is_collapsed(train_auc, float(rate)))
    return row


# --------------------------------------------------------------------------- the study
def study_tasks(
    datasets, seeds, *, methods=None, quick=False, data_home=None, device=None, min_seeds=None
) -> list[dict]:
    """Every run of the study, in a fixed order (``methods``: a subset of :data:`GRID`)."""
    methods = list(GRID) if methods is None else list(methods)
    unknown = sorted(set(methods) - set(GRID))
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from {list(GRID)}.")
    seeds = list(seeds)
    min_seeds = MIN_SEEDS if min_seeds is None else min_seeds
    first = seeds[0] if seeds else 0
    per_dataset = {}
    for dataset in datasets:
        n_seeds = max(len(seeds), min_seeds.get(dataset, 0))
        extra = [s for s in range(first, first + 2 * n_seeds) if s not in seeds]
        per_dataset[dataset] = (seeds + extra)[:n_seeds]
    tasks = []
    # seed by seed, so that an interrupted study has every dataset's first seeds
    for rank in range(max(map(len, per_dataset.values()), default=0)):
        for dataset, dataset_seeds in per_dataset.items():
            if rank >= len(dataset_seeds):
                continue
            seed = dataset_seeds[rank]
            for method in methods:
                values = GRID[method]
                runs = [(value, None) for value in values]
                if method in SAMPLING_ABLATION:
                    runs.append((values[1], "random"))
                for value, sampling in runs:
                    tasks.append(
                        {
                            "dataset": dataset,
                            "seed": int(seed),
                            "method": method,
                            "weight": value,
                            "sampling": sampling,
                            "quick": bool(quick),
                            "device": device,
                            "data_home": None if data_home is None else str(data_home),
                        }
                    )
    return tasks


def robustness_study(
    seeds=range(3),
    *,
    datasets=ROBUSTNESS_DATASETS,
    methods=None,
    quick: bool = False,
    data_home=None,
    device=None,
    out=None,
    run_options: dict | None = None,
) -> pd.DataFrame:
    """Run the study; return one row per run (see the module docstring).

    Parameters
    ----------
    seeds : iterable of int, default=range(3)
        Split (and initialisation) seeds; datasets in :data:`MIN_SEEDS` get more.
    datasets : sequence of str, default=ROBUSTNESS_DATASETS
    methods : sequence of str, default=None
        A subset of :data:`GRID` (``None``: all).
    quick : bool, default=False
        Two epochs per network and no extra seeds (a smoke run).
    data_home : path, default=None
    device : str, default=None
        Training device of the networks.
    out : path, default=None
        Folder of ``runs.jsonl`` (streamed, resumable).
    run_options : dict, default=None
        Keyword arguments of :func:`~skfairnn.benchmarks.run_tasks`
        (``n_jobs``, ``torch_threads``, ``resume``, ``progress``).
    """
    options = dict(run_options or {})
    options.pop("path", None)
    if "progress_bar" in options:
        options["progress"] = options.pop("progress_bar")
    tasks = study_tasks(
        datasets,
        seeds,
        methods=methods,
        quick=quick,
        data_home=data_home,
        device=device,
        min_seeds={} if quick else None,
    )
    path = None if out is None else Path(out) / "runs.jsonl"
    rows = run_tasks(
        tasks,
        run_robustness_task,
        path=path,
        desc="robustness",
        describe=_describe,
        **options,
    )
    return pd.DataFrame(rows)


def _describe(row: dict) -> str:
    return (
        f"{row['dataset']} {row['method']} acc {row.get('test_shipped_acc', float('nan')):.3f} "
        f"eo {row.get('test_shipped_eo', float('nan')):.3f}"
    )


# ------------------------------------------------------------------------ summaries
IN_PROCESSING = (
    "fairreg", "gcm", "fairer", "runner", "adversarial", "fair_mixup", "arl", "fairneuron",
    "fair_smote",
)  # fmt: skip
_KEY = ["dataset", "method", "weight", "sampling"]
_TEST = ("acc", "recall", "rate", "dp", "eo")


def _study_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Successful runs, with "-" for no grid value and "default" for no sampling override."""
    rows = drop_failed(rows).copy()
    rows["weight"] = rows["weight"].astype(object).where(rows["weight"].notna(), "-")
    rows["sampling"] = rows["sampling"].astype(object).where(rows["sampling"].notna(), "default")
    return rows


def summarize_robustness(rows: pd.DataFrame, *, rule: str = "shipped") -> pd.DataFrame:
    """Mean over seeds of every configuration's test metrics under decision ``rule``.

    Columns: ``acc, ap, recall, rate, base_rate, dp, eo`` (test split),
    ``collapsed`` (share of seeds whose fit collapsed), ``fit_time`` and
    ``time_vs_erm`` (mean fit time over ERM's on the same dataset), ``seeds``.
    """
    rows = _study_rows(rows)
    view = pd.DataFrame({k: rows[k] for k in _KEY})
    for name in _TEST:
        view[name] = rows[f"test_{rule}_{name}"]
    view["ap"] = rows["test_ap"]
    view["collapsed"] = rows[f"{rule}_collapsed"].astype(float)
    view["fit_time"] = rows["fit_time"]
    view["seed"] = rows["seed"]
    grouped = view.groupby(_KEY, sort=False)
    table = grouped[[*_TEST, "ap", "collapsed", "fit_time"]].mean()
    table["seeds"] = grouped["seed"].nunique()
    erm_time = table.xs("erm", level="method")["fit_time"].droplevel(["weight", "sampling"])
    table["time_vs_erm"] = (
        table["fit_time"] / erm_time.reindex(table.index.get_level_values("dataset")).to_numpy()
    )
    return table


def _erm_reference(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.xs("erm", level="method").droplevel(["weight", "sampling"])


def acceptance(summary: pd.DataFrame) -> pd.DataFrame:
    """The issue's rule per dataset and in-processing method, over its default-sampling grid.

    A grid value *meets* the rule when, against ERM on the same dataset, its
    accuracy is within 1.5 points, AP within 0.03, recall at least 0.7× and
    ΔEO at most half of ERM's (only judged where ERM's ΔEO exceeds 0.05).
    The row reports the value that meets it with the smallest ΔEO, or else
    the one whose worst shortfall is smallest, with each shortfall.
    """
    erm = _erm_reference(summary)
    out = []
    for (dataset, method, weight, sampling), row in summary.iterrows():
        if method not in IN_PROCESSING or sampling != "default":
            continue
        ref = erm.loc[dataset]
        shortfall = {
            "acc_short": max(0.0, (ref["acc"] - 0.015) - row["acc"]),
            "ap_short": max(0.0, (ref["ap"] - 0.03) - row["ap"]),
            "recall_short": max(0.0, 0.7 * ref["recall"] - row["recall"]),
            "eo_short": max(0.0, row["eo"] - 0.5 * ref["eo"]) if ref["eo"] > 0.05 else 0.0,
        }
        out.append(
            {
                "dataset": dataset,
                "method": method,
                "weight": weight,
                "acc": row["acc"],
                "ap": row["ap"],
                "recall": row["recall"],
                "eo": row["eo"],
                "erm_eo": ref["eo"],
                "eo_vs_erm": row["eo"] / ref["eo"] if ref["eo"] > 0 else np.nan,
                "met": not any(v > 0 for v in shortfall.values()),
                "worst_short": max(shortfall.values()),
                **shortfall,
            }
        )
    table = pd.DataFrame(out)
    if table.empty:
        return table
    table = table.sort_values(["met", "worst_short", "eo"], ascending=[False, True, True])
    return (
        table.groupby(["dataset", "method"], sort=False)
        .head(1)
        .sort_values(["dataset", "method"])
        .set_index(["dataset", "method"])
    )


def select_on_validation(rows: pd.DataFrame, *, rule: str = "shipped") -> pd.DataFrame:
    """Each method's grid value chosen per seed on the validation split; test metrics.

    Feasible values (against ERM on the same seed's validation split):
    accuracy within 1.5 points, AP within 0.03, recall at least 0.7×, not
    collapsed; among them the smallest validation ΔEO. When none is feasible
    the most accurate value that did not collapse is taken.
    """
    rows = _study_rows(rows)
    rows = rows[rows["sampling"] == "default"]
    chosen = []
    for _, block in rows.groupby(["dataset", "seed"], sort=False):
        erm = block[block["method"] == "erm"]
        if erm.empty:
            continue
        erm = erm.iloc[0]
        for _, candidates in block.groupby("method", sort=False):
            ok = ~candidates[f"{rule}_collapsed"].astype(bool)
            feasible = (
                ok
                & (candidates[f"val_{rule}_acc"] >= erm[f"val_{rule}_acc"] - 0.015)
                & (candidates["val_ap"] >= erm["val_ap"] - 0.03)
                & (candidates[f"val_{rule}_recall"] >= 0.7 * erm[f"val_{rule}_recall"])
            )
            if feasible.any():
                pick = candidates[feasible].sort_values(f"val_{rule}_eo").iloc[0]
            else:
                pool = candidates[ok] if ok.any() else candidates
                pick = pool.sort_values(f"val_{rule}_acc", ascending=False).iloc[0]
            chosen.append(pick)
    picked = pd.DataFrame(chosen)
    view = pd.DataFrame({"dataset": picked["dataset"], "method": picked["method"]})
    for name in _TEST:
        view[name] = picked[f"test_{rule}_{name}"]
    view["ap"] = picked["test_ap"]
    view["collapsed"] = picked[f"{rule}_collapsed"].astype(float)
    view["fit_time"] = picked["fit_time"]
    view["weight"] = picked["weight"].astype(str)
    grouped = view.groupby(["dataset", "method"], sort=False)
    table = grouped[[*_TEST, "ap", "collapsed", "fit_time"]].mean()
    table["weights"] = grouped["weight"].agg(lambda w: "/".join(sorted(set(w))))
    table["seeds"] = grouped.size()
    erm = table.xs("erm", level="method")
    erm_time = erm["fit_time"].reindex(table.index.get_level_values("dataset")).to_numpy()
    table["time_vs_erm"] = table["fit_time"] / erm_time
    for reference in ("erm", "expgrad", "threshold"):
        if reference not in table.index.get_level_values("method"):
            continue
        ref = table.xs(reference, level="method").reindex(table.index.get_level_values("dataset"))
        table[f"beats_{reference}"] = (table["eo"].to_numpy() <= ref["eo"].to_numpy()) & (
            table["acc"].to_numpy() >= ref["acc"].to_numpy() - 0.005
        )
    return table


def plot_robustness(summary: pd.DataFrame, dataset: str, path, *, title: str | None = None):
    """Test accuracy against test ΔEO for every configuration on one dataset (PNG)."""
    from matplotlib.figure import Figure

    table = summary.xs(dataset, level="dataset").reset_index()
    figure = Figure(figsize=(6.4, 4.6))
    axes = figure.subplots()
    import matplotlib

    colors = matplotlib.colormaps["tab20"].colors
    for index, (method, block) in enumerate(table.groupby("method", sort=False)):
        block = block[block["sampling"] == "default"]
        if block.empty:
            continue
        style = {"erm": "*", "expgrad": "s", "threshold": "D"}.get(method, "o")
        size = 14 if method == "erm" else 7
        color = colors[(2 * index) % 20 + (2 * index) // 20]
        axes.plot(
            block["eo"], block["acc"], marker=style, markersize=size, label=method, color=color
        )
        for _, point in block.iterrows():
            if point["weight"] != "-":
                axes.annotate(
                    f"{point['weight']:g}" if isinstance(point["weight"], float) else "",
                    (point["eo"], point["acc"]),
                    fontsize=6,
                    xytext=(3, 3),
                    textcoords="offset points",
                )
    axes.set_xlabel("test ΔEO = ΔTPR + ΔFPR (lower is fairer)")
    axes.set_ylabel("test accuracy of predict()")
    axes.set_title(title or f"{dataset}: every method at its defaults and grid")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(Path(path), dpi=120)
    return Path(path)


def reproduce_robustness(seeds, *, quick, data_home, device, out, run_options=None):
    """``skfairnn reproduce robustness``: run, summarise, plot; return the selected table."""
    datasets = ("german", "synthetic_rare") if quick else ROBUSTNESS_DATASETS
    rows = robustness_study(
        seeds,
        datasets=datasets,
        quick=quick,
        data_home=data_home,
        device=device,
        out=out,
        run_options=run_options,
    )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows.to_csv(out / "runs.csv", index=False)
    return write_report(rows, out)["selected"].round(3)


def write_report(rows: pd.DataFrame, out, *, decimals: int | None = None) -> dict:
    """Write the study's tables (CSV, optionally rounded) and one plot per dataset to ``out``.

    Returns the tables: ``summary`` (the shipped rule), ``acceptance`` and ``selected``.
    """
    out = Path(out)

    def write(table: pd.DataFrame, name: str) -> None:
        (table if decimals is None else table.round(decimals)).to_csv(out / name)

    summary = summarize_robustness(rows)
    tables = {
        "summary": summary,
        "acceptance": acceptance(summary),
        "selected": select_on_validation(rows),
    }
    write(summary, "grid_summary.csv")
    for rule in RULES:
        write(summarize_robustness(rows, rule=rule), f"grid_summary_{rule}.csv")
    write(tables["acceptance"], "acceptance.csv")
    write(tables["selected"], "selected.csv")
    for dataset in dict.fromkeys(summary.index.get_level_values("dataset")):
        plot_robustness(summary, dataset, out / f"robustness_{dataset}.png")
    return tables
