"""The network's maths against oracles: finite differences, hand computations."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from gradcheck import assert_gradients_match
from initlab.activations import ACTIVATIONS
from initlab.initializers import get_initializer, initialize
from initlab.network import (
    Network,
    Parameters,
    accuracy,
    binary_cross_entropy_from_logits,
    forward,
    predict,
)

ARCHITECTURES = [(3, 1), (2, 4, 1), (4, 5, 3, 1), (2, 3, 3, 3, 2, 1)]


def smooth_inputs(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    """Inputs; ReLU kinks are avoided by the random draws (probability zero of a hit)."""
    return rng.standard_normal((n, m))


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("sizes", ARCHITECTURES)
def test_gradients_match_central_differences(activation: str, sizes: tuple[int, ...]) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{activation}{sizes}".encode()))
    network = Network(sizes, (activation,) * (len(sizes) - 2))
    params = initialize(network, get_initializer("random", scale=0.8), rng, "random")
    X = smooth_inputs(rng, sizes[0], 7)
    Y = rng.integers(0, 2, size=(1, 7))
    assert_gradients_match(network, params, X, Y)


def test_mixed_activations_gradients() -> None:
    rng = np.random.default_rng(7)
    network = Network((3, 4, 4, 4, 1), ("relu", "sigmoid", "identity"))
    params = initialize(network, "he", rng, get_initializer("random", scale=0.1))
    X = rng.standard_normal((3, 9))
    Y = rng.integers(0, 2, size=(1, 9))
    assert_gradients_match(network, params, X, Y)


def test_forward_matches_hand_computation() -> None:
    network = Network((2, 2, 1), ("relu",))
    params = Parameters(
        [np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([[1.0, -3.0]])],
        [np.array([[0.0], [1.0]]), np.array([[0.5]])],
    )
    X = np.array([[1.0, -2.0], [3.0, 1.0]])
    # z1 = [[1-3, -2-1], [0.5+6+1, -1+2+1]] = [[-2, -3], [7.5, 2]]; a1 = [[0, 0], [7.5, 2]]
    # z2 = [0 - 22.5 + 0.5, 0 - 6 + 0.5] = [-22, -5.5]
    cache = forward(network, params, X)
    np.testing.assert_array_equal(cache.logits, [[-22.0, -5.5]])
    np.testing.assert_array_equal(predict(network, params, X), [[0, 0]])
    assert accuracy(network, params, X, np.array([[0, 1]])) == 0.5


@pytest.mark.parametrize(
    ("logit", "label"), [(0.0, 0), (0.0, 1), (3.0, 1), (-3.0, 1), (2.5, 0), (-40.0, 0)]
)
def test_cross_entropy_from_logits_equals_textbook_formula(logit: float, label: int) -> None:
    p = 1.0 / (1.0 + np.exp(-logit))
    textbook = -(label * np.log(p) + (1 - label) * np.log(1 - p))
    ours = binary_cross_entropy_from_logits(np.array([[logit]]), np.array([[label]]))
    assert ours == pytest.approx(textbook, rel=1e-12)


def test_cross_entropy_of_saturated_sigmoid_is_large_and_finite() -> None:
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        cost = binary_cross_entropy_from_logits(np.array([[800.0, -900.0]]), np.array([[0, 1]]))
    assert cost == pytest.approx((800.0 + 900.0) / 2)


@pytest.mark.parametrize(
    ("sizes", "activations", "message"),
    [
        ((2,), (), "at least an input and an output"),
        ((2, 0, 1), ("relu",), "positive integers"),
        ((2, 3, 1), (), "need 1 activation"),
        ((2, 3, 1), ("sigmoidal",), "unknown activation 'sigmoidal'"),
        ((2, 3, 2), ("relu",), "sigmoid output needs 1 output unit"),
    ],
)
def test_bad_architectures_are_rejected(sizes, activations, message) -> None:
    with pytest.raises(ValueError, match=message):
        Network(sizes, activations)
