"""The crash-safe result store of a sweep: one SQLite database per output folder.

Every finished run is one row of ``FOLDER/runs.sqlite``, keyed by :func:`run_hash` of its
full configuration. The runs of a batch are committed together in one transaction
(:meth:`Store.add_batch`), so a process killed at any moment (``SIGKILL`` included) leaves
the store holding whole batches only, each run exactly once: rerunning the sweep skips
:meth:`Store.done_hashes` and redoes the rest.

Durability comes from SQLite itself: write-ahead logging (``journal_mode=WAL``: readers
see the last committed batch while a writer writes, and never block it) with
``synchronous=FULL`` (the log is flushed to disk at every commit, so a committed batch
survives a power cut as well as a killed process).

Layout (schema version :data:`SCHEMA_VERSION`)::

    meta(key TEXT PRIMARY KEY, value TEXT)
        spec_hash       the hash of the sweep's specification the store belongs to
        initlab_version the initlab version that created the store
        schema_version  the layout of these tables
        created         creation time, seconds since the epoch (UTC)
    runs(hash TEXT PRIMARY KEY, batch INTEGER, config TEXT, metrics TEXT, costs BLOB,
         timings TEXT, status TEXT, version TEXT, finished REAL)

``config``, ``metrics`` and ``timings`` are JSON (``config`` in the canonical form of
:func:`canonical_json`); ``costs`` is the cost curve as float64 little-endian bytes (8 bytes
a point, bit-exact); ``version`` the initlab version that wrote the row; ``finished`` the
commit time. Rows come back in insertion order (SQLite's ``rowid``; runs are never
deleted).

A store belongs to one specification and one compatible initlab version: opening it with
another ``spec_hash``, or from an initlab whose ``major.minor`` differs from the creator's,
or with another schema version raises :class:`StoreMismatchError`, so results are never
mixed.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import re
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

import initlab

if TYPE_CHECKING:
    import pandas as pd

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

SCHEMA_VERSION = 1
"""The layout of the store's tables; a store of another schema version is refused."""

STORE_FILENAME = "runs.sqlite"

#: the page size of a new store, in bytes (SQLite's largest)
PAGE_SIZE = 65536

_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
_VERSION_RE = re.compile(r"^(\d+)\.(\d+)")


class StoreError(ValueError):
    """A result store that cannot be used (unreadable, not an initlab store)."""


class StoreMismatchError(StoreError):
    """A store made from another specification, or by an incompatible initlab version."""


class StoreConflictError(StoreError):
    """A run already in the store added again with different content."""


# --------------------------------------------------------------------------- hashing


def _canonical(value: Any, path: str) -> Any:
    """``value`` as plain JSON types (dict with str keys, list, str, int, float, bool, None)."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"configuration field {path} must be a finite number, got {value!r}")
        return number
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"configuration keys must be strings, got {key!r} "
                    f"({type(key).__name__}) in {path}"
                )
            out[key] = _canonical(item, f"{path}.{key}" if path != "config" else key)
        return out
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple):
        return [_canonical(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise TypeError(
        f"configuration field {path} must be a string, number, bool, None, list or mapping, "
        f"got {value!r} ({type(value).__name__})"
    )


def canonical_json(config: Mapping[str, Any]) -> str:
    """The canonical JSON text of a configuration: the input of :func:`run_hash`.

    Keys sorted at every level, no whitespace (separators ``,`` and ``:``), ASCII only
    (other characters as ``\\uXXXX`` escapes), floats by ``repr`` (the shortest text that
    reads back to the same double, so ``0.1`` is ``0.1`` and ``1.0`` is ``1.0``), integers
    as integers (so ``1`` and ``1.0`` differ: the type of a field is part of its value),
    tuples and NumPy arrays as lists, NumPy scalars as the Python numbers they equal.
    Keys must be strings; NaN and infinities are refused (``ValueError``), as is any
    other type (``TypeError``), naming the field.
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"a configuration must be a mapping, got {type(config).__name__}")
    return json.dumps(
        _canonical(config, "config"), sort_keys=True, separators=(",", ":"), allow_nan=False
    )


def run_hash(config: Mapping[str, Any]) -> str:
    """The identity of a run: ``sha256(canonical_json(config))`` as 64 hex digits.

    ``config`` is the run's *full* configuration (data, architecture, initializer and its
    parameters, optimizer, schedule, seed, ...). Two configurations have the same hash
    exactly when their canonical JSON texts (:func:`canonical_json`) are equal: the key
    order of the mappings does not matter, any change of any value (or of its type,
    ``1`` against ``1.0``) does. The text is stable across Python versions and machines.
    """
    return hashlib.sha256(canonical_json(config).encode("ascii")).hexdigest()


# --------------------------------------------------------------------------- records


def _json(value: Mapping[str, Any], what: str) -> str:
    """``value`` as JSON text with sorted keys; NaN and infinities kept (Python's tokens)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a mapping, got {type(value).__name__}")
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} must hold JSON values only: {error}") from None


def _json_default(value: Any) -> Any:
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{value!r} ({type(value).__name__}) is not a JSON value")


@dataclass(frozen=True, eq=False)
class RunRecord:
    """One finished run, as the store keeps it.

    Attributes:
        hash: :func:`run_hash` of ``config`` (checked by :meth:`Store.add_batch`).
        batch: the number of the batch the run was trained in (a non-negative int).
        config: the run's full configuration (JSON values).
        metrics: its final metrics: ``final_cost``, ``train_accuracy``, ``test_accuracy``,
            ``diverged_at`` (an int or ``None``), ``exploded`` (bool), ... (JSON values;
            NaN and infinities are kept).
        costs: the cost curve (float64, one-dimensional, read-only).
        timings: seconds spent, by phase (JSON values).
        status: ``"ok"`` or what went wrong.

    Two records are equal when every field is equal, the cost curves bit for bit.
    """

    hash: str
    batch: int
    config: dict[str, Any]
    metrics: dict[str, Any]
    costs: np.ndarray = field(repr=False)
    timings: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"

    def __post_init__(self) -> None:
        if not isinstance(self.hash, str) or not _HASH_RE.match(self.hash):
            raise ValueError(f"hash must be 64 lowercase hex digits, got {self.hash!r}")
        if isinstance(self.batch, bool | np.bool_) or not isinstance(self.batch, numbers.Integral):
            raise TypeError(f"batch must be a non-negative integer, got {self.batch!r}")
        if self.batch < 0:
            raise ValueError(f"batch must be a non-negative integer, got {self.batch!r}")
        object.__setattr__(self, "batch", int(self.batch))
        for name in ("config", "metrics", "timings"):
            value = getattr(self, name)
            if not isinstance(value, Mapping):
                raise TypeError(f"{name} must be a mapping, got {type(value).__name__}")
            object.__setattr__(self, name, dict(value))
        costs = np.array(self.costs, dtype=np.float64)  # a copy: the record owns it
        if costs.ndim != 1:
            raise ValueError(f"costs must be one-dimensional, got shape {costs.shape}")
        costs.setflags(write=False)
        object.__setattr__(self, "costs", costs)
        if not isinstance(self.status, str) or not self.status:
            raise ValueError(f"status must be a non-empty string, got {self.status!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RunRecord):
            return NotImplemented
        return (
            self.hash == other.hash
            and self.batch == other.batch
            and _json(self.config, "config") == _json(other.config, "config")
            and _json(self.metrics, "metrics") == _json(other.metrics, "metrics")
            and _costs_bytes(self.costs) == _costs_bytes(other.costs)
            and _json(self.timings, "timings") == _json(other.timings, "timings")
            and self.status == other.status
        )

    def __hash__(self) -> int:
        return hash(self.hash)


def _costs_bytes(costs: np.ndarray) -> bytes:
    return np.ascontiguousarray(costs, dtype="<f8").tobytes()


def _major_minor(version: str) -> tuple[int, int] | None:
    match = _VERSION_RE.match(version)
    return (int(match.group(1)), int(match.group(2))) if match else None


# --------------------------------------------------------------------------- the store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    hash TEXT PRIMARY KEY,
    batch INTEGER NOT NULL,
    config TEXT NOT NULL,
    metrics TEXT NOT NULL,
    costs BLOB NOT NULL,
    timings TEXT NOT NULL,
    status TEXT NOT NULL,
    version TEXT NOT NULL,
    finished REAL NOT NULL
);
"""

_COLUMNS = "hash, batch, config, metrics, costs, timings, status, version, finished"


class Store:
    """The runs of one sweep in ``FOLDER/runs.sqlite``; open it with :meth:`Store.open`.

    Usable as a context manager (closed on exit). One ``Store`` object belongs to the
    thread that opened it; any number of processes may read a store while one writes.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path, version: str) -> None:
        self._connection: sqlite3.Connection | None = connection
        self.path = path
        self.version = version

    # ---------------------------------------------------------------- opening

    @classmethod
    def open(cls, folder: Path, spec_hash: str, *, version: str = initlab.__version__) -> Store:
        """Create ``folder/runs.sqlite`` for ``spec_hash``, or open the existing one.

        ``folder`` is created if missing. An existing store must have been made from the
        same ``spec_hash`` by an initlab of the same ``major.minor`` version and schema
        version :data:`SCHEMA_VERSION`, else :class:`StoreMismatchError`; a file that is
        not an initlab store raises :class:`StoreError`. Nothing is written to an
        existing store by opening it.
        """
        if not isinstance(spec_hash, str) or not spec_hash:
            raise ValueError(f"spec_hash must be a non-empty string, got {spec_hash!r}")
        if not isinstance(version, str) or _major_minor(version) is None:
            raise ValueError(f"version must look like MAJOR.MINOR[...], got {version!r}")
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise StoreError(f"{folder} is not a folder: cannot hold a result store")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / STORE_FILENAME
        try:
            connection = sqlite3.connect(path, timeout=60.0, isolation_level=None)
        except sqlite3.Error as error:
            raise StoreError(f"cannot open the result store {path}: {error}") from None
        try:
            meta = cls._prepare(connection, path, spec_hash, version)
            cls._check(meta, folder, spec_hash, version)
        except BaseException:
            connection.close()
            raise
        return cls(connection, path, version)

    @staticmethod
    def _prepare(
        connection: sqlite3.Connection, path: Path, spec_hash: str, version: str
    ) -> dict[str, str]:
        """Set the connection up, create the tables if missing, return the meta table."""
        try:
            connection.execute("PRAGMA busy_timeout = 60000")
            has_meta = connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
            ).fetchone()[0]
            if not has_meta:
                tables = connection.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                ).fetchone()[0]
                if tables:
                    raise StoreError(f"{path} is an SQLite file, but not an initlab store")
                # Page size and WAL are properties of the file: set them before the first
                # write. 64 KiB pages hold a 15000-point cost curve (120 KB) in two pages
                # where 4 KiB ones need a chain of thirty: a commit costs half the time.
                connection.execute(f"PRAGMA page_size = {PAGE_SIZE}")
                connection.execute("PRAGMA journal_mode = WAL")
            mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
            if mode.lower() != "wal":
                connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            if not has_meta:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            connection.execute(statement)
                    rows = [
                        ("spec_hash", spec_hash),
                        ("initlab_version", version),
                        ("schema_version", str(SCHEMA_VERSION)),
                        ("created", repr(time.time())),
                    ]
                    # Another process may have created the store meanwhile: keep its meta.
                    connection.executemany(
                        "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", rows
                    )
                    connection.execute("COMMIT")
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
            return dict(connection.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as error:
            raise StoreError(f"cannot use the result store {path}: {error}") from None

    @staticmethod
    def _check(meta: dict[str, str], folder: Path, spec_hash: str, version: str) -> None:
        missing = {"spec_hash", "initlab_version", "schema_version"} - meta.keys()
        if missing:
            raise StoreError(
                f"the result store in {folder} is incomplete (no {', '.join(sorted(missing))})"
            )
        stored_version = meta["initlab_version"]
        stored_schema = meta["schema_version"]
        if stored_schema != str(SCHEMA_VERSION) or _major_minor(stored_version) != _major_minor(
            version
        ):
            raise StoreMismatchError(
                f"the result store in {folder} was written by initlab {stored_version} "
                f"(store schema {stored_schema}); this is initlab {version} "
                f"(store schema {SCHEMA_VERSION}): incompatible versions, use another "
                "output folder"
            )
        if meta["spec_hash"] != spec_hash:
            raise StoreMismatchError(
                f"the result store in {folder} belongs to another sweep specification "
                f"(spec hash {meta['spec_hash'][:12]}..., this one {spec_hash[:12]}...): "
                "use another output folder"
            )

    # ---------------------------------------------------------------- access

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError(f"the result store {self.path} is closed")
        return self._connection

    def meta(self) -> dict[str, str]:
        """The ``meta`` table: ``spec_hash``, ``initlab_version``, ``schema_version``,
        ``created``."""
        return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    def done_hashes(self) -> set[str]:
        """The hashes of every run in the store."""
        return {row[0] for row in self._conn.execute("SELECT hash FROM runs")}

    def __len__(self) -> int:
        return self._conn.execute("SELECT count(*) FROM runs").fetchone()[0]

    def add_batch(self, records: Sequence[RunRecord]) -> None:
        """Commit the runs of one batch in one transaction: all of them, or none.

        Every ``record.hash`` must equal ``run_hash(record.config)`` (``ValueError``).
        A run already in the store (or twice in ``records``) with identical content (the
        same configuration, metrics, status and bit-identical cost curve) is skipped;
        with different content :class:`StoreConflictError` is raised and nothing of the
        batch is written. Timings, the batch number and the write time are not compared:
        they differ between two executions of the same run by nature.
        """
        if isinstance(records, RunRecord) or not isinstance(records, Sequence):
            raise TypeError("add_batch takes a sequence of RunRecord")
        rows = []
        for record in records:
            if not isinstance(record, RunRecord):
                raise TypeError(f"add_batch takes RunRecord objects, got {type(record).__name__}")
            config = canonical_json(record.config)
            expected = hashlib.sha256(config.encode("ascii")).hexdigest()
            if record.hash != expected:
                raise ValueError(f"record hash {record.hash} is not run_hash(config) = {expected}")
            rows.append(
                (
                    record.hash,
                    record.batch,
                    config,
                    _json(record.metrics, "metrics"),
                    _costs_bytes(record.costs),
                    _json(record.timings, "timings"),
                    record.status,
                )
            )
        if not rows:
            return
        connection = self._conn
        finished = time.time()
        connection.execute("BEGIN IMMEDIATE")
        try:
            for row in rows:
                cursor = connection.execute(
                    f"INSERT INTO runs ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (hash) DO NOTHING",
                    (*row, self.version, finished),
                )
                if cursor.rowcount == 0:
                    self._check_same(row)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def _check_same(self, row: tuple) -> None:
        stored = self._conn.execute(
            "SELECT config, metrics, costs, status FROM runs WHERE hash = ?", (row[0],)
        ).fetchone()
        new = (row[2], row[3], row[4], row[6])
        for name, old_value, new_value in zip(
            ("config", "metrics", "costs", "status"), stored, new, strict=True
        ):
            if (bytes(old_value) if name == "costs" else old_value) != new_value:
                raise StoreConflictError(
                    f"run {row[0]} is already in {self.path} with different {name}: "
                    "refusing to mix results (nothing of this batch was written)"
                )

    def records(self) -> list[RunRecord]:
        """Every run, in the order they were added."""
        rows = self._conn.execute(
            "SELECT hash, batch, config, metrics, costs, timings, status FROM runs ORDER BY rowid"
        ).fetchall()
        return [
            RunRecord(
                hash=run,
                batch=batch,
                config=json.loads(config),
                metrics=json.loads(metrics),
                costs=np.frombuffer(costs, dtype="<f8"),
                timings=json.loads(timings),
                status=status,
            )
            for run, batch, config, metrics, costs, timings, status in rows
        ]

    def frame(self, costs: bool = False) -> pd.DataFrame:
        """One row per run (in insertion order): ``hash``, the configuration flattened
        (nested mappings as dotted names, ``optimizer.beta1``; lists as tuples, so that
        every column can be grouped on), the metrics (flattened the same way), ``status``
        and, with ``costs=True``,
        the cost curve (a float64 array per row) in column ``costs``. Configuration
        fields and metrics each come in sorted order (as stored); a field missing from
        some runs is missing (NaN) in their rows.

        Two columns of the same name (a configuration field and a metric, say) raise
        ``ValueError``.
        """
        import pandas as pd

        rows = []
        for record in self.records():
            row: dict[str, Any] = {}
            sources: dict[str, str] = {}
            fields = [
                ("the run hash", [("hash", record.hash)]),
                ("configuration", _flatten(record.config)),
                ("metrics", _flatten(record.metrics)),
                ("run status", [("status", record.status)]),
                ("cost curves", [("costs", record.costs)] if costs else []),
            ]
            for source, items in fields:
                for name, value in items:
                    if name in row:
                        raise ValueError(
                            f"column {name!r} of the {source} has the name of a column "
                            f"of the {sources[name]}"
                        )
                    row[name] = value
                    sources[name] = source
            rows.append(row)
        columns = ["hash", "status", *(["costs"] if costs else [])]
        if not rows:
            return pd.DataFrame(columns=columns)
        return pd.DataFrame(rows)

    # ---------------------------------------------------------------- closing

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._connection is None else "open"
        return f"Store({str(self.path)!r}, {state})"


def _flatten(config: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            items.extend(_flatten(value, f"{name}."))
        else:
            items.append((name, _hashable(value)))
    return items


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, Mapping):
        return tuple((key, _hashable(item)) for key, item in value.items())
    return value
