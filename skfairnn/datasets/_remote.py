# SPDX-License-Identifier: BSD-3-Clause
"""Where each raw dataset file comes from, and how it is downloaded and verified.

Every file a fetcher reads is described by one :class:`RemoteFile`: its place in the
data home (``<data_home>/<folder>/<filename>``, the layout of the project's raw-data
folder), the URL it is downloaded from, and the checksums that guard it.

Two checksums are kept per file:

- ``sha256`` is the hash of the bytes the URL serves. It is ``None`` where the served
  bytes are not known exactly (the publisher's copy is wrapped in a zip archive, or
  has different line endings than the copy the project verified).
- ``content_sha256`` and ``content_size`` describe the bytes of the file after the
  documented post-processing (unzipping, line-ending normalisation) and after gzip
  decompression when the file is stored as ``.gz``. Every download checks it.

At read time only ``content_size`` is compared (cheap, and catches truncated files);
the full hash is computed on download only.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RemoteFile", "REMOTE_FILES", "ChecksumError", "download_file"]

CHECKSUM_MESSAGE = (
    "Checksum mismatch for {what} downloaded from {url}: expected sha256 {expected}, "
    "got {actual}. The file was not saved. The remote copy may have changed; place a "
    "verified copy at {path} manually."
)
DOWNLOAD_MESSAGE = (
    "Could not download {url} to {path}: {error}. Check the network connection, or place "
    "the file there manually (or point data_home / SKFAIRNN_DATA_HOME at a folder holding it)."
)
_TIMEOUT_S = 60


class ChecksumError(OSError):
    """A downloaded file does not match its recorded sha256."""


def _identity(payload: bytes) -> bytes:
    return payload


def _normalize_newlines(payload: bytes) -> bytes:
    """Convert CRLF and lone CR line terminators to LF."""
    return payload.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _zip_member(member: str) -> Callable[[bytes], bytes]:
    """Return a function extracting ``member`` from zip bytes, with LF line endings."""

    def extract(payload: bytes) -> bytes:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            return _normalize_newlines(archive.read(member))

    return extract


@dataclass(frozen=True)
class RemoteFile:
    """One raw file: where it lives in the data home and where it is downloaded from.

    Parameters
    ----------
    folder : str
        Sub-folder of the data home (``"adult"``).
    filename : str
        File name inside ``folder``; a ``.gz`` name is stored gzip-compressed.
    url : str
        Download URL.
    sha256 : str or None
        sha256 of the bytes ``url`` serves, or None where they are not known exactly.
    content_sha256 : str
        sha256 of the file's uncompressed content (after ``postprocess``).
    content_size : int
        Size in bytes of the uncompressed content.
    postprocess : callable, default=identity
        Turns the served bytes into the content (e.g. unzip a member).
    note : str, default=""
        How the served bytes relate to the stored content.
    """

    folder: str
    filename: str
    url: str
    sha256: str | None
    content_sha256: str
    content_size: int
    postprocess: Callable[[bytes], bytes] = _identity
    note: str = ""

    @property
    def relpath(self) -> Path:
        """Path relative to the data home."""
        return Path(self.folder) / self.filename


_UCI = "https://archive.ics.uci.edu/ml/machine-learning-databases"
_GITHUB = "https://raw.githubusercontent.com"

# Content hashes and sizes come from the project's data README (table "sha256 (content)").
REMOTE_FILES: dict[str, RemoteFile] = {
    "adult.data": RemoteFile(
        "adult",
        "adult.data.gz",
        f"{_UCI}/adult/adult.data",
        "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
        "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
        3_974_305,
        note="UCI serves the uncompressed file; stored gzip-compressed.",
    ),
    "adult.test": RemoteFile(
        "adult",
        "adult.test.gz",
        f"{_UCI}/adult/adult.test",
        "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
        "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
        2_003_153,
        note="UCI serves the uncompressed file; stored gzip-compressed.",
    ),
    "compas": RemoteFile(
        "compas",
        "compas-scores-two-years.csv.gz",
        f"{_GITHUB}/propublica/compas-analysis/bafff5da3f2e45eca6c2d5055faad269defd135a/"
        "compas-scores-two-years.csv",
        "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d",
        "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d",
        2_546_489,
        note="ProPublica's file at a fixed commit (git blob d5c382e6); stored gzip-compressed.",
    ),
    "german": RemoteFile(
        "german",
        "german.data",
        f"{_UCI}/statlog/german/german.data",
        "b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871",
        "b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871",
        79_793,
        note="UCI file, stored as served.",
    ),
    "lsac": RemoteFile(
        "lsac",
        "bar_pass_prediction.csv.gz",
        f"{_GITHUB}/TheRohanVerma/CMPUT622_FairSMOTE_vs_FairClassBal/"
        "a895803f7e2a09010dc2185653081b790a164096/data/bar_pass_prediction.csv",
        "76ebfdb0427ce8db038d53fa5943180ac77096bffb8264f000ed21e9f0ec82f2",
        "76ebfdb0427ce8db038d53fa5943180ac77096bffb8264f000ed21e9f0ec82f2",
        3_512_800,
        note="Third-party copy (git blob 7f279703) kept byte for byte; stored gzip-compressed.",
    ),
    "credit_default": RemoteFile(
        "credit_default",
        "default of credit card clients.csv.gz",
        f"{_GITHUB}/yusufnb/cs-498-hw6/f8e85fc9e2b88835bfc2cb43205ccf8e1f5d8fae/"
        "default%20of%20credit%20card%20clients.csv",
        None,
        "4edce6da569b2c30788a85fd98a9bafb1a983e8ca1a7aac875dd7ff853cbd0bb",
        2_867_208,
        postprocess=_normalize_newlines,
        note=(
            "CSV rendering of the UCI workbook with CR line terminators; the served hash "
            "is not recorded, the content is verified after converting CR to LF."
        ),
    ),
    "bank": RemoteFile(
        "bank",
        "bank-full.csv.gz",
        f"{_GITHUB}/xori/neural-spice/a0905328f78e4db88ca07145f17feb5ec34535b4/data/bank.zip",
        None,
        "d1513ec63b385506f7cfce9f2c5caa9fe99e7ba4e8c3fa264b3aaf0f849ed32d",
        4_610_348,
        postprocess=_zip_member("bank/bank-full.csv"),
        note=(
            "A 2013 re-pack of UCI's bank.zip; the served zip's hash is not recorded, the "
            "member bank/bank-full.csv is verified after converting CRLF to LF (it then "
            "equals the file in UCI's own bank.zip)."
        ),
    ),
}


def _sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _check(payload: bytes, expected: str, *, what: str, url: str, path: Path) -> None:
    actual = _sha256(payload)
    if actual != expected:
        raise ChecksumError(
            CHECKSUM_MESSAGE.format(what=what, url=url, expected=expected, actual=actual, path=path)
        )


def _write_atomic(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as tmp:
            tmp.write(payload)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def download_file(remote: RemoteFile, path: Path) -> bytes:
    """Download ``remote`` to ``path`` after verifying it; return the file's content.

    Parameters
    ----------
    remote : RemoteFile
        What to download.
    path : pathlib.Path
        Destination; gzip-compressed when its name ends in ``.gz``.

    Returns
    -------
    content : bytes
        The verified, uncompressed content.

    Raises
    ------
    ChecksumError
        If the served bytes or the processed content do not match the recorded sha256.
    OSError
        If the download fails.
    """
    try:
        with urllib.request.urlopen(remote.url, timeout=_TIMEOUT_S) as response:
            payload = response.read()
    except OSError as exc:  # URLError and socket errors are OSErrors
        raise OSError(DOWNLOAD_MESSAGE.format(url=remote.url, path=path, error=exc)) from exc
    if remote.sha256 is not None:
        _check(payload, remote.sha256, what="the file", url=remote.url, path=path)
    content = remote.postprocess(payload)
    _check(content, remote.content_sha256, what="the content", url=remote.url, path=path)
    stored = gzip.compress(content, compresslevel=9, mtime=0) if path.suffix == ".gz" else content
    _write_atomic(path, stored)
    return content
