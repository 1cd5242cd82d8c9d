"""``initlab train`` end to end, and every bad input as one line, exit code 2, nothing written."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from initlab.cli import main
from initlab.experiments.train import (
    TrainConfig,
    far_from_standardized,
    feature_spread,
    prepare,
    run_train,
)
from initlab.results import results_to_dict


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_two_inits_on_moons_write_everything(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = run(
        capsys,
        "train",
        "--dataset", "moons(noise=0.2)",
        "--init", "zeros",
        "--init", "he",
        "--iterations", "60",
        "--print-every", "20",
        "--learning-rate", "0.01",
        "--out", str(out),
        "--json", str(tmp_path / "copy.json"),
    )  # fmt: skip
    assert code == 0, stderr
    assert stderr == ""
    assert "[he] Cost after iteration 40:" in stdout
    assert "test acc." in stdout
    assert {p.name for p in out.iterdir()} == {
        "results.json", "costs.png", "decision_boundaries.png", "report.html"
    }  # fmt: skip
    document = json.loads((out / "results.json").read_text())
    assert document == json.loads((tmp_path / "copy.json").read_text())
    assert document["experiment"] == "train"
    config = document["config"]
    assert config["network"] == {
        "layer_sizes": [2, 10, 5, 1], "activations": ["relu", "relu"], "output": "sigmoid"
    }  # fmt: skip
    assert config["dataset"]["params"] == {"samples": 300, "noise": 0.2}
    assert config["optimizer"]["name"] == "adam" and config["learning_rate"] == 0.01
    zeros, he = document["runs"]
    assert [c["iteration"] for c in he["costs"]] == [0, 20, 40]
    assert he["iterations_run"] == 60 and not he["diverged"]
    # zeros never break the symmetry: only the output bias moves, so one class is predicted
    # for all points and the balanced classes give exactly one half
    assert zeros["train_accuracy"] == 0.5
    assert he["train_accuracy"] > 0.75
    # the command is the library's experiment: same config, same numbers
    library = results_to_dict(
        run_train(
            TrainConfig(
                dataset="moons(noise=0.2)", inits=("zeros", "he"), iterations=60,
                print_every=20, learning_rate=0.01,
            )
        )
    )  # fmt: skip
    assert document.pop("provenance")["argv"][0] == "train"
    assert library == document


def test_multiclass_epochs_minibatches_and_no_boundary_for_4d(tmp_path: Path, capsys) -> None:
    out = tmp_path / "iris"
    code, _, stderr = run(
        capsys,
        "train", "--dataset", "iris", "--standardize", "--hidden", "8",
        "--activation", "sigmoid", "--optimizer", "momentum(beta=0.8)", "--learning-rate", "0.1",
        "--epochs", "3", "--batch-size", "50", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert code == 0, stderr
    assert {p.name for p in out.iterdir()} == {"results.json", "costs.png", "report.html"}
    document = json.loads((out / "results.json").read_text())
    config = document["config"]
    assert config["network"]["layer_sizes"] == [4, 8, 3]
    assert config["network"]["output"] == "softmax"
    assert config["dataset"]["classes"] == ["setosa", "versicolor", "virginica"]
    n_train = config["dataset"]["n_train"]
    assert config["updates"] == 3 * -(-n_train // 50)
    assert document["runs"][0]["iterations_run"] == config["updates"]
    assert config["optimizer"] == {
        "name": "momentum", "learning_rate": 0.1, "weight_decay": 0.0, "beta": 0.8
    }  # fmt: skip


def test_multiclass_2d_data_get_a_decision_boundary(tmp_path: Path, capsys) -> None:
    out = tmp_path / "blobs"
    code, _, stderr = run(
        capsys, "train", "--dataset", "blobs(k=4, samples=80)", "--iterations", "5",
        "--init", "he", "--init", "zeros", "--out", str(out), "-q",
    )  # fmt: skip
    assert code == 0, stderr
    assert (out / "decision_boundaries.png").stat().st_size > 0
    network = json.loads((out / "results.json").read_text())["config"]["network"]
    assert network["layer_sizes"] == [2, 10, 5, 4] and network["output"] == "softmax"


def test_per_layer_activations_layers_and_csv(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 3))
    lines = ["a,b,c,kind"] + [f"{x[0]},{x[1]},{x[2]},{'up' if x.sum() > 0 else 'down'}" for x in X]
    path = tmp_path / "points.csv"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "csv"
    code, _, stderr = run(
        capsys,
        "train", "--dataset", "csv", "--data-path", str(path), "--label-column", "kind",
        "--layers", "3,6,4,2", "--activation", "relu,identity", "--iterations", "30",
        "--out", str(out), "-q",
    )  # fmt: skip
    assert code == 0, stderr
    network = json.loads((out / "results.json").read_text())["config"]["network"]
    assert network == {
        "layer_sizes": [3, 6, 4, 2], "activations": ["relu", "identity"], "output": "softmax"
    }  # fmt: skip


def test_divergence_warns_and_other_runs_and_outputs_survive(tmp_path: Path, capsys) -> None:
    out = tmp_path / "div"
    code, _, stderr = run(
        capsys,
        "train", "--dataset", "moons", "--init", "zeros", "--init", "random",
        "--optimizer", "gd", "--learning-rate", "1e300", "--iterations", "20",
        "--out", str(out), "-q",
    )  # fmt: skip
    assert code == 0
    assert stderr.strip() == (
        "initlab: warning: run 'random' diverged at iteration 1 "
        "(non-finite cost; try a smaller --learning-rate than 1e+300)"
    )
    zeros, random = json.loads((out / "results.json").read_text())["runs"]
    assert (random["diverged"], random["diverged_at"], random["test_accuracy"]) == (True, 1, None)
    assert zeros["diverged"] is False and zeros["final_cost"] == pytest.approx(np.log(2))
    assert (out / "costs.png").exists() and (out / "decision_boundaries.png").exists()


def test_a_divergence_from_weight_decay_names_the_weight_decay(tmp_path: Path, capsys) -> None:
    """Each step multiplies a weight by about 1 - lr * decay: from lr * decay >= 1 the
    hint names --weight-decay too; below, only the learning rate."""
    lines = {}
    for decay in ("1e308", "1"):
        code, _, stderr = run(
            capsys,
            "train", "--dataset", "moons", "--init", "he", "--optimizer", "gd",
            "--learning-rate", "0.1", "--weight-decay", decay, "--iterations", "20",
            "--out", str(tmp_path / decay), "-q",
        )  # fmt: skip
        assert code == 0
        lines[decay] = stderr.strip()
    assert lines["1e308"] == (
        "initlab: warning: run 'he' diverged at iteration 1 (non-finite cost; try a smaller "
        "--learning-rate than 0.1 or a smaller --weight-decay than 1e+308)"
    )
    assert lines["1"] == ""


def write_csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return str(path)


def write_npz(tmp_path: Path, **arrays) -> str:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return str(path)


BAD = [
    (["--dataset", "mnist"], "unknown dataset 'mnist'; did you mean 'moons'? choose one of: blobs"),
    (["--dataset", "moons(nois=1)"], "dataset 'moons' has no parameter 'nois'"),
    (["--dataset", "moons(noise=-1)"], "moons: noise must be a number >= 0, got -1"),
    (
        ["--optimizer", "rmsprop"],
        "unknown optimizer 'rmsprop'; choose one of: adam, gd, momentum, sgd",
    ),
    (["--init", "he", "--init", "glorious"], "unknown initializer 'glorious'"),
    (["--bias-init", "ones_please"], "unknown initializer 'ones_please'"),
    (["--activation", "swishy"], "unknown activation 'swishy'"),
    (
        ["--hidden", "4,4,4", "--activation", "relu,relu"],
        "got 2 activations (relu, relu) for 3 hidden layer(s); give 1 for all",
    ),
    (["--hidden", "4,x"], "'4,x' is not allowed; give comma-separated positive integers"),
    (["--hidden", "4,0"], "'4,0' is not allowed"),
    # an empty value (an unset shell variable) is no layer list: `none` says "no hidden layer"
    (["--hidden", ""], "'' is not allowed; give comma-separated positive integers, e.g. 64,64"),
    (["--hidden", " "], "' ' is not allowed"),
    (["--layers", "3,4,1"], "layers [3, 4, 1] start with 3 inputs but the data have 2 features"),
    (["--layers", "2,4,3"], "layers [2, 4, 3] end with 3 outputs but the data have 2 classes"),
    (["--dataset", "iris", "--layers", "4,5,1"], "end with 1 outputs but the data have 3 classes"),
    (["--dataset", "iris", "--output", "sigmoid"], "a sigmoid output needs 2 classes"),
    (["--batch-size", "100000"], "--batch-size 100000 is larger than the 224 training samples"),
    (["--batch-size", "0"], "Invalid value for '--batch-size': 0 is not in the range x>=1"),
    (["--batch-size", "-3"], "Invalid value for '--batch-size': -3 is not in the range x>=1"),
    (["--optimizer", "gd", "--batch-size", "10"], "'gd' is full-batch gradient descent"),
    (["--iterations", "5", "--epochs", "2"], "give --iterations or --epochs, not both"),
    (["--iterations", "0"], "Invalid value for '--iterations'"),
    (["--learning-rate", "0"], "Invalid value for '--learning-rate'"),
    (["--test-fraction", "1.5"], "Invalid value for '--test-fraction'"),
    (["--dataset", "csv", "--label-column", "y"], "dataset 'csv' needs a file: --data-path"),
    (["--data-path", "x.csv"], "--data-path is for --dataset csv or npz, not 'circles'"),
    (["--dataset", "npz", "--label-column", "y"], "--label-column is for --dataset csv, not 'npz'"),
    (["--dataset", "npz", "--data-path", "missing.npz"], "cannot read data file 'missing.npz'"),
]


@pytest.mark.parametrize(("args", "message"), BAD)
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path, capsys, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = run(capsys, "train", *args, "--out", str(out))
    assert code == 2
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("initlab: error: "), stderr
    assert message in lines[0]
    assert not out.exists()


CSV_BAD = [
    ("a,y\n1,0\n,1\n2,1\n", "y", "line 3, column 'a': missing value ''"),
    ("a,y\n1,0\nabc,1\n2,1\n", "y", "line 3, column 'a': 'abc' is not a finite number"),
    ("a,y\n1,0\n2,0\n3,0\n", "y", "has only the class 0; at least 2 classes are needed"),
    ("a,y\n1,0\n2,1,5\n3,1\n", "y", "line 3 has 3 fields, the header has 2"),
    ("a,y\n1,0\n2,1\n3,1\n", "kind", "has no label column 'kind'; its columns: a, y"),
]


@pytest.mark.parametrize(("text", "label", "message"), CSV_BAD)
def test_malformed_csv_is_one_line_exit_2(tmp_path: Path, capsys, text, label, message) -> None:
    path = write_csv(tmp_path, text)
    out = tmp_path / "out"
    code, _, stderr = run(
        capsys, "train", "--dataset", "csv", "--data-path", path, "--label-column", label,
        "--out", str(out),
    )  # fmt: skip
    assert code == 2
    assert stderr.count("\n") == 1 and stderr.startswith("initlab: error: ")
    assert message in stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X": np.zeros((4, 2)), "y": np.arange(3)}, "X has 4 rows but y has 3 labels"),
        ({"X": np.zeros((4, 2))}, "has no array 'y'"),
        ({"X": np.array([[1.0, np.nan]] * 4), "y": [0, 1, 0, 1]}, "non-finite values"),
    ],
)
def test_malformed_npz_is_one_line_exit_2(tmp_path: Path, capsys, arrays, message) -> None:
    path = write_npz(tmp_path, **arrays)
    out = tmp_path / "out"
    code, _, stderr = run(capsys, "train", "--dataset", "npz", "--data-path", path, "--out",
                          str(out))  # fmt: skip
    assert code == 2
    assert stderr.count("\n") == 1 and message in stderr
    assert not out.exists()


def test_out_that_is_a_file_fails_before_training(tmp_path: Path, capsys) -> None:
    target = tmp_path / "taken"
    target.write_text("")
    code, stdout, stderr = run(capsys, "train", "--out", str(target))
    assert code == 2 and stdout == ""
    assert "is an existing file; a directory is needed" in stderr


def test_catalogue_specs_and_data_dependent_lsuv(tmp_path: Path, capsys) -> None:
    """Spec strings reach the catalogue; LSUV is calibrated on the training data."""
    out = tmp_path / "out"
    code, _, stderr = run(
        capsys,
        "train",
        "--dataset", "moons(noise=0.2)",
        "--hidden", "16,16,16",
        "--activation", "tanh",
        "--init", "normal(std=0.01)",
        "--init", "lsuv",
        "--bias-init", "constant(value=0.1)",
        "--iterations", "5",
        "--out", str(out),
        "--quiet",
    )  # fmt: skip
    assert code == 0, stderr
    document = json.loads((out / "results.json").read_text())
    assert [run["init"] for run in document["runs"]] == ["normal(std=0.01)", "lsuv"]
    assert all(not run["diverged"] for run in document["runs"])


def test_bad_initializer_fails_before_any_training(tmp_path: Path, capsys) -> None:
    module = tmp_path / "badinit_mod.py"
    module.write_text("import numpy as np\ndef wrong(rng, shape):\n    return np.zeros((1, 1))\n")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        code, stdout, stderr = run(
            capsys, "train", "--init", "he", "--init", "badinit_mod:wrong",
            "--iterations", "5", "--out", str(tmp_path / "out"),
        )  # fmt: skip
    finally:
        sys.path.remove(str(tmp_path))
    assert code == 2
    assert "returned shape (1, 1)" in stderr and stderr.count("\n") == 1
    assert "Cost after" not in stdout
    assert not (tmp_path / "out" / "results.json").exists()


# --- defaults a user expects ------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["gd", "sgd", "momentum", "adam"])
@pytest.mark.parametrize("dataset", ["moons(samples=100)", "digits"])
def test_default_batch_is_scikit_learns_auto(optimizer: str, dataset: str) -> None:
    """sgd, momentum and adam default to min(200, n) (scikit-learn's 'auto'); gd to n."""
    setup = prepare(TrainConfig(dataset=dataset, optimizer=optimizer, epochs=3))
    n = setup.dataset.X_train.shape[1]
    expected = n if optimizer == "gd" else min(200, n)
    assert setup.batch_size == expected
    assert setup.updates == 3 * math.ceil(n / expected)


def test_header_gives_updates_per_epoch_and_the_standardize_hint(tmp_path: Path, capsys) -> None:
    code, stdout, stderr = run(
        capsys, "train", "--dataset", "digits", "--optimizer", "adam", "--epochs", "1",
        "--init", "he", "--print-every", "1000", "--out", str(tmp_path / "d"),
    )  # fmt: skip
    assert code == 0, stderr
    n = json.loads((tmp_path / "d" / "results.json").read_text())["config"]["dataset"]["n_train"]
    per_epoch = math.ceil(n / 200)
    assert f"{per_epoch} updates of 200 samples ({per_epoch} per epoch)" in stdout
    hints = [line for line in stdout.splitlines() if line.startswith("hint: ")]
    assert len(hints) == 1 and "--standardize" in hints[0]
    code, stdout, _ = run(
        capsys, "train", "--dataset", "digits", "--standardize", "--epochs", "1", "--init", "he",
        "--out", str(tmp_path / "s"),
    )  # fmt: skip
    assert code == 0 and "hint:" not in stdout
    code, stdout, _ = run(
        capsys, "train", "--dataset", "moons", "--iterations", "1", "--init", "he",
        "--out", str(tmp_path / "m"),
    )  # fmt: skip
    assert code == 0 and "hint:" not in stdout


@pytest.mark.parametrize(
    ("mean", "std", "far"),
    [
        (0.0, 1.0, False),
        (1.9, 1.0, False),
        (2.1, 1.0, True),  # |mean| > 2
        (-2.1, 1.0, True),
        (0.0, 0.25, False),
        (0.0, 0.15, True),  # the widest feature narrower than 0.2
        (0.0, 4.9, False),
        (0.0, 5.1, True),  # wider than 5
    ],
)
def test_far_from_standardized_thresholds(mean: float, std: float, far: bool) -> None:
    # exact moments: a symmetric two-point sample has mean `mean` and std `std`
    X = np.array([[mean - std, mean + std] * 50, [-1.0, 1.0] * 50])
    assert feature_spread(X) == pytest.approx((max(abs(mean), 0.0), max(std, 1.0)))
    assert far_from_standardized(X[:1]) is far


def test_default_inits_are_the_courses_three(tmp_path: Path, capsys) -> None:
    code, _, stderr = run(
        capsys, "train", "--iterations", "2", "--out", str(tmp_path / "o"), "-q"
    )  # fmt: skip
    assert code == 0, stderr
    runs = json.loads((tmp_path / "o" / "results.json").read_text())["runs"]
    assert [r["init"] for r in runs] == ["zeros", "random", "he"]
    assert TrainConfig().inits == ("zeros", "random", "he")


def test_course_circles_with_the_course_settings_gives_the_course_numbers(
    tmp_path: Path, capsys, course_expected: dict
) -> None:
    from initlab.initializers import initialize
    from initlab.network import Network

    config = TrainConfig(
        dataset="course_circles", optimizer="gd", learning_rate=0.01, iterations=10
    )
    result = run_train(config, engine="reference")
    for run_ in result.runs:  # the course's own starting weights, bit for bit
        course_start = initialize(Network.course(), run_.init, np.random.RandomState(3))
        for ours, theirs in zip(run_.initial_params.weights, course_start.weights, strict=True):
            np.testing.assert_array_equal(ours, theirs)
    code, _, stderr = run(
        capsys, "train", "--dataset", "course_circles", "--optimizer", "gd",
        "--learning-rate", "0.01", "--iterations", "15000", "--out", str(tmp_path / "c"), "-q",
    )  # fmt: skip
    assert code == 0, stderr
    runs = json.loads((tmp_path / "c" / "results.json").read_text())["runs"]
    for run_ in runs:
        expected = course_expected["runs"][run_["init"]]
        assert run_["train_accuracy"] == pytest.approx(expected["train_accuracy"], abs=1e-12)
        assert run_["test_accuracy"] == pytest.approx(expected["test_accuracy"], abs=1e-12)


def test_other_seeds_draw_other_course_circles_weights() -> None:
    first, other = (
        run_train(TrainConfig(dataset="course_circles", inits=("he",), iterations=1, seed=s))
        for s in (0, 1)
    )
    expected = np.random.RandomState(4).standard_normal((10, 2)) * np.sqrt(2 / 2)
    np.testing.assert_array_equal(other.runs[0].initial_params.weights[0], expected)
    assert not np.array_equal(first.runs[0].initial_params.weights[0], expected)
