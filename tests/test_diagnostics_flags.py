"""Plain-words flags: the course's three runs at initialization, and each flag on its own."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.special import expit

from initlab.datasets import course_circles
from initlab.diagnostics.flags import (
    DEAD_FRACTION,
    EXPLODING_RATIO,
    HUGE_LOSS_FACTOR,
    UPDATE_RATIO_HIGH,
    UPDATE_RATIO_LOW,
    VANISHING_RATIO,
    diagnose,
)
from initlab.diagnostics.stats import network_statistics
from initlab.experiments.course import course_config, course_parameters
from initlab.network import Network, Parameters, forward, loss_and_gradients


@pytest.fixture(scope="module")
def course():
    config = course_config()
    data = course_circles()
    return config, data


def course_flags(course, init: str):
    config, data = course
    params = course_parameters(init)
    stats = network_statistics(
        Network.course(), params, data.X_train, data.Y_train, learning_rate=config.learning_rate
    )
    return params, stats, diagnose(stats)


def test_zeros_run_is_flagged_for_symmetry_only(course) -> None:
    _, _, flags = course_flags(course, "zeros")
    assert [(f.kind, f.layer, f.value, f.threshold) for f in flags] == [
        ("symmetry", 1, 1.0, 10),
        ("symmetry", 2, 1.0, 5),
    ]
    assert "layer 1 (relu) has only 1 distinct unit(s) among 10" in flags[0].message


def test_x10_run_is_flagged_for_saturated_output_and_huge_loss(course) -> None:
    _, data = course
    params, _, flags = course_flags(course, "random")
    kinds = {f.kind for f in flags}
    # the course's story, plus the exploding signals that cause it (10 N(0, 1) weights)
    assert kinds == {"saturation", "huge_loss", "exploding_activations", "exploding_gradients"}
    cache = forward(Network.course(), params, data.X_train)
    p = expit(cache.logits)
    saturated = float(np.mean((p < 0.03) | (p > 0.97)))
    assert saturated > 0.5  # most samples: the sigmoid output is saturated
    (flag,) = [f for f in flags if f.kind == "saturation"]
    assert (flag.layer, flag.value) == (3, saturated)
    assert "layer 3 (sigmoid output)" in flag.message
    cost, _ = loss_and_gradients(Network.course(), params, data.X_train, data.Y_train)
    (flag,) = [f for f in flags if f.kind == "huge_loss"]
    assert flag.value == cost and cost > HUGE_LOSS_FACTOR * math.log(2)
    (flag,) = [f for f in flags if f.kind == "exploding_activations"]
    z = cache.preactivations
    assert flag.value == pytest.approx(z[2].std() / z[0].std(), rel=1e-12)
    assert flag.value > EXPLODING_RATIO


def test_he_run_is_healthy(course) -> None:
    _, stats, flags = course_flags(course, "he")
    assert flags == []
    # the statistics behind the verdict: nothing near a threshold's wrong side
    assert all(UPDATE_RATIO_LOW <= r <= UPDATE_RATIO_HIGH for r in stats.update_ratio)
    assert all(d <= DEAD_FRACTION for d in stats.dead_fraction[:2])


def tiny_stats(sizes=(3, 4, 4, 1), activations=("relu", "relu"), output="sigmoid", seed=0):
    rng = np.random.default_rng(seed)
    network = Network(sizes, activations, output)
    weights = [rng.standard_normal((n, k)) * np.sqrt(2 / k) for k, n in itertools.pairwise(sizes)]
    params = Parameters(weights, [np.zeros((n, 1)) for n in sizes[1:]])
    X = rng.standard_normal((sizes[0], 20))
    Y = rng.integers(0, network.n_classes, size=(1, 20))
    return network, params, X, Y


def test_vanishing_activations_and_gradients_of_a_deep_tanh_network() -> None:
    sizes = (5, 30, 30, 30, 30, 30, 1)
    network, params, X, Y = tiny_stats(sizes, ("tanh",) * 5)
    for W in params.weights:
        W *= 0.1  # each layer shrinks the signal about 10x
    flags = diagnose(network_statistics(network, params, X, Y))
    kinds = {f.kind for f in flags}
    assert {"vanishing_activations", "vanishing_gradients"} <= kinds
    for flag in flags:
        if flag.kind.startswith("vanishing"):
            assert flag.value < VANISHING_RATIO and flag.threshold == VANISHING_RATIO


def test_dead_units_are_flagged_above_the_threshold() -> None:
    network, params, X, Y = tiny_stats()
    params.biases[1][:3] = -100.0  # 3 of 4 units of layer 2 never fire
    flags = diagnose(network_statistics(network, params, X, Y))
    dead = [f for f in flags if f.kind == "dead_units"]
    assert [(f.layer, f.value, f.threshold) for f in dead] == [(2, 0.75, DEAD_FRACTION)]


def test_partial_symmetry_is_flagged_and_the_layer_keeps_its_other_flags() -> None:
    network, params, X, Y = tiny_stats()
    params.weights[1][1] = params.weights[1][0]
    params.biases[1][:2] = -100.0  # two identical dead units and a third
    params.biases[1][2] = -100.0
    flags = diagnose(network_statistics(network, params, X, Y))
    assert [(f.kind, f.layer, f.value) for f in flags if f.kind == "symmetry"] == [
        ("symmetry", 2, 3.0)
    ]
    assert any(f.kind == "dead_units" and f.layer == 2 for f in flags)


def test_update_ratio_outside_its_band_is_flagged() -> None:
    network, params, X, Y = tiny_stats()
    stats = network_statistics(network, params, X, Y, learning_rate=0.01)
    stats = replace(stats, update_ratio=[1e-6, 1e-3, 0.5])
    flags = [f for f in diagnose(stats) if f.kind == "update_ratio"]
    assert [(f.layer, f.value, f.threshold) for f in flags] == [
        (1, 1e-6, UPDATE_RATIO_LOW),
        (3, 0.5, UPDATE_RATIO_HIGH),
    ]


def test_non_finite_values_are_flagged() -> None:
    network, params, X, Y = tiny_stats()
    params.weights[0][0, 0] = np.inf
    flags = diagnose(network_statistics(network, params, X, Y))
    assert [(f.kind, f.layer) for f in flags if f.kind == "non_finite"] == [
        ("non_finite", None),
        ("non_finite", 1),
        ("non_finite", 2),
        ("non_finite", 3),
    ]


def test_huge_loss_of_a_softmax_head_uses_ln_k() -> None:
    network, params, X, Y = tiny_stats((3, 4, 5), ("relu",), "softmax")
    stats = network_statistics(network, params, X, Y)
    threshold = HUGE_LOSS_FACTOR * math.log(5)
    low = replace(stats, loss=0.99 * threshold)
    high = replace(stats, loss=1.01 * threshold)
    assert not [f for f in diagnose(low) if f.kind == "huge_loss"]
    (flag,) = [f for f in diagnose(high) if f.kind == "huge_loss"]
    assert flag.threshold == pytest.approx(threshold, rel=1e-15)
    assert "ln 5" in flag.message


def test_without_labels_only_forward_flags_are_raised() -> None:
    network, params, X, _ = tiny_stats()
    flags = diagnose(network_statistics(network, params, X))
    assert flags == []
