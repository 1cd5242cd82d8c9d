"""The population engine against the reference loop where the bugs hide: one thread
(every model of a thread's range in one call), diverging models that are not the first,
and hidden units exactly on the ReLU kink.

Both engines agree to rounding only (sums run in another order; the kernel's ``exp`` is a
polynomial), so costs and parameters are compared with tolerances; divergence iterations
are integers and must be equal.
"""

from __future__ import annotations

import numpy as np
import pytest

from initlab.datasets import course_circles
from initlab.engine import train_population
from initlab.fit import gradient_descent
from initlab.initializers import initialize
from initlab.network import Network, Parameters
from initlab.runs import population_runs

COST_RTOL = 1e-9


def _starts(net: Network, seeds: list[int]) -> list[Parameters]:
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        params = initialize(net, "he", rng)
        params.biases = [0.1 * rng.standard_normal(b.shape) for b in params.biases]
        out.append(params)
    return out


def _assert_each_model_is_the_reference(net, starts, X, Y, result, lr, iterations) -> None:
    for i, start in enumerate(starts):
        params, history = gradient_descent(
            net, start, X, Y, learning_rate=lr, iterations=iterations
        )
        mine = result.history(i)
        assert mine.diverged_at == history.diverged_at, f"model {i}"
        assert result.diverged_at[i] == (-1 if history.diverged_at is None else history.diverged_at)
        np.testing.assert_allclose(mine.costs, history.costs, rtol=COST_RTOL, err_msg=f"model {i}")
        if history.diverged_at is not None:
            assert np.isnan(result.costs[i, history.diverged_at + 1 :]).all(), f"model {i}"
            continue
        for got, want in zip(
            result.params[i].weights + result.params[i].biases,
            params.weights + params.biases,
            strict=True,
        ):
            np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-11, err_msg=f"model {i}")


@pytest.mark.parametrize(("backend", "threads"), [("compiled", 1), ("compiled", 2), ("numpy", 1)])
def test_every_model_keeps_its_own_divergence_iteration(backend: str, threads: int) -> None:
    """Models 1 and 3 diverge (at once, and some iterations later), models 0, 2 and 4 do
    not: every slot of ``diverged_at`` and every row of ``costs`` is that model's own,
    with one thread training the five models in one call or two threads sharing them."""
    data = course_circles()
    net = Network((2, 10, 5, 1), ("identity", "identity"))  # linear: large weights blow up
    starts = _starts(net, [11, 12, 13, 14, 15])
    starts[1] = Parameters([w * 1e200 for w in starts[1].weights], starts[1].biases)
    starts[3] = Parameters([w * 10 for w in starts[3].weights], starts[3].biases)
    lr, iterations = 0.5, 30
    result = train_population(
        net, starts, data.X_train, data.Y_train,
        learning_rate=lr, iterations=iterations, backend=backend, threads=threads,
    )  # fmt: skip
    assert result.diverged.tolist() == [False, True, False, True, False]
    assert result.diverged_at[1] == 0 and result.diverged_at[3] > 1
    _assert_each_model_is_the_reference(
        net, starts, data.X_train, data.Y_train, result, lr, iterations
    )


@pytest.mark.parametrize("backend", ["compiled", "numpy"])
@pytest.mark.parametrize("m", [37, 300])
def test_hidden_units_on_the_relu_kink_get_no_gradient(backend: str, m: int) -> None:
    """``W1 = 0, b1 = 0``: every first-layer pre-activation is exactly 0, where ReLU's
    derivative is 0, so the first layer never moves while the layers above learn; the
    engine follows the reference loop (one and two chunks of samples).
    ``W2`` does not move either (its input ``a1`` is 0), but ``b2``, ``W3`` and ``b3`` do."""
    rng = np.random.default_rng(3)
    net = Network((2, 6, 4, 1), ("relu", "relu"))
    X = rng.standard_normal((2, m))
    Y = (X[0:1] * X[1:2] > 0).astype(np.int64)
    start = _starts(net, [21])[0]
    start.weights[0] = np.zeros((6, 2))
    start.biases[0] = np.zeros((6, 1))
    start.biases[1] = np.abs(start.biases[1]) + 0.5  # layer 2 alive: its units pass gradient
    starts = [_starts(net, [20])[0], start]
    lr, iterations = 0.1, 6
    result = train_population(
        net, starts, X, Y, learning_rate=lr, iterations=iterations, backend=backend, threads=1
    )
    trained = result.params[1]
    assert not np.any(trained.weights[0]) and not np.any(trained.biases[0])
    assert np.any(trained.biases[1] != start.biases[1])
    assert np.any(trained.weights[2] != start.weights[2])
    _assert_each_model_is_the_reference(net, starts, X, Y, result, lr, iterations)


def test_the_fast_engine_reports_the_costs_the_reference_loop_reports() -> None:
    """The reference loop reports a cost only while it is finite; the population engine,
    which reports after training, must report the same iterations and costs (the diverged
    iteration excluded), for a model that diverges at once and one that diverges later."""
    data = course_circles()
    net = Network((2, 10, 5, 1), ("identity", "identity"))
    starts = _starts(net, [31, 32, 33])
    starts[0] = Parameters([w * 1e200 for w in starts[0].weights], starts[0].biases)
    starts[2] = Parameters([w * 10 for w in starts[2].weights], starts[2].biases)
    names = ["at_once", "healthy", "later"]
    lr, iterations = 0.5, 30
    reported: list[tuple[str, int, float]] = []
    runs = population_runs(
        net, names, starts, data,
        learning_rate=lr, iterations=iterations, print_every=1,
        on_cost=lambda *point: reported.append(point),
    )  # fmt: skip
    assert [run.diverged for run in runs] == [True, False, True]
    for name, start in zip(names, starts, strict=True):
        expected: list[tuple[int, float]] = []
        gradient_descent(
            net, start, data.X_train, data.Y_train, learning_rate=lr, iterations=iterations,
            report_every=1, on_report=lambda i, c, _e=expected: _e.append((i, c)),
        )  # fmt: skip
        mine = [(i, c) for n, i, c in reported if n == name]
        assert [i for i, _ in mine] == [i for i, _ in expected], name
        np.testing.assert_allclose([c for _, c in mine], [c for _, c in expected], rtol=COST_RTOL)
        assert all(np.isfinite(c) for _, c in mine), name
