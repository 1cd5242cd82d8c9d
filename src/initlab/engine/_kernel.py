"""The compiled kernel: full-batch gradient descent of many models, one model at a time.

Only :mod:`initlab.engine.compiled` imports this module, so nothing that does
not train ever loads numba. The architecture is passed as arrays (layer sizes,
activation codes, parameter offsets), so one compiled function serves every
architecture; it is cached on disk (``cache=True``).

Within a model the samples are the vector lanes: the data are processed in
chunks of ``nc`` samples (about 160, see
:func:`initlab.engine.compiled.chunk_length`) that stay in the L1/L2 cache. For
each chunk the forward pass, the loss and the backward pass run layer by layer
(the matrix products in passes of up to four multiply-adds per element, see
:func:`_gemm_rows`) and the gradients are accumulated; after the last chunk the
cost is checked and the parameters updated. The whole iteration loop runs
inside the kernel. Models are independent, so threads (the kernel releases the
GIL) train disjoint ranges of models in parallel and a diverging model cannot
disturb another. A model can also be shared by a group of threads, each
passing over its own chunks, that meet at a barrier after every pass (see
:func:`train_models` and :func:`_combine`).

The data are padded to a whole number of chunks with copies of real samples
whose error signal is masked to zero, so every inner loop runs over a whole
chunk (a multiple of 16 samples) and vectorizes without remainder. ``exp`` is
computed by :func:`_vexp_into` (a degree-13 polynomial after range reduction, within
1 ulp of NumPy's ``exp``; tested) so that it vectorizes too, and the softplus
terms of the loss are summed as the logarithm of a product over each chunk
(each factor lies in ``(1, 2]``), one ``log`` per chunk instead of one
``log1p`` per sample; both change the cost by about 1e-16 relative. ``exp(0)``
is exactly 1 (so ``sigmoid(0)`` is exactly 1/2), as in NumPy.

The error signals are ``m`` times the reference's ``dz`` (``sigmoid(z) - y``,
without the ``1/m`` of the mean); the gradients are divided by ``m`` after all
their sums, as :func:`initlab.network.backward` does. Where the errors are exact
(``+-1/2`` for zero weights) the sums are then exact in any order, so a gradient
that is zero in exact arithmetic is exactly zero here too, on every CPU, however
the sums are vectorized or split over threads.

``fastmath`` is limited to reassociation and contraction (FMA): sums are
vectorized in a different order than NumPy's, which changes costs at the level
of rounding (about 1e-15 relative); there is no assumption about NaN or
infinity, so divergence detection is exact.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from initlab.engine._sync import barrier, cycles

_FLAGS = {"reassoc", "contract"}

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_EXP_MIN = -708.0
_EXP_MAX = 709.0


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy", inline="always")
def _vexp_into(x, out, poly, bits, fb, n):
    """``out[s] = exp(x[s])`` for ``s < n``, arguments clamped to [-708, 709].

    Range reduction ``x = n ln2 + r`` with ``|r| <= ln2 / 2`` (Cody-Waite split of
    ln 2), a Taylor polynomial of degree 13 for ``exp(r)`` (truncation error below
    5e-18), and ``2^n`` built from its exponent bits (written to ``bits``, read back
    through ``fb``, the same memory seen as float64); branch-free, so it vectorizes.
    """
    for s in range(n):
        v = min(max(x[s], _EXP_MIN), _EXP_MAX)
        nf = math.floor(v * _LOG2E + 0.5)
        r = (v - nf * _LN2_HI) - nf * _LN2_LO
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        poly[s] = p
        bits[s] = (np.int64(nf) + 1023) << 52
    for s in range(n):
        out[s] = poly[s] * fb[s]


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _vexp(x, out, poly, bits, n):
    """:func:`_vexp_into` with ``fb`` made here (the kernel's threads pass their own)."""
    _vexp_into(x, out, poly, bits, bits.view(np.float64), n)


_U0 = np.uint64(0)
_U1 = np.uint64(1)
_U2 = np.uint64(2)
_U3 = np.uint64(3)
_U4 = np.uint64(4)

# Index arithmetic below is done in uint64 on purpose: numba then neither wraps
# negative indices (which defeats vectorization) nor needs array slices (whose
# atomic reference counting would dominate the run time).


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _gemm_rows(th, wo, rs, qs, n_rows, n_red, src, so, dst, do, nc, bo):
    """``dst[do + r*nc + s] = b_r + sum_q th[wo + r*rs + q*qs] * src[so + q*nc + s]``,
    ``s < nc``, with the bias ``b_r = th[bo + r]``, or 0 when ``bo`` is -1.

    The reduction over ``q`` runs in blocks of up to four terms, so each pass over
    a ``dst`` row serves up to four multiply-adds. The chunk length ``nc`` is a
    run-time value so that LLVM vectorizes the sample loops instead of unrolling
    them. All offsets are uint64 (``bo``: int64).
    """
    for r in range(n_rows):
        o = do + r * nc
        wr = wo + r * rs
        base = th[np.uint64(bo) + r] if bo >= 0 else 0.0
        q = _U0
        while q < n_red:
            nb = min(_U4, n_red - q)
            x0 = so + q * nc
            w0 = th[wr + q * qs]
            if nb == _U4:
                w1 = th[wr + (q + _U1) * qs]
                w2 = th[wr + (q + _U2) * qs]
                w3 = th[wr + (q + _U3) * qs]
                if q == _U0:
                    for s in range(nc):
                        dst[o + s] = base + (
                            (w0 * src[x0 + s] + w1 * src[x0 + nc + s])
                            + (w2 * src[x0 + _U2 * nc + s] + w3 * src[x0 + _U3 * nc + s])
                        )
                else:
                    for s in range(nc):
                        dst[o + s] += (w0 * src[x0 + s] + w1 * src[x0 + nc + s]) + (
                            w2 * src[x0 + _U2 * nc + s] + w3 * src[x0 + _U3 * nc + s]
                        )
            elif nb == _U3:
                w1 = th[wr + (q + _U1) * qs]
                w2 = th[wr + (q + _U2) * qs]
                if q == _U0:
                    for s in range(nc):
                        dst[o + s] = base + (
                            (w0 * src[x0 + s] + w1 * src[x0 + nc + s]) + w2 * src[x0 + _U2 * nc + s]
                        )
                else:
                    for s in range(nc):
                        dst[o + s] += (w0 * src[x0 + s] + w1 * src[x0 + nc + s]) + w2 * src[
                            x0 + _U2 * nc + s
                        ]
            elif nb == _U2:
                w1 = th[wr + (q + _U1) * qs]
                if q == _U0:
                    for s in range(nc):
                        dst[o + s] = base + (w0 * src[x0 + s] + w1 * src[x0 + nc + s])
                else:
                    for s in range(nc):
                        dst[o + s] += w0 * src[x0 + s] + w1 * src[x0 + nc + s]
            else:
                if q == _U0:
                    for s in range(nc):
                        dst[o + s] = base + (w0 * src[x0 + s])
                else:
                    for s in range(nc):
                        dst[o + s] += w0 * src[x0 + s]
            q += nb


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _weight_grads(g, wo, bo, n_out, n_in, Dc, dc, A, ai, nc):
    """``g[wo + j*n_in + k] += sum_s Dc[dc + j*nc + s] A[ai + k*nc + s]`` and
    ``g[bo + j] += sum_s Dc[dc + j*nc + s]``: four ``k`` per pass over a row of ``Dc``, the
    bias sum riding along in the first pass."""
    for j in range(n_out):
        do = dc + j * nc
        gj = wo + j * n_in
        k = _U0
        while k < n_in:
            nb = min(_U4, n_in - k)
            ak = ai + k * nc
            hb = 0.0
            h0 = 0.0
            h1 = 0.0
            h2 = 0.0
            h3 = 0.0
            if nb == _U4:
                for s in range(nc):
                    d = Dc[do + s]
                    hb += d
                    h0 += d * A[ak + s]
                    h1 += d * A[ak + nc + s]
                    h2 += d * A[ak + _U2 * nc + s]
                    h3 += d * A[ak + _U3 * nc + s]
                g[gj + k + _U3] += h3
                g[gj + k + _U2] += h2
                g[gj + k + _U1] += h1
            elif nb == _U3:
                for s in range(nc):
                    d = Dc[do + s]
                    hb += d
                    h0 += d * A[ak + s]
                    h1 += d * A[ak + nc + s]
                    h2 += d * A[ak + _U2 * nc + s]
                g[gj + k + _U2] += h2
                g[gj + k + _U1] += h1
            elif nb == _U2:
                for s in range(nc):
                    d = Dc[do + s]
                    hb += d
                    h0 += d * A[ak + s]
                    h1 += d * A[ak + nc + s]
                g[gj + k + _U1] += h1
            else:
                for s in range(nc):
                    d = Dc[do + s]
                    hb += d
                    h0 += d * A[ak + s]
            g[gj + k] += h0
            if k == _U0:
                g[bo + j] += hb
            k += nb


#: a group of threads checks every this many iterations whether splitting still pays
WINDOW = 64
#: ... and gives the model to its first thread alone after this many windows in a row
#: that took longer than ``pays`` times what one thread alone would have needed (see
#: :func:`_combine`; ``pays`` is :data:`initlab.engine.compiled.SPLIT_PAYS`)
BAD_WINDOWS = 8


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _combine(
    g, cost, busy, wall, G, Cp, sync, worker, n_workers, epoch, yield_fn, n_chunks, window, cmin,
    bad, pays,
):  # fmt: skip
    """One thread's share ``g``, ``cost`` of a split iteration in, the group's sums out.

    The shares are posted in the half of ``G``, ``Cp`` that ``epoch`` selects, the
    group meets at the barrier, then every thread sums them in worker order into
    its own ``g``. Returns the summed cost, ``cmin`` and ``bad``.

    At the end of every window of :data:`WINDOW` iterations (``window`` > 0: the
    window's number) the threads also post the cycles they spent computing in
    it (``busy``, waits excluded) and its wall time (``wall``). ``cmin`` is the
    least time per chunk and window seen so far (preemption only makes it
    longer; the first window, which holds the threads' start, is not judged),
    so ``n_chunks * cmin`` is what one thread alone would need for a window.
    ``bad`` counts the windows in a row whose slowest thread took longer than
    ``pays`` times that (another process holds a core, or the machine is
    oversubscribed); the
    caller stops splitting at :data:`BAD_WINDOWS`. Every thread decides from
    the same posted numbers, so all decide alike. Cycle counts are 0 where
    there is no cycle counter: the split then never stops.
    """
    P = np.uint64(g.shape[0])
    nwu = np.uint64(n_workers)
    b = np.uint64(epoch & 1) * nwu
    go = (b + np.uint64(worker)) * P
    for p in range(P):
        G[go + p] = g[p]
    co = (b + np.uint64(worker)) * _U3
    Cp[co] = cost
    Cp[co + _U1] = busy
    Cp[co + _U2] = wall
    barrier(sync, worker, n_workers, epoch, yield_fn)
    cost = Cp[b * _U3]
    for v in range(_U1, nwu):
        cost += Cp[(b + v) * _U3]
    go = b * P
    for p in range(P):
        g[p] = G[go + p]
    for _ in range(_U1, nwu):
        go += P
        for p in range(P):
            g[p] += G[go + p]
    if window > 0:
        worst = 0.0
        for v in range(nwu):
            co = (b + v) * _U3
            worst = max(worst, Cp[co + _U2])
            share = (v + _U1) * n_chunks // nwu - v * n_chunks // nwu
            cmin = min(cmin, Cp[co + _U1] / float(share))
        if window > 1 and worst > pays * float(n_chunks) * cmin:
            bad += 1
        else:
            bad = 0
    return cost, cmin, bad


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def train_models(
    sizes, acts, w_off, b_off, Xc, Yc, m, nc, lr, iterations, theta, costs, diverged_at, lo, hi,
    worker, n_workers, G, Cp, sync, yield_fn, pays, E, T, poly, bits, fb, a_off, at, snaps,
):  # fmt: skip
    """Train models ``lo..hi-1`` of ``theta`` (shape ``(M, P)``) in place.

    ``sizes``, ``w_off`` and ``b_off`` are uint64 arrays (see :class:`Layout`),
    ``acts`` the int64 activation codes of the hidden layers. ``Xc`` holds the
    inputs chunk by chunk, flat: feature ``k`` of sample ``c * nc + s`` at
    ``(c * n_0 + k) * nc + s``; ``Yc`` the labels, flat. Both are padded to
    whole chunks; only the first ``m`` samples count. ``costs[i, t]`` receives
    model ``i``'s cost before update ``t``; ``diverged_at[i]`` the first
    iteration whose cost is not finite, or -1. ``snaps[k, i]`` receives model
    ``i``'s parameters before iteration ``at[k]`` (``at``: sorted int64; an
    ``at[k]`` past the model's last iteration gets its final parameters).

    With ``n_workers`` > 1, this call is thread ``worker`` (int64) of a group of
    ``n_workers`` threads making the same call together: each passes over its
    own contiguous range of chunks, puts its partial gradient and cost in
    ``G`` and ``Cp`` (flat, ``2 * n_workers * P`` and ``2 * n_workers * 3`` values:
    two halves used in alternate iterations, so one barrier per iteration
    suffices), meets the others at the barrier on
    ``sync`` (see :func:`initlab.engine._sync.barrier`), then sums the parts in
    worker order and updates its own copy of the parameters; every thread does
    the same arithmetic, so all copies stay equal. Thread 0 writes the results.
    With one chunk per thread the sums are bitwise those of a single thread.
    When the split stops paying (see :func:`_combine`; ``pays``: the threshold),
    the other threads return and thread 0 finishes the models alone.

    ``E``, ``T``, ``poly`` (float64) and ``bits`` (int64), ``nc`` values each,
    ``fb`` (the memory of ``bits`` seen as float64) and ``a_off`` (uint64,
    ``L + 1``) are the calling thread's scratch memory, allocated by the caller
    (see :func:`initlab.engine.compiled.workspace`): every further dtype given to
    ``np.zeros`` in here costs about 0.2 s of compile time, nothing at run time.
    The scratch arrays of ``theta``'s dtype are allocated here: as arguments,
    LLVM would have to assume they may overlap, and the loops get about 13%
    slower. ``Xc`` should be the thread's own copy: no reference counts shared
    between threads.
    """
    L = sizes.shape[0] - 1
    n0 = sizes[0]
    n_at = at.shape[0]
    n_chunks = np.uint64(Yc.shape[0]) // nc
    P = np.uint64(theta.shape[1])
    # rows of A (nc values each): every hidden layer's activations (layer 1 reads the
    # data chunk in Xc directly); Z holds the logits. ReLU's derivative is read from A:
    # a > 0 exactly when z > 0.
    rows_a = _U0
    maxw = _U1
    for l in range(L):
        a_off[l + 1] = rows_a
        rows_a += sizes[l + 1]
        if sizes[l + 1] > maxw:
            maxw = sizes[l + 1]
    dt = theta.dtype
    Z = np.zeros(sizes[L] * nc, dt)
    A = np.zeros(rows_a * nc, dt)
    # the error signals dz of two adjacent layers, in the two halves of one buffer
    # (offsets are swapped, not arrays: no reference counting in the loops)
    D = np.zeros(_U2 * maxw * nc, dt)
    g = np.zeros(P, dt)
    th = np.zeros(P, dt)
    fm = float(m)
    c_lo = np.uint64(worker) * n_chunks // np.uint64(n_workers)
    c_hi = np.uint64(worker + 1) * n_chunks // np.uint64(n_workers)
    lead = worker == 0
    epoch = 0
    cmin = math.inf
    bad = np.int64(0)  # not the literal 0: _combine would be compiled for both
    rounds = 0
    busy = 0
    if n_workers > 1:  # start the clocks when the whole group is here
        epoch += 1
        barrier(sync, worker, n_workers, epoch, yield_fn)
    t_free = t_window = cycles()
    for model in range(lo, hi):
        for p in range(P):
            th[p] = theta[model, p]
        if lead:
            diverged_at[model] = -1
        ks = 0
        for it in range(iterations):
            if lead:
                while ks < n_at and at[ks] == it:
                    for p in range(P):
                        snaps[ks, model, p] = th[p]
                    ks += 1
            for p in range(P):
                g[p] = 0.0
            cost = 0.0
            for c in range(c_lo, c_hi):
                c0 = c * nc
                xo = c * n0 * nc
                # forward: hidden pre-activations go straight into A and are activated in place
                for l in range(L):
                    n_in = sizes[l]
                    n_out = sizes[l + 1]
                    ai = a_off[l] * nc
                    bo = np.int64(b_off[l])
                    wo = w_off[l]
                    if l == L - 1:
                        if l == 0:  # the first layer reads the data chunk in place
                            _gemm_rows(th, wo, n_in, _U1, n_out, n_in, Xc, xo, Z, _U0, nc, bo)
                        else:
                            _gemm_rows(th, wo, n_in, _U1, n_out, n_in, A, ai, Z, _U0, nc, bo)
                        continue
                    ao = a_off[l + 1] * nc
                    if l == 0:
                        _gemm_rows(th, wo, n_in, _U1, n_out, n_in, Xc, xo, A, ao, nc, bo)
                    else:
                        _gemm_rows(th, wo, n_in, _U1, n_out, n_in, A, ai, A, ao, nc, bo)
                    code = acts[l]
                    if code == 1:
                        for q in range(n_out * nc):
                            z = A[ao + q]
                            A[ao + q] = 0.0 if z < 0.0 else z
                    elif code == 2:
                        for j in range(n_out):
                            oo = ao + j * nc
                            for s in range(nc):
                                T[s] = -A[oo + s]
                            _vexp_into(T, E, poly, bits, fb, nc)
                            for s in range(nc):
                                A[oo + s] = 1.0 / (1.0 + E[s])
                    elif code == 3:
                        for q in range(n_out * nc):
                            A[ao + q] = math.tanh(A[ao + q])
                # loss from the logits, and dz of the output layer
                zo = _U0
                for s in range(nc):
                    T[s] = -abs(Z[zo + s])
                _vexp_into(T, E, poly, bits, fb, nc)
                n_valid = min(nc, m - c0)
                prod = 1.0
                lin = 0.0
                for s in range(nc):
                    valid = s < n_valid
                    z = Z[zo + s]
                    y = Yc[c0 + s]
                    e = E[s]
                    q = 1.0 / (1.0 + e)
                    prob = q if z >= 0.0 else e * q
                    lin += (max(z, 0.0) - y * z) if valid else 0.0
                    prod *= (1.0 + e) if valid else 1.0
                    D[s] = (prob - y) if valid else 0.0  # m dz[L], in the first half
                cost += lin + math.log(prod)
                # backward
                dc = _U0
                dn = maxw * nc
                for l in range(L - 1, -1, -1):
                    n_in = sizes[l]
                    n_out = sizes[l + 1]
                    wo = w_off[l]
                    bo = b_off[l]
                    if l == 0:
                        _weight_grads(g, wo, bo, n_out, n_in, D, dc, Xc, xo, nc)
                        break
                    ai = a_off[l] * nc
                    _weight_grads(g, wo, bo, n_out, n_in, D, dc, A, ai, nc)
                    _gemm_rows(th, wo, _U1, n_in, n_in, n_out, D, dc, D, dn, nc, np.int64(-1))
                    code = acts[l - 1]
                    if code != 0:
                        for k in range(n_in):
                            no = dn + k * nc
                            ak = ai + k * nc
                            if code == 1:
                                for s in range(nc):
                                    D[no + s] = D[no + s] * (1.0 if A[ak + s] > 0.0 else 0.0)
                            elif code == 2:
                                for s in range(nc):
                                    a = A[ak + s]
                                    D[no + s] = D[no + s] * (a * (1.0 - a))
                            else:
                                for s in range(nc):
                                    a = A[ak + s]
                                    D[no + s] = D[no + s] * (1.0 - a * a)
                    dc, dn = dn, dc
            if n_workers > 1:
                epoch += 1
                t = cycles()
                busy += t - t_free
                rounds += 1
                window = rounds // WINDOW if rounds % WINDOW == 0 else 0
                cost, cmin, bad = _combine(
                    g, cost, float(busy), float(t - t_window), G, Cp, sync, worker, n_workers,
                    epoch, yield_fn, n_chunks, window, cmin, bad, pays,
                )  # fmt: skip
                if window > 0:
                    busy = 0
                    t_window = t
                t_free = cycles()
                if bad >= BAD_WINDOWS:  # the first thread carries on alone
                    if not lead:
                        return
                    n_workers = 1
                    c_lo = _U0
                    c_hi = n_chunks
            cost = cost / fm
            if lead:
                costs[model, it] = cost
            if not math.isfinite(cost):
                if lead:
                    diverged_at[model] = it
                break
            for p in range(P):  # the 1/m of the mean after the sums, as the reference
                th[p] = th[p] - lr * (g[p] / fm)
        if lead:
            for p in range(P):
                theta[model, p] = th[p]
            while ks < n_at:  # the end of the run, or the parameters it diverged with
                for p in range(P):
                    snaps[ks, model, p] = th[p]
                ks += 1
