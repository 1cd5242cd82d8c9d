"""The bare `initlab` takes the course's options: `initlab -q` is `initlab course -q`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from badinput import assert_one_line_error, files_under, run_cli
from initlab import __version__


@pytest.mark.parametrize(
    "options",
    [
        ["-q"],
        ["--init", "he", "--print-every", "1"],
        ["--iterations", "3", "--init", "zeros", "--init", "random", "--engine", "reference"],
    ],
)
def test_bare_options_run_the_course(tmp_path: Path, capsys, options: list[str]) -> None:
    settings = ["--iterations", "3"] if "--iterations" not in options else []
    outputs = {}
    for name, prefix in (("bare", []), ("course", ["course"])):
        out = tmp_path / name
        argv = [*prefix, *options, *settings, "--out", str(out)]
        code, stdout, stderr = run_cli(capsys, *argv)
        assert code == 0, stderr
        document = json.loads((out / "results.json").read_text())
        provenance = document.pop("provenance")  # the command line that made it
        assert provenance["argv"] == argv and provenance["command"].startswith("initlab ")
        outputs[name] = (stdout.replace(str(out), "OUT"), stderr, json.dumps(document))
        assert sorted(p.name for p in files_under(out)) == [
            "costs.png", "decision_boundaries.png", "report.html", "results.json"
        ]  # fmt: skip
    assert outputs["bare"] == outputs["course"]
    if "-q" in options or "--quiet" in options:
        assert outputs["bare"][0] == ""
    inits = [r["init"] for r in json.loads(outputs["bare"][2])["runs"]]
    expected = [options[i + 1] for i, o in enumerate(options) if o == "--init"]
    assert inits == (expected or ["zeros", "random", "he"])


def test_help_and_version_stay_the_groups(capsys) -> None:
    code, stdout, _ = run_cli(capsys, "--help")
    assert code == 0 and "Commands:" in stdout and "course" in stdout
    code, stdout, _ = run_cli(capsys, "-h")
    assert code == 0 and "Commands:" in stdout
    code, stdout, _ = run_cli(capsys, "--version")
    assert code == 0 and stdout.strip() == f"initlab, version {__version__}"
    # an option then --help: the course's help
    code, stdout, _ = run_cli(capsys, "-q", "--help")
    assert code == 0 and "Reproduce the deeplearning.ai" in stdout


def test_unknown_bare_option_is_the_courses_error(tmp_path: Path, capsys) -> None:
    code, stdout, stderr = run_cli(capsys, "--bogus", "--out", str(tmp_path / "o"))
    assert_one_line_error(code, stderr, "--bogus")
    assert stdout == "" and files_under(tmp_path) == []
