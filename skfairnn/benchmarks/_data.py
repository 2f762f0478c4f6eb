# SPDX-License-Identifier: BSD-3-Clause
"""Train/validation/test splits of the benchmark datasets, as the papers prepare them.

``adult`` is the Fair Mixup pipeline (:func:`skfairnn.datasets.load_adult_fair_mixup`;
120 binary features, sex as the sensitive attribute, removed from the inputs).
The other datasets have no released preprocessing in the papers' code
(``notes/reference-implementations.md`` §4): we one-hot encode categorical
columns, standardise numerical ones with training statistics, split 60/20/20
with the seed, and drop the sensitive column from the inputs, as the Adult
pipeline does. Sensitive attributes: COMPAS race (African-American vs
Caucasian, other races dropped), German sex, LSAC gender, credit default SEX,
bank age (<25 vs ≥25).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import Bunch

from .. import datasets

__all__ = ["DATASETS", "load_protocol_data"]


def _compas(data_home):
    bunch = datasets.fetch_compas(data_home=data_home)
    keep = bunch.sensitive_features["race"].isin(["African-American", "Caucasian"]).to_numpy()
    columns = [
        "age_cat",
        "sex",
        "priors_count",
        "c_charge_degree",
        "juv_fel_count",
        "juv_misd_count",
        "juv_other_count",
        "age",
    ]
    frame = bunch.data.loc[keep, columns].reset_index(drop=True)
    groups = (bunch.sensitive_features.loc[keep, "race"] == "Caucasian").astype(int)
    return frame, bunch.target[keep].to_numpy(), groups.to_numpy()


def _drop_sensitive(fetch, sensitive, drop, *, encode=None):
    def load(data_home):
        bunch = fetch(data_home=data_home)
        frame = bunch.data.drop(columns=[c for c in drop if c in bunch.data.columns])
        groups = bunch.sensitive_features[sensitive]
        codes = groups.map(encode) if encode else pd.Series(pd.factorize(groups, sort=True)[0])
        keep = ~pd.isna(codes).to_numpy()
        frame = frame.loc[keep].reset_index(drop=True)
        return frame, bunch.target.to_numpy()[keep], np.asarray(codes[keep], dtype=np.int64)

    return load


DATASETS = {
    "compas": _compas,
    "german": _drop_sensitive(
        datasets.fetch_german, "sex", ["personal_status_sex"], encode={"female": 0, "male": 1}
    ),
    "lsac": _drop_sensitive(
        datasets.fetch_lsac, "gender", ["gender", "race1"], encode={"female": 0, "male": 1}
    ),
    "credit_default": _drop_sensitive(
        datasets.fetch_credit_default, "SEX", ["SEX", "ID"], encode={"female": 0, "male": 1}
    ),
    "bank": _drop_sensitive(datasets.fetch_bank, "age_group", ["age", "duration"]),
}


def _preprocess(frame: pd.DataFrame, train_rows) -> np.ndarray:
    categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    numeric = [c for c in frame.columns if c not in categorical]
    transformer = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
        (StandardScaler(), numeric),
    )
    frame = frame.copy()
    frame[categorical] = frame[categorical].astype(str)
    frame[numeric] = frame[numeric].fillna(frame.loc[train_rows, numeric].median())
    transformer.fit(frame.iloc[train_rows])
    return transformer.transform(frame).astype(np.float32)


def load_protocol_data(name: str = "adult", *, seed: int = 0, data_home=None) -> Bunch:
    """Splits ``X_/y_/a_`` + ``train/val/test`` of a benchmark dataset for one seed.

    Parameters
    ----------
    name : {"adult", "compas", "german", "lsac", "credit_default", "bank"}
    seed : int, default=0
        Split seed (the papers' experiment index).
    data_home : path, default=None
        See :mod:`skfairnn.datasets`.
    """
    if name == "adult":
        bunch = datasets.load_adult_fair_mixup(data_home=data_home, random_state=seed)
        for split in ("train", "val", "test"):
            bunch[f"X_{split}"] = bunch[f"X_{split}"].astype(np.float32)
        return bunch
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {['adult', *DATASETS]}; got {name!r}.")
    frame, y, groups = DATASETS[name](data_home)
    rows = np.arange(len(y))
    train, rest = train_test_split(rows, test_size=0.4, random_state=seed, stratify=y)
    val, test = train_test_split(rest, test_size=0.5, random_state=seed, stratify=y[rest])
    X = _preprocess(frame, train)
    out = Bunch(DESCR=f"{name}: 60/20/20 split, seed {seed}")
    for split, index in (("train", train), ("val", val), ("test", test)):
        out[f"X_{split}"], out[f"y_{split}"], out[f"a_{split}"] = X[index], y[index], groups[index]
    return out
