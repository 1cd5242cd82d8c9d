"""Optimizers and the training loop against hand computations and the course's loop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initlab.datasets import course_circles
from initlab.fit import fit, gradient_descent
from initlab.initializers import initialize
from initlab.network import Network, Parameters
from initlab.optimizers import OPTIMIZERS, Adam, GradientDescent, Momentum, get_optimizer

GRADS = [2.0, -1.0, 0.5]  # the gradient of the single weight at steps 1, 2, 3


def run_steps(optimizer, start: float = 1.0, grads=GRADS, bias_grad: float = 0.0) -> list[float]:
    """Feed a one-weight network's gradients to the optimizer; return the weight after each step."""
    params = Parameters([np.array([[start]])], [np.array([[0.0]])])
    optimizer.reset()
    out = []
    for g in grads:
        optimizer.step(params, Parameters([np.array([[g]])], [np.array([[bias_grad]])]))
        out.append(float(params.weights[0][0, 0]))
    return out


def test_gradient_descent_steps_by_hand() -> None:
    # w = 1 - 0.1*2 = 0.8; 0.8 + 0.1 = 0.9; 0.9 - 0.05 = 0.85
    assert run_steps(GradientDescent(learning_rate=0.1)) == pytest.approx([0.8, 0.9, 0.85])


def test_momentum_steps_by_hand() -> None:
    # v1 = 2, w = 1 - 0.2 = 0.8
    # v2 = 0.9*2 - 1 = 0.8, w = 0.8 - 0.08 = 0.72
    # v3 = 0.9*0.8 + 0.5 = 1.22, w = 0.72 - 0.122 = 0.598
    steps = run_steps(Momentum(learning_rate=0.1, beta=0.9))
    assert steps == pytest.approx([0.8, 0.72, 0.598], rel=1e-12)


def test_adam_steps_by_hand() -> None:
    # beta1 = 0.5, beta2 = 0.75, eps ~ 0, lr = 0.1 (round numbers)
    # t=1: m = 1, v = 1;      m_hat = 1/0.5 = 2,      v_hat = 1/0.25 = 4,      step 0.1*2/2 = 0.1
    # t=2: m = 0.5-0.5 = 0,   v = 0.75+0.25 = 1;      m_hat = 0,               step 0
    # t=3: m = 0.25, v = 0.75 + 0.0625 = 0.8125; m_hat = 0.25/0.875 = 2/7,
    #      v_hat = 0.8125/0.578125 = 1.4054054..., step = 0.1 * (2/7) / sqrt(1.4054054)
    adam = Adam(learning_rate=0.1, beta1=0.5, beta2=0.75, eps=1e-300)
    third = 0.9 - 0.1 * (2 / 7) / math.sqrt(0.8125 / 0.578125)
    assert run_steps(adam) == pytest.approx([0.9, 0.9, third], rel=1e-12)


def test_adam_first_step_is_learning_rate_times_sign() -> None:
    """Kingma & Ba, section 2.1: the first effective step is about lr * sign(g)."""
    adam = Adam(learning_rate=0.01)
    assert run_steps(adam, grads=[-3.0]) == pytest.approx([1.01], rel=1e-9)


def test_sgd_update_is_gradient_descent() -> None:
    sgd = get_optimizer("sgd", learning_rate=0.1)
    assert run_steps(sgd) == run_steps(GradientDescent(learning_rate=0.1))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_weight_decay_adds_lambda_w_to_weights_only(name: str) -> None:
    """With weight decay lambda, the steps equal those of the gradient g + lambda w."""
    decayed = get_optimizer(name, learning_rate=0.1, weight_decay=0.5)
    plain = get_optimizer(name, learning_rate=0.1)
    params = Parameters([np.array([[1.0]])], [np.array([[2.0]])])
    decayed.step(params, Parameters([np.array([[2.0]])], [np.array([[1.0]])]))
    manual = Parameters([np.array([[1.0]])], [np.array([[2.0]])])
    # g_w + 0.5 * w = 2 + 0.5 = 2.5; the bias gradient is not decayed
    plain.step(manual, Parameters([np.array([[2.5]])], [np.array([[1.0]])]))
    assert params.weights[0][0, 0] == manual.weights[0][0, 0]
    assert params.biases[0][0, 0] == manual.biases[0][0, 0]


def logistic_grads(w: float, b: float, xs: list[float], ys: list[int]) -> tuple[float, float]:
    """d/dw, d/db of the mean binary cross-entropy of sigmoid(w x + b), in plain floats."""
    dw = db = 0.0
    for x, y in zip(xs, ys, strict=True):
        p = 1.0 / (1.0 + math.exp(-(w * x + b)))
        dw += (p - y) * x / len(xs)
        db += (p - y) / len(xs)
    return dw, db


@pytest.mark.parametrize("name", ["gd", "momentum", "adam"])
def test_fit_full_batch_first_steps_match_a_scalar_loop(name: str) -> None:
    xs, ys = [1.0, -2.0, 0.5, 3.0], [1, 0, 0, 1]
    network = Network((1, 1), ())
    start = Parameters([np.array([[0.3]])], [np.array([[-0.1]])])
    params, history = fit(
        network,
        start,
        np.array([xs]),
        np.array([ys]),
        get_optimizer(name, learning_rate=0.1),
        iterations=3,
    )
    w, b = 0.3, -0.1
    state = {"w": [0.0, 0.0, 0.0], "b": [0.0, 0.0, 0.0]}  # velocity or (m, v) per parameter
    for t in range(1, 4):
        dw, db = logistic_grads(w, b, xs, ys)
        new = []
        for key, theta, g in (("w", w, dw), ("b", b, db)):
            s = state[key]
            if name == "gd":
                step = 0.1 * g
            elif name == "momentum":
                s[0] = 0.9 * s[0] + g
                step = 0.1 * s[0]
            else:
                s[0] = 0.9 * s[0] + 0.1 * g
                s[1] = 0.999 * s[1] + 0.001 * g * g
                step = 0.1 * (s[0] / (1 - 0.9**t)) / (math.sqrt(s[1] / (1 - 0.999**t)) + 1e-8)
            new.append(theta - step)
        w, b = new
    assert params.weights[0][0, 0] == pytest.approx(w, rel=1e-12)
    assert params.biases[0][0, 0] == pytest.approx(b, rel=1e-12)
    assert len(history.costs) == 3


def test_fit_with_gd_is_the_course_loop_bit_for_bit() -> None:
    data = course_circles()
    network = Network.course()
    start = initialize(network, "he", np.random.RandomState(3))
    ref, ref_history = gradient_descent(
        network, start, data.X_train, data.Y_train, learning_rate=0.01, iterations=300
    )
    ours, history = fit(
        network, start, data.X_train, data.Y_train, get_optimizer("gd"), iterations=300
    )
    np.testing.assert_array_equal(history.costs, ref_history.costs)
    for a, b in zip(ours.weights + ours.biases, ref.weights + ref.biases, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        start.weights[0], initialize(network, "he", np.random.RandomState(3)).weights[0]
    )  # the start is left untouched


def test_sgd_visits_the_seeded_permutation_in_batches() -> None:
    """Two epochs of batch-2 SGD equal a hand loop over rng.permutation's batches."""
    rng_data = np.random.default_rng(0)
    X = rng_data.standard_normal((1, 5))
    Y = (X > 0).astype(np.int64)
    network = Network((1, 1), ())
    start = Parameters([np.array([[0.2]])], [np.array([[0.0]])])
    params, history = fit(
        network,
        start,
        X,
        Y,
        get_optimizer("sgd", learning_rate=0.5),
        epochs=2,
        batch_size=2,
        rng=np.random.default_rng(42),
    )
    assert len(history.costs) == 2 * 3  # ceil(5 / 2) updates per epoch
    w, b = 0.2, 0.0
    rng = np.random.default_rng(42)
    for _ in range(2):
        order = rng.permutation(5)
        for start_col in (0, 2, 4):
            cols = order[start_col : start_col + 2]
            dw, db = logistic_grads(w, b, list(X[0, cols]), list(Y[0, cols]))
            w, b = w - 0.5 * dw, b - 0.5 * db
    assert params.weights[0][0, 0] == pytest.approx(w, rel=1e-12)
    assert params.biases[0][0, 0] == pytest.approx(b, rel=1e-12)


def test_fit_is_deterministic_given_the_rng_seed() -> None:
    data = course_circles()
    network = Network.course()
    start = initialize(network, "he", np.random.default_rng(1))
    runs = [
        fit(
            network,
            start,
            data.X_train,
            data.Y_train,
            get_optimizer("adam"),
            epochs=3,
            batch_size=16,
            rng=np.random.default_rng(7),
        )[1].costs
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])


def test_divergence_stops_at_the_first_non_finite_cost() -> None:
    # z = 1e300: cost 1e300 (finite); the update w -= 1e10 * 1e300 overflows to -inf,
    # so the cost of update 1 is nan.
    network = Network((1, 1), ())
    start = Parameters([np.array([[1.0]])], [np.array([[0.0]])])
    _, history = fit(
        network,
        start,
        np.array([[1e300]]),
        np.array([[0]]),
        get_optimizer("gd", learning_rate=1e10),
        iterations=50,
    )
    assert history.diverged_at == 1
    assert len(history.costs) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"iterations": 3, "batch_size": 11}, "batch_size 11 is larger than the 10 training"),
        ({"iterations": 3, "batch_size": 0}, "batch_size must be a positive integer, got 0"),
        ({"iterations": 3, "batch_size": -4}, "batch_size must be a positive integer, got -4"),
        ({"iterations": 3, "epochs": 2}, "exactly one of iterations and epochs"),
        ({}, "exactly one of iterations and epochs"),
        ({"iterations": 0}, "iterations must be a positive integer, got 0"),
        ({"epochs": 2, "batch_size": 5}, "minibatches need an rng"),
    ],
)
def test_fit_rejects_bad_schedules(kwargs, message) -> None:
    network = Network((2, 1), ())
    params = Parameters([np.zeros((1, 2))], [np.zeros((1, 1))])
    X, Y = np.zeros((2, 10)), np.zeros((1, 10), dtype=np.int64)
    with pytest.raises(ValueError, match=message):
        fit(network, params, X, Y, get_optimizer("adam"), **kwargs)


def test_gd_refuses_minibatches() -> None:
    network = Network((2, 1), ())
    params = Parameters([np.zeros((1, 2))], [np.zeros((1, 1))])
    with pytest.raises(ValueError, match=r"'gd' is full-batch .* use sgd, momentum or adam"):
        fit(
            network,
            params,
            np.zeros((2, 10)),
            np.zeros((1, 10)),
            get_optimizer("gd"),
            iterations=2,
            batch_size=4,
            rng=np.random.default_rng(0),
        )


def test_fit_rejects_labels_the_head_cannot_fit() -> None:
    network = Network((2, 3), (), "softmax")
    params = Parameters([np.zeros((3, 2))], [np.zeros((3, 1))])
    with pytest.raises(ValueError, match="labels must be integers 0 to 2"):
        fit(
            network,
            params,
            np.zeros((2, 4)),
            np.array([[0, 1, 2, 3]]),
            get_optimizer("gd"),
            iterations=1,
        )
    with pytest.raises(ValueError, match=r"X must have shape \(2, m\)"):
        fit(
            network,
            params,
            np.zeros((3, 4)),
            np.array([[0, 1, 2, 1]]),
            get_optimizer("gd"),
            iterations=1,
        )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("rmsprop", "unknown optimizer 'rmsprop'; choose one of: adam, gd, momentum, sgd"),
        (
            "momentum(gamma=0.9)",
            "optimizer 'momentum' has no parameter 'gamma'; its parameters: beta",
        ),
        ("momentum(beta=1.5)", r"momentum: beta must be a number in \[0, 1\), got 1.5"),
        ("adam(eps=-1)", "adam: eps must be a positive finite number, got -1"),
        ("adam(beta1=1)", r"adam: beta1 must be a number in \[0, 1\), got 1"),
        ("adam(beta2=-0.5)", r"adam: beta2 must be a number in \[0, 1\), got -0.5"),
        ("adam(beta1=true)", r"beta1 must be a number in \[0, 1\), got True"),
        (
            "adam(beta1=" + "9" * 400 + ")",
            r"beta1 must be a number in \[0, 1\), got 9{12}\.\.\.9999 \(400 digits\)",
        ),
        ("adam(eps=1e999)", "eps must be a positive finite number, got 1e999"),
        ("momentum(beta=nan)", r"beta must be a number in \[0, 1\), got nan"),
        ("adam(learning_rate=1)", "give learning_rate as its own option"),
        ("gd(", "bad optimizer 'gd\\('"),
    ],
)
def test_get_optimizer_errors_name_the_bad_value(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        get_optimizer(spec)


def test_get_optimizer_defaults_and_parameters() -> None:
    assert get_optimizer("adam").learning_rate == 0.001
    assert get_optimizer("gd").learning_rate == 0.01
    momentum = get_optimizer("momentum(beta=0.5)", learning_rate=0.2, weight_decay=1e-4)
    assert momentum.config() == {
        "name": "momentum",
        "learning_rate": 0.2,
        "weight_decay": 1e-4,
        "beta": 0.5,
    }
    with pytest.raises(ValueError, match="learning_rate must be a positive finite number"):
        get_optimizer("sgd", learning_rate=-1.0)
    with pytest.raises(ValueError, match=r"weight_decay must be a finite number >= 0, got -0\.1"):
        get_optimizer("sgd", weight_decay=-0.1)
