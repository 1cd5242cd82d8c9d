"""The course experiment against the published numbers (tests/data/course_expected.json)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initlab.datasets import course_circles
from initlab.experiments.course import course_config, course_parameters, run_course
from initlab.fit import gradient_descent
from initlab.initializers import initialize
from initlab.network import Network


@pytest.fixture(scope="module")
def course_result():
    return run_course(course_config())


def runs_by_init(result) -> dict:
    return {run.init: run for run in result.runs}


def test_dataset_fingerprint(course_expected) -> None:
    data = course_circles()
    fingerprint = course_expected["dataset_fingerprint"]
    assert data.X_train.shape == (2, 300)
    assert data.Y_train.shape == (1, 300)
    assert data.X_test.shape == (2, 100)
    np.testing.assert_allclose(data.X_train[:, :3].T, fingerprint["train_first_points"], atol=5e-5)
    assert data.Y_train[0, :10].tolist() == fingerprint["train_first_labels"]
    assert data.Y_train.mean() == 0.5


def test_dataset_does_not_touch_global_numpy_state() -> None:
    np.random.seed(123)  # noqa: NPY002  (the global state is what is checked)
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    course_circles()
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002


@pytest.mark.parametrize("key", ["zeros_[3,2,1]", "random_[3,2,1]", "he_[2,4,1]", "he_[3,2,1]"])
def test_initializer_printouts(course_expected, key: str) -> None:
    init, sizes = key.split("_")
    sizes = tuple(int(s) for s in sizes.strip("[]").split(","))
    expected = course_expected["initializer_printouts"][key]
    network = Network(sizes, ("relu",) * (len(sizes) - 2))
    params = initialize(network, init, np.random.RandomState(3))
    for l in range(network.depth):
        np.testing.assert_allclose(params.weights[l], expected[f"W{l + 1}"], atol=5e-9)
        if f"b{l + 1}" in expected:
            np.testing.assert_array_equal(params.biases[l], expected[f"b{l + 1}"])
        assert params.biases[l].shape == (sizes[l + 1], 1)


def test_he_costs_match_reference_within_1e9(course_result, course_expected) -> None:
    run = runs_by_init(course_result)["he"]
    expected = course_expected["runs"]["he"]["costs"]
    printed = dict(run.printed_costs(1000))
    assert sorted(printed) == sorted(int(k) for k in expected)
    for iteration, cost in expected.items():
        assert abs(printed[int(iteration)] - cost) < 1e-9, iteration


def test_reference_loop_he_costs_match(course_expected) -> None:
    data = course_circles()
    _, history = gradient_descent(
        Network.course(),
        course_parameters("he"),
        data.X_train,
        data.Y_train,
        learning_rate=0.01,
        iterations=15000,
    )
    for iteration, cost in course_expected["runs"]["he"]["costs"].items():
        assert abs(history.costs[int(iteration)] - cost) < 1e-9


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize(("init", "scale"), [("he", None), ("random", 10.0)])
def test_course_parameters_draw_from_random_state_3_plus_seed(init, scale, seed) -> None:
    # the course's own draw, written out: for each layer W = randn(n_l, n_l-1) * factor
    # (10 for random, sqrt(2 / n_l-1) for he) from one RandomState(3 + seed), zero biases
    rng = np.random.RandomState(3 + seed)  # the course's legacy generator
    sizes = (2, 10, 5, 1)
    params = course_parameters(init, seed=seed)
    for l in range(1, len(sizes)):
        factor = scale if scale is not None else math.sqrt(2.0 / sizes[l - 1])
        expected = rng.randn(sizes[l], sizes[l - 1]) * factor
        np.testing.assert_allclose(params.weights[l - 1], expected, rtol=4e-16, atol=0)
        np.testing.assert_array_equal(params.biases[l - 1], np.zeros((sizes[l], 1)))


def test_zeros_costs_are_ln2(course_result) -> None:
    run = runs_by_init(course_result)["zeros"]
    assert len(run.history.costs) == 15000
    assert np.all(np.abs(run.history.costs - math.log(2)) < 1e-12)


@pytest.mark.parametrize("init", ["zeros", "random", "he"])
def test_accuracies_are_exact(course_result, course_expected, init: str) -> None:
    run = runs_by_init(course_result)[init]
    expected = course_expected["runs"][init]
    assert run.train_accuracy == expected["train_accuracy"]
    assert run.test_accuracy == expected["test_accuracy"]
    assert not run.diverged


def test_random_initial_cost_is_the_true_finite_cross_entropy(course_result) -> None:
    run = runs_by_init(course_result)["random"]
    cost0 = run.history.costs[0]
    assert np.isfinite(cost0)
    # the textbook formula overflows to inf (the course prints inf); from the logits it is
    # the mean of softplus(z) - y z, computed here in extended precision as an oracle
    data = course_circles()
    params = course_parameters("random")
    a = data.X_train
    for W, b in zip(params.weights[:-1], params.biases[:-1], strict=True):
        a = np.maximum(0, W @ a + b)
    z = (params.weights[-1] @ a + params.biases[-1]).astype(np.longdouble)
    y = data.Y_train
    expected = np.mean(np.logaddexp(np.longdouble(0), z) - y * z)
    assert cost0 == pytest.approx(float(expected), rel=1e-12)
    assert cost0 > 100


def test_random_costs_fall(course_result) -> None:
    costs = runs_by_init(course_result)["random"].history.costs
    assert costs[14000] < 0.5 < costs[0]


def test_final_cost_is_cost_after_last_update(course_result) -> None:
    run = runs_by_init(course_result)["he"]
    assert run.final_cost < run.history.costs[-1]
    assert run.final_cost == pytest.approx(run.history.costs[-1], rel=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"inits": ("xavier_typo",)}, "unknown initializer 'xavier_typo'"),
        ({"inits": ()}, "at least one initializer"),
        ({"iterations": 0}, "iterations must be a positive integer"),
        ({"learning_rate": -1.0}, "learning_rate must be a positive finite number, got -1.0"),
        ({"learning_rate": float("nan")}, "must be a positive finite number, got nan"),
        ({"print_every": 0}, "print_every must be a positive integer"),
    ],
)
def test_bad_config_raises(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        course_config(**kwargs)


def test_divergence_is_detected_and_the_other_runs_complete() -> None:
    result = run_course(course_config(inits=("he", "random"), iterations=50, learning_rate=1e300))
    assert [run.init for run in result.runs] == ["he", "random"]
    for run in result.runs:
        assert run.diverged
        assert run.history.diverged_at is not None and run.history.diverged_at < 50
        assert len(run.history.costs) == run.history.diverged_at + 1
        assert not np.isfinite(run.history.costs[-1])
        assert np.all(np.isfinite(run.history.costs[:-1]))
        assert run.train_accuracy is None and run.final_cost is None


@pytest.mark.parametrize(
    ("n", "noise", "factor", "seed"),
    [(300, 0.05, 0.8, 1), (100, 0.05, 0.8, 2), (7, 0.3, 0.5, 11), (1, 0.0, 0.8, 0)],
)
def test_circles_draw_what_scikit_learns_make_circles_draws(n, noise, factor, seed):
    from sklearn.datasets import make_circles

    from initlab.datasets import make_circles as circles

    X, y = circles(n, noise, np.random.RandomState(seed), factor)
    X_ref, y_ref = make_circles(
        n, noise=noise, factor=factor, random_state=np.random.RandomState(seed)
    )
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)
