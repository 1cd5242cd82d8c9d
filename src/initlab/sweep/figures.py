"""Figures of a comparison; each function draws on the ``ax`` it is given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from initlab.sweep.summary import mean_curve

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "comparison_figure",
    "plot_distributions",
    "plot_heatmap",
    "plot_mean_costs",
    "sweep_figure",
]


def plot_distributions(ax: Axes, values: Mapping[str, np.ndarray], metric: str) -> None:
    """One column of points per initialization (jittered, a run each) with its median as a
    bar; diverged runs (NaN) are left out and counted in the label."""
    rng = np.random.default_rng(0)  # the jitter only: the same picture every time
    for i, (_init, vals) in enumerate(values.items()):
        finite = vals[np.isfinite(vals)]
        x = i + rng.uniform(-0.18, 0.18, finite.size)
        ax.scatter(x, finite, s=9, alpha=0.55, color=f"C{i}", edgecolors="none")
        if finite.size:
            ax.hlines(np.median(finite), i - 0.3, i + 0.3, color="black", linewidth=1.5)
    labels = [
        f"{init}\n({np.isnan(vals).sum()} diverged)" if np.isnan(vals).any() else init
        for init, vals in values.items()
    ]
    ax.set_xticks(range(len(values)), labels)
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(f"{metric.replace('_', ' ')} per run (bar: median)")


def plot_mean_costs(ax: Axes, curves: Mapping[str, np.ndarray]) -> None:
    """The mean cost curve of each initialization with its 95% band, log-scaled updates
    (over the runs still finite at each update; the legend counts the diverged runs)."""
    for i, (init, runs) in enumerate(curves.items()):
        mean, low, high, n = mean_curve(runs)
        x = np.arange(1, mean.size + 1)
        ok = (n > 0) & np.isfinite(mean)
        diverged = int((~np.isfinite(runs[:, -1])).sum()) if runs.size else 0
        label = f"{init} ({runs.shape[0]} runs" + (f", {diverged} diverged)" if diverged else ")")
        if not ok.any():
            label += ": no finite cost to draw"
        ax.plot(x[ok], mean[ok], color=f"C{i}", label=label)
        ax.fill_between(x[ok], low[ok], high[ok], color=f"C{i}", alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("update (+1, log scale)")
    ax.set_ylabel("mean cost")
    ax.set_title("mean cost with 95% band")
    ax.legend(fontsize="small")


def comparison_figure(
    values: Mapping[str, np.ndarray], curves: Mapping[str, np.ndarray], metrics: Sequence[str]
) -> Figure:
    """The distributions of ``metrics`` and the mean cost curves, side by side."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2 * (len(metrics) + 1), 4.4), layout="constrained")
    axes = fig.subplots(1, len(metrics) + 1)
    for ax, metric in zip(axes[:-1], metrics, strict=True):
        plot_distributions(ax, {init: v[metric] for init, v in values.items()}, metric)
    plot_mean_costs(axes[-1], curves)
    return fig


def _label(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def plot_heatmap(
    ax: Axes,
    xs: Sequence[object],
    ys: Sequence[object],
    table: np.ndarray,
    *,
    x_name: str,
    y_name: str,
    title: str,
    log: bool = False,
    limits: tuple[float, float] | None = None,
) -> None:
    """``table[j, i]`` (rows: ``ys``, columns: ``xs``) as coloured cells, each annotated
    with its value (``-``: no finite value); a logarithmic colour scale with ``log``
    (when every finite value is positive), fixed colour ``limits`` if given."""
    from matplotlib.colors import LogNorm, Normalize

    finite = table[np.isfinite(table)]
    low, high = (
        limits
        if limits is not None
        else ((float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0))
    )
    if log and finite.size and low > 0:
        norm: Normalize = LogNorm(low, max(high, low * (1 + 1e-12)))
    else:
        norm = Normalize(low, high if high > low else low + 1)
    image = ax.imshow(np.ma.masked_invalid(table), norm=norm, cmap="viridis", aspect="auto")
    for j in range(table.shape[0]):
        for i in range(table.shape[1]):
            value = table[j, i]
            text = "-" if not np.isfinite(value) else f"{value:.3g}"
            dark = np.isfinite(value) and norm(value) < 0.5
            ax.text(i, j, text, ha="center", va="center", fontsize="small",
                    color="white" if dark else "black")  # fmt: skip
    ax.set_xticks(range(len(xs)), [_label(v) for v in xs], rotation=30, ha="right")
    ax.set_yticks(range(len(ys)), [_label(v) for v in ys])
    ax.set_xlabel(x_name.replace("_", " "))
    ax.set_ylabel(y_name.replace("_", " "))
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax)


def sweep_figure(frame: object, x: str, y: str, threshold: float | None = None) -> Figure:
    """Two heatmaps over the swept settings ``x`` and ``y`` (every other setting pooled):
    the median final cost (log colours) and, with ``threshold``, the fraction of runs
    whose cost fell below it (else the fraction diverged)."""
    from matplotlib.figure import Figure

    from initlab.sweep.summary import grid_values, with_threshold

    frame = with_threshold(frame, threshold)
    fig = Figure(figsize=(12, 4.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    xs, ys, cost = grid_values(frame, x, y, "final_cost")
    plot_heatmap(left, xs, ys, cost, x_name=x, y_name=y, title="median final cost", log=True)
    if threshold is not None:
        column, title = "reached", f"fraction trained (cost < {threshold:g})"
    else:
        column, title = "diverged", "fraction diverged"
    frame = frame.assign(**{column: frame[column].astype(float)})
    xs, ys, share = grid_values(frame, x, y, column, reduce="mean")
    plot_heatmap(right, xs, ys, share, x_name=x, y_name=y, title=title, limits=(0.0, 1.0))
    return fig
