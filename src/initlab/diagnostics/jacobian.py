"""The exact input-output Jacobian of a network at each sample, and its singular values.

For a sample ``x`` the Jacobian of the pre-activations ``z[l]`` of layer ``l``
(by default the logits ``z[L]``: the logit of a sigmoid head, the ``k``
logits of a softmax head) is the ``n_l x n_0`` matrix

    J(x) = dz[l]/dx = W[l] D[l-1] W[l-1] ... D[1] W[1],   D[j] = diag(g_j'(z[j](x))),

computed row by row with the backward pass: seeding ``e[l] = u_j`` (the j-th
unit vector) and propagating ``e[j-1] = (W[j]^T e[j]) * g'(z[j-1])`` down to
``W[1]^T e[1]`` gives row ``j`` of ``J(x)``. All ``n_l`` seeds and all ``m``
samples go through one pass as an ``(n, n_l m)`` matrix.

Its singular values measure how the network stretches small input
perturbations: all close to 1 is *dynamical isometry* (Saxe, McClelland and
Ganguli 2014, "Exact solutions to the nonlinear dynamics of learning in deep
linear neural networks"; Pennington, Schoenholz and Ganguli 2017, "Resurrecting
the sigmoid in deep learning through dynamical isometry"). For a linear
network (identity activations) ``J = W[l] ... W[1]`` at every sample.
"""

from __future__ import annotations

import numpy as np

from initlab.diagnostics.backprop import propagate_back
from initlab.network import Network, Parameters, forward

__all__ = ["MAX_JACOBIAN_BYTES", "input_output_jacobian", "jacobian_bytes", "singular_values"]

#: Default memory budget of :func:`input_output_jacobian` (the backward pass
#: holds about three ``n x (n_l m)`` float64 arrays at its widest layer).
MAX_JACOBIAN_BYTES = 2**30


def _layer_index(network: Network, layer: int | None) -> int:
    if layer is None:
        return network.depth
    if isinstance(layer, bool) or not isinstance(layer, int | np.integer):
        raise TypeError(f"layer must be an int in 1..{network.depth}, got {layer!r}")
    if not 1 <= layer <= network.depth:
        raise ValueError(f"layer must be in 1..{network.depth}, got {layer}")
    return int(layer)


def jacobian_bytes(network: Network, m: int, layer: int | None = None) -> int:
    """Estimated peak memory in bytes of the Jacobian of ``z[layer]`` at ``m`` samples."""
    top = _layer_index(network, layer)
    rows = network.layer_sizes[top]
    widest = max(network.layer_sizes[: top + 1])
    return 8 * rows * m * (3 * widest + network.layer_sizes[0])


def input_output_jacobian(
    network: Network,
    params: Parameters,
    X: np.ndarray,
    *,
    layer: int | None = None,
    max_bytes: int = MAX_JACOBIAN_BYTES,
) -> np.ndarray:
    """``dz[layer]/dx`` at every column of ``X``: shape ``(m, n_layer, n_0)``.

    ``layer`` counts from 1 (default: ``L``, the logits). The memory is
    estimated first (:func:`jacobian_bytes`).

    Raises:
        ValueError: for a batch of the wrong shape, a layer outside ``1..L``, or
            a Jacobian whose estimated memory exceeds ``max_bytes``.
    """
    X = np.asarray(X, dtype=np.float64)
    n_0 = network.layer_sizes[0]
    if X.ndim != 2 or X.shape[0] != n_0 or X.shape[1] < 1:
        raise ValueError(f"X must have shape ({n_0}, m) with m >= 1 columns, got {X.shape}")
    top = _layer_index(network, layer)
    m = X.shape[1]
    need = jacobian_bytes(network, m, top)
    if need > max_bytes:
        raise ValueError(
            f"the Jacobian of layer {top} at {m} samples needs about {need / 2**20:.0f} MiB, "
            f"over the limit of {max_bytes / 2**20:.0f} MiB: pass fewer samples or a larger "
            "max_bytes"
        )
    sub = Network(
        network.layer_sizes[: top + 1],
        network.activations[: top - 1],
        "identity",  # the head plays no part in the Jacobian of z
    )
    sub_params = Parameters(params.weights[:top], params.biases[:top])
    cache = forward(sub, sub_params, X)
    k = network.layer_sizes[top]
    # column j * m + i seeds output unit j at sample i
    seeds = np.repeat(np.eye(k), m, axis=1)
    first = propagate_back(sub, sub_params, cache, seeds)[0]
    rows = sub_params.weights[0].T @ first  # (n_0, k m)
    return rows.reshape(n_0, k, m).transpose(2, 1, 0)


def singular_values(jacobians: np.ndarray) -> np.ndarray:
    """Singular values of each Jacobian, largest first: shape ``(m, min(k, n_0))``."""
    jacobians = np.asarray(jacobians, dtype=np.float64)
    if jacobians.ndim != 3:
        raise ValueError(
            f"expected a stack of Jacobians of shape (m, k, n_0), got {jacobians.shape}"
        )
    return np.linalg.svd(jacobians, compute_uv=False)
