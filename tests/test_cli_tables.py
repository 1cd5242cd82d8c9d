"""Tables never cut a number, a default or a name: at 80 columns, on a terminal or piped."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from initlab.cli import main
from initlab.cli.inits import _defaults, catalogue_table
from initlab.cli.output import accuracy_table, fit_column_widths, fmt, print_table
from initlab.initializers import initializer_info, initializer_names


@pytest.mark.parametrize(
    ("natural", "minimum", "available", "expected"),
    [
        ([10, 20, 5], [3, 4, 5], 40, [10, 20, 5]),  # everything fits: natural widths
        ([10, 20, 5], [3, 4, 5], 30, [10, 15, 5]),  # the widest gives way first
        ([10, 20, 5], [3, 4, 5], 25, [10, 10, 5]),  # down to the next widest
        ([10, 20, 5], [3, 4, 5], 24, [10, 9, 5]),  # then both, the spare char to the first
        ([10, 20, 5], [3, 4, 5], 23, [9, 9, 5]),
        ([30, 20], [25, 5], 40, [25, 15]),  # never below a column's longest word
        ([30, 20], [25, 5], 10, [25, 5]),  # minimums wider than the room: kept, not cut
    ],
)
def test_fit_column_widths(natural, minimum, available, expected) -> None:
    widths = fit_column_widths(natural, minimum, available)
    assert widths == expected
    assert all(m <= w <= n for w, n, m in zip(widths, natural, minimum, strict=True))
    if sum(minimum) <= available:
        assert sum(widths) <= available


def render(table, *, width: int, terminal: bool) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, force_terminal=terminal, color_system=None, highlight=False
    )
    print_table(table, console)
    return buffer.getvalue()


ROWS = [
    {"init": "glorot_normal(gain=1.4142135623)", "train_accuracy": 0.99333333333,
     "test_accuracy": 0.96, "final_cost": 0.0735789596, "diverged": False, "diverged_at": None,
     "status": "ok"},
    {"init": "random", "train_accuracy": 0.8333333333, "test_accuracy": 0.86,
     "final_cost": 2.5e299, "diverged": False, "diverged_at": None,
     "status": "exploded: cost 2.5e+299 from 0.693147"},
    {"init": "normal(std=123456.789)", "train_accuracy": None, "test_accuracy": None,
     "final_cost": None, "diverged": True, "diverged_at": 123456,
     "status": "diverged at iteration 123456"},
]  # fmt: skip


@pytest.mark.parametrize("terminal", [True, False])
@pytest.mark.parametrize("width", [40, 60, 80])
def test_results_table_keeps_every_number_whole(width: int, terminal: bool) -> None:
    text = render(accuracy_table(ROWS), width=width, terminal=terminal)
    tokens = set(text.replace("│", " ").replace("┃", " ").split())
    for row in ROWS:
        for key in ("train_accuracy", "test_accuracy", "final_cost"):
            if row[key] is not None:
                assert fmt(row[key]) in tokens, (fmt(row[key]), text)
        assert row["init"] in tokens
    assert "123456" in tokens  # the iteration a run diverged at
    assert {"2.5e+299", "0.693147"} <= tokens  # the exploded status's costs
    assert "…" not in text
    if terminal:  # wrapped at spaces, or one block per row when even that is too wide
        assert max(cell_len(line) for line in text.splitlines()) <= width
    if terminal and width == 80:  # room for every column's longest word: still a table
        assert "┃ initialization" in text
    if not terminal:  # piped: one line per row, however wide
        assert sum(1 for line in text.splitlines() if "0.993333" in line) == 1


@pytest.mark.parametrize("fans", [(None, None), (64, 32)])
def test_catalogue_at_80_columns_on_a_terminal_cuts_nothing(fans) -> None:
    text = render(catalogue_table(*fans), width=80, terminal=True)
    tokens = set(text.replace("│", " ").replace("┃", " ").replace(",", " ").split())
    assert "…" not in text
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    for name in initializer_names():
        assert name in tokens
        for default in _defaults(initializer_info(name)).split(", "):
            assert default in tokens, (name, default)


def test_activations_at_80_columns_on_a_terminal_cuts_nothing() -> None:
    from initlab.activations import activation_names, get_activation
    from initlab.cli.activations import activations_table

    text = render(activations_table(), width=80, terminal=True)
    assert "…" not in text
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    tokens = set(text.replace("│", " ").replace("┃", " ").split())
    for name in activation_names():
        assert name in tokens
        assert fmt(get_activation(name).gain) in tokens


def run_piped(*args: str, columns: int = 80) -> str:
    env = {**os.environ, "COLUMNS": str(columns), "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-m", "initlab", *args], capture_output=True, text=True, env=env,
        check=False, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_inits_piped_at_80_columns_prints_full_rows() -> None:
    stdout = run_piped("inits")
    assert "…" not in stdout
    lines = stdout.splitlines()
    for name in initializer_names():
        defaults = _defaults(initializer_info(name))
        # the whole defaults string on the line of the name: one row, nothing wrapped
        assert any(f"│ {name} " in line and defaults in line for line in lines), name
    assert any("nonlinearity=leaky_relu" in line for line in lines)


def test_train_results_table_not_on_a_terminal(tmp_path: Path, capsys) -> None:
    """In process, stdout is captured (not a terminal): full rows, every number whole."""
    out = tmp_path / "out"
    code = main(
        ["train", "--dataset", "moons", "--init", "glorot_normal(gain=1.4142135623)",
         "--init", "he", "--iterations", "7", "--print-every", "100", "--out", str(out)]
    )  # fmt: skip
    stdout = capsys.readouterr().out
    assert code == 0
    assert "…" not in stdout
    runs = json.loads((out / "results.json").read_text())["runs"]
    for run in runs:
        [line] = [line for line in stdout.splitlines() if f"│ {run['init']} " in line]
        for key in ("train_accuracy", "test_accuracy", "final_cost"):
            assert f" {fmt(run[key])} " in line
    assert "train acc." in stdout and "test acc." in stdout
