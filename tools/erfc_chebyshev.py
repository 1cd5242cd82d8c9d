"""Chebyshev coefficients of the compiled kernel's complementary error function.

For ``x >= 0`` the kernel computes ``erfc(x) = t h(s) exp(-x^2)`` with ``t = K / (K + x)``
and ``s = 2 t - 1`` in ``(-1, 1]``; ``h(s) = erfcx(x) (K + x) / K`` (``erfcx`` the scaled
complementary error function) is smooth and bounded on the whole interval (it tends to
``1 / (K sqrt(pi))`` as ``x`` grows), so one Chebyshev series in ``s`` covers every
``x >= 0`` without a branch. The series is cut where the remaining coefficients sum
below 1e-17, then rewritten as a polynomial in ``s`` (its coefficients' absolute values
sum to about 1, so Horner's rule loses nothing to cancellation on ``[-1, 1]``: measured
within 9e-16 relative of ``scipy.special.erfcx``, as the Chebyshev sum itself). Run
``python tools/erfc_chebyshev.py`` (needs ``mpmath``) to print the constants of
:mod:`initlab.engine._kernel`.
"""

from __future__ import annotations

import mpmath as mp

K = 4
NODES = 80
TOLERANCE = 1e-17


def h(s: mp.mpf) -> mp.mpf:
    t = (1 + s) / 2
    if t == 0:
        return 1 / (K * mp.sqrt(mp.pi))
    x = K * (1 - t) / t
    return mp.erfc(x) * mp.exp(x * x) * (K + x) / K


def coefficients() -> list[float]:
    """``c_0 .. c_n`` with ``h(s) = sum_k c_k T_k(s)``, from the values at Chebyshev nodes."""
    mp.mp.dps = 50
    n = NODES
    nodes = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / n) for k in range(n)]
    values = [h(s) for s in nodes]
    c = [
        2 / mp.mpf(n) * mp.fsum(values[k] * mp.cos(mp.pi * j * (k + mp.mpf(1) / 2) / n)
                                for k in range(n))
        for j in range(n)
    ]  # fmt: skip
    c[0] /= 2
    tail = [mp.fsum(abs(x) for x in c[j:]) for j in range(n)]
    keep = next(j for j in range(n) if tail[j] < TOLERANCE)
    return [float(x) for x in c[:keep]]


def monomial(chebyshev: list[float]) -> list[float]:
    """``a_0 .. a_n`` with ``sum_k c_k T_k(s) = sum_j a_j s^j``, exactly (in mpmath) from
    the rounded Chebyshev coefficients, then rounded once."""
    T = [[mp.mpf(1)], [mp.mpf(0), mp.mpf(1)]]  # T_k's coefficients, T_k = 2 s T_k-1 - T_k-2
    for k in range(2, len(chebyshev)):
        twice = [mp.mpf(0)] + [2 * x for x in T[k - 1]]
        T.append([a - b for a, b in zip(twice, T[k - 2] + [mp.mpf(0)] * 2, strict=False)])
    a = [mp.mpf(0)] * len(chebyshev)
    for c, row in zip(chebyshev, T, strict=False):
        for j, x in enumerate(row):
            a[j] += mp.mpf(c) * x
    return [float(x) for x in a]


if __name__ == "__main__":
    print(f"_ERFC_K = {float(K)!r}")
    print("_ERFC_POLYNOMIAL = (  # a_0 .. a_n")
    for c in monomial(coefficients()):
        print(f"    {c!r},")
    print(")")
