"""The batched NumPy engine: every model of the population in one stacked array.

Layer ``l`` of all ``M`` models is an ``(M, n_out, n_in)`` array; the forward
pass is ``np.matmul`` over the stack (BLAS per model), so wide layers run at
GEMM speed and small ones pay NumPy's per-call overhead once for all ``M``
models. It trains everything :func:`initlab.fit.fit` trains, with the same
pieces: any activation of :mod:`initlab.activations` (its ``forward`` and
``derivative``), either head of :mod:`initlab.heads`, any optimizer of
:mod:`initlab.optimizers` (its :meth:`~initlab.optimizers.Optimizer.step` on the
stacked arrays, one learning rate per model), full batch or minibatches
reshuffled every epoch in the same order for every model. It needs nothing
compiled: it is also the fallback when numba is missing.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from initlab.activations import get_activation
from initlab.engine.layout import Layout
from initlab.network import Network, Parameters
from initlab.optimizers import Optimizer

__all__ = ["train_batched"]

#: below this many FLOP per matrix product BLAS runs single-threaded: small products
#: gain nothing from threads, and on a busy machine their synchronization costs
#: milliseconds per call
BLAS_THREADS_FROM = 2e7

#: ``on_report(update, costs)``: the costs of every model (NaN once diverged)
PopulationCallback = Callable[[int, np.ndarray], None]


def train_batched(
    network: Network,
    theta: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    optimizer: Optimizer,
    learning_rates: np.ndarray,
    updates: int,
    batch_size: int,
    rng: np.random.Generator | np.random.RandomState | list | None = None,
    report_every: int = 0,
    on_report: PopulationCallback | None = None,
    snapshot_at: np.ndarray | None = None,
    on_snapshot: PopulationCallback | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train every row of ``theta`` (shape ``(M, P)``, updated in place) for ``updates``
    steps of ``optimizer`` (a private copy is reset and stepped), model ``i`` with
    ``learning_rates[i]``.

    With ``batch_size`` below the number of samples ``m``, the columns are
    shuffled by ``rng.permutation(m)`` at the start of every epoch and cut into
    consecutive minibatches (the last one may be smaller), exactly as
    :func:`initlab.fit.fit` does; ``rng`` a list of one generator per model: each
    model's columns by its own.

    Returns ``costs`` (``(M, updates)``: the cost of the update's batch before
    it; NaN after a model diverged), ``diverged_at`` (``(M,)``, -1 for a
    model that did not diverge) and the snapshots at the updates ``snapshot_at``
    (``(K, M, P)``, see :mod:`initlab.engine.snapshots`), each handed to
    ``on_snapshot(k, snaps[k])`` as soon as it is taken. A model whose cost is not finite keeps the
    parameters it had at that update; its rows are then parked at zero so that
    it cannot overflow while the others go on, and restored at the end.
    """
    layout = Layout.of(network)
    M = theta.shape[0]
    L = layout.depth
    m = X.shape[1]
    head = network.head
    X = X.astype(theta.dtype, copy=False)
    Y = Y.reshape(1, 1, m)
    if Y.dtype.kind == "f":  # 0/1 labels of a sigmoid head: in the parameters' precision
        Y = Y.astype(theta.dtype)
    params = Parameters(
        [layout.weight_view(theta, l).copy() for l in range(L)],
        [layout.bias_view(theta, l).copy() for l in range(L)],
    )
    rates = np.asarray(learning_rates, dtype=theta.dtype).reshape(M, 1, 1)
    optimizer = copy.deepcopy(optimizer)
    optimizer.reset()
    acts = [get_activation(name) for name in network.activations]
    costs = np.full((M, updates), np.nan)
    diverged_at = np.full(M, -1, dtype=np.int64)
    frozen: dict[int, np.ndarray] = {}
    per_epoch = -(-m // batch_size)
    largest = max(2 * a * b * batch_size for a, b in itertools.pairwise(network.layer_sizes))
    blas = (
        contextlib.nullcontext()
        if largest >= BLAS_THREADS_FROM
        else threadpool_limits(limits=1, user_api="blas")
    )
    order = None
    at = np.empty(0, dtype=np.int64) if snapshot_at is None else snapshot_at
    snaps = np.empty((len(at), *theta.shape), dtype=theta.dtype)
    taken = 0
    with blas, np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for it in range(updates):
            while taken < len(at) and at[taken] == it:
                _stack_into(snaps[taken], params, layout, frozen)
                if on_snapshot is not None:
                    on_snapshot(taken, snaps[taken])
                taken += 1
            if batch_size == m:
                Xb, Yb = X, Y
            else:
                position = it % per_epoch
                if position == 0:
                    order = (
                        np.stack([r.permutation(m) for r in rng])
                        if isinstance(rng, list)
                        else rng.permutation(m)
                    )
                columns = order[..., position * batch_size : (position + 1) * batch_size]
                if columns.ndim == 1:
                    Xb, Yb = X[:, columns], Y[..., columns]
                else:  # model i's columns[i]: (M, n_0, b) inputs, (M, 1, b) labels
                    Xb = np.moveaxis(X[:, columns], 1, 0)
                    Yb = Y[0, 0][columns][:, np.newaxis, :]
            n = Xb.shape[-1]
            a_list = [Xb]
            z_list = []
            a = Xb
            for l in range(L):
                z = np.matmul(params.weights[l], a) + params.biases[l]
                z_list.append(z)
                if l < L - 1:
                    a = acts[l].forward(z)
                    a_list.append(a)
            logits = z_list[-1]
            cost = head.loss(logits, Yb)
            live = diverged_at < 0
            costs[live, it] = cost[live]
            for i in np.flatnonzero(live & ~np.isfinite(cost)):
                diverged_at[i] = it
                frozen[int(i)] = np.concatenate(
                    [
                        np.concatenate([w[i].ravel(), b[i].ravel()])
                        for w, b in zip(params.weights, params.biases, strict=True)
                    ]
                )
                _park(params, i)
            if len(frozen) == M:
                break
            if on_report is not None and report_every > 0 and it % report_every == 0:
                on_report(it, costs[:, it])
            dz = head.errors(logits, Yb)  # the 1/n after the sums, as the reference
            grads_w: list[np.ndarray] = [np.empty(0)] * L
            grads_b: list[np.ndarray] = [np.empty(0)] * L
            for l in range(L - 1, -1, -1):
                a_prev = a_list[l]
                a_prev_t = a_prev.T if a_prev.ndim == 2 else np.swapaxes(a_prev, 1, 2)
                grads_w[l] = np.matmul(dz, a_prev_t) / n
                grads_b[l] = dz.sum(axis=2, keepdims=True) / n
                if l > 0:
                    deriv = acts[l - 1].derivative(z_list[l - 1], a_prev)
                    dz = np.matmul(np.swapaxes(params.weights[l], 1, 2), dz) * deriv
            optimizer.step(params, Parameters(grads_w, grads_b), rates)
            for i in frozen:
                _park(params, i)
    _stack_into(theta, params, layout, {})
    for i, row in frozen.items():
        theta[i] = row
    snaps[taken:] = theta  # at the end, or after every model stopped
    for k in range(taken, len(at)) if on_snapshot is not None else ():
        on_snapshot(k, snaps[k])
    return costs, diverged_at, snaps


def _park(params: Parameters, i: int) -> None:
    """Set model ``i``'s parameters to zero (a diverged model, waiting for the others)."""
    for array in (*params.weights, *params.biases):
        array[i] = 0.0


def _stack_into(
    theta: np.ndarray, params: Parameters, layout: Layout, frozen: dict[int, np.ndarray]
) -> None:
    """Write the stacked ``params`` into ``theta`` (``(M, P)``); a frozen model's row is
    the one it was frozen with."""
    for l in range(layout.depth):
        layout.weight_view(theta, l)[...] = params.weights[l]
        layout.bias_view(theta, l)[...] = params.biases[l]
    for i, row in frozen.items():
        theta[i] = row
