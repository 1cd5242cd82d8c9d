"""Inline SVG line charts for the HTML report: no JavaScript needed to draw them.

Every point carries a ``<title>`` (the browser shows it on hover: the series, x and y),
every series a ``data-run`` key that the report's toggles hide and show. The y axis is
logarithmic when every value is positive and they span more than two decades
(``max / min > 100``; zeros, such as the std of a dead layer, are left out of the
chart then, and its axis says so), linear otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["PALETTE", "Series", "line_chart", "nice_ticks"]

#: matplotlib's tab10, so a run has the same colour as in the PNG figures
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 12, 44
MAX_POINTS = 400  # polyline vertices per series (evenly thinned beyond)
MAX_MARKERS = 60  # hoverable points per series


@dataclass(frozen=True)
class Series:
    """One line: ``name`` (user text, escaped when drawn), points ``(x, y)`` (a ``None``
    or non-finite y is a gap), the ``run`` key the toggles use, and its ``colour`` index."""

    name: str
    xs: Sequence[float]
    ys: Sequence[float | None]
    run: int
    colour: int = 0
    dashed: bool = False


#: a logarithmic axis labels at most about this many decades (every k-th when it spans more)
MAX_DECADE_TICKS = 8
#: the largest power of ten a float64 holds
LARGEST_DECADE = 308


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def nice_ticks(low: float, high: float, count: int = 5, integer: bool = False) -> list[float]:
    """About ``count`` round tick values covering ``[low, high]``: steps of 1, 2 or 5
    times a power of ten (at least 1 if ``integer``)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        return [low]
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if integer:
        step = max(step, 1)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [k * step for k in range(first, last + 1)]


def _label(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.0e}".replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")
    return f"{value:.6g}"


def _thin(n: int, most: int) -> list[int]:
    """At most ``most`` indices spread evenly over ``range(n)``, the last one included."""
    if n <= most:
        return list(range(n))
    step = (n - 1) / (most - 1)
    return sorted({round(i * step) for i in range(most)})


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    log_y: bool | None = None,
) -> str:
    """An ``<svg>`` element drawing ``series``; ``title``, the axis labels and the series
    names are escaped. ``log_y=None`` chooses the scale from the data (see the module)."""
    points = [
        (x, y) for s in series for x, y in zip(s.xs, s.ys, strict=True) if _finite(y)
    ]  # fmt: skip
    if not points:
        return f'<p class="empty">{escape(title)}: no finite values to draw.</p>'
    positive = [float(y) for _, y in points if y > 0]  # type: ignore[operator]
    if log_y is None:
        log_y = min(y for _, y in points) >= 0 and bool(positive)  # type: ignore[type-var]
        log_y = log_y and max(positive) / min(positive) > 100
    log_y = bool(log_y and positive)
    left_out = log_y and len(positive) < len(points)
    if log_y:
        points = [(x, y) for x, y in points if y > 0]  # type: ignore[operator]
    xs = [float(x) for x, _ in points]
    ys = [float(y) for _, y in points]  # type: ignore[arg-type]

    def drawn(y: float | None) -> bool:
        return _finite(y) and (not log_y or y > 0)  # type: ignore[operator]

    def ty(y: float) -> float:
        return math.log10(y) if log_y else y

    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ty(y) for y in ys), max(ty(y) for y in ys)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 == y0:
        pad = abs(y0) * 0.1 or 1.0
        y0, y1 = y0 - pad, y1 + pad
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return TOP + (1 - (ty(y) - y0) / (y1 - y0)) * plot_h

    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}"/>',
    ]
    if log_y:  # whole decades, at most about MAX_DECADE_TICKS, none past float64's range
        lo, hi = math.ceil(y0), math.floor(min(y1, LARGEST_DECADE))
        step = max(1, math.ceil((hi - lo + 1) / MAX_DECADE_TICKS))
        y_ticks = [10.0**d for d in range(lo, hi + 1, step)]
        if len(y_ticks) < 2:
            y_ticks = [10.0**t for t in nice_ticks(y0, y1) if t <= LARGEST_DECADE]
    else:
        y_ticks = nice_ticks(y0, y1)
    for tick in y_ticks:
        y = py(tick)
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{_label(tick)}</text>'
        )
    integer = all(isinstance(x, int) for s in series for x in s.xs)
    for tick in nice_ticks(x0, x1, 6, integer):
        x = px(tick)
        out.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + plot_h}"/>')
        out.append(
            f'<text class="tick" x="{x:.1f}" y="{TOP + plot_h + 16}" '
            f'text-anchor="middle">{_label(tick)}</text>'
        )
    out.append(
        f'<text class="axis" x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 6}" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    scale = " (log scale; zeros left out)" if left_out else " (log scale)" if log_y else ""
    out.append(
        f'<text class="axis" transform="translate(14 {TOP + plot_h / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label + scale)}</text>'
    )
    for s in series:
        colour = PALETTE[s.colour % len(PALETTE)]
        name = escape(s.name)
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        out.append(f'<g class="series" data-run="{s.run}" stroke="{colour}" fill="{colour}">')
        pairs = [(float(x), float(y)) for x, y in zip(s.xs, s.ys, strict=True) if drawn(y)]
        segments: list[list[tuple[float, float]]] = [[]]
        for x, y in zip(s.xs, s.ys, strict=True):
            if drawn(y):
                segments[-1].append((float(x), float(y)))  # type: ignore[arg-type]
            elif segments[-1]:
                segments.append([])
        for segment in segments:
            if len(segment) > 1:
                kept = [segment[i] for i in _thin(len(segment), MAX_POINTS)]
                coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in kept)
                out.append(f'<polyline fill="none" stroke-width="2"{dash} points="{coords}"/>')
        for i in _thin(len(pairs), MAX_MARKERS):
            x, y = pairs[i]
            out.append(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5">'
                f"<title>{name}, {escape(x_label)} {_fmt(x)}: {_fmt(y)}</title></circle>"
            )
        out.append("</g>")
    out.append("</svg>")
    out.append(_legend(series))
    return "\n".join(out)


def _legend(series: Sequence[Series]) -> str:
    """A line of the chart's series: a short stroke in each one's colour and dash, and its
    (escaped) name."""
    keys = []
    for s in series:
        colour = PALETTE[s.colour % len(PALETTE)]
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        keys.append(
            '<span class="key"><svg width="26" height="10" aria-hidden="true">'
            f'<line x1="1" y1="5" x2="25" y2="5" stroke="{colour}" stroke-width="2"{dash}/>'
            f"</svg>{escape(s.name)}</span>"
        )
    return f'<div class="legend">{"".join(keys)}</div>'
