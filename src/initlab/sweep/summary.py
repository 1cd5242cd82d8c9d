"""The statistics of a comparison: per initialization, and paired on shared seeds."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from initlab.sweep.stats import (
    SUMMARY_FIELDS,
    group_summary,
    iterations_to_threshold,
    paired_comparison,
    summarize,
)

__all__ = [
    "METRICS",
    "compare_summary",
    "curves_by_init",
    "grid_values",
    "mean_curve",
    "pairs",
    "sweep_pairs",
    "sweep_summary",
    "with_threshold",
]

#: the metrics summarized, and whether lower is better
METRICS: dict[str, bool] = {"final_cost": True, "train_accuracy": False, "test_accuracy": False}


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _metric_values(frame: Any, init: str, metric: str) -> np.ndarray:
    rows = frame[frame["init"] == init].sort_values("seed_index")
    return rows[metric].to_numpy(dtype=float)


def compare_summary(frame: Any, inits: Sequence[str], *, rng_seed: int = 0) -> dict[str, Any]:
    """Per initialization, every metric's n, mean, std, median and bootstrap 95% CI of the
    mean (diverged runs excluded and counted); then every pair of initializations
    compared on the seeds they share (win rate, CI of the paired difference, Wilcoxon
    signed-rank p-value). JSON-ready."""
    groups = []
    for init in inits:
        rows = frame[frame["init"] == init]
        entry: dict[str, Any] = {
            "init": init,
            "runs": len(rows),
            "fraction_diverged": float(rows["diverged"].astype(bool).mean()) if len(rows) else None,
            "fraction_exploded": float(rows["exploded"].astype(bool).mean()) if len(rows) else None,
        }
        for metric in METRICS:
            values = _metric_values(frame, init, metric)
            if np.isfinite(values).any():
                s = summarize(values, rng_seed=rng_seed)
                entry[metric] = {
                    "n": s.n, "mean": _finite(s.mean), "std": _finite(s.std),
                    "median": _finite(s.median), "ci_low": _finite(s.ci_low),
                    "ci_high": _finite(s.ci_high),
                }  # fmt: skip
            else:
                entry[metric] = None
        groups.append(entry)
    return {"groups": groups, "paired": pairs(frame, inits, METRICS, rng_seed=rng_seed)}


def pairs(
    frame: Any, inits: Sequence[str], metrics: dict[str, bool], *, rng_seed: int = 0
) -> list[dict[str, Any]]:
    """Every pair ``a``, ``b`` of ``inits`` (in order) compared, for every metric (``True``:
    lower is better), on the seeds they share (rows matched by ``seed_index``; pairs
    with a non-finite value left out): ``n``, ``a_wins`` (the fraction of seeds where
    ``a`` is better, ties half), ``mean_difference`` ``a - b`` with its bootstrap 95%
    CI, the Wilcoxon signed-rank p-value
    (:func:`~initlab.sweep.stats.paired_comparison`). JSON-ready."""
    out = []
    for a, b in itertools.combinations(inits, 2):
        rows_a = frame[frame["init"] == a]
        rows_b = frame[frame["init"] == b]
        for metric, lower_is_better in metrics.items():
            both = (
                rows_a[["seed_index", metric]]
                .merge(rows_b[["seed_index", metric]], on="seed_index", suffixes=("_a", "_b"))
                .sort_values("seed_index")
            )
            x = both[f"{metric}_a"].to_numpy(dtype=float)
            y = both[f"{metric}_b"].to_numpy(dtype=float)
            if not (np.isfinite(x) & np.isfinite(y)).any():
                continue
            # "a wins" when a is better: smaller cost, larger accuracy
            first, second = (x, y) if lower_is_better else (-x, -y)
            p = paired_comparison(first, second, rng_seed=rng_seed)
            sign = 1.0 if lower_is_better else -1.0
            low, high = sorted((sign * p.ci_low, sign * p.ci_high))
            out.append(
                {
                    "a": a,
                    "b": b,
                    "metric": metric,
                    "n": p.n,
                    "a_wins": _finite(p.win_rate),
                    "mean_difference": _finite(sign * p.mean_difference),
                    "ci_low": _finite(low),
                    "ci_high": _finite(high),
                    "wilcoxon_p": _finite(p.wilcoxon_p) if p.wilcoxon_p is not None else None,
                }
            )
    return out


def sweep_pairs(
    frame: Any, by: Sequence[str], threshold: float | None = None, *, rng_seed: int = 0
) -> list[dict[str, Any]]:
    """For every configuration (the values of ``by`` but ``init``), its initializations
    compared pair by pair on shared seeds (:func:`pairs`; with a threshold, the
    iterations to it too, fewer being better). Empty unless ``init`` is swept."""
    if "init" not in by:
        return []
    frame = with_threshold(frame, threshold)
    metrics = dict(METRICS)
    if threshold is not None:
        metrics["iterations_to_threshold"] = True
    others = [name for name in by if name != "init"]
    groups = frame.groupby(others, dropna=False, sort=True) if others else [((), frame)]
    out = []
    for key, rows in groups:
        values = key if isinstance(key, tuple) else (key,)
        inits = list(dict.fromkeys(rows["init"]))
        entry: dict[str, Any] = {n: _plain(v) for n, v in zip(others, values, strict=True)}
        entry["paired"] = pairs(rows, inits, metrics, rng_seed=rng_seed)
        out.append(entry)
    return out


def curves_by_init(frame: Any, inits: Sequence[str]) -> dict[str, np.ndarray]:
    """Every run's cost curve stacked per initialization: ``(runs, updates)``, NaN after a
    divergence."""
    return {
        init: np.stack(list(frame[frame["init"] == init].sort_values("seed_index")["costs"]))
        for init in inits
        if (frame["init"] == init).any()
    }


def mean_curve(curves: np.ndarray, z: float = 1.959963984540054) -> tuple[np.ndarray, ...]:
    """Mean cost per update over the runs still finite there, and a normal-approximation
    95% band ``mean +- z s / sqrt(n)``: ``(mean, low, high, n)``."""
    finite = np.isfinite(curves)
    n = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(finite, curves, 0.0)
        mean = values.sum(axis=0) / n
        var = (np.where(finite, curves - mean, 0.0) ** 2).sum(axis=0) / np.maximum(n - 1, 1)
        half = z * np.sqrt(var) / np.sqrt(n)
    return mean, mean - half, mean + half, n


def with_threshold(frame: Any, threshold: float | None) -> Any:
    """``frame`` (one row per run, with ``costs``) with ``iterations_to_threshold`` (the
    first update whose cost is below ``threshold``, NaN when none is:
    :func:`~initlab.sweep.stats.iterations_to_threshold`) and ``reached`` (bool) added;
    ``frame`` itself without a threshold."""
    if threshold is None:
        return frame
    first = [iterations_to_threshold(np.asarray(c), threshold) for c in frame["costs"]]
    out = frame.copy()
    out["iterations_to_threshold"] = [math.nan if i is None else float(i) for i in first]
    out["reached"] = [i is not None for i in first]
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def sweep_summary(
    frame: Any, by: Sequence[str], threshold: float | None = None, *, rng_seed: int = 0
) -> list[dict[str, Any]]:
    """One entry per group of ``by``'s values (sorted): the group's values, ``runs``,
    ``fraction_diverged``, with a threshold ``fraction_reached``, and for every metric
    (the final cost, the accuracies, with a threshold the iterations to it) ``n``,
    ``n_missing``, ``mean``, ``std``, ``median``, ``ci_low``, ``ci_high`` (bootstrap
    95% CI of the mean; :func:`~initlab.sweep.stats.group_summary`). JSON-ready."""
    frame = with_threshold(frame, threshold)
    metrics = [*METRICS, *(["iterations_to_threshold"] if threshold is not None else [])]
    table = group_summary(frame, list(by), metrics, rng_seed=rng_seed)
    reached = None
    if threshold is not None:
        groups = frame.groupby(list(by), dropna=False, sort=True) if by else None
        reached = (
            [float(g["reached"].mean()) for _, g in groups]
            if groups is not None
            else [float(frame["reached"].mean())]
        )
    out = []
    for i, row in enumerate(table.to_dict("records")):
        entry: dict[str, Any] = {name: _plain(row[name]) for name in by}
        entry["runs"] = int(row["runs"])
        entry["fraction_diverged"] = _plain(float(row["fraction_diverged"]))
        if reached is not None:
            entry["fraction_reached"] = reached[i]
        for metric in metrics:
            entry[metric] = {f: _plain(row[f"{metric}_{f}"]) for f in SUMMARY_FIELDS}
        out.append(entry)
    return out


def grid_values(
    frame: Any, x: str, y: str, column: str, reduce: str = "median"
) -> tuple[list[Any], list[Any], np.ndarray]:
    """``(x_values, y_values, table)``: ``table[j, i]`` the ``reduce`` (``"median"`` or
    ``"mean"``) of ``column`` over the finite values of the runs with ``y == y_values[j]``
    and ``x == x_values[i]`` (NaN where none); values in order of first appearance."""
    if reduce not in ("median", "mean"):
        raise ValueError(f"unknown reduction {reduce!r}; choose median or mean")
    for name in (x, y, column):
        if name not in frame.columns:
            raise ValueError(f"no column {name!r}; columns: {', '.join(map(str, frame.columns))}")
    xs, ys = list(dict.fromkeys(frame[x])), list(dict.fromkeys(frame[y]))
    table = np.full((len(ys), len(xs)), np.nan)
    values = frame[column].to_numpy(dtype=float)
    x_col, y_col = list(frame[x]), list(frame[y])
    for j, yv in enumerate(ys):
        for i, xv in enumerate(xs):
            mask = np.array([a == xv and b == yv for a, b in zip(x_col, y_col, strict=True)])
            cell = values[mask]
            cell = cell[np.isfinite(cell)]
            if cell.size:
                table[j, i] = np.median(cell) if reduce == "median" else np.mean(cell)
    return xs, ys, table
