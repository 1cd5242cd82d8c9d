"""The bare `initlab` takes the course's options: `initlab -q` is `initlab course -q`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from badinput import assert_one_line_error, files_under, run_cli
from initlab import __version__
from initlab.cli.commands import COMMANDS


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


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_bare_initlab_imports_no_other_commands_module(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    argv = ["-q", "--iterations", "2", "--engine", "reference", "--out", str(out)]
    modules = json.loads(_python(
        f"import json, sys\nfrom initlab.cli import main\nassert main({argv!r}) == 0\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('initlab.cli.'))))"
    ))  # fmt: skip
    own = {"initlab.cli.course", "initlab.cli.train"}  # course runs train's pipeline
    others = {where.split(":")[0] for where in COMMANDS.values()} - own
    assert own <= set(modules) and not others & set(modules), modules
    assert (out / "decision_boundaries.png").is_file()
    code, stdout, _ = run_cli(capsys, "--help")  # the help lists every command
    listed = stdout.split("Commands:", 1)[1]
    assert code == 0 and all(f"  {name} " in listed for name in COMMANDS)


def test_only_the_initlab_command_freezes_the_objects_it_keeps() -> None:
    count = "from initlab.cli import main\nassert main(['inits']) == 0\nimport gc\n"
    count += "print('FROZEN', gc.get_freeze_count())"
    as_library = _python(count).split("FROZEN")[1]
    as_command = _python("import sys\nsys.argv[0] = 'initlab'\n" + count).split("FROZEN")[1]
    assert int(as_library) == 0 < int(as_command)
