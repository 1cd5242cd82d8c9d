"""Snapshots of a population's parameters during training, against training as long."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from initlab import Network, fit, get_optimizer, gradient_descent, initialize
from initlab.datasets import course_circles
from initlab.engine import log_spaced, train_population


def assert_params_close(got, want, rtol=1e-9, atol=1e-12):
    for a, b in zip(got.weights + got.biases, want.weights + want.biases, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("backend", ["compiled", "numpy"])
def test_a_snapshot_is_the_parameters_after_that_many_updates(backend):
    data = course_circles()
    net = Network.course()
    he = initialize(net, "he", np.random.RandomState(3))
    sick = dataclasses.replace(he, weights=[w * 1e100 for w in he.weights])  # diverges at 1
    at = [0, 1, 5, 17, 40]
    result = train_population(
        net, [he, sick], data.X_train, data.Y_train, learning_rate=0.5, iterations=40,
        backend=backend, snapshots=at,
    )  # fmt: skip
    assert result.snapshot_at.tolist() == at
    assert result.diverged_at[1] >= 0
    for k, updates in enumerate(at):
        if updates == 0:
            assert_params_close(result.snapshot(0, k), he, rtol=0, atol=0)
            continue
        params, _ = gradient_descent(
            net, he, data.X_train, data.Y_train, learning_rate=0.5, iterations=updates
        )
        assert_params_close(result.snapshot(0, k), params)
        if updates >= result.diverged_at[1]:  # the diverged model keeps where it stopped
            assert_params_close(result.snapshot(1, k), result.params[1], rtol=0, atol=0)
    assert_params_close(result.snapshots[0][-1], result.params[0], rtol=0, atol=0)


def test_snapshots_with_adam_on_minibatches_are_fit_stopped_early():
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((3, 50)), rng.integers(0, 3, (1, 50))
    net = Network((3, 6, 3), ("silu",), "softmax")
    start = initialize(net, "he", rng)
    opt = get_optimizer("adam", learning_rate=0.05)
    at = log_spaced(21, 6)
    result = train_population(net, [start], X, Y, optimizer=opt, iterations=21, batch_size=8,
                              rng=7, snapshots=at)  # fmt: skip
    for k, updates in enumerate(at):
        if updates == 0:
            continue
        params, _ = fit(net, start, X, Y, opt, iterations=int(updates), batch_size=8, rng=7)
        assert_params_close(result.snapshot(0, k), params)


def test_log_spaced_runs_from_zero_to_the_end():
    at = log_spaced(15000, 20)
    assert at[0] == 0 and at[-1] == 15000 and (np.diff(at) > 0).all()
    assert 15 <= len(at) <= 20
    ratios = at[-6:][1:] / at[-6:][:-1]  # evenly spaced on a log scale at the top
    np.testing.assert_allclose(ratios, ratios[0], rtol=0.01)
    assert log_spaced(3, 20).tolist() == [0, 1, 2, 3]
    assert log_spaced(10, 10**11).tolist() == list(range(11))  # no huge allocation
    with pytest.raises(ValueError, match="count must be an integer >= 2"):
        log_spaced(10, 1)


@pytest.mark.parametrize(
    ("snapshots", "message"),
    [([-1], "snapshot at update -1 is outside the run; allowed: 0 to 10"),
     ([11], "snapshot at update 11 is outside"),
     ([1.5], "snapshots must be update indices"),
     ([True], "snapshots must be update indices")],
)  # fmt: skip
def test_snapshots_outside_the_run_are_refused(snapshots, message):
    data = course_circles()
    net = Network.course()
    start = initialize(net, "he", 0)
    with pytest.raises(ValueError, match=message):
        train_population(net, [start], data.X_train, data.Y_train, learning_rate=0.1,
                         iterations=10, snapshots=snapshots)  # fmt: skip
