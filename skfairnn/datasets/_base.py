# SPDX-License-Identifier: BSD-3-Clause
"""Shared machinery of the dataset fetchers: data home, file lookup, Bunch assembly.

A fetcher asks :func:`load_raw` for the content of one raw file. The file is looked up,
in this order:

1. ``<data_home>/<folder>/<filename>``, with ``data_home`` the explicit argument, else
   ``$SKFAIRNN_DATA_HOME``, else ``~/skfairnn_data`` (an uncompressed ``adult.data``
   is accepted where ``adult.data.gz`` is expected, and the other way round);
2. the copy bundled inside the package (Adult, COMPAS and German only);
3. a download from the URL in :mod:`skfairnn.datasets._remote` into the data home,
   verified against its sha256, unless ``download_if_missing=False``.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._remote import REMOTE_FILES, RemoteFile, download_file

__all__ = ["get_data_home", "load_raw", "make_bunch"]

DATA_HOME_ENV = "SKFAIRNN_DATA_HOME"
DEFAULT_DATA_HOME = Path("~") / "skfairnn_data"
BUNDLED_DIR = Path(__file__).resolve().parent / "data"

MISSING_MESSAGE = (
    "Dataset file not found: {path} (data_home={data_home}) and download_if_missing=False. "
    "Place the file there, point data_home or ${env} at a folder holding '{relpath}', or "
    "pass download_if_missing=True to download it from {url}."
)
SIZE_MESSAGE = (
    "Dataset file {path} looks truncated or modified: its content has {actual} bytes, "
    "expected {expected}. Delete it to download a fresh copy."
)


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the folder where skfairnn looks for (and downloads) raw dataset files.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. If None, the environment variable ``SKFAIRNN_DATA_HOME`` is
        used when set, else ``~/skfairnn_data``. The folder is not created here.

    Returns
    -------
    data_home : pathlib.Path
        The resolved folder. Raw files are expected at
        ``<data_home>/<dataset>/<file>``, e.g. ``<data_home>/adult/adult.data.gz``.

    Examples
    --------
    >>> from skfairnn.datasets import get_data_home
    >>> str(get_data_home("/tmp/my_data"))
    '/tmp/my_data'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or DEFAULT_DATA_HOME
    return Path(data_home).expanduser()


def _decompress(path: Path, payload: bytes) -> bytes:
    return gzip.decompress(payload) if path.suffix == ".gz" else payload


def _read_local(path: Path, remote: RemoteFile) -> bytes:
    """Read and decompress ``path``, checking the content size (not the hash)."""
    content = _decompress(path, path.read_bytes())
    if len(content) != remote.content_size:
        raise OSError(
            SIZE_MESSAGE.format(path=path, actual=len(content), expected=remote.content_size)
        )
    return content


def _find(folder: Path, filename: str) -> Path | None:
    """Return ``folder/filename``, or its gzip-compressed/uncompressed twin, if present."""
    twin = filename.removesuffix(".gz") if filename.endswith(".gz") else f"{filename}.gz"
    for name in (filename, twin):
        if (folder / name).is_file():
            return folder / name
    return None


def load_raw(
    key: str,
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
) -> bytes:
    """Return the uncompressed content of the raw file ``key`` of ``REMOTE_FILES``.

    Parameters
    ----------
    key : str
        Key of :data:`skfairnn.datasets._remote.REMOTE_FILES`.
    data_home : str or path-like, default=None
        See :func:`get_data_home`.
    download_if_missing : bool, default=True
        Download the file into the data home when neither the data home nor the
        package holds it.

    Returns
    -------
    content : bytes

    Raises
    ------
    FileNotFoundError
        If the file is missing and ``download_if_missing`` is False.
    """
    remote = REMOTE_FILES[key]
    home = get_data_home(data_home)
    path = home / remote.relpath
    local = _find(path.parent, remote.filename)
    if local is None:
        local = _find(BUNDLED_DIR / remote.folder, remote.filename)
    if local is not None:
        return _read_local(local, remote)
    if not download_if_missing:
        raise FileNotFoundError(
            MISSING_MESSAGE.format(
                path=path,
                data_home=home,
                env=DATA_HOME_ENV,
                relpath=remote.relpath.as_posix(),
                url=remote.url,
            )
        )
    return download_file(remote, path)


def make_bunch(
    data: pd.DataFrame,
    target: pd.Series,
    sensitive_features: pd.DataFrame,
    *,
    target_names: list[str],
    descr: str,
    as_frame: bool,
    return_X_y: bool,
) -> Bunch | tuple:
    """Assemble a fetcher's return value.

    Parameters
    ----------
    data : DataFrame
        Feature columns.
    target : Series
        0/1 integer labels, named after the raw target column.
    sensitive_features : DataFrame
        Cleaned sensitive columns, aligned with ``data``.
    target_names : list of str
        ``target_names[k]`` describes label ``k``.
    descr : str
        The dataset description.
    as_frame : bool
        If False, convert ``data``, ``target`` and ``sensitive_features`` to numpy
        arrays and set ``frame`` to None.
    return_X_y : bool
        If True, return ``(data, target)`` only.

    Returns
    -------
    Bunch or tuple
    """
    target = target.astype(np.int64)
    feature_names = [str(name) for name in data.columns]
    frame = pd.concat([data, target], axis=1) if as_frame else None
    if not as_frame:
        data, target = data.to_numpy(), target.to_numpy()
        sensitive_features = sensitive_features.to_numpy()
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        sensitive_features=sensitive_features,
        frame=frame,
        feature_names=feature_names,
        target_names=list(target_names),
        DESCR=descr,
    )
