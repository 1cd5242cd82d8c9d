"""The softmax head against oracles: central finite differences and the textbook formulas."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from gradcheck import assert_gradients_match
from initlab.initializers import get_initializer, initialize
from initlab.network import (
    Network,
    Parameters,
    accuracy,
    predict,
    predict_proba,
    softmax_cross_entropy_from_logits,
)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "identity"])
@pytest.mark.parametrize("sizes", [(3, 2), (2, 4, 3), (4, 5, 3, 5), (2, 3, 3, 3, 4)])
def test_softmax_gradients_match_central_differences(
    activation: str, sizes: tuple[int, ...]
) -> None:
    rng = np.random.default_rng(zlib.crc32(f"softmax{activation}{sizes}".encode()))
    network = Network(sizes, (activation,) * (len(sizes) - 2), "softmax")
    params = initialize(network, get_initializer("random", scale=0.8), rng, "random")
    X = rng.standard_normal((sizes[0], 8))
    Y = rng.integers(0, sizes[-1], size=(1, 8))
    assert_gradients_match(network, params, X, Y)


def test_softmax_cross_entropy_equals_textbook_formula() -> None:
    logits = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, 0.5], [-1.0, 0.0, 0.5]])
    Y = np.array([[0, 1, 2]])
    p = np.exp(logits) / np.exp(logits).sum(axis=0)
    textbook = -np.mean(np.log(p[Y[0], np.arange(3)]))
    assert softmax_cross_entropy_from_logits(logits, Y) == pytest.approx(textbook, rel=1e-12)


def test_softmax_cross_entropy_of_huge_logits_is_finite() -> None:
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        cost = softmax_cross_entropy_from_logits(
            np.array([[900.0, 0.0], [0.0, -800.0]]), np.array([[1, 1]])
        )
    # column 1: logsumexp = 900, picked 0 -> 900; column 2: logsumexp = 0, picked -800 -> 800
    assert cost == pytest.approx(850.0)


def test_two_class_softmax_equals_sigmoid_on_logit_difference() -> None:
    """softmax([z1, z0]) of class 1 equals sigmoid(z1 - z0): same cost and probabilities."""
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((2, 10))
    Y = rng.integers(0, 2, size=(1, 10))
    diff = logits[1:] - logits[:1]
    sigmoid_cost = float(np.mean(np.logaddexp(0.0, diff) - Y * diff))
    assert softmax_cross_entropy_from_logits(logits, Y) == pytest.approx(sigmoid_cost, rel=1e-12)


def test_predict_and_predict_proba_of_softmax_head() -> None:
    network = Network((2, 3), (), "softmax")
    params = Parameters([np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])], [np.zeros((3, 1))])
    X = np.array([[2.0, 0.0, -1.0], [0.0, 2.0, -1.0]])
    proba = predict_proba(network, params, X)
    # logits: column 0 [2, 0, -2], column 1 [0, 2, -2], column 2 [-1, -1, 2]
    expected0 = np.exp([2.0, 0.0, -2.0]) / np.exp([2.0, 0.0, -2.0]).sum()
    np.testing.assert_allclose(proba[:, 0], expected0, rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(predict(network, params, X), [[0, 1, 2]])
    assert accuracy(network, params, X, np.array([[0, 1, 1]])) == pytest.approx(2 / 3)


def test_for_classes_picks_the_head() -> None:
    assert Network.for_classes(4, (8,), ("relu",), 2).layer_sizes == (4, 8, 1)
    assert Network.for_classes(4, (8,), ("relu",), 2).output == "sigmoid"
    multi = Network.for_classes(4, (8,), ("relu",), 5)
    assert (multi.layer_sizes, multi.output, multi.n_classes) == ((4, 8, 5), "softmax", 5)
    with pytest.raises(ValueError, match="at least 2 classes, got 1"):
        Network.for_classes(4, (8,), ("relu",), 1)


@pytest.mark.parametrize(
    ("sizes", "output", "message"),
    [
        ((2, 3, 1), "softmax", "softmax output needs at least 2 output units, got 1"),
        ((2, 3, 3), "tanh_head", "unknown output 'tanh_head'; choose one of: sigmoid, softmax"),
    ],
)
def test_bad_heads_are_rejected(sizes, output, message) -> None:
    with pytest.raises(ValueError, match=message):
        Network(sizes, ("relu",), output)
