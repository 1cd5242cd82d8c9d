"""Figures of per-layer statistics over training. Each ``plot_*`` function draws on the
``ax`` it is given and returns it (never ``show()``); :func:`training_figures` builds
``initlab diagnose --iterations N``'s three figures from its result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm

from initlab.diagnostics.histograms import LayerHistogram
from initlab.diagnostics.stats import check_statistic

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from initlab.experiments.diagnose import DiagnoseResult

__all__ = [
    "MAX_HISTOGRAM_LAYERS",
    "plot_histograms_over_time",
    "plot_layer_heatmap",
    "plot_layer_lines",
    "shown_layers",
    "training_figures",
]

#: at most this many layers get a row of histograms (evenly spread, first and last kept)
MAX_HISTOGRAM_LAYERS = 6


def _positive(values: np.ndarray) -> np.ndarray:
    values = np.array(values, dtype=float)
    values[~(np.isfinite(values) & (values > 0))] = np.nan
    return values


def _nothing_to_draw(ax: Axes, title: str, xlabel: str, ylabel: str) -> Axes:
    """An empty panel that says why: every value 0 or non-finite (the zeros initialization)."""
    ax.text(0.5, 0.5, "0 or non-finite at every layer and update:\nnothing to draw on a log scale",
            ha="center", va="center", transform=ax.transAxes, fontsize="small")  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def plot_layer_heatmap(
    ax: Axes, values: np.ndarray, updates: Sequence[int], *, label: str, title: str = ""
) -> Axes:
    """``values[l, k]`` (layer ``l + 1`` at snapshot ``updates[k]``) as a heatmap on a log
    colour scale, one column per snapshot (labelled by its update); zero or non-finite
    cells are left blank."""
    shown = _positive(values)
    finite = shown[np.isfinite(shown)]
    if not finite.size:
        return _nothing_to_draw(ax, title, "update (snapshot)", "layer")
    norm = LogNorm(vmin=finite.min(), vmax=finite.max()) if finite.size else None
    mesh = ax.imshow(shown, aspect="auto", origin="lower", norm=norm, cmap="viridis",
                     interpolation="nearest")  # fmt: skip
    ax.figure.colorbar(mesh, ax=ax, label=label)
    ax.set_xticks(range(len(updates)), [str(u) for u in updates], rotation=60, fontsize="small")
    depth = shown.shape[0]
    ticks = np.unique(np.linspace(0, depth - 1, min(depth, 8)).round().astype(int))
    ax.set_yticks(ticks, [str(t + 1) for t in ticks])
    ax.set_xlabel("update (snapshot)")
    ax.set_ylabel("layer")
    ax.set_title(title)
    return ax


def plot_layer_lines(
    ax: Axes, values: np.ndarray, updates: Sequence[int], *, ylabel: str, title: str = ""
) -> Axes:
    """One line per layer (colour from the first layer, dark, to the last, light) of
    ``values[l, k]`` against the snapshot update, both axes logarithmic (update 0 on a
    linear stretch)."""
    shown = _positive(values)
    depth = shown.shape[0]
    if not np.isfinite(shown).any():
        return _nothing_to_draw(ax, title, "update", ylabel)
    colours = [_colormap()(x) for x in np.linspace(0.0, 0.9, depth)]
    x = np.asarray(updates, dtype=float)
    for l in range(depth):
        label = f"layer {l + 1}" if depth <= 8 or l in (0, depth - 1) else None
        ax.plot(x, shown[l], marker=".", color=colours[l], linewidth=1, label=label)
    ax.set_xscale("symlog", linthresh=1)
    ax.set_yscale("log")
    ax.set_xlabel("update")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small")
    return ax


def _colormap():  # type: ignore[no-untyped-def]
    """The colour map of the lines drawn from first to last (layer or snapshot)."""
    import matplotlib

    return matplotlib.colormaps["viridis"]


def plot_histograms_over_time(
    ax: Axes, histograms: Sequence[LayerHistogram], updates: Sequence[int], *, title: str = ""
) -> Axes:
    """One layer's output histograms at each snapshot, as density step lines coloured from
    the first snapshot (dark) to the last (light)."""
    colours = [_colormap()(x) for x in np.linspace(0.0, 0.9, max(len(updates), 1))]
    for k, (hist, update) in enumerate(zip(histograms, updates, strict=True)):
        first, last = k == 0, k == len(updates) - 1
        ax.stairs(hist.density, hist.edges, color=colours[k], linewidth=1,
                  label=f"update {update}" if first or last else None)  # fmt: skip
    ax.set_title(title, fontsize="small")
    ax.set_ylabel("density", fontsize="small")
    ax.tick_params(labelsize="x-small")
    ax.legend(fontsize="x-small")
    return ax


def shown_layers(depth: int, limit: int = MAX_HISTOGRAM_LAYERS) -> list[int]:
    """At most ``limit`` layer indices (from 0) of ``depth``, evenly spread, first and last."""
    spread = np.linspace(0, depth - 1, min(depth, limit)).round().astype(int)
    return sorted(set(spread.tolist()))


def training_figures(result: DiagnoseResult, heatmap: str = "a_std") -> dict[str, Figure]:
    """``{"activation_std": ..., "gradient_norms": ..., "histograms": ...}``: for every
    initializer (a column each), the heatmap of the statistic ``heatmap`` (default: the
    activation std; any of :data:`~initlab.diagnostics.stats.LAYER_STATISTICS`) over layer x update,
    the weight-gradient norm of each layer over the updates, and the output histograms of
    up to :data:`MAX_HISTOGRAM_LAYERS` layers over the updates.

    Raises:
        ValueError: for a result without training snapshots, or an unknown statistic
            (naming the closest).
    """
    from matplotlib.figure import Figure

    check_statistic(heatmap)
    if not result.trained:
        raise ValueError("the diagnosis has no training snapshots (run it with snapshots)")
    updates = result.snapshot_at
    columns = len(result.diagnoses)
    width = 4.6 * columns + 0.8
    std_fig = Figure(figsize=(width, 4.2), layout="constrained")
    grad_fig = Figure(figsize=(width, 4.2), layout="constrained")
    std_axes = np.atleast_1d(std_fig.subplots(1, columns))
    grad_axes = np.atleast_1d(grad_fig.subplots(1, columns))
    depth = result.setup.network.depth
    rows = shown_layers(depth)
    hist_fig = Figure(figsize=(3.6 * columns + 0.5, 2.1 * len(rows) + 0.6), layout="constrained")
    hist_axes = np.array(hist_fig.subplots(len(rows), columns, squeeze=False))
    for j, diagnosis in enumerate(result.diagnoses):
        snaps = diagnosis.snapshots
        shown = np.array([s.statistics.statistic(heatmap) for s in snaps]).T
        grads = np.array([s.statistics.grad_w_norm for s in snaps]).T
        label = "std of the activations a" if heatmap == "a_std" else heatmap
        plot_layer_heatmap(std_axes[j], shown, updates, label=label,
                           title=diagnosis.init)  # fmt: skip
        plot_layer_lines(grad_axes[j], grads, updates, ylabel="||dJ/dW|| per layer",
                         title=diagnosis.init)  # fmt: skip
        for i, l in enumerate(rows):
            plot_histograms_over_time(hist_axes[i, j], [s.histograms[l] for s in snaps], updates,
                                      title=f"{diagnosis.init}: layer {l + 1}")  # fmt: skip
    what = "Activation std" if heatmap == "a_std" else heatmap
    std_fig.suptitle(f"{what} over training (layer x update)")
    grad_fig.suptitle("Weight-gradient norm per layer over training")
    hist_fig.suptitle("Layer outputs over training")
    return {"activation_std": std_fig, "gradient_norms": grad_fig, "histograms": hist_fig}
