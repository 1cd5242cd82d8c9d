"""Chebyshev coefficients of the compiled kernel's complementary error function.

For ``x >= 0`` the kernel computes ``erfc(x) = t h(s) exp(-x^2)`` with ``t = K / (K + x)``
and ``s = 2 t - 1`` in ``(-1, 1]``; ``h(s) = erfcx(x) (K + x) / K`` (``erfcx`` the scaled
complementary error function) is smooth and bounded on the whole interval (it tends to
``1 / (K sqrt(pi))`` as ``x`` grows), so one Chebyshev series in ``s`` covers every
``x >= 0`` without a branch. The series is cut where the remaining coefficients sum
below 1e-17. Run ``python tools/erfc_chebyshev.py`` (needs ``mpmath``) to print the
constants of :mod:`initlab.engine._special_kernels`.
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


if __name__ == "__main__":
    print(f"_ERFC_K = {float(K)!r}")
    print("_ERFC_CHEBYSHEV = (")
    for c in coefficients():
        print(f"    {c!r},")
    print(")")
