"""``dead-relu``: the fraction of dead ReLU units at initialization (a unit is dead on a
batch when it outputs 0 for every sample) against depth, width, weight scale and bias
initialization (Lu, Shin, Su and Karniadakis, "Dying ReLU and initialization: theory
and numerical examples", 2019).

* Depth and width: with He weights and zero biases on 200 standard-normal inputs,
  the dead fraction grows with depth, towards 1/2 in wide networks (ReLU drives
  the inputs' correlations to 1, and a unit then fires for all of them or for
  none), and faster in narrow ones: a deep network of width 4 is "born dead"
  (a whole layer dead, a constant output) with a probability that tends to 1.
* Weight scale: with zero biases the dead fraction does not depend on the
  weight scale. ReLU is positively homogeneous, ``relu(c z) = c relu(z)`` for
  ``c > 0``: multiplying every weight by ``c`` multiplies ``z[l]`` by ``c^l``
  and leaves its sign, hence which units are zero, unchanged. With scales that
  are powers of 2 the floating-point computation is scaled exactly too, so the
  dead fractions are equal bit for bit. A non-zero bias breaks the homogeneity:
  then the scale decides whether the bias or the weighted sum dominates.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from initlab.experiments.published.base import ExperimentResult, at_least, at_most, within

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["BIASES", "WHY_SCALE_FREE", "dead_fractions", "run"]

#: why the dead fraction does not depend on the weight scale with zero biases
WHY_SCALE_FREE = (
    "with zero biases ReLU is positively homogeneous, relu(c z) = c relu(z) for c > 0: "
    "scaling every weight by c scales z[l] by c^l and keeps its sign, so the same units "
    "are dead at every weight scale"
)

Bias = Callable[[np.random.Generator, int], np.ndarray]

#: the bias initializations compared
BIASES: dict[str, Bias] = {
    "zeros": lambda rng, n: np.zeros((n, 1)),
    "constant(0.1)": lambda rng, n: np.full((n, 1), 0.1),
    "constant(-0.1)": lambda rng, n: np.full((n, 1), -0.1),
    "normal(std=0.1)": lambda rng, n: 0.1 * rng.standard_normal((n, 1)),
}


def dead_fractions(
    width: int, depth: int, scale: float, bias: Bias, rng: np.random.Generator, samples: int = 200
) -> np.ndarray:
    """The dead fraction of each of ``depth`` ReLU layers of ``width`` units, weights
    ``scale * sqrt(2/n) N(0, 1)`` (``scale = 1``: He), on standard-normal inputs."""
    a = rng.standard_normal((width, samples))
    out = np.empty(depth)
    for l in range(depth):
        W = rng.standard_normal((width, width)) * (scale * math.sqrt(2.0 / width))
        a = np.maximum(W @ a + bias(rng, width), 0.0)
        out[l] = np.mean(np.all(a == 0.0, axis=1))
    return out


def run(rng: np.random.Generator, quick: bool = False) -> ExperimentResult:
    """Dead ReLU units against depth, width, weight scale and bias (see the module)."""
    depth = 50
    widths = [4, 16, 64, 256]
    budget = 256 if quick else 1024  # networks x width per width
    scales = [0.25, 1.0, 4.0]  # powers of 2: scaled exactly in floating point
    result = ExperimentResult(
        "dead-relu",
        f"dead ReLU units at initialization (zero for all of 200 standard-normal inputs), "
        f"He weights times a scale, depth {depth}; {WHY_SCALE_FREE}",
        [],
        ylabel="fraction of dead units",
    )
    born_dead = 0.0
    for width in widths:
        nets = max(2, budget // width)
        draws = [dead_fractions(width, depth, 1.0, BIASES["zeros"], rng) for _ in range(nets)]
        result.curves[f"width {width} ({nets} networks)"] = (np.mean(draws, axis=0).tolist(), None)
        if width == widths[0]:
            born_dead = float(np.mean([d[-1] == 1.0 for d in draws]))
    wide, _ = result.curves[f"width {widths[-1]} ({max(2, budget // widths[-1])} networks)"]
    by_bias: dict[str, list[float]] = {}
    spread: dict[str, float] = {}
    for name, bias in BIASES.items():
        seed = int(rng.integers(2**63))
        # the same draws at every scale: only the scale differs
        per_scale = [dead_fractions(64, 20, s, bias, np.random.default_rng(seed)) for s in scales]
        by_bias[name] = [float(d.mean()) for d in per_scale]
        spread[name] = float(max(np.max(np.abs(d - per_scale[0])) for d in per_scale))
    result.checks = [
        at_most("zero biases: largest change of a layer's dead fraction across weight scales "
                "1/4, 1, 4 (positive homogeneity)", 0.0, spread["zeros"], 0.0),
        at_least("bias -0.1: change across weight scales (homogeneity broken)", 1.0,
                 spread["constant(-0.1)"], 0.1),
        within(f"width {widths[-1]}: dead fraction at layer {depth} (towards 1/2)", 0.5,
               wide[-1], 0.15),
        at_least(f"width {widths[-1]}: dead fraction, layer {depth} - layer 5 (grows with depth)",
                 0.4, wide[-1] - wide[4], 0.2),
        at_least(f"width {widths[0]}: fraction of networks born dead at layer {depth}", 1.0,
                 born_dead, 0.8),
    ]  # fmt: skip
    result.data = {
        "why_scale_free": WHY_SCALE_FREE,
        "scales": scales,
        "mean_dead_fraction_by_bias": by_bias,
        "largest_change_across_scales": spread,
        "born_dead": born_dead,
    }
    result.draw = draw
    return result


def draw(fig: Figure, result: ExperimentResult) -> None:
    """Left: dead fraction per layer for each width; right: against the weight scale."""
    left, right = fig.subplots(1, 2)
    for label, (measured, _) in result.curves.items():
        left.plot(np.arange(1, len(measured) + 1), measured, label=label)
    left.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    left.set_xlabel("layer")
    left.set_ylabel(result.ylabel)
    left.set_title("He weights, zero biases")
    left.grid(alpha=0.3)
    left.legend(fontsize="small")
    scales = result.data["scales"]
    for name, values in result.data["mean_dead_fraction_by_bias"].items():
        right.plot(scales, values, marker="o", label=f"bias {name}")
    right.set_xscale("log", base=2)
    right.set_xlabel("weight scale (x He)")
    right.set_ylabel("mean dead fraction, width 64, 20 layers")
    right.set_title("zero biases: the same at every scale")
    right.grid(alpha=0.3)
    right.legend(fontsize="small")
