"""Figures. Every plotting function draws on an ``ax`` it is given and returns it;
figure builders return a :class:`matplotlib.figure.Figure`. Nothing here calls
``show()`` or touches pyplot's global state.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import LogFormatterSciNotation, MaxNLocator

from initlab.runs import EXPLOSION_FACTOR as _RESULTS_EXPLOSION_FACTOR

if TYPE_CHECKING:
    from initlab.experiments.diagnose import DiagnoseResult
    from initlab.experiments.train import TrainResult
    from initlab.network import Network
    from initlab.runs import Run

__all__ = [
    "EXPLOSION_FACTOR",
    "MAX_PANELS_PER_ROW",
    "boundary_figure",
    "class_colours",
    "cost_figure",
    "cost_limits",
    "decision_boundary_figure",
    "decision_grid",
    "divergence_index",
    "ema",
    "explosion_index",
    "figure_bytes",
    "grid_labels",
    "grid_shape",
    "healthy_mask",
    "layer_std_figure",
    "log_yscale",
    "new_figure",
    "panel_title",
    "plot_cost_curves",
    "plot_decision_boundary",
    "plot_layer_std",
]

# Two colours for the two classes (class 0 red, class 1 blue, as the course's Spectral map).
CLASS_COLOURS = ListedColormap(["#d7301f", "#2b83ba"])
REGION_COLOURS = ListedColormap(["#fcbba1", "#c6dbef"])


#: a cost more than this many times the run's first cost is off the healthy range (the
#: factor of the results' "exploded" status, :data:`initlab.runs.EXPLOSION_FACTOR`)
EXPLOSION_FACTOR = _RESULTS_EXPLOSION_FACTOR
#: the panels per row of a decision-boundary figure
MAX_PANELS_PER_ROW = 3
#: the longest panel title line (characters) before a spec is wrapped or shortened
TITLE_WIDTH = 30
#: the longest legend line of a cost figure before it wraps
LEGEND_WIDTH = 40


#: the superscript of each character of an exponent
_SUPERSCRIPTS = str.maketrans("0123456789-+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺")
_MATHTEXT_LABEL = re.compile(r"^\$\\mathdefault\{(.*)\}\$$")
_POWER = re.compile(r"\^\{([-+]?\d+)\}")


def plain_power_label(label: str) -> str:
    """A log axis tick label of matplotlib's, ``$\\mathdefault{2\\times10^{-1}}$``, as plain
    text, ``2×10⁻¹``: the same number, with Unicode superscripts and minus sign."""
    match = _MATHTEXT_LABEL.match(label)
    if match is None:
        return label
    body = _POWER.sub(lambda power: power.group(1).translate(_SUPERSCRIPTS), match.group(1))
    return body.replace("\\times", "×").replace("-", "\N{MINUS SIGN}")


class PlainLogFormatter(LogFormatterSciNotation):
    """The labels of a log axis, the ticks and numbers matplotlib's own formatter gives
    (``10⁻¹``, ``2×10⁻¹``), written as plain text (:func:`plain_power_label`), so no
    figure parses TeX for them."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return plain_power_label(super().__call__(x, pos))


def log_yscale(ax: Axes) -> None:
    """Put the y-axis of ``ax`` on a base-10 log scale, its labels (the ticks and numbers
    of matplotlib's own log scale) written by :class:`PlainLogFormatter`."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(PlainLogFormatter())
    ax.yaxis.set_minor_formatter(PlainLogFormatter(labelOnlyBase=False))


def explosion_index(costs: np.ndarray, factor: float = EXPLOSION_FACTOR) -> int | None:
    """The first iteration whose (finite) cost exceeds ``factor`` times the first cost.

    ``None`` when the cost never grows that far (a non-finite cost is a
    divergence, not an explosion: see :func:`divergence_index`).
    """
    costs = np.asarray(costs, dtype=float)
    if costs.size == 0 or not np.isfinite(costs[0]):
        return None
    threshold = factor * max(abs(float(costs[0])), np.finfo(float).tiny)
    hits = np.flatnonzero(np.isfinite(costs) & (costs > threshold))
    return int(hits[0]) if hits.size else None


def divergence_index(costs: np.ndarray) -> int | None:
    """The first iteration whose cost is not finite, or ``None``."""
    bad = np.flatnonzero(~np.isfinite(np.asarray(costs, dtype=float)))
    return int(bad[0]) if bad.size else None


def healthy_mask(costs: np.ndarray, factor: float = EXPLOSION_FACTOR) -> np.ndarray:
    """Which costs are healthy: finite and at most ``factor`` times the run's first cost.

    The others are drawn as gaps, so that a run swinging between 0.69 and
    1e299 every step does not paint the whole axes, and a run that spikes and
    recovers keeps the rest of its curve.
    """
    costs = np.asarray(costs, dtype=float)
    mask = np.isfinite(costs)
    if costs.size and np.isfinite(costs[0]):
        mask &= costs <= factor * max(abs(float(costs[0])), np.finfo(float).tiny)
    return mask


def cost_limits(
    curves: Sequence[np.ndarray], *, log_scale: bool = True, margin: float = 0.05
) -> tuple[float, float] | None:
    """The y-range showing the healthy costs (:func:`healthy_mask`) of every curve.

    The smallest and largest healthy cost over all curves, widened by
    ``margin`` of the span on each side (of ``log10`` of the costs on a log
    scale, where costs ``<= 0`` are left out). ``None`` when no curve has a
    healthy cost. The other costs are left out of the drawing and marked.
    """
    arrays = [np.asarray(c, dtype=float) for c in curves]
    pooled = np.concatenate([c[healthy_mask(c)] for c in arrays] or [np.empty(0)])
    if log_scale:
        pooled = pooled[pooled > 0]
    if pooled.size == 0:
        return None
    low, high = float(pooled.min()), float(pooled.max())
    if log_scale:
        a, b = np.log10(low), np.log10(high)
        pad = margin * (b - a) if b > a else 0.1
        return float(10 ** (a - pad)), float(10 ** (b + pad))
    pad = margin * (high - low) if high > low else max(abs(high), 1.0) * 0.1
    return low - pad, high + pad


def ema(values: np.ndarray, span: float) -> np.ndarray:
    """The exponential moving average ``s_k = (1 - a) s_(k-1) + a x_k``, ``a = 2 / (span + 1)``,
    bias-corrected as Adam's moments are: ``s_k / (1 - (1 - a)^k)`` after ``k`` values, with
    ``s_0 = 0``, so the first output is the first value. Non-finite values (gaps, a diverged
    run's last cost) are skipped: their output is ``nan`` and the average goes on after them."""
    values = np.asarray(values, dtype=float)
    if span < 1:
        raise ValueError(f"span must be >= 1, got {span!r}")
    a = 2.0 / (span + 1.0)
    out = np.full(values.shape, np.nan)
    state, seen = 0.0, 0
    for i, x in enumerate(values):
        if np.isfinite(x):
            seen += 1
            state = (1.0 - a) * state + a * x
            out[i] = state / (1.0 - (1.0 - a) ** seen)
    return out


def plot_cost_curves(
    ax: Axes,
    curves: Sequence[tuple[str, np.ndarray]],
    *,
    title: str = "",
    log_scale: bool = True,
    xlabel: str = "iteration",
    ylabel: str = "cost (binary cross-entropy)",
    smooth_span: float | None = None,
) -> Axes:
    """Draw one cost curve per ``(label, costs)``; ``costs[i]`` is the cost at iteration ``i``.

    Only the healthy costs of each curve are drawn and set the y-range
    (:func:`healthy_mask`, :func:`cost_limits`); a run that exploded (a cost
    beyond :data:`EXPLOSION_FACTOR` times its first) gets a triangle at the
    top edge where it first did, a diverged run (non-finite cost) a cross, and
    its legend entry says where (and how high) it went. With ``smooth_span`` (noisy
    minibatch costs) each raw curve is drawn faint and its :func:`ema` over it
    (on a log scale, the EMA of ``log(cost)``: a geometric moving average).
    """
    arrays = [np.asarray(costs, dtype=float) for _, costs in curves]
    limits = cost_limits(arrays, log_scale=log_scale)
    if log_scale:
        log_yscale(ax)
    if limits is not None:
        ax.set_ylim(limits)
    top = ax.get_ylim()[1]
    for (label, _), costs in zip(curves, arrays, strict=True):
        exploded, diverged = explosion_index(costs), divergence_index(costs)
        if exploded is not None:
            label = f"{label} (exploded at {exploded}: cost {costs[exploded]:.2g})"
        elif diverged is not None:
            label = f"{label} (diverged at {diverged})"
        # only the healthy costs are drawn, the others are gaps (see healthy_mask)
        shown = np.where(healthy_mask(costs), costs, np.nan)
        steps = np.arange(shown.size)
        end = shown.size if diverged is None else diverged
        gaps = bool(np.isnan(shown[:end]).any())
        dots = "o" if np.isfinite(shown).sum() <= 30 else ("." if gaps else None)
        if smooth_span is not None:
            (raw,) = ax.plot(steps, shown, linewidth=0.8, alpha=0.25, marker=dots, ms=2)
            colour = raw.get_color()
            if log_scale:  # averaged in log space, as the axis shows it: a spike fades fast
                with np.errstate(divide="ignore"):
                    smooth = np.exp(
                        ema(np.log(np.maximum(shown, np.finfo(float).tiny)), smooth_span)
                    )
            else:
                smooth = ema(shown, smooth_span)
            ax.plot(steps, smooth, color=colour, label=label, linewidth=1.6)
        else:
            (line,) = ax.plot(steps, shown, label=label, linewidth=1.5, marker=dots, ms=2)
            colour = line.get_color()
        for at, marker in ((exploded, "^"), (diverged, "X")):
            if at is not None:  # at the top edge: the cost there is off the chart
                ax.plot([at], [top], marker=marker, color=colour, markersize=9, clip_on=False,
                        markeredgecolor="k", linestyle="none")  # fmt: skip
    longest = max((c.size for c in arrays), default=1)
    ax.set_xlim(0, max(longest - 1, 1))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    legend_title = None if smooth_span is None else "faint: each minibatch; line: its EMA"
    handles, labels = ax.get_legend_handles_labels()
    labels = [textwrap.fill(label, LEGEND_WIDTH) for label in labels]
    if len(labels) <= 3 and all(len(label) <= LEGEND_WIDTH for label in labels):
        ax.legend(handles, labels, title=legend_title, fontsize=9, title_fontsize=9)
    else:  # many or long labels: beside the axes, never over the curves
        ax.legend(handles, labels, title=legend_title, fontsize=8, title_fontsize=8,
                  loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)  # fmt: skip
    return ax


def decision_grid(
    X: np.ndarray, margin: float = 1.0, step: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """A mesh covering the 2-D points ``X`` (shape ``(2, m)``) plus ``margin``."""
    x_min, x_max = X[0].min() - margin, X[0].max() + margin
    y_min, y_max = X[1].min() - margin, X[1].max() + margin
    return np.meshgrid(np.arange(x_min, x_max, step), np.arange(y_min, y_max, step))


#: the mesh nodes :func:`grid_labels` hands to ``predict`` at once: few enough that a
#: network's intermediate arrays stay in the CPU cache (8x faster than the whole mesh)
GRID_CHUNK = 4096


def grid_labels(
    predict: Callable[[np.ndarray], np.ndarray], xx: np.ndarray, yy: np.ndarray
) -> np.ndarray:
    """The label ``predict`` gives every node ``(xx[i, j], yy[i, j])`` of a mesh, shape
    ``xx.shape``; ``predict`` gets the nodes as columns, :data:`GRID_CHUNK` at a time."""
    nodes = np.vstack([xx.ravel(), yy.ravel()])
    chunks = [
        np.ravel(predict(nodes[:, start : start + GRID_CHUNK]))
        for start in range(0, nodes.shape[1], GRID_CHUNK)
    ]
    return np.concatenate(chunks).reshape(xx.shape)


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
    with values ``0..n_classes-1``; it is called on the mesh of :func:`decision_grid` in
    chunks (:func:`grid_labels`). Each mesh node's label colours the ``step`` x ``step``
    cell around it. ``limits=None`` keeps the mesh's extent (the points plus ``margin``).
    """
    xx, yy = decision_grid(X, margin=margin, step=step)
    labels = grid_labels(predict, xx, yy)
    points, regions = class_colours(n_classes)
    half = step / 2
    ax.imshow(
        labels,
        cmap=regions,
        vmin=-0.5,
        vmax=n_classes - 0.5,
        origin="lower",
        interpolation="nearest",
        extent=(xx[0, 0] - half, xx[0, -1] + half, yy[0, 0] - half, yy[-1, 0] + half),
    )
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


def grid_shape(n: int, max_cols: int = MAX_PANELS_PER_ROW) -> tuple[int, int]:
    """``(rows, cols)`` for ``n`` panels: at most ``max_cols`` per row, as few rows as
    possible, ``rows = ceil(n / cols)`` with ``cols = min(n, max_cols)``."""
    if n < 1 or max_cols < 1:
        raise ValueError(f"need at least one panel and one column, got n={n}, max_cols={max_cols}")
    cols = min(n, max_cols)
    return -(-n // cols), cols


def _title_pieces(spec: str) -> list[str]:
    """``spec`` cut after every ``(`` and ``,``: the places a title may wrap."""
    return [piece for piece in re.split(r"(?<=[(,])", spec) if piece]


def panel_title(spec: str, width: int = TITLE_WIDTH, max_lines: int = 2) -> tuple[str, bool]:
    """A decision-boundary panel's title for the initializer ``spec``: ``(text, shortened)``.

    A spec of at most ``width`` characters is kept; a longer one wraps after
    its ``(`` and commas into at most ``max_lines`` lines of at most ``width``
    characters; one that still does not fit is shortened to ``name(...)``
    (``shortened`` is then true and the figure gives the full spec in a legend).
    """
    if len(spec) <= width:
        return spec, False
    lines: list[str] = []
    for piece in _title_pieces(spec):
        if lines and len(lines[-1]) + len(piece) <= width:
            lines[-1] += piece
        else:
            lines.append(piece.lstrip())
    if len(lines) <= max_lines and all(len(line) <= width for line in lines):
        return "\n".join(lines), False
    name = spec.split("(", 1)[0]
    short = f"{name}(...)" if "(" in spec else name
    if len(short) > width:
        short = short[: width - 3] + "..."
    return short, True


def figure_bytes(fig: Figure, format: str = "png", dpi: float = 110) -> bytes:
    """``fig`` saved in ``format`` at ``dpi``, as :meth:`Figure.savefig` saves it, with its
    layout engine (the constrained layout of :func:`new_figure`) run once.

    ``savefig`` lays a figure with a layout engine out in a whole draw that renders
    nothing, then draws it again; here the engine places the axes at ``dpi`` and is then
    taken off (``fig`` keeps that layout), so the figure is drawn once.
    """
    engine = fig.get_layout_engine()
    if engine is not None:
        fig.set_dpi(dpi)
        engine.execute(fig)
        fig.set_layout_engine(None)  # no engine (unless rcParams ask for one everywhere)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=format, dpi=dpi)
    return buffer.getvalue()


def new_figure(
    ncols: int = 1, width: float = 6.0, height: float = 4.0, nrows: int = 1
) -> tuple[Figure, list[Axes]]:
    """A pyplot-free figure with an ``nrows`` x ``ncols`` grid of axes, row by row."""
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    return fig, list(axes)


def _network_label(network: Network) -> str:
    activations = ", ".join(dict.fromkeys(network.activations)) or "linear"
    return f"{list(network.layer_sizes)} {activations} -> {network.output}"


def boundary_figure(
    network: Network,
    runs: Sequence[Run],
    X: np.ndarray,
    Y: np.ndarray,
    *,
    n_classes: int = 2,
    limits: tuple[float, float] | None = (-1.5, 1.5),
    step: float = 0.01,
    margin: float = 1.0,
    class_names: Sequence[object] | None = None,
) -> Figure:
    """One decision-boundary panel per run (its ``init``, ``params`` and scores), ``X`` on top.

    Panels go in a grid of at most :data:`MAX_PANELS_PER_ROW` per row
    (:func:`grid_shape`), titled by :func:`panel_title`; a legend below names
    the classes (the dots are the training points ``X``, the shading the
    predicted class) and gives the full spec of any shortened title.
    """
    from initlab.network import predict

    rows, cols = grid_shape(len(runs))
    fig, axes = new_figure(ncols=cols, nrows=rows, width=4.2, height=4.6)
    fig.set_figheight(4.6 * rows + 0.9)  # and a row for the legend below
    notes = []
    for ax, run in zip(axes, runs, strict=False):
        name, shortened = panel_title(run.init)
        if shortened:
            notes.append(run.init)
            name = f"{name} [{len(notes)}]"
        if run.diverged:
            scores = "diverged"
        else:
            scores = f"train {run.train_accuracy:.3f}, test {run.test_accuracy:.3f}"
        with np.errstate(all="ignore"):
            plot_decision_boundary(
                ax,
                lambda G, p=run.params: predict(network, p, G),
                X,
                Y,
                title=f"{name}\n{scores}",
                limits=limits,
                step=step,
                n_classes=n_classes,
                margin=margin,
            )
    for ax in axes[len(runs) :]:
        ax.remove()
    points, _ = class_colours(n_classes)
    names = list(class_names) if class_names is not None else list(range(n_classes))
    handles = [
        Line2D([], [], marker="o", linestyle="none", markersize=7, markeredgecolor="k",
               markeredgewidth=0.5, markerfacecolor=points(i if n_classes > 2 else float(i)),
               label=f"class {names[i]}")
        for i in range(n_classes)
    ]  # fmt: skip
    handles += [
        Line2D([], [], linestyle="none", label=f"[{k}] {textwrap.fill(spec, 90)}")
        for k, spec in enumerate(notes, start=1)
    ]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), 5) if not notes else 1,
        title="dots: training points, by class; shading: the class each model predicts",
        frameon=False,
    )
    return fig


def cost_figure(result: TrainResult) -> Figure:
    """The cost curves of a comparison (``initlab course``, ``initlab train``), one per
    initialization, on one chart.

    With minibatches each raw curve is faint and its exponential moving average
    (:func:`ema`, span: one epoch of updates, at least 10) is drawn over it.
    """
    fig, (ax,) = new_figure(width=7.0, height=4.5)
    setup = result.setup
    curves = [(run.init, run.history.costs) for run in result.runs]
    m = setup.dataset.X_train.shape[1]
    full = setup.batch_size == m
    batch = "full batch" if full else f"batches of {setup.batch_size}"
    optimizer = setup.optimizer
    title = (
        f"Cost on {setup.dataset.name}, {_network_label(setup.network)}\n"
        f"{optimizer.name}, learning rate {optimizer.learning_rate:g}, {batch}"
    )
    span = None if full else max(10.0, float(-(-m // setup.batch_size)))
    ylabel = "cost (cross-entropy)"
    plot_cost_curves(ax, curves, title=title, xlabel="update", ylabel=ylabel, smooth_span=span)
    return fig


def decision_boundary_figure(result: TrainResult) -> Figure:
    """Decision boundaries of a comparison on 2-D data, one panel per initialization, the
    mesh fitted to the data."""
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
        class_names=getattr(data, "classes", None) or None,
    )


def plot_layer_std(
    ax: Axes,
    curves: Sequence[tuple[str, Sequence[float], Sequence[float] | None]],
    *,
    title: str = "",
    ylabel: str = "std of the pre-activations z",
) -> Axes:
    """Per-layer standard deviations, one colour per ``(label, measured, predicted)``.

    ``measured[l]`` (solid, markers) and ``predicted[l]`` (dashed; ``None``: no
    prediction) are the values at layer ``l + 1``, on a log y-axis. A value that
    a log axis cannot show (0, non-finite) is left out, and the legend says so: a
    run whose every layer is 0 (the zeros initialization) keeps its legend entry.
    """
    log_yscale(ax)
    depth = 1
    for label, measured, predicted in curves:
        values = np.asarray(measured, dtype=float)
        depth = max(depth, values.size)
        layers = np.arange(1, values.size + 1)
        shown = np.isfinite(values) & (values > 0)
        off = ", ".join(str(layer) for layer in layers[~shown])
        name = label if shown.all() else f"{label} (layers {off}: std 0 or non-finite, not drawn)"
        (line,) = ax.plot(layers[shown], values[shown], marker="o", linewidth=1.5, label=name)
        if predicted is not None:
            theory = np.asarray(predicted, dtype=float)
            ok = np.isfinite(theory) & (theory > 0)
            steps = np.arange(1, theory.size + 1)
            ax.plot(steps[ok], theory[ok], linestyle="--", color=line.get_color(), linewidth=1.2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0.7, depth + 0.3)
    ax.set_xlabel("layer")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if any(predicted is not None for _, _, predicted in curves):
        handles.append(Line2D([], [], color="0.3", linestyle="--"))
        labels.append("dashed: mean-field prediction")
    labels = [textwrap.fill(label, LEGEND_WIDTH) for label in labels]
    ax.legend(handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0),
              borderaxespad=0.0)  # fmt: skip
    return ax


def layer_std_figure(result: DiagnoseResult) -> Figure:
    """``initlab diagnose``'s chart: every initializer's per-layer std of ``z`` at
    initialization, measured (solid) and predicted by mean-field theory (dashed)."""
    fig, (ax,) = new_figure(width=8.0, height=4.5)
    curves = [
        (d.init, d.statistics.z_std, None if d.prediction is None else d.prediction.z_std)
        for d in result.diagnoses
    ]
    setup = result.setup
    title = (
        f"Pre-activation std at initialization\n{_network_label(setup.network)} on "
        f"{setup.dataset.name} ({result.samples} training samples)"
    )
    plot_layer_std(ax, curves, title=title)
    return fig


def plot_series(
    ax: Axes,
    curves: Sequence[tuple[str, Sequence[float], Sequence[float] | None]],
    *,
    title: str = "",
    xlabel: str = "iteration",
    ylabel: str = "",
) -> Axes:
    """Positive series against their index on a log y-axis, one colour per ``(label,
    values, _)``; values a log axis cannot show (0, non-finite) are left out and the
    legend says when a whole series is."""
    log_yscale(ax)
    for label, values, _ in curves:
        y = np.asarray(values, dtype=float)
        x = np.arange(y.size)
        shown = np.isfinite(y) & (y > 0)
        name = label if shown.any() else f"{label} (0 throughout: not drawn)"
        ax.plot(x[shown], y[shown], linewidth=1.2, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax
