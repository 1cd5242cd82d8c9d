"""Every training entry point checks its data, labels and arguments the same way."""

from __future__ import annotations

import numpy as np
import pytest

from initlab import Network, fit, get_optimizer, gradient_descent, initialize
from initlab.datasets import course_circles
from initlab.engine import train_population

SIGMOID = Network((2, 3, 1), ("relu",))
SOFTMAX = Network((2, 3, 3), ("relu",), "softmax")


def data(m: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((2, m)), (np.arange(m) % 2).reshape(1, m)


def train_gd(net, X, Y, **kw):
    start = initialize(net, "he", np.random.default_rng(1))
    return gradient_descent(net, start, X, Y, learning_rate=0.1, iterations=2, **kw)


def train_engine(net, X, Y, **kw):
    start = initialize(net, "he", np.random.default_rng(1))
    return train_population(net, [start], X, Y, learning_rate=0.1, iterations=2, **kw)


def train_fit(net, X, Y, **kw):
    start = initialize(net, "he", np.random.default_rng(1))
    return fit(net, start, X, Y, get_optimizer("gd", learning_rate=0.1), iterations=2, **kw)


ENTRY_POINTS = [train_gd, train_engine, train_fit]


@pytest.mark.parametrize("train", ENTRY_POINTS)
@pytest.mark.parametrize(
    ("make_y", "message"),
    [
        (lambda Y: Y * 2, "labels must be integers 0 to 1 for the network's sigmoid head .*got 2"),
        (lambda Y: Y - 1, "labels must be integers 0 to 1 .*got -1"),
        (lambda Y: Y * 0.5, "labels must be integers 0 to 1 .*got 0.5"),
        (lambda Y: Y.astype(complex), "Y must hold real numbers, got dtype complex128"),
        (lambda Y: np.where(Y == 1, np.nan, 0.0), "labels must be .*got nan or inf"),
        (lambda Y: Y[:, :-1], r"Y must have shape \(1, 12\), one label per column of X"),
    ],
)
def test_sigmoid_labels_outside_0_1_are_refused_everywhere(train, make_y, message):
    X, Y = data()
    with pytest.raises(ValueError, match=message):
        train(SIGMOID, X, make_y(Y))


@pytest.mark.parametrize("train", ENTRY_POINTS)
@pytest.mark.parametrize(
    ("make_x", "message"),
    [
        (lambda X: X[:, :0], r"X has no samples"),
        (lambda X: X.astype(complex), "X must hold real numbers, got dtype complex128"),
        (lambda X: np.where(X > 1, np.inf, X), "X contains non-finite values"),
        (lambda X: X[:1], r"X must have shape \(2, m\)"),
    ],
)
def test_bad_inputs_are_refused_everywhere(train, make_x, message):
    X, Y = data()
    with pytest.raises(ValueError, match=message):
        train(SIGMOID, make_x(X), Y)


@pytest.mark.parametrize(
    ("labels", "message"),
    [([0, 1, 2, 3], "labels must be integers 0 to 2 for the network's softmax head .*got 3"),
     ([0, 1, -1, 2], "got -1"),
     ([0, 1, 1.5, 2], "got 1.5")],
)  # fmt: skip
def test_softmax_labels_that_are_negative_out_of_range_or_fractional_are_refused(labels, message):
    X, _ = data(4)
    with pytest.raises(ValueError, match=message):
        train_fit(SOFTMAX, X, np.array([labels], dtype=float))


def test_softmax_labels_given_as_integral_floats_train_as_integers():
    X, _ = data(6)
    labels = np.array([[0, 1, 2, 0, 1, 2]])
    _, as_int = train_fit(SOFTMAX, X, labels)
    _, as_float = train_fit(SOFTMAX, X, labels.astype(float))
    np.testing.assert_array_equal(as_float.costs, as_int.costs)


def test_the_compiled_engine_trains_softmax_heads_as_fit_does():
    X, _ = data(6)
    labels = np.array([[0, 1, 2, 0, 1, 2]])
    result = train_engine(SOFTMAX, X, labels, backend="compiled")
    _, history = train_fit(SOFTMAX, X, labels)
    assert result.backend == "compiled"
    np.testing.assert_allclose(result.costs[0], history.costs, rtol=1e-12, atol=0)


@pytest.mark.parametrize("train", [train_gd, train_engine])
def test_learning_rate_of_any_real_type_is_accepted_and_bool_is_not(train):
    data_ = course_circles()
    net = Network.course()
    start = initialize(net, "he", np.random.RandomState(3))
    kw = dict(iterations=3)
    if train is train_gd:
        _, a = gradient_descent(net, start, data_.X_train, data_.Y_train, learning_rate=0.25, **kw)
        _, b = gradient_descent(
            net, start, data_.X_train, data_.Y_train, learning_rate=np.float32(0.25), **kw
        )
        np.testing.assert_array_equal(a.costs, b.costs)  # 0.25 is exact in float32
    for bad in (True, np.bool_(True), "0.1") if train is train_engine else (True, "0.1", None):
        with pytest.raises(TypeError, match="learning_rate must be a real number"):
            if train is train_gd:
                gradient_descent(net, start, data_.X_train, data_.Y_train, learning_rate=bad, **kw)
            else:
                train_population(net, [start], data_.X_train, data_.Y_train, learning_rate=bad,
                                 **kw)  # fmt: skip


def test_rng_arguments_follow_numpys_conventions():
    net = SIGMOID
    by_seed = initialize(net, "he", 7)
    by_generator = initialize(net, "he", np.random.default_rng(7))
    for a, b in zip(by_seed.weights, by_generator.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    for bad in (None, "7", 1.5, True):
        with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
            initialize(net, "he", bad)
    with pytest.raises(ValueError, match="rng seed must be a non-negative integer, got -1"):
        initialize(net, "he", -1)
    X, Y = data(20)
    start = initialize(net, "he", 0)
    opt = get_optimizer("sgd", learning_rate=0.1)
    _, seeded = fit(net, start, X, Y, opt, epochs=2, batch_size=5, rng=3)
    _, generator = fit(net, start, X, Y, opt, epochs=2, batch_size=5, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(seeded.costs, generator.costs)
    with pytest.raises(TypeError, match="rng must be"):
        fit(net, start, X, Y, opt, epochs=2, batch_size=5, rng="3")


def test_population_arguments_are_checked():
    X, Y = data()
    with pytest.raises(TypeError, match="item 0 is 1 \\(int\\)"):
        train_population(SIGMOID, [1, 2], X, Y, learning_rate=0.1, iterations=1)
    for threads, error in ((0, ValueError), (-2, ValueError), (True, TypeError), (1.5, TypeError)):
        with pytest.raises(error, match="threads must be a positive integer"):
            train_engine(SIGMOID, X, Y, threads=threads)


def test_fit_takes_an_optimizer_or_a_spec_and_refuses_anything_else():
    X, Y = data()
    start = initialize(SIGMOID, "he", 0)
    _, by_name = fit(SIGMOID, start, X, Y, "adam(beta1=0.8)", iterations=3)
    _, by_object = fit(SIGMOID, start, X, Y, get_optimizer("adam(beta1=0.8)"), iterations=3)
    np.testing.assert_array_equal(by_name.costs, by_object.costs)
    for bad in (None, 3, object()):
        with pytest.raises(TypeError, match="optimizer must be an Optimizer or a spec string"):
            fit(SIGMOID, start, X, Y, bad, iterations=3)


def test_too_many_models_are_blamed_when_not_even_one_update_fits(monkeypatch):
    """1000 course models cannot fit in 1 MB whatever the iterations: the error names the
    number of models and the most that fit, not the iterations."""
    import initlab.memory as memory
    from initlab.memory import MemoryLimitError

    monkeypatch.setattr(memory, "available_bytes", lambda: 10**6)
    data_ = course_circles()
    net = Network.course()
    theta = np.zeros((1000, net.n_parameters))
    with pytest.raises(
        MemoryLimitError, match=r"^models 1000 needs about .*allowed: 1 to \d+$"
    ) as e:
        train_population(net, theta, data_.X_train, data_.Y_train, learning_rate=0.1,
                         iterations=15000)  # fmt: skip
    largest = e.value.largest
    assert 1 <= largest < 1000
    assert memory.training_bytes(net.layer_sizes, updates=15000, batch=300, runs=largest,
                                 concurrent=largest) <= 10**6  # fmt: skip
    assert memory.training_bytes(net.layer_sizes, updates=15000, batch=300, runs=largest + 1,
                                 concurrent=largest + 1) > 10**6  # fmt: skip


def _statistics(net, params, X, Y):
    from initlab.diagnostics import network_statistics

    return network_statistics(net, params, X, Y)


@pytest.mark.parametrize(
    "use",
    [
        lambda net, p, X, Y: gradient_descent(net, p, X, Y, learning_rate=0.1, iterations=2),
        lambda net, p, X, Y: fit(net, p, X, Y, "gd", iterations=2),
        lambda net, p, X, Y: train_population(net, [p], X, Y, learning_rate=0.1, iterations=2),
        _statistics,
    ],
    ids=["gradient_descent", "fit", "train_population", "network_statistics"],
)
def test_parameters_of_another_network_are_refused_everywhere(use) -> None:
    # the maths reads the sizes from the arrays: without the check, the other network
    # would be trained (and recorded) under this network's name
    X, Y = data()
    net = Network((2, 3, 1), ("relu",))
    wider = initialize(Network((2, 4, 1), ("relu",)), "he", np.random.default_rng(1))
    deeper = initialize(Network((2, 3, 3, 1), ("relu", "relu")), "he", np.random.default_rng(1))
    with pytest.raises(ValueError, match=r"layer 1 needs W of shape \(3, 2\).*got \(4, 2\)"):
        use(net, wider, X, Y)
    with pytest.raises(ValueError, match="weight and"):
        use(net, deeper, X, Y)
    with pytest.raises((TypeError, ValueError), match=r"list|Parameters|shape"):
        use(net, [np.zeros((3, 2))], X, Y)
