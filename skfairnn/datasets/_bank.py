# SPDX-License-Identifier: BSD-3-Clause
"""UCI Bank Marketing (bank-full) fetcher."""

from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._base import load_raw, make_bunch

__all__ = ["fetch_bank"]

TARGET = "y"

DESCR = """\
.. _bank_dataset:

UCI Bank Marketing dataset (bank-full)
--------------------------------------

Direct-marketing phone calls of a Portuguese bank, May 2008 to November 2010.
Predict whether the client subscribes a term deposit.

**Data Set Characteristics:**

:Number of Instances: 45,211
:Number of Attributes: 16 (7 numeric, 9 categorical)
:Target: ``y`` = "yes" (5,289 rows) -> 1, "no" (39,922) -> 0
:Sensitive attributes: ``age`` (18-95; AIF360 treats ``age >= 25`` as privileged,
    44,402 rows), sometimes ``marital``

``duration`` (call length) is only known after the call and determines the outcome
to a large extent; drop it for realistic prediction. ``bank-additional-full.csv``
(41,188 rows) is a different release and is not used.

:Source: UCI Machine Learning Repository, https://doi.org/10.24432/C5K306, file
    ``bank-full.csv`` of UCI's ``bank.zip`` (content sha256
    d1513ec63b385506f7cfce9f2c5caa9fe99e7ba4e8c3fa264b3aaf0f849ed32d). Downloaded
    from a 2013 re-pack of ``bank.zip`` in GitHub ``xori/neural-spice`` (commit
    a0905328), CRLF converted to LF, which restores UCI's bytes. Not bundled with
    skfairnn.
:License: CC BY 4.0.

.. rubric:: References

1. Moro, S., Cortez, P. and Rita, P. (2014). A data-driven approach to predict the
   success of bank telemarketing. Decision Support Systems 62, 22-31.
2. Moro, S., Rita, P. and Cortez, P. (2012). Bank Marketing. UCI Machine Learning
   Repository. https://doi.org/10.24432/C5K306
"""


def fetch_bank(
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    as_frame: bool = True,
    return_X_y: bool = False,
) -> Bunch | tuple:
    """Load the UCI Bank Marketing dataset, ``bank-full`` (binary classification).

    =================   ==============================
    Samples total       45,211
    Features            16 raw columns
    Positive label      y = "yes" (term deposit)
    Positive rate       0.117
    =================   ==============================

    Not bundled: the file is read from the data home, or downloaded there.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``<data_home>/bank/bank-full.csv.gz``. If None,
        ``$SKFAIRNN_DATA_HOME`` or ``~/skfairnn_data``.
    download_if_missing : bool, default=True
        Download the zip named in ``DESCR`` and extract ``bank-full.csv`` when
        missing.
    as_frame : bool, default=True
        If True, ``data`` and ``sensitive_features`` are DataFrames and ``target`` a
        Series. If False, they are numpy arrays and ``frame`` is None.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : DataFrame of shape (45211, 16)
            The raw feature columns. The sensitive columns ``age`` and ``marital``
            are included as ordinary features; drop them to train a model that does
            not see them. ``duration`` leaks the outcome (see ``DESCR``).
        target : Series of shape (45211,)
            ``y``: 1 if the client subscribed a term deposit (favourable label).
        sensitive_features : DataFrame of shape (45211, 2)
            ``age_group`` (``">=25"``/``"<25"``) and ``marital`` (``"married"``,
            ``"single"``, ``"divorced"``; divorced includes widowed).
        frame : DataFrame of shape (45211, 17)
            ``data`` with the target column appended.
        feature_names : list of str
            Names of the columns of ``data``.
        target_names : list of str
            ``["no", "yes"]``, the meaning of labels 0 and 1.
        DESCR : str
            Description, source, license and citation.

    (data, target) : tuple if ``return_X_y`` is True
    """
    content = load_raw("bank", data_home=data_home, download_if_missing=download_if_missing)
    frame = pd.read_csv(io.BytesIO(content), sep=";")
    sensitive = pd.DataFrame(
        {
            "age_group": np.where(frame["age"] >= 25, ">=25", "<25"),
            "marital": frame["marital"],
        }
    )
    return make_bunch(
        frame.drop(columns=TARGET),
        frame[TARGET] == "yes",
        sensitive,
        target_names=["no", "yes"],
        descr=DESCR,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )
