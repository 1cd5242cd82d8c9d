"""Figures. Every plotting function draws on an ``ax`` it is given and returns it;
figure builders return a :class:`matplotlib.figure.Figure`. Nothing here calls
``show()`` or touches pyplot's global state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from initlab.experiments.course import CourseResult, CourseRun
    from initlab.experiments.train import TrainResult
    from initlab.network import Network

__all__ = [
    "boundary_figure",
    "class_colours",
    "course_boundary_figure",
    "course_cost_figure",
    "decision_grid",
    "new_figure",
    "plot_cost_curves",
    "plot_decision_boundary",
    "train_boundary_figure",
    "train_cost_figure",
]

# Two colours for the two classes (class 0 red, class 1 blue, as the course's Spectral map).
CLASS_COLOURS = ListedColormap(["#d7301f", "#2b83ba"])
REGION_COLOURS = ListedColormap(["#fcbba1", "#c6dbef"])


def plot_cost_curves(
    ax: Axes,
    curves: Sequence[tuple[str, np.ndarray]],
    *,
    title: str = "",
    log_scale: bool = True,
    xlabel: str = "iteration",
    ylabel: str = "cost (binary cross-entropy)",
) -> Axes:
    """Draw one cost curve per ``(label, costs)``; ``costs[i]`` is the cost at iteration ``i``."""
    for label, costs in curves:
        costs = np.asarray(costs, dtype=float)
        shown = np.where(np.isfinite(costs), costs, np.nan)  # a diverged run's last cost is inf
        ax.plot(np.arange(costs.size), shown, label=label, linewidth=1.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_scale:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return ax


def decision_grid(
    X: np.ndarray, margin: float = 1.0, step: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """A mesh covering the 2-D points ``X`` (shape ``(2, m)``) plus ``margin``."""
    x_min, x_max = X[0].min() - margin, X[0].max() + margin
    y_min, y_max = X[1].min() - margin, X[1].max() + margin
    return np.meshgrid(np.arange(x_min, x_max, step), np.arange(y_min, y_max, step))


def plot_decision_boundary(
    ax: Axes,
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    *,
    title: str = "",
    limits: tuple[float, float] | None = (-1.5, 1.5),
    step: float = 0.01,
    n_classes: int = 2,
    margin: float = 1.0,
) -> Axes:
    """Shade the regions ``predict`` assigns to each class, then draw the points on top.

    ``predict`` maps an array of shape ``(2, k)`` to labels of shape ``(1, k)`` or ``(k,)``,
    with values ``0..n_classes-1``. ``limits=None`` keeps the mesh's extent (the
    points plus ``margin``).
    """
    xx, yy = decision_grid(X, margin=margin, step=step)
    labels = np.asarray(predict(np.vstack([xx.ravel(), yy.ravel()]))).reshape(xx.shape)
    points, regions = class_colours(n_classes)
    levels = np.arange(n_classes + 1) - 0.5
    ax.contourf(xx, yy, labels, levels=levels, cmap=regions)
    ax.scatter(
        X[0],
        X[1],
        c=np.ravel(Y),
        cmap=points,
        vmin=-0.5 if n_classes > 2 else 0,
        vmax=n_classes - 0.5 if n_classes > 2 else 1,
        s=12,
        edgecolors="k",
        linewidths=0.3,
    )
    if limits is not None:
        ax.set_xlim(limits)
        ax.set_ylim(limits)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax


def class_colours(n_classes: int) -> tuple[ListedColormap, ListedColormap]:
    """Point and region colour maps: the course's red/blue for 2 classes, tab10/tab20 beyond."""
    if n_classes <= 2:
        return CLASS_COLOURS, REGION_COLOURS
    base = matplotlib.colormaps["tab10" if n_classes <= 10 else "tab20"]
    colours = [base(i % base.N) for i in range(n_classes)]
    light = [(*(0.6 + 0.4 * np.array(c[:3])), 1.0) for c in colours]
    return ListedColormap(colours), ListedColormap(light)


def new_figure(
    ncols: int = 1, width: float = 6.0, height: float = 4.0
) -> tuple[Figure, list[Axes]]:
    """A pyplot-free figure with ``ncols`` axes side by side."""
    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def course_cost_figure(result: CourseResult) -> Figure:
    """All initializations' cost curves on one chart."""
    fig, (ax,) = new_figure(width=7.0, height=4.5)
    curves = [(run.init, run.history.costs) for run in result.runs]
    lr = result.config.learning_rate
    plot_cost_curves(ax, curves, title=f"Cost during training (learning rate {lr:g})")
    return fig


def course_boundary_figure(result: CourseResult) -> Figure:
    """One decision-boundary panel per initialization, training points on top."""
    data = result.dataset
    return boundary_figure(result.config.network, result.runs, data.X_train, data.Y_train)


def boundary_figure(
    network: Network,
    runs: Sequence[CourseRun],
    X: np.ndarray,
    Y: np.ndarray,
    *,
    n_classes: int = 2,
    limits: tuple[float, float] | None = (-1.5, 1.5),
    step: float = 0.01,
    margin: float = 1.0,
) -> Figure:
    """One decision-boundary panel per run (its ``init``, ``params`` and scores), ``X`` on top."""
    from initlab.network import predict

    fig, axes = new_figure(ncols=len(runs), width=4.2, height=4.4)
    for ax, run in zip(axes, runs, strict=True):
        if run.diverged:
            title = f"Model with {run.init} initialization (diverged)"
        else:
            title = (
                f"Model with {run.init} initialization\n"
                f"train {run.train_accuracy:.3f}, test {run.test_accuracy:.3f}"
            )
        with np.errstate(all="ignore"):
            plot_decision_boundary(
                ax,
                lambda G, p=run.params: predict(network, p, G),
                X,
                Y,
                title=title,
                limits=limits,
                step=step,
                n_classes=n_classes,
                margin=margin,
            )
    return fig


def train_cost_figure(result: TrainResult) -> Figure:
    """The cost curves of an ``initlab train`` comparison, one per initialization."""
    fig, (ax,) = new_figure(width=7.0, height=4.5)
    setup = result.setup
    curves = [(run.init, run.history.costs) for run in result.runs]
    full = setup.batch_size == setup.dataset.X_train.shape[1]
    batch = "full batch" if full else f"batches of {setup.batch_size}"
    optimizer = setup.optimizer
    title = f"Cost during training ({optimizer.name}, lr {optimizer.learning_rate:g}, {batch})"
    plot_cost_curves(ax, curves, title=title, xlabel="update", ylabel="cost (cross-entropy)")
    return fig


def train_boundary_figure(result: TrainResult) -> Figure:
    """Decision boundaries of a 2-D ``initlab train`` comparison, the mesh fitted to the data."""
    data = result.dataset
    span = float(np.ptp(data.X_train, axis=1).max()) or 1.0
    margin = 0.1 * span
    return boundary_figure(
        result.setup.network,
        result.runs,
        data.X_train,
        data.Y_train,
        n_classes=data.n_classes,
        limits=None,
        step=(span + 2 * margin) / 300,
        margin=margin,
    )
