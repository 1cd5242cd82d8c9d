"""Statistics over the runs of a sweep: summaries with bootstrap intervals, paired tests.

A run's final cost is one draw of a distribution over seeds; these functions describe
that distribution honestly.

- :func:`summarize`: ``n``, mean, standard deviation, median and a seeded bootstrap
  confidence interval of the mean of one sample.
- :func:`paired_comparison`: two initializations on shared seeds: win rate, the
  bootstrap interval of the mean paired difference, the Wilcoxon signed-rank p-value.
- :func:`group_summary`: :func:`summarize` for every group of a runs table and every
  metric, with the fraction of diverged runs.
- :func:`iterations_to_threshold`: the first iteration whose cost falls below a value.

Missing values: a diverged run has no meaningful final value, so non-finite values (NaN,
and infinities) are left out and counted (``n_missing``, ``n_dropped``).

The bootstrap (Efron and Tibshirani 1993, *An Introduction to the Bootstrap*, Chapman &
Hall, ch. 13): draw ``B`` resamples of size ``n`` with replacement from the sample
``x_1..x_n``, compute each resample's mean ``m*_1..m*_B``; the percentile interval of
confidence ``1 - alpha`` is ``(q_{alpha/2}, q_{1-alpha/2})``, the empirical quantiles of
``m*``. It is computed by :func:`scipy.stats.bootstrap` (``method="percentile"``,
``B = 9999`` by default) with ``numpy.random.default_rng(rng_seed)``, so the same sample
and seed give the same interval everywhere. The percentile method is chosen over BCa for
robustness: it is defined for every sample of at least two distinct values, where BCa's
acceleration and bias correction fail (NaN, with a warning) on small or tied samples.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.stats

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BOOTSTRAP_METHOD",
    "Paired",
    "Summary",
    "group_summary",
    "iterations_to_threshold",
    "paired_comparison",
    "summarize",
]

BOOTSTRAP_METHOD = "percentile"
"""The bootstrap interval every function here computes (Efron and Tibshirani 1993, 13.3)."""

_RESAMPLE_BUDGET = 4_000_000
"""Resampled values held in memory at once; larger samples are bootstrapped in batches."""

_HAS_RNG = "rng" in inspect.signature(scipy.stats.bootstrap).parameters


@dataclass(frozen=True)
class Summary:
    """One sample described (non-finite values left out).

    Attributes:
        n: the number of finite values ``x_1..x_n`` used.
        n_missing: the number of NaN or infinite values left out.
        mean: ``(1/n) sum x_i``.
        std: the sample standard deviation ``sqrt(sum (x_i - mean)^2 / (n - 1))``
            (``ddof=1``); NaN when ``n = 1``.
        median: the median (the mean of the two middle values for even ``n``).
        ci_low, ci_high: the percentile bootstrap confidence interval of the mean
            (module docstring); ``(x, x)`` when every value equals ``x`` (``n = 1``
            included).
    """

    n: int
    n_missing: int
    mean: float
    std: float
    median: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Paired:
    """Two samples compared on shared seeds: ``d_i = a_i - b_i``.

    Attributes:
        n: the number of pairs used (both values finite).
        n_dropped: pairs left out because ``a_i`` or ``b_i`` is NaN or infinite.
        win_rate: ``(#{a_i < b_i} + #{a_i = b_i} / 2) / n``: the fraction of seeds where
            ``a`` is lower (better, for a cost), a tie counting half a win.
        mean_difference: ``(1/n) sum d_i`` (negative: ``a`` lower on average).
        ci_low, ci_high: the percentile bootstrap interval of the mean of ``d`` (the
            pairs resampled together).
        wilcoxon_p: the two-sided p-value of the Wilcoxon signed-rank test of ``d``
            (Wilcoxon 1945, *Individual comparisons by ranking methods*, Biometrics
            Bulletin 1(6)) by :func:`scipy.stats.wilcoxon` with its defaults (zero
            differences dropped, ``zero_method="wilcox"``; exact distribution for small
            samples without ties, else the normal approximation); ``None`` when
            ``n < 2`` or every difference is zero (no test is possible).
    """

    n: int
    n_dropped: int
    win_rate: float
    mean_difference: float
    ci_low: float
    ci_high: float
    wilcoxon_p: float | None


def _sample(values: object, name: str) -> np.ndarray:
    """``values`` as a one-dimensional float64 array, or an error naming ``name``."""
    array = np.asarray(values)
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.number) and not np.issubdtype(array.dtype, np.complexfloating)
    ):
        if array.dtype == object and all(v is None or _is_real(v) for v in array.ravel()):
            array = np.array([np.nan if v is None else v for v in array.ravel()], dtype=float)
            array = array.reshape(np.shape(values))
        else:
            raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array.astype(np.float64)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _check_confidence(confidence: float) -> float:
    if not _is_real(confidence) or not 0 < float(confidence) < 1:
        raise ValueError(f"confidence must be a number between 0 and 1, got {confidence!r}")
    return float(confidence)


def _check_seed(rng_seed: int) -> int:
    if isinstance(rng_seed, bool | np.bool_) or not isinstance(rng_seed, numbers.Integral):
        raise TypeError(f"rng_seed must be a non-negative integer, got {rng_seed!r}")
    if rng_seed < 0:
        raise ValueError(f"rng_seed must be a non-negative integer, got {rng_seed!r}")
    return int(rng_seed)


def _bootstrap_mean(
    x: np.ndarray, rng_seed: int, confidence: float, n_resamples: int
) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``x`` (finite, >= 2 distinct)."""
    rng = np.random.default_rng(rng_seed)
    batch = None
    if x.size * n_resamples > _RESAMPLE_BUDGET:
        batch = max(1, _RESAMPLE_BUDGET // x.size)
    seed_argument = {"rng": rng} if _HAS_RNG else {"random_state": rng}
    result = scipy.stats.bootstrap(
        (x,),
        np.mean,
        confidence_level=confidence,
        n_resamples=n_resamples,
        method=BOOTSTRAP_METHOD,
        batch=batch,
        **seed_argument,
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def summarize(
    values: np.ndarray,
    *,
    rng_seed: int = 0,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    name: str = "values",
) -> Summary:
    """Describe a sample: :class:`Summary` (n, mean, std, median, bootstrap CI).

    Non-finite values (diverged runs) are left out and counted in ``n_missing``; with no
    finite value left a ``ValueError`` names the sample (``name``, e.g. the metric).
    The interval is the seeded percentile bootstrap of the mean (module docstring);
    a constant sample (``n = 1`` included) has ``std = 0`` (NaN for ``n = 1``) and the
    interval ``(x, x)``, without resampling and without warnings.
    """
    confidence = _check_confidence(confidence)
    rng_seed = _check_seed(rng_seed)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, numbers.Integral):
        raise TypeError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    array = _sample(values, name)
    finite = np.isfinite(array)
    x = array[finite]
    n, n_missing = int(x.size), int(array.size - x.size)
    if n == 0:
        raise ValueError(
            f"{name}: no finite value to summarize ({n_missing} NaN or infinite of {array.size})"
        )
    if np.all(x == x[0]):
        value = float(x[0])
        std = math.nan if n == 1 else 0.0
        return Summary(n, n_missing, value, std, value, value, value)
    low, high = _bootstrap_mean(x, rng_seed, confidence, int(n_resamples))
    return Summary(
        n=n,
        n_missing=n_missing,
        mean=float(np.mean(x)),
        std=float(np.std(x, ddof=1)),
        median=float(np.median(x)),
        ci_low=low,
        ci_high=high,
    )


def iterations_to_threshold(costs: np.ndarray, threshold: float) -> int | None:
    """The first iteration ``i`` with ``costs[i] < threshold``, or ``None`` if none is.

    ``costs[i]`` is the cost before the update of iteration ``i`` (the convention of
    :class:`initlab.fit.History`), so ``i`` is the number of updates it took. NaN costs
    (a diverged run) never count as below.
    """
    curve = _sample(costs, "costs")
    if not _is_real(threshold) or math.isnan(float(threshold)):
        raise ValueError(f"threshold must be a real number, got {threshold!r}")
    below = np.flatnonzero(curve < float(threshold))
    return int(below[0]) if below.size else None


def paired_comparison(a: np.ndarray, b: np.ndarray, *, rng_seed: int = 0) -> Paired:
    """Compare ``a`` and ``b`` measured on the same seeds (``a[i]`` and ``b[i]`` share
    seed ``i``): :class:`Paired` (win rate, mean difference with its bootstrap interval,
    Wilcoxon signed-rank p-value).

    Pairs where either value is NaN or infinite are left out and counted; with none left,
    or arrays of different lengths, ``ValueError``.
    """
    rng_seed = _check_seed(rng_seed)
    x, y = _sample(a, "a"), _sample(b, "b")
    if x.size != y.size:
        raise ValueError(f"a and b must pair up seed by seed: got lengths {x.size} and {y.size}")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n, n_dropped = int(x.size), int(keep.size - x.size)
    if n == 0:
        raise ValueError(f"no pair of finite values to compare ({n_dropped} pairs dropped)")
    d = x - y
    win_rate = (np.count_nonzero(x < y) + 0.5 * np.count_nonzero(x == y)) / n
    summary = summarize(d, rng_seed=rng_seed, name="a - b")
    p: float | None = None
    if n >= 2 and np.any(d != 0):
        p = float(scipy.stats.wilcoxon(x, y).pvalue)
    return Paired(
        n=n,
        n_dropped=n_dropped,
        win_rate=float(win_rate),
        mean_difference=summary.mean,
        ci_low=summary.ci_low,
        ci_high=summary.ci_high,
        wilcoxon_p=p,
    )


SUMMARY_FIELDS = ("n", "n_missing", "mean", "std", "median", "ci_low", "ci_high")


def _diverged(frame: pd.DataFrame) -> np.ndarray:
    """Which runs diverged: ``diverged_at`` set, else a status starting ``diverged``."""
    if "diverged_at" in frame.columns:
        return frame["diverged_at"].notna().to_numpy()
    if "status" in frame.columns:
        return frame["status"].astype(str).str.startswith("diverged").to_numpy()
    return np.zeros(len(frame), dtype=bool)


def group_summary(
    frame: pd.DataFrame,
    by: Sequence[str],
    metrics: Sequence[str],
    *,
    rng_seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """:func:`summarize` each metric within each group of runs.

    ``frame`` has one row per run (:meth:`initlab.sweep.Store.frame`); ``by`` names the
    columns whose values define the groups (none: one group of every run; missing values
    form groups of their own). The result has one row per group, sorted by the group
    values: the ``by`` columns, ``runs`` (the group's size), ``fraction_diverged``
    (the fraction of its runs with a ``diverged_at``, or, without that column, a status
    starting with ``diverged``), and for each metric ``M`` the columns ``M_n``,
    ``M_n_missing``, ``M_mean``, ``M_std``, ``M_median``, ``M_ci_low``, ``M_ci_high``
    (:class:`Summary`). A group where a metric has no finite value gets ``M_n = 0`` and
    NaN statistics for it (its runs all diverged) rather than an error.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    by, metrics = _names(by, "by"), _names(metrics, "metrics")
    for column in (*by, *metrics):
        if column not in frame.columns:
            raise ValueError(
                f"no column {column!r} in the runs table; columns: "
                f"{', '.join(map(str, frame.columns))}"
            )
    values = {}
    for metric in metrics:
        try:
            values[metric] = pd.to_numeric(frame[metric], errors="raise").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
        except (TypeError, ValueError):
            raise ValueError(f"metric {metric!r} must hold numbers") from None
    diverged = _diverged(frame)
    if by:
        groups = frame.groupby(list(by), dropna=False, sort=True).indices
        keys = list(groups)
    else:
        groups = {(): np.arange(len(frame))}
        keys = [()]
    rows = []
    for key in keys:
        index = groups[key]
        key_tuple = key if isinstance(key, tuple) else (key,)
        row: dict[str, object] = dict(zip(by, key_tuple, strict=True))
        row["runs"] = len(index)
        row["fraction_diverged"] = float(np.mean(diverged[index])) if len(index) else math.nan
        for metric in metrics:
            sample = values[metric][index]
            if np.isfinite(sample).any():
                summary = summarize(sample, rng_seed=rng_seed, confidence=confidence, name=metric)
                stats = {f: getattr(summary, f) for f in SUMMARY_FIELDS}
            else:
                stats = dict.fromkeys(SUMMARY_FIELDS, math.nan)
                stats["n"], stats["n_missing"] = 0, len(index)
            for field_name, value in stats.items():
                row[f"{metric}_{field_name}"] = value
        rows.append(row)
    columns = [*by, "runs", "fraction_diverged"] + [
        f"{metric}_{f}" for metric in metrics for f in SUMMARY_FIELDS
    ]
    return pd.DataFrame(rows, columns=columns)


def _names(names: Sequence[str], what: str) -> list[str]:
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"{what} must be a sequence of column names, got {names!r}")
    return list(names)
