"""What the page draws for one snapshot of one model: plain arrays, no plotting library.

* :func:`boundary_grid`: the model's output over a grid covering 2-D data (the
  probability of class 1 for a sigmoid head, the predicted class for a softmax one);
* :func:`layer_histograms`: per layer ``l = 1..L``, the histogram of the activations
  ``a[l]`` over the batch (``sigmoid``/``softmax`` of the logits for the head) and of
  the entries of the weight gradient ``dJ/dW[l]``;
* :func:`snapshot_flags`: the diagnostics' flags (:func:`initlab.diagnostics.diagnose`)
  in plain words.

All of them use the first :data:`BATCH` training samples (all of the course's 300).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from initlab.diagnostics import diagnose, network_statistics
from initlab.network import Network, Parameters, backward, forward

__all__ = [
    "BATCH",
    "Grid",
    "Histogram",
    "LayerHistograms",
    "batch",
    "boundary_grid",
    "grid_extent",
    "histogram",
    "layer_histograms",
    "snapshot_flags",
]

#: statistics, histograms and flags are computed on at most this many training samples
BATCH = 1000


def batch(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first :data:`BATCH` columns of ``X``, ``Y`` (training parts are shuffled)."""
    return X[:, :BATCH], Y[:, :BATCH]


@dataclass(frozen=True)
class Grid:
    """``values[r, c]`` at ``x = x0 + (c + 1/2) dw / n``, ``y = y0 + (r + 1/2) dh / n``."""

    x0: float
    y0: float
    dw: float
    dh: float
    values: np.ndarray


def grid_extent(X: np.ndarray, margin: float = 0.1) -> tuple[float, float, float, float]:
    """``(x_min, x_max, y_min, y_max)`` of 2-D data ``X`` (shape ``(2, m)``), widened by
    ``margin`` of its range on each side (by 1 where the range is 0)."""
    lo, hi = X.min(axis=1), X.max(axis=1)
    pad = np.where(hi > lo, (hi - lo) * margin, 1.0)
    return (
        float(lo[0] - pad[0]),
        float(hi[0] + pad[0]),
        float(lo[1] - pad[1]),
        float(hi[1] + pad[1]),
    )


def boundary_grid(
    network: Network,
    params: Parameters,
    extent: tuple[float, float, float, float],
    resolution: int = 80,
) -> Grid:
    """The model's output at the centres of a ``resolution x resolution`` grid over
    ``extent``: ``P(class 1)`` (sigmoid head) or the predicted class index (softmax)."""
    x_min, x_max, y_min, y_max = extent
    dw, dh = x_max - x_min, y_max - y_min
    xs = x_min + (np.arange(resolution) + 0.5) * dw / resolution
    ys = y_min + (np.arange(resolution) + 0.5) * dh / resolution
    gx, gy = np.meshgrid(xs, ys)
    points = np.vstack([gx.ravel(), gy.ravel()])
    with np.errstate(over="ignore", invalid="ignore"):
        logits = forward(network, params, points).logits
        if network.output == "softmax":
            values = np.argmax(logits, axis=0).astype(np.float64)
        else:
            values = network.head.probabilities(logits)[0]
    return Grid(x_min, y_min, dw, dh, values.reshape(resolution, resolution))


@dataclass(frozen=True)
class Histogram:
    """Counts of the finite values in ``len(counts)`` equal bins between ``edges``; how
    many values were not finite."""

    edges: np.ndarray
    counts: np.ndarray
    non_finite: int


def histogram(values: np.ndarray, bins: int = 30) -> Histogram:
    """The histogram of ``values``; all-equal values get one unit-wide range around them."""
    values = np.asarray(values, dtype=np.float64).ravel()
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return Histogram(np.linspace(-0.5, 0.5, bins + 1), np.zeros(bins, np.int64), values.size)
    lo, hi = float(finite.min()), float(finite.max())
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(finite, bins=bins, range=(lo, hi))
    return Histogram(edges, counts, int(values.size - finite.size))


@dataclass(frozen=True)
class LayerHistograms:
    """Layer ``layer`` (from 1): its activation's name, the histogram of ``a[layer]`` and
    that of ``dJ/dW[layer]``."""

    layer: int
    activation: str
    activations: Histogram
    gradients: Histogram


def layer_histograms(
    network: Network, params: Parameters, X: np.ndarray, Y: np.ndarray, bins: int = 30
) -> list[LayerHistograms]:
    """Per layer, the histograms of the activations on the batch ``X`` and of the weight
    gradients of the mean cost on ``(X, Y)`` (:func:`initlab.network.backward`)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        cache = forward(network, params, X)
        _, grads = backward(network, params, cache, Y)
        logits = cache.logits
        outputs = [*cache.activations[1:], network.head.probabilities(logits)]
        names = [*network.activations, network.output]
        return [
            LayerHistograms(l + 1, names[l], histogram(outputs[l], bins), histogram(g, bins))
            for l, g in enumerate(grads.weights)
        ]


def snapshot_flags(
    network: Network,
    params: Parameters,
    X: np.ndarray,
    Y: np.ndarray,
    learning_rate: float | None = None,
) -> list[str]:
    """The diagnostics' flags at ``params`` on ``(X, Y)``, as sentences
    (``learning_rate`` adds the update-to-data ratio: give it for plain gradient steps)."""
    stats = network_statistics(network, params, X, Y, learning_rate=learning_rate)
    return [flag.message for flag in diagnose(stats)]
