# SPDX-License-Identifier: BSD-3-Clause
"""Adult as the instance-level influence paper uses it (read from the raw UCI files).

The raw rows come from :func:`skfairnn.datasets.fetch_adult`.

Reading of §6.2/App. C.2 ("we resample the dataset to balance the class and
group membership"; the authors' prebuilt ``adult.npy`` is not public):
rows with missing values dropped; the larger sex group is down-sampled to the
size of the smaller one, then the majority class to the size of the minority
class (both marginals balanced; the base-rate difference between the sexes,
and so the DP violation of ERM, remains). Features: one-hot categoricals
(``education`` and ``fnlwgt`` dropped), standardised numerics (scaler fitted on
the training split); sex stays an input, as in the authors' code (A = X[:, 0]).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from skfairnn.datasets import fetch_adult

COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
]  # fmt: skip
NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


def load_frame() -> pd.DataFrame:
    """48,842 raw rows (``skfairnn.datasets.fetch_adult``) less those with a missing value."""
    adult = fetch_adult()
    frame = adult.data.copy()
    frame["income"] = np.where(adult.target.to_numpy() == 1, ">50K", "<=50K")
    return frame.dropna().reset_index(drop=True)


def balanced_split(
    seed: int, test_size: float = 0.2, balance: str = "marginals", scale: str = "standard"
):
    """Balanced resample, 80/20 split, one-hot + scaling: (Xtr, ytr, Atr, Xte, yte, Ate).

    ``balance="marginals"``: sex, then income down-sampled to equal counts (the
    default reading); ``"cells"``: every (sex, income) cell down-sampled to
    the smallest one (equal base rates).
    """
    frame = load_frame()
    rng = np.random.default_rng(seed)
    if balance == "cells":
        frame = _downsample(frame, frame["sex"] + frame["income"], rng)
    else:
        frame = _downsample(frame, frame["sex"], rng)
        frame = _downsample(frame, frame["income"], rng)
    y = (frame["income"] == ">50K").to_numpy().astype(np.int64)
    A = (frame["sex"] == "Male").to_numpy().astype(np.int64)
    categorical = [c for c in COLUMNS if c not in NUMERIC + ["fnlwgt", "education", "income"]]
    X = pd.get_dummies(frame[NUMERIC + categorical], columns=categorical, dtype=np.float32)
    X = X[["sex_Male"] + [c for c in X.columns if not c.startswith("sex_")]].to_numpy(np.float32)
    order = rng.permutation(len(X))
    n_test = int(round(test_size * len(X)))
    test, train = order[:n_test], order[n_test:]
    if scale == "minmax":  # numerics to [0, 1] on the training split, like the one-hots
        low, high = X[train][:, 1:6].min(0), X[train][:, 1:6].max(0)
        X[:, 1:6] = (X[:, 1:6] - low) / np.maximum(high - low, 1e-8)
    else:
        mean = X[train][:, 1:6].mean(0)
        std = X[train][:, 1:6].std(0) + 1e-8
        X[:, 1:6] = (X[:, 1:6] - mean) / std
    return X[train], y[train], A[train], X[test], y[test], A[test]


def _downsample(frame: pd.DataFrame, key: pd.Series, rng) -> pd.DataFrame:
    size = key.value_counts().min()
    keep = np.concatenate([
        rng.choice(np.flatnonzero(key.to_numpy() == value), size, replace=False)
        for value in key.unique()
    ])  # fmt: skip
    return frame.iloc[np.sort(keep)].reset_index(drop=True)
