"""Printing and writing results: the console, tables, figure files."""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
import numpy as np
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

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
    the run goes on and still writes its outputs; the exit status is the run's.

    A stream that fails otherwise (a full device: ``> /dev/full``) goes quiet too, so
    the run still writes its outputs, and the failure is kept in :attr:`failed` for the
    command to report at its end (exit 1).
    """

    failed: OSError | None = None

    def on_broken_pipe(self) -> None:
        self.quiet = True
        discard_closed_stream(self.file)

    def _check_buffer(self) -> None:
        try:
            super()._check_buffer()
        except OSError as exc:
            del self._buffer[:]
            self.failed = self.failed or exc
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
    table.add_column("initialization")
    table.add_column("train acc.", justify="right")
    table.add_column("test acc.", justify="right")
    table.add_column("final cost", justify="right")
    table.add_column("status")
    for row in rows:
        table.add_row(
            Text(row["init"]),
            fmt(row["train_accuracy"]),
            fmt(row["test_accuracy"]),
            fmt(row["final_cost"]),
            Text(row["status"]),
        )
    return table


def fit_column_widths(natural: Sequence[int], minimum: Sequence[int], available: int) -> list[int]:
    """Column widths that fit ``available`` characters without cutting a word.

    Column ``i`` needs at least ``minimum[i]`` (its longest word) and at most
    ``natural[i]`` (its longest line). If the natural widths fit, they are
    used; otherwise the widest columns give way first: ``w_i = max(min_i,
    min(nat_i, t))`` for the largest ``t`` whose total fits, and the
    characters left over go one each to the columns held at ``t``. If even
    the minimums do not fit, the minimums are returned (the table is then
    wider than ``available``, but no word is cut).
    """
    natural = [max(n, m) for n, m in zip(natural, minimum, strict=True)]

    def total(t: int) -> int:
        return sum(max(m, min(n, t)) for n, m in zip(natural, minimum, strict=True))

    if sum(natural) <= available:
        return list(natural)
    if sum(minimum) >= available:
        return list(minimum)
    low, high = 0, max(natural)  # total(low) <= available < total(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if total(middle) <= available else (low, middle)
    widths = [max(m, min(n, low)) for n, m in zip(natural, minimum, strict=True)]
    spare = available - sum(widths)
    for i, (n, w) in enumerate(zip(natural, widths, strict=True)):
        if spare and w == low < n:
            widths[i] += 1
            spare -= 1
    return widths


def _column_extents(console: Console, table: Table) -> tuple[list[int], list[int]]:
    """Each column's ``(natural, minimum)`` content width: longest line, longest word."""
    options = console.options.update_width(10**6)
    natural, minimum = [], []
    for column in table.columns:
        cells = [column.header, *column.cells] if table.show_header else list(column.cells)
        sizes = [Measurement.get(console, options, cell) for cell in cells]
        natural.append(max((s.maximum for s in sizes), default=1))
        minimum.append(max((s.minimum for s in sizes), default=1))
    return natural, minimum


def _plain(cell: object) -> list[str]:
    return (cell.plain if isinstance(cell, Text) else str(cell)).splitlines() or [""]


def _print_records(table: Table, console: Console) -> None:
    """``table`` as one block per row: the first cell, then ``header: value`` lines."""
    if table.title:
        console.print(Text(_plain(table.title)[0], style="italic"))
    columns = [list(column.cells) for column in table.columns]
    headers = [" ".join(_plain(column.header)) for column in table.columns]
    for r in range(table.row_count):
        first, *others = _plain(columns[0][r])
        more = f" ({', '.join(others)})" if others else ""
        console.print(Text(f"{first}{more}", style="bold"), soft_wrap=False)
        for header, cells in zip(headers[1:], columns[1:], strict=True):
            value = " ".join(_plain(cells[r]))
            console.print(Text(f"  {header}: {value}"), soft_wrap=False)


def print_table(table: Table, console: Console | None = None) -> None:
    """Print ``table`` without ever cutting a cell's word (a number, a default, a name).

    On a terminal the cells wrap at spaces to fit the console's width
    (:func:`fit_column_widths`); if even each column's longest word does not
    fit, every row is printed as a block of ``header: value`` lines instead.
    When the output is not a terminal (a pipe, a file) every row is printed in
    full on one line, however wide.
    """
    console = console or stdout
    n = len(table.columns)
    _, right, _, left = table.padding
    borders = (n - 1 + (2 if table.show_edge else 0)) if table.box else 0
    extra = n * (left + right) + borders
    natural, minimum = _column_extents(console, table)
    if console.is_terminal and sum(minimum) + extra > console.width:
        _print_records(table, console)
        return
    available = console.width - extra if console.is_terminal else sum(natural)
    widths = fit_column_widths(natural, minimum, available)
    for column, width in zip(table.columns, widths, strict=True):
        column.width, column.no_wrap, column.overflow = width, False, "fold"
    options = console.options.update_width(sum(widths) + extra)
    for line in console.render_lines(table, options, pad=False):
        text = Text()
        for segment in line:
            if not segment.control:
                text.append(segment.text, segment.style)
        text.rstrip()  # the title line is padded to the table's width
        console.print(text, crop=False, soft_wrap=True)


def report_runs(
    runs: list[dict], learning_rate: float, quiet: bool, weight_decay: float = 0.0
) -> None:
    """Warn about every diverged run, then (unless ``quiet``) print the accuracy table.

    The hint names the option to lower: the weight decay too when the decay alone makes
    the steps unstable (``learning_rate * weight_decay >= 1``: every step then moves each
    weight at least its own size)."""
    hint = f"try a smaller --learning-rate than {learning_rate:g}"
    if learning_rate * weight_decay >= 1.0:
        hint += f" or a smaller --weight-decay than {weight_decay:g}"
    for run in runs:
        if run["diverged"]:
            warn(f"run {run['init']!r} diverged at iteration {run['diverged_at']} "
                 f"(non-finite cost; {hint})")  # fmt: skip
        elif run["exploded"]:
            warn(f"run {run['init']!r} {run['status']} ({hint})")
    if not quiet:
        print_table(accuracy_table(runs))


def flag_lines(name: str, flags: Sequence[dict]) -> list[str]:
    """``NAME: MESSAGE`` for every flag (the dictionaries of
    :func:`initlab.results.flags_to_dicts`), or ``NAME: healthy`` when there is none."""
    return [f"{name}: {flag['message']}" for flag in flags] or [f"{name}: healthy"]


def report_flags(runs: list[dict], samples: int, quiet: bool) -> None:
    """Print (unless ``quiet``) every run's flags at initialization, one line each:
    what is wrong, in which layer, by how much against which threshold."""
    if quiet or not any("flags" in run for run in runs):
        return
    stdout.print(
        f"Flags at initialization (statistics on {samples} training samples):", markup=False
    )
    for run in runs:
        for line in flag_lines(run["init"], run.get("flags", [])):
            stdout.print(f"  {line}", markup=False)


Render = Callable[[], tuple[Path, bytes]]


def figure_writer(path: Path, build: Callable[[], Figure]) -> Render:
    """A writer for :func:`write_outputs`: build the figure, render it to ``path``'s format."""

    def render() -> tuple[Path, bytes]:
        from initlab.plots import figure_bytes

        with np.errstate(all="ignore"):  # huge costs of a diverging run overflow log axes
            return path, figure_bytes(build(), path.suffix.lstrip(".") or "png", dpi=110)

    return render


def with_provenance(document: dict) -> dict:
    """``document`` with its ``provenance`` field (:func:`initlab.report.provenance`):
    the command line that made it, the versions of initlab, Python and its dependencies,
    the time."""
    from initlab.cli.app import invocation
    from initlab.report import provenance

    return {**document, "provenance": provenance(invocation())}


def results_writers(
    document: dict, out_dir: Path, json_path: Path | None
) -> list[tuple[str, Render]]:
    """Writers for ``out_dir/results.json`` and, if given, the ``--json`` copy (the
    document with its provenance, :func:`with_provenance`)."""
    from initlab.results import json_bytes

    document = with_provenance(document)

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


def write_outputs(
    writers: list[tuple[str, Render]], quiet: bool, write_through: Sequence[Path | None] = ()
) -> None:
    """Render every output, then write them all or none (:func:`initlab.outputs.write_files`).

    If one cannot be written, fail once naming it: the previous outputs are all unchanged.
    """
    from initlab.outputs import OutputError, output_target, resolve_target, write_files

    rendered = [(label, *render()) for label, render in writers]
    through = {Path(os.path.abspath(p)) for p in write_through if p is not None}
    # a symbolic link at an output path is replaced, except where the user named the
    # link as the output (--json): that one is written through to its target
    targets = [
        resolve_target(path) if Path(os.path.abspath(path)) in through else path
        for _, path, _ in rendered
    ]
    try:
        pairs = zip(targets, rendered, strict=True)
        written = write_files([(target, content) for target, (_, _, content) in pairs])
    except OutputError as exc:
        label = next(
            (
                label
                for (label, _, _), target in zip(rendered, targets, strict=True)
                if output_target(target) == exc.path
            ),
            "outputs",
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
