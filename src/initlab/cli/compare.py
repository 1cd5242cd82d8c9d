"""``initlab compare``: initializations over many seeds, with honest statistics.

The command takes every option of ``initlab train`` (with the course's setting as
defaults) and ``--seeds N``; runs are stored as they finish in ``--out``'s
``runs.sqlite``, so a command that is stopped resumes where it stopped.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from initlab.cli.options import POSITIVE_INT, quiet_option, sizes_as_options
from initlab.cli.output import (
    figure_writer,
    print_table,
    stdout,
    warn,
    with_provenance,
    write_outputs,
)
from initlab.cli.paths import check_outputs, out_option
from initlab.cli.sweep import (
    executor_options,
    store_and_executor,
    train_with_progress,
)
from initlab.cli.train import config_from_options, train, train_option
from initlab.report import with_report

__all__ = ["compare"]

STORE_FILE = "runs.sqlite"
SUMMARY_FILE = "summary.json"
FIGURE_FILE = "comparison.png"

#: ``initlab compare`` alone: the course's setting
COURSE_SETTING = {
    "dataset": "course_circles",
    "hidden": "10,5",
    "activation": "relu",
    "optimizer": "gd",
    "learning_rate": 0.01,
    "iterations": 15000,
}
#: train options that compare does not take (it writes its own outputs, trains on the engine)
NOT_INHERITED = {"print_every", "engine", "out_dir", "json_path", "quiet"}


def _inherited_options() -> list[click.Parameter]:
    """``initlab train``'s options, with the course's setting as defaults."""
    return [
        train_option(
            p.name, **({"default": COURSE_SETTING[p.name]} if p.name in COURSE_SETTING else {})
        )
        for p in train.params
        if p.name not in NOT_INHERITED
    ]


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _ci(entry: dict | None, digits: int = 4) -> str:
    if entry is None:
        return "-"
    return (
        f"{_fmt(entry['mean'], digits)} [{_fmt(entry['ci_low'], digits)}, "
        f"{_fmt(entry['ci_high'], digits)}]"
    )


def _add_row(table: Table, *cells: str) -> None:
    """A row of plain text (no markup: initializer specs are the user's)."""
    table.add_row(*(Text(cell) for cell in cells))


def groups_table(groups: list[dict[str, Any]]) -> Table:
    title = Text("Per initialization (mean [bootstrap 95% CI]; median)")
    table = Table(title=title, title_justify="left")
    for name in ("initialization", "runs", "diverged", "test acc.", "train acc.",
                 "final cost", "median cost"):  # fmt: skip
        table.add_column(name, justify="left" if name == "initialization" else "right")
    for g in groups:
        cost = g["final_cost"]
        _add_row(
            table, g["init"], str(g["runs"]), f"{100 * (g['fraction_diverged'] or 0):.0f}%",
            _ci(g["test_accuracy"]), _ci(g["train_accuracy"]), _ci(cost),
            _fmt(cost["median"]) if cost else "-",
        )  # fmt: skip
    return table


def paired_table(paired: list[dict[str, Any]]) -> Table:
    title = Text("Paired on shared seeds (a - b; a wins: a better)")
    table = Table(title=title, title_justify="left")
    for name in ("a", "b", "metric", "n", "a wins", "mean a - b [95% CI]", "Wilcoxon p"):
        table.add_column(Text(name), justify="left" if name in ("a", "b", "metric") else "right")
    for p in paired:
        _add_row(
            table, p["a"], p["b"], p["metric"].replace("_", " "), str(p["n"]),
            _fmt(p["a_wins"], 3),
            f"{_fmt(p['mean_difference'])} [{_fmt(p['ci_low'])}, {_fmt(p['ci_high'])}]",
            _fmt(p["wilcoxon_p"], 3),
        )  # fmt: skip
    return table


@click.command("compare", short_help="Initializations over many seeds, with statistics.")
@click.option(
    "--seeds",
    type=POSITIVE_INT,
    default=100,
    show_default=True,
    help="Seeds per initialization (paired: seed s gives every --init the same stream).",
)
@out_option(Path("initlab-out") / "compare")
@executor_options
@quiet_option
def compare(
    seeds: int,
    out_dir: Path,
    workers: int | None,
    scheduler: str | None,
    dask_local: int | None,
    quiet: bool,
    **options: Any,
) -> None:
    """Train every --init from --seeds seeds (the course's setting by default) and compare
    them: per initialization the mean, median and bootstrap 95% confidence interval of the
    final cost and accuracies, the fraction diverged, and every pair of initializations
    compared on the seeds they share (win rate, CI of the paired difference, Wilcoxon
    signed-rank p-value).

    Every run is stored, as its batch finishes, in --out's runs.sqlite: run the same
    command again to resume after a stop (Ctrl-C or a crash); finished runs are not
    trained again. Also writes summary.json, comparison.png (the distributions and
    the mean cost curves with 95% bands) and report.html (all of it on one page).
    --workers, --scheduler and --dask-local train the batches elsewhere, with bitwise
    the same results (see `initlab sweep`).
    """
    from initlab.experiments.train import prepare
    from initlab.results import json_bytes
    from initlab.sweep.compare import CompareSpec, pending, run_compare
    from initlab.sweep.figures import comparison_figure
    from initlab.sweep.summary import METRICS, compare_summary, curves_by_init

    config = config_from_options(**options)
    check_outputs(out_dir, [STORE_FILE, SUMMARY_FILE, FIGURE_FILE], None)
    spec = CompareSpec(config, seeds=seeds)
    with sizes_as_options():
        setup = prepare(config)
    with store_and_executor(out_dir, spec.hash, workers, scheduler, dask_local) as (
        store,
        executor,
    ):
        todo = pending(spec, store)
        total = seeds * len(config.inits)
        left = sum(len(b.runs) for b in todo)
        if not quiet:
            stdout.print(
                f"Comparing {', '.join(config.inits)} over {seeds} seeds: {total} runs of "
                f"{setup.updates} updates ({total - left} already stored in {out_dir})",
                markup=False,
            )
        training = partial(run_compare, spec, store, setup=setup, executor=executor)
        train_with_progress(training, store, total, total - left, quiet, out_dir)
        frame = store.frame(costs=True)
    summary = compare_summary(frame, config.inits)
    document = with_provenance({"experiment": "compare", "spec": spec.as_dict(), **summary})
    if not quiet:
        print_table(groups_table(summary["groups"]))
        if summary["paired"]:
            print_table(paired_table(summary["paired"]))
    for group in summary["groups"]:
        if group["fraction_diverged"]:
            warn(f"{100 * group['fraction_diverged']:.0f}% of the {group['init']!r} runs diverged")
    values = {
        init: {m: frame[frame["init"] == init].sort_values("seed_index")[m].to_numpy(float)
               for m in METRICS}
        for init in config.inits
    }  # fmt: skip
    curves = curves_by_init(frame, config.inits)
    writers = [
        ("summary", lambda: (out_dir / SUMMARY_FILE, json_bytes(document))),
        ("figure", figure_writer(
            out_dir / FIGURE_FILE,
            lambda: comparison_figure(values, curves, ["test_accuracy", "final_cost"]),
        )),
    ]  # fmt: skip
    write_outputs(with_report(writers, out_dir, stored_runs=True), quiet)


compare.params[:0] = _inherited_options()
