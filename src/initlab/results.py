"""Results as JSON-ready dictionaries, and writing them safely."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from initlab.experiments.course import CourseResult, CourseRun

__all__ = ["course_to_dict", "finite_or_none", "write_json"]


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


def write_json(path: str | os.PathLike[str], data: dict[str, Any]) -> Path:
    """Write ``data`` to ``path`` atomically (a temporary file, then a rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, allow_nan=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
