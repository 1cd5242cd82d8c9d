"""`initlab course` end to end, and every bad input it must refuse."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from initlab.cli import main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def default_run(tmp_path_factory) -> tuple[Path, str]:
    """`initlab` with no arguments in an empty directory (the README's main job)."""
    cwd = tmp_path_factory.mktemp("default")
    proc = subprocess.run(
        [sys.executable, "-m", "initlab"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return cwd / "initlab-out", proc.stdout


def test_default_run_writes_figures_and_results(default_run, course_expected) -> None:
    out, _ = default_run
    assert (out / "costs.png").stat().st_size > 10_000
    assert (out / "decision_boundaries.png").stat().st_size > 10_000
    document = json.loads((out / "results.json").read_text())
    assert document["experiment"] == "course"
    assert document["config"]["iterations"] == 15000
    assert document["config"]["learning_rate"] == 0.01
    assert [run["init"] for run in document["runs"]] == ["zeros", "random", "he"]
    runs = {run["init"]: run for run in document["runs"]}
    for init, run in runs.items():
        expected = course_expected["runs"][init]
        assert run["train_accuracy"] == expected["train_accuracy"]
        assert run["test_accuracy"] == expected["test_accuracy"]
        assert run["diverged"] is False
        assert [c["iteration"] for c in run["costs"]] == list(range(0, 15000, 1000))
    for point in runs["he"]["costs"]:
        reference = course_expected["runs"]["he"]["costs"][str(point["iteration"])]
        assert abs(point["cost"] - reference) < 1e-9
    assert all(abs(c["cost"] - math.log(2)) < 1e-12 for c in runs["zeros"]["costs"])
    assert runs["random"]["costs"][0]["cost"] > 100  # finite, not the course's inf
    assert runs["he"]["final_cost"] < runs["random"]["final_cost"] < runs["zeros"]["final_cost"]


def test_default_run_prints_costs_and_table(default_run) -> None:
    _, stdout = default_run
    assert "[he] Cost after iteration 14000: 0.07357895962" in stdout
    assert "[zeros] Cost after iteration 0: 0.693147180559945" in stdout
    assert "0.993333" in stdout and "0.96" in stdout
    assert "inf" not in stdout


def test_options_select_inits_and_schedule(tmp_path, capsys) -> None:
    code, out, err = run_cli(
        capsys,
        "course",
        "--init",
        "he",
        "--init",
        "zeros",
        "--iterations",
        "30",
        "--print-every",
        "10",
        "--learning-rate",
        "0.05",
        "--out",
        str(tmp_path),
        "--quiet",
        "--json",
        str(tmp_path / "copy" / "r.json"),
    )
    assert code == 0, err
    assert out == ""
    document = json.loads((tmp_path / "results.json").read_text())
    assert json.loads((tmp_path / "copy" / "r.json").read_text()) == document
    assert [run["init"] for run in document["runs"]] == ["he", "zeros"]
    assert [c["iteration"] for c in document["runs"][0]["costs"]] == [0, 10, 20]
    assert document["config"]["learning_rate"] == 0.05


def test_divergence_warns_and_still_writes_everything(tmp_path, capsys) -> None:
    code, out, err = run_cli(
        capsys, "course", "--learning-rate", "1e300", "--iterations", "40", "--out", str(tmp_path)
    )
    assert code == 0
    assert "warning: run 'he' diverged at iteration" in err
    document = json.loads((tmp_path / "results.json").read_text())
    he = {run["init"]: run for run in document["runs"]}["he"]
    assert he["diverged"] is True
    assert isinstance(he["diverged_at"], int)
    assert he["train_accuracy"] is None
    assert (tmp_path / "costs.png").exists() and (tmp_path / "decision_boundaries.png").exists()
    assert "diverged at iteration" in out


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["course", "--init", "xavier"], ["'xavier'", "he", "random", "zeros"]),
        (["course", "--iterations", "abc"], ["--iterations", "'abc'"]),
        (["course", "--iterations", "0"], ["--iterations", "0", ">=1"]),
        (["course", "--iterations", "-5"], ["--iterations", "-5"]),
        (
            ["course", "--learning-rate", "fast"],
            ["--learning-rate", "must be a positive finite number, got fast"],
        ),
        (
            ["course", "--learning-rate", "0"],
            ["--learning-rate", "must be a positive finite number, got 0"],
        ),
        (
            ["course", "--learning-rate", "-0.1"],
            ["--learning-rate", "must be a positive finite number, got -0.1"],
        ),
        (
            ["course", "--learning-rate", "nan"],
            ["--learning-rate", "must be a positive finite number, got nan"],
        ),
        (
            ["course", "--learning-rate", "inf"],
            ["--learning-rate", "must be a positive finite number, got inf"],
        ),
        (["course", "--print-every", "0"], ["--print-every", "0"]),
        (["course", "--print-every", "x"], ["--print-every", "'x'"]),
        (["frobnicate"], ["'frobnicate'", "course"]),
        (["course", "--no-such-flag"], ["--no-such-flag"]),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, argv, fragments) -> None:
    code, _, err = run_cli(
        capsys, *argv, *(["--out", str(tmp_path)] if argv[0] == "course" else [])
    )
    assert code == 2
    assert err.startswith("initlab: error: ")
    assert err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err
    assert not (tmp_path / "results.json").exists()


def test_out_that_is_a_file_is_refused(tmp_path, capsys) -> None:
    target = tmp_path / "taken"
    target.write_text("keep me")
    code, _, err = run_cli(capsys, "course", "--iterations", "5", "--out", str(target))
    assert code == 2
    assert "existing file" in err and str(target) in err and err.count("\n") == 1
    assert target.read_text() == "keep me"


def test_out_that_cannot_be_created_is_refused(tmp_path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run_cli(capsys, "course", "--iterations", "5", "--out", str(blocker / "sub"))
    assert code == 2
    assert "cannot create directory" in err and err.count("\n") == 1


def test_json_that_is_a_directory_is_refused(tmp_path, capsys) -> None:
    code, _, err = run_cli(
        capsys, "course", "--iterations", "5", "--out", str(tmp_path / "o"), "--json", str(tmp_path)
    )
    assert code == 2
    assert "--json" in err and "is a directory" in err and err.count("\n") == 1
    assert not (tmp_path / "o" / "results.json").exists()


def test_console_script_reports_errors_without_traceback(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "initlab", "course", "--init", "nope", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("initlab: error: ")


def test_help_documents_every_option(capsys) -> None:
    code, out, _ = run_cli(capsys, "course", "--help")
    assert code == 0
    for option in [
        "--init",
        "--iterations",
        "--learning-rate",
        "--print-every",
        "--out",
        "--json",
        "--quiet",
    ]:
        assert option in out
