"""Input-output Jacobians against finite differences and the linear network's closed form."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import ortho_group

from initlab.diagnostics.jacobian import (
    input_output_jacobian,
    jacobian_bytes,
    singular_values,
)
from initlab.network import Network, Parameters, forward


def random_params(network: Network, rng: np.random.Generator, scale: float = 1.0) -> Parameters:
    sizes = network.layer_sizes
    weights = [
        rng.standard_normal((n, k)) * scale / np.sqrt(k) for k, n in itertools.pairwise(sizes)
    ]
    return Parameters(weights, [rng.standard_normal((n, 1)) * 0.1 for n in sizes[1:]])


def finite_difference_jacobian(
    network: Network, params: Parameters, x: np.ndarray, layer: int, eps: float = 1e-6
) -> np.ndarray:
    """Central differences of ``z[layer]`` at the column ``x``: shape ``(n_layer, n_0)``."""
    columns = []
    for i in range(x.shape[0]):
        step = np.zeros_like(x)
        step[i] = eps
        plus = forward(network, params, x + step).preactivations[layer - 1]
        minus = forward(network, params, x - step).preactivations[layer - 1]
        columns.append(((plus - minus) / (2 * eps))[:, 0])
    return np.stack(columns, axis=1)


@pytest.mark.parametrize(
    ("sizes", "activations", "output", "layer"),
    [
        ((3, 5, 4, 1), ("tanh", "softplus"), "sigmoid", None),
        ((4, 6, 3), ("gelu",), "softmax", None),
        ((2, 5, 5, 3), ("sigmoid", "silu"), "softmax", 2),
        ((3, 4, 4, 1), ("elu", "tanh"), "sigmoid", 1),
    ],
)
def test_jacobian_equals_finite_differences(sizes, activations, output, layer) -> None:
    rng = np.random.default_rng(0)
    network = Network(sizes, activations, output)
    params = random_params(network, rng, scale=1.3)
    X = rng.standard_normal((sizes[0], 4))
    J = input_output_jacobian(network, params, X, layer=layer)
    top = network.depth if layer is None else layer
    assert J.shape == (4, sizes[top], sizes[0])
    for i in range(4):
        numeric = finite_difference_jacobian(network, params, X[:, i : i + 1], top)
        # smooth activations: central-difference error O(eps^2) plus rounding O(1e-16/eps)
        np.testing.assert_allclose(J[i], numeric, rtol=1e-6, atol=1e-8)


def test_linear_network_jacobian_is_the_product_of_weights() -> None:
    rng = np.random.default_rng(1)
    network = Network((4, 6, 5, 3), ("identity", "identity"), "softmax")
    params = random_params(network, rng)
    X = rng.standard_normal((4, 7))
    J = input_output_jacobian(network, params, X)
    product = params.weights[2] @ params.weights[1] @ params.weights[0]
    for i in range(7):
        np.testing.assert_allclose(J[i], product, rtol=1e-13, atol=1e-15)
    expected = np.linalg.svd(product, compute_uv=False)
    np.testing.assert_allclose(singular_values(J), np.tile(expected, (7, 1)), rtol=1e-12)


def test_orthogonal_linear_network_is_an_isometry() -> None:
    # a product of orthogonal matrices is orthogonal: every singular value is 1
    width, depth = 8, 6
    weights = [ortho_group.rvs(width, random_state=seed) for seed in range(depth)]
    network = Network((width,) * (depth + 1), ("identity",) * (depth - 1), "softmax")
    params = Parameters(weights, [np.zeros((width, 1))] * depth)
    X = np.random.default_rng(2).standard_normal((width, 3))
    values = singular_values(input_output_jacobian(network, params, X))
    np.testing.assert_allclose(values, 1.0, atol=1e-13)


def test_relu_network_jacobian_masks_inactive_units() -> None:
    # J = W2 diag(z1 > 0) W1 exactly, away from the kink
    rng = np.random.default_rng(3)
    network = Network((3, 6, 1), ("relu",))
    params = random_params(network, rng)
    X = rng.standard_normal((3, 5))
    z1 = params.weights[0] @ X + params.biases[0]
    J = input_output_jacobian(network, params, X)
    for i in range(5):
        expected = params.weights[1] @ np.diag((z1[:, i] > 0).astype(float)) @ params.weights[0]
        np.testing.assert_allclose(J[i], expected, rtol=1e-14, atol=1e-16)


def test_sigmoid_head_has_one_singular_value_the_gradient_norm() -> None:
    rng = np.random.default_rng(4)
    network = Network((3, 4, 1), ("tanh",))
    params = random_params(network, rng)
    X = rng.standard_normal((3, 2))
    J = input_output_jacobian(network, params, X)
    values = singular_values(J)
    assert values.shape == (2, 1)
    np.testing.assert_allclose(values[:, 0], np.linalg.norm(J[:, 0, :], axis=1), rtol=1e-14)


def test_too_large_a_jacobian_is_refused_before_computing() -> None:
    network = Network((100, 100, 100, 50), ("tanh", "tanh"), "softmax")
    params = random_params(network, np.random.default_rng(5))
    X = np.zeros((100, 1000))
    need = jacobian_bytes(network, 1000)
    assert need > 2**20
    with pytest.raises(ValueError, match=r"needs about \d+ MiB, over the limit of 1 MiB"):
        input_output_jacobian(network, params, X, max_bytes=2**20)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"layer": 0}, ValueError, r"layer must be in 1\.\.2, got 0"),
        ({"layer": 3}, ValueError, r"layer must be in 1\.\.2, got 3"),
        ({"layer": 1.0}, TypeError, "layer must be an int"),
        ({"X": np.ones((3, 2))}, ValueError, r"X must have shape \(2, m\)"),
    ],
)
def test_bad_input_is_rejected(kwargs, error, message) -> None:
    network = Network((2, 3, 1), ("relu",))
    params = random_params(network, np.random.default_rng(6))
    X = kwargs.pop("X", np.ones((2, 2)))
    with pytest.raises(error, match=message):
        input_output_jacobian(network, params, X, **kwargs)
