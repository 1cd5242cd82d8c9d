"""Outputs are replaced whole, and a failure to write is an error, never a silent success."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from badinput import run_cli
from initlab.results import write_json

COURSE = ("course", "--iterations", "2", "--print-every", "1", "--engine", "reference", "-q")


def _error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("initlab: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_results_are_replaced_by_a_new_file_not_rewritten_in_place(tmp_path: Path, capsys) -> None:
    """A rename puts a new file (a new inode) in place; a reader holding the old file (here a
    hard link) keeps the old, complete document instead of seeing it truncated and rewritten."""
    out, copy = tmp_path / "out", tmp_path / "copy.json"
    code, _, stderr = run_cli(
        capsys, *COURSE, "--init", "zeros", "--out", str(out), "--json", str(copy)
    )
    assert code == 0, stderr
    results = out / "results.json"
    old = {path: path.read_text() for path in (results, copy)}
    for path in (results, copy):
        os.link(path, tmp_path / f"{path.name}.old")
    inodes = {path: path.stat().st_ino for path in (results, copy)}
    code, _, stderr = run_cli(
        capsys, *COURSE, "--init", "he", "--out", str(out), "--json", str(copy)
    )
    assert code == 0, stderr
    for path in (results, copy):
        assert path.stat().st_ino != inodes[path], path
        assert (tmp_path / f"{path.name}.old").read_text() == old[path]
        assert json.loads(path.read_text())["runs"][0]["init"] == "he"
        assert json.loads(old[path])["runs"][0]["init"] == "zeros"


def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    """``json.dump`` streams: a value it refuses (NaN, with ``allow_nan=False``) after many
    others fails the write half way. The old file must be untouched, no temporary left."""
    path = tmp_path / "results.json"
    write_json(path, {"runs": [1, 2, 3]})
    before = path.read_text()
    with pytest.raises(ValueError):
        write_json(path, {"runs": [*range(20000), float("nan")]})
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_an_output_that_cannot_be_written_fails_the_command(tmp_path: Path, capsys) -> None:
    """``out/results.json`` is a directory: the run cannot write it, so it must not exit 0."""
    out = tmp_path / "out"
    (out / "results.json").mkdir(parents=True)
    code, _, stderr = run_cli(capsys, *COURSE, "--init", "he", "--out", str(out))
    assert code != 0
    assert "results" in _error_line(stderr)


def test_an_os_error_is_one_line_and_a_failure_exit_code(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """A full disk (or any OSError) during a command: one line naming it, exit status not 0."""
    import initlab.datasets as datasets

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(datasets, "course_circles", full_disk)  # reading the data
    code, _, stderr = run_cli(capsys, *COURSE, "--init", "he", "--out", str(tmp_path / "out"))
    assert code != 0
    assert "No space left on device" in _error_line(stderr)


def test_a_disk_full_while_writing_fails_the_command_and_keeps_the_old_outputs(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """The write itself fails (ENOSPC on the temporary file): exit 1, one line naming the
    output, and the previous outputs untouched."""
    import initlab.outputs as outputs

    out = tmp_path / "out"
    assert run_cli(capsys, *COURSE, "--init", "he", "--out", str(out))[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs, "_write_temp", full_disk)
    code, _, stderr = run_cli(capsys, *COURSE, "--init", "zeros", "--out", str(out))
    assert code == 1
    assert "No space left on device" in _error_line(stderr)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
