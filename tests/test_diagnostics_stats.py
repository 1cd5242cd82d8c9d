"""Per-layer statistics against hand computations, back-propagation and finite differences."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
from scipy.special import expit, softmax

from initlab.activations import get_activation
from initlab.diagnostics.backprop import backward_pass
from initlab.diagnostics.stats import (
    LAYER_STATISTICS,
    NetworkStatistics,
    network_statistics,
    to_frame,
)
from initlab.network import (
    Network,
    Parameters,
    binary_cross_entropy_from_logits,
    forward,
    loss_and_gradients,
    softmax_cross_entropy_from_logits,
)


def random_params(network: Network, rng: np.random.Generator, scale: float = 1.0) -> Parameters:
    sizes = network.layer_sizes
    weights = [
        rng.standard_normal((n, k)) * scale / np.sqrt(k) for k, n in itertools.pairwise(sizes)
    ]
    biases = [rng.standard_normal((n, 1)) * 0.1 for n in sizes[1:]]
    return Parameters(weights, biases)


def labels(network: Network, m: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, network.n_classes, size=(1, m))


def test_statistics_match_hand_computation() -> None:
    # layer 1: unit 1 has negative weights on non-negative inputs -> dead; layer 2: tanh
    network = Network((2, 2, 2, 1), ("relu", "tanh"))
    W1 = np.array([[1.0, 2.0], [-1.0, -3.0]])
    b1 = np.array([[0.5], [0.0]])
    W2 = np.array([[10.0, 0.0], [0.1, 0.0]])
    b2 = np.zeros((2, 1))
    W3 = np.array([[1.0, -1.0]])
    b3 = np.array([[0.25]])
    params = Parameters([W1, W2, W3], [b1, b2, b3])
    X = np.array([[0.0, 1.0, 2.0], [1.0, 0.5, 0.0]])
    Y = np.array([[1, 0, 1]])
    stats = network_statistics(network, params, X, Y, learning_rate=0.1)

    z1 = np.array([[2.5, 2.5, 2.5], [-3.0, -2.5, -2.0]])
    z2 = np.array([[25.0, 25.0, 25.0], [0.25, 0.25, 0.25]])
    a2 = np.tanh(z2)
    z3 = a2[0:1] - a2[1:2] + 0.25
    assert stats.z_mean[0] == pytest.approx(z1.mean(), abs=1e-15)
    assert stats.z_std[0] == pytest.approx(np.sqrt(np.mean((z1 - z1.mean()) ** 2)), rel=1e-14)
    assert stats.z_second_moment[1] == pytest.approx(np.mean(z2**2), rel=1e-14)
    assert stats.a_mean[0] == pytest.approx(2.5 / 2, rel=1e-15)
    assert stats.a_std[1] == pytest.approx(a2.std(), rel=1e-14)
    assert stats.z_mean[2] == pytest.approx(z3.mean(), rel=1e-14)
    assert stats.dead_fraction[0] == 0.5  # unit 2 outputs 0 for all 3 samples
    assert np.isnan(stats.dead_fraction[1])  # tanh units cannot be dead
    assert np.isnan(stats.saturated_fraction[0])  # relu has no saturation rule
    assert stats.saturated_fraction[1] == 0.5  # tanh(25) > 0.97, tanh(0.25) < 0.97
    p = expit(z3)
    assert stats.saturated_fraction[2] == np.mean((p < 0.03) | (p > 0.97))
    assert stats.distinct_units == [2.0, 2.0, 1.0]
    assert stats.units == [2, 2, 1]
    assert stats.activations == ["relu", "tanh", "sigmoid"]
    assert stats.loss == pytest.approx(np.mean(np.logaddexp(0, z3) - Y * z3), rel=1e-14)
    # the output signal by hand: dJ/dz3 = (sigmoid(z3) - y) / m
    d3 = (p - Y) / 3
    assert stats.signal_norm[2] == pytest.approx(np.linalg.norm(d3), rel=1e-14)
    assert stats.signal_std[2] == pytest.approx(d3.std(), rel=1e-14)
    dW3 = d3 @ a2.T
    assert stats.grad_w_norm[2] == pytest.approx(np.linalg.norm(dW3), rel=1e-14)
    assert stats.update_ratio[2] == pytest.approx(0.1 * np.linalg.norm(dW3) / np.sqrt(2), rel=1e-14)


def test_identical_units_are_counted() -> None:
    network = Network((3, 4, 1), ("relu",))
    W1 = np.tile([[0.3, -0.2, 0.5]], (4, 1))
    W1[3] = [0.3, -0.2, 0.6]
    params = Parameters([W1, np.ones((1, 4))], [np.zeros((4, 1)), np.zeros((1, 1))])
    stats = network_statistics(network, params, np.ones((3, 5)))
    assert stats.distinct_units == [2.0, 1.0]
    params.biases[0][0, 0] = 1.0  # a different bias makes a different unit
    assert network_statistics(network, params, np.ones((3, 5))).distinct_units[0] == 3.0


@pytest.mark.parametrize(
    ("sizes", "activations", "output"),
    [
        ((3, 5, 4, 1), ("relu", "tanh"), "sigmoid"),
        ((4, 6, 3), ("elu",), "softmax"),
        ((2, 3, 3, 3, 1), ("sigmoid", "leaky_relu", "gelu"), "sigmoid"),
    ],
)
def test_gradients_equal_loss_and_gradients(sizes, activations, output) -> None:
    rng = np.random.default_rng(0)
    network = Network(sizes, activations, output)
    params = random_params(network, rng)
    X = rng.standard_normal((sizes[0], 7))
    Y = labels(network, 7, rng)
    cost, grads = loss_and_gradients(network, params, X, Y)
    result = backward_pass(network, params, forward(network, params, X), Y)
    assert result.cost == cost
    for ours, reference in zip(
        result.gradients.weights + result.gradients.biases,
        grads.weights + grads.biases,
        strict=True,
    ):
        np.testing.assert_allclose(ours, reference, rtol=1e-13, atol=1e-17)
    stats = network_statistics(network, params, X, Y, learning_rate=0.5)
    np.testing.assert_allclose(
        stats.grad_w_norm, [np.linalg.norm(g) for g in grads.weights], rtol=1e-13
    )
    np.testing.assert_allclose(stats.grad_w_std, [g.std() for g in grads.weights], rtol=1e-12)
    np.testing.assert_allclose(
        stats.update_ratio,
        [
            0.5 * np.linalg.norm(g) / np.linalg.norm(w)
            for g, w in zip(grads.weights, params.weights, strict=True)
        ],
        rtol=1e-13,
    )


def loss_from_layer(
    network: Network, params: Parameters, z: np.ndarray, layer: int, Y: np.ndarray
) -> float:
    """The cost with ``z[layer + 1]`` (0-indexed ``layer``) replaced by ``z``."""
    for l in range(layer + 1, network.depth):
        a = get_activation(network.activations[l - 1]).forward(z)
        z = params.weights[l] @ a + params.biases[l]
    if network.output == "softmax":
        return softmax_cross_entropy_from_logits(z, Y)
    return binary_cross_entropy_from_logits(z, Y)


@pytest.mark.parametrize(
    ("sizes", "activations", "output"),
    [((3, 4, 3, 1), ("tanh", "softplus"), "sigmoid"), ((2, 4, 3), ("silu",), "softmax")],
)
def test_backward_signal_equals_finite_differences_in_z(sizes, activations, output) -> None:
    rng = np.random.default_rng(1)
    network = Network(sizes, activations, output)
    params = random_params(network, rng, scale=1.5)
    X = rng.standard_normal((sizes[0], 5))
    Y = labels(network, 5, rng)
    cache = forward(network, params, X)
    signals = backward_pass(network, params, cache, Y).signals
    eps = 1e-6
    for l, z in enumerate(cache.preactivations):
        numeric = np.zeros_like(z)
        for index in np.ndindex(z.shape):
            plus, minus = z.copy(), z.copy()
            plus[index] += eps
            minus[index] -= eps
            numeric[index] = (
                loss_from_layer(network, params, plus, l, Y)
                - loss_from_layer(network, params, minus, l, Y)
            ) / (2 * eps)
        # central differences: error O(eps^2 J''') + rounding O(1e-16 / eps)
        np.testing.assert_allclose(signals[l], numeric, rtol=1e-6, atol=1e-9)


def test_output_signal_is_head_error_over_m() -> None:
    rng = np.random.default_rng(2)
    network = Network((2, 3, 4), ("relu",), "softmax")
    params = random_params(network, rng)
    X = rng.standard_normal((2, 6))
    Y = labels(network, 6, rng)
    cache = forward(network, params, X)
    top = backward_pass(network, params, cache, Y).signals[-1]
    onehot = np.zeros((4, 6))
    onehot[Y[0], np.arange(6)] = 1
    np.testing.assert_allclose(top, (softmax(cache.logits, axis=0) - onehot) / 6, rtol=1e-14)


def test_without_labels_backward_statistics_are_nan() -> None:
    network = Network((2, 3, 1), ("relu",))
    params = random_params(network, np.random.default_rng(3))
    stats = network_statistics(network, params, np.ones((2, 4)))
    assert not stats.labelled
    assert np.isnan(stats.loss)
    for name in ("grad_w_norm", "grad_w_std", "signal_norm", "signal_std", "update_ratio"):
        assert all(np.isnan(v) for v in stats.statistic(name))
    assert all(np.isfinite(stats.z_std))


def test_update_ratio_is_nan_without_learning_rate_or_weights() -> None:
    network = Network((2, 3, 1), ("relu",))
    params = random_params(network, np.random.default_rng(4))
    X, Y = np.ones((2, 4)), np.array([[0, 1, 0, 1]])
    assert all(np.isnan(network_statistics(network, params, X, Y).update_ratio))
    params.weights[0][:] = 0.0
    stats = network_statistics(network, params, X, Y, learning_rate=0.1)
    assert np.isnan(stats.update_ratio[0]) and np.isfinite(stats.update_ratio[1])


def test_record_fields_are_the_layer_statistics() -> None:
    from dataclasses import fields

    names = [f.name for f in fields(NetworkStatistics)]
    assert tuple(names[names.index("z_mean") :]) == LAYER_STATISTICS


def test_to_frame_is_tidy_and_holds_the_record() -> None:
    rng = np.random.default_rng(5)
    network = Network((2, 4, 3, 1), ("relu", "tanh"))
    X = rng.standard_normal((2, 8))
    Y = labels(network, 8, rng)
    first = network_statistics(network, random_params(network, rng), X, Y, learning_rate=0.01)
    later = network_statistics(network, random_params(network, rng), X, Y, learning_rate=0.01)
    frame = to_frame([("he", 0, first), ("he", 10, later), ("x10", 0, first)])
    assert list(frame.columns) == ["run", "iteration", "layer", "statistic", "value"]
    per_record = 1 + len(LAYER_STATISTICS) * network.depth
    assert len(frame) == 3 * per_record
    assert not frame.duplicated(["run", "iteration", "layer", "statistic"]).any()
    row = frame.query("run == 'he' and iteration == 10 and layer == 2 and statistic == 'z_std'")
    assert row["value"].item() == later.z_std[1]
    loss = frame[frame["statistic"] == "loss"]
    assert loss["layer"].isna().all() and loss["value"].tolist() == [
        first.loss,
        later.loss,
        first.loss,
    ]
    single = to_frame(first, run="zeros", iteration=3)
    assert len(single) == per_record and set(single["run"]) == {"zeros"}
    assert set(single["iteration"]) == {3}


def test_pandas_is_imported_only_by_to_frame() -> None:
    code = (
        "import sys, numpy as np\n"
        "from initlab.diagnostics import network_statistics\n"
        "from initlab.network import Network, Parameters\n"
        "net = Network((1, 1), ())\n"
        "p = Parameters([np.ones((1, 1))], [np.zeros((1, 1))])\n"
        "s = network_statistics(net, p, np.ones((1, 2)))\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"X": np.ones((3, 4))}, r"X must have shape \(2, m\)"),
        ({"Y": np.ones((1, 3))}, r"Y must have shape \(1, 4\)"),
        ({"X": np.full((2, 4), np.nan)}, "X contains non-finite values"),
        ({"Y": np.array([[0, 1, 2, 1]])}, "labels must be integers 0 to 1"),
        ({"learning_rate": -0.1}, "learning_rate must be a positive finite number"),
        ({"learning_rate": float("nan")}, "learning_rate must be a positive finite number"),
    ],
)
def test_bad_input_is_rejected(kwargs, message) -> None:
    network = Network((2, 3, 1), ("relu",))
    params = random_params(network, np.random.default_rng(6))
    args = {"X": np.ones((2, 4)), "Y": None, **kwargs}
    lr = args.pop("learning_rate", None)
    with pytest.raises(ValueError, match=message):
        network_statistics(network, params, args["X"], args["Y"], learning_rate=lr)


def test_unknown_statistic_names_the_choices() -> None:
    network = Network((2, 1), ())
    params = Parameters([np.ones((1, 2))], [np.zeros((1, 1))])
    stats = network_statistics(network, params, np.ones((2, 2)))
    with pytest.raises(
        ValueError, match=r"unknown statistic 'z_sd'; did you mean 'z_std'\? choose one of: a_mean"
    ):
        stats.statistic("z_sd")


def test_distinct_units_are_counted_exactly_fast_path_or_not() -> None:
    """Against np.unique(axis=0): random rows (the projection shortcut), copies, zero rows
    with a -0.0, and non-finite rows (the exact fallback)."""
    from initlab.diagnostics.stats import _distinct_units

    rng = np.random.default_rng(3)
    W = rng.standard_normal((50, 20))
    b = rng.standard_normal((50, 1))
    assert _distinct_units(W, b) == 50
    W[7], b[7] = W[3], b[3]
    W[9], b[9] = W[3], b[3]
    assert _distinct_units(W, b) == 48
    zeros = np.zeros((4, 3))
    zeros[1, 0] = -0.0
    assert _distinct_units(zeros, np.zeros((4, 1))) == 1
    W[0, 0] = np.nan
    expected = np.unique(np.hstack([W, b]), axis=0).shape[0]
    assert _distinct_units(W, b) == expected
