"""``he-depth``: a 30-layer ReLU network of width 256 at initialization (He,
Zhang, Ren and Sun, "Delving deep into rectifiers", ICCV 2015, section 2.2):
with weight variance ``1/n`` (Glorot's, for square layers) the second moment
of the pre-activations halves at every layer, ``q^l = q^1 2^{1-l}``; with
``2/n`` (He) it stays at ``q^1``. Both are checked against the measurement and
against the mean-field prediction, for the mean over 8 networks, within
:func:`finite_width_factor` (three standard deviations of the finite-width
scatter). For ReLU with Gaussian weights the mean-field recursion holds for the
expectation at any width (``E[q^{l+1} | q^l] = sigma_w^2 q^l / 2``), but a single
network of width 256 scatters around it by about a factor 2 at layer 30 (each
layer's factor has a relative variance of ``5/n``); 8 networks narrow that.
"""

from __future__ import annotations

import math

import numpy as np

from initlab.diagnostics.stats import network_statistics
from initlab.experiments.published.base import (
    ExperimentResult,
    gaussian_parameters,
    within_factor,
)
from initlab.network import Network

__all__ = ["NETWORKS", "finite_width_factor", "run"]

#: independent networks per weight scale
NETWORKS = 8


def run(rng: np.random.Generator, quick: bool = False) -> ExperimentResult:
    """Pre-activation second moments over 30 ReLU layers, 1/n against 2/n (see the module),
    averaged over :data:`NETWORKS` independent draws."""
    from initlab.diagnostics.meanfield import predicted_preactivation_variances

    width, samples, depth = 256, (300 if quick else 1000), 30
    network = Network((width,) * (depth + 1) + (1,), ("relu",) * depth)
    X = rng.standard_normal((width, samples))
    moment = float(np.mean(X * X))
    result = ExperimentResult(
        "he-depth",
        f"{depth} ReLU layers of width {width} at initialization, {samples} standard-normal "
        "inputs, zero biases: the second moment of the pre-activations per layer",
        [],
        ylabel="second moment of the pre-activations z",
    )
    for label, scale in (("1/n (Glorot, square layers)", 1.0), ("2/n (He)", 2.0)):
        draws = [
            network_statistics(
                network, gaussian_parameters(network, lambda n, s=scale: math.sqrt(s / n), rng), X
            ).z_second_moment[:depth]
            for _ in range(NETWORKS)
        ]
        measured = np.mean(draws, axis=0).tolist()
        variances = [scale / n for n in network.layer_sizes[:-1]]
        predicted = predicted_preactivation_variances(network, variances, moment)[:depth]
        result.curves[label] = (measured, predicted)
        ratio = measured[-1] / measured[0]
        factor = finite_width_factor(depth, width, NETWORKS)
        expected = 2.0 ** (1 - depth) if scale == 1.0 else 1.0
        claim = f"q^{depth} / q^1 with {'1/n: 2^-' + str(depth - 1) if scale == 1.0 else '2/n'}"
        result.checks.append(within_factor(claim, expected, ratio, factor))
        result.checks.append(
            within_factor(
                f"q^{depth} measured / mean-field predicted, {label}",
                1.0,
                measured[-1] / predicted[-1],
                factor,
            )
        )
    return result


def finite_width_factor(depth: int, width: int, networks: int) -> float:
    """The tolerance of ``he-depth``: three standard deviations (in log) of the mean over
    ``networks`` ReLU networks of ``q^depth / q^1``, from the finite-width scatter.

    Given a layer, the next pre-activation second moment is ``sigma_w^2/n`` times a sum
    of ``n`` independent ``relu(z)^2``, whose relative variance is
    ``(E[a^4] - E[a^2]^2) / E[a^2]^2 = (3/2 - 1/4) / (1/4) = 5``: each layer multiplies
    ``q`` by a factor of relative variance ``5/n``, so ``log(q^depth / q^1)`` has a
    variance of about ``s^2 = 5 (depth - 1) / n`` (log-normal), and the mean of
    ``networks`` such ratios a relative standard deviation of
    ``r = sqrt((exp(s^2) - 1) / networks)``. The factor is ``exp(3 r)``: 2.5 for 8
    networks of width 256 and depth 30.
    """
    s2 = 5.0 * (depth - 1) / width
    return math.exp(3.0 * math.sqrt(math.expm1(s2) / networks))
