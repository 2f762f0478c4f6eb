# SPDX-License-Identifier: BSD-3-Clause
"""The Adult preprocessing of the Fair Mixup code, shared by GCM, RUNNER and FAIRER.

Reimplemented with numpy and pandas only (no aif360), step by step after
``chingyaoc/fair-mixup`` ``adult/dataset.py`` (itself adapted from IBM's
sensitive-subspace-robustness), which ``Ace0001/RUNNER`` and
``ltl7155/fair_grad_reweighing`` copy verbatim.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._adult import read_adult_frame

__all__ = ["load_adult_fair_mixup"]

CONTINUOUS = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
# Column order of pandas.get_dummies in the reference code.
DUMMIES = [
    "workclass",
    "marital-status",
    "occupation",
    "relationship",
    "sex",
    "race",
    "native-country",
]
N_BINS = 10
SEX_COLUMN = "sex_Male"

DESCR = """\
.. _adult_fair_mixup:

Adult, Fair Mixup preprocessing (120 binary features)
-----------------------------------------------------

The preprocessing of ``chingyaoc/fair-mixup`` ``adult/dataset.py``, used verbatim by
the GCM, RUNNER and FAIRER code:

1. ``adult.data`` + ``adult.test`` (48,842 rows); label ``income > 50K``.
2. Drop rows with ``native-country`` or ``occupation`` equal to ``?`` (45,222 rows).
3. One-hot encode workclass, marital-status, occupation, relationship, sex, race,
   native-country; delete ``sex_Female``, every race dummy except ``race_White``, all
   native-country dummies, ``fnlwgt`` and ``education`` (41 columns; ``sex_Male``
   is column 39, ``race_White`` column 40).
4. 80/20 train/test split after a ``RandomState(seed).permutation`` shuffle
   (aif360 ``split([0.8], shuffle=True, seed=seed)``); standardize the five
   continuous columns with statistics of the 80% part.
5. Validation = the first ``len(test)`` rows of the shuffled 80% part
   (27,132 / 9,045 / 9,045 rows).
6. Sensitive attribute = ``sex_Male`` (1 male, 0 female), then removed from the
   inputs; ``race_White`` stays.
7. Each continuous column -> 10 quantile bins -> one-hot (10 columns); every binary
   column -> 2-column one-hot: 5*10 + 35*2 = 120 features. In the reference code the
   bin edges are computed on column 0 (standardized age) only and reused for all five
   continuous columns and for validation and test (``quantize_quirk=True``).

Source data: see ``fetch_adult().DESCR``.
"""


def _encode(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Steps 1-3: rows, label and the 41 encoded columns."""
    y = (frame["income"] == ">50K").to_numpy(np.int64)
    keep = frame["native-country"].notna() & frame["occupation"].notna()
    frame, y = frame.loc[keep], y[keep.to_numpy()]
    dummies = pd.get_dummies(frame.drop(columns="income"), columns=DUMMIES, prefix_sep="_")
    drop = ["fnlwgt", "education", "sex_Female"]
    drop += [c for c in dummies.columns if c.startswith("race_") and c != "race_White"]
    drop += [c for c in dummies.columns if c.startswith("native-country_")]
    dummies = dummies.drop(columns=drop)
    return dummies.to_numpy(np.float64), y, list(dummies.columns)


def _bin_edges(column: np.ndarray) -> np.ndarray:
    """The 11 quantile edges of 10 equal-mass bins (the reference's float grid)."""
    return np.quantile(column, np.arange(0.0, 1.0 + 1 / N_BINS, 1 / N_BINS))


def _bin_index(column: np.ndarray, edges: np.ndarray, *, quirk: bool) -> np.ndarray:
    """Bin of each value: the reference's rule, or ties to the lower bin."""
    if quirk:  # edges[k-1] <= x < edges[k] -> k - 1, clipped to 0..9
        return np.clip(np.digitize(column, edges), 1, N_BINS) - 1
    # edges[k] < x <= edges[k + 1] -> k: repeated edges (zero-inflated columns) keep the
    # smallest value apart from larger ones.
    return np.digitize(column, edges[1:-1], right=True)


def _quantize(X: np.ndarray, edges: list[np.ndarray], sex_index: int, *, quirk: bool) -> np.ndarray:
    """Step 7: continuous columns to 10-bin one-hot, binary columns to 2-column one-hot."""
    blocks = []
    for j, column_edges in enumerate(edges):
        blocks.append(np.eye(N_BINS)[_bin_index(X[:, j], column_edges, quirk=quirk)])
    for j in range(len(edges), X.shape[1]):
        if j != sex_index:
            blocks.append(np.eye(2)[X[:, j].astype(np.int64)])
    return np.concatenate(blocks, axis=1).astype(np.float32)


def _output_names(names: list[str], sex_index: int) -> list[str]:
    out = [f"{name}_bin{k}" for name in CONTINUOUS for k in range(N_BINS)]
    for j in range(len(CONTINUOUS), len(names)):
        if j != sex_index:
            out += [f"{names[j]}=0", f"{names[j]}=1"]
    return out


def load_adult_fair_mixup(
    *,
    data_home: str | os.PathLike | None = None,
    random_state: int | None = 0,
    quantize_quirk: bool = True,
    download_if_missing: bool = True,
) -> Bunch:
    """Load Adult preprocessed exactly as in the Fair Mixup code (120 binary features).

    This is the common Adult pipeline of Fair Mixup, GCM, RUNNER and FAIRER: a
    60/20/20 train/validation/test split of 45,222 rows, sex as the sensitive
    attribute (removed from the inputs), and 120 one-hot features. See ``DESCR`` for
    the seven steps.

    Parameters
    ----------
    data_home : str or path-like, default=None
        See :func:`fetch_adult`. The bundled copy is used when the data home has none.
    random_state : int or None, default=0
        Seed of the split; experiment ``i`` of the papers uses seed ``i`` (0-9). The
        shuffle is ``np.random.RandomState(random_state).permutation``, which is what
        ``np.random.seed(seed); np.random.permutation(n)`` in aif360 draws, so the
        rows match the reference code exactly. None gives a fresh random split.
    quantize_quirk : bool, default=True
        If True, reproduce the reference code: bin edges computed on the
        (standardized) age column only and reused for all five continuous columns.
        Capital-gain and capital-loss then fall almost entirely into one or two bins.
        If False, each continuous column gets its own quantile edges (computed on the
        training rows), and a value equal to an edge goes to the lower bin, so that
        zero-inflated columns keep zero and non-zero values apart (with the reference
        rule their repeated edges would put every value into one bin).
    download_if_missing : bool, default=True
        See :func:`fetch_adult`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        X_train, X_val, X_test : ndarray of shape (n, 120), dtype float32
            One-hot inputs; 27,132 / 9,045 / 9,045 rows.
        y_train, y_val, y_test : ndarray of shape (n,), dtype int64
            1 if income >50K.
        a_train, a_val, a_test : ndarray of shape (n,), dtype int64
            Sex: 1 male, 0 female (not among the inputs).
        feature_names : list of str
            Names of the 120 columns.
        bin_edges : ndarray of shape (5, 11)
            Edges used for the five continuous columns (identical rows when
            ``quantize_quirk`` is True), on the standardized scale.
        DESCR : str
            The steps of the preprocessing.

    See Also
    --------
    fetch_adult : The raw Adult table.

    References
    ----------
    .. [1] Chuang, C.-Y. and Mroueh, Y. (2021). Fair Mixup: Fairness via
       Interpolation. ICLR. Code: ``chingyaoc/fair-mixup``, ``adult/dataset.py``.

    Examples
    --------
    >>> from skfairnn.datasets import load_adult_fair_mixup
    >>> adult = load_adult_fair_mixup(random_state=0)
    >>> adult.X_train.shape, adult.X_val.shape, adult.X_test.shape
    ((27132, 120), (9045, 120), (9045, 120))
    """
    frame = read_adult_frame(data_home=data_home, download_if_missing=download_if_missing)
    X, y, names = _encode(frame)
    sex_index = names.index(SEX_COLUMN)

    # Step 4: aif360 split([0.8], shuffle=True, seed=seed).
    order = np.random.RandomState(random_state).permutation(len(X))
    n_train = int(0.8 * len(X))
    train, test = order[:n_train], order[n_train:]
    cont = [names.index(c) for c in CONTINUOUS]  # columns 0-4
    mean, std = X[train][:, cont].mean(axis=0), X[train][:, cont].std(axis=0)
    X[:, cont] = (X[:, cont] - mean) / std

    # Step 5: validation = first len(test) rows of the shuffled training part.
    val, train = train[: len(test)], train[len(test) :]

    # Step 7: quantile edges from the final training rows.
    if quantize_quirk:
        edges = [_bin_edges(X[train, 0])] * len(CONTINUOUS)
    else:
        edges = [_bin_edges(X[train, j]) for j in range(len(CONTINUOUS))]

    out = Bunch(feature_names=_output_names(names, sex_index), DESCR=DESCR)
    out.bin_edges = np.stack(edges)
    for split, rows in (("train", train), ("val", val), ("test", test)):
        out[f"X_{split}"] = _quantize(X[rows], edges, sex_index, quirk=quantize_quirk)
        out[f"y_{split}"] = y[rows]
        out[f"a_{split}"] = X[rows, sex_index].astype(np.int64)  # step 6
    return out
