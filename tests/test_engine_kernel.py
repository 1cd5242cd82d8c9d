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


def test_expm1_is_within_a_few_ulp_of_numpy_and_keeps_nan():
    from initlab.engine._kernel import _vexpm1

    rng = np.random.default_rng(0)
    x = np.concatenate([
        rng.uniform(-708, 709, 20000), rng.uniform(-1.5, 1.5, 20000),
        10.0 ** rng.uniform(-300, 0, 5000) * rng.choice([-1, 1], 5000),
        [0.0, -0.0, -800.0, np.nan],
    ])  # fmt: skip
    out = np.empty_like(x)
    _vexpm1(x, out)
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


def test_erfc_over_gauss_follows_scipy_erfcx_for_every_x():
    """GELU's normal CDF in the kernel: ``erfc(x) exp(x^2)`` as one polynomial."""
    from scipy.special import erfcx

    from initlab.engine._kernel import _erfc_over_gauss

    f = njit_vectorize(_erfc_over_gauss)
    rng = np.random.default_rng(2)
    x = np.concatenate([
        np.linspace(0, 30, 30001), 10.0 ** rng.uniform(-300, 300, 5000), [0.0, np.inf],
    ])  # fmt: skip
    got, want = f(x), erfcx(x)
    np.testing.assert_allclose(got[:-1], want[:-1], rtol=4e-15, atol=0)
    assert got[-1] == 0.0 and np.isnan(f(np.array([np.nan]))[0])


def njit_vectorize(scalar):
    from numba import njit

    @njit
    def apply(x):
        out = np.empty_like(x)
        for i in range(x.size):
            out[i] = scalar(x[i])
        return out

    return apply


@pytest.mark.parametrize(
    "spec",
    ["identity", "relu", "sigmoid", "tanh", "leaky_relu(slope=0.2)", "elu(alpha=0.7)", "selu",
     "gelu", "softplus", "silu"],
)  # fmt: skip
def test_each_activation_stage_gives_the_activations_forward_and_derivative(spec):
    """``_activate`` then ``_activation_grad`` on a ones signal: ``a = f(z)`` and
    ``f'(z)`` of :mod:`initlab.activations` (the oracle), to rounding, from -40 to 40."""
    from initlab.activations import activation_factory, get_activation
    from initlab.engine._kernel import IN_PLACE, _activate, _activation_grad
    from initlab.engine.codes import ACTIVATION_PARAMETER, KERNEL_ACTIVATIONS

    act = get_activation(spec)
    base = activation_factory(spec).__name__
    code = KERNEL_ACTIVATIONS[base]
    par = float(act.params[ACTIVATION_PARAMETER[base]]) if base in ACTIVATION_PARAMETER else 0.0
    nc, rows = 32, 50
    rng = np.random.default_rng(3)
    z = np.concatenate([np.linspace(-40, 40, 801), rng.standard_normal(rows * nc - 801) * 3])
    H = np.concatenate([z, np.zeros(z.size)])
    ao = 0 if code in IN_PLACE else z.size
    D = np.ones(z.size)
    u = np.uint64
    _activate(np.int64(code), par, H, u(0), u(ao), u(z.size))
    a = H[ao : ao + z.size].copy()
    _activation_grad(np.int64(code), H, u(0), u(ao), D, u(0), u(rows), nc=u(nc))
    want_a = act.forward(z)
    want_d = act.derivative(z, want_a)
    # relative to the value, or to 1 where the maths subtracts numbers of order 1 (1 - a^2)
    np.testing.assert_allclose(a, want_a, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(D, want_d, rtol=1e-14, atol=1e-15)
