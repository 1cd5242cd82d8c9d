"""The finite-difference oracle shared by the gradient tests."""

from __future__ import annotations

import numpy as np

from initlab.network import Network, Parameters, loss_and_gradients


def numerical_gradients(
    network: Network, params: Parameters, X: np.ndarray, Y: np.ndarray, eps: float = 1e-6
) -> Parameters:
    """Central differences of the cost, ``(J(p + eps) - J(p - eps)) / (2 eps)``, per parameter."""
    grads = Parameters(
        [np.zeros_like(w) for w in params.weights], [np.zeros_like(b) for b in params.biases]
    )
    for group, grad_group in ((params.weights, grads.weights), (params.biases, grads.biases)):
        for array, grad in zip(group, grad_group, strict=True):
            for index in np.ndindex(array.shape):
                saved = array[index]
                array[index] = saved + eps
                plus, _ = loss_and_gradients(network, params, X, Y)
                array[index] = saved - eps
                minus, _ = loss_and_gradients(network, params, X, Y)
                array[index] = saved
                grad[index] = (plus - minus) / (2 * eps)
    return grads


def assert_gradients_match(
    network: Network, params: Parameters, X: np.ndarray, Y: np.ndarray, rtol: float = 1e-5
) -> None:
    """Back-propagated gradients equal the central differences (``rtol``, ``atol=1e-8``)."""
    _, analytic = loss_and_gradients(network, params, X, Y)
    numeric = numerical_gradients(network, params, X, Y)
    pairs = zip(analytic.weights + analytic.biases, numeric.weights + numeric.biases, strict=True)
    for a, n in pairs:
        np.testing.assert_allclose(a, n, rtol=rtol, atol=1e-8)
