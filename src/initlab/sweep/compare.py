"""Comparing initializations over many seeds: the plan, the batches, the runs.

A comparison trains every initialization of a :class:`~initlab.experiments.train.TrainConfig`
from ``seeds`` different seeds, on the same data, split and minibatch order. Run
``(init, s)`` draws its weights from ``SeedSequence(config.seed, spawn_key=(1, s))``
(the same stream for every initialization of seed ``s``, so comparisons on shared
seeds are paired), and its full configuration hashes to its identity in the store.

The runs are cut, in plan order, into batches of at most ``batch_runs`` runs that
train as one population on the engine and are committed to the store in one
transaction. A batch's composition depends on the plan only, so a comparison that
is stopped (Ctrl-C, SIGKILL) and run again trains exactly the batches that are
missing, with exactly the numbers an uninterrupted run gives.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from initlab.checks import check_positive_int
from initlab.experiments.train import TrainConfig, TrainSetup, prepare
from initlab.initializers import initialize
from initlab.memory import OPTIMIZER_SLOTS, check_training
from initlab.runs import score_run
from initlab.sweep.store import RunRecord, Store, run_hash

__all__ = ["Batch", "CompareSpec", "PlannedRun", "run_batch", "run_compare"]

#: runs trained together as one population and committed in one transaction
BATCH_RUNS = 100


@dataclass(frozen=True)
class PlannedRun:
    """One run of a comparison: its initialization, seed index, configuration, hash."""

    init: str
    seed: int
    config: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class Batch:
    """Runs that train as one population and are stored together."""

    index: int
    runs: tuple[PlannedRun, ...]


@dataclass(frozen=True)
class CompareSpec:
    """A comparison: ``config.inits`` each trained from ``seeds`` seeds."""

    config: TrainConfig
    seeds: int = 100
    batch_runs: int = BATCH_RUNS

    def __post_init__(self) -> None:
        check_positive_int("seeds", self.seeds)
        check_positive_int("batch_runs", self.batch_runs)

    def common(self) -> dict[str, Any]:
        """The settings every run shares, JSON-ready."""
        fields = dataclasses.asdict(self.config)
        for key in ("inits", "print_every"):
            fields.pop(key)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}

    def as_dict(self) -> dict[str, Any]:
        """The whole specification, JSON-ready (what its hash is taken of)."""
        return {
            "experiment": "compare",
            **self.common(),
            "inits": list(self.config.inits),
            "seeds": self.seeds,
        }

    @property
    def hash(self) -> str:
        return run_hash(self.as_dict())

    def runs(self) -> list[PlannedRun]:
        """Every run, seed by seed, each seed's initializations in the given order."""
        common = self.common()
        planned = []
        for seed in range(self.seeds):
            for init in self.config.inits:
                config = {**common, "init": init, "seed_index": seed}
                planned.append(PlannedRun(init, seed, config, run_hash(config)))
        return planned

    def batches(self) -> list[Batch]:
        runs = self.runs()
        size = self.batch_runs
        return [
            Batch(i, tuple(runs[start : start + size]))
            for i, start in enumerate(range(0, len(runs), size))
        ]


def _weight_rng(spec: CompareSpec, seed: int) -> np.random.Generator:
    """Seed ``seed``'s weights: ``SeedSequence(config.seed, spawn_key=(1, seed))``."""
    return np.random.default_rng(np.random.SeedSequence(spec.config.seed, spawn_key=(1, seed)))


def _shuffle_rng(spec: CompareSpec) -> np.random.Generator:
    """The minibatch order of every run: ``SeedSequence(config.seed, spawn_key=(0,))``."""
    return np.random.default_rng(np.random.SeedSequence(spec.config.seed, spawn_key=(0,)))


def run_batch(spec: CompareSpec, setup: TrainSetup, batch: Batch) -> list[RunRecord]:
    """Train ``batch`` as one population and score every run."""
    from initlab.engine import train_population

    data = setup.dataset
    network = setup.network
    started = time.perf_counter()
    starts = [
        initialize(
            network, run.init, _weight_rng(spec, run.seed), spec.config.bias_init, data=data.X_train
        )
        for run in batch.runs
    ]
    population = train_population(
        network, starts, data.X_train, data.Y_train, **setup.training(_shuffle_rng(spec))
    )
    seconds = (time.perf_counter() - started) / len(batch.runs)
    records = []
    for i, (run, start) in enumerate(zip(batch.runs, starts, strict=True)):
        history = population.history(i)
        scored = score_run(run.init, network, start, population.params[i], history, data)
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
                timings={"train_s": seconds, "backend": population.backend},
                status=scored.status,
            )
        )
    return records


def pending(spec: CompareSpec, store: Store) -> list[Batch]:
    """The batches of ``spec`` that ``store`` does not hold yet."""
    done = store.done_hashes()
    return [b for b in spec.batches() if not all(run.hash in done for run in b.runs)]


def run_compare(
    spec: CompareSpec,
    store: Store,
    *,
    setup: TrainSetup | None = None,
    on_batch: Callable[[Batch, Sequence[RunRecord]], None] | None = None,
) -> Iterator[Batch]:
    """Train every batch of ``spec`` that ``store`` lacks, committing each as it ends.

    A generator of the batches as they are committed (``on_batch(batch, records)``
    is called after each commit too): stopping it between batches leaves the
    store consistent.
    """
    setup = prepare(spec.config) if setup is None else setup
    check_training(
        setup.network.layer_sizes, updates=setup.updates, batch=setup.dataset.X_train.shape[1],
        runs=spec.batch_runs, concurrent=spec.batch_runs,
        optimizer_slots=OPTIMIZER_SLOTS.get(setup.optimizer.name, 2),
    )  # fmt: skip
    for batch in pending(spec, store):
        records = run_batch(spec, setup, batch)
        store.add_batch(records)
        if on_batch is not None:
            on_batch(batch, records)
        yield batch
