"""`initlab diagnose` end to end: the tables, the flags, diagnostics.json, the figure, bad input."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console

from badinput import assert_one_line_error, files_under, run_cli
from initlab.cli import main
from initlab.cli.diagnose import layer_table, training_table
from initlab.cli.output import print_table
from initlab.datasets import course_circles
from initlab.diagnostics import diagnose, network_statistics, predicted_preactivation_variances
from initlab.diagnostics.stats import LAYER_STATISTICS
from initlab.experiments.course import course_parameters
from initlab.experiments.diagnose import diagnose_config, diagnose_inits
from initlab.network import Network
from initlab.results import finite_or_none

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def default_run(tmp_path_factory) -> tuple[Path, str]:
    """`initlab diagnose --out DIR`: the course's network, data and three initializations."""
    out = tmp_path_factory.mktemp("diagnose")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["diagnose", "--out", str(out)])
    assert code == 0
    return out, buffer.getvalue()


def test_default_run_tells_the_courses_three_stories(default_run) -> None:
    _, stdout = default_run
    lines = stdout.splitlines()
    assert lines[0].startswith("Diagnosing [2, 10, 5, 1] (relu, relu -> sigmoid) on course_circles")
    assert "300 training samples" in lines[0]
    starts = [lines.index(f"{init} at initialization") for init in ("zeros", "random", "he")]
    ends = [*starts[1:], len(lines)]
    zeros, random, he = (lines[a:b] for a, b in zip(starts, ends, strict=True))
    assert any(line.startswith("  symmetry not broken: layer 1 (relu)") for line in zeros)
    assert any(line.startswith("  symmetry not broken: layer 2 (relu)") for line in zeros)
    assert any(
        line.startswith("  saturation: 100% of the activations of layer 3") for line in random
    )
    assert any(line.startswith("  huge loss: ") for line in random)
    assert "  healthy" in he
    assert "  theory: none (zeros is not a variance-scaling initializer)" in zeros
    assert not any(line.startswith("  theory: none") for line in he)


def test_diagnostics_json_is_the_statistics_of_the_courses_weights(default_run) -> None:
    out, _ = default_run
    document = json.loads((out / "diagnostics.json").read_text())
    assert document["experiment"] == "diagnose"
    assert document["config"]["inits"] == ["zeros", "random", "he"]
    data = course_circles()
    for entry in document["inits"]:
        params = course_parameters(entry["init"])
        stats = network_statistics(Network.course(), params, data.X_train, data.Y_train)
        for name in LAYER_STATISTICS:
            for layer, value in zip(entry["layers"], stats.statistic(name), strict=True):
                if math.isfinite(value):
                    assert layer[name] == pytest.approx(value, rel=1e-12, abs=1e-300)
                else:
                    assert layer[name] is None
        expected = diagnose(stats)
        assert [f["message"] for f in entry["flags"]] == [f.message for f in expected]
        assert [f["value"] for f in entry["flags"]] == [finite_or_none(f.value) for f in expected]
    he = document["inits"][2]
    q = predicted_preactivation_variances(Network.course(), "he", float(np.mean(data.X_train**2)))
    np.testing.assert_allclose(he["predicted"]["z_second_moment"], q, rtol=1e-12)
    np.testing.assert_allclose(he["predicted"]["z_std"], np.sqrt(q), rtol=1e-12)


def test_printed_predicted_column_is_the_theory(default_run) -> None:
    _, stdout = default_run
    data = course_circles()
    q = predicted_preactivation_variances(Network.course(), "he", float(np.mean(data.X_train**2)))
    he = stdout[stdout.index("he at initialization") :]
    for layer, moment in enumerate(q, start=1):
        [row] = [line for line in he.splitlines() if line.startswith(f"│ {layer} ")]
        cells = [cell.strip() for cell in row.strip("│").split("│")]
        assert cells[3] == f"{math.sqrt(moment):.3g}"  # z std theory


def test_figure_is_written(default_run) -> None:
    out, _ = default_run
    figure = (out / "layer_std.png").read_bytes()
    assert figure.startswith(PNG) and len(figure) > 10_000
    assert sorted(p.name for p in files_under(out)) == [
        "diagnostics.json", "layer_std.png", "report.html"
    ]  # fmt: skip


def test_train_options_pick_the_network_the_data_and_the_biases(tmp_path: Path, capsys) -> None:
    code, _, _ = run_cli(
        capsys, "diagnose", "--dataset", "moons", "--hidden", "32,16", "--activation", "tanh",
        "--init", "glorot_normal", "--bias-init", "normal(std=0.1)", "--seed", "4", "-q",
        "--out", str(tmp_path / "out"), "--json", str(tmp_path / "copy.json"),
    )  # fmt: skip
    assert code == 0
    document = json.loads((tmp_path / "out" / "diagnostics.json").read_text())
    assert (tmp_path / "copy.json").read_text() == (
        tmp_path / "out" / "diagnostics.json"
    ).read_text()
    assert document["config"]["network"] == {
        "layer_sizes": [2, 32, 16, 1], "activations": ["tanh", "tanh"], "output": "sigmoid",
    }  # fmt: skip
    assert document["config"]["dataset"]["name"] == "moons"
    [entry] = document["inits"]
    result = diagnose_inits(
        diagnose_config(dataset="moons", hidden=(32, 16), activations=("tanh",),
                        inits=("glorot_normal",), bias_init="normal(std=0.1)", seed=4)
    )  # fmt: skip
    network = result.setup.network
    q = predicted_preactivation_variances(
        network, "glorot_normal", result.input_second_moment, 0.1**2
    )
    np.testing.assert_allclose(entry["predicted"]["z_second_moment"], q, rtol=1e-12)
    assert entry["predicted"]["bias_variance"] == pytest.approx(0.01, rel=1e-15)


def test_quiet_prints_nothing(tmp_path: Path, capsys) -> None:
    code, out, err = run_cli(capsys, "diagnose", "--init", "he", "-q", "--out", str(tmp_path))
    assert (code, out, err) == (0, "", "")
    assert (tmp_path / "diagnostics.json").exists() and (tmp_path / "layer_std.png").exists()


def render(table, width: int, terminal: bool) -> str:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, force_terminal=terminal, color_system=None, highlight=False
    )
    print_table(table, console)
    return buffer.getvalue()


@pytest.mark.parametrize("terminal", [True, False])
@pytest.mark.parametrize(
    "options",
    [
        {},  # the course: 0, e-notation (2.24e+03), 100%
        {
            "dataset": "digits",
            "standardize": True,
            "hidden": (64,) * 6,
            "activations": ("tanh",),
            "inits": ("normal(std=0.01)", "he_uniform"),
        },
    ],
    ids=["course", "digits-tanh"],
)
def test_tables_never_cut_a_number_at_80_columns(options, terminal: bool) -> None:
    result = diagnose_inits(diagnose_config(**options, iterations=5), snapshots=3)
    tables = [make(d) for d in result.diagnoses for make in (layer_table, training_table)]
    for table in tables:
        cells = [[str(c) for c in column.cells] for column in table.columns]
        text = render(table, 80, terminal)
        assert "…" not in text
        if terminal:
            assert max(cell_len(line) for line in text.splitlines()) <= 80
        tokens = set(text.replace("│", " ").replace("┃", " ").split())
        for column in cells:
            for cell in column:
                assert set(cell.split()) <= tokens, (cell, text)
        if not terminal:  # piped: one line per row, however wide
            rows = [line for line in text.splitlines() if line.startswith("│ ")]
            assert len(rows) == table.row_count


def test_piped_at_80_columns_prints_full_rows(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "80", "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-m", "initlab", "diagnose", "--init", "random", "--out", str(tmp_path)],
        capture_output=True, text=True, env=env, check=False, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "…" not in proc.stdout
    rows = [line for line in proc.stdout.splitlines() if line.startswith("│ ")]
    assert [row.split()[1:3] for row in rows] == [["1", "relu"], ["2", "relu"], ["3", "sigmoid"]]
    assert "2.24e+03" in rows[2] and "100" in rows[2].split()  # z std and saturated %, whole


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--init", "bogus"], ["--init", "bogus"]),
        (["--dataset", "nope"], ["--dataset", "nope"]),
        (["--hidden", "0"], ["--hidden"]),
        (["--layers", "3,4,1"], ["3 inputs", "2 features"]),
        (["--activation", "foo"], ["--activation", "foo"]),
        (["--activation", "relu,tanh,relu"], ["3 activations"]),
        (["--bias-init", "lsuv"], ["--bias-init", "lsuv"]),
        (["--data-path", "x.csv"], ["--data-path", "course_circles"]),
        (["--seed", "-1"], ["--seed"]),
        (["--hidden", "100000,100000"], ["--hidden 100000,100000"]),
        (
            ["--dataset", "csv", "--data-path", "missing.csv", "--label-column", "y"],
            ["missing.csv"],
        ),
        (["--optimizer", "gd"], ["--optimizer", "--iterations"]),
        (["--snapshots", "5"], ["--snapshots", "--iterations"]),
        (["--iterations", "0"], ["--iterations"]),
        (["--iterations", "5", "--snapshots", "1"], ["--snapshots"]),
        (["--iterations", "5", "--optimizer", "nope"], ["--optimizer", "nope"]),
        (["--iterations", "5", "--batch-size", "301"], ["301"]),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path: Path, capsys, args, names) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(capsys, "diagnose", *args, "--out", str(out))
    assert_one_line_error(code, stderr, *names)
    assert stdout == ""
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("kind", ["out is a file", "json is diagnostics.json"])
def test_bad_output_paths_are_refused_before_work(tmp_path: Path, capsys, kind: str) -> None:
    if kind == "out is a file":
        (tmp_path / "file").write_text("keep")
        args = ["--out", str(tmp_path / "file")]
    else:
        args = [
            "--out",
            str(tmp_path / "out"),
            "--json",
            str(tmp_path / "out" / "diagnostics.json"),
        ]
    code, stdout, stderr = run_cli(capsys, "diagnose", *args)
    assert_one_line_error(code, stderr, args[-2])
    assert stdout == ""  # nothing computed, nothing printed
    assert [p.name for p in files_under(tmp_path)] == (["file"] if kind == "out is a file" else [])


def test_diagnose_is_listed(capsys) -> None:
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and "diagnose" in out


def test_iterations_diagnose_at_log_spaced_snapshots_of_training(tmp_path: Path, capsys) -> None:
    from initlab.engine import log_spaced

    code, out, _ = run_cli(
        capsys, "diagnose", "--init", "zeros", "--init", "he", "--iterations", "40",
        "--optimizer", "gd", "--learning-rate", "0.05", "--snapshots", "4", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    document = json.loads((tmp_path / "diagnostics.json").read_text())
    expected = [int(k) for k in log_spaced(40, 4)]
    assert document["config"]["training"]["snapshot_at"] == expected
    assert document["config"]["training"]["updates"] == 40
    assert document["config"]["learning_rate"] == 0.05  # gd: the update-to-data ratio
    zeros, he = document["inits"]
    assert [s["update"] for s in he["snapshots"]] == expected
    assert he["snapshots"][0]["layers"] == he["layers"]  # update 0: the initialization
    # zeros stays symmetric: the flag at every snapshot
    assert all([f["kind"] for f in s["flags"]] == ["symmetry"] * 2 for s in zeros["snapshots"])
    lines = out.splitlines()
    assert lines[1].startswith("Training: gd, learning rate 0.05, 40 updates of 300 samples;")
    assert "he during training" in lines and "zeros during training" in lines
    assert "  after 40 updates: cost " + f"{he['snapshots'][-1]['loss']:.3g}" in lines
    rows = [line for line in lines if line.startswith("│ ") and " 1 relu " in line]
    assert len(rows) == 2 * (1 + len(expected))  # per init: the layer table and each snapshot
    for name in ("layer_std", "activation_std", "gradient_norms", "histograms"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == PNG, name


def test_jacobian_singular_values_at_initialization(tmp_path: Path, capsys) -> None:
    from initlab.diagnostics import input_output_jacobian, singular_values

    code, out, _ = run_cli(capsys, "diagnose", "--init", "he", "--jacobian", "4", "--out",
                           str(tmp_path))  # fmt: skip
    assert code == 0
    [entry] = json.loads((tmp_path / "diagnostics.json").read_text())["inits"]
    params = course_parameters("he")
    data = course_circles()
    net = Network.course()
    expected = singular_values(input_output_jacobian(net, params, data.X_train[:, :4]))
    np.testing.assert_allclose(entry["jacobian"]["singular_values"], expected, rtol=1e-12)
    assert entry["jacobian"]["samples"] == 4
    assert entry["jacobian"]["median"] == pytest.approx(float(np.median(expected)), rel=1e-12)
    line = f"  Jacobian dz[L]/dx on 4 sample(s): singular values median {np.median(expected):.3g}"
    assert line in out


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--jacobian", "301"], ["301", "1 to 300"]),
        (["--dataset", "digits", "--hidden", "5000,5000", "--jacobian", "1000"],
         ["MiB", "at most 890 samples fit"]),
    ],
)  # fmt: skip
def test_a_jacobian_too_large_is_refused_before_anything_is_written(
    tmp_path: Path, capsys, args, names
) -> None:
    """The memory of the Jacobian is estimated first: one line, exit 2, no file."""
    out = tmp_path / "d"
    code, _, stderr = run_cli(capsys, "diagnose", "--init", "he", *args, "--out", str(out))
    assert_one_line_error(code, stderr, *names)
    assert files_under(tmp_path) == []


def test_an_unknown_heatmap_statistic_names_the_closest() -> None:
    from initlab.diagnostics.figures import training_figures

    result = diagnose_inits(diagnose_config(inits=("he",), iterations=3), snapshots=2)
    with pytest.raises(ValueError, match="unknown statistic 'a_sd'; did you mean 'a_std'"):
        training_figures(result, heatmap="a_sd")
    figures = training_figures(result, heatmap="grad_w_std")
    assert figures["activation_std"].axes[0].images
