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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from initlab.checks import check_positive_int
from initlab.experiments.train import TrainConfig, TrainSetup, prepare
from initlab.memory import OPTIMIZER_SLOTS, check_training
from initlab.sweep.plan import BATCH_RUNS, Batch, PlannedRun, run_batches, weight_rng
from initlab.sweep.plan import pending as plan_pending
from initlab.sweep.store import RunRecord, Store, run_hash

if TYPE_CHECKING:
    from initlab.sweep.executors import Executor

__all__ = ["Batch", "CompareSpec", "PlannedRun", "pending", "run_compare"]


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
            Batch(i, tuple(runs[start : start + size]), self.config)
            for i, start in enumerate(range(0, len(runs), size))
        ]


def _weight_rng(spec: CompareSpec, seed: int) -> np.random.Generator:
    """Seed ``seed``'s weights: ``SeedSequence(config.seed, spawn_key=(1, seed))``."""
    return weight_rng(spec.config, seed)


def pending(spec: CompareSpec, store: Store) -> list[Batch]:
    """The batches of ``spec`` that ``store`` does not hold yet."""
    return plan_pending(spec.batches(), store)


def run_compare(
    spec: CompareSpec,
    store: Store,
    *,
    setup: TrainSetup | None = None,
    on_batch: Callable[[Batch, Sequence[RunRecord]], None] | None = None,
    executor: Executor | None = None,
    on_start: Callable[[Batch], None] | None = None,
) -> Iterator[Batch]:
    """Train every batch of ``spec`` that ``store`` lacks, committing each as it ends
    (:func:`initlab.sweep.plan.run_batches`, on ``executor``: default, this process).

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
    yield from run_batches(spec.batches(), store, executor, on_batch=on_batch, on_start=on_start)
