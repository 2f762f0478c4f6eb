# SPDX-License-Identifier: BSD-3-Clause
"""Validation and integer encoding of sensitive features.

Every estimator, weighter and metric of skfairnn turns ``sensitive_features``
into integer group codes here and nowhere else. The rules follow fairlearn's
``_validate_and_reformat_input``:

* a 1-D array, list, :class:`pandas.Series` or a single-column 2-D input gives
  one group per distinct value (strings, ints, bools and floats all work);
* a 2-D input with several columns gives *intersectional* groups: each row's
  values are joined with ``","`` (fairlearn's merge rule), so
  ``("F", "black")`` becomes the group ``"F,black"``;
* missing values (``NaN``/``None``) are an error unless ``allow_missing=True``,
  in which case they get the code ``-1`` (FairIF's rows without a known
  group).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["EncodedGroups", "encode_sensitive_features", "check_at_least_two_groups"]

MISSING_CODE = -1

_MSG_LENGTH = (
    "sensitive_features has {got} rows but X has {expected}; they must describe the "
    "same samples, one row each."
)
_MSG_MISSING = (
    "sensitive_features contains {count} missing value(s) (NaN/None); every row needs a "
    "known group for this estimator. Drop those rows or impute a group."
)
_MSG_NDIM = "sensitive_features must be 1-D or 2-D; got an array with {ndim} dimensions."
_MSG_EMPTY = "sensitive_features is empty; it needs one group label per sample."
_MSG_TWO_GROUPS = (
    "sensitive_features has a single group ({group!r}); a fairness constraint compares "
    "groups and needs at least two."
)


@dataclass(frozen=True)
class EncodedGroups:
    """Integer group codes and the labels they stand for.

    Attributes
    ----------
    codes : ndarray of shape (n_samples,), dtype int64
        ``codes[i]`` indexes ``labels``; ``-1`` marks an unknown group.
    labels : ndarray of shape (n_groups,), dtype object
        Original group labels, sorted; intersectional labels are joined
        strings such as ``"Female,Black"``.
    """

    codes: np.ndarray
    labels: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.labels)


def _to_frame(sensitive_features) -> pd.DataFrame:
    """Return the sensitive features as a DataFrame with one column per feature."""
    if isinstance(sensitive_features, pd.DataFrame):
        return sensitive_features.reset_index(drop=True)
    if isinstance(sensitive_features, pd.Series):
        return sensitive_features.reset_index(drop=True).to_frame()
    if hasattr(sensitive_features, "detach"):  # torch tensor
        sensitive_features = sensitive_features.detach().cpu().numpy()
    array = np.asarray(sensitive_features, dtype=object)
    if array.ndim == 0:
        raise TypeError(
            "sensitive_features must be an array-like with one entry per sample; got the "
            f"scalar {sensitive_features!r}."
        )
    if array.ndim > 2:
        raise ValueError(_MSG_NDIM.format(ndim=array.ndim))
    if array.ndim == 1:
        array = array[:, None]
    return pd.DataFrame(array)


def _merge_columns(frame: pd.DataFrame) -> pd.Series:
    """Join several columns into one intersectional label (fairlearn's rule)."""
    if frame.shape[1] == 1:
        return frame.iloc[:, 0]

    def escape(value) -> str:
        return str(value).replace("\\", "\\\\").replace(",", "\\,")

    merged = frame.apply(lambda row: ",".join(escape(v) for v in row), axis=1)
    merged[frame.isna().any(axis=1).to_numpy()] = None
    return merged


def encode_sensitive_features(
    sensitive_features,
    *,
    n_samples: int | None = None,
    allow_missing: bool = False,
    labels: np.ndarray | None = None,
) -> EncodedGroups:
    """Validate sensitive features and encode them as integer group codes.

    Parameters
    ----------
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_features)
        Group membership; several columns define intersectional groups.
    n_samples : int, default=None
        Expected number of rows (``len(X)``); a mismatch raises ``ValueError``.
    allow_missing : bool, default=False
        If True, NaN/None rows get code ``-1`` instead of raising.
    labels : ndarray, default=None
        Known group labels (e.g. ``sensitive_groups_`` of a fitted estimator).
        Values outside them raise ``ValueError``.

    Returns
    -------
    EncodedGroups
        The codes and the sorted group labels.
    """
    if sensitive_features is None:
        raise TypeError("sensitive_features is None; pass one group label per sample.")
    frame = _to_frame(sensitive_features)
    if len(frame) == 0:
        raise ValueError(_MSG_EMPTY)
    if n_samples is not None and len(frame) != n_samples:
        raise ValueError(_MSG_LENGTH.format(got=len(frame), expected=n_samples))
    merged = _merge_columns(frame)
    missing = merged.isna().to_numpy()
    if missing.any() and not allow_missing:
        raise ValueError(_MSG_MISSING.format(count=int(missing.sum())))
    present = merged[~missing].to_numpy()
    if labels is None:
        labels = _sorted_unique(present)
    codes = np.full(len(merged), MISSING_CODE, dtype=np.int64)
    lookup = {label: code for code, label in enumerate(labels.tolist())}
    try:
        codes[~missing] = [lookup[value] for value in present.tolist()]
    except KeyError as error:
        raise ValueError(
            f"sensitive_features contains the group {error.args[0]!r}, which was not seen "
            f"during fit (known groups: {labels.tolist()})."
        ) from None
    return EncodedGroups(codes=codes, labels=labels)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values; mixed types fall back to sorting by their string form."""
    unique = pd.unique(pd.Series(values, dtype=object))
    try:
        order = sorted(unique.tolist())
    except TypeError:
        order = sorted(unique.tolist(), key=str)
    out = np.empty(len(order), dtype=object)
    out[:] = order
    return out


def check_at_least_two_groups(groups: EncodedGroups) -> None:
    """Raise ``ValueError`` unless at least two groups occur among the known rows."""
    present = np.unique(groups.codes[groups.codes != MISSING_CODE])
    if len(present) < 2:
        only = groups.labels[present[0]] if len(present) else None
        raise ValueError(_MSG_TWO_GROUPS.format(group=only))
