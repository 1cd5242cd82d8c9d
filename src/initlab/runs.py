"""One training run of one initialization: its record, its scoring and its diagnosis.

Every experiment (the course, ``initlab train``, ``initlab diagnose``, the sweeps)
trains a list of initial parameters, on the population engine or the reference loop,
and turns each into a :class:`Run`: the initialization's name, its starting and
trained parameters, its :class:`~initlab.fit.History`, its accuracies and final cost,
its status (ok, diverged, exploded) and its per-layer statistics and flags at
initialization.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from initlab.datasets import Dataset
from initlab.diagnostics import Flag, NetworkStatistics, diagnose, network_statistics
from initlab.fit import History
from initlab.network import Network, Parameters, accuracy, loss_and_gradients

__all__ = [
    "ENGINES",
    "EXPLOSION_FACTOR",
    "STATISTICS_SAMPLES",
    "Run",
    "diagnose_runs",
    "diagnose_start",
    "exploded",
    "population_runs",
    "score_run",
    "statistics_batch",
]

#: ``"fast"``: all initializations trained as one population by :mod:`initlab.engine`;
#: ``"reference"``: one run after the other with the plain NumPy loop (the oracle)
ENGINES: tuple[str, ...] = ("fast", "reference")

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
class Run:
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
    runs: Sequence[Run],
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


def population_runs(
    network: Network,
    names: Sequence[str],
    starts: Sequence[Parameters],
    dataset: Dataset,
    *,
    print_every: int,
    on_cost: Callable[[str, int, float], None] | None = None,
    **training: Any,
) -> list[Run]:
    """Train every start at once on the population engine, then score each run.

    ``training`` is passed to :func:`initlab.engine.train_population` (learning
    rate, iterations or epochs, optimizer, batch size, rng). ``on_cost(name,
    iteration, cost)`` is called while training runs, for every ``print_every``-th
    finite cost: the runs train together, so their costs come interleaved, every
    run's cost at one iteration, in the order of ``names``, then the next iteration.
    """
    from initlab.engine import train_population

    def report(iteration: int, costs: np.ndarray) -> None:
        assert on_cost is not None
        for name, cost in zip(names, costs, strict=True):
            if np.isfinite(cost):  # a diverged run's last cost and the NaN after it
                on_cost(name, iteration, float(cost))

    population = train_population(
        network, list(starts), dataset.X_train, dataset.Y_train,
        report_every=print_every if on_cost is not None else 0,
        on_report=report if on_cost is not None else None, **training,
    )  # fmt: skip
    return [
        score_run(name, network, start, population.params[i], population.history(i), dataset)
        for i, (name, start) in enumerate(zip(names, starts, strict=True))
    ]


def score_run(
    init: str,
    network: Network,
    start: Parameters,
    params: Parameters,
    history: History,
    dataset: Dataset,
) -> Run:
    """Accuracies and final cost of a trained run; ``None`` for a diverged one."""
    if history.diverged:
        return Run(init, start, params, history, None, None, None)
    with np.errstate(over="ignore", invalid="ignore"):
        final_cost, _ = loss_and_gradients(network, params, dataset.X_train, dataset.Y_train)
    if not np.isfinite(final_cost):
        # the last update overflowed: the run diverged after its final recorded cost
        history.diverged_at = len(history.costs)
        return Run(init, start, params, history, None, None, None)
    return Run(
        init,
        start,
        params,
        history,
        accuracy(network, params, dataset.X_train, dataset.Y_train),
        accuracy(network, params, dataset.X_test, dataset.Y_test),
        float(final_cost),
    )
