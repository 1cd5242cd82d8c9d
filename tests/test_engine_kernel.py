"""The compiled kernel's own elementary functions against NumPy's (their oracle).

The kernel computes ``expm1`` (ELU, SELU, tanh) and ``log1p`` (softplus) with
branch-free polynomials so that its loops vectorize; each must stay within a few
ulp of NumPy's, and keep NaN a NaN so that a diverging model is detected where the
reference loop detects it.
"""

from __future__ import annotations

import numpy as np
import pytest

ULPS = 4


def _scratch(n: int):
    bits = np.empty(n, dtype=np.int64)
    return np.empty(n), np.empty(n), bits, bits.view(np.float64)


def test_expm1_is_within_a_few_ulp_of_numpy_and_keeps_nan():
    from initlab.engine._kernel import _vexpm1

    rng = np.random.default_rng(0)
    x = np.concatenate([
        rng.uniform(-708, 709, 20000), rng.uniform(-1.5, 1.5, 20000),
        10.0 ** rng.uniform(-300, 0, 5000) * rng.choice([-1, 1], 5000),
        [0.0, -0.0, -800.0, np.nan],
    ])  # fmt: skip
    out, poly, bits, fb = _scratch(x.size)
    _vexpm1(x, out, poly, bits, fb, np.uint64(x.size))
    want = np.expm1(np.maximum(x[:-2], -708.0))
    assert (np.abs(out[:-2] - want) <= ULPS * np.spacing(np.abs(want))).all()
    assert out[-2] == -1.0 and np.isnan(out[-1])


@pytest.mark.parametrize("e", [0.0, 1e-300, 1e-17, 1e-8, 0.01, 0.5, 1.0])
def test_log1p_on_the_unit_interval_is_within_a_few_ulp_of_numpy(e):
    from initlab.engine._kernel import _log1p_small

    rng = np.random.default_rng(1)
    for value in [e, *rng.uniform(0, 1, 200)]:
        got, want = _log1p_small(value), np.log1p(value)
        assert abs(got - want) <= ULPS * np.spacing(want)
