"""Bad specs, parameters and custom initializers: one line, exit 2, nothing written.

The corpus covers the spec items of the bad-input contract (see tests/badinput.py):
parameters that overflow or are not finite, messages that must name the user's value
and the real cause, user code that raises, recurses or is not an initializer, and
case-insensitive names. Every CLI case asserts exit code 2, a single ``initlab: error:``
line naming the parameter (or initializer) and its allowed range, no traceback, and no
file under ``--out``; every API case the ``ValueError`` naming the same.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import subprocess
import sys
import textwrap
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from badinput import assert_one_line_error, files_under, run_cli
from initlab.activations import (
    ACTIVATION_FACTORIES,
    canonical_activation,
    get_activation,
    leaky_relu,
)
from initlab.datasets import load_dataset, resolve_spec
from initlab.initializers import (
    CATALOGUE,
    Normal,
    Uniform,
    VarianceScaling,
    get_initializer,
    glorot_normal,
    he_normal,
    initialize,
)
from initlab.initializers.registry import canonical_initializer
from initlab.network import Network
from initlab.optimizers import OPTIMIZERS, Adam, get_optimizer
from initlab.spec import Range, declared_params, parse_spec

NINES = "9" * 400
SHOWN_NINES = "999999999999...9999 (400 digits)"  # how a 400-digit literal is quoted back

# --- overflowing and non-finite parameters: the CLI ------------------------------------

GAIN = "gain must be a number with 1e-150 <= |gain| <= 1e+150"
TRAIN_CASES = [
    (["--init", "glorot_normal(gain=1e300)"], ["'--init'", f"glorot_normal: {GAIN}, got 1e+300"]),
    (["--init", "glorot_uniform(gain=1e-200)"], ["glorot_uniform", GAIN, "got 1e-200"]),
    (
        ["--init", "uniform(low=-1e308, high=1e308)"],
        ["uniform: low must be a number with |low| <= 1e+150, got -1e+308"],
    ),
    (
        ["--init", f"normal(std={NINES})"],
        [f"normal: std must be a number in [0, 1e+150], got {SHOWN_NINES}"],
    ),
    (["--init", "normal(std=1e999)"], ["std must be a number in [0, 1e+150], got 1e999"]),
    (["--init", "normal(std=inf)"], ["std", "got inf"]),
    (["--init", "normal(mean=-inf)"], ["mean must be a number with |mean| <= 1e+150, got -inf"]),
    (["--init", "normal(std=NaN)"], ["std", "got NaN"]),
    (["--init", "constant(1e999)"], ["constant: value", "got 1e999"]),
    (["--init", "random(scale=1e200)"], ["random: scale", "|scale| <= 1e+150", "got 1e+200"]),
    (["--init", "variance_scaling(scale=1e301)"], ["scale must be a number in (0, 1e+300]"]),
    (["--init", "variance_scaling(scale=0)"], ["scale must be a number in (0, 1e+300], got 0"]),
    (["--init", "truncated_normal(a=-inf)"], ["truncated_normal: a must be a finite number"]),
    (["--init", "orthogonal(gain=1e151)"], ["orthogonal: gain", "got 1e+151"]),
    (["--init", "sparse(sparsity=1)"], ["sparse: sparsity must be a number in [0, 1), got 1"]),
    (["--init", "lsuv(max_iter=0)"], ["lsuv: max_iter must be a positive integer, got 0"]),
    (["--init", "lsuv(tol=0)"], ["lsuv: tol must be a positive finite number, got 0"]),
    (["--init", "lsuv(max_iter=2.5)"], ["max_iter must be a positive integer, got 2.5"]),
    (["--bias-init", "constant(value=1e200)"], ["'--bias-init'", "|value| <= 1e+150"]),
    # the real cause, named: the gain 2 / (1 + a^2) underflowed to a scale of 0.0
    (["--init", "he_normal(a=1e200)"], ["he_normal: a must be a number with |a| <= 1e+150"]),
    (["--init", "he_uniform(a=-1e200)"], ["he_uniform: a", "got -1e+200"]),
    (["--init", "he_normal(mode=fan_avg)"], ["unknown mode 'fan_avg'; choose one of: fan_in"]),
    (
        ["--optimizer", f"adam(beta1={NINES})"],
        ["'--optimizer'", "beta1 must be a number in [0, 1)", SHOWN_NINES],
    ),
    (["--optimizer", "adam(beta2=1)"], ["adam: beta2 must be a number in [0, 1), got 1"]),
    (["--optimizer", "adam(eps=0)"], ["adam: eps must be a positive finite number, got 0"]),
    (["--optimizer", "momentum(beta=inf)"], ["beta must be a number in [0, 1), got inf"]),
    (
        ["--activation", f"leaky_relu(slope={NINES})"],
        ["'--activation'", "slope must be a number with |slope| <= 1e+150", SHOWN_NINES],
    ),
    (["--activation", "elu(alpha=1e999)"], ["alpha must be a number in [0, 1e+150], got 1e999"]),
    (["--learning-rate", "0"], ["'--learning-rate'", "must be a positive finite number, got 0"]),
    (["--learning-rate", NINES], ["must be a positive finite number", SHOWN_NINES]),
    (["--learning-rate", "1e999"], ["must be a positive finite number, got 1e999"]),
]


@pytest.mark.parametrize("args, fragments", TRAIN_CASES, ids=[" ".join(c[0]) for c in TRAIN_CASES])
def test_train_refuses_bad_parameters(capsys, tmp_path, args, fragments):
    out = tmp_path / "out"
    code, _, err = run_cli(
        capsys, "train", "--dataset", "moons", "--iterations", "2", *args, "--out", str(out)
    )
    assert_one_line_error(code, err, *fragments)
    assert files_under(out) == []


def test_he_normal_overflow_no_longer_blames_the_scale(capsys):
    code, _, err = run_cli(capsys, "inits", "he_normal(a=1e200)")
    assert_one_line_error(code, err, "a must be", "got 1e+200")
    assert "scale" not in err and "0.0" not in err


CATALOGUE_CASES = [
    (["inits", "glorot_normal(gain=1e300)"], [GAIN, "got 1e+300"]),
    (["inits", f"normal(std={NINES})"], ["std", SHOWN_NINES]),
    (["inits", "Normal(STD=-1)"], ["normal: std must be a number in [0, 1e+150], got -1"]),
    (["activations", f"leaky_relu(slope={NINES})"], ["slope", "|slope| <= 1e+150", SHOWN_NINES]),
    (["activations", "leaky_relu(slope=-inf)"], ["slope", "got -inf"]),
    (["activations", "elu(alpha=-1)"], ["alpha must be a number in [0, 1e+150], got -1"]),
]


@pytest.mark.parametrize("args, fragments", CATALOGUE_CASES, ids=[c[0][1] for c in CATALOGUE_CASES])
def test_catalogue_commands_refuse_bad_parameters(capsys, args, fragments):
    code, out, err = run_cli(capsys, *args)
    assert_one_line_error(code, err, *fragments)
    assert out == ""


# --- the same through the Python API ----------------------------------------------------

API_CASES = [
    (lambda: get_initializer("glorot_normal(gain=1e300)"), [GAIN]),
    (lambda: glorot_normal(gain=1e300), [GAIN]),
    (lambda: glorot_normal(gain=np.float32(0)), [GAIN, "got 0.0"]),
    (lambda: get_initializer("glorot_normal", gain=math.inf), [GAIN, "got inf"]),
    (lambda: he_normal(a=1e200), ["he_normal: a must be a number with |a| <= 1e+150"]),
    (lambda: Uniform(low=-1e308, high=1e308), ["uniform: low"]),
    (lambda: Uniform(low=2, high=1), ["low must be <= high"]),
    (lambda: Normal(std=10**400), ["normal: std", "(401 digits)"]),
    (lambda: Normal(std=True), ["normal: std", "got True"]),
    (lambda: Normal(std="abc"), ["normal: std", "got 'abc'"]),
    (lambda: VarianceScaling(scale=math.inf), ["variance_scaling: scale", "got inf"]),
    (lambda: VarianceScaling(mode="fan_sum"), ["unknown mode 'fan_sum'"]),
    (lambda: get_initializer(f"normal(std={NINES})"), ["std", SHOWN_NINES]),
    (lambda: get_initializer("normal(1e999)"), ["normal: mean", "got 1e999"]),
    (lambda: get_activation(f"leaky_relu(slope={NINES})"), ["slope", SHOWN_NINES]),
    (lambda: leaky_relu(slope=math.nan), ["slope", "got nan"]),
    (lambda: get_optimizer(f"adam(beta1={NINES})"), ["beta1", "[0, 1)", SHOWN_NINES]),
    (lambda: Adam(beta1=1.0), ["adam: beta1 must be a number in [0, 1), got 1.0"]),
    (lambda: Adam(learning_rate=True), ["learning_rate must be a positive finite number"]),
    (lambda: get_optimizer("sgd", learning_rate=0), ["sgd: learning_rate", "got 0"]),
    (lambda: get_optimizer("sgd", weight_decay=-1.0), ["weight_decay", ">= 0", "got -1.0"]),
    (lambda: load_dataset(f"gaussians(distance={NINES})"), ["distance", "(400 digits)"]),
    (lambda: get_initializer("normal(std=1, STD=2)"), ["'std' given twice"]),
]


@pytest.mark.parametrize("call, fragments", API_CASES)
def test_api_names_the_parameter_its_range_and_the_value(call, fragments):
    with pytest.raises(ValueError) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_numpy_reals_are_numbers_and_bools_are_not():
    assert get_optimizer("sgd", learning_rate=np.float32(0.5)).learning_rate == 0.5
    assert get_initializer("normal", std=np.float64(2.0)).std == 2.0
    assert get_initializer("lsuv", max_iter=np.int64(3)).max_iter == 3
    with pytest.raises(ValueError, match="max_iter must be a positive integer, got True"):
        get_initializer("lsuv", max_iter=True)


def test_non_finite_literals_are_marked_by_the_parser():
    for literal in ("inf", "-inf", "nan", "NaN", "1e999", "-1e999", NINES):
        ((_, value),) = parse_spec(f"f(x={literal})")[2]
        assert not math.isfinite(value) and value.text == literal
    ((_, value),) = parse_spec("f(x=1e308)")[2]
    assert value == 1e308 and type(value) is float


# --- the extremes a range allows work ---------------------------------------------------


@pytest.mark.parametrize(
    "spec", ["glorot_normal(gain=1e150)", "glorot_uniform(gain=-1e-150)", "he_normal(a=1e150)",
             "he_uniform(a=-1e150)", "uniform(low=-1e150, high=1e150)", "normal(1e150, 1e150)",
             "variance_scaling(scale=1e300, distribution=truncated_normal)", "random(-1e150)"],
)  # fmt: skip
def test_the_largest_allowed_values_draw_finite_weights_and_moments(spec):
    init = get_initializer(spec)
    w = init(np.random.default_rng(0), (3, 2))
    assert np.isfinite(w).all() and w.any()
    moments = init.moments(2, 3)
    assert math.isfinite(moments.second_moment) and moments.second_moment > 0


# --- the audit: every parameter of every registry entry declares its range -------------


def _factories():
    for name, info in CATALOGUE.items():
        yield f"initializer {name}", info.factory
    for name, factory in ACTIVATION_FACTORIES.items():
        yield f"activation {name}", factory
    for name, cls in OPTIMIZERS.items():
        yield f"optimizer {name}", cls


FACTORIES = list(_factories())


@pytest.mark.parametrize("label, factory", FACTORIES, ids=[f[0] for f in FACTORIES])
def test_every_parameter_declares_its_range(label, factory):
    declared = declared_params(factory)
    if inspect.isclass(factory) and hasattr(factory, "__dataclass_fields__"):
        names = [f.name for f in fields(factory) if f.init]
    else:
        names = list(inspect.signature(factory).parameters)
    assert sorted(declared) == sorted(names), label
    for name, param in declared.items():
        if isinstance(param, Range):
            bad = [math.inf, -math.inf, math.nan, True, "not a number"]
            bad += [] if param.integer else [10**400]  # an int beyond float64
        else:  # a choice, or an activation name
            bad = [3.5, "no_such_choice"]
        for value in bad:
            with pytest.raises(ValueError) as info:
                factory(**{name: value})
            message = str(info.value)
            assert (
                f"{name} must be" in message
                or f"unknown {name}" in message
                or (f"{name}:" in message)
            ), message
            if isinstance(param, Range):
                assert param.describe(name) in message


@pytest.mark.parametrize("name", sorted(n for n, i in CATALOGUE.items() if i.params))
def test_inits_help_prints_every_range(capsys, name):
    code, out, _ = run_cli(capsys, "inits", name)
    assert code == 0
    for key, param in CATALOGUE[name].params.items():
        assert f"  {key}" in out and param.describe(key) in out, (key, out)


def test_activations_help_prints_the_range(capsys):
    code, out, _ = run_cli(capsys, "activations", "elu")
    assert code == 0
    assert "alpha = 1.0: a number in [0, 1e+150]" in out


# --- user code as an initializer ---------------------------------------------------------

USER_MODULE = textwrap.dedent(
    """
    import pathlib
    import numpy as np

    CALLED = pathlib.Path(__file__).with_name("system_was_called")

    def good(rng, shape):
        return 0.1 * rng.standard_normal(shape)

    def raises(rng, shape):
        raise RuntimeError("boom")

    def recurses(rng, shape):
        return recurses(rng, shape)

    def exits(rng, shape):
        raise SystemExit(3)

    def returns_none(rng, shape):
        return None

    def returns_text(rng, shape):
        return "weights"

    def wrong_shape(rng, shape):
        return np.zeros((2, 2))

    def system(command):  # like os.system: one argument, a side effect
        CALLED.write_text(repr(command))
        return 0

    def factory_raises(scale=1.0):
        raise ValueError(f"bad scale {scale}")

    def gives_a_system(scale=1.0):
        return system

    class Broken:
        def __init__(self):
            raise KeyError("no state")

    class BadMoments:
        def __call__(self, rng, shape):
            return np.ones(shape)

        def moments(self, fan_in, fan_out):
            return 1 / 0
    """
)


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    """``badinits.py`` (and a module whose import recurses) in the current directory."""
    (tmp_path / "badinits.py").write_text(USER_MODULE)
    (tmp_path / "recursive_import.py").write_text("def f(n):\n    return f(n + 1)\n\nf(0)\n")
    monkeypatch.chdir(tmp_path)
    assert str(tmp_path) not in sys.path  # found through the current directory, not the path
    yield tmp_path
    for module in ("badinits", "recursive_import"):
        sys.modules.pop(module, None)


CUSTOM_CASES = [
    ("badinits:raises", ["custom initializer 'badinits:raises' raised RuntimeError: boom"]),
    ("badinits:recurses", ["custom initializer 'badinits:recurses' raised RecursionError"]),
    ("badinits:exits", ["custom initializer 'badinits:exits' raised SystemExit: 3"]),
    ("badinits:returns_none", ["'badinits:returns_none' returned NoneType, not an array"]),
    ("badinits:returns_text", ["'badinits:returns_text' returned str, not an array"]),
    ("badinits:wrong_shape", ["returned shape (2, 2) for W[1], expected (10, 2)"]),
    ("badinits:system", ["'badinits:system' is not an initializer", "takes (command)"]),
    ("os:system", ["custom initializer 'os:system' is not an initializer", "takes (command)"]),
    ("badinits:gives_a_system(scale=2)", ["is not an initializer", "takes (command)"]),
    ("badinits:factory_raises(scale=2)", ["raised ValueError: bad scale 2"]),
    ("badinits:Broken", ["custom initializer 'badinits:Broken' raised KeyError: 'no state'"]),
    ("recursive_import:f", ["cannot import module 'recursive_import' (RecursionError"]),
    ("no_such_module_here:f", ["looked in the current directory and on the import path"]),
    (f"badinits:good(scale={NINES})", ["custom initializer 'badinits:good'", SHOWN_NINES]),
    ("badinits:good(1e999)", ["'badinits:good': positional value 1 must be a finite number"]),
]


@pytest.mark.parametrize("spec, fragments", CUSTOM_CASES, ids=[c[0] for c in CUSTOM_CASES])
def test_bad_custom_initializer_is_one_line(capsys, user_dir, spec, fragments):
    out = user_dir / "out"
    code, _, err = run_cli(
        capsys, "train", "--dataset", "moons", "--iterations", "2", "--init", spec,
        "--out", str(out), "-q",
    )  # fmt: skip
    assert_one_line_error(code, err, *fragments)
    assert files_under(out) == []
    assert not (user_dir / "system_was_called").exists()


@pytest.mark.parametrize("spec, fragments", CUSTOM_CASES, ids=[c[0] for c in CUSTOM_CASES])
def test_bad_custom_initializer_raises_value_error(user_dir, spec, fragments):
    net = Network((2, 10, 1), ("relu",))
    with pytest.raises(ValueError) as info:
        initialize(net, spec, np.random.default_rng(0))
    for fragment in fragments:
        assert fragment in str(info.value)
    assert not (user_dir / "system_was_called").exists()


def test_bad_custom_bias_initializer_and_moments(capsys, user_dir):
    code, _, err = run_cli(
        capsys, "train", "--dataset", "moons", "--iterations", "2", "--bias-init",
        "badinits:raises", "--out", str(user_dir / "out"),
    )  # fmt: skip
    assert_one_line_error(code, err, "custom initializer 'badinits:raises' raised RuntimeError")
    code, _, err = run_cli(capsys, "inits", "badinits:BadMoments")
    assert_one_line_error(code, err, "'badinits:BadMoments' raised ZeroDivisionError")


def test_custom_initializer_from_the_current_directory(user_dir):
    init = get_initializer("badinits:good")
    np.testing.assert_array_equal(
        init(np.random.default_rng(3), (4, 2)),
        0.1 * np.random.default_rng(3).standard_normal((4, 2)),
    )
    assert str(user_dir) not in sys.path  # added for the lookup only


def _run_console_style(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``initlab ARGS`` as the console script runs it: the current directory not on sys.path.

    ``python -P`` does not put the current directory first, as ``python -m`` would.
    """
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-P", "-m", "initlab", *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=300,
    )  # fmt: skip


def test_console_script_finds_a_module_in_the_current_directory(user_dir):
    proc = _run_console_style(
        user_dir, "train", "--dataset", "moons", "--init", "badinits:good", "--iterations", "3",
        "--out", "out", "-q",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    runs = json.loads((user_dir / "out" / "results.json").read_text())["runs"]
    assert [run["init"] for run in runs] == ["badinits:good"]
    proc = _run_console_style(
        user_dir, "train", "--init", "badinits:recurses", "--iterations", "3", "--out", "bad"
    )
    assert_one_line_error(proc.returncode, proc.stderr, "'badinits:recurses' raised RecursionError")
    assert files_under(user_dir / "bad") == []


# --- names are case-insensitive -----------------------------------------------------------


@pytest.mark.parametrize(
    "spec, canonical, same_as",
    [("He", "he", "he"), ("HE_NORMAL", "he_normal", "he_normal"),
     ("Xavier_Normal", "xavier_normal", "glorot_normal"),
     ("Normal(STD=0.5)", "normal(std=0.5)", "normal(std=0.5)"),
     ("NORMAL(0.5, Std=2)", "normal(0.5, std=2)", "normal(mean=0.5, std=2)"),
     ("he_normal(mode=FAN_OUT)", "he_normal(mode=FAN_OUT)", "he_normal(mode=fan_out)"),
     ("ZerO", "ZerO", "zero_hadamard"),
     ("normal( std = 0.5 )", "normal( std = 0.5 )", "normal(std=0.5)")],
)  # fmt: skip
def test_initializer_names_are_case_insensitive(spec, canonical, same_as):
    assert get_initializer(spec) == get_initializer(same_as)
    assert canonical_initializer(spec) == canonical  # already canonical text is kept as written


def test_choice_values_fold_case():
    assert get_initializer("he_normal(mode=FAN_OUT, nonlinearity=TanH)").mode == "fan_out"
    assert get_initializer("he_normal(nonlinearity=TanH)") == get_initializer(
        "he_normal(nonlinearity=tanh)"
    )
    assert get_initializer("sklearn_mlp(activation=Sigmoid)").activation == "logistic"


def test_activation_optimizer_and_dataset_names_are_case_insensitive():
    relu = get_activation("ReLU")
    assert relu.name == "relu"
    np.testing.assert_array_equal(relu(np.arange(-2.0, 3.0)), [0, 0, 0, 1, 2])
    assert canonical_activation("ReLU") == "relu"
    assert canonical_activation("Leaky_ReLU(Slope=0.2)") == "leaky_relu(slope=0.2)"
    assert (
        get_activation("Leaky_ReLU(Slope=0.2)").gain == get_activation("leaky_relu(slope=0.2)").gain
    )
    assert canonical_activation("Swish") == "swish"
    assert get_optimizer("Adam") == get_optimizer("adam")
    assert get_optimizer("MOMENTUM(Beta=0.5)").beta == 0.5
    assert resolve_spec("Moons")[0].name == "moons"


@pytest.mark.parametrize(
    "call, suggestion",
    [(lambda: get_initializer("He_Norml"), "did you mean 'he_normal'?"),
     (lambda: get_initializer("ZERO"), "did you mean 'zeros'?"),
     (lambda: get_activation("RELLU"), "did you mean 'relu'?"),
     (lambda: get_optimizer("Adamm"), "did you mean 'adam'?"),
     (lambda: resolve_spec("MOONZ"), "did you mean 'moons'?")],
)  # fmt: skip
def test_did_you_mean_ignores_case(call, suggestion):
    with pytest.raises(ValueError, match=suggestion):
        call()


def test_train_records_the_registered_spelling(capsys, tmp_path):
    out = tmp_path / "out"
    code, _, err = run_cli(
        capsys, "train", "--dataset", "Moons", "--init", "He", "--init", "HE_NORMAL",
        "--init", "Normal(STD=0.1)", "--activation", "ReLU", "--optimizer", "Adam",
        "--iterations", "2", "--out", str(out), "-q",
    )  # fmt: skip
    assert code == 0, err
    document = json.loads((out / "results.json").read_text())
    config = document["config"]
    assert config["inits"] == ["he", "he_normal", "normal(std=0.1)"]
    assert [run["init"] for run in document["runs"]] == config["inits"]
    assert config["network"]["activations"] == ["relu", "relu"]
    assert config["optimizer"]["name"] == "adam" and config["dataset"]["name"] == "moons"


def test_inits_and_activations_take_any_case(capsys):
    code, out, _ = run_cli(capsys, "inits", "He_Normal")
    assert code == 0 and out.startswith("he_normal")
    code, out, _ = run_cli(capsys, "activations", "ReLU")
    assert code == 0 and out.startswith("relu")
