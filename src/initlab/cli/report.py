"""``initlab report DIR``: rebuild DIR/report.html from the results stored there."""

from __future__ import annotations

from pathlib import Path

import click

from initlab.cli.options import quiet_option
from initlab.cli.output import stdout
from initlab.cli.paths import OutputPathType, check_out_dir

__all__ = ["report"]


@click.command("report", short_help="Rebuild report.html from the results in a folder.")
@click.argument("folder", type=OutputPathType())
@quiet_option
def report(folder: Path, quiet: bool) -> None:
    """Rebuild FOLDER/report.html from the results stored in FOLDER (the --out of course,
    train, diagnose, experiment or compare): one self-contained page with the
    configuration, the results, the flags and per-layer statistics, every figure, the
    statistics of stored runs and how to reproduce them. It opens offline."""
    from initlab.report import REPORT_FILE, write_report

    # where report.html goes is checked as every command checks its --out, before reading
    check_out_dir(folder, [REPORT_FILE], option="FOLDER")
    path = write_report(folder)
    if not quiet:
        stdout.print(f"wrote report: {path}", markup=False)
