"""The batched NumPy engine: every model of the population in one stacked array.

Layer ``l`` of all ``M`` models is a ``(M, n_out, n_in)`` view of ``theta``;
the forward pass is ``np.matmul`` over the stack (BLAS per model), so wide
layers run at GEMM speed. Any activation of :mod:`initlab.activations` works,
through its ``forward`` and ``derivative``. This path needs nothing compiled:
it is also the fallback when numba is missing.
"""

from __future__ import annotations

import contextlib
import itertools

import numpy as np
from scipy.special import expit
from threadpoolctl import threadpool_limits

from initlab.activations import get_activation
from initlab.engine.layout import Layout
from initlab.network import Network

__all__ = ["train_batched"]

#: below this many FLOP per matrix product BLAS runs single-threaded: small products
#: gain nothing from threads, and on a busy machine their synchronization costs
#: milliseconds per call
BLAS_THREADS_FROM = 2e7


def train_batched(
    network: Network,
    theta: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    learning_rate: float,
    iterations: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Train every row of ``theta`` (shape ``(M, P)``, updated in place).

    Returns ``costs`` (``(M, iterations)``, NaN after a model diverged) and
    ``diverged_at`` (``(M,)``, -1 for a model that did not diverge). A model
    whose cost is not finite keeps the parameters it had at that iteration;
    its rows are then parked at zero so that it cannot overflow while the
    others go on, and restored at the end.
    """
    layout = Layout.of(network)
    M = theta.shape[0]
    L = layout.depth
    m = X.shape[1]
    X = X.astype(theta.dtype, copy=False)
    Yf = Y.reshape(1, 1, m).astype(theta.dtype)
    Ws = [layout.weight_view(theta, l) for l in range(L)]
    bs = [layout.bias_view(theta, l) for l in range(L)]
    acts = [get_activation(name) for name in network.activations]
    costs = np.full((M, iterations), np.nan)
    diverged_at = np.full(M, -1, dtype=np.int64)
    frozen: dict[int, np.ndarray] = {}
    largest = max(2 * a * b * m for a, b in itertools.pairwise(network.layer_sizes))
    blas = (
        contextlib.nullcontext()
        if largest >= BLAS_THREADS_FROM
        else threadpool_limits(limits=1, user_api="blas")
    )
    with blas, np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for it in range(iterations):
            a_list = [X]
            z_list = []
            a = X
            for l in range(L):
                z = np.matmul(Ws[l], a) + bs[l]
                z_list.append(z)
                if l < L - 1:
                    a = acts[l].forward(z)
                    a_list.append(a)
            logits = z_list[-1]
            cost = np.mean(np.logaddexp(0.0, logits) - Yf * logits, axis=(1, 2))
            live = diverged_at < 0
            costs[live, it] = cost[live]
            bad = np.flatnonzero(live & ~np.isfinite(cost))
            for i in bad:
                diverged_at[i] = it
                frozen[int(i)] = theta[i].copy()
                theta[i] = 0.0
            if len(frozen) == M:
                break
            dz = expit(logits) - Yf  # the 1/m after the sums, as the reference
            for l in range(L - 1, -1, -1):
                a_prev = a_list[l]
                if l == 0:
                    grad_w = np.matmul(dz, a_prev.T) / m
                else:
                    grad_w = np.matmul(dz, np.swapaxes(a_prev, 1, 2)) / m
                grad_b = dz.sum(axis=2, keepdims=True) / m
                if l > 0:
                    deriv = acts[l - 1].derivative(z_list[l - 1], a_prev)
                    dz = np.matmul(np.swapaxes(Ws[l], 1, 2), dz) * deriv
                Ws[l] -= learning_rate * grad_w
                bs[l] -= learning_rate * grad_b
            for i in frozen:
                theta[i] = 0.0
    for i, row in frozen.items():
        theta[i] = row
    return costs, diverged_at
