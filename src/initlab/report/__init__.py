"""``report.html``: every result of a folder in one self-contained page.

:func:`write_report` builds it from what a command wrote in its output folder (the
results files, the figures, a sweep's store: :mod:`initlab.report.sources`) and writes
it atomically (:func:`initlab.outputs.write_files`). :func:`with_report` adds it to the
outputs a command is about to write, so it is written all or nothing with them.

A command hooks in with one line, either
``write_outputs(with_report(writers, out_dir), ...)`` (atomic with its outputs; a
command whose results are a store passes ``stored_runs=True``) or ``write_report(out_dir)``
once its outputs are written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from initlab.report.provenance import command_line, provenance
from initlab.report.sources import Sources, collect

__all__ = [
    "REPORT_FILE",
    "Sources",
    "build_report",
    "collect",
    "command_line",
    "provenance",
    "with_report",
    "write_report",
]

REPORT_FILE = "report.html"

Render = Callable[[], tuple[Path, bytes]]


def build_report(
    folder: str | os.PathLike[str],
    files: dict[str, bytes] | None = None,
    *,
    stored_runs: bool = True,
) -> bytes:
    """The UTF-8 page for the outputs of ``folder`` (or for ``files``, name -> content, the
    outputs being written there; see :func:`initlab.report.sources.collect`), with the
    runs of its store unless ``stored_runs`` is false.

    Raises ``ValueError`` if there are no results to show."""
    from initlab.report.html import build_html

    sources = collect(folder, files, stored_runs=stored_runs)
    if sources.empty:
        unread = f" ({'; '.join(sources.problems)})" if sources.problems else ""
        raise ValueError(
            f"{str(folder)!r} holds no results to report (no readable results JSON file "
            f"or runs.sqlite){unread}; run a command with --out there first"
        )
    return build_html(sources).encode("utf-8")


def write_report(folder: str | os.PathLike[str]) -> Path:
    """Build ``folder/report.html`` from the results stored in ``folder`` and write it
    atomically; returns its path. Raises ``ValueError`` for a folder with no results."""
    from initlab.outputs import write_files

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{str(folder)!r} is not a directory of results")
    (written,) = write_files([(folder / REPORT_FILE, build_report(folder))])
    return written


def with_report(
    writers: Sequence[tuple[str, Render]],
    out_dir: str | os.PathLike[str],
    *,
    stored_runs: bool = False,
) -> list[tuple[str, Render]]:
    """``writers`` (label, render) and one more, the report of ``out_dir``, built from
    what the others render into ``out_dir`` (figures and results files of this run only)
    and, with ``stored_runs``, the runs of the folder's store, read from disk (a command
    that stores its runs there). The report's render must come last: it uses theirs."""
    folder = Path(os.path.abspath(out_dir))
    rendered: dict[str, bytes] = {}

    def capture(render: Render) -> Render:
        def wrapped() -> tuple[Path, bytes]:
            path, content = render()
            if Path(os.path.abspath(path)).parent == folder:
                rendered[Path(path).name] = content
            return path, content

        return wrapped

    def report() -> tuple[Path, bytes]:
        return Path(out_dir) / REPORT_FILE, build_report(folder, rendered, stored_runs=stored_runs)

    return [*((label, capture(render)) for label, render in writers), ("report", report)]
