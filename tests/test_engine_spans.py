"""Live reports on the compiled kernel: a run trained in spans of updates, reporting after
each, gives the same bits as the run trained in one call (the oracle), for every optimizer
(whose state the kernel keeps between spans), with minibatches, snapshots, divergence and
models split over a group of threads."""

from __future__ import annotations

import dataclasses
import itertools
import warnings

import numpy as np
import pytest

from initlab import Network, initialize
from initlab.engine import compiled, train_population


@pytest.fixture
def one_interval_spans(monkeypatch):
    """Every span one report interval: the most spans a run can be cut into."""
    monkeypatch.setattr(compiled, "SPAN_SECONDS", 0.0)


def _problem(models: int, classes: int = 3, m: int = 200, sick: int | None = None):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((3, m))
    Y = rng.integers(0, classes, size=(1, m))
    head = "softmax" if classes > 2 else "sigmoid"
    net = Network((3, 9, 6, classes if classes > 2 else 1), ("tanh", "relu"), head)
    starts = [initialize(net, "he", rng) for _ in range(models)]
    if sick is not None:
        starts[sick] = dataclasses.replace(
            starts[sick], weights=[w * 1e100 for w in starts[sick].weights]
        )
    return net, starts, X, Y


@pytest.mark.parametrize(
    ("optimizer", "batch", "models", "threads"),
    [
        ("gd", None, 3, 2),  # two models pooled, the third split over both threads
        ("momentum", None, 1, 2),  # one model split over a group of threads
        ("adam", None, 3, 1),
        ("adam", 16, 3, 2),
        ("momentum(beta=0.5)", 30, 2, 2),
        ("sgd", 64, 4, 2),
    ],
)
def test_spans_give_the_bits_of_one_call(one_interval_spans, optimizer, batch, models, threads):
    net, starts, X, Y = _problem(models, sick=models - 1 if models > 1 else None)
    rates = np.linspace(0.01, 0.05, models)
    if models > 1:
        rates[-1] = 1e200  # the last model diverges part-way
    kwargs = dict(
        learning_rate=rates, iterations=53, optimizer=optimizer, batch_size=batch, rng=4,
        backend="compiled", threads=threads, snapshots=[0, 5, 7, 30, 52, 53],
    )  # fmt: skip
    assert len(list(compiled.spans(53, 7))) == 8  # the fixture cuts the run in 8 spans
    whole = train_population(net, starts, X, Y, **kwargs)
    seen = []
    live = train_population(
        net, starts, X, Y, report_every=7, on_report=lambda i, c: seen.append((i, c.copy())),
        **kwargs,
    )  # fmt: skip
    np.testing.assert_array_equal(live.costs, whole.costs)
    np.testing.assert_array_equal(live.diverged_at, whole.diverged_at)
    np.testing.assert_array_equal(live.snapshot_thetas, whole.snapshot_thetas)
    for a, b in zip(live.params, whole.params, strict=True):
        for x, y in zip(a.weights + a.biases, b.weights + b.biases, strict=True):
            np.testing.assert_array_equal(x, y)
    if models > 1:
        assert whole.diverged_at[-1] >= 0 and (whole.diverged_at[:-1] < 0).all()
    assert [i for i, _ in seen] == list(range(0, 53, 7))
    for i, costs in seen:
        np.testing.assert_array_equal(costs, whole.costs[:, i])


def test_reports_stop_where_the_numpy_engine_stops_them(one_interval_spans):
    """Every model diverged: no report after the last update any model still ran."""
    net, starts, X, Y = _problem(2)
    got = {}
    for backend in ("compiled", "numpy"):
        seen = []
        train_population(
            net, starts, X, Y, learning_rate=[1e250, 1e300], iterations=40, report_every=3,
            backend=backend, on_report=lambda i, c, seen=seen: seen.append(i),
        )  # fmt: skip
        got[backend] = seen
    assert got["compiled"] == got["numpy"]
    assert len(got["compiled"]) < 40 // 3


def test_an_exception_in_on_report_stops_training_and_is_not_a_fallback(one_interval_spans):
    net, starts, X, Y = _problem(2)
    calls = []

    class Stop(Exception):
        pass

    def report(i, costs):
        calls.append(i)
        if i == 10:
            raise Stop

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to the NumPy engine would warn
        with pytest.raises(Stop):
            train_population(
                net, starts, X, Y, iterations=100, report_every=5, on_report=report,
                backend="auto",
            )  # fmt: skip
    assert calls == [0, 5, 10]


def test_spans_cover_every_update_in_whole_intervals():
    for updates, every in [(1, 1), (10, 3), (100, 7), (1000, 1000), (5, 10)]:
        cut = list(compiled.spans(updates, every, seconds=0.0))
        assert cut[0][0] == 0 and cut[-1][1] == updates
        assert all(a[1] == b[0] for a, b in itertools.pairwise(cut))
        assert all(first % every == 0 for first, _ in cut)
    assert list(compiled.spans(50, 0)) == [(0, 50)]
    # spans grow to about `seconds` of work once the first has been timed
    assert len(list(compiled.spans(10_000, 1, seconds=1e6))) == 2


@pytest.mark.parametrize("backend", ["compiled", "numpy"])
def test_snapshots_are_handed_over_while_training(one_interval_spans, backend):
    """``on_snapshot(k, params)``: every snapshot once, in order, equal to the result's,
    each before training ends (a diverging model's from its divergence on)."""
    net, starts, X, Y = _problem(3, sick=2)
    at = [0, 3, 10, 25, 40]
    seen = []

    def snapshot(k, params):
        seen.append((k, params, len(reported)))

    reported = []
    result = train_population(
        net, starts, X, Y, learning_rate=[0.02, 0.03, 1e200], iterations=40, optimizer="adam",
        snapshots=at, backend=backend, report_every=5,
        on_report=lambda i, c: reported.append(i), on_snapshot=snapshot,
    )  # fmt: skip
    assert [k for k, _, _ in seen] == list(range(len(at)))
    for k, params, _ in seen:
        for i, p in enumerate(params):
            want = result.snapshot(i, k)
            for a, b in zip(p.weights + p.biases, want.weights + want.biases, strict=True):
                np.testing.assert_array_equal(a, b)
    # the early snapshots came before the last reports: while training, not after it
    assert seen[1][2] < len(reported)
    assert result.diverged_at[2] >= 0


def test_an_exception_in_on_snapshot_stops_training(one_interval_spans):
    net, starts, X, Y = _problem(2)

    class Stop(Exception):
        pass

    def snapshot(k, params):
        if k == 1:
            raise Stop

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(Stop):
            train_population(net, starts, X, Y, iterations=100, snapshots=[0, 20, 90],
                             on_snapshot=snapshot)  # fmt: skip
