# SPDX-License-Identifier: BSD-3-Clause
"""Adult as the pruning paper's §6.2 / App. C.2 use it: class and group balanced, 80/20."""

from __future__ import annotations

import numpy as np
import pandas as pd

from skfairnn.datasets import fetch_adult

__all__ = ["load_balanced_adult"]

_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
]  # fmt: skip
_NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


def load_balanced_adult(
    seed: int,
    *,
    test_size: float = 0.2,
    balance: str = "marginals",
    scale: str = "standard",
    data_home=None,
):
    """Adult resampled to balance class and group, split 80/20 (§6.2, App. C.2).

    Reading of "we resample the dataset to balance the class and group
    membership" (the authors' prebuilt ``adult.npy`` is not public): rows
    with a missing value dropped; ``balance="marginals"`` down-samples the
    larger sex group to the smaller one, then the majority class to the
    minority class (both marginals balanced; the base-rate difference between
    the sexes, and so ERM's DP violation, remains); ``"cells"`` down-samples
    every (sex, income) cell to the smallest. Features: one-hot categoricals
    (``education`` and ``fnlwgt`` dropped) and the numerics standardised
    (``scale="standard"``) or mapped to [0, 1] (``"minmax"``) with statistics
    of the training split; sex stays an input in column 0, as in the authors'
    code (``A = X[:, 0]``).

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
    if balance == "cells":
        frame = _downsample(frame, frame["sex"] + frame["income"], rng)
    else:
        frame = _downsample(frame, frame["sex"], rng)
        frame = _downsample(frame, frame["income"], rng)
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


def _downsample(frame: pd.DataFrame, key: pd.Series, rng) -> pd.DataFrame:
    size = key.value_counts().min()
    keep = np.concatenate(
        [rng.choice(np.flatnonzero(key.to_numpy() == v), size, replace=False) for v in key.unique()]
    )
    return frame.iloc[np.sort(keep)].reset_index(drop=True)
