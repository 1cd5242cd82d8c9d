"""The reference training loop: full-batch gradient descent, as in the course.

This loop is deliberately plain NumPy; it is the oracle the fast engine is
tested against.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from initlab.checks import check_positive_int, check_real, check_training_data
from initlab.network import Network, Parameters, loss_and_gradients

__all__ = ["History", "gradient_descent", "validate_schedule"]

CostCallback = Callable[[int, float], None]


@dataclass
class History:
    """What happened during training.

    Attributes:
        costs: ``costs[i]`` is the cost measured *before* the update of
            iteration ``i`` (the course's convention); shorter than the
            requested number of iterations when the run diverged.
        diverged_at: the first iteration whose cost was not finite, or ``None``.
    """

    costs: np.ndarray
    diverged_at: int | None = None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


def validate_schedule(learning_rate: float, iterations: int) -> None:
    """Raise unless ``learning_rate`` is a positive finite real number (of any Python or
    NumPy type; not a bool) and ``iterations`` a positive integer.

    ``ValueError`` for a bad value, ``TypeError`` for an argument of the wrong kind.
    """
    rate = check_real("learning_rate", learning_rate)
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError(f"learning_rate must be a positive finite number, got {learning_rate!r}")
    check_positive_int("iterations", iterations)


def gradient_descent(
    network: Network,
    params: Parameters,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    learning_rate: float,
    iterations: int,
    report_every: int = 0,
    on_report: CostCallback | None = None,
) -> tuple[Parameters, History]:
    """Train by full-batch gradient descent: ``theta <- theta - learning_rate * grad J``.

    ``params`` is not modified; the trained copy is returned with the
    :class:`History`. Every ``report_every`` iterations (if positive)
    ``on_report(iteration, cost)`` is called. The run stops at the first
    non-finite cost and records that iteration in ``History.diverged_at``.
    """
    validate_schedule(learning_rate, iterations)
    X, Y = check_training_data(network, X, Y)
    params = params.copy()
    costs = np.empty(iterations)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for i in range(iterations):
            cost, grads = loss_and_gradients(network, params, X, Y)
            costs[i] = cost
            if not np.isfinite(cost):
                return params, History(costs[: i + 1], diverged_at=i)
            if on_report is not None and report_every > 0 and i % report_every == 0:
                on_report(i, cost)
            for l in range(network.depth):
                params.weights[l] = params.weights[l] - learning_rate * grads.weights[l]
                params.biases[l] = params.biases[l] - learning_rate * grads.biases[l]
    return params, History(costs)
