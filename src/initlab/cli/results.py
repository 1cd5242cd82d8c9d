"""``initlab results DIR``: the stored runs of a comparison or sweep, summarized, filtered,
exported."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from initlab.cli.output import print_table, stdout
from initlab.cli.paths import OutputPathType, check_file_path

__all__ = ["results"]

METRICS = ("final_cost", "train_accuracy", "test_accuracy")


def _columns(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str]:
    return [] if not value else [c.strip() for c in value.split(",") if c.strip()]


def _g(value: object) -> str:
    return "-" if value is None or value != value else f"{value:.4g}"


def summary_table(summary, by: list[str], metrics: list[str]) -> Table:  # type: ignore[no-untyped-def]
    """One row per group: its keys, the number of runs, the fraction diverged, and every
    metric's mean [bootstrap 95% CI] and median."""
    table = Table(title=Text("Stored runs (mean [bootstrap 95% CI]; median)"), title_justify="left")
    for key in by:
        table.add_column(Text(key.replace("_", " ")))
    for name in ("runs", "diverged", *(f"{m.replace('_', ' ')}" for m in metrics)):
        table.add_column(Text(name), justify="right")
    for row in summary.to_dict("records"):
        cells = [str(row[key]) for key in by]
        cells += [str(row["runs"]), f"{100 * row['fraction_diverged']:.0f}%"]
        for m in metrics:
            cells.append(
                f"{_g(row[f'{m}_mean'])} [{_g(row[f'{m}_ci_low'])}, {_g(row[f'{m}_ci_high'])}]; "
                f"{_g(row[f'{m}_median'])}"
            )
        table.add_row(*(Text(cell) for cell in cells))
    return table


@click.command("results", short_help="Summarize, filter and export stored runs.")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--group-by",
    callback=_columns,
    default="init",
    show_default=True,
    metavar="COLUMNS",
    help="Comma-separated columns whose values form the groups (e.g. init,learning_rate).",
)
@click.option(
    "--where",
    metavar="EXPR",
    help="Keep the runs matching a pandas query, e.g. \"optimizer == 'adam'\" or "
    "'test_accuracy > 0.9' (evaluated by pandas on the column names).",
)
@click.option("--csv", "csv_path", type=OutputPathType(),
              help="Also write every (kept) run, one row each, to this CSV file.")  # fmt: skip
@click.option("--parquet", "parquet_path", type=OutputPathType(),
              help="Also write every (kept) run, one row each, to this Parquet file "
              "(needs the optional extra: pip install 'initlab[parquet]').")  # fmt: skip
def results(
    folder: Path,
    group_by: list[str],
    where: str | None,
    csv_path: Path | None,
    parquet_path: Path | None,
) -> None:
    """Summarize the runs stored in FOLDER (by `initlab compare` or `initlab sweep`): per
    group the number of runs, the mean, median and bootstrap 95% CI of the final cost and
    accuracies, and the fraction diverged. From Python: `initlab.results.load(FOLDER)` gives
    the runs as a pandas DataFrame."""
    from initlab.outputs import write_files
    from initlab.results import load
    from initlab.sweep.stats import group_summary

    if csv_path is not None:
        check_file_path("--csv", csv_path)
    if parquet_path is not None:
        check_file_path("--parquet", parquet_path)
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ValueError(
                "--parquet needs the optional extra: pip install 'initlab[parquet]'"
            ) from None
    frame = load(folder)
    if where:
        try:
            frame = frame.query(where)
        except Exception as exc:  # pandas raises many kinds for a bad expression
            raise ValueError(
                f"--where {where!r} is not a query on the columns ({type(exc).__name__}: "
                f"{exc}); columns: {', '.join(map(str, frame.columns))}"
            ) from None
        if frame.empty:
            raise ValueError(f"--where {where!r} keeps none of the stored runs")
    missing = [c for c in group_by if c not in frame.columns]
    if missing:
        raise ValueError(
            f"--group-by {','.join(group_by)}: no column {missing[0]!r}; columns: "
            f"{', '.join(map(str, frame.columns))}"
        )
    metrics = [m for m in METRICS if m in frame.columns]
    summary = group_summary(frame, group_by, metrics)
    print_table(summary_table(summary.reset_index(), group_by, metrics))
    if csv_path is not None:
        written = write_files([(csv_path, frame.to_csv(index=False).encode())])
        stdout.print(f"wrote runs: {written[0]}", markup=False)
    if parquet_path is not None:
        written = write_files([(parquet_path, parquet_bytes(frame))])
        stdout.print(f"wrote runs: {written[0]}", markup=False)


def parquet_bytes(frame) -> bytes:  # type: ignore[no-untyped-def]
    """``frame`` as the bytes of a Parquet file (pyarrow); tuple columns (a sweep's
    ``hidden``, ``activations``) as lists."""
    import io

    frame = frame.copy()
    for column in frame.columns:
        if frame[column].map(lambda v: isinstance(v, tuple)).any():
            frame[column] = frame[column].map(lambda v: list(v) if isinstance(v, tuple) else v)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()
