"""Datasets, stored column-wise: ``X`` of shape ``(n_features, m)``, ``Y`` of shape ``(1, m)``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Dataset", "circles", "course_circles"]


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


def circles(
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
    ``RandomState(test_seed)`` for testing (see :func:`circles`): the same
    numbers the course gets from ``np.random.seed(1)`` / ``np.random.seed(2)``,
    without touching NumPy's global state.
    """
    X_tr, y_tr = circles(300, 0.05, np.random.RandomState(train_seed))
    X_te, y_te = circles(100, 0.05, np.random.RandomState(test_seed))
    X_train, Y_train = _columns(X_tr, y_tr)
    X_test, Y_test = _columns(X_te, y_te)
    return Dataset("course_circles", X_train, Y_train, X_test, Y_test)
