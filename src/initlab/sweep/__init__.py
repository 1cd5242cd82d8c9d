"""Sweeps over many seeds and configurations: the crash-safe result store and statistics.

- :mod:`initlab.sweep.store`: :func:`run_hash`, :class:`RunRecord` and :class:`Store`,
  the SQLite database of a sweep's finished runs.
"""

from initlab.sweep.store import (
    SCHEMA_VERSION,
    STORE_FILENAME,
    RunRecord,
    Store,
    StoreConflictError,
    StoreError,
    StoreMismatchError,
    canonical_json,
    run_hash,
)

__all__ = [
    "SCHEMA_VERSION",
    "STORE_FILENAME",
    "RunRecord",
    "Store",
    "StoreConflictError",
    "StoreError",
    "StoreMismatchError",
    "canonical_json",
    "run_hash",
]
