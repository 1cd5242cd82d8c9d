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
(:func:`course_circles`): its own 300/100 split, which the seed
and the test fraction do not change.

Every dataset passes one check of its features (:func:`check_features`), as
loaded and again after standardization: they must be finite and at most
:data:`FEATURE_LIMIT` (``1e100``) in magnitude, so that their squares, the
variances of standardization and the network's products cannot overflow
float64. The scale parameters of the synthetic sets (``noise``, ``std``,
``distance``, ``turns``) are at most :data:`SCALE_LIMIT` (``1e90``), which
keeps their draws far inside that limit, and ``samples`` at most what fits in
memory (:mod:`initlab.memory`): both are checked before anything is drawn.
"""

from __future__ import annotations

import csv
import inspect
import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from initlab.memory import check_samples, shown
from initlab.spec import (
    Registry,
    check_params,
    exact_integers,
)

__all__ = [
    "DATASETS",
    "FEATURE_LIMIT",
    "SCALE_LIMIT",
    "Dataset",
    "DatasetEntry",
    "LabelledDataset",
    "check_features",
    "circles",
    "course_circles",
    "load_arrays",
    "load_dataset",
    "make_circles",
    "resolve_spec",
    "split",
    "standardize",
]

Arrays = tuple[np.ndarray, np.ndarray]

#: the largest magnitude a feature may have: squares (1e200) and their sums over any
#: number of samples that fits in memory stay finite in float64
FEATURE_LIMIT = 1e100
#: the largest ``noise``, ``std``, ``distance`` or ``turns`` of a synthetic set
SCALE_LIMIT = 1e90


@dataclass(frozen=True)
class Dataset:
    """A train/test pair in the course's column-wise layout."""

    name: str
    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray

    @property
    def n_features(self) -> int:
        return self.X_train.shape[0]


def _columns(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(X.T), y.reshape(1, -1).astype(np.int64)


def make_circles(
    n_samples: int, noise: float, rng: np.random.RandomState, factor: float = 0.8
) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's ``make_circles(n_samples, shuffle=True, noise, factor)``, row-wise,
    drawing from ``rng`` exactly as it does (so the same numbers, bit for bit; tested).

    ``n // 2`` points evenly spaced on the unit circle (class 0), the other
    ``n - n // 2`` on the circle of radius ``factor`` (class 1), shuffled by
    ``rng.shuffle`` of the indices, then ``N(0, noise^2)`` added to every
    coordinate. Written here so that the course's data do not need scikit-learn
    imported (most of a second).
    """
    n_out = n_samples // 2
    n_in = n_samples - n_out
    angles_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    angles_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack(
        [
            np.append(np.cos(angles_out), np.cos(angles_in) * factor),
            np.append(np.sin(angles_out), np.sin(angles_in) * factor),
        ]
    ).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n_samples)
    rng.shuffle(order)
    X, y = X[order], y[order]
    X += rng.normal(scale=noise, size=X.shape)
    return X, y


def course_circles(train_seed: int = 1, test_seed: int = 2) -> Dataset:
    """The course's circles, bit for bit.

    ``make_circles(n_samples=300, noise=0.05)`` drawn from a legacy
    ``RandomState(train_seed)`` for training and 100 samples from
    ``RandomState(test_seed)`` for testing (see :func:`make_circles`): the same
    numbers the course gets from ``np.random.seed(1)`` / ``np.random.seed(2)``,
    without touching NumPy's global state.
    """
    X_tr, y_tr = make_circles(300, 0.05, np.random.RandomState(train_seed))
    X_te, y_te = make_circles(100, 0.05, np.random.RandomState(test_seed))
    X_train, Y_train = _columns(X_tr, y_tr)
    X_test, Y_test = _columns(X_te, y_te)
    return Dataset("course_circles", X_train, Y_train, X_test, Y_test)


@dataclass(frozen=True)
class LabelledDataset(Dataset):
    """A :class:`~initlab.datasets.Dataset` that knows its classes and where it came from.

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
        raise ValueError(f"{name} must be an integer >= {low}, got {shown(value)}")
    return int(value)


def _samples(name: str, value: Any, n_features: int = 2) -> int:
    """``samples`` (at least 2), refused before drawing if its data cannot fit in memory."""
    samples = _count(f"{name}: samples", value, 2)
    check_samples(f"{name}: samples", samples, n_features, low=2)
    return samples


def _number(
    name: str,
    value: Any,
    low: float = 0.0,
    high: float = SCALE_LIMIT,
    *,
    strict: bool = False,
    below: bool = False,
) -> float:
    """A real number in ``[low, high]``, ``low`` excluded if ``strict``, ``high`` if ``below``;
    huge ints are refused without converting them (Python compares ints and floats exactly)."""
    real = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )
    ok = real and (value > low if strict else value >= low)
    ok = ok and (value < high if below else value <= high)
    if not ok:
        relation = ">" if strict else ">="
        interval = f"{'(' if strict else '['}{low:g}, {high:g}{')' if below else ']'}"
        raise ValueError(
            f"{name} must be a number {relation} {low:g}, got {shown(value)}; allowed: {interval}"
        )
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
    samples = _samples("circles", samples)
    noise = _number("circles: noise", noise)
    factor = _number("circles: factor", factor, 0.0, 1.0, strict=True, below=True)
    return make_circles(samples, noise, _legacy(rng), factor)


def moons(rng: np.random.Generator, samples: int = 300, noise: float = 0.1) -> Arrays:
    """Two interleaving half circles (``sklearn.datasets.make_moons``)."""
    samples = _samples("moons", samples)
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
    samples = _samples("spirals", samples)
    arms = _count("spirals: arms", arms, 2)
    noise = _number("spirals: noise", noise)
    turns = _number("spirals: turns", turns, 0.0, strict=True)
    if samples < 2 * arms:
        raise ValueError(
            f"spirals: samples ({samples}) must be at least 2 * arms ({shown(2 * arms)}): "
            "every arm needs a training and a test sample"
        )
    y = np.arange(samples) % arms
    r = rng.uniform(0.05, 1.0, samples)
    angle = 2 * np.pi * (turns * r + y / arms)
    X = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    return X + noise * rng.standard_normal(X.shape), y


def xor(rng: np.random.Generator, samples: int = 300, noise: float = 0.0) -> Arrays:
    """The XOR problem: ``x ~ U([-1, 1]^2)``, class ``(x1 > 0) xor (x2 > 0)``.

    Gaussian noise of std ``noise`` is added after labelling.
    """
    samples = _samples("xor", samples)
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
    samples = _samples("gaussians", samples)
    distance = _number("gaussians: distance", distance)
    std = _number("gaussians: std", std, 0.0, strict=True)
    y = np.arange(samples) % 2
    centres = np.column_stack([(y - 0.5) * distance, np.zeros(samples)])
    return centres + std * rng.standard_normal((samples, 2)), y


def blobs(rng: np.random.Generator, samples: int = 300, k: int = 3, std: float = 1.0) -> Arrays:
    """``k`` Gaussian blobs, one class each (``sklearn.datasets.make_blobs``)."""
    samples = _samples("blobs", samples)
    k = _count("blobs: k", k, 2)
    std = _number("blobs: std", std, 0.0, strict=True)
    if samples < 2 * k:
        raise ValueError(
            f"blobs: samples ({samples}) must be at least 2 * k ({shown(2 * k)}): with fewer, "
            "some blob has a single sample and cannot be in both the training and the test part"
        )
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
    """The number in a CSV cell, or ``None``: Python literal syntax beyond the usual
    decimal forms (``1_000``) is not a number in a CSV file."""
    if "_" in text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def _exact(text: str) -> int | float | None:
    """The number ``text`` names, exactly: an int for every integral value (of any size,
    so ``1e20`` and ``2e20`` stay apart), else a float; ``None`` if not a finite number."""
    try:
        return int(text) if "_" not in text else None
    except ValueError:
        pass
    value = _float(text)
    if value is None or not math.isfinite(value):
        return None
    return int(value) if value.is_integer() else value


def _labels(texts: list[str]) -> np.ndarray:
    """Numeric labels as numbers (exact: int64 when they fit, else Python numbers), else words."""
    numbers = [_exact(text) for text in texts]
    if any(value is None for value in numbers):
        return np.array(texts)
    if all(isinstance(v, int) and -(2**63) <= v < 2**63 for v in numbers):
        return np.array(numbers, dtype=np.int64)
    if all(abs(v) <= 2**53 for v in numbers):
        return np.array(numbers, dtype=np.float64)  # every value is exact in float64
    return np.array(numbers, dtype=object)  # Python ints and floats compare exactly


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
    return np.array(features, dtype=np.float64), _labels(labels)


def _npz_error(exc: BaseException) -> str:
    """The reason NumPy gave, unless it suggests loading pickles (unsafe on a user's file)."""
    text = str(exc)
    return "" if not text or "pickle" in text else f" ({text})"


def from_npz(
    rng: np.random.Generator, path: str | None = None, x: str = "X", y: str = "y"
) -> Arrays:
    """A NumPy ``.npz`` archive (``numpy.savez``) with the features under key ``x``
    (real numbers, shape ``(m, n)``) and the labels under key ``y`` (integers, real
    numbers, booleans or strings, shape ``(m,)``). Arrays of Python objects are never
    loaded: unpickling a file can run code."""
    if path is None:
        raise ValueError("dataset 'npz' needs a file: --data-path FILE or npz(path=FILE)")
    path = Path(path)
    name = repr(str(path))
    try:
        with path.open("rb") as fh:
            head = fh.read(6)
    except OSError as exc:
        raise _open_error(path, exc) from None
    if not head:
        raise ValueError(f"{name} is empty (0 bytes); an NPZ archive with {x} and {y} is needed")
    if head.startswith(b"\x93NUMPY"):
        raise ValueError(f"{name} is a .npy array; an NPZ archive with {x} and {y} is needed")
    if not head.startswith(b"PK"):
        raise ValueError(
            f"{name} is not an NPZ archive (numpy.savez writes one: a zip of .npy arrays)"
        )
    try:
        archive = np.load(path, allow_pickle=False)
    except OSError as exc:
        raise _open_error(path, exc) from None
    except (ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{name} is not a readable NPZ archive{_npz_error(exc)}") from None
    with archive:
        missing = [key for key in (x, y) if key not in archive.files]
        if missing:
            found = ", ".join(archive.files) or "nothing"
            raise ValueError(
                f"{name} has no array {missing[0]!r}; it holds: {found} "
                f"(features under {x!r}, labels under {y!r})"
            )
        arrays = []
        for key in (x, y):
            try:
                arrays.append(archive[key])
            except ValueError as exc:
                if "pickle" in str(exc):
                    raise ValueError(
                        f"{name}: array {key!r} holds Python objects, which initlab does not "
                        "load (unpickling a file can run code); save numeric or string arrays"
                    ) from None
                raise ValueError(f"{name}: cannot load array {key!r} ({exc})") from None
            except (OSError, EOFError, zipfile.BadZipFile) as exc:
                raise ValueError(f"{name}: cannot load array {key!r}{_npz_error(exc)}") from None
    X, labels = arrays
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name}: features {x!r} must be real numbers, got dtype {X.dtype}")
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(f"{name}: {x} must be 2-D (samples, features), got shape {X.shape}")
    if labels.dtype.kind not in "biufUS":
        raise ValueError(
            f"{name}: labels {y!r} must be integers, real numbers, booleans or strings, "
            f"got dtype {labels.dtype}"
        )
    if labels.dtype.kind == "S":
        try:
            labels = np.char.decode(labels, "utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{name}: labels {y!r} are bytes that are not UTF-8 text") from None
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(f"{name}: {y} must be 1-D (samples,), got shape {labels.shape}")
    if labels.shape[0] != X.shape[0]:
        raise ValueError(f"{name}: {x} has {X.shape[0]} rows but {y} has {labels.shape[0]} labels")
    if labels.dtype.kind == "f" and not np.isfinite(labels).all():
        raise ValueError(f"{name}: {y} has missing or non-finite labels")
    with np.errstate(over="ignore"):  # float128 beyond float64: inf, refused by check_features
        return X.astype(np.float64), labels


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


DATASETS: Registry[DatasetEntry] = Registry("dataset", {
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
})  # fmt: skip


def resolve_spec(
    spec: str, overrides: dict[str, Any] | None = None
) -> tuple[DatasetEntry, dict[str, Any]]:
    """The registry entry and parameters of ``spec`` (plus ``overrides``), checked by name only.

    Raises:
        ValueError: for bad syntax, an unknown dataset or an unknown parameter.
    """
    name, entry, _, params = DATASETS.parse(spec, lambda e: e.defaults, keywords_only=True)
    params = {**params, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    params = exact_integers(params)  # sizes beyond float64 are refused by their own range
    check_params("dataset", name, params, entry.defaults, checks_values=True)
    return entry, params


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _encode(y: np.ndarray, where: str) -> tuple[np.ndarray, tuple[Any, ...]]:
    """Class indices ``0..k-1`` of ``y`` and its distinct labels in sorted order (exact:
    ``np.unique`` compares the original values, never a rounded copy)."""
    classes, codes = np.unique(y, return_inverse=True)
    if classes.size < 2:
        found = "no labels" if classes.size == 0 else f"only the class {_python(classes[0])!r}"
        raise ValueError(f"{where} has {found}; at least 2 classes are needed")
    return codes.reshape(-1).astype(np.int64), tuple(_python(c) for c in classes)


def check_features(X: np.ndarray, where: str, *, columns: bool = False) -> None:
    """Raise ``ValueError`` unless every feature of ``X`` is finite and at most
    :data:`FEATURE_LIMIT` in magnitude; the message names ``where``, the feature and
    the sample. ``X`` is row-wise ``(m, n)``, or column-wise ``(n, m)`` if ``columns``.
    """
    rows = X.T if columns else X
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(rows) <= FEATURE_LIMIT)  # NaN fails the comparison too
    if not bad.any():
        return
    sample, feature = (int(i) for i in np.argwhere(bad)[0])
    value = float(rows[sample, feature])
    at = f"feature {feature} of sample {sample}"
    if not math.isfinite(value):
        raise ValueError(f"{where} has missing or non-finite values: {at} is {value}")
    raise ValueError(
        f"{where}: {at} is {value:g}; features must be at most {FEATURE_LIMIT:g} in magnitude "
        "(rescale the data)"
    )


def _source(entry: DatasetEntry, spec: str, params: dict[str, Any]) -> str:
    """How messages name a dataset: its file, or its spec."""
    if entry.kind == "file" and params.get("path") is not None:
        return repr(str(params["path"]))
    return f"dataset {spec!r}"


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
    X = np.asarray(X, dtype=np.float64)
    check_features(X, _source(entry, spec, params))
    codes, classes = _encode(np.asarray(y), f"dataset {spec!r}")
    return X, codes, classes


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
    if test.size == 0:  # only when every class has a single sample
        raise ValueError(
            f"every one of the {len(test_idx)} classes has a single sample ({y.size} samples), "
            "so none is left for the test part; every class needs at least 2 samples"
        )
    return X[train], y[train], X[test], y[test]


def standardize(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale every feature (rows of the column-wise arrays) to mean 0, std 1 on the training part.

    The mean and std come from ``X_train`` only and are applied to both parts;
    a constant feature (std 0) is only centred. For features within
    :data:`FEATURE_LIMIT` it cannot overflow: the variance is at most ``1e200``,
    a nonzero std at least ``sqrt(5e-324) > 2e-162``, so every scaled value is
    below ``2e100 / 2e-162 = 1e262``; :func:`load_dataset` still checks the result.
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
    if entry.load is None:
        check_features(X_train, _source(entry, spec, params), columns=True)
        check_features(X_test, _source(entry, spec, params), columns=True)
    if standardize_features:
        X_train, X_test = standardize(X_train, X_test)
        where = f"{_source(entry, spec, params)} after standardization"
        check_features(X_train, f"{where} (training part)", columns=True)
        check_features(X_test, f"{where} (test part)", columns=True)
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
