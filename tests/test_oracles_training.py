"""Runs are independent: no optimizer state or random stream leaks from one run into the next.

``initlab train`` trains one network per ``--init`` with one optimizer object, so the
optimizer's state (Adam's moments and step count, momentum's velocity) must be forgotten
between runs, and every initializer must draw from a fresh generator. The oracle: a run
trained after another one equals the same run trained alone. A ``zeros`` run cannot show
a leak (its weights stay symmetric and much of its state stays exactly 0), so both runs
here start from random weights.
"""

from __future__ import annotations

import numpy as np
import pytest

from initlab.experiments.train import TrainConfig, run_train
from initlab.fit import fit
from initlab.initializers import initialize
from initlab.network import Network
from initlab.optimizers import get_optimizer

OPTIMIZERS = ["adam", "momentum", "momentum(beta=0.5)", "sgd"]


def _config(inits: tuple[str, ...], optimizer: str) -> TrainConfig:
    return TrainConfig(
        dataset="moons(samples=120)",
        hidden=(6, 4),
        inits=inits,
        optimizer=optimizer,
        learning_rate=0.05,
        iterations=24,
        batch_size=30,
        seed=4,
    )


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_a_run_after_another_equals_the_run_alone(optimizer: str) -> None:
    alone = run_train(_config(("glorot_uniform",), optimizer), engine="reference").runs[0]
    both = run_train(_config(("he", "glorot_uniform"), optimizer), engine="reference").runs
    assert [run.init for run in both] == ["he", "glorot_uniform"]
    second = both[1]
    for got, want in zip(second.initial_params.weights, alone.initial_params.weights, strict=True):
        np.testing.assert_array_equal(got, want)  # the same draw: a fresh generator each
    np.testing.assert_allclose(second.history.costs, alone.history.costs, rtol=1e-12)
    for got, want in zip(
        second.params.weights + second.params.biases,
        alone.params.weights + alone.params.biases,
        strict=True,
    ):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert second.test_accuracy == alone.test_accuracy


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_fit_twice_with_one_optimizer_gives_the_same_run(optimizer: str) -> None:
    """``fit`` resets the optimizer: reusing the object changes nothing."""
    rng = np.random.default_rng(5)
    net = Network((3, 5, 1), ("tanh",))
    X = rng.standard_normal((3, 40))
    Y = (X[0:1] + X[1:2] > 0).astype(np.int64)
    start = initialize(net, "glorot_normal", rng)
    opt = get_optimizer(optimizer, 0.05)
    runs = [
        fit(net, start, X, Y, opt, iterations=12, batch_size=10, rng=np.random.default_rng(1))
        for _ in range(2)
    ]
    fresh = fit(
        net, start, X, Y, get_optimizer(optimizer, 0.05),
        iterations=12, batch_size=10, rng=np.random.default_rng(1),
    )  # fmt: skip
    for params, history in runs:
        np.testing.assert_allclose(history.costs, fresh[1].costs, rtol=1e-12)
        for got, want in zip(params.weights, fresh[0].weights, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_adam_state_after_reset_is_that_of_a_new_optimizer() -> None:
    """After ``reset`` Adam's first step is ``eta * sign(g)`` again (the bias-corrected
    ``m_hat / sqrt(v_hat)`` of one gradient), whatever came before."""
    from initlab.network import Parameters

    opt = get_optimizer("adam", 0.1)
    params = Parameters([np.array([[1.0, -2.0]])], [np.array([[0.5]])])
    grads = Parameters([np.array([[3.0, -0.25]])], [np.array([[-7.0]])])
    for _ in range(3):
        opt.step(params, Parameters([-g for g in grads.weights], [-g for g in grads.biases]))
    opt.reset()
    before = params.copy()
    opt.step(params, grads)
    eps = opt.eps
    for now, then, g in zip(
        params.weights + params.biases,
        before.weights + before.biases,
        grads.weights + grads.biases,
        strict=True,
    ):
        expected = then - 0.1 * g / (np.abs(g) + eps)
        np.testing.assert_allclose(now, expected, rtol=1e-14)


def test_momentum_state_after_reset_is_that_of_a_new_optimizer() -> None:
    """After ``reset`` momentum's velocity starts from 0: its first step is ``eta * g``."""
    from initlab.network import Parameters

    opt = get_optimizer("momentum(beta=0.9)", 0.1)
    params = Parameters([np.array([[1.0, -2.0]])], [np.array([[0.5]])])
    grads = Parameters([np.array([[3.0, -0.25]])], [np.array([[-7.0]])])
    for _ in range(3):
        opt.step(params, grads)
    opt.reset()
    before = params.copy()
    opt.step(params, grads)
    for now, then, g in zip(
        params.weights + params.biases,
        before.weights + before.biases,
        grads.weights + grads.biases,
        strict=True,
    ):
        np.testing.assert_allclose(now, then - 0.1 * g, rtol=1e-14)
