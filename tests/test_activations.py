"""Activations against oracles: finite differences, torch's gain table, quadrature."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initlab.activations import (
    ACTIVATION_ALIASES,
    ACTIVATION_FACTORIES,
    ACTIVATIONS,
    SELU_ALPHA,
    SELU_LAMBDA,
    Activation,
    get_activation,
    second_moment_gain,
)
from initlab.engine import train_population
from initlab.fit import gradient_descent
from initlab.initializers import initialize
from initlab.network import Network, Parameters, loss_and_gradients

SPECS = [
    "relu",
    "leaky_relu",
    "leaky_relu(slope=0.2)",
    "leaky_relu(slope=-0.5)",
    "tanh",
    "sigmoid",
    "identity",
    "elu",
    "elu(alpha=0.5)",
    "selu",
    "gelu",
    "softplus",
    "silu",
    "swish",
    "linear",
]

# Points away from the kinks at 0 (relu, leaky_relu, elu with alpha != 1).
Z = np.concatenate([np.linspace(-6, -1e-2, 400), np.linspace(1e-2, 6, 400)])


@pytest.mark.parametrize("spec", SPECS)
def test_derivative_matches_central_differences(spec):
    act = get_activation(spec)
    h = 1e-6
    numeric = (act.forward(Z + h) - act.forward(Z - h)) / (2 * h)
    analytic = act.derivative(Z, act.forward(Z))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("spec", SPECS)
def test_forward_is_finite_and_quiet_on_extreme_inputs(spec):
    act = get_activation(spec)
    z = np.array([-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4])
    a = act.forward(z)  # filterwarnings=error turns any overflow warning into a failure
    assert a.shape == z.shape and np.isfinite(a).all()
    assert np.isfinite(act.derivative(z, a)).all()


FORMULAS = {
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu(slope=0.2)": lambda z: np.where(z > 0, z, 0.2 * z),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "identity": lambda z: z,
    "elu(alpha=0.5)": lambda z: np.where(z > 0, z, 0.5 * (np.exp(z) - 1)),
    "selu": lambda z: SELU_LAMBDA * np.where(z > 0, z, SELU_ALPHA * (np.exp(z) - 1)),
    "gelu": lambda z: 0.5 * z * (1 + np.vectorize(math.erf)(z / math.sqrt(2))),
    "softplus": lambda z: np.log1p(np.exp(z)),
    "silu": lambda z: z / (1 + np.exp(-z)),
}


@pytest.mark.parametrize("spec", sorted(FORMULAS))
def test_forward_matches_textbook_formula(spec):
    z = np.linspace(-5, 5, 101)
    np.testing.assert_allclose(
        get_activation(spec).forward(z), FORMULAS[spec](z), rtol=1e-12, atol=1e-14
    )


# torch.nn.init.calculate_gain's table, written out
TORCH_GAINS = [
    ("identity", 1.0),
    ("linear", 1.0),
    ("sigmoid", 1.0),
    ("tanh", 5.0 / 3.0),
    ("relu", math.sqrt(2.0)),
    ("leaky_relu", math.sqrt(2.0 / (1 + 0.01**2))),
    ("leaky_relu(slope=0.2)", math.sqrt(2.0 / 1.04)),
    ("selu", 0.75),
]


@pytest.mark.parametrize("spec, gain", TORCH_GAINS)
def test_torch_gains(spec, gain):
    assert get_activation(spec).gain == pytest.approx(gain, rel=1e-15)


def _hermite_second_moment(f, degree: int = 300) -> float:
    nodes, weights = np.polynomial.hermite_e.hermegauss(degree)
    return float(np.sum(weights * f(nodes) ** 2) / math.sqrt(2 * math.pi))


@pytest.mark.parametrize("spec", ["elu", "elu(alpha=0.5)", "gelu", "softplus", "silu"])
def test_rule_gains_against_gauss_hermite_and_monte_carlo(spec):
    act = get_activation(spec)
    assert act.gain == act.second_moment_gain
    # an independent quadrature (Gauss-Hermite on the whole line) ...
    assert act.gain == pytest.approx(1 / math.sqrt(_hermite_second_moment(act.forward)), rel=1e-5)
    # ... and a Monte Carlo estimate within 6 standard errors
    z = np.random.default_rng(0).standard_normal(400_000)
    sq = act.forward(z) ** 2
    assert abs(sq.mean() - act.gain**-2) < 6 * sq.std() / math.sqrt(z.size)


def test_rule_agrees_with_torch_where_both_apply_and_says_where_not():
    assert second_moment_gain(get_activation("relu").forward) == pytest.approx(math.sqrt(2))
    leaky = get_activation("leaky_relu(slope=0.3)")
    assert leaky.second_moment_gain == pytest.approx(leaky.gain, rel=1e-9)
    assert get_activation("selu").second_moment_gain == pytest.approx(1.0, abs=1e-6)
    assert get_activation("tanh").second_moment_gain == pytest.approx(1.5925374, rel=1e-6)


def test_registry_and_aliases():
    assert set(ACTIVATIONS) == set(ACTIVATION_FACTORIES)
    for alias, name in ACTIVATION_ALIASES.items():
        act, canonical = get_activation(alias), get_activation(name)
        assert act.name == name and act.gain == canonical.gain
        np.testing.assert_array_equal(act(Z), canonical(Z))
        np.testing.assert_array_equal(
            act.derivative(Z, act(Z)), canonical.derivative(Z, canonical(Z))
        )
    for act in ACTIVATIONS.values():
        assert act.formula and act.derivative_formula and act.gain_rule and act.gain > 0


def test_lookup_is_cached_and_accepts_activation_objects():
    first = get_activation("leaky_relu(slope=0.1)")
    assert get_activation("leaky_relu(slope=0.1)") is first
    assert get_activation(first) is first
    assert first.name == "leaky_relu(slope=0.1)" and first.params == {"slope": 0.1}
    assert get_activation("elu(0.5)").params == {"alpha": 0.5}


@pytest.mark.parametrize(
    "spec, message",
    [
        ("rellu", "did you mean 'relu'"),
        ("Rellu", "did you mean 'relu'"),
        ("softmax", "choose one of: elu, gelu"),
        ("leaky_relu(slop=0.1)", "bad parameters"),
        ("leaky_relu(slope=abc)", r"slope must be a number with \|slope\| <= 1e\+150, got 'abc'"),
        ("leaky_relu(slope=inf)", r"slope must be a number with \|slope\| <= 1e\+150, got inf"),
        ("elu(alpha=-1)", r"alpha must be a number in \[0, 1e\+150\], got -1"),
        ("relu(1)", "bad parameters"),
        ("relu(", "malformed"),
        ("", "malformed"),
    ],
)
def test_bad_activation_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        get_activation(spec)
    with pytest.raises(ValueError, match=message):
        Network((2, 3, 1), (spec,))


def test_non_string_activation():
    with pytest.raises(ValueError, match="must be a name"):
        get_activation(3)  # type: ignore[arg-type]
    assert isinstance(get_activation("relu"), Activation)


def test_network_gradients_with_every_activation():
    """A network mixing every activation: backprop against central differences of the loss."""
    specs = ["leaky_relu(slope=0.1)", "tanh", "elu(alpha=0.7)", "selu", "gelu", "softplus",
             "swish", "sigmoid", "identity", "relu"]  # fmt: skip
    net = Network((3, *([4] * len(specs)), 1), tuple(specs))
    rng = np.random.default_rng(0)
    params = initialize(net, "glorot_normal(gain=1.3)", rng, bias_init="normal(std=0.1)")
    X = rng.standard_normal((3, 7))
    Y = (rng.random((1, 7)) > 0.5).astype(float)
    _, grads = loss_and_gradients(net, params, X, Y)
    h = 1e-6
    for group, grad_group in ((params.weights, grads.weights), (params.biases, grads.biases)):
        for array, grad in zip(group, grad_group, strict=True):
            for index in [(0, 0), tuple(s - 1 for s in array.shape)]:
                old = array[index]
                array[index] = old + h
                up, _ = loss_and_gradients(net, params, X, Y)
                array[index] = old - h
                down, _ = loss_and_gradients(net, params, X, Y)
                array[index] = old
                assert grad[index] == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-9)


# --- the kink at z = 0 --------------------------------------------------------------------

KINKED = [("relu", 0.0), ("leaky_relu", 0.01), ("leaky_relu(slope=0.1)", 0.1),
          ("leaky_relu(slope=-0.5)", -0.5), ("elu(alpha=0.5)", 0.5)]  # fmt: skip


@pytest.mark.parametrize("spec, left", KINKED)
def test_derivative_on_the_kink_takes_the_left_value(spec, left):
    """The documented convention ``1 if z > 0 else ...``: f'(0) and f'(-0) are the left slope."""
    act = get_activation(spec)
    assert "if z > 0 else" in act.derivative_formula
    z = np.array([0.0, -0.0])
    np.testing.assert_array_equal(act.derivative(z, act.forward(z)), [left, left])
    tiny = np.array([5e-324, -5e-324])  # the neighbours of 0: right and left slopes
    np.testing.assert_array_equal(act.derivative(tiny, act.forward(tiny)), [1.0, left])


def _kink_network(spec: str) -> tuple[Network, Parameters, np.ndarray, np.ndarray]:
    """Hidden pre-activations exactly 0 for every sample (W[1] = 0, b[1] = 0), W[2] not 0."""
    net = Network((2, 3, 1), (spec,))
    params = Parameters(
        [np.zeros((3, 2)), np.array([[1.0, -2.0, 0.5]])], [np.zeros((3, 1)), np.array([[0.3]])]
    )
    rng = np.random.default_rng(7)
    X = rng.standard_normal((2, 8))
    Y = np.array([[0, 1, 1, 0, 1, 0, 0, 1]])
    return net, params, X, Y


@pytest.mark.parametrize("spec, left", [("relu", 0.0), ("leaky_relu(slope=0.1)", 0.1)])
def test_backprop_through_the_kink_uses_the_convention(spec, left):
    net, params, X, Y = _kink_network(spec)
    _, grads = loss_and_gradients(net, params, X, Y)
    # a[1] = f(0) = 0, so z[2] = b[2] for every sample and dz[2] = (sigmoid(b[2]) - Y) / m
    dz2 = (1 / (1 + math.exp(-0.3)) - Y) / Y.size
    dz1 = left * (params.weights[1].T @ dz2)
    if left == 0.0:  # exact: nothing flows through a unit sitting on relu's kink
        assert not grads.weights[0].any() and not grads.biases[0].any()
    np.testing.assert_allclose(grads.weights[0], dz1 @ X.T, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(grads.biases[0], dz1.sum(axis=1, keepdims=True), rtol=1e-13)


@pytest.mark.parametrize(
    "spec, backend",
    [("relu", "compiled"), ("relu", "numpy"), ("leaky_relu(slope=0.1)", "numpy")],
)
def test_engine_and_reference_agree_on_the_kink(spec, backend):
    """One step of the population engine and of the reference loop from W[1] = 0."""
    net, params, X, Y = _kink_network(spec)
    reference, _ = gradient_descent(net, params, X, Y, learning_rate=0.5, iterations=1)
    result = train_population(net, [params], X, Y, learning_rate=0.5, iterations=1, backend=backend)
    engine = result.params[0]
    if spec == "relu":  # the kink's derivative is 0: W[1] and b[1] stay exactly 0
        assert not reference.weights[0].any() and not engine.weights[0].any()
        assert not reference.biases[0].any() and not engine.biases[0].any()
    else:
        assert np.abs(reference.weights[0]).min() > 0  # the left slope lets the gradient through
    for ours, theirs in zip(
        engine.weights + engine.biases, reference.weights + reference.biases, strict=True
    ):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-300)
