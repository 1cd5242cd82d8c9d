"""Coefficients of the compiled kernel's ``exp``, ``expm1`` and ``log1p`` polynomials.

After the range reduction ``x = k ln2 + r``, ``|r| <= ln2 / 2``, the kernel computes
``exp(r)`` as a polynomial of degree 11 and ``expm1(r) = r q(r)`` with ``q`` of
degree 10, both interpolating at the Chebyshev nodes of ``[-ln2/2, ln2/2]`` (close
to the minimax polynomials: errors below 1e-17, far under the rounding of the
evaluation). Measured against NumPy over millions of arguments: ``exp`` within
1 ulp of ``np.exp`` (as the degree-13 Taylor polynomial it replaces), ``expm1``
within 2 ulp of ``np.expm1``. Softplus's ``log1p(e)``, ``0 <= e <= 1``, is
``2 atanh(u) = 2 u P(u^2)`` with ``u = e / (2 + e) <= 1/3`` and ``P`` of degree 10
interpolating ``atanh(sqrt(w)) / sqrt(w)`` at the Chebyshev nodes of ``[0, 1/9]``
(within 3 ulp of ``np.log1p``). Run ``python tools/kernel_polynomials.py`` (needs
``mpmath``) to print the constants of :mod:`initlab.engine._kernel`.
"""

from __future__ import annotations

import mpmath as mp

EXP_DEGREE = 11
EXPM1_DEGREE = 10
LOG1P_DEGREE = 10


def interpolating(f, degree: int, lo=None, hi=None) -> list[float]:  # type: ignore[no-untyped-def]
    """Monomial coefficients ``c_0 .. c_n`` of the polynomial of ``degree`` that equals
    ``f`` at the Chebyshev nodes of ``[lo, hi]`` (default ``[-ln2/2, ln2/2]``), solved in
    50 digits."""
    mp.mp.dps = 50
    lo = -mp.log(2) / 2 if lo is None else mp.mpf(lo)
    hi = mp.log(2) / 2 if hi is None else mp.mpf(hi)
    n = degree + 1
    nodes = [(lo + hi) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (k + mp.mpf(1) / 2) / n)
             for k in range(n)]  # fmt: skip
    V = mp.matrix([[r**j for j in range(n)] for r in nodes])
    c = mp.lu_solve(V, mp.matrix([f(r) for r in nodes]))
    return [float(c[j]) for j in range(n)]


def expm1_over_x(r: mp.mpf) -> mp.mpf:
    return mp.expm1(r) / r if r != 0 else mp.mpf(1)


def atanh_over_root(w: mp.mpf) -> mp.mpf:
    return mp.atanh(mp.sqrt(w)) / mp.sqrt(w) if w != 0 else mp.mpf(1)


if __name__ == "__main__":
    for name, f, degree, interval in (
        ("_EXP_POLYNOMIAL", mp.exp, EXP_DEGREE, (None, None)),
        ("_EXPM1_POLYNOMIAL", expm1_over_x, EXPM1_DEGREE, (None, None)),
        ("_LOG1P_POLYNOMIAL", atanh_over_root, LOG1P_DEGREE, (0, mp.mpf(1) / 9)),
    ):
        print(f"{name} = (  # c_0 .. c_{degree}")
        for c in interpolating(f, degree, *interval):
            print(f"    {c!r},")
        print(")")
