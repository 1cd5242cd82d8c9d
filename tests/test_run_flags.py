"""`initlab course` and `initlab train` diagnose every run at initialization (flags, statistics)."""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from badinput import run_cli
from initlab.cli import main
from initlab.datasets import course_circles
from initlab.diagnostics import diagnose, network_statistics
from initlab.diagnostics.stats import LAYER_STATISTICS
from initlab.experiments.course import course_config, course_parameters
from initlab.experiments.train import TrainConfig, prepare
from initlab.initializers import initialize
from initlab.network import Network
from initlab.results import finite_or_none
from initlab.runs import STATISTICS_SAMPLES, statistics_batch


def assert_layers_match(layers: list[dict], stats) -> None:  # type: ignore[no-untyped-def]
    """The JSON's per-layer records are the statistics, non-finite ones as null."""
    assert [layer["layer"] for layer in layers] == list(range(1, stats.depth + 1))
    assert [layer["units"] for layer in layers] == stats.units
    assert [layer["activation"] for layer in layers] == stats.activations
    for name in LAYER_STATISTICS:
        for layer, value in zip(layers, stats.statistic(name), strict=True):
            if math.isfinite(value):
                assert layer[name] == pytest.approx(value, rel=1e-12, abs=1e-300), name
            else:
                assert layer[name] is None, name


def assert_flags_match(flags: list[dict], expected) -> None:  # type: ignore[no-untyped-def]
    assert [f["kind"] for f in flags] == [f.kind for f in expected]
    for got, want in zip(flags, expected, strict=True):
        assert got["layer"] == want.layer
        assert got["value"] == finite_or_none(want.value)
        assert got["threshold"] == finite_or_none(want.threshold)
        assert got["message"] == want.message


@pytest.fixture(scope="module")
def course_run(tmp_path_factory) -> tuple[dict, str]:
    """``initlab course`` (3 iterations): its results.json and what it printed."""
    out = tmp_path_factory.mktemp("course")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["course", "--iterations", "3", "--print-every", "1", "--out", str(out)])
    assert code == 0
    return json.loads((out / "results.json").read_text()), buffer.getvalue()


def test_course_runs_tell_the_courses_three_stories(course_run) -> None:
    document, stdout = course_run
    runs = {run["init"]: run for run in document["runs"]}
    # zeros: every unit of a hidden layer is the same unit
    zeros = runs["zeros"]["flags"]
    assert [(f["kind"], f["layer"], f["value"], f["threshold"]) for f in zeros] == [
        ("symmetry", 1, 1.0, 10.0),
        ("symmetry", 2, 1.0, 5.0),
    ]
    # random (x10): the sigmoid output is saturated for every sample, the loss is huge
    random = {f["kind"]: f for f in runs["random"]["flags"]}
    assert random["saturation"]["layer"] == 3 and random["saturation"]["value"] == 1.0
    assert random["huge_loss"]["value"] > random["huge_loss"]["threshold"] == 10 * math.log(2)
    assert runs["random"]["layers"][2]["saturated_fraction"] == 1.0
    # he: nothing to say
    assert runs["he"]["flags"] == []
    # printed under the results table, one line per flag, naming the layer and the numbers
    lines = stdout.splitlines()
    start = lines.index("Flags at initialization (statistics on 300 training samples):")
    assert start > next(i for i, line in enumerate(lines) if "│ he " in line)
    printed = lines[start + 1 : start + 1 + len(zeros) + len(random) + 1]
    assert printed[0].startswith("  zeros: symmetry not broken: layer 1 (relu)")
    assert "among 10" in printed[0] and "layer 2 (relu)" in printed[1]
    assert any(
        line.startswith("  random: saturation: 100% of the activations of layer 3")
        for line in printed
    )
    assert printed[-1] == "  he: healthy"
    assert document["config"]["statistics_samples"] == 300


@pytest.mark.parametrize("init", ["zeros", "random", "he"])
def test_course_json_is_the_statistics_of_the_initial_parameters(course_run, init) -> None:
    document, _ = course_run
    [run] = [run for run in document["runs"] if run["init"] == init]
    data = course_circles()
    stats = network_statistics(
        Network.course(),
        course_parameters(init),
        data.X_train,
        data.Y_train,
        learning_rate=course_config().learning_rate,
    )
    assert_layers_match(run["layers"], stats)
    assert_flags_match(run["flags"], diagnose(stats))


def test_course_reference_engine_gets_the_same_flags(tmp_path: Path, capsys, course_run) -> None:
    code, _, _ = run_cli(
        capsys, "course", "--iterations", "3", "--engine", "reference", "-q",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    document = json.loads((tmp_path / "results.json").read_text())
    for got, fast in zip(document["runs"], course_run[0]["runs"], strict=True):
        assert got["flags"] == fast["flags"] and got["layers"] == fast["layers"]


def test_quiet_course_prints_nothing_but_stores_the_flags(tmp_path: Path, capsys) -> None:
    code, out, err = run_cli(
        capsys, "course", "--iterations", "2", "--init", "zeros", "-q", "--out", str(tmp_path)
    )
    assert code == 0 and out == "" and err == ""
    [run] = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert [f["kind"] for f in run["flags"]] == ["symmetry", "symmetry"]


def test_train_stores_statistics_on_at_most_1000_training_samples(tmp_path: Path, capsys) -> None:
    """1050 training samples: the statistics use the first 1000; gd gives the update ratio."""
    args = dict(dataset="moons(samples=1400)", inits=("he", "normal(std=3)"), optimizer="gd",
                iterations=2, learning_rate=0.5)  # fmt: skip
    code, out, _ = run_cli(
        capsys, "train", "--dataset", args["dataset"], "--init", "he", "--init", "normal(std=3)",
        "--optimizer", "gd", "--learning-rate", "0.5", "--iterations", "2", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    document = json.loads((tmp_path / "results.json").read_text())
    setup = prepare(TrainConfig(**args))  # type: ignore[arg-type]
    assert setup.dataset.X_train.shape[1] == 1050
    assert document["config"]["statistics_samples"] == STATISTICS_SAMPLES == 1000
    X, Y = statistics_batch(setup.dataset.X_train, setup.dataset.Y_train)
    np.testing.assert_array_equal(X, setup.dataset.X_train[:, :1000])
    for run in document["runs"]:
        weight_seed = np.random.SeedSequence(0).spawn(4)[2]  # the weights' stream of run_train
        params = initialize(setup.network, run["init"], np.random.default_rng(weight_seed))
        stats = network_statistics(setup.network, params, X, Y, learning_rate=0.5)
        assert_layers_match(run["layers"], stats)
        assert_flags_match(run["flags"], diagnose(stats))
        assert all(layer["update_ratio"] is not None for layer in run["layers"])
    lines = out.splitlines()
    assert "Flags at initialization (statistics on 1000 training samples):" in lines
    assert "  he: healthy" in lines
    assert any(line.startswith("  normal(std=3): ") for line in lines)


def test_train_with_adam_has_no_update_ratio(tmp_path: Path, capsys) -> None:
    """Adam's step is not proportional to the gradient: no update-to-data ratio, no flag."""
    code, _, _ = run_cli(
        capsys, "train", "--init", "he", "--iterations", "2", "-q", "--out", str(tmp_path)
    )
    assert code == 0
    [run] = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert [layer["update_ratio"] for layer in run["layers"]] == [None, None, None]
    assert all(layer["z_std"] > 0 for layer in run["layers"])
