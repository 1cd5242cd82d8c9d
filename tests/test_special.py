"""initlab's own sigmoid against scipy.special.expit (the oracle), and what it must keep."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import special

from initlab._special import expit


def test_expit_equals_scipy_to_rounding_over_the_whole_normal_range() -> None:
    x = np.linspace(-700.0, 700.0, 200_001)
    np.testing.assert_allclose(expit(x), special.expit(x), rtol=4 * np.finfo(float).eps, atol=0)


def test_expit_keeps_the_exact_values_training_relies_on() -> None:
    # sigmoid(0) - y = +-1/2 exactly: the zeros initialization's gradients cancel exactly
    assert expit(0.0) == 0.5 and expit(-0.0) == 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow for any input
        out = expit(np.array([np.inf, -np.inf, 1e308, -1e308, np.nan]))
    assert out[0] == 1.0 and out[1] == 0.0 and out[2] == 1.0 and out[3] == 0.0
    assert np.isnan(out[4])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_expit_keeps_the_float_type_and_the_shape(dtype) -> None:
    x = np.arange(-6, 6, dtype=dtype).reshape(3, 4)
    out = expit(x)
    assert out.dtype == dtype and out.shape == (3, 4)
    np.testing.assert_allclose(out, special.expit(x), rtol=4 * np.finfo(dtype).eps)
    assert expit(np.arange(3)).dtype == np.float64  # integers become float64
