"""What a report is built from: the results files, figures and stored runs of a folder.

Nothing here knows one command's layout: every ``*.json`` file of the folder holding a
JSON object is a results document, every ``*.png`` a figure, and a ``runs.sqlite``
store (:func:`initlab.results.load`) the runs of a comparison or sweep.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["KNOWN_DOCUMENTS", "Sources", "collect"]

#: results files in the order a report shows them (any other ``*.json`` comes after)
KNOWN_DOCUMENTS = ("results.json", "diagnostics.json", "experiment.json", "summary.json")
STORE_FILE = "runs.sqlite"
MAX_DOCUMENT_BYTES = 64 * 2**20  # a larger JSON file is not a results file of initlab's


@dataclass
class Sources:
    """A folder's outputs: ``documents`` (file name -> parsed JSON object), ``figures``
    (file name -> PNG bytes), ``runs`` (the store's runs as a DataFrame, or ``None``),
    ``problems`` (files that could not be read, with the reason) and ``older``, the
    figures read from disk that were written before the newest results file (a command
    writes its results first, then its figures: these are likely an earlier run's)."""

    folder: Path
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    figures: dict[str, bytes] = field(default_factory=dict)
    runs: Any = None
    problems: list[str] = field(default_factory=list)
    older: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.documents and self.runs is None


def _order(name: str) -> tuple[int, str]:
    return (KNOWN_DOCUMENTS.index(name) if name in KNOWN_DOCUMENTS else len(KNOWN_DOCUMENTS), name)


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        return sorted(
            (e for e in os.scandir(folder) if not e.name.startswith(".")), key=lambda e: e.name
        )
    except OSError:
        return []


def _parse(name: str, content: bytes, sources: Sources) -> None:
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, ValueError) as exc:
        sources.problems.append(f"{name}: not JSON ({exc})")
        return
    except RecursionError:  # the decoder recurses once per level of nesting
        sources.problems.append(f"{name}: not read (nested too deeply)")
        return
    if isinstance(document, dict):
        sources.documents[name] = document


def collect(
    folder: str | os.PathLike[str],
    files: Mapping[str, bytes] | None = None,
    *,
    stored_runs: bool = True,
) -> Sources:
    """The outputs of ``folder``; with ``files`` (name -> content, the outputs a command is
    writing), those are the documents and figures, and only the store (unless
    ``stored_runs`` is false) is read from disk."""
    folder = Path(folder)
    sources = Sources(folder)
    mtimes: dict[str, int] = {}
    if files is not None:
        contents = dict(files)
    else:
        contents = {}
        for entry in _entries(folder):
            suffix = Path(entry.name).suffix.lower()
            if suffix not in (".json", ".png"):
                continue
            try:
                if not entry.is_file() or entry.stat().st_size > MAX_DOCUMENT_BYTES:
                    continue
                contents[entry.name] = Path(entry.path).read_bytes()
                mtimes[entry.name] = entry.stat().st_mtime_ns
            except OSError as exc:
                sources.problems.append(f"{entry.name}: {exc.strerror or exc}")
    for name in sorted(contents, key=_order):
        suffix = Path(name).suffix.lower()
        if suffix == ".json":
            _parse(name, contents[name], sources)
        elif suffix == ".png" and contents[name][:8] == b"\x89PNG\r\n\x1a\n":
            sources.figures[name] = contents[name]
    if mtimes and sources.documents:
        newest = max(sources.documents, key=lambda name: mtimes[name])
        for name in sources.figures:
            if mtimes[name] < mtimes[newest]:
                sources.older[name] = newest
    if stored_runs and (folder / STORE_FILE).is_file():
        from initlab.results import load

        try:
            sources.runs = load(folder, costs=True)
        except (ValueError, OSError) as exc:
            sources.problems.append(f"{STORE_FILE}: {exc}")
    return sources
