"""Sweeps over many seeds and configurations: the crash-safe result store and statistics.

- :mod:`initlab.sweep.store`: :func:`run_hash`, :class:`RunRecord` and :class:`Store`,
  the SQLite database of a sweep's finished runs;
- :mod:`initlab.sweep.stats`: :func:`summarize`, :func:`paired_comparison`,
  :func:`group_summary` and :func:`iterations_to_threshold`.
"""

from initlab.sweep.stats import (
    Paired,
    Summary,
    group_summary,
    iterations_to_threshold,
    paired_comparison,
    summarize,
)
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
    "Paired",
    "RunRecord",
    "Store",
    "StoreConflictError",
    "StoreError",
    "StoreMismatchError",
    "Summary",
    "canonical_json",
    "group_summary",
    "iterations_to_threshold",
    "paired_comparison",
    "run_hash",
    "summarize",
]
