"""A page's run as the ``results.json`` document its Download link serves.

The layout is that of ``initlab course``'s ``results.json`` (``experiment``,
``config``, ``runs`` with ``costs``, accuracies, status, and the per-layer
statistics and flags at initialization), with ``"experiment": "app"``, the page's
configuration and the URL query that reproduces it, and the ``provenance`` (versions,
and how to run it again) that ``report.html`` shows.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from initlab import __version__
from initlab.app.training import Outcome
from initlab.app.views import batch
from initlab.diagnostics import diagnose, network_statistics
from initlab.optimizers import get_optimizer
from initlab.results import finite_or_none, flags_to_dicts, layers_to_dicts

__all__ = ["MAX_COST_POINTS", "cost_stride", "results_bytes", "results_document"]

#: ``costs`` holds every ``stride``-th cost, at most this many per run
MAX_COST_POINTS = 1000


def cost_stride(updates: int) -> int:
    """Every how many iterations a cost is recorded: 1000 for the course's 15000 (as it
    prints them), else the smallest stride giving at most :data:`MAX_COST_POINTS`."""
    if updates == 15000:
        return 1000
    return max(1, math.ceil(updates / MAX_COST_POINTS))


def _layers(outcome: Outcome, i: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    prepared = outcome.prepared
    config = prepared.config
    optimizer = get_optimizer(config.optimizer, config.learning_rate)
    rate = config.learning_rate if type(optimizer).full_batch else None
    X, Y = batch(prepared.dataset.X_train, prepared.dataset.Y_train)
    stats = network_statistics(prepared.network, prepared.starts[i], X, Y, learning_rate=rate)
    return layers_to_dicts(stats), flags_to_dicts(diagnose(stats))


def results_document(outcome: Outcome, *, source: str | None = None) -> dict[str, Any]:
    """The JSON-ready record of ``outcome``; ``source`` names an uploaded file."""
    prepared = outcome.prepared
    config = prepared.config
    dataset = dict(prepared.dataset.config)
    if config.uploaded:
        dataset["params"] = {"file": source, "label": config.label}
    stride = cost_stride(config.iterations)
    runs = []
    for i, name in enumerate(config.inits):
        ran = outcome.done if outcome.diverged_at[i] < 0 else int(outcome.diverged_at[i]) + 1
        costs = outcome.costs[i, :ran]
        layers, flags = _layers(outcome, i)
        runs.append(
            {
                "init": name,
                "costs": [
                    {"iteration": int(t), "cost": finite_or_none(float(costs[t]))}
                    for t in range(0, len(costs), stride)
                ],
                **outcome.scores(i),
                "iterations_run": int(ran),
                "layers": layers,
                "flags": flags,
            }
        )
    from initlab.report.provenance import provenance

    query = config.query()
    return {
        "experiment": "app",
        "initlab_version": __version__,
        "provenance": {
            **provenance(["app"]),
            "command": f"initlab app  # then open the page's address with ?{query}",
        },
        "config": {
            **config.as_dict(),
            "network": prepared.network.as_dict(),
            "dataset": dataset,
            "print_every": stride,
            "init_seed": config.seed,
            "statistics_samples": int(
                batch(prepared.dataset.X_train, prepared.dataset.Y_train)[0].shape[1]
            ),
            "query": query,
        },
        "runs": runs,
    }


def results_bytes(document: dict[str, Any]) -> bytes:
    """Strict JSON text (no NaN or infinity), UTF-8, as ``initlab`` writes ``results.json``."""
    return (json.dumps(document, indent=2, allow_nan=False, default=_default) + "\n").encode()


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON-serializable: {type(value).__name__}")
