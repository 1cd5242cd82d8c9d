"""``initlab sweep SPEC.toml``: a grid of trainings over many seeds, stored as it runs.

The grammar of the file is :mod:`initlab.sweep.grammar` (``docs/sweep.md``). Runs are
stored in ``--out``'s ``runs.sqlite`` by this process as their batches finish, locally or
on worker processes or a Dask cluster; the same command resumes a stopped sweep.
"""

from __future__ import annotations

import contextlib
import shlex
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from initlab.cli.options import POSITIVE_INT, quiet_option
from initlab.cli.output import (
    figure_writer,
    print_table,
    stdout,
    warn,
    with_provenance,
    write_outputs,
)
from initlab.cli.paths import check_outputs, out_option
from initlab.report import with_report

if TYPE_CHECKING:
    from initlab.sweep.store import Store

__all__ = [
    "SweepProgress",
    "executor_options",
    "stop_interrupted",
    "store_and_executor",
    "sweep",
    "train_with_progress",
]

STORE_FILE = "runs.sqlite"
SUMMARY_FILE = "summary.json"
FIGURE_FILE = "heatmap.png"
#: seconds between two plain progress lines when stderr is not a terminal
PLAIN_EVERY = 5.0


def stop_interrupted(stored: int, total: int, out_dir: Path) -> NoReturn:
    """After Ctrl-C (the store holding whole batches only): say how many runs are stored
    and the command that resumes, and exit 130."""
    from initlab.cli.app import invocation

    command = "initlab " + " ".join(shlex.quote(arg) for arg in invocation())
    click.echo(
        f"initlab: interrupted; {stored} of {total} runs are stored in {out_dir}; "
        f"resume with: {command}",
        err=True,
    )
    raise click.exceptions.Exit(130)


class SweepProgress:
    """Runs done, running and diverged: a rich bar with ETA on a terminal's stderr, a plain
    line every :data:`PLAIN_EVERY` seconds otherwise, nothing with ``quiet``."""

    def __init__(self, total: int, done: int, quiet: bool) -> None:
        self.total, self.done, self.quiet = total, done, quiet
        self.running = self.diverged = 0
        self.console = Console(stderr=True, highlight=False)
        self.last = time.monotonic()
        self.bar = None
        if not quiet and self.console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                "runs", BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[state]}"), TimeRemainingColumn(),
                console=self.console,
            )  # fmt: skip
            self.task = self.bar.add_task("runs", total=total, completed=done, state="")
            self.bar.start()

    def _state(self) -> str:
        return f"{self.running} running, {self.diverged} diverged"

    def start(self, batch: Any) -> None:
        self.running += len(batch.runs)
        self._show()

    def update(self, batch: Any, records: Any) -> None:
        self.running -= len(batch.runs)
        self.done += len(records)
        self.diverged += sum(bool(r.metrics["diverged"]) for r in records)
        self._show(force=self.done == self.total)

    def _show(self, force: bool = False) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done, state=self._state())
        elif not self.quiet and (force or time.monotonic() - self.last >= PLAIN_EVERY):
            self.last = time.monotonic()
            self.console.print(f"{self.done} of {self.total} runs done, {self._state()}",
                               markup=False)  # fmt: skip

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def train_with_progress(
    train: Callable[..., Iterable[object]],
    store: Any,
    total: int,
    done: int,
    quiet: bool,
    out_dir: Path,
) -> None:
    """Run ``train(on_batch=..., on_start=...)`` (the batches still to train) to its end
    with a :class:`SweepProgress` of ``total`` runs, ``done`` of them already stored; on
    Ctrl-C stop it and exit as :func:`stop_interrupted` does."""
    progress = SweepProgress(total, done, quiet)
    try:
        for _ in train(on_batch=progress.update, on_start=progress.start):
            pass
    except KeyboardInterrupt:
        progress.stop()
        stop_interrupted(len(store), total, out_dir)
    progress.stop()


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def summary_table(groups: list[dict[str, Any]], by: list[str], threshold: float | None) -> Table:
    """One row per group: its settings, runs, diverged, mean [95% CI] and median of the test
    accuracy and final cost, and with a threshold the fraction reaching it and the
    median iterations to it."""
    title = Text("Per configuration (mean [bootstrap 95% CI]; median)")
    table = Table(title=title, title_justify="left")
    for name in by:
        table.add_column(Text(name.replace("_", " ")))
    names = ["runs", "diverged", "test acc.", "final cost"]
    if threshold is not None:
        names += [f"cost < {threshold:g}", "iterations to it (median)"]
    for name in names:
        table.add_column(Text(name), justify="right")
    for g in groups:
        cells = [(",".join(map(str, g[k])) or "none") if isinstance(g[k], list) else str(g[k])
                 for k in by]  # fmt: skip
        cells += [str(g["runs"]), f"{100 * (g['fraction_diverged'] or 0):.0f}%"]
        for metric in ("test_accuracy", "final_cost"):
            s = g[metric]
            cells.append(f"{_fmt(s['mean'])} [{_fmt(s['ci_low'])}, {_fmt(s['ci_high'])}]; "
                         f"{_fmt(s['median'])}")  # fmt: skip
        if threshold is not None:
            cells += [f"{100 * g['fraction_reached']:.0f}%",
                      _fmt(g["iterations_to_threshold"]["median"])]  # fmt: skip
        table.add_row(*(Text(cell) for cell in cells))
    return table


def executor_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--workers``, ``--scheduler`` and ``--dask-local`` (where the batches train)."""
    options = [
        click.option("--workers", type=POSITIVE_INT, default=None,
                     help="Train the batches on this many local processes (default: in "
                     "this process, the engine using every core)."),
        click.option("--scheduler", metavar="ADDRESS", default=None,
                     help="Train the batches on the Dask cluster of this scheduler "
                     "(tcp://HOST:PORT; needs initlab[dask])."),
        click.option("--dask-local", type=POSITIVE_INT, default=None, metavar="N",
                     help="Start a Dask LocalCluster of N worker processes and train on it "
                     "(needs initlab[dask])."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


@contextlib.contextmanager
def store_and_executor(
    out_dir: Path,
    spec_hash: str,
    workers: int | None,
    scheduler: str | None,
    dask_local: int | None,
) -> Iterator[tuple[Store, Any]]:
    """The result store of ``spec_hash`` in ``out_dir`` and the executor of the options,
    in the order that writes nothing on failure: an existing store is opened (and checked)
    first, then the executor started (an unreachable scheduler fails here), and only then
    a new store created."""
    from initlab.sweep.executors import make_executor
    from initlab.sweep.store import STORE_FILENAME, Store

    store = Store.open(out_dir, spec_hash) if (out_dir / STORE_FILENAME).exists() else None
    try:
        with make_executor(workers, scheduler, dask_local) as executor:
            if store is None:
                store = Store.open(out_dir, spec_hash)
            yield store, executor
    finally:
        if store is not None:
            store.close()


@click.command("sweep", short_help="A grid of trainings over many seeds, from a TOML file.")
@click.argument("spec_path", metavar="SPEC.toml", type=click.Path(path_type=Path))
@out_option(Path("initlab-out") / "sweep")
@executor_options
@click.option("--threshold", type=float, default=None,
              help="Also report, per configuration, the fraction of runs whose cost falls "
              "below this value and the iterations it takes them.")  # fmt: skip
@click.option("--yes", is_flag=True, help="Run a sweep of more than 100,000 runs.")
@quiet_option
def sweep(
    spec_path: Path,
    out_dir: Path,
    workers: int | None,
    scheduler: str | None,
    dask_local: int | None,
    threshold: float | None,
    yes: bool,
    quiet: bool,
) -> None:
    """Train every configuration of the sweep file SPEC.toml from every seed (the grammar:
    docs/sweep.md), runs sharing a training together on the population engine, then
    summarize per configuration: mean, median and bootstrap 95% CI of the final cost and
    accuracies, the fraction diverged (and reaching --threshold).

    Every run is stored, as its batch finishes, in --out's runs.sqlite: run the same
    command again to resume after a stop (Ctrl-C or a crash); finished runs are not
    trained again, and the results are bitwise those of an uninterrupted sweep, whatever
    the executor. Also writes summary.json and, with two or more swept settings,
    heatmap.png (the first two). `initlab results DIR` reads the store again.
    """
    from initlab.results import json_bytes
    from initlab.sweep.figures import sweep_figure
    from initlab.sweep.grammar import load_spec
    from initlab.sweep.plan import check_batches, pending, run_batches
    from initlab.sweep.summary import sweep_pairs, sweep_summary

    if threshold is not None and threshold != threshold:
        raise click.BadParameter("must be a number, got nan", param_hint="'--threshold'")
    try:
        spec = load_spec(spec_path, max_runs=None if yes else 100_000)
    except TypeError as error:
        raise click.UsageError(f"{spec_path}: {error}") from None
    except ValueError as error:
        raise ValueError(f"{spec_path}: {error}") from None
    check_outputs(out_dir, [STORE_FILE, SUMMARY_FILE, FIGURE_FILE], None)
    batches = spec.batches()
    try:
        check_batches(batches)
    except ValueError as error:
        raise ValueError(f"{spec_path}: {error}") from None
    by = spec.varying_columns
    with store_and_executor(out_dir, spec.hash, workers, scheduler, dask_local) as (
        store,
        executor,
    ):
        todo = pending(batches, store)
        left = sum(len(b.runs) for b in todo)
        total = spec.n_runs
        if not quiet:
            stdout.print(
                f"Sweeping {len(spec.points())} configuration(s) x {len(spec.seeds)} "
                f"seed(s): {total} runs in {len(batches)} batches ({total - left} already "
                f"stored in {out_dir})",
                markup=False,
            )
        training = partial(run_batches, batches, store, executor)
        train_with_progress(training, store, total, total - left, quiet, out_dir)
        frame = store.frame(costs=True)
    groups = sweep_summary(frame, by, threshold)
    document = with_provenance({
        "experiment": "sweep",
        "spec": spec.as_dict(),
        "spec_hash": spec.hash,
        "threshold": threshold,
        "group_by": by,
        "groups": groups,
        "paired": sweep_pairs(frame, by, threshold),
    })  # fmt: skip
    if not quiet:
        print_table(summary_table(groups, by, threshold))
    diverged = sum(g["runs"] * (g["fraction_diverged"] or 0) for g in groups)
    if diverged:
        warn(f"{round(diverged)} of the {len(frame)} runs diverged")
    writers = [("summary", lambda: (out_dir / SUMMARY_FILE, json_bytes(document)))]
    if len(by) >= 2:
        x, y = by[0], by[1]
        writers.append(
            ("heatmap", figure_writer(out_dir / FIGURE_FILE,
                                      lambda: sweep_figure(frame, x, y, threshold)))
        )  # fmt: skip
    write_outputs(with_report(writers, out_dir, stored_runs=True), quiet)
