"""Training for the page: every initializer at once on the fast engine, in cancellable steps.

:func:`prepare` turns an :class:`~initlab.app.config.AppConfig` into the data, the
network and one starting point per initializer (each drawn from a fresh legacy
``RandomState(seed)``, as the course draws them). :func:`train` trains them as one
population with :func:`initlab.engine.train_population` and reports
:class:`Progress` as it goes:

* full-batch gradient descent (the course's optimizer) has no state, so training
  ``a`` updates and then ``b`` more from where it stopped is training ``a + b``
  updates, bit for bit. The run is cut at the :data:`STEPS` (``0``, a few early
  updates spaced on a log scale, then even steps): after each step the page gets
  the costs so far and the parameters there (a *snapshot*), and a cancelled run
  stops at the next step;
* other optimizers (momentum, Adam, minibatches) carry state from one update to the
  next, so they train in one call: the costs stream through ``on_report`` and the
  snapshots through ``on_snapshot`` as training passes them (the engine trains in
  spans of updates, keeping each model's state), and cancelling raises out of
  either.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from initlab.app.config import AppConfig
from initlab.datasets import LabelledDataset, load_dataset
from initlab.engine import log_spaced, train_population
from initlab.initializers import get_initializer, initialize
from initlab.network import Network, Parameters, accuracy, loss_and_gradients
from initlab.optimizers import get_optimizer

__all__ = [
    "EXPLOSION_FACTOR",
    "STEPS",
    "Cancelled",
    "Outcome",
    "Prepared",
    "Progress",
    "prepare",
    "steps",
    "train",
]

#: about this many steps (snapshots) per run: log-spaced early, then evenly spaced
STEPS = 30
#: one call of the engine does at most about this many floating-point operations (a
#: fraction of a second), so that a cancelled run stops soon
CALL_FLOPS = 5 * 10**8
#: a run whose final cost exceeds its first by more than this factor "exploded"
#: (as the command line says it)
EXPLOSION_FACTOR = 100.0


class Cancelled(Exception):
    """The run was cancelled (a new Train, Stop, or the page closed)."""


@dataclass
class Prepared:
    """Everything a run starts from."""

    config: AppConfig
    dataset: LabelledDataset
    network: Network
    starts: list[Parameters]


def prepare(config: AppConfig, dataset: LabelledDataset | None = None) -> Prepared:
    """The dataset (``dataset`` if given: an upload), network and starting parameters.

    The head follows the classes: a sigmoid unit for two, a softmax over more.

    Raises:
        ValueError: a dataset, network or initializer that cannot be built.
    """
    if dataset is None:
        if config.uploaded:
            raise ValueError("upload a CSV file first (the dataset is 'csv')")
        dataset = load_dataset(
            config.dataset, seed=config.seed, standardize_features=config.standardize
        )
    hidden = config.hidden
    network = Network.for_classes(
        dataset.X_train.shape[0], hidden, (config.activation,) * len(hidden), dataset.n_classes
    )
    starts = []
    for spec in config.inits:
        init = get_initializer(spec)
        data = dataset.X_train if getattr(init, "data_dependent", False) else None
        rng = np.random.RandomState(config.seed)
        starts.append(initialize(network, init, rng, config.bias_init, data=data))
    return Prepared(config, dataset, network, starts)


def threads_for(models: int) -> int:
    """Worker threads for ``models`` models: the most (up to the usable cores) that share
    them evenly, so that no model is split over threads (which syncs the threads on every
    update and is slow when the machine is busy)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(t for t in range(1, max(1, min(cores, models)) + 1) if models % t == 0)


def steps(updates: int, count: int = STEPS) -> np.ndarray:
    """The updates after which a run reports: ``0``, log-spaced early ones, then even
    ones up to ``updates`` (sorted, unique, about ``count`` of them)."""
    early = log_spaced(updates, max(2, count // 3))
    even = np.linspace(0, updates, count - len(early) + 1).round().astype(np.int64)
    return np.unique(np.concatenate([early, even]))


@dataclass
class Progress:
    """Where a run is: ``costs[:, :done]`` measured so far (NaN after a divergence)."""

    done: int
    total: int
    costs: np.ndarray
    #: the newest snapshot's index in ``Outcome.snapshot_at``, or ``None``
    snapshot: int | None = None
    #: the run so far (its snapshot lists only grow while it runs)
    outcome: Outcome | None = None

    @property
    def params(self) -> list[Parameters]:
        """Every model's parameters at the newest snapshot (none if there is none)."""
        if self.snapshot is None or self.outcome is None:
            return []
        return self.outcome.snapshots[self.snapshot]


@dataclass
class Outcome:
    """A finished (or cancelled) run."""

    prepared: Prepared
    costs: np.ndarray
    diverged_at: np.ndarray
    params: list[Parameters]
    snapshot_at: list[int] = field(default_factory=list)
    #: ``snapshots[k][i]``: model ``i`` before update ``snapshot_at[k]``
    snapshots: list[list[Parameters]] = field(default_factory=list)
    done: int = 0
    cancelled: bool = False
    backend: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return self.prepared.config.inits

    def scores(self, i: int) -> dict[str, float | str | bool | None]:
        """Model ``i``'s accuracies, final cost (after the last update) and status;
        ``None`` scores for a run that diverged."""
        network, data = self.prepared.network, self.prepared.dataset
        params, d = self.params[i], int(self.diverged_at[i])
        final = None
        if d < 0:
            with np.errstate(over="ignore", invalid="ignore"):
                cost, _ = loss_and_gradients(network, params, data.X_train, data.Y_train)
            if np.isfinite(cost):
                final = float(cost)
            else:  # the last update overflowed
                d = self.done
        if final is None:
            return {
                "train_accuracy": None, "test_accuracy": None, "final_cost": None,
                "diverged": True, "diverged_at": d, "exploded": False,
                "status": f"diverged at iteration {d}",
            }  # fmt: skip
        first = float(self.costs[i, 0])
        exploded = final > EXPLOSION_FACTOR * first
        status = f"exploded: cost {final:.3g} from {first:.3g}" if exploded else "ok"
        if self.cancelled:
            status = f"stopped at iteration {self.done}"
        return {
            "train_accuracy": accuracy(network, params, data.X_train, data.Y_train),
            "test_accuracy": accuracy(network, params, data.X_test, data.Y_test),
            "final_cost": final,
            "diverged": False,
            "diverged_at": None,
            "exploded": bool(exploded),
            "status": status,
        }


def train(
    prepared: Prepared,
    *,
    cancel: threading.Event | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> Outcome:
    """Train every starting point of ``prepared`` for ``config.iterations`` updates.

    ``on_progress`` is called after every step (see the module's notes), on the calling
    thread. Setting ``cancel`` stops the run at the next step (or report): the
    outcome is then marked ``cancelled`` and holds what was trained so far.
    """
    config = prepared.config
    cancel = cancel or threading.Event()
    optimizer = get_optimizer(config.optimizer, config.learning_rate)
    total = config.iterations
    M = len(prepared.starts)
    outcome = Outcome(
        prepared, np.full((M, total), np.nan), np.full(M, -1, dtype=np.int64),
        list(prepared.starts),
    )  # fmt: skip
    at = steps(total)
    if type(optimizer).full_batch:
        _train_in_steps(outcome, optimizer, at, cancel, on_progress)
    else:
        _train_at_once(outcome, optimizer, at, cancel, on_progress)
    if cancel.is_set():
        outcome.cancelled = True
    return outcome


def _train_in_steps(outcome, optimizer, at, cancel, on_progress) -> None:  # type: ignore[no-untyped-def]
    params = list(outcome.prepared.starts)
    outcome.snapshot_at, outcome.snapshots = [0], [list(params)]
    if on_progress is not None:
        on_progress(Progress(0, int(at[-1]), outcome.costs[:, :0], 0, outcome))
    for start, stop in itertools.pairwise(at):
        if not _train_pieces(outcome, optimizer, params, int(start), int(stop), cancel):
            return
        outcome.snapshot_at.append(int(stop))
        outcome.snapshots.append(list(params))
        if on_progress is not None:
            k = len(outcome.snapshot_at) - 1
            on_progress(Progress(int(stop), int(at[-1]), outcome.costs[:, :stop], k, outcome))


def update_flops(network: Network, samples: int) -> int:
    """About the floating-point operations of one full-batch update: ``6 m sum n_{l-1} n_l``
    (a forward and two backward matrix products per layer)."""
    sizes = network.layer_sizes
    return 6 * samples * sum(a * b for a, b in itertools.pairwise(sizes))


def _train_pieces(outcome, optimizer, params, start, stop, cancel) -> bool:  # type: ignore[no-untyped-def]
    """Updates ``start..stop`` of the live models in pieces of at most :data:`CALL_FLOPS`
    each (so that a cancel is seen soon even for wide networks); ``False`` if cancelled."""
    prepared = outcome.prepared
    network, data = prepared.network, prepared.dataset
    at = start
    while at < stop:
        if cancel.is_set():
            return False
        live = [i for i in range(len(params)) if outcome.diverged_at[i] < 0]
        if not live:
            break
        cost = update_flops(network, data.X_train.shape[1]) * len(live)
        end = min(stop, at + max(1, CALL_FLOPS // cost))
        result = train_population(
            network, [params[i] for i in live], data.X_train, data.Y_train,
            learning_rate=optimizer.learning_rate, iterations=end - at,
            optimizer=optimizer, threads=threads_for(len(live)),
        )  # fmt: skip
        outcome.backend = result.backend
        for j, i in enumerate(live):
            outcome.costs[i, at:end] = result.costs[j]
            params[i] = result.params[j]
            if result.diverged_at[j] >= 0:
                outcome.diverged_at[i] = at + int(result.diverged_at[j])
        at = end
        outcome.done = at
        outcome.params = list(params)
    outcome.done = stop
    return True


def _train_at_once(outcome, optimizer, at, cancel, on_progress) -> None:  # type: ignore[no-untyped-def]
    prepared = outcome.prepared
    config, network, data = prepared.config, prepared.network, prepared.dataset
    total = int(at[-1])
    every = max(1, total // 100)
    measured = [0]  # costs known so far (outcome.done stays 0: the parameters are the starts)

    def report(update: int, costs: np.ndarray) -> None:
        if cancel.is_set():
            raise Cancelled
        outcome.costs[:, update] = costs
        measured[0] = update + 1
        if on_progress is not None and update % every == 0:
            on_progress(Progress(update + 1, total, outcome.costs[:, : update + 1], None, outcome))

    def snapshot(k: int, params: list[Parameters]) -> None:
        if cancel.is_set():
            raise Cancelled
        outcome.snapshot_at.append(int(at[k]))
        outcome.snapshots.append(params)
        if on_progress is not None and k < len(at) - 1:  # the last one: after training
            done = measured[0]
            on_progress(Progress(done, total, outcome.costs[:, :done], k, outcome))

    try:
        result = train_population(
            network, prepared.starts, data.X_train, data.Y_train,
            learning_rate=optimizer.learning_rate, iterations=total, optimizer=optimizer,
            rng=np.random.default_rng(config.seed), report_every=1, on_report=report,
            snapshots=at, on_snapshot=snapshot, threads=threads_for(len(prepared.starts)),
        )  # fmt: skip
    except Cancelled:
        return
    outcome.backend = result.backend
    outcome.costs[:] = result.costs
    outcome.diverged_at[:] = result.diverged_at
    outcome.params = list(result.params)
    outcome.done = total
    if on_progress is not None:
        on_progress(Progress(total, total, outcome.costs, len(at) - 1, outcome))
