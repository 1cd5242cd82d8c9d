"""The compiled kernel: many models trained one at a time, the samples as vector lanes.

Only :mod:`initlab.engine.compiled` imports this module, so nothing that does
not train ever loads numba. The architecture is passed as arrays (layer sizes,
activation codes and parameters, parameter offsets), so one compiled function
serves every architecture; it is cached on disk (``cache=True``).

One training step of one model is a pipeline of small stages, each a compiled
function called by :func:`train_models` once per chunk and layer (they are not
inlined: a single function holding every stage's loops takes about a quarter
longer to compile, and runs no faster):

* :func:`_gemm_rows`: a layer's pre-activations ``z = W a + b`` for one chunk of
  samples (also ``W^T dz`` going down);
* :func:`_activate`: ``a = f(z)``, and for activations whose derivative is not a
  cheap function of ``a`` (leaky ReLU, ELU, SELU, GELU, softplus, SiLU) ``f'(z)``
  too, in the same pass, sharing its exponentials (GELU's normal CDF is a
  vectorized polynomial, :func:`_erfc_over_gauss`);
* :func:`_head`: the loss from the logits and the output layer's error signal
  ``p - onehot(y)`` (sigmoid or softmax);
* :func:`_activation_grad`: ``dz = da * f'(z)``, with ``f'`` from ``a`` or as stored;
* :func:`_weight_grads`: ``dW += dz a^T``, ``db += sum dz``;
* :func:`_step`: the optimizer's update of the parameters (gradient descent,
  momentum or Adam, L2 weight decay), written as :mod:`initlab.optimizers` writes
  it and compiled without ``fastmath``, so its arithmetic is NumPy's, operation
  for operation.

Within a model the data are processed in chunks of ``nc`` samples (about 160,
see :func:`initlab.engine.compiled.chunk_length`) that stay in the L1/L2 cache;
for each chunk the forward pass, the loss and the backward pass run layer by
layer (the matrix products in passes of up to four multiply-adds per element)
and the gradients are accumulated; after the last chunk the cost is checked and
the parameters updated. With minibatches, each chunk is first gathered from the
training set in the order of that epoch's permutation (one for every model, or one
per model, drawn by the caller with the calls :func:`initlab.fit.fit` makes). The whole
iteration loop runs inside the kernel. Models are independent, so threads (the
kernel releases the GIL) train disjoint ranges of models in parallel and a
diverging model cannot disturb another. A model can also be shared by a group of
threads, each passing over its own chunks, that meet at a barrier after every
pass (see :func:`initlab.engine._sync.combine`, where the policy that ends a
split that stopped paying lives too).

A chunk is padded to whole vectors with copies of real samples whose error
signal is masked to zero, so every inner loop runs over a whole chunk (a
multiple of 16 samples) and vectorizes without remainder. ``exp`` is computed
by :func:`_exp` (a degree-11 polynomial after range reduction, ``2^k`` made from its
bits in a register; within 1 ulp of NumPy's ``exp``, tested) so that the loops
calling it vectorize too, and the softplus
terms of the sigmoid head's loss are summed as the logarithm of a product over
each chunk (each factor lies in ``(1, 2]``), one ``log`` per chunk instead of one
``log1p`` per sample; both change the cost by about 1e-16 relative. ``exp(0)``
is exactly 1 (so ``sigmoid(0)`` is exactly 1/2), as in NumPy.

The error signals are ``n`` times the reference's ``dz`` (``p - y``, without the
``1/n`` of the mean over the ``n`` samples of the batch); the gradients are
divided by ``n`` after all their sums, as :func:`initlab.network.backward` does.
Where the errors are exact (``+-1/2`` for zero weights) the sums are then exact
in any order, so a gradient that is zero in exact arithmetic is exactly zero
here too, on every CPU, however the sums are vectorized or split over threads.

``fastmath`` is limited to reassociation: sums are vectorized in a different
order than NumPy's, which changes costs at the level of rounding (about 1e-15
relative); there is no assumption about NaN or infinity, so divergence detection
is exact. The compiler may not contract multiplies and adds into fused
multiply-adds on its own: with contraction, the code LLVM produced when compiling in
this process and the code numba loaded from its cache rounded Adam's steps
differently (measured: other costs, bit for bit, for the same run in a fresh and in
a cached process), which broke the bitwise reproducibility of a sweep resumed after
a crash. Fused multiply-adds are written out instead (:func:`_fma`, LLVM's
``llvm.fma``, correctly rounded on every CPU) where they pay: the matrix products
of :func:`_gemm_rows` (about 10% faster) and the polynomials of ``exp``, ``expm1``,
``log1p`` and ``erfc`` (about twice as fast); not in the sums of
:func:`_weight_grads`, which LLVM then no longer vectorizes.

Both matrix products are blocked over rows, so that one pass over the samples
serves several rows: :func:`_gemm_rows` four rows by four terms (each ``src`` value
loaded once for four rows; 20% faster on the digits network, 31% on ``[2, 256,
128, 1]``, single thread, the same bits), :func:`_weight_grads` two rows by four
inputs (a further 5% and 18%).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from initlab.activations import SELU_ALPHA, SELU_LAMBDA
from initlab.engine._sync import BAD_WINDOWS, WINDOW, barrier, combine, cycles
from initlab.engine.codes import (
    ADAM,
    ELU,
    GD,
    GELU,
    IDENTITY,
    LEAKY_RELU,
    MOMENTUM,
    RELU,
    SELU,
    SIGMOID,
    SIGMOID_HEAD,
    SILU,
    SOFTPLUS,
    TANH,
)

_FLAGS = {"reassoc"}

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_EXP_MIN = -708.0
_EXP_MAX = 709.0
_SELU_SCALE = SELU_LAMBDA * SELU_ALPHA  # as initlab.activations.selu computes it
_SQRT1_2 = 0.7071067811865476
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# exp(r) and expm1(r) / r on |r| <= ln2 / 2: the coefficients c_0 .. c_n printed by
# tools/kernel_polynomials.py (interpolation at Chebyshev nodes, near-minimax)
_EXP_POLYNOMIAL = np.array([
    1.0, 1.0, 0.5000000000000019, 0.1666666666666668, 0.0416666666664881,
    0.008333333333319601, 0.0013888888952314775, 0.00019841269890047113,
    2.4801485482328494e-05, 2.755724091857897e-06, 2.763263963904103e-07,
    2.5110037605963777e-08,
])  # fmt: skip
_EXPM1_POLYNOMIAL = np.array([
    1.0, 0.5000000000000006, 0.1666666666666667, 0.04166666666657314, 0.008333333333326141,
    0.0013888888932488599, 0.00019841269874800493, 2.4801504346997686e-05,
    2.7557255425746435e-06, 2.7626357241447223e-07, 2.510520637395701e-08,
])  # fmt: skip
# atanh(sqrt(w)) / sqrt(w) on 0 <= w <= 1/9 (softplus's log1p; same tool)
_LOG1P_POLYNOMIAL = np.array([
    1.0, 0.33333333333333076, 0.20000000000092874, 0.14285714272727057, 0.11111112040373837,
    0.09090870416252403, 0.07693307021152004, 0.06650187016337313, 0.06055084364034609,
    0.04162253255930411, 0.08522081781390699,
])  # fmt: skip
# erfc(x) = t h(s) exp(-x^2), t = K / (K + x), s = 2 t - 1: h's coefficients a_0 .. a_n in
# powers of s, printed by tools/erfc_chebyshev.py
_ERFC_K = 4.0
_ERFC_POLYNOMIAL = np.array([
    0.27399891525012277, 0.24413718227022052, 0.1933021755663077, 0.13521345782830863,
    0.08271289696957897, 0.043502734309983034, 0.0190953787259277, 0.006592513335175785,
    0.0015280139270965978, 7.023971478125185e-05, -0.00011376324291423201,
    -4.420319195327722e-05, -9.085509537367428e-07, 4.715163793597607e-06,
    1.1730959784386598e-06, -3.5588594522222084e-07, -2.1091290301404483e-07,
    1.8600335198289197e-08, 3.063220517661313e-08, 6.907073184863086e-11,
    -3.81882222497662e-09, -1.7637206400962878e-10, 3.018454148516381e-10,
    1.9132295878422322e-11,
])  # fmt: skip
_ERFC_DEGREE = len(_ERFC_POLYNOMIAL) - 1


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (LLVM's ``llvm.fma``): a fused multiply-add where the
    code asks for one, never where the compiler would choose to contract (see the
    module docstring); correctly rounded on every CPU, so the same bits everywhere
    (a CPU without FMA instructions computes it in software, slowly). In the
    precision of its arguments: float32 when all three are (the float32 kernels'
    matrix products), else float64."""
    precision = typingctx.unify_types(a, b, c)
    if not isinstance(precision, types.Float):
        precision = types.float64
    sig = precision(precision, precision, precision)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.fma(*args)

    return sig, codegen


@intrinsic
def _as_float64(typingctx, bits):
    """The float64 whose 64 bits are those of the int64 ``bits`` (a bit cast, no conversion):
    ``2^k`` from its exponent field, ``(k + 1023) << 52``, in a register."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy", inline="always")
def _reduce(x):
    """``(r, 2^k)`` with ``x = k ln2 + r``, ``|r| <= ln2 / 2``, for ``x`` clamped to
    [-708, 709]: ``k = floor(x / ln2 + 1/2)`` and ``r`` by the Cody-Waite split of ln 2
    in fused multiply-adds (``k ln2_hi`` is exact, so is its subtraction)."""
    v = min(max(x, _EXP_MIN), _EXP_MAX)
    nf = math.floor(v * _LOG2E + 0.5)
    r = _fma(-nf, _LN2_LO, _fma(-nf, _LN2_HI, v))
    return r, _as_float64((np.int64(nf) + 1023) << 52)


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy", inline="always")
def _exp(x):
    """``exp(x)``, ``x`` clamped to [-708, 709]: ``2^k exp(r)`` (see :func:`_reduce`),
    ``exp(r)`` by the polynomial :data:`_EXP_POLYNOMIAL` of degree 11 in fused
    multiply-adds; branch-free, so loops over it vectorize (within 1 ulp of NumPy's
    ``exp``; ``exp(0)`` is exactly 1)."""
    r, scale = _reduce(x)
    p = _EXP_POLYNOMIAL[11]
    for j in range(10, -1, -1):
        p = _fma(p, r, _EXP_POLYNOMIAL[j])
    return p * scale


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy", inline="always")
def _expm1(x):
    """``exp(x) - 1``, accurate near 0 (NaN stays NaN): ``expm1(r) = r q(r)`` with ``q``
    the polynomial :data:`_EXPM1_POLYNOMIAL` of degree 10, then ``2^k expm1(r) +
    (2^k - 1)`` in one fused multiply-add, ``2^k - 1`` being exact (within 2 ulp of
    ``np.expm1``); no sum here is one that reassociation could reorder."""
    r, scale = _reduce(x)
    p = _EXPM1_POLYNOMIAL[10]
    for j in range(9, -1, -1):
        p = _fma(p, r, _EXPM1_POLYNOMIAL[j])
    q = p * r if x == x else x
    return _fma(scale, q, scale - 1.0)


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _vexp(x, out):
    """``out[s] = exp(x[s])`` (:func:`_exp` over an array, for tests)."""
    for s in range(x.size):
        out[s] = _exp(x[s])


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _vexpm1(x, out):
    """``out[s] = expm1(x[s])`` (:func:`_expm1` over an array, for tests)."""
    for s in range(x.size):
        out[s] = _expm1(x[s])


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy", inline="always")
def _log1p_small(e):
    """``log(1 + e)`` for ``0 <= e <= 1``: ``2 atanh(u) = 2 u P(u^2)``, ``u = e / (2 + e) <=
    1/3``, with ``P`` the polynomial :data:`_LOG1P_POLYNOMIAL` of degree 10 (within 3 ulp
    of ``np.log1p``); a polynomial, so loops over it vectorize."""
    u = e / (2.0 + e)
    u2 = u * u
    p = _LOG1P_POLYNOMIAL[10]
    for j in range(9, -1, -1):
        p = _fma(p, u2, _LOG1P_POLYNOMIAL[j])
    return 2.0 * u * p


_U0 = np.uint64(0)
_U1 = np.uint64(1)
_U2 = np.uint64(2)
_U3 = np.uint64(3)
_U4 = np.uint64(4)

# Index arithmetic below is done in uint64 on purpose: numba then neither wraps
# negative indices (which defeats vectorization) nor needs array slices (whose
# atomic reference counting would dominate the run time).


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy", inline="always")
def _gemm_row(th, wr, qs, q, n_red, src, so, dst, o, nc, base):
    """One row of :func:`_gemm_rows` from reduction index ``q`` on (``q == 0``: the row
    starts from ``base``), in blocks of up to four multiply-adds per pass."""
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
                    acc = _fma(w0, src[x0 + s], base)
                    acc = _fma(w1, src[x0 + nc + s], acc)
                    acc = _fma(w2, src[x0 + _U2 * nc + s], acc)
                    dst[o + s] = _fma(w3, src[x0 + _U3 * nc + s], acc)
            else:
                for s in range(nc):
                    acc = _fma(w0, src[x0 + s], dst[o + s])
                    acc = _fma(w1, src[x0 + nc + s], acc)
                    acc = _fma(w2, src[x0 + _U2 * nc + s], acc)
                    dst[o + s] = _fma(w3, src[x0 + _U3 * nc + s], acc)
        elif nb == _U3:
            w1 = th[wr + (q + _U1) * qs]
            w2 = th[wr + (q + _U2) * qs]
            if q == _U0:
                for s in range(nc):
                    acc = _fma(w0, src[x0 + s], base)
                    acc = _fma(w1, src[x0 + nc + s], acc)
                    dst[o + s] = _fma(w2, src[x0 + _U2 * nc + s], acc)
            else:
                for s in range(nc):
                    acc = _fma(w0, src[x0 + s], dst[o + s])
                    acc = _fma(w1, src[x0 + nc + s], acc)
                    dst[o + s] = _fma(w2, src[x0 + _U2 * nc + s], acc)
        elif nb == _U2:
            w1 = th[wr + (q + _U1) * qs]
            if q == _U0:
                for s in range(nc):
                    dst[o + s] = _fma(w1, src[x0 + nc + s], _fma(w0, src[x0 + s], base))
            else:
                for s in range(nc):
                    dst[o + s] = _fma(w1, src[x0 + nc + s], _fma(w0, src[x0 + s], dst[o + s]))
        else:
            if q == _U0:
                for s in range(nc):
                    dst[o + s] = _fma(w0, src[x0 + s], base)
            else:
                for s in range(nc):
                    dst[o + s] = _fma(w0, src[x0 + s], dst[o + s])
        q += nb


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _gemm_rows(th, wo, rs, qs, n_rows, n_red, src, so, dst, do, nc, bo):
    """``dst[do + r*nc + s] = b_r + sum_q th[wo + r*rs + q*qs] * src[so + q*nc + s]``,
    ``s < nc``, with the bias ``b_r = th[bo + r]``, or 0 when ``bo`` is -1.

    Rows are taken four at a time and the reduction over ``q`` in blocks of four
    terms: each pass over the samples loads four ``src`` rows once for sixteen
    multiply-adds into four ``dst`` rows (the rows left over, and the last terms
    when ``n_red`` is not a multiple of four, row by row, :func:`_gemm_row`). Every
    ``dst`` value is summed in the same order either way: ``b_r``, then the terms
    ``q = 0, 1, 2, ...`` one fused multiply-add each. The chunk length ``nc`` is a
    run-time value so that LLVM vectorizes the sample loops instead of unrolling
    them. All offsets are uint64 (``bo``: int64).
    """
    r = _U0
    while r + _U4 <= n_rows and n_red >= _U4:
        o0 = do + r * nc
        o1 = o0 + nc
        o2 = o1 + nc
        o3 = o2 + nc
        wr0 = wo + r * rs
        wr1 = wr0 + rs
        wr2 = wr1 + rs
        wr3 = wr2 + rs
        b0 = th[np.uint64(bo) + r] if bo >= 0 else 0.0
        b1 = th[np.uint64(bo) + r + _U1] if bo >= 0 else 0.0
        b2 = th[np.uint64(bo) + r + _U2] if bo >= 0 else 0.0
        b3 = th[np.uint64(bo) + r + _U3] if bo >= 0 else 0.0
        q = _U0
        while q + _U4 <= n_red:
            x0 = so + q * nc
            x1 = x0 + nc
            x2 = x1 + nc
            x3 = x2 + nc
            k0 = q * qs
            k1 = k0 + qs
            k2 = k1 + qs
            k3 = k2 + qs
            w00, w01, w02, w03 = th[wr0 + k0], th[wr0 + k1], th[wr0 + k2], th[wr0 + k3]
            w10, w11, w12, w13 = th[wr1 + k0], th[wr1 + k1], th[wr1 + k2], th[wr1 + k3]
            w20, w21, w22, w23 = th[wr2 + k0], th[wr2 + k1], th[wr2 + k2], th[wr2 + k3]
            w30, w31, w32, w33 = th[wr3 + k0], th[wr3 + k1], th[wr3 + k2], th[wr3 + k3]
            first = q == _U0
            for s in range(nc):
                s0 = src[x0 + s]
                s1 = src[x1 + s]
                s2 = src[x2 + s]
                s3 = src[x3 + s]
                a0 = b0 if first else dst[o0 + s]
                a1 = b1 if first else dst[o1 + s]
                a2 = b2 if first else dst[o2 + s]
                a3 = b3 if first else dst[o3 + s]
                dst[o0 + s] = _fma(w03, s3, _fma(w02, s2, _fma(w01, s1, _fma(w00, s0, a0))))
                dst[o1 + s] = _fma(w13, s3, _fma(w12, s2, _fma(w11, s1, _fma(w10, s0, a1))))
                dst[o2 + s] = _fma(w23, s3, _fma(w22, s2, _fma(w21, s1, _fma(w20, s0, a2))))
                dst[o3 + s] = _fma(w33, s3, _fma(w32, s2, _fma(w31, s1, _fma(w30, s0, a3))))
            q += _U4
        r += _U4
    # the last terms of the blocked rows, and every term of the rows left over (one call
    # site: _gemm_row is inlined, and each site costs compile time)
    blocked = r
    q_left = n_red - n_red % _U4
    for r in range(n_rows):
        q = q_left if r < blocked else _U0
        if q < n_red:
            base = th[np.uint64(bo) + r] if bo >= 0 else 0.0
            _gemm_row(th, wo + r * rs, qs, q, n_red, src, so, dst, do + r * nc, nc, base)


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy", inline="always")
def _weight_grad_row(g, gj, bj, k, n_in, Dc, do, A, ai, nc):
    """Row ``j`` of :func:`_weight_grads` from input ``k`` on (``k == 0``: with the bias
    sum, into ``g[bj]``), four ``k`` per pass over the row ``Dc[do:]``."""
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
            g[bj] += hb
        k += nb


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _weight_grads(g, wo, bo, n_out, n_in, Dc, dc, A, ai, nc):
    """``g[wo + j*n_in + k] += sum_s Dc[dc + j*nc + s] A[ai + k*nc + s]`` and
    ``g[bo + j] += sum_s Dc[dc + j*nc + s]``: two rows ``j`` and four ``k`` per pass over
    the samples (eight sums, and the two bias sums in the first pass), the rows and
    inputs left over row by row (:func:`_weight_grad_row`)."""
    j = _U0
    while j + _U2 <= n_out and n_in >= _U4:
        d0o = dc + j * nc
        d1o = d0o + nc
        g0 = wo + j * n_in
        g1 = g0 + n_in
        k = _U0
        while k + _U4 <= n_in:
            ak = ai + k * nc
            hb0 = 0.0
            hb1 = 0.0
            h00 = 0.0
            h01 = 0.0
            h02 = 0.0
            h03 = 0.0
            h10 = 0.0
            h11 = 0.0
            h12 = 0.0
            h13 = 0.0
            for s in range(nc):
                d0 = Dc[d0o + s]
                d1 = Dc[d1o + s]
                a0 = A[ak + s]
                a1 = A[ak + nc + s]
                a2 = A[ak + _U2 * nc + s]
                a3 = A[ak + _U3 * nc + s]
                hb0 += d0
                hb1 += d1
                h00 += d0 * a0
                h01 += d0 * a1
                h02 += d0 * a2
                h03 += d0 * a3
                h10 += d1 * a0
                h11 += d1 * a1
                h12 += d1 * a2
                h13 += d1 * a3
            g[g0 + k + _U3] += h03
            g[g0 + k + _U2] += h02
            g[g0 + k + _U1] += h01
            g[g0 + k] += h00
            g[g1 + k + _U3] += h13
            g[g1 + k + _U2] += h12
            g[g1 + k + _U1] += h11
            g[g1 + k] += h10
            if k == _U0:
                g[bo + j] += hb0
                g[bo + j + _U1] += hb1
            k += _U4
        j += _U2
    # the last inputs of the blocked rows, and every input of the rows left over (one
    # call site, as in _gemm_rows)
    blocked = j
    k_left = n_in - n_in % _U4
    for j in range(n_out):
        k = k_left if j < blocked else _U0
        if k < n_in:
            _weight_grad_row(g, wo + j * n_in, bo + j, k, n_in, Dc, dc + j * nc, A, ai, nc)


# --- stages: one job each ---------------------------------------------------------------
# E, T below are a thread's scratch rows of nc values (the softmax head's); they are passed
# one by one: unpacking them from a tuple would count references in the loops.


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _sigmoid_rows(H, zo, n):
    """``sigmoid(z) = 1 / (1 + exp(-z))`` over ``n`` values from ``H[zo]``, in place."""
    for q in range(n):
        H[zo + q] = 1.0 / (1.0 + _exp(-H[zo + q]))


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy", inline="always")
def _erfc_over_gauss(x):
    """``erfc(x) exp(x^2)`` for ``x >= 0`` (also NaN for NaN), branch-free: ``t h(s)`` with
    ``t = K / (K + x)``, ``s = 2 t - 1`` and ``h`` a polynomial in ``s`` (Horner's rule, in
    fused multiply-adds) that equals the Chebyshev series of ``h`` derived by
    tools/erfc_chebyshev.py; within 1e-15 relative of ``scipy.special.erfcx`` for every
    ``x >= 0``."""
    t = _ERFC_K / (_ERFC_K + x)
    s = 2.0 * t - 1.0
    h = _ERFC_POLYNOMIAL[_ERFC_DEGREE]
    for k in range(_ERFC_DEGREE - 1, -1, -1):
        h = _fma(h, s, _ERFC_POLYNOMIAL[k])
    return t * h


#: activations whose derivative is computed from ``a`` alone: activated in place (their
#: ``z`` is overwritten by ``a``); the others keep ``a`` in rows of their own and
#: overwrite ``z`` by ``f'(z)``, computed in the forward pass together with ``f(z)``
IN_PLACE = (IDENTITY, RELU, SIGMOID, TANH)


# Each activation's forward stage: ``a = f(z)`` for ``n_rows`` rows of ``nc`` samples, ``z``
# from ``H[zo + q]``, the maths of :mod:`initlab.activations`. The codes of IN_PLACE write
# ``a`` over ``z``, indexing with one offset (with two, LLVM could not tell that the rows
# coincide exactly and would not vectorize the loop); the others write ``a`` to
# ``H[ao + q]`` and the derivative ``f'(z)`` over ``z``, in the forms of
# :mod:`initlab.activations`, sharing the exponentials the two need.


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy", inline="always")
def _expit(z, e):
    """``expit(z)`` from ``e = exp(-|z|)``: ``1 / (1 + e)`` or ``e / (1 + e)``, the form
    that is accurate for either sign (scipy's ``expit``)."""
    inv = 1.0 / (1.0 + e)
    return inv if z >= 0.0 else e * inv


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _relu_rows(H, zo, n):
    for q in range(n):
        z = H[zo + q]
        H[zo + q] = 0.0 if z < 0.0 else z


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _tanh_rows(H, zo, n):
    """``sign(z) e / (e + 2)``, ``e = expm1(2 |z|)``, in place."""
    for q in range(n):
        z = H[zo + q]
        e = _expm1(2.0 * abs(z))
        t = e / (e + 2.0)
        H[zo + q] = (t if z >= 0.0 else -t) if z == z else z


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _leaky_relu_rows(slope, H, zo, ao, n):
    for q in range(n):
        z = H[zo + q]
        positive = z > 0.0
        H[ao + q] = z if positive else slope * z
        H[zo + q] = 1.0 if positive else slope


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _elu_rows(scale, lin, H, zo, ao, n):
    """ELU (``scale`` alpha, ``lin`` 1) and SELU: ``lin z`` above 0, ``scale expm1(z)``
    below; ``f'``: ``lin`` above 0, ``a + scale`` below."""
    for q in range(n):
        z = H[zo + q]
        positive = z > 0.0
        a = lin * z if positive else scale * _expm1(0.0 if positive else z)  # NaN stays NaN
        H[ao + q] = a
        H[zo + q] = lin if positive else a + scale


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _gelu_rows(H, zo, ao, n):
    """``z Phi(z)`` and ``Phi(z) + z phi(z)``, ``Phi(z) = erfc(-z / sqrt 2) / 2``."""
    for q in range(n):
        z = H[zo + q]
        x = abs(z) * _SQRT1_2
        e = _exp(-(x * x))  # exp(-z^2 / 2)
        tail = 0.5 * (_erfc_over_gauss(x) * e)  # Phi(-|z|)
        phi = 1.0 - tail if z >= 0.0 else tail
        H[ao + q] = z * phi
        H[zo + q] = phi + z * _INV_SQRT_2PI * e


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _softplus_rows(H, zo, ao, n):
    """``log(1 + e^z) = max(z, 0) + log1p(e^-|z|)`` (as ``np.logaddexp``) and
    ``f' = expit(z)``."""
    for q in range(n):  # e = exp(-|z|), kept in a's row for the pass below
        H[ao + q] = _exp(-abs(H[zo + q]))
    for q in range(n):
        z = H[zo + q]
        e = H[ao + q]
        H[ao + q] = max(z, 0.0) + _log1p_small(e) if z == z else z
        H[zo + q] = _expit(z, e)


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _silu_rows(H, zo, ao, n):
    """``z s`` and ``f' = s (1 + z (1 - s))``, ``s = expit(z)``."""
    for q in range(n):  # e = exp(-|z|), kept in a's row for the pass below
        H[ao + q] = _exp(-abs(H[zo + q]))
    for q in range(n):
        z = H[zo + q]
        sg = _expit(z, H[ao + q])
        H[ao + q] = z * sg
        H[zo + q] = sg * (1.0 + z * (1.0 - sg))


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _activate(code, par, H, zo, ao, n):
    """The forward stage of activation ``code`` (parameter ``par``) over ``n`` values,
    whichever it is: for networks whose hidden layers do not all share one activation
    (see :func:`kernel`)."""
    if code == RELU:
        _relu_rows(H, zo, n)
    elif code == SIGMOID:
        _sigmoid_rows(H, zo, n)
    elif code == TANH:
        _tanh_rows(H, zo, n)
    elif code == LEAKY_RELU:
        _leaky_relu_rows(par, H, zo, ao, n)
    elif code == ELU:
        _elu_rows(par, 1.0, H, zo, ao, n)
    elif code == SELU:
        _elu_rows(_SELU_SCALE, SELU_LAMBDA, H, zo, ao, n)
    elif code == GELU:
        _gelu_rows(H, zo, ao, n)
    elif code == SOFTPLUS:
        _softplus_rows(H, zo, ao, n)
    elif code == SILU:
        _silu_rows(H, zo, ao, n)


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _activation_grad(code, H, zo, ao, D, do, n_rows, nc):
    """``D[do + q] *= f'(z)`` for ``n_rows`` rows of ``nc`` samples: from ``a = H[ao + q]``
    for the codes of :data:`IN_PLACE` (``a (1 - a)``, ``1 - a^2``, as
    :mod:`initlab.activations` writes them), else the ``f'(z)`` that :func:`_activate`
    left in ``H[zo + q]``."""
    n = n_rows * nc
    if code == IDENTITY:
        return
    if code == RELU:  # a > 0 exactly where z > 0
        for q in range(n):
            D[do + q] = D[do + q] * (1.0 if H[ao + q] > 0.0 else 0.0)
    elif code == SIGMOID:
        for q in range(n):
            a = H[ao + q]
            D[do + q] = D[do + q] * (a * (1.0 - a))
    elif code == TANH:
        for q in range(n):
            a = H[ao + q]
            D[do + q] = D[do + q] * (1.0 - a * a)
    else:
        for q in range(n):
            D[do + q] = D[do + q] * H[zo + q]


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _sigmoid_head(Z, zo, Yc, c0, n_valid, D, nc):
    """The sigmoid head's loss of one chunk from its logits ``Z[zo + s]``, ``softplus(z) -
    y z`` summed as ``lin + log(prod (1 + e^-|z|))`` (one ``log`` per chunk; each factor
    lies in ``(1, 2]``), and the output error signal ``D[s] = p - y`` (0 for padded
    samples); returns the chunk's summed loss. The maths of :mod:`initlab.heads`."""
    prod = 1.0
    lin = 0.0
    for s in range(nc):
        valid = s < n_valid
        z = Z[zo + s]
        y = Yc[c0 + s]
        e = _exp(-abs(z))
        lin += (max(z, 0.0) - y * z) if valid else 0.0
        prod *= (1.0 + e) if valid else 1.0
        D[s] = (_expit(z, e) - y) if valid else 0.0
    return lin + math.log(prod)


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _softmax_head(Z, zo, K, Yc, c0, n_valid, D, E, T, nc):
    """The softmax head's loss of one chunk from its logits ``Z[zo + k * nc + s]`` (``K``
    rows), ``logsumexp(z) - z_y`` with the largest logit subtracted first, and the output
    error signal ``D[k * nc + s] = p_k - onehot(y)_k`` (0 for padded samples); returns the
    chunk's summed loss. The maths of :mod:`initlab.heads`."""
    for s in range(nc):
        T[s] = Z[zo + s]
    for k in range(_U1, K):
        for s in range(nc):
            T[s] = max(T[s], Z[zo + k * nc + s])
    for k in range(K):
        for s in range(nc):
            D[k * nc + s] = _exp(Z[zo + k * nc + s] - T[s])
    for s in range(nc):
        E[s] = D[s]
    for k in range(_U1, K):
        for s in range(nc):
            E[s] += D[k * nc + s]
    cost = 0.0
    for s in range(n_valid):
        y = np.uint64(Yc[c0 + s])
        cost += (math.log(E[s]) + T[s]) - Z[zo + y * nc + s]
    for k in range(K):
        for s in range(nc):
            valid = s < n_valid
            hot = 1.0 if Yc[c0 + s] == k else 0.0
            D[k * nc + s] = (D[k * nc + s] / E[s] - hot) if valid else 0.0
    return cost


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _update(code, th, g, v1, v2, lo, hi, n, lr, decay, hyper, c1, c2):
    """Parameters ``lo..hi-1``: the gradient ``g / n`` (plus ``decay * theta``), then the
    optimizer's step, as :meth:`initlab.optimizers.Optimizer.step` computes it."""
    beta, beta1, beta2, eps = hyper[0], hyper[1], hyper[2], hyper[3]
    for p in range(lo, hi):
        grad = g[p] / n
        if decay != 0.0:
            grad = grad + decay * th[p]
        if code == GD:
            th[p] = th[p] - lr * grad
        elif code == MOMENTUM:
            v = beta * v1[p] + grad
            v1[p] = v
            th[p] = th[p] - lr * v
        else:
            m1 = beta1 * v1[p] + (1.0 - beta1) * grad
            m2 = beta2 * v2[p] + (1.0 - beta2) * grad * grad
            v1[p] = m1
            v2[p] = m2
            th[p] = th[p] - lr * (m1 / c1) / (math.sqrt(m2 / c2) + eps)


@njit(cache=True, nogil=True, error_model="numpy")
def _step(code, th, g, v1, v2, sizes, w_off, b_off, n, lr, decay, hyper, c1, c2):
    """One optimizer step of every parameter (no ``fastmath``: NumPy's arithmetic).

    ``code``: :data:`~initlab.engine.codes.GD`, ``MOMENTUM`` or ``ADAM``; ``v1``,
    ``v2``: the velocity, or Adam's two moments (zero before the first step);
    ``n``: the samples the gradient sums ``g`` ran over; ``decay``: L2 weight decay
    on the weights (not the biases); ``hyper``: ``(beta, beta1, beta2, eps)``;
    ``c1``, ``c2``: Adam's bias corrections ``1 - beta1^t``, ``1 - beta2^t``.
    """
    for l in range(sizes.shape[0] - 1):
        w_end = w_off[l] + sizes[l + 1] * sizes[l]
        _update(code, th, g, v1, v2, w_off[l], w_end, n, lr, decay, hyper, c1, c2)
        b_end = b_off[l] + sizes[l + 1]
        _update(code, th, g, v1, v2, b_off[l], b_end, n, lr, 0.0, hyper, c1, c2)


# --- the training loop ----------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def _in_place(code):
    """Whether activation ``code`` overwrites its ``z`` (see :data:`IN_PLACE`)."""
    return code == IDENTITY or code == RELU or code == SIGMOID or code == TANH


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy", inline="always")
def _gather(Xc, xo, Yc, c0, Xt, Yt, orders, o, epoch, start, nb, n0, nc):
    """Chunk ``c0 / nc`` of a minibatch: samples ``orders[o, epoch, start + c0 + s]`` of the
    training set ``Xt`` (``(m, n0)``, flat), ``Yt``; past the batch's end (``nb``
    samples), copies of its last sample (finite, and masked by the caller)."""
    for s in range(nc):
        i = np.uint64(orders[o, epoch, start + min(c0 + s, nb - _U1)])
        Yc[c0 + s] = Yt[i]
        for k in range(n0):
            Xc[xo + k * nc + s] = Xt[i * n0 + k]


#: the activation code of networks whose hidden layers do not all share one activation
MIXED = -1

_KERNELS: dict[tuple[int, int], Any] = {}


def kernel(act_kind: int, head_kind: int) -> Any:
    """The training loop (:func:`train_models`) compiled for networks whose hidden layers
    all use activation ``act_kind`` (or :data:`MIXED`: any, chosen per layer at run
    time) and whose head is ``head_kind``.

    The two codes are constants of the closure, so numba prunes the branches of the
    other activations and heads before compiling: a command compiles (and loads from
    the on-disk cache) only the stages it uses, about two thirds of the compile time of
    the loop with every stage. numba caches each specialization on its own (a closure's
    cache entry is keyed by the values of its free variables).
    """
    key = (int(act_kind), int(head_kind))
    if key not in _KERNELS:
        _KERNELS[key] = _specialize(*key)
    return _KERNELS[key]


def _specialize(act_kind: int, head_kind: int) -> Any:
    @njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
    def train_models(net, data, opt, out, group, work, lo, hi):
        """Train models ``lo..hi-1`` of ``theta`` (shape ``(M, P)``) in place.

        The arguments are records (tuples) made by :mod:`initlab.engine.compiled`:

        * ``net = (sizes, w_off, b_off, acts, act_par, head)``: uint64 layer sizes
          and parameter offsets (see :class:`~initlab.engine.layout.Layout`), the int64
          activation codes of the hidden layers with their float64 parameters, and
          the head's code (:mod:`initlab.engine.codes`);
        * ``data = (Xc, Yc, Xt, Yt, orders, order_of, e0, m, nc, batch, per_epoch)``:
          ``Xc`` holds the inputs chunk by chunk, flat: feature ``k`` of sample
          ``c * nc + s`` at ``(c * n_0 + k) * nc + s``; ``Yc`` the labels (float64),
          flat. Full batch (``batch == m``), they hold the whole set, padded to whole
          chunks. With minibatches they are the thread's buffers for one batch,
          gathered from ``Xt`` (``(m, n_0)``, flat) and ``Yt`` in the order
          ``orders[order_of[i], e - e0]`` for model ``i`` (int32, one permutation per
          epoch ``e``, ``per_epoch`` updates each, from epoch ``e0``: the epochs of
          this call's span; models may share an order);
        * ``opt = (code, rates, decay, hyper, c1, c2, first, stop)``: the optimizer's
          code, the float64 learning rate of every model, the L2 weight decay, ``(beta,
          beta1, beta2, eps)`` and Adam's bias corrections ``1 - beta^t`` per update (see
          :func:`_step`); this call runs updates ``first..stop-1`` of the run (a run
          trained in several calls, one span of updates after the other, gives the same
          bits as one call: the optimizer's state is kept in ``out``);
        * ``out = (theta, costs, diverged_at, at, snaps, v1s, v2s)``: ``costs[i, t]``
          receives model ``i``'s cost before update ``t``; ``diverged_at[i]`` the first
          update whose cost is not finite, or -1 (a model with ``diverged_at[i] >= 0``
          is not trained further); ``snaps[k, i]`` model ``i``'s parameters before
          update ``at[k]`` (``at``: sorted int64; an ``at[k]`` past the model's last
          update gets its final parameters, once the run's last span is trained);
          ``v1s[i]``, ``v2s[i]``: model ``i``'s velocity or Adam moments, read at the
          start and written at the end of the span (``(0, P)`` for gradient descent);
        * ``group = (worker, n_workers, G, Cp, sync, yield_fn, pays)``: with
          ``n_workers`` > 1, this call is thread ``worker`` of a group making the
          same call together: each passes over its own contiguous range of chunks,
          and :func:`~initlab.engine._sync.combine` sums the parts in worker order;
          every thread does the same arithmetic, so all copies of the parameters
          stay equal. Thread 0 writes the results. When the split stops paying
          (``pays``: the threshold) the first thread finishes the models alone;
        * ``work = (E, T, rows)``: the thread's scratch memory (see
          :func:`initlab.engine.compiled.workspace`): every further dtype given to
          ``np.zeros`` in here costs about 0.2 s of compile time. The scratch arrays
          of ``theta``'s dtype are allocated here: as arguments, LLVM would have to
          assume they may overlap, and the loops get about 13% slower.
        """
        sizes, w_off, b_off, acts, act_par, _ = net
        Xc, Yc, Xt, Yt, orders, order_of, e0, m, nc, batch, per_epoch = data
        code, rates, decay, hyper, c1s, c2s, first, stop = opt
        theta, costs, diverged_at, at, snaps, v1s, v2s = out
        worker, n_workers, G, Cp, sync, yield_fn, pays = group
        E, T, rows = work
        L = sizes.shape[0] - 1
        n0 = sizes[0]
        K = sizes[L]
        n_at = at.shape[0]
        P = np.uint64(theta.shape[1])
        iterations = costs.shape[1]
        stateful = v1s.shape[0] > 0
        minibatch = batch < m
        # one buffer H of rows of nc values: for each layer l = 1..L, the pre-activations z
        # from row zr[l] = rows[l] and the activations a from row ar[l] = rows[L + 1 + l]
        # (the same rows where f'(z) is computed from a alone: activated in place). Layer 1
        # reads the data chunk in Xc directly; the logits are the K rows from zr[L].
        n_rows = _U0
        maxw = _U1
        for l in range(L):
            rows[l + 1] = n_rows
            n_rows += sizes[l + 1]
            rows[L + 2 + l] = rows[l + 1]
            if l < L - 1 and not _in_place(acts[l]):
                rows[L + 2 + l] = n_rows
                n_rows += sizes[l + 1]
            if sizes[l + 1] > maxw:
                maxw = sizes[l + 1]
        dt = theta.dtype
        H = np.zeros(n_rows * nc, dt)
        # the error signals dz of two adjacent layers, in the two halves of one buffer
        # (offsets are swapped, not arrays: no reference counting in the loops)
        D = np.zeros(_U2 * maxw * nc, dt)
        g = np.zeros(P, dt)
        th = np.zeros(P, dt)
        v1 = np.zeros(P, dt)
        v2 = np.zeros(P, dt)
        lead = worker == 0
        epoch = 0  # the group's barrier count
        cmin = math.inf
        bad = np.int64(0)  # not the literal 0: combine would be compiled for both
        rounds = 0
        busy = 0
        if n_workers > 1:  # start the clocks when the whole group is here
            epoch += 1
            barrier(sync, worker, n_workers, epoch, yield_fn)
        t_free = t_window = cycles()
        for model in range(lo, hi):
            if diverged_at[model] >= 0:  # in an earlier span (every thread of a group reads it)
                continue
            for p in range(P):
                th[p] = theta[model, p]
            if stateful:
                for p in range(P):
                    v1[p] = v1s[model, p]
                    v2[p] = v2s[model, p]
            lr = rates[model]
            o = order_of[model]
            ks = 0
            while ks < n_at and at[ks] < first:
                ks += 1
            ended = stop == iterations
            for it in range(first, stop):
                if lead:
                    while ks < n_at and at[ks] == it:
                        for p in range(P):
                            snaps[ks, model, p] = th[p]
                        ks += 1
                # this update's samples: the whole set, or the minibatch of this epoch's order
                start = _U0
                nb = m
                if minibatch:
                    start = np.uint64(it % per_epoch) * batch
                    nb = min(batch, m - start)
                n_chunks = (nb + nc - _U1) // nc
                c_lo = np.uint64(worker) * n_chunks // np.uint64(n_workers)
                c_hi = np.uint64(worker + 1) * n_chunks // np.uint64(n_workers)
                for p in range(P):
                    g[p] = 0.0
                cost = 0.0
                for c in range(c_lo, c_hi):
                    c0 = c * nc
                    xo = c * n0 * nc
                    if minibatch:
                        e = it // per_epoch - e0  # the epoch, whose permutation is orders[o, e]
                        _gather(Xc, xo, Yc, c0, Xt, Yt, orders, o, e, start, nb, n0, nc)
                    # forward: z = W a + b, then a = f(z)
                    for l in range(L):
                        n_in = sizes[l]
                        n_out = sizes[l + 1]
                        zo = rows[l + 1] * nc
                        bo = np.int64(b_off[l])
                        if l == 0:  # the first layer reads the data chunk in place
                            _gemm_rows(th, w_off[l], n_in, _U1, n_out, n_in, Xc, xo, H, zo, nc, bo)
                        else:
                            ai = rows[L + 1 + l] * nc
                            _gemm_rows(th, w_off[l], n_in, _U1, n_out, n_in, H, ai, H, zo, nc, bo)
                        if l < L - 1:
                            ao = rows[L + 2 + l] * nc
                            # the branches of other activations than act_kind's are pruned
                            # before compilation (see kernel)
                            n = n_out * nc
                            if act_kind == MIXED:
                                _activate(acts[l], act_par[l], H, zo, ao, n)
                            elif act_kind == RELU:
                                _relu_rows(H, zo, n)
                            elif act_kind == SIGMOID:
                                _sigmoid_rows(H, zo, n)
                            elif act_kind == TANH:
                                _tanh_rows(H, zo, n)
                            elif act_kind == LEAKY_RELU:
                                _leaky_relu_rows(act_par[l], H, zo, ao, n)
                            elif act_kind == ELU:
                                _elu_rows(act_par[l], 1.0, H, zo, ao, n)
                            elif act_kind == SELU:
                                _elu_rows(_SELU_SCALE, SELU_LAMBDA, H, zo, ao, n)
                            elif act_kind == GELU:
                                _gelu_rows(H, zo, ao, n)
                            elif act_kind == SOFTPLUS:
                                _softplus_rows(H, zo, ao, n)
                            elif act_kind == SILU:
                                _silu_rows(H, zo, ao, n)
                    # the loss from the logits, and dz of the output layer (first half of D)
                    n_valid = min(nc, nb - c0)
                    zl = rows[L] * nc
                    if head_kind == SIGMOID_HEAD:
                        cost += _sigmoid_head(H, zl, Yc, c0, n_valid, D, nc)
                    else:
                        cost += _softmax_head(H, zl, K, Yc, c0, n_valid, D, E, T, nc)
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
                        zi = rows[l] * nc
                        ai = rows[L + 1 + l] * nc
                        _weight_grads(g, wo, bo, n_out, n_in, D, dc, H, ai, nc)
                        _gemm_rows(th, wo, _U1, n_in, n_in, n_out, D, dc, D, dn, nc, np.int64(-1))
                        _activation_grad(acts[l - 1], H, zi, ai, D, dn, n_in, nc)
                        dc, dn = dn, dc
                if n_workers > 1:
                    epoch += 1
                    t = cycles()
                    busy += t - t_free
                    rounds += 1
                    window = rounds // WINDOW if rounds % WINDOW == 0 else 0
                    cost, cmin, bad = combine(
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
                fm = float(nb)
                cost = cost / fm
                if lead:
                    costs[model, it] = cost
                if not math.isfinite(cost):
                    if lead:
                        diverged_at[model] = it
                    ended = True
                    break
                c1 = c1s[it] if code == ADAM else 1.0
                c2 = c2s[it] if code == ADAM else 1.0
                _step(code, th, g, v1, v2, sizes, w_off, b_off, fm, lr, decay, hyper, c1, c2)
            if lead:
                for p in range(P):
                    theta[model, p] = th[p]
                if stateful:
                    for p in range(P):
                        v1s[model, p] = v1[p]
                        v2s[model, p] = v2[p]
                while ended and ks < n_at:  # the end of the run, or the parameters it diverged with
                    for p in range(P):
                        snaps[ks, model, p] = th[p]
                    ks += 1

    return train_models
