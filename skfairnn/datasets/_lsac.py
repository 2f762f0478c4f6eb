# SPDX-License-Identifier: BSD-3-Clause
"""LSAC National Longitudinal Bar Passage Study fetcher."""

from __future__ import annotations

import io
import os

import pandas as pd
from sklearn.utils import Bunch

from ._base import load_raw, make_bunch

__all__ = ["fetch_lsac", "LSAC_FEATURES"]

# One column per piece of information available before the bar exam. Left out by
# default: the identifier, duplicate encodings of sex and race (sex, male, race, race2,
# other, asian, black, hisp), binned copies (indxgrp, indxgrp2, cluster, parttime, gpa,
# age), outcomes that leak the label (bar, bar1*, bar2*, grad, Dropout) and a model's
# prediction (dnn_bar_pass_prediction).
LSAC_FEATURES = [
    "lsat",
    "ugpa",
    "decile1b",
    "decile1",
    "decile3",
    "zfygpa",
    "zgpa",
    "index6040",
    "tier",
    "fulltime",
    "fam_inc",
    "DOB_yr",
    "gender",
    "race1",
]
TARGET = "pass_bar"

DESCR = """\
.. _lsac_dataset:

LSAC National Longitudinal Bar Passage Study (bar_pass_prediction)
------------------------------------------------------------------

Law students who entered US law schools in 1991, followed through the bar exam
(Wightman, 1998). Predict whether a student passes the bar exam.

**Data Set Characteristics:**

:Number of Instances: 22,407 (one per ``ID``)
:Number of Attributes: 14 by default; the raw file has 37 besides the label
:Target: ``pass_bar`` = 1 (passed, 21,238 rows), 0 (failed, 1,169)
:Sensitive attributes: ``gender`` (male 12,576 / female 9,826 / missing 5) and
    ``race1`` (white 18,716, black 1,343, hisp 1,027, asian 897, other 408,
    missing 16)
:Missing Attribute Values: empty cells, returned as NaN (e.g. decile1b 1,604,
    zgpa 1,289, zfygpa 984, fam_inc 289)

This is the ``bar_pass_prediction.csv`` version circulated on Kaggle and used by the
TensorFlow Fairness Indicators tutorials; it keeps the ``pass_bar`` label.

:Source: LSAC study by Wightman (1998), ERIC ED469370. File from GitHub
    ``TheRohanVerma/CMPUT622_FairSMOTE_vs_FairClassBal``, commit a895803f, path
    ``data/bar_pass_prediction.csv`` (sha256
    76ebfdb0427ce8db038d53fa5943180ac77096bffb8264f000ed21e9f0ec82f2). It is a
    third-party copy that is **not byte-verified** against the Google-hosted
    original; rows and columns look complete.
:License: recorded as CC BY-SA 4.0 by ``fairml-datasets``; no license file travels
    with this copy. Not bundled with skfairnn.

.. rubric:: References

1. Wightman, L. F. (1998). LSAC National Longitudinal Bar Passage Study. LSAC
   Research Report Series. ERIC ED469370.
"""


def fetch_lsac(
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    as_frame: bool = True,
    return_X_y: bool = False,
    all_columns: bool = False,
) -> Bunch | tuple:
    """Load the LSAC bar passage dataset (binary classification).

    =================   ================================
    Samples total       22,407
    Features            14 (37 with ``all_columns``)
    Positive label      pass_bar = 1
    Positive rate       0.948
    =================   ================================

    Not bundled: the file is read from the data home, or downloaded there.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``<data_home>/lsac/bar_pass_prediction.csv.gz``. If None,
        ``$SKFAIRNN_DATA_HOME`` or ``~/skfairnn_data``.
    download_if_missing : bool, default=True
        Download the file (from the GitHub copy named in ``DESCR``) when missing.
    as_frame : bool, default=True
        If True, ``data`` and ``sensitive_features`` are DataFrames and ``target`` a
        Series. If False, they are numpy arrays and ``frame`` is None.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    all_columns : bool, default=False
        If False, ``data`` holds the 14 columns of ``LSAC_FEATURES``. If True, it
        holds all 37 raw columns except the label, including the identifier,
        duplicate encodings of sex and race, and columns that leak the label
        (``bar``, ``bar1``, ``bar2``, ``dnn_bar_pass_prediction``, ...).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : DataFrame of shape (22407, 14)
            Raw feature columns, missing values as NaN. The sensitive columns
            ``gender`` and ``race1`` are included as ordinary features; drop them to
            train a model that does not see them.
        target : Series of shape (22407,)
            ``pass_bar``: 1 if the student passed the bar exam (favourable label).
        sensitive_features : DataFrame of shape (22407, 2)
            Columns ``gender`` (``"male"``/``"female"``) and ``race1`` (``"white"``,
            ``"black"``, ``"hisp"``, ``"asian"``, ``"other"``); a few values are NaN.
        frame : DataFrame
            ``data`` with the target column appended.
        feature_names : list of str
            Names of the columns of ``data``.
        target_names : list of str
            ``["fail", "pass"]``, the meaning of labels 0 and 1.
        DESCR : str
            Description, source, license and citation.

    (data, target) : tuple if ``return_X_y`` is True
    """
    content = load_raw("lsac", data_home=data_home, download_if_missing=download_if_missing)
    frame = pd.read_csv(io.BytesIO(content))
    features = [c for c in frame.columns if c != TARGET] if all_columns else LSAC_FEATURES
    return make_bunch(
        frame[features].copy(),
        frame[TARGET],
        frame[["gender", "race1"]].copy(),
        target_names=["fail", "pass"],
        descr=DESCR,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )
