"""The engine benchmark's peers: the JAX peer trains initlab's job, or is skipped with a note."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from initlab.checks import as_rng
from initlab.fit import fit
from initlab.initializers import initialize
from initlab.network import Network
from initlab.optimizers import Adam

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


@pytest.fixture
def jax_peers(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("jax_peers")


def _digits_like(m: int = 70) -> tuple[Network, list, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    net = Network((6, 5, 3), ("relu",), "softmax")
    starts = [initialize(net, "he", np.random.default_rng(s)) for s in range(2)]
    return net, starts, rng.standard_normal((6, m)), rng.integers(0, 3, (1, m))


def test_without_jax_the_peers_return_none(jax_peers, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jax", None)  # import jax now raises ImportError
    _, starts, X, Y = _digits_like()
    orders = np.stack([np.arange(X.shape[1])])
    assert not jax_peers.available()
    assert jax_peers.adam_population(X, Y, starts, orders, 32, 1e-3) is None
    course = Network.course()
    start = [initialize(course, "he", np.random.default_rng(0))]
    assert jax_peers.course_population(X[:2], Y % 2, start, 3, 0.01) is None


def test_max_relative_difference(jax_peers) -> None:
    assert jax_peers.max_relative_difference([1.0, 2.0], [1.0, 4.0]) == 0.5
    assert jax_peers.max_relative_difference([3.0], [3.0]) == 0.0


def test_the_jax_adam_peer_trains_what_fit_trains(jax_peers) -> None:
    """Adam on minibatches (the last one smaller), two epochs with fit's permutations:
    every model's cost curve is its own fit run's to rounding. Needs the bench extra."""
    pytest.importorskip("jax", reason="jax is not installed (pip install -e '.[bench]')")
    net, starts, X, Y = _digits_like()
    rng = as_rng(0)
    orders = np.stack([rng.permutation(X.shape[1]) for _ in range(2)])
    run = jax_peers.adam_population(X, Y, starts, orders, 32, 1e-2, repeats=1)
    assert run.costs.shape == (2, 6)  # 3 minibatches (32, 32, 6) per epoch
    for i, start in enumerate(starts):
        params, history = fit(net, start, X, Y, Adam(learning_rate=1e-2), epochs=2,
                              batch_size=32, rng=0)  # fmt: skip
        np.testing.assert_allclose(run.costs[i], history.costs, rtol=1e-10)
        for got, want in zip(run.params[i].weights, params.weights, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
