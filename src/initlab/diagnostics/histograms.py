"""Per-layer histograms of a network's outputs on a batch, for any snapshot of its parameters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from initlab.checks import check_inputs
from initlab.network import Network, Parameters, forward

__all__ = ["LayerHistogram", "layer_histograms"]


@dataclass(frozen=True)
class LayerHistogram:
    """``counts[i]`` of the ``n_l x m`` outputs of layer ``layer`` (from 1) fell in
    ``[edges[i], edges[i + 1])`` (the last bin closed); non-finite values are not counted."""

    layer: int
    counts: np.ndarray
    edges: np.ndarray

    @property
    def density(self) -> np.ndarray:
        """The counts as a probability density over the bins (integrates to 1; zeros when
        nothing was counted)."""
        total = self.counts.sum()
        widths = np.diff(self.edges)
        if total == 0:
            return np.zeros_like(widths)
        return self.counts / (total * widths)


def layer_histograms(
    network: Network, params: Parameters, X: np.ndarray, *, bins: int = 40
) -> list[LayerHistogram]:
    """The histogram of every layer's output ``a[l]`` (the head's output for the last:
    probabilities, or ``z[L]`` for a regression head) on the batch ``X``, ``bins`` equal
    bins over that layer's finite range (one bin of width 1 around a constant layer).

    Raises:
        ValueError: for a batch that :func:`initlab.checks.check_inputs` refuses, or
            ``bins`` below 1.
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    X = check_inputs(network, X)
    with np.errstate(over="ignore", invalid="ignore"):
        cache = forward(network, params, X)
        outputs = [*cache.activations[1:], network.head.probabilities(cache.logits)]
    result = []
    for l, a in enumerate(outputs):
        values = a[np.isfinite(a)]
        if values.size == 0:
            low, high = -0.5, 0.5
        else:
            low, high = float(values.min()), float(values.max())
            if low == high:
                low, high = low - 0.5, high + 0.5
        counts, edges = np.histogram(values, bins=bins, range=(low, high))
        result.append(LayerHistogram(l + 1, counts, edges))
    return result
