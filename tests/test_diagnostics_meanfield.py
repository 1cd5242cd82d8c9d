"""Mean-field maps against closed forms, the literature and wide random networks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.special import gamma

from initlab.diagnostics.meanfield import (
    chi_1,
    correlation_fixed_point,
    correlation_map,
    correlation_slope,
    critical_sigma_w2,
    depth_scale,
    fixed_point,
    length_map,
    mean_field,
    predicted_preactivation_variances,
    product_moment,
    second_moment,
    variance_scaling_weight_variances,
)
from initlab.diagnostics.quadrature import half_range_rule, hermite_rule, normal_expectation
from initlab.initializers import initialize
from initlab.initializers.variance_scaling import VarianceScaling
from initlab.network import Network, forward

CLOSED = ["relu", "leaky_relu(slope=0.2)", "identity"]
SMOOTH = ["tanh", "sigmoid", "gelu", "softplus", "silu"]


@pytest.mark.parametrize("power", [0, 1])
def test_half_range_rule_integrates_monomials(power: int) -> None:
    # int_0^inf r^(j + power) exp(-r^2/2) dr = 2^((j + power - 1)/2) Gamma((j + power + 1)/2)
    nodes, weights = half_range_rule(20, power)
    assert (nodes > 0).all()
    for j in range(2 * 20):
        exact = 2 ** ((j + power - 1) / 2) * gamma((j + power + 1) / 2)
        assert np.dot(weights, nodes**j) == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("q", [0.01, 1.0, 9.0])
@pytest.mark.parametrize("name", ["tanh", "sigmoid", "gelu", "elu(alpha=0.5)", "selu"])
def test_split_quadrature_equals_adaptive_quadrature(name, q) -> None:
    """Against scipy's adaptive quad on each side of the kink (tolerance 1e-13)."""
    from initlab.activations import get_activation

    act = get_activation(name)

    def integrand(z: float) -> float:
        value = float(act.forward(np.array([math.sqrt(q) * z]))[0])
        return value * value * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    adaptive = sum(
        integrate.quad(integrand, lo, hi, epsabs=1e-14, epsrel=1e-13)[0]
        for lo, hi in ((-np.inf, 0.0), (0.0, np.inf))
    )
    assert second_moment(q, name) == pytest.approx(adaptive, rel=1e-11)


def test_plain_gauss_hermite_agrees_on_smooth_integrands() -> None:
    # hermegauss is exact for polynomials of degree < 2n and fast for entire functions
    x, w = hermite_rule(40)
    plain = float(w @ np.exp(0.3 * x) ** 2)  # E[exp(0.6 z)] = exp(0.18)
    assert plain == pytest.approx(math.exp(0.18), rel=1e-14)
    assert normal_expectation(lambda z: np.exp(0.6 * z)) == pytest.approx(plain, rel=1e-14)


@pytest.mark.parametrize("q", [0.3, 1.0, 7.5])
@pytest.mark.parametrize("name", CLOSED)
def test_length_map_quadrature_equals_closed_form(name, q) -> None:
    closed = length_map(q, name, 1.7, 0.2, method="closed")
    assert length_map(q, name, 1.7, 0.2, method="quadrature") == pytest.approx(closed, abs=1e-10)
    if name == "relu":
        assert closed == pytest.approx(1.7 * q / 2 + 0.2, rel=1e-15)
    if name == "identity":
        assert closed == pytest.approx(1.7 * q + 0.2, rel=1e-15)


@pytest.mark.parametrize("c", [-1.0, -0.7, 0.0, 0.35, 0.9, 0.999, 1.0])
@pytest.mark.parametrize("name", CLOSED)
def test_correlation_maps_quadrature_equal_closed_forms(name, c) -> None:
    q = 1.3
    closed = product_moment(q, c, name, method="closed")
    assert product_moment(q, c, name, method="quadrature") == pytest.approx(closed, abs=1e-10)
    slope = correlation_slope(c, name, 1.5, 0.1, q=q, method="closed")
    quad = correlation_slope(c, name, 1.5, 0.1, q=q, method="quadrature")
    assert quad == pytest.approx(slope, abs=1e-10)


def test_relu_arc_cosine_kernel_values() -> None:
    # Cho and Saul 2009: k(c) = q (sqrt(1 - c^2) + (pi - arccos c) c) / (2 pi)
    assert product_moment(2.0, 0.0, "relu") == pytest.approx(1 / math.pi, rel=1e-15)
    assert product_moment(2.0, 1.0, "relu") == pytest.approx(1.0, rel=1e-15)
    assert product_moment(2.0, -1.0, "relu") == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("name", ["tanh", "elu", "selu", "softplus"])
def test_correlation_slope_is_the_derivative_of_the_map(name) -> None:
    # Price's theorem: dC/dc = sigma_w^2 E[phi'(u1) phi'(u2)]; check with central differences
    q, c, h = 0.8, 0.4, 1e-5
    plus = correlation_map(c + h, name, 1.6, 0.1, q=q, method="quadrature")
    minus = correlation_map(c - h, name, 1.6, 0.1, q=q, method="quadrature")
    slope = correlation_slope(c, name, 1.6, 0.1, q=q)
    assert (plus - minus) / (2 * h) == pytest.approx(slope, rel=1e-7)


@pytest.mark.parametrize("name", [*SMOOTH, "elu", "selu"])
def test_fixed_point_is_fixed_and_the_c_map_keeps_1(name) -> None:
    q = fixed_point(name, 1.4, 0.1)
    assert length_map(q, name, 1.4, 0.1) == pytest.approx(q, rel=1e-12)
    assert correlation_map(1.0, name, 1.4, 0.1, q=q) == pytest.approx(1.0, rel=1e-12)
    # chi_1 is the slope of the C-map at c = 1
    assert chi_1(name, 1.4, 0.1, q=q) == pytest.approx(
        correlation_slope(1.0, name, 1.4, 0.1, q=q, method="quadrature"), rel=1e-10
    )


def test_fixed_points_of_relu_and_identity_in_closed_form() -> None:
    # q* = sigma_b^2 / (1 - sigma_w^2 / 2) (ReLU), sigma_b^2 / (1 - sigma_w^2) (identity)
    assert fixed_point("relu", 1.5, 0.1) == pytest.approx(0.1 / (1 - 0.75), rel=1e-13)
    assert fixed_point("identity", 0.5, 0.1) == pytest.approx(0.2, rel=1e-13)
    assert fixed_point("relu", 2.0, 0.0, start=3.0) == 3.0  # critical: every q is fixed
    assert fixed_point("tanh", 0.8, 0.0) == 0.0  # ordered without bias: the signal vanishes
    with pytest.raises(ValueError, match="no finite fixed point"):
        fixed_point("relu", 2.5, 0.1)


def test_tanh_edge_of_chaos_at_sigma_b2_005() -> None:
    # Schoenholz et al. 2017 (Deep information propagation), fig. 1 and section 3:
    # the critical line of tanh passes sigma_w^2 ~ 1.76 at sigma_b^2 = 0.05 (2 decimals)
    critical = critical_sigma_w2("tanh", 0.05)
    assert abs(critical - 1.76) <= 0.005
    assert chi_1("tanh", critical, 0.05) == pytest.approx(1.0, abs=1e-10)
    assert depth_scale("tanh", critical * 0.999, 0.05) > depth_scale("tanh", 1.5, 0.05)
    assert depth_scale("tanh", critical * 1.001, 0.05) > depth_scale("tanh", 3.0, 0.05)


def test_depth_scale_in_both_phases() -> None:
    # ordered ReLU: c* = 1, chi_c = chi_1 = sigma_w^2 / 2, xi_c = -1 / ln(chi_1)
    assert depth_scale("relu", 1.5, 0.1) == pytest.approx(-1 / math.log(0.75), rel=1e-14)
    assert depth_scale("relu", 2.0, 0.0) == math.inf
    # chaotic tanh: c* < 1 is a fixed point, and xi_c uses the (smaller than 1) slope there
    summary = mean_field("tanh", 3.0, 0.05)
    assert summary.chi_1 > 1 and 0 < summary.c_star < 1
    c_map = correlation_map(summary.c_star, "tanh", 3.0, 0.05, q=summary.q_star)
    assert c_map == pytest.approx(summary.c_star, abs=1e-12)
    slope = correlation_slope(summary.c_star, "tanh", 3.0, 0.05, q=summary.q_star)
    assert summary.xi_c == pytest.approx(-1 / math.log(slope), rel=1e-12)
    assert correlation_fixed_point("tanh", 1.5, 0.05) == 1.0


def test_variance_scaling_weight_variances_per_mode() -> None:
    network = Network((10, 20, 40, 1), ("relu", "relu"))
    fan_in = variance_scaling_weight_variances(network, VarianceScaling(2.0, "fan_in", "normal"))
    assert fan_in == pytest.approx([2 / 10, 2 / 20, 2 / 40], rel=1e-15)
    fan_out = variance_scaling_weight_variances(network, VarianceScaling(1.0, "fan_out", "uniform"))
    assert fan_out == pytest.approx([1 / 20, 1 / 40, 1 / 1], rel=1e-15)
    assert variance_scaling_weight_variances(network, "he") == pytest.approx(fan_in, rel=1e-15)
    with pytest.raises(TypeError, match="a variance-scaling initializer"):
        variance_scaling_weight_variances(network, "orthogonal")


def test_predicted_variances_follow_the_recursion_for_glorot_relu() -> None:
    # fan_avg: v_l = 2 / (n_{l-1} + n_l); q1 = v1 n0 E[x^2] + s_b^2, q_{l+1} = v n_l q_l / 2 + s_b^2
    network = Network((10, 20, 40, 1), ("relu", "relu"))
    predicted = predicted_preactivation_variances(network, "glorot_normal", 3.0, 0.01)
    v = [2 / 30, 2 / 60, 2 / 41]
    q1 = v[0] * 10 * 3.0 + 0.01
    q2 = v[1] * 20 * q1 / 2 + 0.01
    q3 = v[2] * 40 * q2 / 2 + 0.01
    assert predicted == pytest.approx([q1, q2, q3], rel=1e-14)


@pytest.mark.parametrize(
    ("activation", "initializer", "bias_std"),
    [
        ("tanh", VarianceScaling(1.5, "fan_avg", "normal"), 0.2),
        ("relu", VarianceScaling(2.0, "fan_in", "uniform"), 0.0),
    ],
)
def test_length_map_matches_wide_random_networks(activation, initializer, bias_std) -> None:
    """Measured mean(z[l]^2) of width-1000 networks against the predicted q^l.

    Each network's ratio measured / predicted (given its own input second moment)
    fluctuates by O(sqrt(2 / width)) around 1 + O(1 / width); over R independent
    networks the mean ratio is within 5 standard errors (CLT, estimated from the
    R ratios) plus a finite-width allowance 2 / width of 1.
    """
    width, runs, m = 1000, 6, 32
    sizes = (400, width, width // 2, width, 1)
    network = Network(sizes, (activation,) * 3)
    ratios = []
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((sizes[0], m)) * 1.3
        params = initialize(network, initializer, rng, f"normal(std={bias_std})")
        measured = [np.mean(z * z) for z in forward(network, params, X).preactivations]
        predicted = predicted_preactivation_variances(
            network, initializer, float(np.mean(X * X)), bias_std**2
        )
        ratios.append(np.array(measured[:3]) / np.array(predicted[:3]))
    ratios = np.array(ratios)
    mean = ratios.mean(axis=0)
    standard_error = ratios.std(axis=0, ddof=1) / math.sqrt(runs)
    assert (np.abs(mean - 1) < 5 * standard_error + 2 / width).all(), (mean, standard_error)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: length_map(-1.0, "tanh", 1.0), "q must be a finite number >= 0"),
        (lambda: length_map(1.0, "tanh", -1.0), "sigma_w2 must be a finite number >= 0"),
        (lambda: correlation_map(1.5, "tanh", 1.0, q=1.0), r"c must be in \[-1, 1\]"),
        (lambda: length_map(1.0, "tanh", 1.0, method="closed"), "no closed form for activation"),
        (lambda: length_map(1.0, "tanh", 1.0, method="exact"), "unknown method 'exact'"),
        (lambda: correlation_map(0.5, "tanh", 0.5, 0.0), "needs q > 0"),
        (lambda: critical_sigma_w2("tanh", 0.05, bracket=(2.0, 3.0)), "does not change sign"),
        (lambda: second_moment(1.0, "tanhh"), "unknown activation 'tanhh'"),
    ],
)
def test_bad_input_is_rejected(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()
