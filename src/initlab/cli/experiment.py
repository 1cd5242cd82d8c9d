"""``initlab experiment NAME``: a published claim about initialization, reproduced and checked."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from initlab.cli.options import quiet_option
from initlab.cli.output import (
    figure_writer,
    print_table,
    stdout,
    with_provenance,
    write_outputs,
)
from initlab.cli.paths import check_outputs, out_option
from initlab.report import with_report

__all__ = ["experiment"]

RESULT_FILE = "experiment.json"
FIGURE_FILE = "experiment.png"


def _experiments_help() -> str:
    from initlab.experiments.published import EXPERIMENTS

    lines = ["\b", "Experiments:"]
    for name, run in EXPERIMENTS.items():
        summary = (run.__doc__ or "").strip().splitlines()[0]
        lines.append(f"  {name}: {summary}")
    return "\n".join(lines)


@click.command(
    "experiment",
    epilog=_experiments_help(),
    short_help="Reproduce a published claim and check it (PASS/FAIL).",
)
@click.argument("name")
@click.option("--quick", is_flag=True, help="A smaller instance of the same claim (seconds).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the inputs and weights.")  # fmt: skip
@out_option(Path("initlab-out") / "experiment")
@quiet_option
def experiment(name: str, quick: bool, seed: int, out_dir: Path, quiet: bool) -> None:
    """Run experiment NAME, print each claim's expected and measured value with PASS or
    FAIL, and write experiment.json and experiment.png (the curves behind the claims: per
    layer, measured solid and mean-field prediction dashed, or per iteration) and
    report.html (all of it on one page) into --out.
    Exits 1 if a check fails."""
    from initlab.experiments.published import run_experiment
    from initlab.plots import plot_layer_std, plot_series
    from initlab.results import json_bytes

    check_outputs(out_dir, [RESULT_FILE, FIGURE_FILE], None)
    result = run_experiment(name, seed=seed, quick=quick)
    if not quiet:
        stdout.print(f"{result.name}: {result.description}", markup=False)
        table = Table(title=Text("Checks"), title_justify="left")
        for column in ("claim", "expected", "measured", "tolerance", "result"):
            table.add_column(Text(column), justify="left" if column == "claim" else "right")
        for check in result.checks:
            table.add_row(
                Text(check.claim), Text(f"{check.expected:.3g}"), Text(f"{check.measured:.3g}"),
                Text(check.tolerance), Text("PASS" if check.passed else "FAIL"),
            )  # fmt: skip
        print_table(table)

    def figure():  # type: ignore[no-untyped-def]
        from matplotlib.figure import Figure

        if result.draw is not None:
            fig = Figure(figsize=(11, 4.4), layout="constrained")
            result.draw(fig, result)
            return fig
        fig = Figure(figsize=(7, 4.4), layout="constrained")
        ax = fig.subplots()
        curves = [(label, m, p) for label, (m, p) in result.curves.items()]
        if result.xlabel == "layer":
            plot_layer_std(ax, curves, title=result.name, ylabel=result.ylabel)
        else:
            plot_series(ax, curves, title=result.name, xlabel=result.xlabel, ylabel=result.ylabel)
        return fig

    document = with_provenance(result.as_dict())
    writers = [
        ("results", lambda: (out_dir / RESULT_FILE, json_bytes(document))),
        ("figure", figure_writer(out_dir / FIGURE_FILE, figure)),
    ]
    write_outputs(with_report(writers, out_dir), quiet)
    failed = [check for check in result.checks if not check.passed]
    if failed:
        details = "; ".join(
            f"{c.claim} (expected {c.expected:.3g}, measured {c.measured:.3g})" for c in failed
        )
        raise click.ClickException(
            f"{len(failed)} of {len(result.checks)} checks of {result.name} failed: {details}"
        )
