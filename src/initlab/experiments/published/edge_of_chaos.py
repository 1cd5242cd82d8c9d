"""``edge-of-chaos``: tanh networks with ``sigma_b^2 = 0.05`` over ``sigma_w^2`` in
[1, 4] and depths 2 to 100 (Poole, Lahiri, Raghu, Sohl-Dickstein and Ganguli,
"Exponential expressivity in deep neural networks through transient chaos",
NeurIPS 2016; Schoenholz, Gilmer, Ganguli and Sohl-Dickstein, "Deep information
propagation", ICLR 2017).

Mean-field theory: the length map has a fixed point ``q*``; two inputs'
correlation follows the C-map to its fixed point ``c*`` at a rate set by its
slope ``chi_c``, over ``xi_c = -1 / ln chi_c`` layers; ``chi_1 = sigma_w^2
E[tanh'(sqrt(q*) u)^2]`` crosses 1 at the critical ``sigma_w^2 = 1.76``
(ordered phase below, ``c* = 1``: inputs become indistinguishable; chaotic
above, ``c* < 1``: nearby inputs decorrelate), where ``xi_c`` diverges. Networks
train when ``L < 6 xi_c`` or so (Schoenholz et al.).

Measured, for each ``sigma_w^2`` of a grid:

* correlation propagation: one random network of width 500 and depth 100, six
  inputs at the fixed point's scale ``q*`` with pairwise correlation 0.5; their
  mean pairwise correlation ``c^l`` per layer, against the C-map iterated from the
  same start;
* in the ordered phase (``sigma_w^2 <= 1.5``, where ``xi_c`` is short enough to see
  within 100 layers), the depth scale fitted to the measured ``1 - c^l``
  (:func:`fitted_depth_scale`) against ``xi_c``: within 25%, the fit starting at
  layer 3, before the C-map's slope has settled at ``chi_1``;
* ``chi_1`` measured as ``sigma_w^2`` times the mean of ``tanh'(z)^2`` over the
  units, inputs and layers 21 to 100, and the critical ``sigma_w^2`` where it
  crosses 1 (linear interpolation on the grid);
* trainability: the training accuracy of networks of width 32 and depths 5 to 60
  on 100 digits after 150 full-batch gradient-descent steps (learning rate 0.1),
  shown in the figure and written to the JSON, not checked: within the minute this
  experiment may take, the training budget, not ``xi_c``, decides which depths
  train (measured: every ``sigma_w^2`` of the grid trains at depth 20 and none at
  45), so Schoenholz et al.'s boundary ``L ~ 6 xi_c`` (their networks trained for
  thousands of steps) is not reproduced here.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

import numpy as np

from initlab.diagnostics.meanfield import (
    chi_1,
    correlation_map,
    critical_sigma_w2,
    depth_scale,
    fixed_point,
)
from initlab.experiments.published.base import ExperimentResult, within
from initlab.network import Network, Parameters, accuracy

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SIGMA_B2", "run"]

#: the bias variance (Schoenholz et al. 2017)
SIGMA_B2 = 0.05
#: a network "trains" when its training accuracy reaches this
TRAINED = 0.5


def _draw(
    sizes: tuple[int, ...], sigma_w2: float, rng: np.random.Generator
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    pairs = itertools.pairwise(sizes)
    weights = [rng.standard_normal((b, a)) * math.sqrt(sigma_w2 / a) for a, b in pairs]
    biases = [rng.standard_normal((b, 1)) * math.sqrt(SIGMA_B2) for b in sizes[1:]]
    return weights, biases


def correlations(
    sigma_w2: float, width: int, depth: int, inputs: int, c0: float, rng: np.random.Generator
) -> tuple[list[float], list[float], float]:
    """Measured and predicted mean pairwise correlation of ``z[l]``, ``l = 1..depth``, and the
    measured ``chi_1`` (see the module)."""
    q_star = fixed_point("tanh", sigma_w2, SIGMA_B2)
    shared = rng.standard_normal((width, 1))
    own = rng.standard_normal((width, inputs))
    h = (math.sqrt(c0) * shared + math.sqrt(1.0 - c0) * own) * math.sqrt(q_star)
    pairs = np.triu_indices(inputs, 1)

    def mean_correlation(v: np.ndarray) -> float:
        gram = v.T @ v
        norms = np.sqrt(np.diag(gram))
        return float((gram / np.outer(norms, norms))[pairs].mean())

    start = mean_correlation(h)
    measured, slopes = [], []
    a = h
    for l in range(depth):
        W = rng.standard_normal((width, width)) * math.sqrt(sigma_w2 / width)
        z = W @ a + math.sqrt(SIGMA_B2) * rng.standard_normal((width, 1))
        measured.append(mean_correlation(z))
        a = np.tanh(z)
        if l >= 20:
            slopes.append(float(np.mean((1.0 - a * a) ** 2)))
    # layer 1 from the inputs' own second moment, then the C-map at q*
    q0 = float(np.mean(h * h))
    c = (sigma_w2 * start * q0 + SIGMA_B2) / (sigma_w2 * q0 + SIGMA_B2)
    predicted = [c]
    for _ in range(depth - 1):
        c = correlation_map(c, "tanh", sigma_w2, SIGMA_B2, q=q_star)
        predicted.append(c)
    return measured, predicted, sigma_w2 * float(np.mean(slopes))


def trainability(
    grid: list[float], depths: list[int], width: int, iterations: int, rng: np.random.Generator
) -> np.ndarray:
    """Training accuracy ``[depth, sigma_w2]`` of tanh networks on 100 digits (see the module)."""
    from initlab.datasets import load_dataset
    from initlab.engine import train_population

    data = load_dataset("digits", seed=0, standardize_features=True)
    X, Y = data.X_train[:, :100], data.Y_train[:, :100]
    result = np.zeros((len(depths), len(grid)))
    for i, depth in enumerate(depths):
        sizes = (X.shape[0],) + (width,) * (depth - 1) + (10,)
        network = Network(sizes, ("tanh",) * (depth - 1), "softmax")
        starts = [Parameters(*_draw(sizes, s, rng)) for s in grid]
        trained = train_population(network, starts, X, Y, optimizer="gd", learning_rate=0.1,
                                   iterations=iterations, backend="numpy")  # fmt: skip
        result[i] = [accuracy(network, p, X, Y) for p in trained.params]
    return result


def fitted_depth_scale(correlations: list[float], floor: float = 0.02) -> float:
    """The depth over which ``1 - c^l`` decays by ``e`` (ordered phase, ``c* = 1``): ``-1 /
    slope`` of a straight-line fit of ``ln(1 - c^l)`` against ``l`` over layers 3 and deeper
    where ``1 - c^l > floor`` (above the finite-width scatter); NaN with fewer than 5."""
    gap = 1.0 - np.asarray(correlations, dtype=float)
    layers = np.arange(1, gap.size + 1)
    used = (gap > floor) & (layers >= 3)
    if used.sum() < 5:
        return math.nan
    slope = np.polyfit(layers[used], np.log(gap[used]), 1)[0]
    return -1.0 / slope if slope < 0 else math.inf


def _crossing(grid: list[float], values: list[float], level: float) -> float:
    """Where ``values`` (increasing with ``grid``) first cross ``level``, linearly interpolated."""
    for k in range(len(grid) - 1):
        if values[k] < level <= values[k + 1]:
            t = (level - values[k]) / (values[k + 1] - values[k])
            return grid[k] + t * (grid[k + 1] - grid[k])
    return math.nan


def run(rng: np.random.Generator, quick: bool = False) -> ExperimentResult:
    """Correlation propagation and trainability across the edge of chaos, with xi_c."""
    if quick:
        grid = [1.0, 1.5, 1.75, 2.0, 4.0]
        width, depth = 400, 60
        train_grid, depths = [1.0, 1.75, 4.0], [5, 20]
    else:
        grid = [1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0]
        width, depth = 500, 100
        train_grid, depths = [1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0], [5, 10, 20, 30, 45, 60]
    critical = critical_sigma_w2("tanh", SIGMA_B2)
    measured_c, predicted_c, measured_chi = [], [], []
    for s in grid:
        m, p, chi = correlations(s, width, depth, 6, 0.5, rng)
        measured_c.append(m)
        predicted_c.append(p)
        measured_chi.append(chi)
    theory_chi = [chi_1("tanh", s, SIGMA_B2) for s in grid]
    fine = np.linspace(1.0, 4.0, 61)
    xi = [depth_scale("tanh", s, SIGMA_B2) for s in fine]
    trained = trainability(train_grid, depths, 32, 150, rng)
    gap = np.abs(np.array(measured_c) - np.array(predicted_c))
    ordered = [(s, m) for s, m in zip(grid, measured_c, strict=True) if s <= 1.5]
    fitted = {s: fitted_depth_scale(m) for s, m in ordered}
    errors = [abs(xi_fit / depth_scale("tanh", s, SIGMA_B2) - 1.0) for s, xi_fit in fitted.items()]
    deepest = [max([d for d, acc in zip(depths, trained[:, j], strict=True) if acc >= TRAINED],
                   default=0) for j in range(len(train_grid))]  # fmt: skip
    measured_critical = _crossing(grid, measured_chi, 1.0)
    result = ExperimentResult(
        "edge-of-chaos",
        f"tanh, sigma_b^2 = {SIGMA_B2:g}, sigma_w^2 in [1, 4]: correlation propagation in "
        f"networks of width {width} and depth {depth} (6 inputs at the scale q*, pairwise "
        f"correlation 0.5), and trainability at depths {depths[0]} to {depths[-1]} (width 32, "
        "100 digits, 150 gradient-descent steps), against the mean-field xi_c",
        [],
    )
    result.checks = [
        within("critical sigma_w^2, mean-field (chi_1 = 1)", 1.76, critical, 0.01),
        within("critical sigma_w^2, measured chi_1 crossing 1", 1.76, measured_critical, 0.05),
        within("chi_1 measured - predicted, largest over the grid", 0.0,
               float(np.max(np.abs(np.array(measured_chi) - np.array(theory_chi)))), 0.03),
        within("correlation c^l measured - C-map, mean over the grid and layers", 0.0,
               float(gap.mean()), 0.05),
        within("ordered phase (sigma_w^2 <= 1.5): depth scale fitted to 1 - c^l / xi_c - 1, "
               "worst", 0.0, float(max(errors)), 0.25),
    ]  # fmt: skip
    result.data = {
        "sigma_b2": SIGMA_B2,
        "critical_sigma_w2": critical,
        "correlation": {
            "sigma_w2": grid,
            "layers": list(range(1, depth + 1)),
            "measured": measured_c,
            "predicted": predicted_c,
            "chi_1_measured": measured_chi,
            "chi_1_predicted": theory_chi,
            "fitted_depth_scale": {str(k): v for k, v in fitted.items()},
        },
        "xi_c": {"sigma_w2": fine.tolist(), "xi_c": xi},
        "trainability": {
            "sigma_w2": train_grid,
            "depths": depths,
            "train_accuracy": trained.tolist(),
            "deepest_trained": deepest,
        },
    }
    result.draw = draw
    return result


def draw(fig: Figure, result: ExperimentResult) -> None:
    """Measured correlation c^l and training accuracy over (sigma_w^2, depth), 6 xi_c dashed."""
    from initlab.experiments.published.figures import plot_phase_diagram

    data = result.data
    xi = data["xi_c"]
    theory = (xi["sigma_w2"], [min(6.0 * v, 1e6) for v in xi["xi_c"]])
    left, right = fig.subplots(1, 2)
    corr = data["correlation"]
    plot_phase_diagram(left, np.array(corr["measured"]).T, corr["sigma_w2"], corr["layers"],
                       label="measured correlation c^l of two inputs", theory=theory,
                       critical=data["critical_sigma_w2"],
                       title="correlation propagation")  # fmt: skip
    train = data["trainability"]
    plot_phase_diagram(right, np.array(train["train_accuracy"]), train["sigma_w2"],
                       train["depths"], label="training accuracy", theory=theory,
                       critical=data["critical_sigma_w2"], title="trainability")  # fmt: skip
