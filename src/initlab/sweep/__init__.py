"""Sweeps over many seeds and configurations: the grammar, batches, executors, the
crash-safe result store and statistics.

- :mod:`initlab.sweep.grammar`: the TOML sweep file (:func:`~initlab.sweep.grammar.load_spec`,
  :class:`~initlab.sweep.grammar.SweepSpec`: grids, zipped lists, seeds, ``{a, b}``
  expansion) and the batches of runs it expands to;
- :mod:`initlab.sweep.compare`: a comparison of initializations over seeds
  (``initlab compare``);
- :mod:`initlab.sweep.plan`: a batch trained as one population, bit-identically anywhere
  (:func:`~initlab.sweep.plan.train_batch`), and the batches a store lacks trained and
  committed (:func:`~initlab.sweep.plan.run_batches`);
- :mod:`initlab.sweep.executors`: in-process, worker processes, Dask;
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
