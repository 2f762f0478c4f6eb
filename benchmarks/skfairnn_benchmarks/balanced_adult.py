# SPDX-License-Identifier: BSD-3-Clause
"""Adult as the pruning paper's §6.2 / App. C.2 use it: class and group balanced, 80/20."""

from __future__ import annotations

import numpy as np
import pandas as pd

from skfairnn.datasets import fetch_adult

__all__ = ["BALANCING", "PAPER_BALANCING", "balance_rows", "load_balanced_adult"]

#: the balancing step's readings: both marginals, every (group, label) cell, or none
BALANCING = ("marginals", "cells", "none")
#: the reading the pruning study follows by default (§6.2, App. C.2)
PAPER_BALANCING = "marginals"

_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
]  # fmt: skip
_NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


def balance_rows(group, y, balance: str = PAPER_BALANCING, *, random_state=None) -> np.ndarray:
    """Rows kept by the paper's balancing step: "resample ... to balance the class and group".

    §6.2 and App. C.2 resample Adult before the scoring network is trained and
    Eq. 35 is computed. The step down-samples without replacement:

    * ``"marginals"``: the larger group to the size of the smaller one, then
      the majority class of the remaining rows to the minority class (both
      marginals balanced; the groups' base rates still differ, so after the
      second step the groups are no longer exactly equal in size);
    * ``"cells"``: every (group, label) cell to the smallest cell (groups,
      classes and cells all balanced; the base-rate gap is gone);
    * ``"none"``: every row (no resampling, not the paper's protocol).

    Parameters
    ----------
    group, y : array-like of shape (n_samples,)
        Group membership and labels.
    balance : {"marginals", "cells", "none"}, default="marginals"
    random_state : int, Generator or None, default=None
        Seeds the draws (a ``numpy.random.Generator`` is used as is).

    Returns
    -------
    ndarray of int
        Sorted indices of the kept rows.
    """
    if balance not in BALANCING:
        raise ValueError(f"balance must be one of {BALANCING}; got {balance!r}.")
    group, y = np.asarray(group), np.asarray(y)
    if len(group) != len(y):
        raise ValueError(f"group and y need the same length; got {len(group)} and {len(y)}.")
    rng = np.random.default_rng(random_state)
    rows = np.arange(len(y))
    if balance == "none":
        return rows
    if balance == "cells":
        return _downsample(rows, pd.Series(group).astype(str) + "|" + pd.Series(y).astype(str), rng)
    rows = _downsample(rows, pd.Series(group), rng)
    return _downsample(rows, pd.Series(y[rows]), rng)


def load_balanced_adult(
    seed: int,
    *,
    test_size: float = 0.2,
    balance: str = PAPER_BALANCING,
    scale: str = "standard",
    data_home=None,
):
    """Adult resampled to balance class and group, split 80/20 (§6.2, App. C.2).

    Reading of "we resample the dataset to balance the class and group
    membership" (the authors' prebuilt ``adult.npy`` is not public): rows
    with a missing value dropped, then the balancing step :func:`balance_rows`
    on (sex, income): ``balance="marginals"`` (the default) down-samples the
    larger sex group to the smaller one, then the majority class to the
    minority class (both marginals balanced; the base-rate difference between
    the sexes, and so ERM's DP violation, remains); ``"cells"`` down-samples
    every (sex, income) cell to the smallest; ``"none"`` keeps every row
    (Adult's own 33 % women and 25 % positives; not the paper's protocol).
    Features: one-hot categoricals (``education`` and ``fnlwgt`` dropped) and
    the numerics standardised (``scale="standard"``) or mapped to [0, 1]
    (``"minmax"``) with statistics of the training split; sex stays an input
    in column 0, as in the authors' code (``A = X[:, 0]``).

    Returns
    -------
    X_train, y_train, A_train, X_test, y_test, A_test : ndarrays
        ``A`` is 1 for men.
    """
    adult = fetch_adult(data_home=data_home)
    frame = adult.data.copy()
    frame["income"] = np.where(adult.target.to_numpy() == 1, ">50K", "<=50K")
    frame = frame.dropna().reset_index(drop=True)
    rng = np.random.default_rng(seed)
    kept = balance_rows(frame["sex"].astype(str), frame["income"], balance, random_state=rng)
    frame = frame.iloc[kept].reset_index(drop=True)
    y = (frame["income"] == ">50K").to_numpy().astype(np.int64)
    A = (frame["sex"] == "Male").to_numpy().astype(np.int64)
    categorical = [c for c in _COLUMNS if c not in [*_NUMERIC, "fnlwgt", "education", "income"]]
    X = pd.get_dummies(frame[_NUMERIC + categorical], columns=categorical, dtype=np.float32)
    X = X[["sex_Male"] + [c for c in X.columns if not c.startswith("sex_")]].to_numpy(np.float32)
    order = rng.permutation(len(X))
    n_test = int(round(test_size * len(X)))
    test, train = order[:n_test], order[n_test:]
    numeric = X[train][:, 1 : 1 + len(_NUMERIC)]
    if scale == "minmax":
        low, span = numeric.min(0), np.maximum(numeric.max(0) - numeric.min(0), 1e-8)
    else:
        low, span = numeric.mean(0), numeric.std(0) + 1e-8
    X[:, 1 : 1 + len(_NUMERIC)] = (X[:, 1 : 1 + len(_NUMERIC)] - low) / span
    return X[train], y[train], A[train], X[test], y[test], A[test]


def _downsample(rows: np.ndarray, key: pd.Series, rng) -> np.ndarray:
    """``rows`` down-sampled until every value of ``key`` (aligned with rows) is as rare."""
    key = key.to_numpy()
    size = pd.Series(key).value_counts().min()
    keep = np.concatenate(
        [rng.choice(np.flatnonzero(key == v), size, replace=False) for v in pd.unique(key)]
    )
    return rows[np.sort(keep)]
