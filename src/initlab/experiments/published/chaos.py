"""``chaos``: the course's x10 run is chaotic: a relative change of 1e-15 in one
weight moves its cost at iteration 1000 in the 4th decimal (at least 1e-5
relative), while the He run's cost stays the same to rounding (at most 1e-12).
"""

from __future__ import annotations

import numpy as np

from initlab.experiments.published.base import Check, ExperimentResult
from initlab.network import Network

__all__ = ["run"]


def run(rng: np.random.Generator, quick: bool = False) -> ExperimentResult:
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
