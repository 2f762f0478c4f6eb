# SPDX-License-Identifier: BSD-3-Clause
"""Tests for skfairnn.datasets: fetchers, downloads, Fair Mixup Adult, synthetic data."""

import gzip
import io
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import skfairnn.datasets as datasets
from skfairnn.datasets import (
    ChecksumError,
    _base,
    fetch_adult,
    fetch_bank,
    fetch_compas,
    fetch_credit_default,
    fetch_german,
    fetch_lsac,
    get_data_home,
    load_adult_fair_mixup,
    make_biased_classification,
    make_colored_digits,
)

# The project's raw-data folder sits next to the repository root: <root>/../shared/data.
SHARED_DATA = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()
needs_shared_data = pytest.mark.skipif(
    not (SHARED_DATA / "lsac").is_dir(),
    reason=f"raw datasets folder {SHARED_DATA} is absent (sibling 'shared/data' of the repo)",
)

# fetcher, rows, features, positives, {sensitive column: {label: count}}
# Counts from the data README (shared/data/README.md).
FETCHER_CASES = {
    "adult": (fetch_adult, 48_842, 14, 11_687, {"sex": {"Male": 32_650, "Female": 16_192}}),
    "compas": (
        fetch_compas,
        6_172,
        10,
        2_809,
        {"race": {"African-American": 3_175, "Caucasian": 2_103}, "sex": {"Male": 4_997}},
    ),
    "german": (
        fetch_german,
        1_000,
        20,
        700,
        {"sex": {"male": 690, "female": 310}, "age_group": {">25": 810, "<=25": 190}},
    ),
    "lsac": (
        fetch_lsac,
        22_407,
        14,
        21_238,
        {"gender": {"male": 12_576, "female": 9_826}, "race1": {"white": 18_716}},
    ),
    "credit_default": (
        fetch_credit_default,
        30_000,
        23,
        6_636,
        {"SEX": {"male": 11_888, "female": 18_112}, "MARRIAGE": {"unknown": 54}},
    ),
    "bank": (
        fetch_bank,
        45_211,
        16,
        5_289,
        {"age_group": {">=25": 44_402, "<25": 809}, "marital": {"married": 27_214}},
    ),
}
SENSITIVE_COLUMNS = {
    "adult": ["sex", "race"],
    "compas": ["race", "sex"],
    "german": ["sex", "age_group"],
    "lsac": ["gender", "race1"],
    "credit_default": ["SEX", "EDUCATION", "MARRIAGE"],
    "bank": ["age_group", "marital"],
}
BUNDLED = {"adult": fetch_adult, "compas": fetch_compas, "german": fetch_german}


@pytest.fixture(scope="module")
def shared_bunches():
    """Every fetcher's Bunch, read from the shared raw-data folder (loaded once)."""
    if not (SHARED_DATA / "lsac").is_dir():
        pytest.skip(f"raw datasets folder {SHARED_DATA} is absent")
    return {
        name: case[0](data_home=SHARED_DATA, download_if_missing=False)
        for name, case in FETCHER_CASES.items()
    }


@pytest.fixture
def no_network(monkeypatch):
    """Fail any download attempt."""

    def refuse(url, *args, **kwargs):
        raise AssertionError(f"unexpected download of {url}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


class _Response(io.BytesIO):
    """What urlopen returns: a readable context manager."""


def _serve(monkeypatch, payload: bytes, calls: list | None = None):
    def fake_urlopen(url, *args, **kwargs):
        if calls is not None:
            calls.append(url)
        return _Response(payload)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)


def _content(path: Path) -> bytes:
    payload = path.read_bytes()
    return gzip.decompress(payload) if path.suffix == ".gz" else payload


# --------------------------------------------------------------------------------------
# Fetchers on the shared raw data
# --------------------------------------------------------------------------------------


@needs_shared_data
@pytest.mark.parametrize("name", list(FETCHER_CASES))
def test_fetcher_counts_match_readme(shared_bunches, name):
    _, n_rows, n_features, n_positive, sensitive_counts = FETCHER_CASES[name]
    bunch = shared_bunches[name]
    assert bunch.data.shape == (n_rows, n_features)
    assert bunch.target.dtype == np.int64
    assert set(np.unique(bunch.target)) == {0, 1}
    assert int(bunch.target.sum()) == n_positive
    assert len(bunch.sensitive_features) == n_rows
    assert list(bunch.sensitive_features.columns) == SENSITIVE_COLUMNS[name]
    for column, counts in sensitive_counts.items():
        observed = bunch.sensitive_features[column].value_counts()
        for label, count in counts.items():
            assert observed[label] == count, (column, label)


@needs_shared_data
@pytest.mark.parametrize("name", list(FETCHER_CASES))
def test_fetcher_bunch_layout(shared_bunches, name):
    bunch = shared_bunches[name]
    assert bunch.feature_names == list(bunch.data.columns)
    assert list(bunch.frame.columns) == bunch.feature_names + [bunch.target.name]
    assert len(bunch.target_names) == 2
    assert bunch.data.index.equals(bunch.sensitive_features.index)
    for word in ("Source", "License", "References"):
        assert word in bunch.DESCR


@needs_shared_data
def test_sensitive_columns_are_raw_features(shared_bunches):
    adult = shared_bunches["adult"]
    assert {"sex", "race"} <= set(adult.data.columns)
    pd.testing.assert_series_equal(adult.data["sex"], adult.sensitive_features["sex"])


@needs_shared_data
def test_adult_cleaning(shared_bunches):
    adult = shared_bunches["adult"]
    assert adult.data.isna().any(axis=1).sum() == 3_620  # rows holding a '?'
    assert set(adult.frame["income"].unique()) == {0, 1}
    assert not (adult.data == "?").any().any()
    # test rows (after the 32,561 training rows): 3,846 positives, labels had a '.'
    assert int(adult.target.iloc[32_561:].sum()) == 3_846


@needs_shared_data
def test_compas_options():
    raw = fetch_compas(data_home=SHARED_DATA, propublica_filter=False, all_columns=True)
    assert raw.data.shape == (7_214, 52)
    assert int(raw.target.sum()) == 3_251
    assert {"decile_score.1", "priors_count.1"} <= set(raw.feature_names)


@needs_shared_data
def test_lsac_all_columns():
    lsac = fetch_lsac(data_home=SHARED_DATA, all_columns=True, download_if_missing=False)
    assert lsac.data.shape == (22_407, 37)
    assert "pass_bar" not in lsac.feature_names


@needs_shared_data
def test_as_frame_false_and_return_X_y():
    bunch = fetch_german(data_home=SHARED_DATA, as_frame=False)
    assert isinstance(bunch.data, np.ndarray) and bunch.data.shape == (1_000, 20)
    assert isinstance(bunch.target, np.ndarray) and bunch.target.dtype == np.int64
    assert isinstance(bunch.sensitive_features, np.ndarray)
    assert bunch.frame is None
    assert len(bunch.feature_names) == 20
    X, y = fetch_german(data_home=SHARED_DATA, return_X_y=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert X.shape == (1_000, 20) and int(y.sum()) == 700


@needs_shared_data
def test_env_variable_sets_data_home(monkeypatch, no_network):
    monkeypatch.setenv("SKFAIRNN_DATA_HOME", str(SHARED_DATA))
    assert get_data_home() == SHARED_DATA
    assert fetch_bank(return_X_y=True)[0].shape == (45_211, 16)


# --------------------------------------------------------------------------------------
# Data home, bundled copies, missing files
# --------------------------------------------------------------------------------------


def test_get_data_home_order(monkeypatch, tmp_path):
    monkeypatch.delenv("SKFAIRNN_DATA_HOME", raising=False)
    assert get_data_home() == Path("~/skfairnn_data").expanduser()
    monkeypatch.setenv("SKFAIRNN_DATA_HOME", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env"
    assert get_data_home(tmp_path / "explicit") == tmp_path / "explicit"
    assert not (tmp_path / "env").exists()  # lookups create nothing


@pytest.mark.parametrize("name", list(BUNDLED))
def test_bundled_copies_load_offline(name, tmp_path, no_network):
    bunch = BUNDLED[name](data_home=tmp_path, download_if_missing=False)
    _, n_rows, n_features, n_positive, _ = FETCHER_CASES[name]
    assert bunch.data.shape == (n_rows, n_features)
    assert int(bunch.target.sum()) == n_positive
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_bundled_files_are_small():
    files = [p for p in _base.BUNDLED_DIR.rglob("*") if p.is_file()]
    assert {p.parent.name for p in files} == {"adult", "compas", "german"}
    assert sum(p.stat().st_size for p in files) < 2_000_000


def test_data_home_accepts_compressed_twin(monkeypatch, tmp_path, no_network):
    bundled = Path(datasets.__file__).parent / "data" / "german" / "german.data.gz"
    monkeypatch.setattr(_base, "BUNDLED_DIR", tmp_path / "no_bundle")
    (tmp_path / "german").mkdir()
    (tmp_path / "german" / "german.data.gz").write_bytes(bundled.read_bytes())
    assert fetch_german(data_home=tmp_path).data.shape == (1_000, 20)


def test_data_home_copy_preferred_and_size_checked(tmp_path, no_network):
    target = tmp_path / "german" / "german.data"
    target.parent.mkdir()
    target.write_bytes(b"A11 6 A34\n")  # truncated
    with pytest.raises(OSError, match="truncated or modified"):
        fetch_german(data_home=tmp_path)


@pytest.mark.parametrize("fetch", [fetch_lsac, fetch_credit_default, fetch_bank])
def test_missing_without_download_raises(fetch, tmp_path, no_network):
    with pytest.raises(FileNotFoundError) as excinfo:
        fetch(data_home=tmp_path, download_if_missing=False)
    message = str(excinfo.value)
    assert str(tmp_path) in message
    assert "data_home=" in message and "download_if_missing=False" in message
    assert not any(tmp_path.iterdir())


def test_missing_bundled_without_download_raises(monkeypatch, tmp_path, no_network):
    monkeypatch.setattr(_base, "BUNDLED_DIR", tmp_path / "no_bundle")
    with pytest.raises(FileNotFoundError, match=r"german[/\\]german\.data"):
        fetch_german(data_home=tmp_path / "home", download_if_missing=False)


# --------------------------------------------------------------------------------------
# Downloads (urlopen monkeypatched to serve local bytes)
# --------------------------------------------------------------------------------------


def test_download_german_checksum_ok(monkeypatch, tmp_path):
    monkeypatch.setattr(_base, "BUNDLED_DIR", tmp_path / "no_bundle")
    calls = []
    served = _content(Path(datasets.__file__).parent / "data" / "german" / "german.data.gz")
    _serve(monkeypatch, served, calls)
    bunch = fetch_german(data_home=tmp_path / "home")
    assert bunch.data.shape == (1_000, 20)
    assert calls == [
        "https://archive.ics.uci.edu/ml/machine-learning-databases/statlog/german/german.data"
    ]
    stored = tmp_path / "home" / "german" / "german.data"
    assert stored.read_bytes() == served
    assert [p.name for p in stored.parent.iterdir()] == ["german.data"]  # no temp files left
    # second call reads the stored file, no download
    _serve(monkeypatch, b"", calls)
    fetch_german(data_home=tmp_path / "home")
    assert len(calls) == 1


def test_download_checksum_mismatch(monkeypatch, tmp_path):
    monkeypatch.setattr(_base, "BUNDLED_DIR", tmp_path / "no_bundle")
    served = _content(Path(datasets.__file__).parent / "data" / "german" / "german.data.gz")
    _serve(monkeypatch, served.replace(b"A11", b"A12", 1))
    with pytest.raises(ChecksumError, match="Checksum mismatch.*expected sha256 b21f3d81"):
        fetch_german(data_home=tmp_path / "home")
    folder = tmp_path / "home" / "german"
    assert not folder.exists() or not any(folder.iterdir())  # nothing saved


def test_download_network_error(monkeypatch, tmp_path):
    def offline(url, *args, **kwargs):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(OSError, match="Could not download .*bar_pass_prediction"):
        fetch_lsac(data_home=tmp_path)


@needs_shared_data
def test_download_gzip_stored(monkeypatch, tmp_path):
    served = _content(SHARED_DATA / "lsac" / "bar_pass_prediction.csv.gz")
    _serve(monkeypatch, served)
    bunch = fetch_lsac(data_home=tmp_path)
    assert bunch.data.shape == (22_407, 14)
    assert _content(tmp_path / "lsac" / "bar_pass_prediction.csv.gz") == served


@needs_shared_data
def test_download_lsac_bad_checksum(monkeypatch, tmp_path):
    served = _content(SHARED_DATA / "lsac" / "bar_pass_prediction.csv.gz")
    _serve(monkeypatch, served[:-10])
    with pytest.raises(ChecksumError, match="expected sha256 76ebfdb0"):
        fetch_lsac(data_home=tmp_path)
    assert not (tmp_path / "lsac" / "bar_pass_prediction.csv.gz").exists()


@needs_shared_data
def test_download_credit_converts_cr_line_endings(monkeypatch, tmp_path):
    content = _content(SHARED_DATA / "credit_default" / "default of credit card clients.csv.gz")
    _serve(monkeypatch, content.replace(b"\n", b"\r"))  # as the GitHub copy serves it
    X, y = fetch_credit_default(data_home=tmp_path, return_X_y=True)
    assert X.shape == (30_000, 23) and int(y.sum()) == 6_636
    assert _content(tmp_path / "credit_default" / "default of credit card clients.csv.gz") == (
        content
    )


@needs_shared_data
def test_download_bank_extracts_zip_member(monkeypatch, tmp_path):
    content = _content(SHARED_DATA / "bank" / "bank-full.csv.gz")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("bank/bank-names.txt", b"names")
        zf.writestr("bank/bank-full.csv", content.replace(b"\n", b"\r\n"))
    _serve(monkeypatch, archive.getvalue())
    assert fetch_bank(data_home=tmp_path).data.shape == (45_211, 16)
    assert _content(tmp_path / "bank" / "bank-full.csv.gz") == content


# --------------------------------------------------------------------------------------
# Fair Mixup Adult
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fair_mixup():
    return load_adult_fair_mixup(random_state=0)


def test_fair_mixup_shapes(fair_mixup):
    n = {"train": 27_132, "val": 9_045, "test": 9_045}
    for split, rows in n.items():
        X, y, a = fair_mixup[f"X_{split}"], fair_mixup[f"y_{split}"], fair_mixup[f"a_{split}"]
        assert X.shape == (rows, 120) and X.dtype == np.float32
        assert y.shape == a.shape == (rows,)
        assert set(np.unique(X)) == {0.0, 1.0}
        np.testing.assert_array_equal(X.sum(axis=1), 40)  # 5 + 35 one-hot blocks
    assert sum(n.values()) == 45_222
    assert len(fair_mixup.feature_names) == 120
    assert not any(name.startswith("sex") for name in fair_mixup.feature_names)
    assert "race_White=1" in fair_mixup.feature_names


def test_fair_mixup_group_counts_match_table(fair_mixup):
    # FairIF Table 8 / reference notes: female <=50K 13,026, male <=50K 20,988,
    # female >50K 1,669, male >50K 9,539.
    y = np.concatenate([fair_mixup.y_train, fair_mixup.y_val, fair_mixup.y_test])
    a = np.concatenate([fair_mixup.a_train, fair_mixup.a_val, fair_mixup.a_test])
    counts = pd.crosstab(a, y)
    assert counts.loc[0, 0] == 13_026 and counts.loc[1, 0] == 20_988
    assert counts.loc[0, 1] == 1_669 and counts.loc[1, 1] == 9_539


def test_fair_mixup_split_is_aif360_permutation(fair_mixup):
    again = load_adult_fair_mixup(random_state=0)
    np.testing.assert_array_equal(again.X_val, fair_mixup.X_val)
    other = load_adult_fair_mixup(random_state=1)
    assert not np.array_equal(other.y_test, fair_mixup.y_test)


def test_fair_mixup_quantize_quirk(fair_mixup):
    assert np.all(fair_mixup.bin_edges == fair_mixup.bin_edges[0])  # age edges everywhere
    fixed = load_adult_fair_mixup(random_state=0, quantize_quirk=False)
    assert not np.allclose(fixed.bin_edges[1], fixed.bin_edges[0])
    np.testing.assert_array_equal(fixed.bin_edges[0], fair_mixup.bin_edges[0])
    np.testing.assert_array_equal(fixed.X_train[:, 50:], fair_mixup.X_train[:, 50:])
    assert not np.array_equal(fixed.X_train[:, 10:50], fair_mixup.X_train[:, 10:50])
    # per-column edges: capital-gain zero vs non-zero lands in two different bins
    capital_gain = fixed.X_train[:, 20:30]
    assert (capital_gain.sum(axis=0) > 0).sum() == 2


# --------------------------------------------------------------------------------------
# make_biased_classification
# --------------------------------------------------------------------------------------


def _tpr_gap(bias, random_state=0, **kwargs):
    X, y, A = make_biased_classification(2000, bias=bias, random_state=random_state, **kwargs)
    X_tr, X_te, y_tr, y_te, _, A_te = train_test_split(X, y, A, test_size=0.5, random_state=0)
    pred = LogisticRegression().fit(X_tr, y_tr).predict(X_te)
    tpr = [pred[(A_te == a) & (y_te == 1)].mean() for a in (0, 1)]
    return abs(tpr[0] - tpr[1])


def test_biased_classification_deterministic():
    first = make_biased_classification(random_state=3)
    second = make_biased_classification(random_state=3)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    other = make_biased_classification(random_state=4)
    assert not np.array_equal(first[0], other[0])


def test_biased_classification_outputs():
    X, y, A = make_biased_classification(500, 6, bias="none", n_groups=3, random_state=0)
    assert X.shape == (500, 6) and X.dtype == np.float64
    assert y.dtype == np.int64 and A.dtype == np.int64
    assert set(np.unique(y)) == {0, 1} and set(np.unique(A)) == {0, 1, 2}
    bunch = make_biased_classification(500, random_state=0, return_bunch=True)
    assert bunch.class_directions.shape == (2, 10)
    np.testing.assert_allclose(np.linalg.norm(bunch.class_directions, axis=1), 1.0)


def test_group_size_bias():
    _, y, A = make_biased_classification(2000, bias="group_size", minority_fraction=0.2)
    assert A.mean() == pytest.approx(0.2)
    assert y[A == 0].mean() == pytest.approx(0.5) and y[A == 1].mean() == pytest.approx(0.5)


def test_distribution_shift_bias():
    _, y, A = make_biased_classification(2000, bias="distribution_shift")
    assert A.mean() == pytest.approx(0.5) and y.mean() == pytest.approx(0.5)
    assert y[A == 0].mean() == pytest.approx(0.85) and y[A == 1].mean() == pytest.approx(0.15)
    _, y, A = make_biased_classification(
        3000, bias="distribution_shift", n_groups=3, group_positive_rates=[0.2, 0.5, 0.8]
    )
    np.testing.assert_allclose([y[A == a].mean() for a in range(3)], [0.2, 0.5, 0.8])


def test_class_size_bias():
    _, y, A = make_biased_classification(2000, bias="class_size", positive_fraction=0.2)
    assert A.mean() == pytest.approx(0.5)
    assert y[A == 0].mean() == pytest.approx(0.2) and y[A == 1].mean() == pytest.approx(0.2)


@pytest.mark.parametrize("bias", ["group_size", "distribution_shift", "class_size"])
def test_logistic_regression_is_unfair(bias):
    assert _tpr_gap(bias) > 0.15


def test_no_feature_shift_reduces_gap():
    assert _tpr_gap("none", group_shift=0.0) < 0.05 < _tpr_gap("none")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"bias": "gender"}, "bias must be one of 'group_size'"),
        ({"minority_fraction": 1.5}, "minority_fraction must be in the open interval"),
        ({"n_features": 2}, "n_features must be at least 3"),
        ({"bias": "distribution_shift", "group_positive_rates": [0.5]}, "group_positive_rates"),
    ],
)
def test_biased_classification_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_biased_classification(**kwargs)


# --------------------------------------------------------------------------------------
# make_colored_digits
# --------------------------------------------------------------------------------------


def test_colored_digits_shapes():
    X, y, A = make_colored_digits(random_state=0)
    assert X.shape == (1797, 3, 8, 8) and X.dtype == np.float32
    assert 0.0 <= X.min() and X.max() <= 1.0
    assert y.dtype == np.int64 and A.dtype == np.int64
    X32, _, _ = make_colored_digits(random_state=0, image_size=32)
    assert X32.shape == (1797, 3, 32, 32)
    flat, _, _ = make_colored_digits(random_state=0, image_size=16, flatten=True)
    assert flat.shape == (1797, 3 * 16 * 16) and flat.dtype == np.float32


def test_colored_digits_labels_and_colour():
    bunch = make_colored_digits(bias="none", random_state=0, return_bunch=True)
    np.testing.assert_array_equal(bunch.target, (bunch.digit % 2 == 0).astype(int))  # even=1
    X, A = bunch.data, bunch.sensitive_features
    corner = X[:, :, 0, 0]  # background pixel in every 8x8 digit
    assert np.all(corner[A == 1, 0] > 0.8) and np.all(corner[A == 1, 2] < 0.2)  # red
    assert np.all(corner[A == 0, 2] > 0.8) and np.all(corner[A == 0, 0] < 0.2)  # blue
    assert np.all(X[:, 1].mean(axis=(1, 2)) < X[:, [0, 2]].mean(axis=(1, 2, 3)))


@pytest.mark.parametrize(
    "bias, red_even, red_odd, even_share",
    [
        ("group_size", 0.15, 0.15, 0.5),
        ("distribution_shift", 0.85, 0.15, 0.5),
        ("class_size", 0.5, 0.5, 0.2),
        ("none", 0.5, 0.5, 0.5),
    ],
)
def test_colored_digits_bias_presets(bias, red_even, red_odd, even_share):
    _, y, A = make_colored_digits(bias=bias, random_state=0)
    assert A[y == 1].mean() == pytest.approx(red_even, abs=2e-3)
    assert A[y == 0].mean() == pytest.approx(red_odd, abs=2e-3)
    assert y.mean() == pytest.approx(even_share, abs=5e-3)


def test_colored_digits_explicit_betas_and_determinism():
    X, y, A = make_colored_digits(
        bias="none", beta_1=0.3, beta_2=0.9, class_beta_1=0.5, class_beta_2=0.5, random_state=1
    )
    assert (y == 1).sum() == (y == 0).sum()
    assert A[y == 1].mean() == pytest.approx(0.3, abs=2e-3)
    assert A[y == 0].mean() == pytest.approx(0.9, abs=2e-3)
    X2, y2, A2 = make_colored_digits(
        bias="none", beta_1=0.3, beta_2=0.9, class_beta_1=0.5, class_beta_2=0.5, random_state=1
    )
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(A, A2)


def test_colored_digits_distribution_shift_is_learned_unfairly():
    X, y, A = make_colored_digits(bias="distribution_shift", flatten=True, random_state=0)
    X_tr, X_te, y_tr, y_te, _, A_te = train_test_split(X, y, A, test_size=0.5, random_state=0)
    pred = LogisticRegression(C=0.01).fit(X_tr, y_tr).predict(X_te)
    tpr = [pred[(A_te == a) & (y_te == 1)].mean() for a in (0, 1)]
    assert tpr[1] - tpr[0] > 0.1  # red even digits are recognised more often


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"image_size": 12}, "image_size must be a positive multiple of 8"),
        ({"beta_1": 1.5}, "beta_1 must be in"),
        ({"class_beta_1": 0.2}, "given together"),
        ({"bias": "other"}, "bias must be one of"),
    ],
)
def test_colored_digits_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_colored_digits(**kwargs)


def test_public_names():
    assert sorted(datasets.__all__) == sorted(
        name for name in dir(datasets) if not name.startswith("_") and name in datasets.__all__
    )
    for name in datasets.__all__:
        assert getattr(datasets, name).__doc__
