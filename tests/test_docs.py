"""The documentation's promises: its examples run, its benchmark figures are the JSON's."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from initlab.cli import main

ROOT = Path(__file__).resolve().parent.parent


def console_commands(markdown: Path) -> list[list[str]]:
    """Every ``$ initlab ...`` command of the ```console blocks, continuation lines joined."""
    text = markdown.read_text()
    commands = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            if line.startswith("$ initlab "):
                commands.append(shlex.split(line[len("$ initlab ") :]))
    return commands


TRAIN_EXAMPLES = console_commands(ROOT / "docs" / "train.md")


def test_train_doc_has_the_csv_example_and_its_file() -> None:
    [csv] = [c for c in TRAIN_EXAMPLES if "csv" in c]
    path = ROOT / csv[csv.index("--data-path") + 1]
    assert path.is_file()
    header = path.read_text().splitlines()[0].split(",")
    assert csv[csv.index("--label-column") + 1] in header


class Prepared(Exception):
    """Raised in place of training: the command got as far as a checked setup."""


@pytest.mark.parametrize("args", TRAIN_EXAMPLES, ids=lambda a: " ".join(a)[:60])
def test_every_documented_train_example_is_a_valid_command(args, tmp_path, monkeypatch) -> None:
    """Every option parses and every check before training passes (data loaded, network built)."""
    import initlab.cli.train as train_command

    def prepared(setup, **_):  # type: ignore[no-untyped-def]
        raise Prepared(setup)

    monkeypatch.chdir(ROOT)  # the documented paths are relative to the repository
    monkeypatch.setattr(train_command, "run_train", prepared)
    with pytest.raises(Prepared):
        main([*args, "--out", str(tmp_path / "out"), "-q"])


def test_the_csv_example_trains(tmp_path, capsys, monkeypatch) -> None:
    [args] = [c for c in TRAIN_EXAMPLES if "csv" in c]
    monkeypatch.chdir(ROOT)
    code = main([*args, "--out", str(tmp_path / "out"), "-q"])
    assert code == 0, capsys.readouterr().err
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert document["config"]["dataset"]["classes"] == ["setosa", "versicolor", "virginica"]
    assert [run["init"] for run in document["runs"]] == ["he", "zeros"]
    assert all(not run["diverged"] for run in document["runs"])


def test_engine_doc_quotes_no_second_set_of_figures() -> None:
    engine = (ROOT / "docs" / "engine.md").read_text()
    speed = engine[engine.index("### Speed") :]
    assert "README" in speed and "engine-benchmark.json" in speed
    # no speed-up factors, per-model-iteration times or compile times of its own
    assert not re.search(r"\d(\.\d+)?x\b", speed)
    assert not re.search(r"\d (us|microseconds)\b", speed)
    assert not re.search(r"compiles in \d", speed)


def test_the_catalogue_shows_what_a_raising_custom_initializer_prints(
    tmp_path, capsys, monkeypatch
) -> None:
    text = (ROOT / "docs" / "catalogue.md").read_text()
    [block] = [b for b in re.findall(r"```console\n(.*?)```", text, re.S) if "badinits" in b]
    command, *shown = block.splitlines()
    (tmp_path / "badinits.py").write_text(
        "def raises(rng, shape):\n    raise RuntimeError('boom')\n"
    )
    monkeypatch.chdir(tmp_path)
    code = main([*shlex.split(command[len("$ initlab ") :]), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out.splitlines() + captured.err.splitlines() == shown
    assert not (tmp_path / "out").exists()


def test_the_readme_python_example_runs_and_gives_the_values_it_quotes() -> None:
    text = (ROOT / "README.md").read_text()
    api = text[text.index("## Python API") :]
    code = re.search(r"```python\n(.*?)```", api, re.S).group(1)
    quoted = dict(re.findall(r"^(\S.*?)\s+# ([-0-9.e]+)$", code, re.M))
    assert set(quoted) == {
        "history.costs[14000]",
        "accuracy(net, trained, data.X_test, data.Y_test)",
    }
    namespace: dict = {}
    exec(code, namespace)  # the README's own example
    for expression, value in quoted.items():
        # the reference loop's last digits may differ between CPUs
        got = eval(expression, namespace)
        assert got == pytest.approx(float(value), rel=1e-12), expression
