"""The network's conventions where random inputs never go: the ReLU kink and p = 1/2.

Random draws put no input exactly on a kink or a decision threshold (probability zero),
so these cases get inputs built to land there, and hand-computed oracles.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from initlab.activations import get_activation
from initlab.network import Network, Parameters, accuracy, loss_and_gradients, predict


def test_relu_derivative_is_0_on_the_kink() -> None:
    """``relu'(z) = 1 if z > 0 else 0``: 0 at z = 0 (and -0), as documented and as torch does."""
    relu = get_activation("relu")
    z = np.array([-2.0, -0.0, 0.0, 5e-324, 3.0])
    np.testing.assert_array_equal(relu.derivative(z, relu.forward(z)), [0.0, 0.0, 0.0, 1.0, 1.0])
    assert relu.derivative_formula == "1 if z > 0 else 0"


@pytest.mark.parametrize("slope", [0.01, 0.2])
def test_leaky_relu_derivative_is_the_slope_on_the_kink(slope: float) -> None:
    leaky = get_activation(f"leaky_relu(slope={slope})")
    z = np.array([-2.0, -0.0, 0.0, 5e-324, 3.0])
    got = leaky.derivative(z, leaky.forward(z))
    np.testing.assert_array_equal(got, [slope, slope, slope, 1.0, 1.0])


def _kink_case(activation: str) -> tuple[Network, Parameters, np.ndarray, np.ndarray]:
    """A (3, 4, 1) network whose hidden pre-activations are all exactly 0 (W1 = 0, b1 = 0)."""
    rng = np.random.default_rng(7)
    net = Network((3, 4, 1), (activation,))
    params = Parameters(
        [np.zeros((4, 3)), rng.standard_normal((1, 4))],
        [np.zeros((4, 1)), rng.standard_normal((1, 1))],
    )
    X = rng.standard_normal((3, 9))
    Y = (rng.random((1, 9)) < 0.5).astype(np.int64)
    return net, params, X, Y


@pytest.mark.parametrize(("activation", "slope"), [("relu", 0.0), ("leaky_relu(slope=0.1)", 0.1)])
def test_backward_on_the_kink_uses_the_documented_derivative(activation: str, slope: float) -> None:
    """By hand: ``z1 = 0`` so ``a1 = 0``, ``p = sigmoid(b2)``, ``dz2 = (p - y) / m``,
    ``dz1 = W2^T dz2 * g'(0)`` with ``g'(0) = 0`` (relu) or the slope (leaky relu)."""
    net, params, X, Y = _kink_case(activation)
    m = X.shape[1]
    W2, b2 = params.weights[1], params.biases[1]
    dz2 = (expit(np.full((1, m), b2[0, 0])) - Y) / m
    dz1 = (W2.T @ dz2) * slope
    cost, grads = loss_and_gradients(net, params, X, Y)
    assert cost == pytest.approx(np.mean(np.logaddexp(0.0, b2[0, 0]) - Y * b2[0, 0]), rel=1e-14)
    np.testing.assert_allclose(grads.weights[1], np.zeros((1, 4)), atol=0)  # a1 = 0
    close = {"rtol": 1e-13, "atol": 1e-15}  # sums of 9 terms of size ~0.1, in any order
    np.testing.assert_allclose(grads.biases[1], dz2.sum(axis=1, keepdims=True), **close)
    np.testing.assert_allclose(grads.weights[0], dz1 @ X.T, **close)
    np.testing.assert_allclose(grads.biases[0], dz1.sum(axis=1, keepdims=True), **close)
    if slope == 0.0:
        assert not np.any(grads.weights[0]) and not np.any(grads.biases[0])


def test_predict_thresholds_strictly_above_one_half() -> None:
    """The course predicts class 1 for ``p > 0.5``: a logit of exactly 0 (p = 1/2) is class 0,
    the smallest positive logit that moves p above 1/2 is class 1."""
    net = Network((2, 1), ())
    X = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
    at_half = Parameters([np.zeros((1, 2))], [np.zeros((1, 1))])
    assert np.all(expit(np.zeros(3)) == 0.5)
    np.testing.assert_array_equal(predict(net, at_half, X), [[0, 0, 0]])
    assert accuracy(net, at_half, X, np.zeros((1, 3), dtype=np.int64)) == 1.0
    above = Parameters([np.zeros((1, 2))], [np.full((1, 1), 1e-15)])
    assert expit(1e-15) > 0.5
    np.testing.assert_array_equal(predict(net, above, X), [[1, 1, 1]])
    below = Parameters([np.zeros((1, 2))], [np.full((1, 1), -1e-15)])
    np.testing.assert_array_equal(predict(net, below, X), [[0, 0, 0]])
