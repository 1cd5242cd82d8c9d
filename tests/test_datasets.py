"""Datasets: shapes, classes, determinism, the split, standardization and file errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from initlab.datasets import DATASETS, course_circles, load_dataset, split, standardize
from initlab.spec import parse_keyword_spec as parse_spec
from initlab.spec import split_top_level

# name -> (n_features, n_classes, total samples)
EXPECTED = {
    "circles": (2, 2, 300),
    "moons": (2, 2, 300),
    "spirals": (2, 2, 300),
    "xor": (2, 2, 300),
    "gaussians": (2, 2, 300),
    "blobs": (2, 3, 300),
    "digits": (64, 10, 1797),
    "iris": (4, 3, 150),
    "wine": (13, 3, 178),
    "breast_cancer": (30, 2, 569),
}


def test_every_registered_dataset_is_covered() -> None:
    assert set(DATASETS) == {*EXPECTED, "course_circles", "csv", "npz"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shapes_classes_and_determinism(name: str) -> None:
    n_features, n_classes, total = EXPECTED[name]
    data = load_dataset(name, seed=3, test_fraction=0.2)
    assert data.X_train.shape[0] == data.X_test.shape[0] == n_features == data.n_features
    assert data.X_train.shape[1] + data.X_test.shape[1] == total
    assert data.Y_train.shape == (1, data.X_train.shape[1])
    assert data.n_classes == n_classes
    assert set(np.unique(data.Y_train)) == set(range(n_classes))
    assert set(np.unique(data.Y_test)) == set(range(n_classes))
    # the split's documented formula, class by class: round(f * n_c), at least 1, never all
    counts = np.bincount(np.hstack([data.Y_train, data.Y_test])[0])
    expected_test = [min(max(round(0.2 * n), 1), n - 1) for n in counts]
    np.testing.assert_array_equal(np.bincount(data.Y_test[0], minlength=n_classes), expected_test)
    np.testing.assert_array_equal(
        np.bincount(data.Y_train[0], minlength=n_classes), counts - expected_test
    )
    assert data.config["n_test"] == sum(expected_test)
    again = load_dataset(name, seed=3, test_fraction=0.2)
    for a, b in zip(
        (data.X_train, data.Y_train, data.X_test, data.Y_test),
        (again.X_train, again.Y_train, again.X_test, again.Y_test),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    other = load_dataset(name, seed=4, test_fraction=0.2)
    assert not np.array_equal(other.X_train, data.X_train)


# test samples at test_fraction 0.2, by hand from the class sizes: round(0.2 n_c) per class
N_TEST = {
    "circles": 60,  # 150 + 150 -> 30 + 30
    "moons": 60,
    "spirals": 60,
    "gaussians": 60,
    "blobs": 60,  # 3 x 100 -> 3 x 20
    "iris": 30,  # 3 x 50 -> 3 x 10
    "wine": 36,  # 59, 71, 48 -> 12 + 14 + 10
    "breast_cancer": 113,  # 212, 357 -> 42 + 71
    # 178, 182, 177, 183, 181, 182, 181, 179, 174, 180 -> 36+36+35+37+36+36+36+36+35+36
    "digits": 359,
}


@pytest.mark.parametrize("name", sorted(N_TEST))
def test_split_sizes_are_exact(name: str) -> None:
    data = load_dataset(name, seed=5, test_fraction=0.2)
    total = EXPECTED[name][2]
    assert data.X_test.shape[1] == data.Y_test.shape[1] == N_TEST[name]
    assert data.X_train.shape[1] == data.Y_train.shape[1] == total - N_TEST[name]


def test_split_parts_are_shuffled() -> None:
    X = np.arange(200.0).reshape(100, 2)
    y = np.repeat([0, 1], 50)
    X_tr, y_tr, _, y_te = split(X, y, 0.3, np.random.default_rng(0))
    for part in (y_tr, y_te):  # classes interleaved, not one block after the other
        assert 0 < np.count_nonzero(np.diff(part)) and np.any(np.diff(part) < 0)
    assert not np.all(np.diff(X_tr[:, 0]) > 0)  # rows not in their original order


def test_course_circles_is_bit_exact_and_ignores_seed_and_split() -> None:
    reference = course_circles()
    data = load_dataset("course_circles", seed=99, test_fraction=0.5)
    np.testing.assert_array_equal(data.X_train, reference.X_train)
    np.testing.assert_array_equal(data.Y_train, reference.Y_train)
    np.testing.assert_array_equal(data.X_test, reference.X_test)
    np.testing.assert_array_equal(data.Y_test, reference.Y_test)
    assert data.config["seed"] is None and data.config["test_fraction"] is None


def test_parameters_reach_the_generators() -> None:
    spirals = load_dataset("spirals(arms=4, samples=200)")
    assert spirals.n_classes == 4
    assert spirals.X_train.shape[1] + spirals.X_test.shape[1] == 200
    blobs = load_dataset("blobs(k=5)")
    assert blobs.n_classes == 5
    assert blobs.config["params"] == {"samples": 300, "k": 5, "std": 1.0}
    quiet = load_dataset("circles(noise=0.0, factor=0.3)")
    radii = np.hypot(*np.hstack([quiet.X_train, quiet.X_test]))
    np.testing.assert_allclose(np.unique(radii.round(12)), [0.3, 1.0])


def test_xor_labels_follow_the_quadrants() -> None:
    data = load_dataset("xor")
    X, Y = data.X_train, data.Y_train[0]
    np.testing.assert_array_equal(Y, (X[0] > 0) ^ (X[1] > 0))


def test_split_is_stratified_and_a_partition() -> None:
    rng = np.random.default_rng(0)
    X = np.arange(40.0).reshape(20, 2)
    y = np.array([0] * 10 + [1] * 6 + [2] * 4)
    X_tr, y_tr, X_te, y_te = split(X, y, 0.5, rng)
    assert sorted(np.bincount(y_te)) == [2, 3, 5]
    assert sorted(np.bincount(y_tr)) == [2, 3, 5]
    rows = sorted(map(tuple, np.vstack([X_tr, X_te])))
    assert rows == sorted(map(tuple, X))
    for row, label in zip(X_tr, y_tr, strict=True):  # rows keep their labels
        assert y[int(row[0] // 2)] == label


def test_standardization_uses_training_statistics_only() -> None:
    X_train = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])
    X_test = np.array([[4.0], [6.0]])
    train, test = standardize(X_train, X_test)
    std = np.std([1.0, 2.0, 3.0])
    np.testing.assert_allclose(train[0], [-1 / std, 0.0, 1 / std])
    np.testing.assert_allclose(test[:, 0], [2 / std, 1.0])  # constant feature: centred only
    data = load_dataset("wine", standardize_features=True)
    np.testing.assert_allclose(data.X_train.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(data.X_train.std(axis=1), 1.0)
    assert np.abs(data.X_test.mean(axis=1)).max() > 1e-3  # not refitted on the test part
    raw = load_dataset("wine")  # same seed: same split; both parts scaled by the training stats
    mean = raw.X_train.mean(axis=1, keepdims=True)
    std = raw.X_train.std(axis=1, keepdims=True)
    np.testing.assert_allclose(data.X_train, (raw.X_train - mean) / std, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(data.X_test, (raw.X_test - mean) / std, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(
    ("spec", "kwargs", "message"),
    [
        ("mnist", {}, "unknown dataset 'mnist'; did you mean 'moons'\\? choose one of: blobs"),
        (
            "moons(nois=0.2)",
            {},
            "dataset 'moons' has no parameter 'nois'; its parameters: samples, noise",
        ),
        ("moons(noise=-1)", {}, "moons: noise must be a number >= 0, got -1"),
        ("circles(factor=1.5)", {}, r"circles: factor .*, got 1.5; allowed: \(0, 1\)"),
        ("circles(factor=1)", {}, r"circles: factor .*, got 1; allowed: \(0, 1\)"),
        ("blobs(k=1)", {}, "blobs: k must be an integer >= 2, got 1"),
        ("spirals(samples=2.5)", {}, "spirals: samples must be an integer >= 2, got 2.5"),
        ("moons(", {}, r"bad dataset 'moons\('"),
        ("moons", {"test_fraction": 1.0}, r"test_fraction must be a number in \(0, 1\), got 1.0"),
        ("moons", {"seed": -1}, "seed must be a non-negative integer, got -1"),
        ("digits", {"path": "x.csv"}, "dataset 'digits' has no parameter 'path'"),
    ],
)
def test_bad_specs_are_named(spec: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_dataset(spec, **kwargs)


# --- the user's files -------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_csv_with_word_labels(tmp_path: Path) -> None:
    rows = ["a,species,b"] + [f"{i},{'cat' if i % 3 else 'dog'},{-i}" for i in range(12)]
    path = write(tmp_path, "\n".join(rows) + "\n")
    data = load_dataset("csv", path=path, label="species", test_fraction=0.25)
    assert data.classes == ("cat", "dog")
    assert data.n_features == 2
    X = np.hstack([data.X_train, data.X_test])
    Y = np.hstack([data.Y_train, data.Y_test])[0]
    np.testing.assert_array_equal(X[1], -X[0])
    np.testing.assert_array_equal(Y, (X[0] % 3 == 0).astype(int))


def test_csv_with_numeric_labels_in_the_spec(tmp_path: Path) -> None:
    rows = ["x,y"] + [f"{i}.5,{i % 3 * 5}" for i in range(9)]
    path = write(tmp_path, "\n".join(rows))
    data = load_dataset(f"csv(path={path}, label=y)")
    assert data.classes == (0, 5, 10)


@pytest.mark.parametrize(
    ("text", "label", "message"),
    [
        ("a,y\n1,0\n,1\n", "y", "line 3, column 'a': missing value ''"),
        ("a,y\n1,0\nNA,1\n", "y", "line 3, column 'a': missing value 'NA'"),
        ("a,y\n1,0\n2,\n", "y", "line 3, column 'y': missing value ''"),
        ("a,y\n1,0\nabc,1\n", "y", "line 3, column 'a': 'abc' is not a finite number"),
        ("a,y\n1,0\ninf,1\n", "y", "line 3, column 'a': 'inf' is not a finite number"),
        ("a,y\n1,0\n2,1,7\n", "y", "line 3 has 3 fields, the header has 2"),
        ("a,y\n1,0\n2,0\n", "y", "has only the class 0; at least 2 classes are needed"),
        ("a,y\n1,0\n2,1\n", "label", "has no label column 'label'; its columns: a, y"),
        ("y\n0\n1\n", "y", "has only the label column"),
        ("", "y", "is empty"),
        ("a,y\n", "y", "has a header but no data rows"),
    ],
)
def test_malformed_csv_files_are_named(tmp_path: Path, text: str, label: str, message) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=message):
        load_dataset("csv", path=path, label=label)


def test_csv_needs_a_path_and_a_label_and_an_existing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a file: --data-path FILE"):
        load_dataset("csv", label="y")
    with pytest.raises(ValueError, match="needs the label column: --label-column NAME"):
        load_dataset("csv", path="x.csv")
    with pytest.raises(ValueError, match=r"cannot read data file '.*nope.csv' \(No such file"):
        load_dataset("csv", path=str(tmp_path / "nope.csv"), label="y")


def test_npz(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    X = np.arange(24.0).reshape(12, 2)
    np.savez(path, X=X, y=np.arange(12) % 2)
    data = load_dataset("npz", path=str(path), test_fraction=0.5)
    assert data.n_features == 2 and data.n_classes == 2
    both = np.hstack([data.X_train, data.X_test])
    assert sorted(both[0]) == sorted(X[:, 0])


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X": np.zeros((4, 2))}, r"has no array 'y'; it holds: X \(features under 'X'"),
        ({"X": np.zeros((4, 2)), "y": np.arange(3)}, "X has 4 rows but y has 3 labels"),
        (
            {"X": np.array([[1.0, 2], [1, np.nan]]), "y": [0, 1]},
            "has missing or non-finite values: feature 1 of sample 1 is nan",
        ),
        (
            {"X": np.array([["a", "b"], ["c", "d"]]), "y": [0, 1]},
            "features 'X' must be real numbers, got dtype <U1",
        ),
        ({"X": np.zeros(4), "y": [0, 1, 0, 1]}, r"X must be 2-D \(samples, features\)"),
        ({"X": np.zeros((4, 2)), "y": [1, 1, 1, 1]}, "has only the class 1"),
        ({"X": np.zeros((2, 2)), "y": [0.0, np.nan]}, "missing or non-finite labels"),
        ({"X": np.zeros((2, 2)), "y": np.zeros((2, 2))}, r"y must be 1-D \(samples,\)"),
    ],
)
def test_malformed_npz_files_are_named(tmp_path: Path, arrays: dict, message: str) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=message):
        load_dataset("npz", path=str(path))


def test_npz_that_is_not_an_archive(tmp_path: Path) -> None:
    path = write(tmp_path, "not numpy", "d.npz")
    with pytest.raises(ValueError, match=r"'.*d\.npz' is not an NPZ archive") as caught:
        load_dataset("npz", path=path)
    assert "pickle" not in str(caught.value)
    objects = tmp_path / "o.npz"
    np.savez(objects, X=np.array([{"a": 1}, None], dtype=object), y=np.array([0, 1]))
    with pytest.raises(ValueError, match="array 'X' holds Python objects") as caught:
        load_dataset("npz", path=str(objects))
    assert "allow_pickle" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("moons", ("moons", {})),
        (" moons ( noise = 0.2 ) ", ("moons", {"noise": 0.2})),
        ("blobs(k=4, std=0.5)", ("blobs", {"k": 4, "std": 0.5})),
        (
            "csv(path='data/my file.csv', label=kind)",
            ("csv", {"path": "data/my file.csv", "label": "kind"}),
        ),
        ("npz(path='a,b.npz', x=features)", ("npz", {"path": "a,b.npz", "x": "features"})),
        (
            "csv(path=data/points.csv, label=kind)",
            ("csv", {"path": "data/points.csv", "label": "kind"}),
        ),
        ("f(flag=True, none=None)", ("f", {"flag": True, "none": None})),
    ],
)
def test_spec_strings_parse(text: str, expected: tuple) -> None:
    assert parse_spec(text, "dataset") == expected


@pytest.mark.parametrize("text", ["moons(", "moons(noise)", "moons(=1)", "1moons", "a b", ""])
def test_malformed_spec_strings_are_named(text: str) -> None:
    with pytest.raises(ValueError, match=r"bad dataset .*; write NAME or NAME\(key=value"):
        parse_spec(text, "dataset")


def test_split_top_level_respects_brackets_and_quotes() -> None:
    assert split_top_level("relu,leaky_relu(slope=0.1, x=2), 'a,b'") == [
        "relu",
        "leaky_relu(slope=0.1, x=2)",
        "'a,b'",
    ]


def test_dataset_parameter_names_are_case_insensitive_and_values_are_not():
    from initlab.datasets import resolve_spec

    assert resolve_spec("Moons(Noise=0.2)")[1] == {"noise": 0.2}
    assert resolve_spec("MOONS(NOISE=0.2, SAMPLES=50)")[1] == {"noise": 0.2, "samples": 50}
    with pytest.raises(ValueError, match="'noise' given twice"):
        resolve_spec("moons(noise=0.1, NOISE=0.2)")


def test_csv_numbers_with_underscores_are_not_numbers(tmp_path):
    path = tmp_path / "u.csv"
    rows = ["a,b,label", "1_000,2,0"] + [f"{i},{i + 1},{i % 2}" for i in range(3, 10)]
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(ValueError, match="line 2, column 'a': '1_000' is not a finite number"):
        load_dataset("csv", path=str(path), label="label")
