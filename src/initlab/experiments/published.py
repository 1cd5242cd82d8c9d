"""Published claims about initialization, reproduced and checked.

Each experiment builds the networks of a paper's or a course's claim, measures
the quantity the claim is about with :mod:`initlab.diagnostics`, and returns
:class:`Check`\\ s: the expected value as published, the measured one, and
whether they agree within a stated tolerance. ``quick=True`` runs a smaller
instance of the same claim (fewer samples; the widths the claims are about are kept).

* ``tanh-std``: activations of 10 tanh layers of width 500 on 1000 standard
  normal inputs, no bias (Stanford CS231n, "Neural networks part 2": the
  activation statistics for three weight scales): the layer-10 activation std
  is about ``(0.01 sqrt(500))^10 = 3.1e-7`` with ``N(0, 0.01^2)`` weights, about
  0.22 with ``N(0, 1/n)``, and about 0.98 with ``N(0, 1)``, where about 90% of
  the activations satisfy ``|a| > 0.99`` (saturated).
* ``he-depth``: a 30-layer ReLU network of width 256 at initialization (He,
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
* ``chaos``: the course's x10 run is chaotic: a relative change of 1e-15 in one
  weight moves its cost at iteration 1000 in the 4th decimal (at least 1e-5
  relative), while the He run's cost stays the same to rounding (at most 1e-12).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from initlab.diagnostics.stats import network_statistics
from initlab.network import Network, Parameters, forward
from initlab.spec import lookup

__all__ = [
    "EXPERIMENTS",
    "Check",
    "ExperimentResult",
    "chaos",
    "finite_width_factor",
    "he_depth",
    "run_experiment",
    "tanh_std",
]


@dataclass(frozen=True)
class Check:
    """One published number against its measurement."""

    claim: str
    expected: float
    measured: float
    tolerance: str
    passed: bool


@dataclass
class ExperimentResult:
    """The checks of one experiment and the per-layer curves behind them:
    ``curves[label] = (measured per layer, predicted per layer or None)``."""

    name: str
    description: str
    checks: list[Check]
    curves: dict[str, tuple[list[float], list[float] | None]] = field(default_factory=dict)
    ylabel: str = ""
    xlabel: str = "layer"

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.name,
            "description": self.description,
            "passed": self.passed,
            "checks": [check.__dict__ for check in self.checks],
            "curves": {
                label: {"measured": measured, "predicted": predicted}
                for label, (measured, predicted) in self.curves.items()
            },
            "xlabel": self.xlabel,
            "ylabel": self.ylabel,
        }


def _within_factor(claim: str, expected: float, measured: float, factor: float) -> Check:
    ok = bool(expected / factor <= measured <= expected * factor)
    return Check(claim, expected, measured, f"within a factor {factor:.3g}", ok)


def _within(claim: str, expected: float, measured: float, tolerance: float) -> Check:
    ok = bool(abs(measured - expected) <= tolerance)
    return Check(claim, expected, measured, f"+-{tolerance:g}", ok)


def _parameters(
    network: Network, weight_std: Callable[[int], float], rng: np.random.Generator
) -> Parameters:
    """Gaussian weights of std ``weight_std(fan_in)`` per layer, zero biases."""
    weights, biases = [], []
    for n_in, n_out in zip(network.layer_sizes, network.layer_sizes[1:], strict=False):
        weights.append(weight_std(n_in) * rng.standard_normal((n_out, n_in)))
        biases.append(np.zeros((n_out, 1)))
    return Parameters(weights, biases)


def tanh_std(rng: np.random.Generator, quick: bool = False) -> ExperimentResult:
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
        params = _parameters(network, std, rng)
        stats = network_statistics(network, params, X)
        a_std = stats.a_std[:depth]
        result.curves[label] = (a_std, None)
        last[label] = a_std[-1]
        if label == "N(0, 1)":
            a = forward(network, params, X).activations[depth]
            saturated = float(np.mean(np.abs(a) > 0.99))
    small = (0.01 * math.sqrt(width)) ** depth
    result.checks = [
        _within_factor("layer-10 a std, N(0, 0.01^2): (0.01 sqrt(n))^10", small,
                       last["N(0, 0.01^2)"], 1.5),
        _within("layer-10 a std, N(0, 1/n)", 0.22, last["N(0, 1/n)"], 0.04),
        _within("layer-10 a std, N(0, 1)", 0.98, last["N(0, 1)"], 0.02),
        _within("layer-10 fraction |a| > 0.99, N(0, 1)", 0.90, saturated, 0.05),
    ]  # fmt: skip
    return result


def he_depth(rng: np.random.Generator, quick: bool = False) -> ExperimentResult:
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
                network, _parameters(network, lambda n, s=scale: math.sqrt(s / n), rng), X
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
        result.checks.append(_within_factor(claim, expected, ratio, factor))
        result.checks.append(
            _within_factor(
                f"q^{depth} measured / mean-field predicted, {label}",
                1.0,
                measured[-1] / predicted[-1],
                factor,
            )
        )
    return result


def chaos(rng: np.random.Generator, quick: bool = False) -> ExperimentResult:
    """The course's x10 run is chaotic, its He run is not (see the module).

    Each run is trained twice on the course's data and settings, once from its
    weights and once with ``W1[0, 0]`` changed by a relative ``1e-15`` (one rounding
    step), as one population on the engine; the curve is the relative difference
    of the two cost trajectories. ``rng`` is not used: the weights are the course's.
    """
    from initlab.datasets import course_circles
    from initlab.engine import train_population
    from initlab.experiments.course import COURSE_LEARNING_RATE, course_parameters

    iterations = 1001 if quick else 3000  # the claims are at iteration 1000
    data = course_circles()
    network = Network.course()
    result = ExperimentResult(
        "chaos",
        "the course's network, data and learning rate: each run against itself with one "
        "weight changed by a relative 1e-15, the relative difference of the costs per iteration",
        [],
        ylabel="relative difference of the costs",
        xlabel="iteration",
    )
    at = 1000
    moved: dict[str, float] = {}
    for init in ("random", "he"):
        start = course_parameters(init)
        nudged = start.copy()
        nudged.weights[0][0, 0] *= 1 + 1e-15
        population = train_population(
            network, [start, nudged], data.X_train, data.Y_train,
            learning_rate=COURSE_LEARNING_RATE, iterations=iterations,
        )  # fmt: skip
        costs = population.costs
        difference = (np.abs(costs[0] - costs[1]) / np.abs(costs[0])).tolist()
        result.curves[f"{init} ({'x10' if init == 'random' else 'He'})"] = (difference, None)
        moved[init] = difference[at]
    result.checks = [
        Check(f"random: relative cost change at iteration {at} (4th decimal)", 1e-4,
              moved["random"], ">= 1e-5", bool(moved["random"] >= 1e-5)),
        Check(f"he: relative cost change at iteration {at} (rounding)", 0.0, moved["he"],
              "<= 1e-12", bool(moved["he"] <= 1e-12)),
    ]  # fmt: skip
    return result


#: independent networks per weight scale in ``he-depth``
NETWORKS = 8


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


#: every experiment by name
EXPERIMENTS: dict[str, Callable[..., ExperimentResult]] = {
    "tanh-std": tanh_std,
    "he-depth": he_depth,
    "chaos": chaos,
}


def run_experiment(name: str, *, seed: int = 0, quick: bool = False) -> ExperimentResult:
    """Run experiment ``name`` (case-insensitive; did-you-mean for a typo) from ``seed``."""
    experiment = lookup(EXPERIMENTS, name, "experiment")
    return experiment(np.random.default_rng(seed), quick=quick)
