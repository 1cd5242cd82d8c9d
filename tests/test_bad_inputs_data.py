"""Bad data and impossible sizes: refused before any training, naming the value.

CLI: exit 2, one ``initlab: error:`` line naming the option or file and the
value, no traceback, nothing written in ``--out`` (not even the folder), and no
training started. API: a ``ValueError`` whose message names the same.

The memory available is fixed at :data:`AVAILABLE` bytes in every test, so the
largest values the messages give are exact and the same on every machine.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from badinput import assert_one_line_error, files_under, run_cli
from initlab import memory
from initlab.datasets import check_features, load_dataset, split
from initlab.experiments.course import course_config
from initlab.experiments.train import TrainConfig, prepare
from initlab.fit import fit, gradient_descent
from initlab.initializers import initialize
from initlab.memory import MemoryLimitError, check_samples, check_training, training_bytes
from initlab.network import Network
from initlab.optimizers import get_optimizer
from initlab.sklearn import InitMLPClassifier

NINES = "9" * 400
AVAILABLE = 8 * 10**9  # bytes


@pytest.fixture(autouse=True)
def fixed_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: AVAILABLE)


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any training started fails the test: every refusal must come first."""

    def trained(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("training started")

    import initlab.engine
    import initlab.experiments.train

    monkeypatch.setattr(initlab.engine, "train_population", trained)
    monkeypatch.setattr(initlab.experiments.train, "fit", trained)


def make_files(folder: Path) -> None:
    """The bad files the cases below refer to by name."""
    rows = [f"{i},{i % 3},{(i % 3) * 10**20:.0e}" for i in range(12)]
    (folder / "big_labels.csv").write_text("a,b,y\n" + "\n".join(rows) + "\n")
    rows = [f"{'-' if i % 2 else ''}1e308,{i},{i % 2}" for i in range(12)]
    (folder / "huge.csv").write_text("a,b,y\n" + "\n".join(rows) + "\n")
    X = np.arange(24.0).reshape(12, 2)
    np.savez(folder / "complex_labels.npz", X=X, y=np.arange(12) % 2 + 1j)
    np.savez(folder / "complex_features.npz", X=X + 1j, y=np.arange(12) % 2)
    np.savez(folder / "objects.npz", X=np.array([{"a": 1}, None], dtype=object), y=[0, 1])
    np.save(folder / "array.npy", X)
    (folder / "array.npy").rename(folder / "npy.npz")
    (folder / "empty.npz").write_bytes(b"")
    (folder / "text.npz").write_text("hello, not an archive\n")


def data_args(dataset: str, path: str | None = None, *extra: str) -> list[str]:
    args = ["train", "--dataset", dataset]
    if path is not None:
        args += ["--data-path", path]
    if dataset == "csv":
        args += ["--label-column", "y"]
    return [*args, "--iterations", "2", *extra]


# (arguments, texts the error line must name); file names are under the test's folder.
# The largest values, from 8 (T R + 2 R P + C ((2 + s) P + 2 b S)) <= AVAILABLE:
# - course: layers 2-10-5-1 (P = 91, S = 18), R = C = 3, b = 300, s = 0:
#   8 (3 T + 546 + 3 (182 + 10800)) <= 8e9  ->  T <= 333322169
# - train sgd on circles: 224 training samples, batch min(200, 224) -> 2 updates per epoch,
#   the three default inits trained together as one population (R = C = 3; b = 224, the
#   whole set): 8 (3 * 2 E + 546 + 3 (182 + 2 * 224 * 18)) <= 8e9  ->  E <= 166662452
#   (the engine's minibatch orders are drawn span by span: they do not count)
# - train adam, --hidden w,w: P = w^2 + 5 w + 1, S = 2 w + 3, T = 1000, b = 224, s = 2,
#   R = C = 3: 8 (3000 + 6 P + 3 (4 P + 448 S)) <= 8e9  ->  w <= 7376
# - moons: 8 * 4 copies * m * (2 + 1) <= 8e9  ->  m <= 83333333
CLI_CASES = {
    "complex labels": (data_args("npz", "complex_labels.npz"), ["complex_labels.npz", "'y'",
                                                                 "complex128"]),
    "complex features": (data_args("npz", "complex_features.npz"), ["complex_features.npz",
                                                                     "'X'", "complex128"]),
    "object arrays": (data_args("npz", "objects.npz"), ["objects.npz", "'X'", "Python objects"]),
    "empty npz": (data_args("npz", "empty.npz"), ["empty.npz", "is empty"]),
    "not an npz": (data_args("npz", "text.npz"), ["text.npz", "is not an NPZ archive"]),
    "npy as npz": (data_args("npz", "npy.npz"), ["npy.npz", ".npy array"]),
    "spiral turns": (data_args("spirals(turns=1e308)"), ["turns", "1e+308", "(0, 1e+90]"]),
    "gaussian std": (data_args("gaussians(std=1e308)"), ["std", "1e+308", "(0, 1e+90]"]),
    "gaussian distance": (data_args(f"gaussians(distance={NINES})"),
                          ["distance", "999999...9999 (400 digits)", "[0, 1e+90]"]),
    "huge csv": (data_args("csv", "huge.csv"), ["huge.csv", "1e+308", "at most 1e+100"]),
    "huge csv standardized": (data_args("csv", "huge.csv", "--standardize"),
                              ["huge.csv", "1e+308", "at most 1e+100"]),
    "one sample per blob": (data_args("blobs(k=1000, samples=1000)"),
                            ["blobs: samples (1000)", "2 * k (2000)", "single sample"]),
    "moons samples": (data_args("moons(samples=10000000000000)"),
                      ["moons: samples 10000000000000", "allowed: 2 to 83333333"]),
    "moons samples nines": (data_args(f"moons(samples={NINES})"),
                            ["moons: samples 999999...9999 (400 digits)",
                             "allowed: 2 to 83333333"]),
    "hidden nines": (["train", "--hidden", "99999999999999999999"],
                     ["--hidden 99999999999999999999", "allowed: layer widths 1 to"]),
    "hidden 100000,100000": (["train", "--hidden", "100000,100000"],
                             ["--hidden 100000,100000", "allowed: layer widths 1 to 7376"]),
    "layers": (["train", "--layers", "2,99999999999,1"], ["--layers 2,99999999999,1"]),
    "sgd epochs": (["train", "--optimizer", "sgd", "--epochs", "1000000000000"],
                   ["--epochs 1000000000000", "allowed: 1 to 166662452"]),
    "course iterations": (["course", "--iterations", "1000000000000"],
                          ["--iterations 1000000000000", "allowed: 1 to 333322169"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CLI_CASES))
@pytest.mark.usefixtures("no_training")
def test_cli_refuses_before_training(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    args, names = CLI_CASES[case]
    make_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    code, _, stderr = run_cli(capsys, *args, "--out", str(out), "--json", str(tmp_path / "r.json"))
    assert_one_line_error(code, stderr, *names)
    assert "pickle" not in stderr and "test_fraction" not in stderr
    assert not out.exists() and files_under(out) == []
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["course", "--iterations", "333322169"],
        ["train", "--optimizer", "sgd", "--epochs", "166662452"],
    ],
)
@pytest.mark.usefixtures("no_training")
def test_cli_accepts_the_largest_sizes_that_fit(args: list[str], tmp_path: Path, capsys) -> None:
    with pytest.raises(AssertionError, match="training started"):  # every check passed
        run_cli(capsys, *args, "--quiet", "--out", str(tmp_path / "out"))


# --- the API ----------------------------------------------------------------


def test_csv_labels_keep_distinct_values_exactly(tmp_path: Path) -> None:
    make_files(tmp_path)
    data = load_dataset("csv", path=str(tmp_path / "big_labels.csv"), label="y")
    assert data.classes == (0, 10**20, 2 * 10**20)
    labels = np.hstack([data.Y_train, data.Y_test])[0]
    features = np.hstack([data.X_train, data.X_test])
    np.testing.assert_array_equal(labels, features[1])  # column b holds each row's class index
    beyond_float = ["a,y"] + [f"{i},1000000000000000000{i % 2}" for i in range(8)]
    (tmp_path / "close.csv").write_text("\n".join(beyond_float))
    close = load_dataset("csv", path=str(tmp_path / "close.csv"), label="y")
    assert close.classes == (10**19, 10**19 + 1)


def test_cli_trains_on_labels_beyond_int64(tmp_path: Path, capsys) -> None:
    make_files(tmp_path)
    out = tmp_path / "out"
    code, _, stderr = run_cli(
        capsys, *data_args("csv", str(tmp_path / "big_labels.csv"), "--quiet"), "--out", str(out)
    )
    assert code == 0, stderr
    config = json.loads((out / "results.json").read_text())["config"]
    assert config["dataset"]["classes"] == [0, 10**20, 2 * 10**20]
    assert config["network"]["layer_sizes"][-1] == 3  # three classes: a softmax over three


def test_npz_byte_string_labels_become_text(tmp_path: Path) -> None:
    path = tmp_path / "b.npz"
    np.savez(path, X=np.arange(16.0).reshape(8, 2), y=np.array([b"cat", b"dog"] * 4))
    assert load_dataset("npz", path=str(path)).classes == ("cat", "dog")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("spirals(turns=1e308)", r"spirals: turns must be a number > 0, got 1e\+308; allowed"),
        ("gaussians(std=1e308)", r"gaussians: std must be a number > 0, got 1e\+308; allowed"),
        (f"gaussians(distance={NINES})", r"gaussians: distance .* \(400 digits\); allowed: \[0, "),
        (
            "moons(noise=inf)",
            r"moons: noise must be a number >= 0, got inf; allowed: \[0, 1e\+90\]",
        ),
        ("circles(noise=nan)", "circles: noise must be a number >= 0, got nan"),
        (
            "blobs(k=1000, samples=1000)",
            r"blobs: samples \(1000\) must be at least 2 \* k \(2000\)",
        ),
        ("spirals(arms=3, samples=5)", r"spirals: samples \(5\) must be at least 2 \* arms \(6\)"),
        (f"blobs(k={NINES})", r"blobs: samples \(300\) must be at least 2 \* k"),
    ],
)
def test_dataset_parameters_out_of_range(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_dataset(spec)


@pytest.mark.parametrize("spec", ["moons(samples=10000000000000)", f"xor(samples={NINES})"])
def test_samples_that_cannot_fit_are_refused_before_drawing(spec: str) -> None:
    with pytest.raises(MemoryLimitError, match=r"samples .* allowed: 2 to 83333333$") as caught:
        load_dataset(spec)
    assert caught.value.largest == AVAILABLE // (8 * memory.DATA_COPIES * 3)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("complex_labels.npz", r"labels 'y' must be integers, real numbers, .*complex128"),
        ("complex_features.npz", r"features 'X' must be real numbers, got dtype complex128"),
        ("empty.npz", r"empty\.npz' is empty \(0 bytes\)"),
        ("text.npz", r"text\.npz' is not an NPZ archive"),
        ("npy.npz", r"npy\.npz' is a \.npy array"),
        ("objects.npz", "array 'X' holds Python objects, which initlab does not load"),
    ],
)
def test_bad_npz_files(tmp_path: Path, name: str, message: str) -> None:
    make_files(tmp_path)
    with pytest.raises(ValueError, match=message) as caught:
        load_dataset("npz", path=str(tmp_path / name))
    assert "pickle=" not in str(caught.value)


@pytest.mark.parametrize("standardize", [False, True])
def test_features_beyond_the_limit_are_named_with_the_file(tmp_path: Path, standardize) -> None:
    make_files(tmp_path)
    with pytest.raises(ValueError, match=r"huge\.csv': feature 0 of sample \d+ is -?1e\+308"):
        load_dataset("csv", path=str(tmp_path / "huge.csv"), label="y",
                     standardize_features=standardize)  # fmt: skip


def test_check_features_names_the_place_the_feature_and_the_sample() -> None:
    X = np.zeros((3, 4))  # column-wise: 3 features, 4 samples
    check_features(X, "here", columns=True)
    check_features(np.full((2, 2), 1e100), "here")  # the limit itself is allowed
    X[1, 2] = np.inf
    with pytest.raises(
        ValueError, match=r"here has missing or non-finite .* feature 1 of sample 2"
    ):
        check_features(X, "here", columns=True)
    X[1, 2] = -2e100
    with pytest.raises(ValueError, match=r"here: feature 1 of sample 2 is -2e\+100"):
        check_features(X, "here", columns=True)


def test_a_split_with_only_single_sample_classes_names_the_cause() -> None:
    with pytest.raises(ValueError, match=r"every one of the 4 classes has a single sample"):
        split(np.zeros((4, 2)), np.arange(4), 0.5, np.random.default_rng(0))


# --- sizes: every training entry point ----------------------------------------

NET = Network((2, 3, 1), ("relu",))


def small_data() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((2, 4)), np.array([[0, 1, 0, 1]])


def test_gradient_descent_refuses_iterations_that_cannot_fit() -> None:
    params = initialize(NET, "he", np.random.default_rng(0))
    with pytest.raises(MemoryLimitError, match=r"^iterations 1000000000000 needs about") as caught:
        gradient_descent(NET, params, *small_data(), learning_rate=0.1, iterations=10**12)
    assert caught.value.parameter == "iterations"


@pytest.mark.parametrize(("unit", "per_epoch"), [("iterations", 1), ("epochs", 2)])
def test_fit_refuses_updates_that_cannot_fit(unit: str, per_epoch: int) -> None:
    params = initialize(NET, "he", np.random.default_rng(0))
    X, Y = small_data()
    with pytest.raises(MemoryLimitError, match=rf"^{unit} 1000000000000 needs about") as caught:
        fit(NET, params, X, Y, get_optimizer("adam"), batch_size=2, rng=np.random.default_rng(0),
            **{unit: 10**12})  # fmt: skip
    # the largest that fits, by the formula: 8 (T + 2P + (2 + 2) P + 2 b S) <= AVAILABLE
    P, S, b = 13, 6, 2
    assert caught.value.largest == (AVAILABLE // 8 - 6 * P - 2 * b * S) // per_epoch


def test_train_population_refuses_iterations_that_cannot_fit() -> None:
    from initlab.engine import train_population

    starts = [initialize(NET, "he", np.random.default_rng(s)) for s in range(4)]
    with pytest.raises(MemoryLimitError, match=r"^iterations 1000000000000 needs about"):
        train_population(NET, starts, *small_data(), learning_rate=0.1, iterations=10**12)


def test_course_and_train_configs_refuse_sizes_that_cannot_fit() -> None:
    with pytest.raises(MemoryLimitError, match=r"iterations .* allowed: 1 to 333322169$"):
        prepare(course_config(iterations=10**12))
    with pytest.raises(MemoryLimitError, match=r"^hidden 100000,100000 needs about"):
        prepare(TrainConfig(hidden=(100000, 100000)))
    with pytest.raises(MemoryLimitError, match=r"^epochs 1000000000000 needs about"):
        prepare(TrainConfig(optimizer="sgd", epochs=10**12))
    with pytest.raises(MemoryLimitError, match=r"^iterations"):  # more runs than the config's
        prepare(course_config(iterations=10**8, inits=("he",) * 10))


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"max_iter": 10**12}, "max_iter"),
        ({"hidden_layer_sizes": (10**5, 10**5)}, "hidden_layer_sizes"),
    ],
)
def test_estimator_refuses_sizes_that_cannot_fit(params: dict, name: str) -> None:
    X, y = np.zeros((20, 2)), np.arange(20) % 2
    with pytest.raises(MemoryLimitError, match=rf"^{name} "):
        InitMLPClassifier(**params).fit(X, y)


# --- the estimate itself ----------------------------------------------------------


def test_training_bytes_formula_for_a_small_case() -> None:
    # layers 2-3-1: P = 3*3 + 4*1 = 13 parameters, S = 6 units; T = 5, R = 2, C = 1, b = 4, adam
    # 8 * (T R + 2 R P + C ((2 + s) P + 2 b S)) = 8 * (10 + 52 + 52 + 48)
    assert training_bytes((2, 3, 1), updates=5, batch=4, runs=2, optimizer_slots=2) == 1296
    assert memory.parameter_count((64, 100, 10)) == 65 * 100 + 101 * 10


def test_big_settings_that_fit_pass_and_the_boundary_is_exact() -> None:
    prepare(course_config(iterations=333322169))  # the largest that fits: accepted
    with pytest.raises(MemoryLimitError):
        prepare(course_config(iterations=333322170))
    widest = 7376  # the largest width the --hidden 100000,100000 message allows
    sizes = dict(updates=1000, batch=224, optimizer_slots=2, runs=3, concurrent=3)
    assert check_training((2, widest, widest, 1), **sizes) <= AVAILABLE
    with pytest.raises(MemoryLimitError):
        check_training((2, widest + 1, widest + 1, 1), **sizes)
    check_samples("samples", 83333333, 2)
    with pytest.raises(MemoryLimitError):
        check_samples("samples", 83333334, 2)


def test_a_dataset_as_large_as_memory_allows_is_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 8 * memory.DATA_COPIES * 3 * 1000)
    data = load_dataset("moons(samples=1000)")
    assert data.X_train.shape[1] + data.X_test.shape[1] == 1000
    with pytest.raises(MemoryLimitError, match="allowed: 2 to 1000"):
        load_dataset("moons(samples=1001)")


def test_the_default_course_and_train_fit_in_real_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the machine's own memory
    import os

    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert 0 < memory.available_bytes() <= physical
    prepare(course_config())
    prepare(TrainConfig(dataset="digits", hidden=(64,), epochs=20))


@pytest.mark.parametrize(("optimizer", "batch"), [("adam", 400), ("sgd", 50)])
def test_the_estimate_is_near_the_measured_peak(optimizer: str, batch: int) -> None:
    """NumPy reports its allocations to tracemalloc: the estimate must not undercount them."""
    import tracemalloc

    sizes = (16, 400, 400, 4)
    net = Network(sizes, ("relu", "relu"), "softmax")
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((16, 400)), rng.integers(0, 4, (1, 400))
    params = initialize(net, "he", rng)
    estimate = training_bytes(
        sizes, updates=3, batch=batch, optimizer_slots=2 * (optimizer == "adam")
    )
    tracemalloc.start()
    try:
        fit(net, params, X, Y, get_optimizer(optimizer), iterations=3, batch_size=batch, rng=rng)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 0.5 * estimate < peak < 1.5 * estimate
