"""The deeplearning.ai "Initialization" exercise: a preset of :mod:`initlab.experiments.train`.

A ``[2, 10, 5, 1]`` LINEAR-RELU-LINEAR-RELU-LINEAR-SIGMOID network is trained
on the course's circles (``course_circles``: 300 training points drawn from
seed 1, 100 test points from seed 2) by full-batch gradient descent (learning
rate 0.01, 15000 iterations) from three initializations: ``zeros``, ``random``
(standard normal times 10) and ``he`` (standard normal times
``sqrt(2 / fan_in)``). Each initialization draws from a fresh legacy
``RandomState(3)``, as the course's ``np.random.seed(3)`` does (the general
experiment's rule for ``course_circles``: ``RandomState(3 + seed)``, seed 0).

:func:`course_config` is nothing but the general :class:`TrainConfig` with
these values; :func:`run_course` is :func:`~initlab.experiments.train.run_train`
on it. ``initlab train --dataset course_circles --layers 2,10,5,1 --optimizer gd
--learning-rate 0.01 --iterations 15000`` runs the same training.
"""

from __future__ import annotations

from collections.abc import Callable

from initlab.experiments.train import (
    COURSE_INITS,
    TrainConfig,
    TrainResult,
    TrainSetup,
    prepare,
    run_train,
    starting_parameters,
)
from initlab.network import Parameters

__all__ = [
    "COURSE_INITS",
    "COURSE_ITERATIONS",
    "COURSE_LAYERS",
    "COURSE_LEARNING_RATE",
    "COURSE_PRINT_EVERY",
    "course_config",
    "course_parameters",
    "run_course",
]

COURSE_LAYERS: tuple[int, ...] = (2, 10, 5, 1)
COURSE_ITERATIONS = 15000
COURSE_LEARNING_RATE = 0.01
COURSE_PRINT_EVERY = 1000


def course_config(
    *,
    inits: tuple[str, ...] = COURSE_INITS,
    iterations: int = COURSE_ITERATIONS,
    learning_rate: float = COURSE_LEARNING_RATE,
    print_every: int = COURSE_PRINT_EVERY,
    bias_init: str = "zeros",
    seed: int = 0,
) -> TrainConfig:
    """The course's training as a :class:`TrainConfig`; the defaults are the course's.

    ``seed`` moves the weights' legacy generator to ``RandomState(3 + seed)``; the
    data are the course's whatever the seed.
    """
    return TrainConfig(
        dataset="course_circles",
        layers=COURSE_LAYERS,
        activations=("relu",),
        output="sigmoid",
        inits=tuple(inits),
        bias_init=bias_init,
        optimizer="gd",
        learning_rate=learning_rate,
        iterations=iterations,
        seed=seed,
        print_every=print_every,
    )


def course_parameters(init: str, *, bias_init: str = "zeros", seed: int = 0) -> Parameters:
    """The course's starting parameters for ``init``, drawn from a fresh
    ``RandomState(3 + seed)`` (a data-dependent scheme such as ``lsuv`` is calibrated on
    the course's training points)."""
    setup = prepare(course_config(inits=(init,), bias_init=bias_init, seed=seed, iterations=1))
    return starting_parameters(setup)[0]


def run_course(
    config: TrainConfig | TrainSetup | None = None,
    *,
    on_cost: Callable[[str, int, float], None] | None = None,
    engine: str = "fast",
) -> TrainResult:
    """Train one network per initializer of ``config`` (default: :func:`course_config`)
    and score each: :func:`~initlab.experiments.train.run_train`, with the results
    named ``"course"``.

    ``on_cost(init, iteration, cost)`` is called for every ``print_every``-th
    iteration (finite costs only), live: with ``engine="reference"`` one run after
    the other (the plain NumPy loop, the oracle); with ``engine="fast"``, which
    trains all initializations at once as one population
    (:func:`initlab.engine.train_population`), every run's cost at one iteration,
    then the next. Both engines give the same results up to rounding (about 1e-15
    relative in the costs).
    """
    result = run_train(config or course_config(), on_cost=on_cost, engine=engine)
    result.experiment = "course"
    return result
