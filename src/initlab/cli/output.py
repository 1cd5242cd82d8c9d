"""Printing and writing results: the console, tables, figure files."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
import numpy as np
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RESULTS_FILE = "results.json"
COST_FIGURE = "costs.png"
BOUNDARY_FIGURE = "decision_boundaries.png"

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def warn(message: str) -> None:
    stderr.print(f"initlab: warning: {message}", markup=False)


@contextmanager
def runtime_warnings_as_lines() -> Iterator[None]:
    """Turn the library's RuntimeWarnings (e.g. the engine falling back to NumPy) into
    ``initlab: warning:`` lines, printed once the block is done."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        yield
    for w in caught:
        warn(str(w.message))


def fmt(value: float | None, digits: int = 6) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def accuracy_table(rows: list[dict]) -> Table:
    """A table of ``init``, train/test accuracy, final cost and status per run."""
    table = Table(title="Results", title_justify="left")
    table.add_column("initialization", no_wrap=True)
    table.add_column("train acc.", justify="right", no_wrap=True)
    table.add_column("test acc.", justify="right", no_wrap=True)
    table.add_column("final cost", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for row in rows:
        table.add_row(
            row["init"],
            fmt(row["train_accuracy"]),
            fmt(row["test_accuracy"]),
            fmt(row["final_cost"]),
            row["status"],
        )
    return table


def report_runs(runs: list[dict], learning_rate: float, quiet: bool) -> None:
    """Warn about every diverged run, then (unless ``quiet``) print the accuracy table."""
    for run in runs:
        if run["diverged"]:
            warn(
                f"run {run['init']!r} diverged at iteration {run['diverged_at']} "
                f"(non-finite cost; try a smaller --learning-rate than {learning_rate:g})"
            )
        elif run["exploded"]:
            warn(
                f"run {run['init']!r} {run['status']} "
                f"(try a smaller --learning-rate than {learning_rate:g})"
            )
    if not quiet:
        stdout.print(accuracy_table(runs))


def figure_writer(path: Path, build: Callable[[], Figure]) -> Callable[[], Path]:
    """A writer for :func:`write_outputs`: build the figure, save it to ``path``."""

    def write() -> Path:
        with np.errstate(all="ignore"):  # huge costs of a diverging run overflow log axes
            build().savefig(path, dpi=110)
        return path

    return write


def results_writers(
    document: dict, out_dir: Path, json_path: Path | None
) -> list[tuple[str, Callable[[], Path]]]:
    """Writers for ``out_dir/results.json`` and, if given, the ``--json`` copy."""
    from initlab.results import write_json

    writers = [("results", lambda: write_json(out_dir / RESULTS_FILE, document))]
    if json_path is not None:
        writers.append(("results copy", lambda: write_json(json_path, document)))
    return writers


def cost_printer(quiet: bool) -> Callable[[str, int, float], None]:
    """``on_cost(init, iteration, cost)`` printing the course's line (nothing if ``quiet``)."""

    def on_cost(init: str, iteration: int, cost: float) -> None:
        if not quiet:
            stdout.print(f"[{init}] Cost after iteration {iteration}: {cost!r}", markup=False)

    return on_cost


def write_outputs(writers: list[tuple[str, Callable[[], Path]]], quiet: bool) -> None:
    """Run every writer even if one fails; then fail once, naming what could not be written."""
    failed: list[str] = []
    for label, write in writers:
        try:
            path = write()
        except OSError as exc:
            failed.append(f"{label} ({exc.strerror or exc})")
            continue
        if not quiet:
            stdout.print(f"wrote {label}: {path}", markup=False)
    if failed:
        raise click.ClickException("could not write " + "; ".join(failed))
