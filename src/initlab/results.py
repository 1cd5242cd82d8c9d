"""Results as JSON-ready dictionaries, and writing them safely."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from initlab.experiments.course import CourseResult, CourseRun
from initlab.outputs import write_files

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["course_to_dict", "finite_or_none", "json_bytes", "load", "write_json"]


def finite_or_none(value: float | None) -> float | None:
    """JSON has no ``inf`` or ``nan``: non-finite numbers become ``null``."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def run_to_dict(run: CourseRun, print_every: int) -> dict[str, Any]:
    return {
        "init": run.init,
        "costs": [
            {"iteration": i, "cost": finite_or_none(c)} for i, c in run.printed_costs(print_every)
        ],
        "train_accuracy": run.train_accuracy,
        "test_accuracy": run.test_accuracy,
        "final_cost": finite_or_none(run.final_cost),
        "diverged": run.diverged,
        "diverged_at": run.history.diverged_at,
        "exploded": run.exploded,
        "status": run.status,
        "iterations_run": len(run.history.costs),
    }


def course_to_dict(result: CourseResult) -> dict[str, Any]:
    """The ``results.json`` document of a course comparison."""
    return {
        "experiment": "course",
        "config": result.config.as_dict(),
        "runs": [run_to_dict(run, result.config.print_every) for run in result.runs],
    }


def json_bytes(data: dict[str, Any]) -> bytes:
    """``data`` as the UTF-8 text of ``results.json`` (strict JSON: no NaN, no infinity)."""
    return (json.dumps(data, indent=2, allow_nan=False) + "\n").encode("utf-8")


def write_json(path: str | os.PathLike[str], data: dict[str, Any]) -> Path:
    """Write ``data`` to ``path`` atomically: the whole document is encoded first, then
    written to a temporary file beside the target and renamed into place (see
    :func:`initlab.outputs.write_files`: umask-respecting mode, symbolic links written
    through, no temporary left behind on failure)."""
    (written,) = write_files([(path, json_bytes(data))])
    return written


def load(folder: str | os.PathLike[str], *, costs: bool = False) -> pd.DataFrame:
    """The runs stored in ``folder`` (by ``initlab compare``) as a pandas DataFrame: one row
    per run, its configuration fields as columns, its metrics, status and (``costs=True``)
    its cost curve as an array."""
    import sqlite3

    from initlab.sweep.store import STORE_FILENAME, Store, StoreError

    folder = Path(folder)
    path = folder / STORE_FILENAME
    if not path.is_file():
        raise ValueError(f"{str(folder)!r} holds no stored runs (no {STORE_FILENAME})")
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'spec_hash'").fetchone()
    except sqlite3.Error as exc:
        raise StoreError(f"{path} is not an initlab result store ({exc})") from None
    if row is None:
        raise StoreError(f"{path} is not an initlab result store (no spec)")
    with Store.open(folder, row[0]) as store:
        return store.frame(costs=costs)
