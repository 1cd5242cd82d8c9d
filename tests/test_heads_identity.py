"""The regression head ``identity``: its loss and gradients against hand formulas and
finite differences, fit against least squares, and the paths that refuse it."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck import assert_gradients_match
from initlab.checks import check_training_data
from initlab.diagnostics import diagnose, input_output_jacobian, network_statistics
from initlab.engine import train_population
from initlab.engine.population import supports
from initlab.fit import fit
from initlab.heads import HEADS, IdentityHead
from initlab.initializers import get_initializer, initialize
from initlab.network import (
    Network,
    Parameters,
    accuracy,
    forward,
    loss_and_gradients,
    predict,
    predict_proba,
)
from initlab.optimizers import get_optimizer


def test_the_loss_is_half_the_mean_squared_error_and_its_errors_the_residuals():
    z = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    y = np.array([[0.0, -1.0, 0.5], [2.0, 3.0, 1.0]])
    head = HEADS["identity"]
    # per sample: (1 + 4) / 2, (1 + 0) / 2, (0 + 4) / 2; mean over 3 samples
    assert head.loss(z, y) == pytest.approx((2.5 + 0.5 + 2.0) / 3, rel=1e-15)
    np.testing.assert_array_equal(head.errors(z, y), z - y)
    np.testing.assert_array_equal(head.probabilities(z), z)
    np.testing.assert_array_equal(head.predict(z), z)
    assert isinstance(head, IdentityHead) and not head.classifier


@pytest.mark.parametrize(
    ("sizes", "activations"),
    [((3, 1), ()), ((2, 4, 1), ("tanh",)), ((4, 5, 3, 3), ("relu", "identity")),
     ((3, 4, 4, 2), ("sigmoid", "gelu"))],
)  # fmt: skip
def test_gradients_match_central_differences(sizes, activations):
    rng = np.random.default_rng(sum(sizes))
    network = Network(sizes, activations, "identity")
    params = initialize(network, get_initializer("random", scale=0.5), rng, "random")
    X = rng.standard_normal((sizes[0], 7))
    Y = rng.standard_normal((sizes[-1], 7))  # a loss of order 1: rounding below atol 1e-8
    assert_gradients_match(network, params, X, Y)


def test_fit_of_a_linear_layer_converges_to_least_squares():
    """One linear layer with a bias and the half MSE: gradient descent converges to the
    least-squares solution of [W b] [X; 1] = Y (a convex quadratic)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 40))
    Y = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]]) @ X + 0.1 * rng.standard_normal((2, 40))
    network = Network((3, 2), (), "identity")
    start = Parameters([np.zeros((2, 3))], [np.zeros((2, 1))])
    trained, history = fit(network, start, X, Y, get_optimizer("gd", learning_rate=0.5),
                           iterations=400)  # fmt: skip
    design = np.vstack([X, np.ones((1, 40))])
    solution = np.linalg.lstsq(design.T, Y.T, rcond=None)[0].T
    np.testing.assert_allclose(np.hstack([trained.weights[0], trained.biases[0]]), solution,
                               atol=1e-8)  # fmt: skip
    assert history.costs[0] == pytest.approx(0.5 * np.mean(np.sum(Y * Y, axis=0)), rel=1e-12)
    np.testing.assert_array_equal(predict(network, trained, X), forward(network, trained, X).logits)
    np.testing.assert_array_equal(predict_proba(network, trained, X), predict(network, trained, X))


def test_targets_are_checked_against_the_output_units():
    network = Network((2, 3, 2), ("tanh",), "identity")
    X = np.zeros((2, 5))
    with pytest.raises(ValueError, match=r"Y must have shape \(2, 5\)"):
        check_training_data(network, X, np.zeros((1, 5)))
    with pytest.raises(ValueError, match="non-finite targets"):
        check_training_data(network, X, np.full((2, 5), np.nan))
    _, Y = check_training_data(network, X, np.arange(10).reshape(2, 5))
    assert Y.dtype == np.float64 and Y.shape == (2, 5)
    single = Network((2, 1), (), "identity")
    assert check_training_data(single, X, np.linspace(0, 1, 5))[1].shape == (1, 5)


def test_the_population_engine_refuses_it_naming_it():
    network = Network((2, 3, 1), ("relu",), "identity")
    params = initialize(network, "he", np.random.default_rng(0))
    X = np.ones((2, 4))
    with pytest.raises(ValueError, match=r"'identity'.*initlab\.fit\.fit"):
        supports(network, get_optimizer("gd"))
    for backend in ("auto", "numpy", "compiled"):
        with pytest.raises(ValueError, match="'identity'"):
            train_population(network, [params], X, np.zeros((1, 4)), iterations=2,
                             backend=backend)  # fmt: skip


def test_accuracy_and_classes_are_refused_for_a_regression():
    network = Network((2, 1), (), "identity")
    params = Parameters([np.ones((1, 2))], [np.zeros((1, 1))])
    with pytest.raises(ValueError, match="regression"):
        accuracy(network, params, np.ones((2, 3)), np.ones((1, 3)))
    with pytest.raises(ValueError, match="no classes"):
        _ = network.n_classes


def test_diagnostics_take_a_regression_head():
    """The head's 'activation' is z itself; no huge-loss flag (no chance loss to compare)."""
    rng = np.random.default_rng(1)
    network = Network((3, 8, 8, 2), ("identity", "identity"), "identity")
    params = initialize(network, "glorot_normal", rng)
    X = rng.standard_normal((3, 50))
    Y = 1e3 * np.ones((2, 50))  # a huge loss
    stats = network_statistics(network, params, X, Y)
    cache = forward(network, params, X)
    assert stats.a_std[-1] == pytest.approx(float(cache.logits.std()), rel=1e-14)
    assert stats.loss == pytest.approx(loss_and_gradients(network, params, X, Y)[0], rel=1e-14)
    assert not [flag for flag in diagnose(stats) if flag.kind == "huge_loss"]
    jac = input_output_jacobian(network, params, X[:, :2])
    product = params.weights[2] @ params.weights[1] @ params.weights[0]
    np.testing.assert_allclose(jac[0], product, rtol=1e-12)
    np.testing.assert_allclose(jac[1], product, rtol=1e-12)
