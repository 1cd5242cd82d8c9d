"""Per-layer histograms against numpy.histogram, and the figures over training."""

from __future__ import annotations

import numpy as np
import pytest

from initlab.diagnostics.figures import (
    plot_layer_heatmap,
    plot_layer_lines,
    shown_layers,
    training_figures,
)
from initlab.diagnostics.histograms import layer_histograms
from initlab.experiments.diagnose import diagnose_config, diagnose_inits
from initlab.initializers import initialize
from initlab.network import Network, forward


def test_layer_histograms_are_numpys_over_each_layers_range():
    rng = np.random.default_rng(0)
    network = Network((3, 6, 4, 1), ("tanh", "relu"))
    params = initialize(network, "he", rng)
    X = rng.standard_normal((3, 50))
    hists = layer_histograms(network, params, X, bins=7)
    cache = forward(network, params, X)
    outputs = [cache.activations[1], cache.activations[2], 1 / (1 + np.exp(-cache.logits))]
    assert [h.layer for h in hists] == [1, 2, 3]
    for hist, a in zip(hists, outputs, strict=True):
        counts, edges = np.histogram(a, bins=7, range=(a.min(), a.max()))
        np.testing.assert_array_equal(hist.counts, counts)
        np.testing.assert_allclose(hist.edges, edges, rtol=1e-12)
        assert hist.counts.sum() == a.size
        assert float(np.sum(hist.density * np.diff(hist.edges))) == pytest.approx(1.0, rel=1e-12)


def test_a_constant_layer_gets_one_unit_wide_bins_and_bad_bins_are_refused():
    network = Network((2, 3, 1), ("relu",))
    params = initialize(network, "zeros", 0)
    [first, _] = layer_histograms(network, params, np.ones((2, 4)), bins=2)
    np.testing.assert_array_equal(first.edges, [-0.5, 0.0, 0.5])
    assert first.counts.tolist() == [0, 12]
    with pytest.raises(ValueError, match="bins"):
        layer_histograms(network, params, np.ones((2, 4)), bins=0)


def test_training_figures_one_column_per_init_and_an_all_zero_panel_says_so():
    from matplotlib.figure import Figure

    config = diagnose_config(inits=("zeros", "he"), optimizer="gd", iterations=8)
    result = diagnose_inits(config, snapshots=3)
    figures = training_figures(result)
    assert sorted(figures) == ["activation_std", "gradient_norms", "histograms"]
    grads = figures["gradient_norms"].axes
    texts = [t.get_text() for t in grads[0].texts]  # zeros: every gradient is exactly 0
    assert any("nothing to draw" in t for t in texts)
    assert len(grads[1].lines) == 3  # he: one line per layer
    assert len(figures["histograms"].axes) == 2 * len(shown_layers(3))
    with pytest.raises(ValueError, match="no training snapshots"):
        training_figures(diagnose_inits(config))
    ax = Figure().subplots()
    plot_layer_heatmap(ax, np.array([[1.0, 2.0], [0.0, 4.0]]), [0, 5], label="std")
    assert np.ma.getmaskarray(ax.images[0].get_array())[1, 0]  # 0 on a log scale: blank
    plot_layer_lines(Figure().subplots(), np.ones((2, 2)), [0, 5], ylabel="norm")


def test_shown_layers_keep_the_first_and_the_last():
    assert shown_layers(3) == [0, 1, 2]
    assert shown_layers(30, 6)[0] == 0 and shown_layers(30, 6)[-1] == 29
    assert len(shown_layers(30, 6)) == 6
