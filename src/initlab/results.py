"""Results as JSON-ready dictionaries, and writing them safely."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from initlab.diagnostics import Flag, NetworkStatistics
from initlab.diagnostics.stats import LAYER_STATISTICS
from initlab.outputs import write_files
from initlab.runs import STATISTICS_SAMPLES, Run

if TYPE_CHECKING:
    import pandas as pd

    from initlab.experiments.train import TrainResult

__all__ = [
    "finite_or_none",
    "flags_to_dicts",
    "json_bytes",
    "layers_to_dicts",
    "load",
    "results_to_dict",
    "run_to_dict",
    "statistics_samples",
    "write_json",
]


def finite_or_none(value: float | None) -> float | None:
    """JSON has no ``inf`` or ``nan``: non-finite numbers become ``null``."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def layers_to_dicts(stats: NetworkStatistics) -> list[dict[str, Any]]:
    """One dictionary per layer: ``layer`` (from 1), ``units``, ``activation`` (the head's
    name for the last layer) and every statistic of
    :data:`initlab.diagnostics.stats.LAYER_STATISTICS` (non-finite values as ``None``)."""
    layers = []
    for l in range(stats.depth):
        record: dict[str, Any] = {
            "layer": l + 1,
            "units": int(stats.units[l]),
            "activation": stats.activations[l],
        }
        for name in LAYER_STATISTICS:
            record[name] = finite_or_none(stats.statistic(name)[l])
        record["distinct_units"] = int(stats.distinct_units[l])
        layers.append(record)
    return layers


def flags_to_dicts(flags: Sequence[Flag]) -> list[dict[str, Any]]:
    """``kind``, ``layer`` (from 1; ``None`` for the whole network), ``value``,
    ``threshold`` (non-finite as ``None``) and ``message`` of every flag."""
    return [
        {
            "kind": flag.kind,
            "layer": flag.layer,
            "value": finite_or_none(flag.value),
            "threshold": finite_or_none(flag.threshold),
            "message": flag.message,
        }
        for flag in flags
    ]


def statistics_samples(n_train: int) -> int:
    """How many training samples the statistics at initialization use
    (:func:`initlab.runs.statistics_batch`)."""
    return min(int(n_train), STATISTICS_SAMPLES)


def run_to_dict(run: Run, print_every: int) -> dict[str, Any]:
    """One run's record; with its statistics at initialization, ``layers``
    (:func:`layers_to_dicts`) and ``flags`` (:func:`flags_to_dicts`)."""
    return {
        "init": run.init,
        "costs": [
            {"iteration": i, "cost": finite_or_none(c)} for i, c in run.printed_costs(print_every)
        ],
        "train_accuracy": run.train_accuracy,
        "test_accuracy": run.test_accuracy,
        "final_cost": finite_or_none(run.final_cost),
        "diverged": run.diverged,
        "diverged_at": run.history.diverged_at,
        "exploded": run.exploded,
        "status": run.status,
        "iterations_run": len(run.history.costs),
        **(
            {}
            if run.statistics is None
            else {"layers": layers_to_dicts(run.statistics), "flags": flags_to_dicts(run.flags)}
        ),
    }


def results_to_dict(result: TrainResult) -> dict[str, Any]:
    """The ``results.json`` document of a comparison, one layout for every experiment:
    ``experiment`` (``"course"``, ``"train"``), ``config`` (the network, initializers,
    optimizer, schedule, seed, dataset) and ``runs`` (:func:`run_to_dict`)."""
    setup = result.setup
    config = setup.config
    return {
        "experiment": result.experiment,
        "config": {
            "network": setup.network.as_dict(),
            "inits": list(config.inits),
            "bias_init": config.bias_init,
            "iterations": config.iterations,
            "epochs": config.epochs,
            "batch_size": setup.batch_size,
            "print_every": config.print_every,
            "seed": config.seed,
            "updates": setup.updates,
            "optimizer": setup.optimizer.config(),
            "learning_rate": setup.optimizer.learning_rate,
            "dataset": setup.dataset.config,
            "statistics_samples": statistics_samples(setup.dataset.X_train.shape[1]),
        },
        "runs": [run_to_dict(run, config.print_every) for run in result.runs],
    }


def json_bytes(data: dict[str, Any]) -> bytes:
    """``data`` as the UTF-8 text of ``results.json`` (strict JSON: no NaN, no infinity)."""
    return (json.dumps(data, indent=2, allow_nan=False) + "\n").encode("utf-8")


def write_json(path: str | os.PathLike[str], data: dict[str, Any]) -> Path:
    """Write ``data`` to ``path`` atomically: the whole document is encoded first, then
    written to a temporary file beside the target and renamed into place (see
    :func:`initlab.outputs.write_files`: umask-respecting mode, symbolic links written
    through, no temporary left behind on failure)."""
    (written,) = write_files([(path, json_bytes(data))])
    return written


def load(folder: str | os.PathLike[str], *, costs: bool = False) -> pd.DataFrame:
    """The runs stored in ``folder`` (by ``initlab compare``) as a pandas DataFrame: one row
    per run, its configuration fields as columns, its metrics, status and (``costs=True``)
    its cost curve as an array."""
    import sqlite3

    from initlab.sweep.store import STORE_FILENAME, Store, StoreError

    folder = Path(folder)
    path = folder / STORE_FILENAME
    if not path.is_file():
        raise ValueError(f"{str(folder)!r} holds no stored runs (no {STORE_FILENAME})")
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'spec_hash'").fetchone()
    except sqlite3.Error as exc:
        raise StoreError(f"{path} is not an initlab result store ({exc})") from None
    if row is None:
        raise StoreError(f"{path} is not an initlab result store (no spec)")
    with Store.open(folder, row[0]) as store:
        return store.frame(costs=costs)
