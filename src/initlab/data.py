"""Datasets, stored column-wise: ``X`` of shape ``(n_features, m)``, ``Y`` of shape ``(1, m)``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Dataset", "course_circles"]


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


def course_circles(train_seed: int = 1, test_seed: int = 2) -> Dataset:
    """The course's circles, bit for bit.

    ``make_circles(n_samples=300, noise=0.05)`` drawn from a legacy
    ``RandomState(train_seed)`` for training and 100 samples from
    ``RandomState(test_seed)`` for testing: the same numbers the course gets
    from ``np.random.seed(1)`` / ``np.random.seed(2)``, without touching
    NumPy's global state.
    """
    from sklearn.datasets import make_circles  # imported here: slow, and only needed here

    X_tr, y_tr = make_circles(
        n_samples=300, noise=0.05, random_state=np.random.RandomState(train_seed)
    )
    X_te, y_te = make_circles(
        n_samples=100, noise=0.05, random_state=np.random.RandomState(test_seed)
    )
    X_train, Y_train = _columns(X_tr, y_tr)
    X_test, Y_test = _columns(X_te, y_te)
    return Dataset("course_circles", X_train, Y_train, X_test, Y_test)
