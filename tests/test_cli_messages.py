"""Messages name the option the user typed; a standard output that cannot be written loses
nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from badinput import assert_one_line_error, files_under, run_cli


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--weight-decay", "nan"], ["--weight-decay", "finite number >= 0", "nan"]),
        (["--weight-decay", "-1"], ["--weight-decay", "got -1"]),
        (["--batch-size", "100000"], ["--batch-size 100000 is larger than the 224"]),
    ],
)
def test_train_options_are_named_in_their_errors(tmp_path: Path, capsys, args, names):
    out = tmp_path / "out"
    code, _, stderr = run_cli(capsys, "train", *args, "--out", str(out))
    assert_one_line_error(code, stderr, *names)
    assert files_under(out) == []


@pytest.mark.parametrize(
    ("name", "hint"),
    [("trian", "did you mean 'train'?"), ("Course", "did you mean 'course'?"), ("xyz", "")],
)
def test_an_unknown_command_gets_the_closest_one_and_every_choice(capsys, name, hint):
    code, _, stderr = run_cli(capsys, name)
    assert_one_line_error(code, stderr, f"unknown command {name!r}", hint, "choose one of:",
                          "course", "train", "sweep")  # fmt: skip
    assert ("did you mean" in stderr) == bool(hint)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_standard_output_still_writes_every_file(tmp_path: Path):
    out = tmp_path / "out"
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "initlab", "course", "--iterations", "5", "--out", str(out)],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=300,
            env={**os.environ, "MPLBACKEND": "Agg"},
        )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "initlab: error: could not write to standard output (No space left on device); "
        "the run went on and wrote its files"
    ]
    assert len(json.loads((out / "results.json").read_text())["runs"]) == 3
    assert (out / "costs.png").stat().st_size > 0
