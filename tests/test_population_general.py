"""The population engine trains what ``fit`` trains: every model of a population equals
its own ``fit`` run (optimizers, minibatches, weight decay, heads, every activation,
one learning rate per model), and a diverging model never changes another's numbers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initlab import Network, fit, get_optimizer, initialize
from initlab.activations import ACTIVATIONS
from initlab.engine import choose_backend, train_population
from initlab.engine.population import supports
from initlab.optimizers import SGD, Adam, Momentum

COST_RTOL = 1e-10
ACTIVATION_SPECS = [*sorted(ACTIVATIONS), "leaky_relu(slope=0.2)", "elu(alpha=0.5)"]
OPTIMIZERS = ["gd", "sgd", "momentum(beta=0.8)", "adam", "adam(beta1=0.5, beta2=0.9)"]


def fit_alone(net, start, X, Y, optimizer, rate, seed, **schedule):
    own = dataclasses.replace(optimizer, learning_rate=rate)
    return fit(net, start, X, Y, own, rng=np.random.default_rng(seed), **schedule)


def assert_each_model_is_its_fit_run(net, starts, X, Y, optimizer, rates, seed, result, **sched):
    for i, start in enumerate(starts):
        params, history = fit_alone(net, start, X, Y, optimizer, rates[i], seed, **sched)
        mine = result.history(i)
        assert mine.diverged_at == history.diverged_at, f"model {i}"
        np.testing.assert_allclose(mine.costs, history.costs, rtol=COST_RTOL, atol=0)
        for got, want in zip(result.params[i].weights, params.weights, strict=True):
            assert_close_below_overflow(got, want)


def assert_close_below_overflow(got, want, huge=1e300):
    """Equal to rounding; a value the reference has beyond ``huge`` (a diverged model's
    last step) may overflow to an infinity of its sign, or not, by a rounding of its
    summation order, but must stay beyond ``huge`` with the same sign."""
    edge = ~(np.abs(want) <= huge)
    np.testing.assert_allclose(got[~edge], want[~edge], rtol=1e-8, atol=1e-11)
    assert np.all(np.abs(got[edge]) > huge) and np.all(np.sign(got[edge]) == np.sign(want[edge]))


@settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=0, max_size=3),
    activation=st.sampled_from(ACTIVATION_SPECS),
    classes=st.sampled_from([2, 3]),
    optimizer=st.sampled_from(OPTIMIZERS),
    decay=st.sampled_from([0.0, 0.01]),
    batch=st.sampled_from([None, 1, 7, 16]),
    models=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    m=st.sampled_from([23, 181]),
    path=st.sampled_from([("compiled", 1), ("compiled", 2), ("numpy", 1)]),
)
def test_every_model_equals_its_own_fit_run(
    sizes, activation, classes, optimizer, decay, batch, models, seed, m, path
):
    """On both backends; with 181 samples a full batch is two chunks, which two threads
    share when there are fewer models than threads."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2, m))
    Y = rng.integers(0, classes, size=(1, m))
    net = Network.for_classes(2, sizes, [activation] * len(sizes), classes)
    opt = get_optimizer(optimizer, weight_decay=decay)
    if opt.full_batch:
        batch = None
    starts = [initialize(net, "glorot_normal", rng, bias_init="normal(std=0.1)")
              for _ in range(models)]  # fmt: skip
    rates = list(rng.uniform(0.01, 0.3, models))
    schedule = dict(epochs=3) if batch else dict(iterations=9)
    backend, threads = path
    result = train_population(
        net, starts, X, Y, optimizer=opt, learning_rate=rates, batch_size=batch,
        rng=seed, backend=backend, threads=threads, **schedule,
    )  # fmt: skip
    assert result.backend == backend
    assert_each_model_is_its_fit_run(
        net, starts, X, Y, opt, rates, seed, result, batch_size=batch, **schedule
    )


def test_the_optimizer_passed_in_is_not_modified():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((2, 10)), rng.integers(0, 2, (1, 10))
    net = Network((2, 3, 1), ("tanh",))
    opt = get_optimizer("adam", learning_rate=0.1)
    start = initialize(net, "he", rng)
    train_population(net, [start], X, Y, optimizer=opt, iterations=5)
    assert opt.t == 0 and opt._moments == {}


@pytest.mark.parametrize("backend", ["compiled", "numpy"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_diverging_model_does_not_change_the_others(optimizer, backend):
    """A model blown up by a huge step stops where its own run stops, and the others'
    numbers are those they have without it (same minibatches, their own state)."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2, 40))
    Y = rng.integers(0, 3, size=(1, 40))
    net = Network((2, 8, 3), ("identity",), "softmax")
    starts = [initialize(net, "he", rng) for _ in range(3)]
    sick = dataclasses.replace(starts[1], weights=[w * 1e150 for w in starts[1].weights])
    opt = get_optimizer(optimizer)
    rates = [0.05, 1e160, 0.02]
    kwargs = dict(optimizer=opt, epochs=4, batch_size=8, rng=5, backend=backend)
    result = train_population(net, [starts[0], sick, starts[2]], X, Y, learning_rate=rates,
                              **kwargs)  # fmt: skip
    assert result.diverged.tolist() == [False, True, False]
    assert_each_model_is_its_fit_run(
        net, [starts[0], sick, starts[2]], X, Y, opt, rates, 5, result, epochs=4, batch_size=8
    )
    healthy = train_population(net, [starts[0], starts[2]], X, Y, learning_rate=[0.05, 0.02],
                               **kwargs)  # fmt: skip
    np.testing.assert_allclose(healthy.costs, result.costs[[0, 2]], rtol=1e-13, atol=0)


def test_the_compiled_kernel_is_chosen_for_everything_fit_trains():
    net = Network.course()
    for spec in ("gd", "sgd", "momentum", "adam(beta1=0.5)"):
        assert supports(net, get_optimizer(spec, weight_decay=0.1)) == []
    softmax = Network((2, 4, 3), ("gelu",), "softmax")
    assert supports(softmax, get_optimizer("adam")) == []
    assert choose_backend(net, models=4, threads=2) == "compiled"
    assert choose_backend(net, optimizer=get_optimizer("sgd"), models=4, threads=2) == "compiled"
    assert choose_backend(net, models=4, threads=2, one_rate=False) == "compiled"


@dataclasses.dataclass
class Nesterov(Momentum):
    """An optimizer of one's own: the kernel cannot know its ``direction``."""

    name = "momentum"


def test_an_optimizer_of_ones_own_goes_to_numpy_and_compiled_refuses_it():
    net = Network.course()
    own = Nesterov()
    assert supports(net, own) == [
        "optimizer Nesterov 'momentum' (it knows: gd, sgd, momentum, adam)"
    ]
    assert choose_backend(net, optimizer=own, models=4, threads=2) == "numpy"
    with pytest.raises(ValueError, match="compiled backend does not support optimizer Nesterov"):
        choose_backend(net, "compiled", optimizer=own)


def _set(optimizer, **fields):
    """``optimizer`` with fields set after it was made (past its constructor's checks)."""
    for key, value in fields.items():
        setattr(optimizer, key, value)
    return optimizer


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(learning_rate=[0.1, -1.0]), ValueError, "positive finite number, got -1.0"),
        (dict(learning_rate=[0.1]), ValueError, r"one per model \(2\), got shape \(1,\)"),
        (dict(learning_rate=[0.1, np.nan]), ValueError, "got nan"),
        (dict(optimizer="nadam"), ValueError, "unknown optimizer 'nadam'"),
        (dict(optimizer=3), TypeError, "optimizer must be an Optimizer or a spec string"),
        (dict(optimizer="sgd", batch_size=4), ValueError, "minibatches need an rng"),
        (dict(optimizer="gd", batch_size=4, rng=0), ValueError, "full-batch gradient descent"),
        (dict(epochs=2), ValueError, "give exactly one of iterations and epochs"),
        (dict(report_every=-1), ValueError, "report_every must be a non-negative integer"),
        (dict(optimizer=_set(Adam(), beta1=1.5)), ValueError, r"beta1 must be .*, got 1.5"),
        (dict(optimizer=_set(Adam(), eps=0.0)), ValueError, "eps must be .*, got 0.0"),
        (dict(optimizer=_set(Momentum(), beta=-0.1)), ValueError, r"beta must be .*, got -0.1"),
        (dict(optimizer=_set(SGD(), weight_decay=-1.0)), ValueError, "weight_decay must be"),
        (dict(learning_rate=[0.1, np.inf]), ValueError, "got inf"),
        (dict(learning_rate=[0.0, 0.1]), ValueError, "got 0.0"),
        (dict(snapshots=[5]), ValueError, "snapshot at update 5 is outside the run"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((2, 10)), rng.integers(0, 2, (1, 10))
    net = Network((2, 3, 1), ("relu",))
    starts = [initialize(net, "he", rng) for _ in range(2)]
    kwargs = {"iterations": 2, **kwargs}
    with pytest.raises(error, match=message):
        train_population(net, starts, X, Y, **kwargs)


def test_costs_are_reported_while_training():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((2, 30)), rng.integers(0, 2, (1, 30))
    net = Network((2, 4, 1), ("elu",))
    starts = [initialize(net, "he", rng) for _ in range(2)]
    seen = []
    result = train_population(
        net, starts, X, Y, optimizer="adam", iterations=10, report_every=4,
        on_report=lambda it, costs: seen.append((it, costs.copy())),
    )  # fmt: skip
    assert [it for it, _ in seen] == [0, 4, 8]
    for it, costs in seen:
        np.testing.assert_array_equal(costs, result.costs[:, it])


@pytest.mark.parametrize(
    ("activation", "optimizer", "classes", "batch"),
    [("tanh", "adam", 3, 8), ("gelu", "momentum", 2, None), ("elu(alpha=0.5)", "sgd", 3, 5),
     ("softplus", "gd", 2, None), ("silu", "adam", 2, None), ("selu", "sgd", 2, 7)],
)  # fmt: skip
def test_float32_follows_float64_on_every_kernel_path(activation, optimizer, classes, batch):
    """Single precision: each cost within 1e-4 of the float64 run (a few updates of a small,
    well-conditioned network: rounding of 6e-8 relative per operation, not chaos)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3, 40))
    Y = rng.integers(0, classes, (1, 40))
    net = Network.for_classes(3, [6, 4], [activation] * 2, classes)
    starts = [initialize(net, "glorot_normal", rng) for _ in range(2)]
    opt = get_optimizer(optimizer, learning_rate=0.05)
    kwargs = dict(optimizer=opt, batch_size=batch, rng=1, backend="compiled", iterations=12)
    if opt.full_batch:
        kwargs.pop("batch_size")
    r64 = train_population(net, starts, X, Y, **kwargs)
    r32 = train_population(net, starts, X, Y, dtype="float32", **kwargs)
    np.testing.assert_allclose(r32.costs, r64.costs, rtol=0, atol=1e-4)


@pytest.mark.parametrize("backend", ["compiled", "numpy"])
@pytest.mark.parametrize(("optimizer", "batch"), [("sgd", 8), ("adam", 13), ("momentum", 40)])
def test_one_rng_per_model_shuffles_each_model_as_its_own_fit_run(optimizer, batch, backend):
    """``rng`` a list: model ``i``'s minibatches come in the order ``fit(..., rng=rng[i])``
    draws, whatever the others' (int seeds and generators mixed)."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((3, 41))
    Y = rng.integers(0, 3, size=(1, 41))
    net = Network((3, 7, 3), ("tanh",), "softmax")
    starts = [initialize(net, "he", rng) for _ in range(3)]
    seeds = [5, 6, 5]
    result = train_population(
        net, starts, X, Y, optimizer=optimizer, epochs=3, batch_size=batch,
        rng=[seeds[0], np.random.default_rng(seeds[1]), seeds[2]], backend=backend,
    )  # fmt: skip
    assert result.backend == backend
    for i, start in enumerate(starts):
        params, history = fit(net, start, X, Y, get_optimizer(optimizer), epochs=3,
                              batch_size=batch, rng=seeds[i])  # fmt: skip
        np.testing.assert_allclose(result.costs[i], history.costs, rtol=1e-10, atol=0)
        for got, want in zip(result.params[i].weights, params.weights, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    # the shuffles differ: one shared seed would give other costs for model 1
    shared = train_population(net, starts, X, Y, optimizer=optimizer, epochs=3,
                              batch_size=batch, rng=5, backend=backend)  # fmt: skip
    np.testing.assert_array_equal(shared.costs[[0, 2]], result.costs[[0, 2]])
    assert not np.allclose(shared.costs[1], result.costs[1], rtol=1e-6)


@pytest.mark.parametrize(
    ("rng", "error", "message"),
    [
        ([1, 2], ValueError, r"or one per model \(3\), got a list of 2"),
        ((1, 2, "x"), TypeError, r"rng\[2\] must be a numpy.random.Generator"),
        ([1, 2, -4], ValueError, r"rng\[2\] seed must be a non-negative integer, got -4"),
        ([], ValueError, r"or one per model \(3\), got a list of 0"),
    ],
)  # fmt: skip
def test_bad_per_model_rngs_are_refused(rng, error, message):
    X = np.random.default_rng(0).standard_normal((2, 20))
    Y = (X[:1] > 0).astype(int)
    net = Network((2, 3, 1), ("relu",))
    starts = [initialize(net, "he", np.random.default_rng(i)) for i in range(3)]
    with pytest.raises(error, match=message):
        train_population(net, starts, X, Y, optimizer="sgd", epochs=1, batch_size=5, rng=rng)
