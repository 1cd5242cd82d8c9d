"""Snapshots: every model's parameters at chosen updates of a population's training.

A snapshot at update ``k`` holds the parameters *before* update ``k`` (those at
which ``costs[:, k]`` is measured); ``k == updates`` means the final parameters.
A model that diverged at update ``d`` keeps, from ``d`` on, the parameters at
which its cost was first not finite. Snapshots are stacked like ``theta``:
``(K, M, P)`` for ``K`` snapshots of ``M`` models of ``P`` parameters.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

__all__ = ["check_snapshots", "log_spaced"]


def log_spaced(updates: int, count: int = 20) -> np.ndarray:
    """About ``count`` update indices from 0 to ``updates`` (both included), spaced
    evenly on a log scale after 0: ``0, 1, ..., updates`` as sorted unique ints; every
    update when ``count`` exceeds them."""
    if isinstance(updates, bool) or not isinstance(updates, numbers.Integral) or updates < 1:
        raise ValueError(f"updates must be a positive integer, got {updates!r}")
    if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 2:
        raise ValueError(f"count must be an integer >= 2, got {count!r}")
    if count >= updates + 1:  # every update (and no allocation the size of count)
        return np.arange(int(updates) + 1, dtype=np.int64)
    spaced = np.round(np.geomspace(1, int(updates), int(count) - 1)).astype(np.int64)
    return np.unique(np.concatenate([[0], spaced, [int(updates)]]))


def check_snapshots(snapshots: Sequence[int] | np.ndarray | None, updates: int) -> np.ndarray:
    """The snapshot updates as sorted unique int64, each in ``[0, updates]``."""
    if snapshots is None:
        return np.empty(0, dtype=np.int64)
    values = list(np.asarray(snapshots, dtype=object).reshape(-1))
    for value in values:
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
            raise ValueError(f"snapshots must be update indices (integers), got {value!r}")
        if not 0 <= value <= updates:
            raise ValueError(
                f"snapshot at update {value} is outside the run; allowed: 0 to {updates}"
            )
    return np.unique(np.asarray(values, dtype=np.int64))
