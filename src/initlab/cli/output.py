"""Printing and writing results: the console, tables, figure files."""

from __future__ import annotations

import contextlib
import io
import os
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
OUTPUT_FILES = (RESULTS_FILE, COST_FIGURE, BOUNDARY_FIGURE)  # what a run may write in --out


def discard_closed_stream(stream) -> None:  # type: ignore[no-untyped-def]
    """Point a stream whose reader went away at /dev/null, so the interpreter's last
    flush at exit does not fail ("Exception ignored ... BrokenPipeError")."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)


class PipeSafeConsole(Console):
    """A console that goes quiet when its reader goes away (``initlab course | head -1``):
    the run goes on and still writes its outputs; the exit status is the run's."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        discard_closed_stream(self.file)


stdout = PipeSafeConsole(highlight=False, soft_wrap=True)
stderr = PipeSafeConsole(stderr=True, highlight=False, soft_wrap=True)


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


Render = Callable[[], tuple[Path, bytes]]


def figure_writer(path: Path, build: Callable[[], Figure]) -> Render:
    """A writer for :func:`write_outputs`: build the figure, render it to ``path``'s format."""

    def render() -> tuple[Path, bytes]:
        buffer = io.BytesIO()
        with np.errstate(all="ignore"):  # huge costs of a diverging run overflow log axes
            build().savefig(buffer, format=path.suffix.lstrip(".") or "png", dpi=110)
        return path, buffer.getvalue()

    return render


def results_writers(
    document: dict, out_dir: Path, json_path: Path | None
) -> list[tuple[str, Render]]:
    """Writers for ``out_dir/results.json`` and, if given, the ``--json`` copy."""
    from initlab.results import json_bytes

    def render(path: Path) -> Render:
        return lambda: (path, json_bytes(document))

    writers = [("results", render(out_dir / RESULTS_FILE))]
    if json_path is not None:
        writers.append(("results copy", render(json_path)))
    return writers


def cost_printer(quiet: bool) -> Callable[[str, int, float], None]:
    """``on_cost(init, iteration, cost)`` printing the course's line (nothing if ``quiet``)."""

    def on_cost(init: str, iteration: int, cost: float) -> None:
        if not quiet:
            stdout.print(f"[{init}] Cost after iteration {iteration}: {cost!r}", markup=False)

    return on_cost


def write_outputs(writers: list[tuple[str, Render]], quiet: bool) -> None:
    """Render every output, then write them all or none (:func:`initlab.outputs.write_files`).

    If one cannot be written, fail once naming it: the previous outputs are all unchanged.
    """
    from initlab.outputs import OutputError, resolve_target, write_files

    rendered = [(label, *render()) for label, render in writers]
    try:
        written = write_files([(path, content) for _, path, content in rendered])
    except OutputError as exc:
        label = next(
            (label for label, path, _ in rendered if resolve_target(path) == exc.path), "outputs"
        )
        outcome = (
            f"only {', '.join(str(p) for p in exc.replaced)} replaced"
            if exc.replaced
            else "no output was written, the previous ones are unchanged"
        )
        raise click.ClickException(
            f"could not write the {label} to {str(exc.path)!r} ({exc.strerror}); {outcome}"
        ) from None
    if not quiet:
        for (label, path, _), target in zip(rendered, written, strict=True):
            shown = path if target == Path(os.path.abspath(path)) else f"{path} -> {target}"
            stdout.print(f"wrote {label}: {shown}", markup=False)
