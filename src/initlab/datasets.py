"""Datasets by name: synthetic 2-D sets, scikit-learn's bundled sets, the user's CSV or NPZ.

:func:`load_dataset` turns a spec such as ``"moons"`` or ``"moons(noise=0.2)"``
into a :class:`LabelledDataset` in initlab's column-wise layout (``X`` of
shape ``(n_features, m)``, ``Y`` of shape ``(1, m)`` holding class indices
``0..k-1``), split into a training and a test part from a seed and optionally
standardized with statistics of the training part only.

Every dataset is in :data:`DATASETS`; its parameters are the keyword
arguments of its loader (shown by ``initlab train --help``). Loaders return
samples row-wise (``X`` of shape ``(m, n)``, labels ``y`` of shape ``(m,)``),
as scikit-learn does; they draw from an explicit ``rng``.

``course_circles`` is the course's data, bit for bit
(:func:`initlab.data.course_circles`): its own 300/100 split, which the seed
and the test fraction do not change.
"""

from __future__ import annotations

import csv
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from initlab.data import Dataset, course_circles
from initlab.spec import check_params, lookup, parse_keyword_spec

__all__ = [
    "DATASETS",
    "DatasetEntry",
    "LabelledDataset",
    "load_arrays",
    "load_dataset",
    "resolve_spec",
    "split",
    "standardize",
]

Arrays = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class LabelledDataset(Dataset):
    """A :class:`~initlab.data.Dataset` that knows its classes and where it came from.

    ``classes[j]`` is the original label of class index ``j``; ``config``
    records the spec, seed, split and preprocessing (JSON-ready).
    """

    classes: tuple[Any, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.classes)


# ---------------------------------------------------------------------------
# checks


def _count(name: str, value: Any, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _number(name: str, value: Any, low: float = 0.0, *, strict: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)
    if not ok or value < low or (strict and value == low):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be a number {relation} {low:g}, got {value!r}")
    return float(value)


def _legacy(rng: np.random.Generator) -> np.random.RandomState:
    """A RandomState for scikit-learn's generators, seeded from ``rng``."""
    return np.random.RandomState(int(rng.integers(2**31 - 1)))


# ---------------------------------------------------------------------------
# synthetic 2-D sets


def circles(
    rng: np.random.Generator, samples: int = 300, noise: float = 0.05, factor: float = 0.5
) -> Arrays:
    """Two concentric circles (``sklearn.datasets.make_circles``).

    ``factor`` is the inner radius over the outer one.
    """
    samples = _count("circles: samples", samples, 2)
    noise = _number("circles: noise", noise)
    factor = _number("circles: factor", factor, 0.0, strict=True)
    if factor >= 1:
        raise ValueError(f"circles: factor must be in (0, 1), got {factor!r}")
    from sklearn.datasets import make_circles

    return make_circles(samples, noise=noise, factor=factor, random_state=_legacy(rng))


def moons(rng: np.random.Generator, samples: int = 300, noise: float = 0.1) -> Arrays:
    """Two interleaving half circles (``sklearn.datasets.make_moons``)."""
    samples = _count("moons: samples", samples, 2)
    noise = _number("moons: noise", noise)
    from sklearn.datasets import make_moons

    return make_moons(samples, noise=noise, random_state=_legacy(rng))


def spirals(
    rng: np.random.Generator,
    samples: int = 300,
    arms: int = 2,
    noise: float = 0.05,
    turns: float = 1.0,
) -> Arrays:
    """``arms`` interleaved spirals, one class each.

    Arm ``j`` has points at radius ``r ~ U(0.05, 1)`` and angle
    ``2 pi (turns r + j / arms)``, plus Gaussian noise of std ``noise``.
    """
    samples = _count("spirals: samples", samples, 2)
    arms = _count("spirals: arms", arms, 2)
    noise = _number("spirals: noise", noise)
    turns = _number("spirals: turns", turns, 0.0, strict=True)
    if samples < arms:
        raise ValueError(f"spirals: samples ({samples}) must be at least arms ({arms})")
    y = np.arange(samples) % arms
    r = rng.uniform(0.05, 1.0, samples)
    angle = 2 * np.pi * (turns * r + y / arms)
    X = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    return X + noise * rng.standard_normal(X.shape), y


def xor(rng: np.random.Generator, samples: int = 300, noise: float = 0.0) -> Arrays:
    """The XOR problem: ``x ~ U([-1, 1]^2)``, class ``(x1 > 0) xor (x2 > 0)``.

    Gaussian noise of std ``noise`` is added after labelling.
    """
    samples = _count("xor: samples", samples, 2)
    noise = _number("xor: noise", noise)
    X = rng.uniform(-1.0, 1.0, (samples, 2))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)
    return X + noise * rng.standard_normal(X.shape), y


def gaussians(
    rng: np.random.Generator, samples: int = 300, distance: float = 2.0, std: float = 1.0
) -> Arrays:
    """Two isotropic Gaussian clouds of std ``std``, ``distance`` apart.

    Centred at ``(-distance/2, 0)`` and ``(distance/2, 0)``.
    """
    samples = _count("gaussians: samples", samples, 2)
    distance = _number("gaussians: distance", distance)
    std = _number("gaussians: std", std, 0.0, strict=True)
    y = np.arange(samples) % 2
    centres = np.column_stack([(y - 0.5) * distance, np.zeros(samples)])
    return centres + std * rng.standard_normal((samples, 2)), y


def blobs(rng: np.random.Generator, samples: int = 300, k: int = 3, std: float = 1.0) -> Arrays:
    """``k`` Gaussian blobs, one class each (``sklearn.datasets.make_blobs``)."""
    samples = _count("blobs: samples", samples, 2)
    k = _count("blobs: k", k, 2)
    std = _number("blobs: std", std, 0.0, strict=True)
    if samples < k:
        raise ValueError(f"blobs: samples ({samples}) must be at least k ({k})")
    from sklearn.datasets import make_blobs

    return make_blobs(samples, n_features=2, centers=k, cluster_std=std, random_state=_legacy(rng))


# ---------------------------------------------------------------------------
# scikit-learn's bundled sets (no download)


def _bundled(loader: str, doc: str) -> Callable[..., Arrays]:
    """A loader for ``sklearn.datasets.<loader>`` (imported on first use: scikit-learn is slow
    to import and commands that load no data should not pay for it)."""

    def load(rng: np.random.Generator) -> Arrays:
        from sklearn import datasets as skdatasets

        bunch = getattr(skdatasets, loader)()
        return bunch.data.astype(np.float64), np.asarray(bunch.target_names)[bunch.target]

    load.__doc__ = doc
    return load


digits = _bundled("load_digits", "8x8 handwritten digits: 1797 x 64, 10 classes.")
iris = _bundled("load_iris", "Fisher's iris flowers: 150 x 4, 3 classes.")
wine = _bundled("load_wine", "Wine cultivars from chemical analysis: 178 x 13, 3 classes.")
breast_cancer = _bundled(
    "load_breast_cancer",
    "Wisconsin diagnostic breast cancer: 569 x 30, 2 classes.",
)


# ---------------------------------------------------------------------------
# the user's files


def _open_error(path: Path, exc: OSError) -> ValueError:
    return ValueError(f"cannot read data file {str(path)!r} ({exc.strerror or exc})")


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def from_csv(rng: np.random.Generator, path: str | None = None, label: str | None = None) -> Arrays:
    """A CSV file with a header row: the column named ``label`` holds the classes
    (numbers or words), every other column a numeric feature."""
    if path is None:
        raise ValueError("dataset 'csv' needs a file: --data-path FILE or csv(path=FILE)")
    if label is None:
        raise ValueError("dataset 'csv' needs the label column: --label-column NAME")
    path = Path(path)
    try:
        with path.open(newline="") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise _open_error(path, exc) from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{str(path)!r} is not a readable CSV file ({exc})") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError(f"{str(path)!r} is empty; a header row and data rows are needed")
    header = [name.strip() for name in rows[0]]
    if label not in header:
        raise ValueError(
            f"{str(path)!r} has no label column {label!r}; its columns: {', '.join(header)}"
        )
    if len(header) < 2:
        raise ValueError(f"{str(path)!r} has only the label column; features are needed")
    data = rows[1:]
    if not data:
        raise ValueError(f"{str(path)!r} has a header but no data rows")
    label_at = header.index(label)
    features: list[list[float]] = []
    labels: list[str] = []
    for number, row in enumerate(data, start=2):
        if len(row) != len(header):
            raise ValueError(
                f"{str(path)!r} line {number} has {len(row)} fields, the header has {len(header)}"
            )
        values = []
        for column, cell in zip(header, row, strict=True):
            cell = cell.strip()
            if cell == "" or cell.lower() in ("na", "nan", "null", "none"):
                raise ValueError(
                    f"{str(path)!r} line {number}, column {column!r}: missing value {cell!r}"
                )
            if column == label:
                continue
            value = _float(cell)
            if value is None or not np.isfinite(value):
                raise ValueError(
                    f"{str(path)!r} line {number}, column {column!r}: {cell!r} is not a finite "
                    "number; feature columns must be numeric"
                )
            values.append(value)
        features.append(values)
        labels.append(row[label_at].strip())
    numbers = [_float(text) for text in labels]
    if all(value is not None and np.isfinite(value) for value in numbers):
        y: np.ndarray = np.array(numbers)
        if np.all(y == np.round(y)):
            y = y.astype(np.int64)
    else:
        y = np.array(labels)
    return np.array(features, dtype=np.float64), y


def from_npz(
    rng: np.random.Generator, path: str | None = None, x: str = "X", y: str = "y"
) -> Arrays:
    """A NumPy ``.npz`` archive with the features under key ``x`` (shape ``(m, n)``)
    and the labels under key ``y`` (shape ``(m,)``)."""
    if path is None:
        raise ValueError("dataset 'npz' needs a file: --data-path FILE or npz(path=FILE)")
    path = Path(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except OSError as exc:
        if not path.exists() or path.is_dir():
            raise _open_error(path, exc) from None
        raise ValueError(f"{str(path)!r} is not a NumPy .npz archive ({exc})") from None
    except ValueError as exc:
        raise ValueError(f"{str(path)!r} is not a NumPy .npz archive ({exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{str(path)!r} is a .npy array; an .npz with {x} and {y} is needed")
    with archive:
        missing = [key for key in (x, y) if key not in archive.files]
        if missing:
            found = ", ".join(archive.files) or "nothing"
            raise ValueError(
                f"{str(path)!r} has no array {missing[0]!r}; it holds: {found} "
                f"(features under {x!r}, labels under {y!r})"
            )
        try:
            X, labels = archive[x], archive[y]
        except ValueError as exc:
            raise ValueError(f"{str(path)!r}: cannot load its arrays ({exc})") from None
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(f"{str(path)!r}: {x} must be 2-D (samples, features), got shape {X.shape}")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool) or np.iscomplexobj(X):
        raise ValueError(f"{str(path)!r}: {x} must be numeric, got dtype {X.dtype}")
    X = X.astype(np.float64)
    if not np.isfinite(X).all():
        row = int(np.argwhere(~np.isfinite(X))[0][0])
        raise ValueError(f"{str(path)!r}: {x} has missing or non-finite values (row {row})")
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(f"{str(path)!r}: {y} must be 1-D (samples,), got shape {labels.shape}")
    if labels.shape[0] != X.shape[0]:
        raise ValueError(
            f"{str(path)!r}: {x} has {X.shape[0]} rows but {y} has {labels.shape[0]} labels"
        )
    if labels.dtype.kind == "f" and not np.isfinite(labels).all():
        raise ValueError(f"{str(path)!r}: {y} has missing or non-finite labels")
    return X, labels


# ---------------------------------------------------------------------------
# the registry


@dataclass(frozen=True)
class DatasetEntry:
    """A named dataset: its loader ``load(rng, **params) -> (X, y)``, kind and summary."""

    name: str
    load: Callable[..., Arrays] | None
    kind: str  # "synthetic", "bundled", "file" or "course"
    summary: str

    @property
    def defaults(self) -> dict[str, Any]:
        """The parameters and their default values."""
        if self.load is None:
            return {}
        parameters = list(inspect.signature(self.load).parameters.values())[1:]
        return {p.name: p.default for p in parameters}


DATASETS: dict[str, DatasetEntry] = {
    entry.name: entry
    for entry in (
        DatasetEntry("course_circles", None, "course", "the course's circles, bit for bit "
                     "(its own 300/100 split; --seed and --test-fraction do not apply)"),
        DatasetEntry("circles", circles, "synthetic", "two concentric circles, 2 classes"),
        DatasetEntry("moons", moons, "synthetic", "two interleaving half moons, 2 classes"),
        DatasetEntry("spirals", spirals, "synthetic", "interleaved spirals, one class per arm"),
        DatasetEntry("xor", xor, "synthetic", "the four XOR quadrants, 2 classes"),
        DatasetEntry("gaussians", gaussians, "synthetic", "two Gaussian clouds, 2 classes"),
        DatasetEntry("blobs", blobs, "synthetic", "k Gaussian blobs, k classes"),
        DatasetEntry("digits", digits, "bundled", "8x8 handwritten digits, 1797 x 64, 10 classes"),
        DatasetEntry("iris", iris, "bundled", "iris flowers, 150 x 4, 3 classes"),
        DatasetEntry("wine", wine, "bundled", "wine cultivars, 178 x 13, 3 classes"),
        DatasetEntry("breast_cancer", breast_cancer, "bundled",
                     "breast cancer diagnosis, 569 x 30, 2 classes"),
        DatasetEntry("csv", from_csv, "file", "your CSV file with a header row; the label "
                     "column holds the classes, every other column a numeric feature"),
        DatasetEntry("npz", from_npz, "file", "your .npz archive with X (m, n) and y (m,)"),
    )
}  # fmt: skip


def resolve_spec(
    spec: str, overrides: dict[str, Any] | None = None
) -> tuple[DatasetEntry, dict[str, Any]]:
    """The registry entry and parameters of ``spec`` (plus ``overrides``), checked by name only.

    Raises:
        ValueError: for bad syntax, an unknown dataset or an unknown parameter.
    """
    name, params = parse_keyword_spec(spec, "dataset")
    entry = lookup(DATASETS, name, "dataset")
    params = {**params, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    check_params("dataset", name, params, entry.defaults)
    return entry, params


def _encode(y: np.ndarray, where: str) -> tuple[np.ndarray, tuple[Any, ...]]:
    classes, codes = np.unique(y, return_inverse=True)
    if classes.size < 2:
        found = "no labels" if classes.size == 0 else f"only the class {classes[0].item()!r}"
        raise ValueError(f"{where} has {found}; at least 2 classes are needed")
    return codes.reshape(-1).astype(np.int64), tuple(c.item() for c in classes)


def load_arrays(
    spec: str, rng: np.random.Generator, **overrides: Any
) -> tuple[np.ndarray, np.ndarray, tuple[Any, ...]]:
    """Load the whole dataset ``spec`` row-wise: ``(X (m, n), codes (m,), classes)``.

    ``overrides`` (``None`` values ignored) are merged into the spec's
    parameters, e.g. ``path=`` and ``label=`` for ``csv``.
    """
    entry, params = resolve_spec(spec, overrides)
    if entry.load is None:
        data = course_circles()
        X = np.hstack([data.X_train, data.X_test]).T
        y = np.hstack([data.Y_train, data.Y_test]).reshape(-1)
    else:
        X, y = entry.load(rng, **params)
    codes, classes = _encode(np.asarray(y), f"dataset {spec!r}")
    return np.asarray(X, dtype=np.float64), codes, classes


def split(
    X: np.ndarray, y: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split row-wise ``X``, ``y`` into ``(X_train, y_train, X_test, y_test)``, stratified.

    Each class puts ``round(test_fraction * n_class)`` of its samples (but at
    least one, if it has two or more, and never all) in the test part; the
    indices come from ``rng.permutation``, and each part is shuffled.
    """
    ok = isinstance(test_fraction, int | float) and not isinstance(test_fraction, bool)
    if not (ok and 0 < test_fraction < 1):
        raise ValueError(f"test_fraction must be a number in (0, 1), got {test_fraction!r}")
    train_idx: list[np.ndarray] = []
    test_idx: list[np.ndarray] = []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        n_test = min(max(round(test_fraction * members.size), 1), members.size - 1)
        test_idx.append(members[:n_test])
        train_idx.append(members[n_test:])
    train = rng.permutation(np.concatenate(train_idx))
    test = rng.permutation(np.concatenate(test_idx))
    if test.size == 0:
        raise ValueError(f"test_fraction {test_fraction} of {y.size} samples leaves no test sample")
    return X[train], y[train], X[test], y[test]


def standardize(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale every feature (rows of the column-wise arrays) to mean 0, std 1 on the training part.

    The mean and std come from ``X_train`` only and are applied to both parts;
    a constant feature (std 0) is only centred.
    """
    mean = X_train.mean(axis=1, keepdims=True)
    std = X_train.std(axis=1, keepdims=True)
    std[std == 0] = 1.0
    return (X_train - mean) / std, (X_test - mean) / std


def load_dataset(
    spec: str,
    *,
    seed: int = 0,
    test_fraction: float = 0.25,
    standardize_features: bool = False,
    **overrides: Any,
) -> LabelledDataset:
    """Load, split and (optionally) standardize the dataset ``spec``.

    ``seed`` seeds both the synthetic draw and the split (two independent
    streams of ``numpy.random.SeedSequence(seed)``). ``course_circles`` keeps
    its own split. ``overrides`` are extra parameters (``None`` ignored), e.g.
    ``path=`` and ``label=`` for ``csv``.

    Raises:
        ValueError: for an unknown dataset or parameter, a bad value, or a
            malformed or single-class file; the message names the bad value.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    draw_rng, split_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    entry, params = resolve_spec(spec, overrides)
    if entry.load is None:
        base = course_circles()
        X_train, X_test = base.X_train, base.X_test
        Y_train, Y_test = base.Y_train, base.Y_test
        classes: tuple[Any, ...] = (0, 1)
        fraction = None
    else:
        X, codes, classes = load_arrays(spec, draw_rng, **overrides)
        Xtr, ytr, Xte, yte = split(X, codes, test_fraction, split_rng)
        X_train, X_test = np.ascontiguousarray(Xtr.T), np.ascontiguousarray(Xte.T)
        Y_train, Y_test = ytr.reshape(1, -1), yte.reshape(1, -1)
        fraction = test_fraction
    if standardize_features:
        X_train, X_test = standardize(X_train, X_test)
    config = {
        "name": entry.name,
        "params": {**entry.defaults, **params},
        "seed": None if entry.load is None else seed,
        "test_fraction": fraction,
        "standardize": bool(standardize_features),
        "n_features": int(X_train.shape[0]),
        "n_classes": len(classes),
        "classes": list(classes),
        "n_train": int(X_train.shape[1]),
        "n_test": int(X_test.shape[1]),
    }
    return LabelledDataset(entry.name, X_train, Y_train, X_test, Y_test, classes, config)
