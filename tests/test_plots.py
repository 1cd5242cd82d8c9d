"""Figure layout as data: the grid, the titles, the y-range from the healthy part, the legends."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.text import Text
from matplotlib.ticker import LogFormatterSciNotation
from PIL import Image

from initlab.experiments.course import course_config, run_course
from initlab.experiments.train import TrainConfig, run_train
from initlab.plots import (
    EXPLOSION_FACTOR,
    GRID_CHUNK,
    TITLE_WIDTH,
    PlainLogFormatter,
    class_colours,
    cost_figure,
    cost_limits,
    decision_boundary_figure,
    decision_grid,
    divergence_index,
    ema,
    explosion_index,
    figure_bytes,
    grid_labels,
    grid_shape,
    healthy_mask,
    new_figure,
    panel_title,
    plot_cost_curves,
    plot_decision_boundary,
)

ALTERNATING = np.array([0.69, 2.5e299] * 10)  # a zero-weight run at learning rate 1e300


@pytest.mark.parametrize(
    ("n", "shape"),
    [(1, (1, 1)), (2, (1, 2)), (3, (1, 3)), (4, (2, 3)), (6, (2, 3)), (7, (3, 3)), (10, (4, 3))],
)
def test_grid_shape(n: int, shape: tuple[int, int]) -> None:
    rows, cols = grid_shape(n)
    assert (rows, cols) == shape
    assert cols <= 3 and rows * cols >= n > (rows - 1) * cols


def test_grid_shape_refuses_no_panels() -> None:
    with pytest.raises(ValueError, match="n=0"):
        grid_shape(0)


def test_explosion_divergence_and_the_healthy_costs() -> None:
    assert EXPLOSION_FACTOR == 100.0  # the results' "exploded" status uses the same factor
    assert explosion_index(ALTERNATING) == 1 and divergence_index(ALTERNATING) is None
    np.testing.assert_array_equal(healthy_mask(ALTERNATING), [True, False] * 10)
    falling = np.linspace(0.7, 0.1, 50)
    assert explosion_index(falling) is None and healthy_mask(falling).all()
    diverged = np.array([0.7, 0.6, np.inf])
    assert explosion_index(diverged) is None and divergence_index(diverged) == 2
    np.testing.assert_array_equal(healthy_mask(diverged), [True, True, False])
    # a spike that recovers: only the spike is left out
    spike = np.array([1.0, 0.9, 500.0, 0.8, 0.7])
    assert explosion_index(spike) == 2
    np.testing.assert_array_equal(healthy_mask(spike), [True, True, False, True, True])
    # the threshold is EXPLOSION_FACTOR times the first cost, strictly above
    edge = np.array([2.0, 2.0 * EXPLOSION_FACTOR, 2.0 * EXPLOSION_FACTOR * 1.001])
    assert explosion_index(edge) == 2
    np.testing.assert_array_equal(healthy_mask(edge), [True, True, False])


def test_cost_limits_come_from_the_healthy_part() -> None:
    falling = np.geomspace(0.5, 0.05, 100)
    low, high = cost_limits([ALTERNATING, falling, np.array([0.8, np.inf])])
    a, b = np.log10(0.05), np.log10(0.8)  # healthy extremes: 0.05 (falling), 0.8 (diverged)
    pad = 0.05 * (b - a)
    assert low == pytest.approx(10 ** (a - pad), rel=1e-12)
    assert high == pytest.approx(10 ** (b + pad), rel=1e-12)
    assert high < 1.0  # 2.5e299 is nowhere near the range
    lin = cost_limits([np.array([1.0, 3.0])], log_scale=False)
    assert lin == pytest.approx((0.9, 3.1))
    assert cost_limits([np.array([np.inf])]) is None


def test_ema_is_the_bias_corrected_average() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 2.0, 40)
    span = 7.0
    a = 2 / (span + 1)
    expected = [
        sum(a * (1 - a) ** (i - k) * x[k] for k in range(i + 1)) / (1 - (1 - a) ** (i + 1))
        for i in range(x.size)
    ]
    np.testing.assert_allclose(ema(x, span), expected, rtol=1e-12)
    np.testing.assert_allclose(ema(np.full(5, 0.3), span), np.full(5, 0.3), rtol=1e-15)
    np.testing.assert_array_equal(ema(x, 1.0), x)  # span 1: a = 1, no smoothing
    gap = ema(np.array([1.0, 2.0, np.inf, 3.0, np.nan]), span)
    np.testing.assert_allclose(gap[[0, 1, 3]], ema(np.array([1.0, 2.0, 3.0]), span), rtol=1e-15)
    assert np.isnan(gap[[2, 4]]).all()
    with pytest.raises(ValueError, match="span must be >= 1"):
        ema(x, 0.5)


def test_plot_cost_curves_sets_the_healthy_range_and_marks_the_events() -> None:
    ax = Figure().subplots()
    falling = np.geomspace(0.7, 0.1, 20)
    plot_cost_curves(
        ax, [("zeros", ALTERNATING), ("he", falling), ("random", np.array([0.9, np.inf]))]
    )
    assert ax.get_ylim() == pytest.approx(cost_limits([ALTERNATING, falling, [0.9, np.inf]]))
    assert ax.get_ylim()[1] < 1.1  # the healthy 0.9 on top, 2.5e299 far off
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["zeros (exploded at 1: cost 2.5e+299)", "he", "random (diverged at 1)"]
    markers = {(line.get_marker(), tuple(line.get_xdata())) for line in ax.get_lines()}
    assert ("^", (1,)) in markers and ("X", (1,)) in markers
    for line in ax.get_lines():  # nothing drawn beyond the y-range: no painted rectangle
        y = np.asarray(line.get_ydata(), dtype=float)
        assert np.nanmax(y) <= ax.get_ylim()[1] * (1 + 1e-12)
    [zeros] = [line for line in ax.get_lines() if line.get_label().startswith("zeros")]
    np.testing.assert_array_equal(
        zeros.get_ydata(), np.where(healthy_mask(ALTERNATING), 0.69, np.nan)
    )


def test_panel_titles_wrap_or_shorten() -> None:
    assert panel_title("he") == ("he", False)
    text, short = panel_title("glorot_normal(gain=1.4142135623)")
    assert not short and text.replace("\n", "") == "glorot_normal(gain=1.4142135623)"
    assert all(len(line) <= TITLE_WIDTH for line in text.splitlines()) and "\n" in text
    spec = "variance_scaling(scale=2.0, mode=fan_avg, distribution=truncated_normal)"
    assert panel_title(spec) == ("variance_scaling(...)", True)
    long_name = "a" * 50
    text, short = panel_title(long_name)
    assert short and len(text) == TITLE_WIDTH and text.endswith("...")


def _texts(fig: Figure) -> list[str]:
    legend_texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    titles = [legend.get_title().get_text() for legend in fig.legends]
    return legend_texts + titles


def test_seven_inits_make_a_grid_with_legends() -> None:
    long = "variance_scaling(scale=2.0, mode=fan_avg, distribution=truncated_normal)"
    inits = ("zeros", "random", "he", "glorot_normal(gain=1.4142135623)", long, "lsuv", "ones")
    result = run_train(TrainConfig(dataset="moons(samples=40)", inits=inits, iterations=2))
    fig = decision_boundary_figure(result)
    axes = fig.get_axes()
    assert len(axes) == 7
    fig.draw_without_rendering()  # run the constrained layout
    rows = sorted({round(ax.get_position().y0, 3) for ax in axes})
    assert len(rows) == 3
    per_row = [sum(round(ax.get_position().y0, 3) == y for ax in axes) for y in rows]
    assert sorted(per_row) == [1, 3, 3]
    assert fig.get_size_inches()[0] * 110 <= 3 * 4.2 * 110 + 1  # 3 panels wide, not 7
    texts = _texts(fig)
    assert "class 0" in texts and "class 1" in texts
    assert any("training points" in t for t in texts)
    assert any(long in t.replace("\n", " ") for t in texts)  # the full spec of the short title
    titles = [ax.get_title() for ax in axes]
    assert titles[4].startswith("variance_scaling(...) [1]")


def test_cost_figures_name_the_dataset_and_network_and_smooth_minibatches() -> None:
    result = run_train(TrainConfig(dataset="moons", inits=("he", "zeros"), iterations=30))
    assert result.setup.batch_size == 200 < result.dataset.X_train.shape[1]
    ax = cost_figure(result).get_axes()[0]
    assert "moons" in ax.get_title() and "[2, 10, 5, 1]" in ax.get_title()
    faint = [line for line in ax.get_lines() if line.get_alpha() == 0.25]
    smooth = [line for line in ax.get_lines() if line.get_label() in ("he", "zeros")]
    assert len(faint) == len(smooth) == 2
    full = run_train(TrainConfig(dataset="moons", inits=("he",), optimizer="gd", iterations=5))
    ax = cost_figure(full).get_axes()[0]
    assert not [line for line in ax.get_lines() if line.get_alpha() == 0.25]
    course = run_course(course_config(iterations=5), engine="reference")
    ax = cost_figure(course).get_axes()[0]
    assert "course_circles" in ax.get_title() and "[2, 10, 5, 1]" in ax.get_title()
    assert len(decision_boundary_figure(course).get_axes()) == 3


_SUPERSCRIPT_DIGITS = {c: str(i) for i, c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")}


def _value_of(label: str) -> float:
    """The number a plain log label writes: ``2×10⁻¹`` is 0.2, ``10³`` is 1000."""
    match = re.fullmatch(r"(?:(\d+)×)?10([⁻⁺]?)([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", label)
    assert match, label
    coefficient, sign, digits = match.groups()
    exponent = int("".join(_SUPERSCRIPT_DIGITS[c] for c in digits))
    return float(coefficient or 1) * 10.0 ** (-exponent if sign == "⁻" else exponent)


@pytest.mark.parametrize(("low", "high"), [(0.05, 0.8), (0.3, 0.7), (1e-5, 1e3), (2.0, 9e6)])
def test_log_labels_are_plain_text_at_matplotlibs_ticks(low: float, high: float) -> None:
    fig = Figure()
    ax = fig.subplots()
    plot_cost_curves(ax, [("run", np.geomspace(high, low, 50))])
    fig.draw_without_rendering()
    minor = LogFormatterSciNotation(labelOnlyBase=False)
    for ticks, formatter, theirs in (
        (ax.yaxis.get_major_ticks(), ax.yaxis.get_major_formatter(), LogFormatterSciNotation()),
        (ax.yaxis.get_minor_ticks(), ax.yaxis.get_minor_formatter(), minor),
    ):
        assert isinstance(formatter, PlainLogFormatter)
        theirs.set_axis(ax.yaxis)
        theirs.set_locs([tick.get_loc() for tick in ticks])
        for tick in ticks:
            label, their_label = tick.label1.get_text(), theirs(tick.get_loc())
            assert bool(label) == bool(their_label)  # the ticks matplotlib labels, no other
            if label:
                assert _value_of(label) == pytest.approx(tick.get_loc(), rel=1e-9)


def test_the_course_figures_parse_no_mathtext() -> None:
    course = run_course(course_config(iterations=5), engine="reference")
    cost, boundary = cost_figure(course), decision_boundary_figure(course)
    for fig in (cost, boundary):
        fig.draw_without_rendering()
        texts = [t.get_text() for t in fig.findobj(Text) if t.get_visible()]
        assert texts and not [t for t in texts if "$" in t]  # mathtext is text within "$"
    y_labels = [t.get_text() for t in cost.get_axes()[0].get_yticklabels()]
    assert any(re.search("10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]", label) for label in y_labels)


def _grid_predict(X: np.ndarray) -> np.ndarray:
    """A label map with a curved boundary: class 1 inside the circle of radius 0.8."""
    return (X[0] ** 2 + X[1] ** 2 < 0.64).astype(int).reshape(1, -1)


def test_grid_labels_are_predict_on_the_whole_mesh_in_chunks() -> None:
    X = np.array([[-1.0, 1.0], [-1.2, 0.9]])
    xx, yy = decision_grid(X, margin=0.3, step=0.013)
    assert xx.size > 2 * GRID_CHUNK and xx.size % GRID_CHUNK  # several chunks, one partial
    calls = []

    def predict(nodes: np.ndarray) -> np.ndarray:
        calls.append(nodes.shape[1])
        return _grid_predict(nodes)

    labels = grid_labels(predict, xx, yy)
    whole = _grid_predict(np.vstack([xx.ravel(), yy.ravel()])).reshape(xx.shape)
    np.testing.assert_array_equal(labels, whole)
    assert max(calls) == GRID_CHUNK and sum(calls) == xx.size


@pytest.mark.parametrize("n_classes", [2, 3])
def test_the_regions_are_each_nodes_label_in_its_class_colour(n_classes: int) -> None:
    X = np.array([[-1.0, 1.0, 0.0], [-1.0, 1.0, 0.5]])
    Y = np.arange(3) % n_classes
    step = 0.05

    def predict(nodes: np.ndarray) -> np.ndarray:
        return (np.floor((nodes[0] + 2) * 3).astype(int) % n_classes).reshape(1, -1)

    ax = Figure().subplots()
    plot_decision_boundary(ax, predict, X, Y, step=step, limits=None, n_classes=n_classes,
                           margin=0.5)  # fmt: skip
    [image] = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    xx, yy = decision_grid(X, margin=0.5, step=step)
    expected = predict(np.vstack([xx.ravel(), yy.ravel()])).reshape(xx.shape)
    np.testing.assert_array_equal(image.get_array(), expected)
    left, right, bottom, top = image.get_extent()  # each node in the middle of its cell
    assert (left, right) == pytest.approx((xx[0, 0] - step / 2, xx[0, -1] + step / 2))
    assert (bottom, top) == pytest.approx((yy[0, 0] - step / 2, yy[-1, 0] + step / 2))
    _, regions = class_colours(n_classes)
    rgba = image.to_rgba(image.get_array())
    for k in range(n_classes):
        np.testing.assert_allclose(rgba[expected == k], [regions(k)] * int((expected == k).sum()))


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def test_figure_bytes_are_savefigs_with_one_layout() -> None:
    def build() -> Figure:
        fig, axes = new_figure(ncols=2, width=3.0, height=2.5)
        for i, ax in enumerate(axes):
            ax.plot([0, 1, 2], [i, 2 * i, 1])
            ax.set_title(f"panel {i}\nsecond line")
            ax.set_ylabel("a long y label")
        fig.legend(["a line"], loc="outside lower center")
        return fig

    saved = io.BytesIO()
    build().savefig(saved, format="png", dpi=110)
    fig = build()
    ours = figure_bytes(fig, "png", dpi=110)
    np.testing.assert_array_equal(_pixels(ours), _pixels(saved.getvalue()))
    assert fig.get_layout_engine() is None  # laid out once, then drawn once
