"""The unit of work of every sweep: a batch of runs that train as one population.

A *batch* holds runs that share one training (:class:`~initlab.experiments.train.TrainConfig`:
data, architecture, optimizer, schedule) and differ only by their initializer, bias
initializer and seed index. :func:`train_batch` trains it on the population engine
(:func:`initlab.engine.train_population`) and scores every run; it is a pure function of
the batch: the same batch gives bit-identical records in any process, on any executor,
with any number of threads:

- run ``(init, s)`` draws its weights from ``SeedSequence(config.seed, spawn_key=(1, s))``
  (the same stream for every initialization and configuration of seed ``s``, so
  comparisons on shared seeds are paired) and every run of a batch sees the minibatches
  in the order of ``SeedSequence(config.seed, spawn_key=(0,))``;
- the engine's backend is chosen once, by the coordinating process (:func:`batch_backend`),
  not by the worker;
- the compiled kernel trains each model on one thread: a model is never split over a
  group of threads (whose partial sums would add up in another order).

:func:`run_batches` trains the batches a store lacks on an executor
(:mod:`initlab.sweep.executors`) and commits each batch's records in one transaction, in
the coordinating process only.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from initlab.experiments.train import TrainConfig, TrainSetup, prepare
from initlab.initializers import initialize
from initlab.memory import OPTIMIZER_SLOTS, check_training
from initlab.runs import score_run
from initlab.sweep.store import RunRecord, Store

if TYPE_CHECKING:
    from initlab.sweep.executors import Executor

__all__ = [
    "BATCH_RUNS",
    "Batch",
    "PlannedRun",
    "batch_backend",
    "check_batches",
    "pending",
    "run_batches",
    "setup_of",
    "shuffle_rng",
    "train_batch",
    "weight_rng",
]

#: runs trained together as one population and committed in one transaction
BATCH_RUNS = 100


@dataclass(frozen=True)
class PlannedRun:
    """One run: its initializer, seed index, full configuration (JSON-ready) and hash.

    ``bias_init`` ``None`` takes the batch configuration's ``bias_init``.
    """

    init: str
    seed: int
    config: dict[str, Any]
    hash: str
    bias_init: str | None = None


@dataclass(frozen=True)
class Batch:
    """Runs that train as one population (sharing ``config``'s training) and are stored
    together; ``config.inits`` is not used (each run names its own)."""

    index: int
    runs: tuple[PlannedRun, ...]
    config: TrainConfig


def weight_rng(config: TrainConfig, seed: int) -> np.random.Generator:
    """Seed ``seed``'s weights: ``SeedSequence(config.seed, spawn_key=(1, seed))``."""
    return np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(1, seed)))


def shuffle_rng(config: TrainConfig) -> np.random.Generator:
    """The minibatch order of every run: ``SeedSequence(config.seed, spawn_key=(0,))``."""
    return np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(0,)))


@functools.lru_cache(maxsize=32)
def setup_of(config: TrainConfig) -> TrainSetup:
    """``prepare(config)``, loaded once per process and configuration."""
    return prepare(config)


def batch_backend(batch: Batch, setup: TrainSetup | None = None) -> str:
    """The engine backend for ``batch``, chosen by the coordinating process from its own
    cores (:func:`initlab.engine.choose_backend`), so that every executor runs the same one."""
    from initlab.engine import choose_backend

    setup = setup_of(batch.config) if setup is None else setup
    m = setup.dataset.X_train.shape[1]
    return choose_backend(
        setup.network, "auto", len(batch.runs), None, setup.optimizer, setup.batch_size == m
    )


def _train_unsplit(
    setup: TrainSetup, starts: list, backend: str, threads: int
) -> tuple[list, list, str]:
    """Train ``starts``, never splitting a model of the compiled kernel over threads.

    With ``threads`` threads the kernel trains ``M - M % threads`` models one per thread
    and would split each of the others over a group; those are trained here on one
    thread instead. Returns every model's history and final parameters, and the backend.
    """
    from initlab.engine import train_population

    data = setup.dataset
    parts = [(0, len(starts), threads)]
    if backend == "compiled" and threads > 1 and len(starts) % threads:
        cut = len(starts) - len(starts) % threads
        parts = [(0, cut, threads), (cut, len(starts), 1)] if cut else [(0, len(starts), 1)]
    histories, params = [], []
    for lo, hi, n_threads in parts:
        population = train_population(
            setup.network, starts[lo:hi], data.X_train, data.Y_train,
            backend=backend, threads=n_threads, **setup.training(shuffle_rng(setup.config)),
        )  # fmt: skip
        histories += [population.history(i) for i in range(hi - lo)]
        params += population.params
        backend = population.backend
    return histories, params, backend


def train_batch(batch: Batch, backend: str = "auto", threads: int = 1) -> list[RunRecord]:
    """Train ``batch`` as one population on ``threads`` threads and score every run.

    ``backend``: the engine's (``"auto"`` lets this process choose: pass
    :func:`batch_backend` of the coordinating process for results that do not depend on
    where the batch runs).
    """
    setup = setup_of(batch.config)
    if backend == "auto":
        backend = batch_backend(batch, setup)
    data, network, config = setup.dataset, setup.network, batch.config
    started = time.perf_counter()
    starts = [
        initialize(
            network,
            run.init,
            weight_rng(config, run.seed),
            config.bias_init if run.bias_init is None else run.bias_init,
            data=data.X_train,
        )
        for run in batch.runs
    ]
    histories, finals, used = _train_unsplit(setup, starts, backend, threads)
    seconds = (time.perf_counter() - started) / len(batch.runs)
    records = []
    for run, start, history, final in zip(batch.runs, starts, histories, finals, strict=True):
        scored = score_run(run.init, network, start, final, history, data)
        metrics = {
            "final_cost": scored.final_cost,
            "train_accuracy": scored.train_accuracy,
            "test_accuracy": scored.test_accuracy,
            "diverged": scored.diverged,
            "diverged_at": scored.history.diverged_at,
            "exploded": scored.exploded,
        }
        costs = np.full(setup.updates, np.nan)
        costs[: len(history.costs)] = history.costs
        records.append(
            RunRecord(
                hash=run.hash,
                batch=batch.index,
                config=run.config,
                metrics=metrics,
                costs=costs,
                timings={"train_s": seconds, "backend": used},
                status=scored.status,
            )
        )
    return records


def check_batches(batches: Sequence[Batch], concurrent: int = 1) -> None:
    """Prepare (load and check) every distinct training of ``batches`` and refuse one too
    large for memory, before anything trains."""
    seen: set[TrainConfig] = set()
    for batch in batches:
        if batch.config in seen:
            continue
        seen.add(batch.config)
        try:
            setup = setup_of(batch.config)
        except ValueError as error:
            c = batch.config
            shape = f"layers {list(c.layers)}" if c.layers else f"hidden {list(c.hidden)}"
            raise ValueError(
                f"{error} (in the training on {c.dataset} with {shape}, activations "
                f"{','.join(c.activations)}, optimizer {c.optimizer})"
            ) from None
        size = max(len(b.runs) for b in batches if b.config == batch.config)
        check_training(
            setup.network.layer_sizes, updates=setup.updates,
            batch=setup.dataset.X_train.shape[1], runs=size, concurrent=size * concurrent,
            optimizer_slots=OPTIMIZER_SLOTS.get(setup.optimizer.name, 2),
        )  # fmt: skip


def pending(batches: Sequence[Batch], store: Store) -> list[Batch]:
    """The batches of which ``store`` lacks a run."""
    done = store.done_hashes()
    return [b for b in batches if not all(run.hash in done for run in b.runs)]


def run_batches(
    batches: Sequence[Batch],
    store: Store,
    executor: Executor | None = None,
    *,
    on_batch: Callable[[Batch, Sequence[RunRecord]], None] | None = None,
    on_start: Callable[[Batch], None] | None = None,
) -> Iterator[Batch]:
    """Train every batch of ``batches`` that ``store`` lacks on ``executor`` (default: in
    this process), committing each batch's records in one transaction as it ends.

    A generator of the batches as they are committed (``on_batch(batch, records)`` is
    called after each commit; ``on_start(batch)`` when a batch is handed out): stopping it
    (or an error, or Ctrl-C) leaves the store holding whole batches only. Batches may
    finish in any order; their records do not depend on it.
    """
    from initlab.sweep.executors import LocalExecutor

    executor = LocalExecutor() if executor is None else executor
    todo = pending(batches, store)
    backends = {}
    for batch in todo:
        key = (batch.config, len(batch.runs))
        if key not in backends:
            backends[key] = batch_backend(batch)
    tasks = [(batch, backends[(batch.config, len(batch.runs))]) for batch in todo]
    for batch, records in executor.run(tasks, on_start=on_start):
        store.add_batch(records)
        if on_batch is not None:
            on_batch(batch, records)
        yield batch
