"""The deeplearning.ai "Initialization" exercise, reproduced exactly.

A ``[2, 10, 5, 1]`` LINEAR-RELU-LINEAR-RELU-LINEAR-SIGMOID network is trained
on the course's circles by full-batch gradient descent (learning rate 0.01,
15000 iterations) from three initializations: ``zeros``, ``random`` (standard
normal times 10) and ``he`` (standard normal times ``sqrt(2 / fan_in)``). Each
initialization draws from a fresh legacy ``RandomState(3)``, as the course's
``np.random.seed(3)`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from initlab.datasets import Dataset, course_circles
from initlab.diagnostics import Flag, NetworkStatistics, diagnose, network_statistics
from initlab.fit import History, gradient_descent, validate_schedule
from initlab.initializers import get_initializer, initialize
from initlab.memory import check_training
from initlab.network import Network, Parameters, accuracy, loss_and_gradients

__all__ = [
    "COURSE_INITS",
    "ENGINES",
    "EXPLOSION_FACTOR",
    "STATISTICS_SAMPLES",
    "CourseConfig",
    "CourseResult",
    "CourseRun",
    "diagnose_runs",
    "diagnose_start",
    "exploded",
    "run_course",
    "statistics_batch",
]

COURSE_INITS: tuple[str, ...] = ("zeros", "random", "he")

#: ``"fast"``: all initializations trained as one population by :mod:`initlab.engine`;
#: ``"reference"``: one run after the other with the plain NumPy loop (the oracle)
ENGINES: tuple[str, ...] = ("fast", "reference")


@dataclass(frozen=True)
class CourseConfig:
    """Everything that defines a course comparison; the defaults are the course's."""

    inits: tuple[str, ...] = COURSE_INITS
    iterations: int = 15000
    learning_rate: float = 0.01
    print_every: int = 1000
    layer_sizes: tuple[int, ...] = (2, 10, 5, 1)
    init_seed: int = 3
    train_seed: int = 1
    test_seed: int = 2
    bias_init: str = "zeros"

    def __post_init__(self) -> None:
        object.__setattr__(self, "inits", tuple(self.inits))
        if not self.inits:
            raise ValueError("at least one initializer is needed")
        for name in self.inits:
            get_initializer(name)
        if getattr(get_initializer(self.bias_init), "data_dependent", False):
            raise ValueError(
                f"bias_init {self.bias_init!r} is data-dependent; it can only draw weights"
            )
        validate_schedule(self.learning_rate, self.iterations)
        if (
            isinstance(self.print_every, bool)
            or not isinstance(self.print_every, int)
            or self.print_every < 1
        ):
            raise ValueError(f"print_every must be a positive integer, got {self.print_every!r}")
        self.check_memory()

    def check_memory(self, runs: int | None = None) -> None:
        """Refuse (:class:`~initlab.memory.MemoryLimitError`) a run too large for memory."""
        runs = len(self.inits) if runs is None else runs
        check_training(self.layer_sizes, updates=self.iterations, batch=300, runs=runs,
                       concurrent=runs, updates_parameter=("iterations", self.iterations, 1),
                       width_parameter=("layer_sizes", self.layer_sizes))  # fmt: skip

    @property
    def network(self) -> Network:
        hidden = len(self.layer_sizes) - 2
        return Network(self.layer_sizes, ("relu",) * hidden)

    def as_dict(self) -> dict:
        return {
            "network": self.network.as_dict(),
            "inits": list(self.inits),
            "bias_init": self.bias_init,
            "iterations": self.iterations,
            "learning_rate": self.learning_rate,
            "print_every": self.print_every,
            "optimizer": "gradient_descent",
            "init_seed": self.init_seed,
            "dataset": {
                "name": "course_circles",
                "train": {"n_samples": 300, "noise": 0.05, "seed": self.train_seed},
                "test": {"n_samples": 100, "noise": 0.05, "seed": self.test_seed},
            },
        }


#: a run whose final cost exceeds its first cost by more than this factor "exploded"
EXPLOSION_FACTOR = 100.0


def exploded(history: History, final_cost: float | None) -> bool:
    """Whether a run that did not diverge ended with a cost more than
    :data:`EXPLOSION_FACTOR` times the cost it started from."""
    if history.diverged or final_cost is None or len(history.costs) == 0:
        return False
    first = float(history.costs[0])
    return bool(np.isfinite(final_cost) and final_cost > EXPLOSION_FACTOR * first)


@dataclass
class CourseRun:
    """One initialization's training run and its scores."""

    init: str
    initial_params: Parameters
    params: Parameters
    history: History
    train_accuracy: float | None
    test_accuracy: float | None
    final_cost: float | None
    #: per-layer statistics of ``initial_params`` (:func:`diagnose_start`), and their flags
    statistics: NetworkStatistics | None = None
    flags: list[Flag] = field(default_factory=list)

    @property
    def diverged(self) -> bool:
        return self.history.diverged

    @property
    def exploded(self) -> bool:
        """Finished with a finite cost more than :data:`EXPLOSION_FACTOR` times its
        first one: trained the wrong way (a step far too large), though never
        non-finite."""
        return exploded(self.history, self.final_cost)

    @property
    def status(self) -> str:
        """``"ok"``, ``"diverged at iteration N"`` or ``"exploded: cost C from C0"``."""
        if self.diverged:
            return f"diverged at iteration {self.history.diverged_at}"
        if self.exploded:
            return f"exploded: cost {self.final_cost:.3g} from {self.history.costs[0]:.3g}"
        return "ok"

    def printed_costs(self, every: int) -> list[tuple[int, float]]:
        """``(iteration, cost)`` at every ``every``-th iteration, as the course prints them."""
        return [(i, float(self.history.costs[i])) for i in range(0, len(self.history.costs), every)]


@dataclass
class CourseResult:
    config: CourseConfig
    dataset: Dataset
    runs: list[CourseRun] = field(default_factory=list)


#: the statistics at initialization are computed on at most this many training samples
STATISTICS_SAMPLES = 1000


def statistics_batch(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The batch the statistics at initialization are computed on: the first
    :data:`STATISTICS_SAMPLES` columns of the training set ``X``, ``Y`` (all of it
    when it is smaller; the course's 300 samples). The training parts of
    :func:`initlab.datasets.load_dataset` are shuffled, so these are a random subset."""
    return X[:, :STATISTICS_SAMPLES], Y[:, :STATISTICS_SAMPLES]


def diagnose_start(
    network: Network,
    params: Parameters,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    learning_rate: float | None = None,
) -> tuple[NetworkStatistics, list[Flag]]:
    """Per-layer statistics of ``params`` on :func:`statistics_batch` of ``(X, Y)``, and
    their flags (:func:`initlab.diagnostics.network_statistics`,
    :func:`initlab.diagnostics.diagnose`). ``learning_rate`` gives the update-to-data
    ratio ``learning_rate ||dJ/dW|| / ||W||``: pass it only for plain gradient steps."""
    batch_X, batch_Y = statistics_batch(X, Y)
    stats = network_statistics(network, params, batch_X, batch_Y, learning_rate=learning_rate)
    return stats, diagnose(stats)


def diagnose_runs(
    runs: Sequence[CourseRun],
    network: Network,
    dataset: Dataset,
    *,
    learning_rate: float | None = None,
) -> None:
    """Fill every run's ``statistics`` and ``flags`` at its initialization
    (:func:`diagnose_start` on the training set)."""
    for run in runs:
        run.statistics, run.flags = diagnose_start(
            network, run.initial_params, dataset.X_train, dataset.Y_train,
            learning_rate=learning_rate,
        )  # fmt: skip


def initial_parameters(config: CourseConfig, init: str) -> Parameters:
    """The course's starting weights for ``init``: a fresh ``RandomState(init_seed)`` each."""
    rng = np.random.RandomState(config.init_seed)
    weight_init = get_initializer(init)
    data = None
    if getattr(weight_init, "data_dependent", False):  # e.g. lsuv: calibrated on the training set
        data = course_circles(config.train_seed, config.test_seed).X_train
    return initialize(config.network, weight_init, rng, config.bias_init, data=data)


def run_course(
    config: CourseConfig | None = None,
    *,
    on_cost: Callable[[str, int, float], None] | None = None,
    inits: Sequence[str] | None = None,
    engine: str = "fast",
) -> CourseResult:
    """Train one network per initializer and score it on the course's data.

    ``on_cost(init, iteration, cost)`` is called for every ``print_every``-th
    iteration (finite costs only, as the reference loop reports them): live
    while training with ``engine="reference"``, after training with
    ``engine="fast"``, which trains all initializations at once as one
    population (:func:`initlab.engine.train_population`). Both engines give the
    same results up to rounding (about 1e-15 relative in the costs).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    config = config or CourseConfig()
    config.check_memory(len(inits) if inits else None)
    dataset = course_circles(config.train_seed, config.test_seed)
    network = config.network
    result = CourseResult(config, dataset)
    names = list(inits or config.inits)
    starts = [initial_parameters(config, init) for init in names]
    if engine == "fast":
        result.runs = population_runs(
            network,
            names,
            starts,
            dataset,
            learning_rate=config.learning_rate,
            iterations=config.iterations,
            print_every=config.print_every,
            on_cost=on_cost,
        )
    else:
        result.runs = [
            _reference_run(config, network, init, start, dataset, on_cost)
            for init, start in zip(names, starts, strict=True)
        ]
    diagnose_runs(result.runs, network, dataset, learning_rate=config.learning_rate)
    return result


def _reference_run(
    config: CourseConfig,
    network: Network,
    init: str,
    start: Parameters,
    dataset: Dataset,
    on_cost: Callable[[str, int, float], None] | None,
) -> CourseRun:
    """One initialization trained by the plain NumPy loop, reporting live."""
    report = None if on_cost is None else (lambda i, c: on_cost(init, i, c))
    params, history = gradient_descent(
        network,
        start,
        dataset.X_train,
        dataset.Y_train,
        learning_rate=config.learning_rate,
        iterations=config.iterations,
        report_every=config.print_every,
        on_report=report,
    )
    return score_run(init, network, start, params, history, dataset)


def population_runs(
    network: Network,
    names: Sequence[str],
    starts: Sequence[Parameters],
    dataset: Dataset,
    *,
    print_every: int,
    on_cost: Callable[[str, int, float], None] | None = None,
    **training: Any,
) -> list[CourseRun]:
    """Train every start at once on the population engine, then report and score each run.

    ``training`` is passed to :func:`initlab.engine.train_population` (learning
    rate, iterations or epochs, optimizer, batch size, rng). ``on_cost(name,
    iteration, cost)`` is called for every ``print_every``-th finite cost, in the
    order the one-run-at-a-time loop would report them.
    """
    from initlab.engine import train_population

    population = train_population(
        network, list(starts), dataset.X_train, dataset.Y_train, **training
    )
    runs = []
    for i, (name, start) in enumerate(zip(names, starts, strict=True)):
        history = population.history(i)
        if on_cost is not None:
            for it in range(0, len(history.costs), print_every):
                if it != history.diverged_at:
                    on_cost(name, it, float(history.costs[it]))
        runs.append(score_run(name, network, start, population.params[i], history, dataset))
    return runs


def score_run(
    init: str,
    network: Network,
    start: Parameters,
    params: Parameters,
    history: History,
    dataset: Dataset,
) -> CourseRun:
    """Accuracies and final cost of a trained run; ``None`` for a diverged one."""
    if history.diverged:
        return CourseRun(init, start, params, history, None, None, None)
    with np.errstate(over="ignore", invalid="ignore"):
        final_cost, _ = loss_and_gradients(network, params, dataset.X_train, dataset.Y_train)
    if not np.isfinite(final_cost):
        # the last update overflowed: the run diverged after its final recorded cost
        history.diverged_at = len(history.costs)
        return CourseRun(init, start, params, history, None, None, None)
    return CourseRun(
        init,
        start,
        params,
        history,
        accuracy(network, params, dataset.X_train, dataset.Y_train),
        accuracy(network, params, dataset.X_test, dataset.Y_test),
        float(final_cost),
    )
