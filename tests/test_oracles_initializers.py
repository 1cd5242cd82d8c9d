"""Initializers against independent oracles: LSUV's report recomputed from its parameters,
ZerO's moments from the paper's constant."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initlab.initializers import get_initializer
from initlab.initializers.lsuv import LSUV
from initlab.network import Network, forward


def _lsuv(tol: float, X: np.ndarray, net: Network):
    return LSUV(tol=tol, max_iter=1).fit(net, np.random.default_rng(0), X, "normal(std=1)")


def test_lsuv_converged_flags_use_its_tolerance_and_its_variances_are_the_networks() -> None:
    """With random biases one rescaling misses unit variance by some gap ``g``. With
    ``tol = 0.6 g`` that layer has not converged (``g >= tol``); with ``tol = 1.5 g`` it has.
    Every reported variance is ``Var(z[l])`` of the returned parameters on the batch."""
    rng = np.random.default_rng(8)
    net = Network((5, 8, 6, 1), ("tanh", "tanh"))
    X = 10.0 * rng.standard_normal((5, 64))
    gap = abs(_lsuv(0.1, X, net).variances[0] - 1.0)
    assert gap > 0.05
    for tol, first_converged in ((0.6 * gap, False), (1.5 * gap, True)):
        result = _lsuv(tol, X, net)
        assert result.rescalings[0] == 1
        assert abs(result.variances[0] - 1.0) == pytest.approx(gap, rel=1e-12)
        assert result.converged[0] is first_converged
        zs = forward(net, result.params, X).preactivations
        for l, (variance, converged) in enumerate(
            zip(result.variances, result.converged, strict=True)
        ):
            assert variance == pytest.approx(float(np.var(zs[l])), rel=1e-12), l
            assert converged == (abs(variance - 1.0) < tol), l


@pytest.mark.parametrize(("fan_in", "fan_out"), [(3, 5), (4, 8), (2, 9), (7, 100), (6, 6), (9, 4)])
@pytest.mark.parametrize("constant", ["code", "paper"])
def test_zero_hadamard_second_moment_is_the_squared_constant(
    fan_in: int, fan_out: int, constant: str
) -> None:
    """Expanding layers are ``c`` times +-1 entries, ``c = 2^(-m/2)`` (code) or
    ``2^(-(m-1)/2)`` (paper), ``m = ceil(log2(fan_out))``: the second moment is ``c^2``.
    Other layers are the partial identity: ``min(fan_in, fan_out)`` ones."""
    init = get_initializer(f"zero_hadamard(constant={constant})")
    W = init(np.random.default_rng(0), (fan_out, fan_in))
    moments = init.moments(fan_in, fan_out)
    if fan_out > fan_in:
        m = math.ceil(math.log2(fan_out))
        c2 = 2.0 ** (-m if constant == "code" else -(m - 1))
        expected = c2
        np.testing.assert_allclose(np.abs(W), math.sqrt(c2), rtol=1e-15)
    else:
        expected = min(fan_in, fan_out) / (fan_in * fan_out)
    assert moments.second_moment == pytest.approx(expected, rel=1e-14)
    assert float(np.mean(W * W)) == pytest.approx(expected, rel=1e-14)
