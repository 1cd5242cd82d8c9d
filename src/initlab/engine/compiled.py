"""Driving the compiled kernel: data in chunks, models over threads (and, for the
models left over when there are fewer of them than threads, each model's chunks
over a group of threads).

Importing this module imports numba (and loads or compiles the kernel on its
first call); :mod:`initlab.engine.population` imports it only when a
population is trained with the compiled backend.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np

from initlab.activations import activation_factory, get_activation
from initlab.engine._kernel import MIXED, kernel
from initlab.engine._sync import STRIDE, yield_address
from initlab.engine.codes import (
    ACTIVATION_PARAMETER,
    ADAM,
    GD,
    HEADS,
    IDENTITY,
    KERNEL_ACTIVATIONS,
    KERNEL_OPTIMIZERS,
)
from initlab.engine.layout import Layout
from initlab.engine.population import usable_cores
from initlab.network import Network
from initlab.optimizers import Optimizer

__all__ = ["chunk_length", "train_compiled", "workspace"]

#: a model split over a group of threads goes back to one thread when the split
#: takes longer than this times what one thread would need, several windows in a
#: row (see :func:`initlab.engine._sync.combine`): healthy splits measure about
#: 0.6 here, a split whose second core is taken by another process about 5
SPLIT_PAYS = 1.0

#: samples per chunk are at most this many (before rounding up to whole vectors);
#: measured with the course network: fewer, longer chunks pay less loop overhead,
#: while the chunk's activations still fit in the L2 cache
MAX_CHUNK = 160

#: with reports, a run is trained in spans of about this many seconds (see :func:`spans`)
SPAN_SECONDS = 0.2
#: ... and without, of about this many: a Ctrl-C stops the training within about as long
QUIET_SPAN_SECONDS = 0.5
#: with minibatches, a span's orders (4 bytes per sample, epoch and order) take at most
#: about this many bytes: they are drawn span by span, never all at once
ORDERS_SPAN_BYTES = 64 * 2**20


def chunk_length(m: int) -> int:
    """Samples per chunk: ``m`` split evenly into chunks of at most :data:`MAX_CHUNK`,
    rounded up to a multiple of 16 (four AVX2 or two AVX-512 vectors of float64),
    so that the vectorized loops need no remainder: 160 for the course's 300."""
    n_chunks = math.ceil(m / MAX_CHUNK)
    return 16 * math.ceil(math.ceil(m / n_chunks) / 16)


def chunked(X: np.ndarray, Y: np.ndarray, nc: int) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (``(n_0, m)``) and ``Y`` (``(1, m)``) padded to whole chunks of ``nc``
    samples (with copies of the first samples) and laid out chunk by chunk."""
    n0, m = X.shape
    n_chunks = math.ceil(m / nc)
    idx = np.arange(n_chunks * nc) % m
    Xc = np.ascontiguousarray(X[:, idx].reshape(n0, n_chunks, nc).transpose(1, 0, 2)).ravel()
    Yc = np.ascontiguousarray(np.asarray(Y, dtype=np.float64).reshape(-1)[idx])
    return Xc, Yc


def kernel_optimizer(optimizer: Optimizer, updates: int) -> tuple:
    """The kernel's optimizer record without the learning rates: ``(code, decay, hyper,
    c1, c2)``, with Adam's bias corrections ``1 - beta^t`` for ``t = 1..updates``
    computed here, in Python's float arithmetic, as :class:`~initlab.optimizers.Adam`
    computes them."""
    code = KERNEL_OPTIMIZERS[optimizer.name]
    beta = float(getattr(optimizer, "beta", 0.0))
    beta1 = float(getattr(optimizer, "beta1", 0.0))
    beta2 = float(getattr(optimizer, "beta2", 0.0))
    eps = float(getattr(optimizer, "eps", 0.0))
    if code == ADAM:
        c1 = np.array([1.0 - beta1**t for t in range(1, updates + 1)])
        c2 = np.array([1.0 - beta2**t for t in range(1, updates + 1)])
    else:
        c1 = c2 = np.empty(0)
    hyper = np.array([beta, beta1, beta2, eps])
    return code, float(optimizer.weight_decay), hyper, c1, c2


def kernel_network(network: Network) -> tuple:
    """The kernel's network record ``(sizes, w_off, b_off, acts, act_par, head)``."""
    layout = Layout.of(network)
    acts, pars = [], []
    for spec in network.activations:
        activation = get_activation(spec)
        base = activation_factory(spec).__name__
        acts.append(KERNEL_ACTIVATIONS[base])
        key = ACTIVATION_PARAMETER.get(base)
        pars.append(float(activation.params[key]) if key else 0.0)
    return (
        layout.sizes.astype(np.uint64),
        layout.w_offsets.astype(np.uint64),
        layout.b_offsets.astype(np.uint64),
        np.asarray(acts, dtype=np.int64),
        np.asarray(pars, dtype=np.float64),
        HEADS[network.output],
    )


def shared_activation(codes: np.ndarray) -> int:
    """The activation code every hidden layer uses: the loop is compiled for it alone
    (see :func:`initlab.engine._kernel.kernel`); ``IDENTITY`` without hidden layers,
    ``MIXED`` when they differ."""
    kinds = set(codes.tolist())
    if not kinds:
        return IDENTITY
    return kinds.pop() if len(kinds) == 1 else MIXED


def train_compiled(
    network: Network,
    theta: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    optimizer: Optimizer,
    learning_rates: np.ndarray,
    updates: int,
    batch: int | None = None,
    orders: Callable[[int, int], np.ndarray] | None = None,
    threads: int | None = None,
    snapshot_at: np.ndarray | None = None,
    report_every: int = 0,
    on_report: Callable[[int, np.ndarray], None] | None = None,
    on_snapshot: Callable[[int, np.ndarray], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train every row of ``theta`` (``(M, P)``, updated in place) with the kernel:
    ``updates`` steps of ``optimizer`` (its hyper-parameters; model ``i`` with
    ``learning_rates[i]``) on minibatches of ``batch`` samples (default: all ``m``)
    taken in the orders ``fit`` draws, span by span: ``orders(lo, hi)`` returns the
    permutations of epochs ``lo..hi-1``, ``(orders.sets, hi - lo, m)`` (``sets``: 1,
    for every model, or ``M``, one per model), called with ranges that move forward
    (two spans may share an epoch); not needed for full batch.

    Returns ``costs`` (``(M, updates)``, NaN after divergence),
    ``diverged_at`` (``(M,)``, -1 if none) and the snapshots before the
    updates ``snapshot_at`` (``(K, M, P)``, see :mod:`initlab.engine.snapshots`).
    Models are handed to ``threads`` worker threads (default: the usable cores) in
    small batches; the kernel releases the GIL. The models left over when ``M`` is
    not a multiple of ``threads`` (all of them when ``M < threads``) are trained
    after the others, each by a group of threads that split its chunks (see
    :func:`split_plan`).

    The run is trained in spans of updates (see :func:`spans`; the same bits as one
    call, as the kernel keeps each model's optimizer state between spans), so that a
    Ctrl-C stops it within about :data:`QUIET_SPAN_SECONDS`. With ``on_report`` and
    ``report_every`` > 0, the spans take about :data:`SPAN_SECONDS`, and after each span
    ``on_report(update, costs)`` is called with every model's cost (NaN once
    diverged) for each reported update of the span, while training goes on.
    ``on_snapshot(k, thetas)`` is called, also after each span, with
    snapshot ``k`` (``(M, P)``) once every model is past update ``snapshot_at[k]``.
    """
    M, P = theta.shape
    n0, m = X.shape
    batch = m if batch is None else int(batch)
    nc = chunk_length(batch)
    X = np.asarray(X, dtype=theta.dtype)
    draw = None  # the orders of epochs lo..hi-1: (sets, hi - lo, m)
    sets = 1
    if batch == m:
        Xc, Yc = chunked(X, Y, nc)
    else:
        n_chunks = math.ceil(batch / nc)
        Xc, Yc = np.zeros(n_chunks * n0 * nc, theta.dtype), np.zeros(n_chunks * nc)
        draw, sets = orders, int(orders.sets)
    # model i's order: orders[order_of[i]]; the span's orders, from epoch e0
    order_of = np.zeros(M, np.int64) if sets == 1 else np.arange(M, dtype=np.int64)
    current = [np.zeros((sets, 0, m), np.int32), np.int64(0)]
    Xt = np.ascontiguousarray(X.T).ravel()
    Yt = np.asarray(Y, dtype=np.float64).reshape(-1)
    per_epoch = math.ceil(m / batch)
    net = kernel_network(network)
    train_models = kernel(shared_activation(net[3]), net[5])
    code, decay, hyper, c1, c2 = kernel_optimizer(optimizer, updates)
    rates = np.ascontiguousarray(learning_rates, dtype=np.float64)
    costs = np.full((M, updates), np.nan)
    diverged_at = np.full(M, -1, dtype=np.int64)
    at = np.empty(0, np.int64) if snapshot_at is None else np.asarray(snapshot_at, np.int64)
    snaps = np.empty((len(at), M, P), dtype=theta.dtype)
    state_rows = M if code != GD else 0  # momentum's velocity, Adam's moments
    v1s = np.zeros((state_rows, P), theta.dtype)
    v2s = np.zeros((state_rows, P), theta.dtype)
    out = (theta, costs, diverged_at, at, snaps, v1s, v2s)
    span = [np.int64(0), np.int64(updates)]
    yield_fn = np.int64(yield_address())
    solo = _Group(1, P, theta.dtype)

    def scratch() -> tuple[np.ndarray, ...]:
        data = (Xc.copy(), Yc.copy(), Xt, Yt, current[0], order_of, current[1], np.uint64(m),
                np.uint64(nc), np.uint64(batch), np.int64(per_epoch))  # fmt: skip
        return data, workspace(network, nc)

    def run(lo: int, hi: int, worker: int = 0, group: _Group = solo, mine=None) -> None:
        data, work = scratch() if mine is None else mine
        sync = (np.int64(worker), np.int64(group.n_workers), group.G, group.Cp, group.sync,
                yield_fn, float(SPLIT_PAYS))  # fmt: skip
        opt = (np.int64(code), rates, decay, hyper, c1, c2, span[0], span[1])
        train_models(net, data, opt, out, sync, work, np.int64(lo), np.int64(hi))

    threads = usable_cores() if threads is None else max(1, int(threads))
    pooled, per_model = split_plan(M, threads, math.ceil(batch / nc))
    run(0, 0)  # load or compile the kernel once, before any thread starts
    every = report_every if on_report is not None else 0
    delivered = 0  # snapshots handed to on_snapshot
    # always in spans: a Ctrl-C (or an exception in a callback) stops training at the end
    # of the running span, not of the whole run
    watched = every or on_snapshot is not None
    # a span's minibatch orders take at most about ORDERS_SPAN_BYTES
    cap = max(1, ORDERS_SPAN_BYTES // (4 * sets * m)) * per_epoch if draw else updates
    for first, stop in spans(updates, 1, None if watched else QUIET_SPAN_SECONDS, cap):
        span[:] = np.int64(first), np.int64(stop)
        if draw is not None:  # the orders of this span's epochs, drawn now
            lo, hi = first // per_epoch, (stop - 1) // per_epoch + 1
            current[:] = np.ascontiguousarray(draw(lo, hi), dtype=np.int32), np.int64(lo)
        _train_span(run, M, threads, pooled, per_model, P, theta.dtype, scratch)
        if every:  # as the NumPy engine reports: while any model still runs
            for it in range(-(-first // every) * every, stop, every):
                if ((diverged_at < 0) | (diverged_at > it)).any():
                    on_report(it, costs[:, it])
        while on_snapshot is not None and delivered < len(at):
            if at[delivered] >= stop and stop < updates:
                break
            on_snapshot(delivered, snaps[delivered])
            delivered += 1
    return costs, diverged_at, snaps


def spans(
    updates: int, unit: int, seconds: float | None = None, cap: int | None = None
) -> Iterator[tuple[int, int]]:
    """``(first, stop)`` spans of updates that cover ``0..updates-1`` in order: one span
    for ``unit`` 0; else whole multiples of ``unit`` updates (the first: one), each sized
    from the time the previous one took to take about ``seconds`` (default:
    :data:`SPAN_SECONDS`), so that spans end often without their overhead (a kernel call
    and a thread pool each) mattering; none longer than ``cap`` updates."""
    if unit <= 0:
        yield 0, updates
        return
    seconds = SPAN_SECONDS if seconds is None else seconds
    first, size = 0, unit
    while first < updates:
        stop = min(updates, first + size)
        start = time.perf_counter()
        yield first, stop
        took = time.perf_counter() - start
        per_update = took / (stop - first)
        units = int(seconds / max(per_update * unit, 1e-9))
        size = unit * min(max(1, units), 1_000_000)
        size = size if cap is None else max(1, min(size, cap))
        first = stop


def _train_span(run, M, threads, pooled, per_model, P, dtype, scratch) -> None:  # type: ignore[no-untyped-def]
    """Every model's current span: ``pooled`` models over the thread pool, each of the
    others over a group of ``per_model`` threads (see :func:`split_plan`)."""
    if pooled:
        _pool(run, pooled, min(threads, pooled))
    if pooled < M:
        groups = [_Group(per_model, P, dtype) for _ in range(pooled, M)]
        # everything a thread needs is made here: a thread that failed before reaching
        # the kernel would leave the others of its group waiting at the barrier
        jobs = [
            (i, i + 1, w, group, scratch())
            for i, group in zip(range(pooled, M), groups, strict=True)
            for w in range(per_model)
        ]
        # not cancellable: a thread left out would keep its group waiting at the barrier
        _run_all(len(jobs), [partial(run, *job) for job in jobs], cancel=False)


def workspace(network: Network, nc: int) -> tuple[np.ndarray, ...]:
    """One thread's scratch memory for the kernel, for chunks of ``nc`` samples: ``E, T,
    rows`` (two float64 rows of ``nc`` values; ``rows``: where each layer's ``z`` and ``a``
    start; see :func:`initlab.engine._kernel.train_models`)."""
    return np.zeros(nc), np.zeros(nc), np.zeros(2 * len(network.layer_sizes), np.uint64)


def split_plan(models: int, threads: int, n_chunks: int) -> tuple[int, int]:
    """How ``models`` models are spread over ``threads`` threads: ``(pooled, per_model)``.

    The first ``pooled`` models are trained one per thread at a time; each of the
    others (the ``models % threads`` left over, fewer than ``threads``) by
    ``per_model`` threads sharing its ``n_chunks`` chunks, all at once. A
    model is split only over at least two threads with a chunk each.
    """
    tail = models % threads
    per_model = min(threads // tail, n_chunks) if tail else 1
    if per_model < 2:
        return models, 1
    return models - tail, per_model


class _Group:
    """The buffers shared by the threads that train one model together."""

    def __init__(self, n_workers: int, n_parameters: int, dtype: np.dtype) -> None:
        self.n_workers = n_workers
        self.G = np.zeros(2 * n_workers * n_parameters, dtype)
        self.Cp = np.zeros(2 * n_workers * 3)
        self.sync = np.zeros(STRIDE * n_workers, dtype=np.int64)


def _pool(run, M: int, threads: int) -> None:
    if threads == 1:
        run(0, M)
        return
    batch = max(1, min(16, M // (4 * threads)))
    _run_all(threads, [partial(run, lo, min(lo + batch, M)) for lo in range(0, M, batch)])


def _run_all(workers: int, calls: list, cancel: bool = True) -> None:
    """Every call of ``calls`` on a pool of ``workers`` threads. If waiting is interrupted
    (Ctrl-C) or a call fails, the calls not yet started are dropped (``cancel``) and the
    running ones finish their span before the exception goes on."""
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        for future in [pool.submit(call) for call in calls]:
            future.result()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=cancel)
        raise
    pool.shutdown(wait=True)
