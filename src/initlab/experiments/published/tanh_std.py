"""``tanh-std``: activations of 10 tanh layers of width 500 on 1000 standard
normal inputs, no bias (Stanford CS231n, "Neural networks part 2": the
activation statistics for three weight scales): the layer-10 activation std
is about ``(0.01 sqrt(500))^10 = 3.1e-7`` with ``N(0, 0.01^2)`` weights, about
0.22 with ``N(0, 1/n)``, and about 0.98 with ``N(0, 1)``, where about 90% of
the activations satisfy ``|a| > 0.99`` (saturated).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from initlab.diagnostics.stats import network_statistics
from initlab.experiments.published.base import (
    ExperimentResult,
    gaussian_parameters,
    within,
    within_factor,
)
from initlab.network import Network, forward

__all__ = ["run"]


def run(rng: np.random.Generator, quick: bool = False) -> ExperimentResult:
    """The activation std of 10 tanh layers for three weight scales (see the module)."""
    width, samples, depth = 500, (300 if quick else 1000), 10
    network = Network((width,) * (depth + 1) + (1,), ("tanh",) * depth)
    X = rng.standard_normal((width, samples))
    scales: dict[str, Callable[[int], float]] = {
        "N(0, 0.01^2)": lambda n: 0.01,
        "N(0, 1/n)": lambda n: 1.0 / math.sqrt(n),
        "N(0, 1)": lambda n: 1.0,
    }
    result = ExperimentResult(
        "tanh-std",
        f"{depth} tanh layers of width {width}, {samples} standard-normal inputs, no bias: "
        "the activation std per layer",
        [],
        ylabel="std of the activations a",
    )
    last: dict[str, float] = {}
    saturated = 0.0
    for label, std in scales.items():
        params = gaussian_parameters(network, std, rng)
        stats = network_statistics(network, params, X)
        a_std = stats.a_std[:depth]
        result.curves[label] = (a_std, None)
        last[label] = a_std[-1]
        if label == "N(0, 1)":
            a = forward(network, params, X).activations[depth]
            saturated = float(np.mean(np.abs(a) > 0.99))
    small = (0.01 * math.sqrt(width)) ** depth
    result.checks = [
        within_factor("layer-10 a std, N(0, 0.01^2): (0.01 sqrt(n))^10", small,
                       last["N(0, 0.01^2)"], 1.5),
        within("layer-10 a std, N(0, 1/n)", 0.22, last["N(0, 1/n)"], 0.04),
        within("layer-10 a std, N(0, 1)", 0.98, last["N(0, 1)"], 0.02),
        within("layer-10 fraction |a| > 0.99, N(0, 1)", 0.90, saturated, 0.05),
    ]  # fmt: skip
    return result
