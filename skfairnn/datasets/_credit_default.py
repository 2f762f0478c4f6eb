# SPDX-License-Identifier: BSD-3-Clause
"""UCI Default of Credit Card Clients (Taiwan) fetcher."""

from __future__ import annotations

import io
import os

import pandas as pd
from sklearn.utils import Bunch

from ._base import load_raw, make_bunch

__all__ = ["fetch_credit_default"]

TARGET = "default payment next month"
# Codes from the UCI variable description; 0 (EDUCATION, MARRIAGE) and 5, 6 (EDUCATION)
# are undocumented or "unknown" there.
_SEX = {1: "male", 2: "female"}
_EDUCATION = {
    1: "graduate school",
    2: "university",
    3: "high school",
    4: "others",
    0: "unknown",
    5: "unknown",
    6: "unknown",
}
_MARRIAGE = {1: "married", 2: "single", 3: "others", 0: "unknown"}

DESCR = """\
.. _credit_default_dataset:

UCI Default of Credit Card Clients dataset (Taiwan)
---------------------------------------------------

Credit card clients of a bank in Taiwan (April-September 2005). Predict whether a
client defaults on the next month's payment.

**Data Set Characteristics:**

:Number of Instances: 30,000
:Number of Attributes: 23 (X1-X23: LIMIT_BAL, SEX, EDUCATION, MARRIAGE, AGE, PAY_0,
    PAY_2-PAY_6, BILL_AMT1-6, PAY_AMT1-6); there is no PAY_1
:Target: ``default payment next month`` = 1 (6,636 rows), 0 (23,364)
:Sensitive attributes: ``SEX`` (1 = male 11,888, 2 = female 18,112); also
    ``EDUCATION``, ``MARRIAGE`` and ``AGE``

:Source: UCI Machine Learning Repository, https://doi.org/10.24432/C55S3H. UCI
    publishes an Excel workbook; this is a CSV rendering of its single sheet (the
    variable-name header row and all rows, original order) from GitHub
    ``yusufnb/cs-498-hw6``, commit f8e85fc9, with CR line terminators converted to
    LF (content sha256
    4edce6da569b2c30788a85fd98a9bafb1a983e8ca1a7aac875dd7ff853cbd0bb). Its values
    agree row by row with eight independent copies. Not bundled with skfairnn.
:License: CC BY 4.0.

.. rubric:: References

1. Yeh, I.-C. and Lien, C.-H. (2009). The comparisons of data mining techniques for
   the predictive accuracy of probability of default of credit card clients. Expert
   Systems with Applications 36(2), 2473-2480.
2. Yeh, I.-C. (2009). Default of Credit Card Clients. UCI Machine Learning
   Repository. https://doi.org/10.24432/C55S3H
"""


def fetch_credit_default(
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    as_frame: bool = True,
    return_X_y: bool = False,
) -> Bunch | tuple:
    """Load the UCI Default of Credit Card Clients dataset (binary classification).

    =================   ==============================
    Samples total       30,000
    Features            23 (all integer-coded)
    Positive label      default payment next month = 1
    Positive rate       0.221
    =================   ==============================

    Not bundled: the file is read from the data home, or downloaded there.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding
        ``<data_home>/credit_default/default of credit card clients.csv.gz``. If None,
        ``$SKFAIRNN_DATA_HOME`` or ``~/skfairnn_data``.
    download_if_missing : bool, default=True
        Download the file (from the GitHub copy named in ``DESCR``) when missing.
    as_frame : bool, default=True
        If True, ``data`` and ``sensitive_features`` are DataFrames and ``target`` a
        Series. If False, they are numpy arrays and ``frame`` is None.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : DataFrame of shape (30000, 23)
            The raw columns except ``ID`` and the label, integer-coded as published.
            The sensitive columns ``SEX``, ``EDUCATION``, ``MARRIAGE`` and ``AGE`` are
            included as ordinary features; drop them to train a model that does not
            see them.
        target : Series of shape (30000,)
            1 if the client defaults next month. Note that label 1 is the
            unfavourable outcome for the client.
        sensitive_features : DataFrame of shape (30000, 3)
            ``SEX`` (``"male"``/``"female"``), ``EDUCATION`` (``"graduate school"``,
            ``"university"``, ``"high school"``, ``"others"``, ``"unknown"`` for the
            undocumented codes 0, 5, 6) and ``MARRIAGE`` (``"married"``,
            ``"single"``, ``"others"``, ``"unknown"`` for code 0).
        frame : DataFrame of shape (30000, 24)
            ``data`` with the target column appended.
        feature_names : list of str
            Names of the columns of ``data``.
        target_names : list of str
            ``["no_default", "default"]``, the meaning of labels 0 and 1.
        DESCR : str
            Description, source, license and citation.

    (data, target) : tuple if ``return_X_y`` is True
    """
    content = load_raw(
        "credit_default", data_home=data_home, download_if_missing=download_if_missing
    )
    frame = pd.read_csv(io.BytesIO(content))
    sensitive = pd.DataFrame(
        {
            "SEX": frame["SEX"].map(_SEX),
            "EDUCATION": frame["EDUCATION"].map(_EDUCATION),
            "MARRIAGE": frame["MARRIAGE"].map(_MARRIAGE),
        }
    )
    return make_bunch(
        frame.drop(columns=["ID", TARGET]),
        frame[TARGET],
        sensitive,
        target_names=["no_default", "default"],
        descr=DESCR,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )
