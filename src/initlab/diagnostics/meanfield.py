"""Mean-field signal propagation through wide random fully connected networks.

For weights ``W_ij ~ N(0, sigma_w^2 / n_{l-1})`` and biases ``b_i ~ N(0, sigma_b^2)``,
in the limit of infinite width the pre-activations of each layer are Gaussian
(Poole, Lahiri, Raghu, Sohl-Dickstein and Ganguli 2016, "Exponential
expressivity in deep neural networks through transient chaos"; Schoenholz,
Gilmer, Ganguli and Sohl-Dickstein 2017, "Deep information propagation"):

* the **length map** (Q-map) gives the second moment ``q^l = E[z^2]`` of layer ``l``:
  ``q^{l+1} = sigma_w^2 E_{z~N(0,1)}[phi(sqrt(q^l) z)^2] + sigma_b^2``;
  its stable fixed point is ``q*``;
* the **correlation map** (C-map) gives the correlation of two inputs' pre-activations:
  ``c^{l+1} = (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q*`` with ``(u1, u2)``
  bivariate normal, both of variance ``q*``, correlation ``c``;
* its slope at ``c = 1`` is ``chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]``: ordered
  phase (inputs' correlations go to 1) for ``chi_1 < 1``, chaotic phase for
  ``chi_1 > 1``, the edge of chaos at ``chi_1 = 1``;
* the **correlation depth scale** ``xi_c = -1 / ln(chi_c)``, ``chi_c`` the slope of
  the C-map at its stable fixed point ``c*`` (Schoenholz et al., eq. 9): in the
  ordered phase ``c* = 1`` and ``chi_c = chi_1``; in the chaotic phase
  (``chi_1 > 1``, where the slope at ``c = 1`` would give a negative
  "depth") ``c* < 1`` and ``chi_c = sigma_w^2 E[phi'(u1) phi'(u2)]`` at ``c*``;
  ``xi_c = inf`` at ``chi_1 = 1``. Correlations approach ``c*`` like
  ``exp(-l / xi_c)``: networks deeper than a few ``xi_c`` cannot be trained.

Expectations are computed by Gaussian quadrature split at the activation's kink
(:mod:`initlab.diagnostics.quadrature`), for any activation of the catalogue;
closed forms are used where they exist (``method="auto"``):

* identity: ``E[phi(sqrt(q) z)^2] = q``, ``E[phi(u1) phi(u2)] = q c``, ``E[phi'^2] = 1``;
* ReLU: ``q / 2``; the arc-cosine kernel of degree 1 (Cho and Saul 2009, "Kernel
  methods for deep learning"):
  ``E[phi(u1) phi(u2)] = q (sqrt(1 - c^2) + (pi - arccos c) c) / (2 pi)``;
  ``E[phi'^2] = 1/2``;
* leaky ReLU of slope ``s`` (``phi(x) = (1 - s) relu(x) + s x``): ``(1 + s^2) q / 2``;
  ``(1 - s)^2 K_relu + (1 - s) s q c + s^2 q c`` (:func:`leaky_relu_kernel`);
  ``E[phi'^2] = (1 + s^2) / 2``.

The slopes of the C-map, ``sigma_w^2 E[phi'(u1) phi'(u2)]``, follow from
``d/dc E[phi(u1) phi(u2)] = q E[phi'(u1) phi'(u2)]`` (Price's theorem); for
(leaky) ReLU they are orthant probabilities, ``P(u1 > 0, u2 > 0) =
(pi - arccos c) / (2 pi)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from initlab.activations import Activation, get_activation
from initlab.diagnostics.quadrature import (
    DEFAULT_NODES,
    bivariate_expectation,
    normal_expectation,
)
from initlab.network import Network

__all__ = [
    "METHODS",
    "MeanField",
    "chi_1",
    "correlation_fixed_point",
    "correlation_map",
    "correlation_slope",
    "critical_sigma_w2",
    "depth_scale",
    "fixed_point",
    "leaky_relu_kernel",
    "length_map",
    "mean_field",
    "predicted_preactivation_variances",
    "product_moment",
    "relu_kernel",
    "second_moment",
    "variance_scaling_weight_variances",
]

METHODS = ("auto", "quadrature", "closed")
_CLOSED = ("identity", "relu", "leaky_relu")
_Q_LIMIT = 1e15
_TINY_Q = 1e-300  # the q -> 0+ limit of the derivative moments


def _activation(activation: str | Activation) -> tuple[Activation, str]:
    act = get_activation(activation)
    return act, act.name.split("(")[0]


def _check_sigmas(sigma_w2: float, sigma_b2: float) -> tuple[float, float]:
    for name, value, low in (("sigma_w2", sigma_w2, 0.0), ("sigma_b2", sigma_b2, 0.0)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float | np.integer | np.floating)
            or not math.isfinite(value)
            or value < low
        ):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(sigma_w2), float(sigma_b2)


def _use_closed(base: str, method: str) -> bool:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    if method == "closed" and base not in _CLOSED:
        raise ValueError(
            f"no closed form for activation {base!r}; closed forms exist for: "
            f"{', '.join(_CLOSED)} (use method='quadrature')"
        )
    return method != "quadrature" and base in _CLOSED


def _check_q(q: float) -> float:
    if not isinstance(q, int | float | np.integer | np.floating) or not q >= 0 or q == math.inf:
        raise ValueError(f"q must be a finite number >= 0, got {q!r}")
    return float(q)


def second_moment(q: float, activation: str | Activation, *, method: str = "auto") -> float:
    """``E[phi(sqrt(q) z)^2]``, ``z ~ N(0, 1)``."""
    q = _check_q(q)
    act, base = _activation(activation)
    if _use_closed(base, method):
        slope = act.params.get("slope", 0.0) if base == "leaky_relu" else 0.0
        return q if base == "identity" else (1.0 + slope * slope) * q / 2.0
    root = math.sqrt(q)
    return normal_expectation(lambda z: act.forward(root * z) ** 2)


def length_map(
    q: float,
    activation: str | Activation,
    sigma_w2: float,
    sigma_b2: float = 0.0,
    *,
    method: str = "auto",
) -> float:
    """``q -> sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2`` (Poole et al. 2016, eq. 3)."""
    sigma_w2, sigma_b2 = _check_sigmas(sigma_w2, sigma_b2)
    return sigma_w2 * second_moment(q, activation, method=method) + sigma_b2


def fixed_point(
    activation: str | Activation,
    sigma_w2: float,
    sigma_b2: float = 0.0,
    *,
    start: float = 1.0,
    method: str = "auto",
) -> float:
    """The stable fixed point ``q*`` of the length map.

    Found by bracketing ``length_map(q) - q`` from ``q = 0`` upwards (the first
    crossing from above is the stable one) and Brent's method. If the length map
    leaves ``start`` unchanged (a critical ReLU, ``sigma_w^2 = 2``,
    ``sigma_b^2 = 0``, where every ``q`` is fixed) ``start`` is returned; if
    ``q = 0`` is stable (no bias, ``phi(0) = 0``, ``chi_1 < 1``) it returns 0.

    Raises:
        ValueError: if ``q`` grows without bound (e.g. ReLU with ``sigma_w^2 > 2``).
    """
    sigma_w2, sigma_b2 = _check_sigmas(sigma_w2, sigma_b2)

    def gap(q: float) -> float:
        return length_map(q, activation, sigma_w2, sigma_b2, method=method) - q

    start = _check_q(start)
    if start > 0 and abs(gap(start)) <= 1e-14 * start:
        return start
    lo = 0.0
    if gap(0.0) <= 0.0:
        lo = 1e-12
        if gap(lo) <= 0.0:
            return 0.0
    hi = 1.0
    while gap(hi) > 0.0:
        hi *= 2.0
        if hi > _Q_LIMIT:
            raise ValueError(
                f"the length map of {_activation(activation)[0].name} with sigma_w2={sigma_w2:g}, "
                f"sigma_b2={sigma_b2:g} has no finite fixed point: q grows without bound"
            )
    from scipy.optimize import brentq  # slow to import: only when solving

    return float(brentq(gap, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500))


def relu_kernel(q: float, c: float) -> float:
    """``E[relu(u1) relu(u2)]``: the arc-cosine kernel of degree 1 (Cho and Saul 2009)."""
    return q * (math.sqrt(max(1.0 - c * c, 0.0)) + (math.pi - math.acos(c)) * c) / (2.0 * math.pi)


def leaky_relu_kernel(q: float, c: float, slope: float) -> float:
    """``E[phi(u1) phi(u2)]`` for ``phi(x) = (1 - s) relu(x) + s x``.

    Expanding the product with ``E[relu(u1) u2] = c E[relu(u1) u1] = c q / 2``:
    ``(1 - s)^2 K_relu(q, c) + 2 (1 - s) s c q / 2 + s^2 q c``.
    """
    s = slope
    return (1.0 - s) ** 2 * relu_kernel(q, c) + (1.0 - s) * s * c * q + s * s * q * c


def _check_c(c: float) -> float:
    if not isinstance(c, int | float | np.integer | np.floating) or not -1.0 <= c <= 1.0:
        raise ValueError(f"the correlation c must be in [-1, 1], got {c!r}")
    return float(c)


def _bivariate(q: float, c: float, f, g) -> float:
    """``E[f(u1) g(u2)]``, ``u1, u2`` of variance ``q`` and correlation ``c``, in polar form."""
    alpha = math.acos(c)
    root = math.sqrt(q)
    half = math.pi / 2.0
    return bivariate_expectation(
        lambda z1, z2: f(root * z1) * g(root * (c * z1 + math.sin(alpha) * z2)),
        kink_angles=(half, -half, alpha + half, alpha - half),
        n=DEFAULT_NODES,
    )


def product_moment(
    q: float, c: float, activation: str | Activation, *, method: str = "auto"
) -> float:
    """``E[phi(u1) phi(u2)]`` for ``(u1, u2)`` of variance ``q`` and correlation ``c``."""
    q, c = _check_q(q), _check_c(c)
    act, base = _activation(activation)
    if _use_closed(base, method):
        if base == "identity":
            return q * c
        if base == "relu":
            return relu_kernel(q, c)
        return leaky_relu_kernel(q, c, act.params["slope"])
    return _bivariate(q, c, act.forward, act.forward)


def correlation_map(
    c: float,
    activation: str | Activation,
    sigma_w2: float,
    sigma_b2: float = 0.0,
    *,
    q: float | None = None,
    method: str = "auto",
) -> float:
    """``c -> (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q`` at ``q = q*`` by default.

    Schoenholz et al. 2017, eq. 5; Poole et al. 2016, eq. 5 (with ``q`` the
    fixed point, the map sends 1 to 1).

    Raises:
        ValueError: for ``c`` outside [-1, 1] or ``q = 0``.
    """
    sigma_w2, sigma_b2 = _check_sigmas(sigma_w2, sigma_b2)
    if q is None:
        q = fixed_point(activation, sigma_w2, sigma_b2, method=method)
    q = _check_q(q)
    if q == 0.0:
        raise ValueError("the correlation map needs q > 0: here the signal vanishes (q* = 0)")
    return (sigma_w2 * product_moment(q, c, activation, method=method) + sigma_b2) / q


def _derivative(act: Activation):
    return lambda x: act.derivative(x, act.forward(x))


def correlation_slope(
    c: float,
    activation: str | Activation,
    sigma_w2: float,
    sigma_b2: float = 0.0,
    *,
    q: float | None = None,
    method: str = "auto",
) -> float:
    """Slope of the C-map at ``c``: ``sigma_w^2 E[phi'(u1) phi'(u2)]`` (by Price's theorem).

    At ``c = 1`` this is :func:`chi_1`.
    """
    sigma_w2, sigma_b2 = _check_sigmas(sigma_w2, sigma_b2)
    c = _check_c(c)
    if q is None:
        q = fixed_point(activation, sigma_w2, sigma_b2, method=method)
    q = _check_q(q) or _TINY_Q
    act, base = _activation(activation)
    if _use_closed(base, method):
        if base == "identity":
            return sigma_w2
        s = act.params.get("slope", 0.0) if base == "leaky_relu" else 0.0
        # E[phi'(u1) phi'(u2)] = s^2 + (1 - s^2) P(u1 > 0, u2 > 0) + ..., orthant probabilities
        both = (math.pi - math.acos(c)) / (2.0 * math.pi)
        one = 0.5 - both
        return sigma_w2 * (both + 2.0 * one * s + (1.0 - 2.0 * one - both) * s * s)
    if c == 1.0:
        root = math.sqrt(q)
        d = _derivative(act)
        return sigma_w2 * normal_expectation(lambda z: d(root * z) ** 2)
    d = _derivative(act)
    return sigma_w2 * _bivariate(q, c, d, d)


def chi_1(
    activation: str | Activation,
    sigma_w2: float,
    sigma_b2: float = 0.0,
    *,
    q: float | None = None,
    method: str = "auto",
) -> float:
    """``chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]`` (Poole et al. 2016, eq. 7).

    At ``q* = 0`` the limit ``q -> 0+`` is taken (``sigma_w^2 / 2`` for ReLU).
    """
    return correlation_slope(1.0, activation, sigma_w2, sigma_b2, q=q, method=method)


def correlation_fixed_point(
    activation: str | Activation,
    sigma_w2: float,
    sigma_b2: float = 0.0,
    *,
    q: float | None = None,
    method: str = "auto",
) -> float:
    """The stable fixed point ``c*`` of the C-map: 1 if ``chi_1 <= 1``, else the root in [0, 1).

    In the chaotic phase ``C(1) = 1`` with slope ``chi_1 > 1`` makes ``C(c) < c``
    just below 1, and ``C(0) = (sigma_w^2 E[phi(u)]^2 + sigma_b^2) / q* >= 0``:
    Brent's method finds the crossing between.
    """
    sigma_w2, sigma_b2 = _check_sigmas(sigma_w2, sigma_b2)
    if q is None:
        q = fixed_point(activation, sigma_w2, sigma_b2, method=method)
    if chi_1(activation, sigma_w2, sigma_b2, q=q, method=method) <= 1.0:
        return 1.0

    def gap(c: float) -> float:
        return correlation_map(c, activation, sigma_w2, sigma_b2, q=q, method=method) - c

    top = 1.0 - 1e-6
    if gap(0.0) <= 0.0:
        return 0.0
    if gap(top) >= 0.0:  # chi_1 within rounding of 1: critical
        return 1.0
    from scipy.optimize import brentq  # slow to import: only when solving

    return float(brentq(gap, 0.0, top, xtol=1e-15, rtol=4 * np.finfo(float).eps))


def depth_scale(
    activation: str | Activation,
    sigma_w2: float,
    sigma_b2: float = 0.0,
    *,
    method: str = "auto",
) -> float:
    """``xi_c = -1 / ln(chi_c)`` (Schoenholz et al. 2017, eq. 9); ``inf`` at ``chi_1 = 1``.

    ``chi_c`` is the slope of the C-map at its stable fixed point ``c*``: ``chi_1``
    in the ordered phase, the slope at ``c* < 1`` in the chaotic phase.
    """
    sigma_w2, sigma_b2 = _check_sigmas(sigma_w2, sigma_b2)
    q = fixed_point(activation, sigma_w2, sigma_b2, method=method)
    c_star = correlation_fixed_point(activation, sigma_w2, sigma_b2, q=q, method=method)
    chi_c = correlation_slope(c_star, activation, sigma_w2, sigma_b2, q=q, method=method)
    if chi_c >= 1.0:
        return math.inf
    if chi_c <= 0.0:
        return 0.0
    return -1.0 / math.log(chi_c)


def critical_sigma_w2(
    activation: str | Activation,
    sigma_b2: float = 0.0,
    *,
    bracket: tuple[float, float] = (0.5, 10.0),
    method: str = "auto",
) -> float:
    """The ``sigma_w^2`` where ``chi_1 = 1`` (the edge of chaos), by Brent's method.

    Raises:
        ValueError: if ``chi_1 - 1`` does not change sign over ``bracket``.
    """

    def gap(sigma_w2: float) -> float:
        return chi_1(activation, sigma_w2, sigma_b2, method=method) - 1.0

    lo, hi = bracket
    if not gap(lo) < 0.0 < gap(hi):
        raise ValueError(
            f"chi_1 - 1 does not change sign over sigma_w2 in {bracket}; pass another bracket"
        )
    from scipy.optimize import brentq  # slow to import: only when solving

    return float(brentq(gap, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps))


@dataclass(frozen=True)
class MeanField:
    """The mean-field summary of an activation at ``(sigma_w^2, sigma_b^2)``."""

    activation: str
    sigma_w2: float
    sigma_b2: float
    q_star: float
    chi_1: float
    c_star: float
    xi_c: float


def mean_field(
    activation: str | Activation, sigma_w2: float, sigma_b2: float = 0.0, *, method: str = "auto"
) -> MeanField:
    """``q*``, ``chi_1``, ``c*`` and ``xi_c`` in one record."""
    q = fixed_point(activation, sigma_w2, sigma_b2, method=method)
    return MeanField(
        activation=get_activation(activation).name,
        sigma_w2=float(sigma_w2),
        sigma_b2=float(sigma_b2),
        q_star=q,
        chi_1=chi_1(activation, sigma_w2, sigma_b2, q=q, method=method),
        c_star=correlation_fixed_point(activation, sigma_w2, sigma_b2, q=q, method=method),
        xi_c=depth_scale(activation, sigma_w2, sigma_b2, method=method),
    )


def variance_scaling_weight_variances(network: Network, initializer: object) -> list[float]:
    """Per-layer weight variance ``scale / n`` of a variance-scaling initializer.

    ``initializer`` is a :class:`~initlab.initializers.variance_scaling.VarianceScaling`
    (``n`` = fan_in, fan_out, their mean or geometric mean by its mode), the
    course's ``He`` (``2 / fan_in``) or a spec string naming one of them.

    Raises:
        TypeError: for any other initializer.
    """
    from initlab.initializers import get_initializer
    from initlab.initializers.simple import He
    from initlab.initializers.variance_scaling import VarianceScaling

    init = get_initializer(initializer) if isinstance(initializer, str) else initializer
    if isinstance(init, He):
        init = VarianceScaling(2.0, "fan_in", "normal")
    if not isinstance(init, VarianceScaling):
        raise TypeError(
            f"a variance-scaling initializer (VarianceScaling, he, he_normal, glorot_*, "
            f"lecun_*) is needed, got {initializer!r}"
        )
    sizes = network.layer_sizes
    return [init.variance_for(sizes[l], sizes[l + 1]) for l in range(network.depth)]


def predicted_preactivation_variances(
    network: Network,
    weight_variances: Sequence[float] | object,
    input_second_moment: float,
    bias_variance: float = 0.0,
    *,
    method: str = "auto",
) -> list[float]:
    """Predicted ``q^l = E[z[l]^2]`` for ``l = 1..L`` (entry ``l - 1``), at infinite width.

    With ``v_l`` the variance of the entries of ``W[l]`` (``sigma_w^2 = v_l n_{l-1}``):
    ``q^1 = v_1 n_0 E[x^2] + sigma_b^2`` (``E[x^2]`` the input second moment, the
    mean of ``x_i^2`` over features and samples) and
    ``q^{l+1} = v_{l+1} n_l E[phi_l(sqrt(q^l) z)^2] + sigma_b^2``. ``weight_variances``
    is the list ``[v_1, ..., v_L]`` or a variance-scaling initializer
    (:func:`variance_scaling_weight_variances`): with ``fan_in`` mode
    ``sigma_w^2 = scale`` in every layer; ``fan_out`` and ``fan_avg`` give each
    layer its own ``sigma_w^2 = scale n_{l-1} / n``.
    """
    if isinstance(weight_variances, Sequence) and not isinstance(weight_variances, str):
        variances = [float(v) for v in weight_variances]
    else:
        variances = variance_scaling_weight_variances(network, weight_variances)
    if len(variances) != network.depth:
        raise ValueError(
            f"need {network.depth} weight variances (one per layer), got {len(variances)}"
        )
    if any(not (math.isfinite(v) and v >= 0) for v in variances):
        raise ValueError(f"weight variances must be finite and >= 0, got {variances}")
    moment = _check_q(input_second_moment)
    sizes = network.layer_sizes
    q = variances[0] * sizes[0] * moment + _check_sigmas(0.0, bias_variance)[1]
    out = [q]
    for l in range(1, network.depth):
        sigma_w2 = variances[l] * sizes[l]
        q = length_map(q, network.activations[l - 1], sigma_w2, bias_variance, method=method)
        out.append(q)
    return out
