"""Printing and writing results: the console, tables, figure files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def warn(message: str) -> None:
    stderr.print(f"initlab: warning: {message}", markup=False)


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
        status = f"diverged at iteration {row['diverged_at']}" if row["diverged"] else "ok"
        table.add_row(
            row["init"],
            fmt(row["train_accuracy"]),
            fmt(row["test_accuracy"]),
            fmt(row["final_cost"]),
            status,
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
    if not quiet:
        stdout.print(accuracy_table(runs))


def figure_writer(path: Path, build: Callable[[], Figure]) -> Callable[[], Path]:
    """A writer for :func:`write_outputs`: build the figure, save it to ``path``."""

    def write() -> Path:
        build().savefig(path, dpi=110)
        return path

    return write


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
