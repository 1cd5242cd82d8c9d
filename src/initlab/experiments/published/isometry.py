"""``isometry``: the singular values of the input-output Jacobian of deep networks at
initialization, orthogonal against Gaussian weights (Saxe, McClelland and Ganguli,
"Exact solutions to the nonlinear dynamics of learning in deep linear neural
networks", ICLR 2014; Pennington, Schoenholz and Ganguli, "Resurrecting the sigmoid
in deep learning through dynamical isometry", NeurIPS 2017).

* 64 tanh layers of width 400 at the edge of chaos, ``sigma_b^2 = 1e-4`` and
  ``sigma_w^2 = 1.086`` (where ``chi_1 = sigma_w^2 E[tanh'(h)^2] = 1``, found by
  :func:`~initlab.diagnostics.meanfield.critical_sigma_w2`), weights of variance
  ``sigma_w^2 / n``: orthogonal ones (``sqrt(sigma_w^2)`` times a Haar-orthogonal
  matrix) keep the singular values of ``J = dz[64]/dx`` near 1 (median about 0.85),
  Gaussian ones spread them (median near 0), though both have
  ``E[s^2] = chi_1^L = 1``. The inputs are drawn with the second moment of the
  fixed point, ``x ~ N(0, q*)`` with ``q* = 0.0457`` (std 0.214): tanh is then
  nearly linear (``tanh'`` close to 1), which is what lets orthogonal weights
  stay near-isometric; with larger pre-activations the derivatives spread and
  the singular values with them.
* Deep linear networks, 32 layers of width 128, ``sigma_w^2 = 1``, no bias:
  orthogonal weights give a product of orthogonal matrices, every singular value
  1 to rounding; Gaussian ones spread them over many orders of magnitude (checked
  from the median to the largest: values below about ``1e-16`` times the largest
  are the rounding of a float64 product, not the network's).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from initlab.diagnostics.jacobian import input_output_jacobian, singular_values
from initlab.diagnostics.meanfield import critical_sigma_w2, fixed_point
from initlab.experiments.published.base import (
    ExperimentResult,
    at_least,
    at_most,
    within,
)
from initlab.initializers.structured import Orthogonal
from initlab.network import Network, Parameters, forward

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SIGMA_B2", "run"]

#: the bias variance of the tanh networks (Pennington et al. 2017)
SIGMA_B2 = 1e-4


def _parameters(
    network: Network, sigma_w2: float, sigma_b2: float, orthogonal: bool, rng: np.random.Generator
) -> Parameters:
    """Weights of variance ``sigma_w2 / n`` (orthogonal or Gaussian), biases ``N(0, sigma_b2)``."""
    weights, biases = [], []
    gain = math.sqrt(sigma_w2)
    for n_in, n_out in zip(network.layer_sizes, network.layer_sizes[1:], strict=False):
        if orthogonal:
            weights.append(Orthogonal(gain)(rng, (n_out, n_in)))
        else:
            weights.append(gain / math.sqrt(n_in) * rng.standard_normal((n_out, n_in)))
        biases.append(math.sqrt(sigma_b2) * rng.standard_normal((n_out, 1)))
    return Parameters(weights, biases)


def run(rng: np.random.Generator, quick: bool = False) -> ExperimentResult:
    """Jacobian singular values: orthogonal near 1, Gaussian spread (tanh and linear)."""
    width, depth, samples = 400, 64, (1 if quick else 4)
    linear_width, linear_depth = 128, 32
    sigma_w2 = critical_sigma_w2("tanh", SIGMA_B2)
    q_star = fixed_point("tanh", sigma_w2, SIGMA_B2)
    tanh_net = Network((width,) * (depth + 1), ("tanh",) * (depth - 1), "identity")
    linear_net = Network(
        (linear_width,) * (linear_depth + 1), ("identity",) * (linear_depth - 1), "identity"
    )
    X = math.sqrt(q_star) * rng.standard_normal((width, samples))
    result = ExperimentResult(
        "isometry",
        f"singular values of the input-output Jacobian dz[L]/dx: {depth} tanh layers of width "
        f"{width} at the edge of chaos (sigma_w^2 = {sigma_w2:.4g}, sigma_b^2 = {SIGMA_B2:g}) "
        f"on {samples} input(s) x ~ N(0, q* = {q_star:.3g}), std {math.sqrt(q_star):.3g} "
        "(the fixed point's scale: tanh nearly linear); and a deep linear network, "
        f"{linear_depth} layers of width {linear_width}, sigma_w^2 = 1",
        [],
    )
    spectra: dict[str, list[float]] = {}
    medians: dict[str, float] = {}
    for orthogonal in (True, False):
        kind = "orthogonal" if orthogonal else "Gaussian"
        params = _parameters(tanh_net, sigma_w2, SIGMA_B2, orthogonal, rng)
        s = singular_values(input_output_jacobian(tanh_net, params, X)).ravel()
        spectra[f"tanh, {kind}"] = np.sort(s).tolist()
        medians[kind] = float(np.median(s))
        if orthogonal:
            z_last = forward(tanh_net, params, X).logits
            q_last = float(np.mean(z_last * z_last))
            mean_square = float(np.mean(s * s))
    linear: dict[str, np.ndarray] = {}
    for orthogonal in (True, False):
        kind = "orthogonal" if orthogonal else "Gaussian"
        params = _parameters(linear_net, 1.0, 0.0, orthogonal, rng)
        s = singular_values(input_output_jacobian(linear_net, params, np.zeros((linear_width, 1))))
        linear[kind] = s.ravel()
        spectra[f"linear, {kind}"] = np.sort(s.ravel()).tolist()
    gaussian = linear["Gaussian"]
    # from the median up: the smallest values (below about 1e-16 times the largest) are
    # rounding in a float64 product of 32 matrices, the median is not
    spread = float(np.log10(gaussian.max() / np.median(gaussian)))
    result.checks = [
        within("tanh, orthogonal: median singular value", 0.85, medians["orthogonal"], 0.1),
        at_most("tanh, Gaussian: median singular value (near 0)", 0.0, medians["Gaussian"], 0.01),
        within(
            f"tanh, orthogonal: q^{depth} / q* (the pre-activations keep the input scale)",
            1.0,
            q_last / q_star,
            0.1,
        ),
        within("tanh, orthogonal: mean of s^2 = chi_1^L", 1.0, mean_square, 0.25),
        at_most(
            "linear, orthogonal: max |s - 1| (1 to rounding)",
            0.0,
            float(np.max(np.abs(linear["orthogonal"] - 1.0))),
            1e-12,
        ),
        at_least("linear, Gaussian: decades from the median to the largest s", 3.0, spread, 3.0),
    ]
    result.data = {
        "sigma_w2": sigma_w2,
        "sigma_b2": SIGMA_B2,
        "q_star": q_star,
        "input_std": math.sqrt(q_star),
        "singular_values": spectra,
    }
    result.draw = draw
    return result


def draw(fig: Figure, result: ExperimentResult) -> None:
    """Two panels: the tanh and the linear networks' singular values, as empirical CDFs."""
    from initlab.experiments.published.figures import plot_spectra

    spectra = result.data["singular_values"]
    left, right = fig.subplots(1, 2)
    plot_spectra(
        left,
        {k.split(", ")[1]: v for k, v in spectra.items() if k.startswith("tanh")},
        title=f"tanh, critical, q* = {result.data['q_star']:.3g}",
    )
    plot_spectra(
        right,
        {k.split(", ")[1]: v for k, v in spectra.items() if k.startswith("linear")},
        title="deep linear",
    )
