"""One backward pass that keeps what :func:`initlab.network.backward` throws away.

With ``z[l] = W[l] a[l-1] + b[l]``, ``a[l] = g_l(z[l])`` and the cost
``J = (1/m) sum_i loss(z[L]_i, y_i)``, the backward signal flowing into layer
``l`` is ``delta[l] = dJ/dz[l]`` (shape ``(n_l, m)``):

* ``delta[L] = (p - onehot(y)) / m`` with ``p = sigmoid(z[L])`` (sigmoid head)
  or ``p = softmax(z[L])`` (softmax head), ``delta[L] = (z[L] - y) / m`` (identity
  head, regression);
* ``delta[l-1] = (W[l]^T delta[l]) * g'_{l-1}(z[l-1])``;
* ``dJ/dW[l] = delta[l] a[l-1]^T``, ``dJ/db[l] = sum_cols delta[l]``.

The ``1/m`` is applied after the sums, exactly as :func:`initlab.network.backward`
does, so the gradients returned here are the same numbers (a gradient that is
zero in exact arithmetic stays exactly zero).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from initlab.activations import get_activation
from initlab.network import Cache, Network, Parameters

__all__ = ["BackwardPass", "backward_pass", "output_error", "propagate_back"]


@dataclass(frozen=True)
class BackwardPass:
    """The cost, its gradients and the backward signals ``delta[l] = dJ/dz[l]``.

    ``signals[l]`` is ``dJ/dz[l+1]`` (layer-indexed like ``Parameters``).
    """

    cost: float
    gradients: Parameters
    signals: list[np.ndarray]


def output_error(network: Network, logits: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    """The cost and ``e[L] = m dJ/dz[L]``: ``sigmoid(z) - y`` or ``softmax(z) - onehot(y)``
    (the network's head, :mod:`initlab.heads`)."""
    head = network.head
    return float(head.loss(logits, Y)), head.errors(logits, Y)


def propagate_back(
    network: Network, params: Parameters, cache: Cache, top: np.ndarray
) -> list[np.ndarray]:
    """``[e[1], ..., e[L]]`` from ``e[L] = top`` by ``e[l-1] = (W[l]^T e[l]) * g'(z[l-1])``.

    ``top`` has ``n_L`` rows and one column per column of the cache (or a
    multiple of it: the cache's derivatives are then tiled, which lets
    :mod:`initlab.diagnostics.jacobian` push several seeds in one pass).
    """
    signals: list[np.ndarray] = [np.empty(0)] * network.depth
    e = top
    signals[-1] = e
    for l in range(network.depth - 1, 0, -1):
        act = get_activation(network.activations[l - 1])
        z_prev = cache.preactivations[l - 1]
        derivative = act.derivative(z_prev, cache.activations[l])
        repeats = e.shape[1] // z_prev.shape[1]
        if repeats != 1:
            derivative = np.tile(derivative, (1, repeats))
        e = (params.weights[l].T @ e) * derivative
        signals[l - 1] = e
    return signals


def backward_pass(
    network: Network, params: Parameters, cache: Cache, Y: np.ndarray
) -> BackwardPass:
    """The cost, ``dJ/dW[l]``, ``dJ/db[l]`` and ``dJ/dz[l]`` for every layer, in one pass."""
    m = cache.logits.shape[1]
    cost, top = output_error(network, cache.logits, Y)
    errors = propagate_back(network, params, cache, top)
    grads_w = [(e @ a_prev.T) / m for e, a_prev in zip(errors, cache.activations, strict=True)]
    grads_b = [e.sum(axis=1, keepdims=True) / m for e in errors]
    signals = [e / m for e in errors]
    return BackwardPass(cost, Parameters(grads_w, grads_b), signals)
