"""The reference training loops, plain NumPy: the oracles of the fast engine.

:func:`gradient_descent` is the course's loop, full-batch gradient descent and
nothing else; :func:`fit` is the general loop: any optimizer, full batch or
minibatches, by iterations or epochs. :func:`fit` with the ``"gd"`` optimizer
and the full batch performs exactly the same updates as :func:`gradient_descent`
(a test checks it bit for bit). Both record a :class:`History`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from initlab.checks import (
    as_rng,
    check_parameters,
    check_positive_int,
    check_real,
    check_training_data,
)
from initlab.memory import OPTIMIZER_SLOTS, check_training
from initlab.network import Network, Parameters, loss_and_gradients
from initlab.optimizers import Optimizer, get_optimizer

__all__ = [
    "History",
    "Schedule",
    "as_optimizer",
    "check_labels",
    "fit",
    "gradient_descent",
    "resolve_batch_size",
    "resolve_schedule",
    "steps_per_epoch",
    "validate_schedule",
]

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
    check_parameters(network, params)
    check_training(network.layer_sizes, updates=iterations, batch=X.shape[1])
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


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def resolve_batch_size(optimizer: Optimizer, batch_size: int | None, m: int) -> int:
    """The minibatch size to use on ``m`` training samples.

    ``None`` takes the optimizer's default: the whole set for ``gd``, else
    scikit-learn's ``min(200, m)``.

    Raises:
        ValueError: for a non-positive size, one larger than ``m``, or a
            minibatch given to the full-batch ``gd``.
    """
    if batch_size is None:
        default = optimizer.default_batch_size
        return m if default is None else min(default, m)
    batch_size = _positive_int("batch_size", batch_size)
    if batch_size > m:
        raise ValueError(
            f"batch_size {batch_size} is larger than the {m} training samples; allowed: 1 to {m}"
        )
    if optimizer.full_batch and batch_size != m:
        raise ValueError(
            f"optimizer {optimizer.name!r} is full-batch gradient descent; for minibatches of "
            f"{batch_size} use sgd, momentum or adam"
        )
    return batch_size


def as_optimizer(optimizer: object) -> Optimizer:
    """An :class:`Optimizer` from an optimizer or a spec string (``"adam(beta1=0.8)"``)."""
    if isinstance(optimizer, str):
        return get_optimizer(optimizer)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"optimizer must be an Optimizer or a spec string such as 'adam', got {optimizer!r}"
        )
    return optimizer


@dataclass(frozen=True)
class Schedule:
    """How a training on ``m`` samples runs: minibatches of ``batch`` (``per_epoch`` of
    them per pass), ``updates`` in all, shuffled by ``rng`` (``None`` for full batch);
    ``counted`` is what the user counted the updates in, ``("iterations", n, 1)`` or
    ``("epochs", e, per_epoch)`` (what a memory error blames, see :mod:`initlab.memory`)."""

    batch: int
    per_epoch: int
    updates: int
    rng: np.random.Generator | np.random.RandomState | None
    counted: tuple[str, int, int]


def resolve_schedule(
    optimizer: Optimizer,
    m: int,
    *,
    iterations: int | None,
    epochs: int | None,
    batch_size: int | None,
    rng: object,
) -> Schedule:
    """The :class:`Schedule` of ``iterations`` updates or ``epochs`` passes (exactly one)
    with minibatches of ``batch_size`` (:func:`resolve_batch_size`); ``rng`` (a generator
    or an int seed) is required with minibatches."""
    if (iterations is None) == (epochs is None):
        raise ValueError("give exactly one of iterations and epochs")
    batch = resolve_batch_size(optimizer, batch_size, m)
    per_epoch = steps_per_epoch(m, batch)
    if iterations is not None:
        updates = _positive_int("iterations", iterations)
        counted = ("iterations", updates, 1)
    else:
        count = _positive_int("epochs", epochs)
        updates = count * per_epoch
        counted = ("epochs", count, per_epoch)
    if batch < m:
        if rng is None:
            raise ValueError("minibatches need an rng to shuffle the training set")
        rng = as_rng(rng)
    else:
        rng = None
    return Schedule(batch, per_epoch, updates, rng, counted)


def steps_per_epoch(m: int, batch_size: int) -> int:
    """Updates in one pass over ``m`` samples (the last minibatch may be smaller)."""
    return math.ceil(m / batch_size)


def check_labels(network: Network, X: np.ndarray, Y: np.ndarray) -> None:
    """Raise unless ``X`` and ``Y`` fit the network's input and output (see
    :func:`initlab.checks.check_training_data`, which every training path uses)."""
    check_training_data(network, X, Y)


def fit(
    network: Network,
    params: Parameters,
    X: np.ndarray,
    Y: np.ndarray,
    optimizer: Optimizer | str,
    *,
    iterations: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    rng: np.random.Generator | np.random.RandomState | int | None = None,
    report_every: int = 0,
    on_report: CostCallback | None = None,
) -> tuple[Parameters, History]:
    """Train ``params`` on ``X`` (shape ``(n_0, m)``) and labels ``Y`` (shape ``(1, m)``).

    Exactly one of ``iterations`` (number of updates) and ``epochs`` (passes
    over the training set, ``ceil(m / batch_size)`` updates each) is given.
    With minibatches, the columns are shuffled at the start of every epoch by
    ``rng.permutation(m)`` and cut into consecutive batches of ``batch_size``
    (the last one may be smaller); ``rng`` is then required.

    ``params`` is not modified; the trained copy is returned with a
    :class:`~initlab.fit.History` whose ``costs[i]`` is the cost of the
    minibatch of update ``i``, measured before the update. The optimizer is
    :meth:`~initlab.optimizers.Optimizer.reset` first. As in the course, the
    run stops at the first non-finite cost and records that update in
    ``History.diverged_at``. ``on_report(i, cost)`` is called every
    ``report_every`` updates (if positive).
    """
    optimizer = as_optimizer(optimizer)
    X, Y = check_training_data(network, X, Y)
    check_parameters(network, params)
    m = X.shape[1]
    schedule = resolve_schedule(
        optimizer, m, iterations=iterations, epochs=epochs, batch_size=batch_size, rng=rng
    )
    batch, per_epoch, total, rng = (
        schedule.batch,
        schedule.per_epoch,
        schedule.updates,
        schedule.rng,
    )
    slots = OPTIMIZER_SLOTS.get(optimizer.name, 2)
    check_training(network.layer_sizes, updates=total, batch=batch, optimizer_slots=slots,
                   updates_parameter=schedule.counted)  # fmt: skip
    optimizer.reset()
    params = params.copy()
    costs = np.empty(total)
    order = None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for i in range(total):
            if batch == m:
                Xb, Yb = X, Y
            else:
                position = i % per_epoch
                if position == 0:
                    order = rng.permutation(m)
                columns = order[position * batch : (position + 1) * batch]
                Xb, Yb = X[:, columns], Y[:, columns]
            cost, grads = loss_and_gradients(network, params, Xb, Yb)
            costs[i] = cost
            if not np.isfinite(cost):
                return params, History(costs[: i + 1], diverged_at=i)
            if on_report is not None and report_every > 0 and i % report_every == 0:
                on_report(i, cost)
            optimizer.step(params, grads)
    return params, History(costs)
