"""A run's status: ok, diverged (a non-finite cost), or exploded (a finite cost that
grew by orders of magnitude), in the library, the JSON and the table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from badinput import run_cli
from initlab.fit import History
from initlab.runs import EXPLOSION_FACTOR, exploded


@pytest.mark.parametrize(
    ("costs", "diverged_at", "final", "expected"),
    [
        ([0.69, 0.5], None, 0.4, False),  # trained
        ([1773.6, 0.5], None, 0.38, False),  # the course's x10 run: high start, fine end
        ([0.69, 2.5e299], None, 2.5e299, True),
        ([0.69, 60.0], None, 0.69 * EXPLOSION_FACTOR * 1.01, True),
        ([0.69, 60.0], None, 0.69 * EXPLOSION_FACTOR * 0.99, False),
        ([0.69, math.inf], 1, None, False),  # diverged, not exploded
    ],
)
def test_exploded_compares_the_final_cost_with_the_first(costs, diverged_at, final, expected):
    history = History(np.asarray(costs), diverged_at=diverged_at)
    assert exploded(history, final) is expected


def test_a_run_that_explodes_is_flagged_in_json_table_and_warning(tmp_path: Path, capsys):
    """Zero weights on unbalanced labels (3:1) with a step of 1e300: the output bias
    swings between 0 and -2.5e299, every cost stays finite, none of it is training."""
    lines = ["x,y,label"] + [f"{i % 7},{i % 5},{int(i % 4 == 0)}" for i in range(80)]
    path = tmp_path / "unbalanced.csv"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(
        capsys,
        "train", "--dataset", "csv", "--data-path", str(path), "--label-column", "label",
        "--init", "zeros", "--optimizer", "gd", "--learning-rate", "1e300",
        "--iterations", "5", "--out", str(out),
    )  # fmt: skip
    assert code == 0, stderr
    (run,) = json.loads((out / "results.json").read_text())["runs"]
    assert run["diverged"] is False and run["exploded"] is True
    assert run["final_cost"] > 1e290
    first = run["costs"][0]["cost"]
    assert first == pytest.approx(math.log(2), rel=1e-12)
    assert run["status"] == f"exploded: cost {run['final_cost']:.3g} from {first:.3g}"
    assert "exploded: cost" in stdout and " ok" not in stdout
    assert stderr.strip() == (
        f"initlab: warning: run 'zeros' {run['status']} (try a smaller --learning-rate than 1e+300)"
    )
