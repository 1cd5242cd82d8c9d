"""The population engine against its oracle, the reference loop (initlab.fit.gradient_descent)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from initlab.activations import ACTIVATIONS
from initlab.datasets import course_circles
from initlab.engine import (
    WIDE_LAYER,
    WIDE_LAYER_FEW_MODELS,
    Layout,
    choose_backend,
    pack,
    train_population,
    unpack,
)
from initlab.engine.codes import KERNEL_ACTIVATIONS
from initlab.experiments.course import course_config, run_course
from initlab.fit import gradient_descent
from initlab.initializers import initialize
from initlab.network import Network, Parameters, accuracy

EXPECTED = json.loads((Path(__file__).parent / "data" / "course_expected.json").read_text())

COST_RTOL = 1e-10
KERNEL_NAMES = sorted(set(KERNEL_ACTIVATIONS) & set(ACTIVATIONS))


def toy_data(n_features: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two noisy blobs: X of shape (n_features, m), Y of shape (1, m)."""
    rng = np.random.default_rng(seed)
    Y = rng.integers(0, 2, size=(1, m))
    X = rng.standard_normal((n_features, m)) + 1.5 * (Y - 0.5)
    return X, Y


def starts_for(network: Network, seeds, init: str = "he") -> list[Parameters]:
    """Random weights and small random biases (so bias gradients are exercised too)."""
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        p = initialize(network, init, rng)
        p.biases = [0.1 * rng.standard_normal(b.shape) for b in p.biases]
        out.append(p)
    return out


def assert_matches_reference(network, starts, X, Y, result, lr, iterations, models=None):
    for i in range(len(starts)) if models is None else models:
        params, history = gradient_descent(
            network, starts[i], X, Y, learning_rate=lr, iterations=iterations
        )
        mine = result.history(i)
        assert mine.diverged_at == history.diverged_at, f"model {i}"
        np.testing.assert_allclose(mine.costs, history.costs, rtol=COST_RTOL, atol=0)
        for got, want in zip(result.params[i].weights, params.weights, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
        for got, want in zip(result.params[i].biases, params.biases, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


# --- layout --------------------------------------------------------------------------------


def test_pack_unpack_round_trip():
    net = Network((3, 4, 2, 1), ("relu", "sigmoid"))
    starts = starts_for(net, [1, 2])
    theta = pack(net, starts)
    assert theta.shape == (2, net.n_parameters)
    assert Layout.of(net).n_parameters == net.n_parameters
    for i, p in enumerate(starts):
        q = unpack(net, theta, i)
        for a, b in zip(p.weights + p.biases, q.weights + q.biases, strict=True):
            np.testing.assert_array_equal(a, b)


def test_pack_rejects_wrong_shapes():
    net = Network((3, 4, 1), ("relu",))
    bad = Parameters([np.zeros((4, 2)), np.zeros((1, 4))], [np.zeros((4, 1)), np.zeros((1, 1))])
    with pytest.raises(ValueError, match=r"layer 1 needs W of shape \(4, 3\)"):
        pack(net, [bad])


def test_vectorized_exp_is_within_one_ulp_of_numpy():
    from initlab.engine._kernel import _vexp

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-708, 709, 20000), rng.uniform(-1, 1, 20000), [0.0, -708.0]])
    out = np.empty_like(x)
    _vexp(x, out)
    assert (np.abs(out - np.exp(x)) <= np.spacing(np.exp(x))).all()
    assert out[-2] == 1.0


# --- every model agrees with its own reference run -----------------------------------------


@pytest.mark.parametrize("backend", ["compiled", "numpy"])
@pytest.mark.parametrize("population", [1, 2, 7])
def test_population_matches_reference_course_net(backend, population):
    data = course_circles()
    net = Network.course()
    starts = starts_for(net, range(10, 10 + population))
    result = train_population(
        net, starts, data.X_train, data.Y_train, learning_rate=0.05, iterations=40, backend=backend
    )
    assert result.backend == backend
    assert result.costs.shape == (population, 40)
    assert_matches_reference(net, starts, data.X_train, data.Y_train, result, 0.05, 40)


ARCHITECTURES = [
    (3, 1),  # depth 1: logistic regression
    (3, 1, 1),  # width 1
    (3, 5, 1),
    (3, 7, 9, 1),
    (3, 13, 4, 6, 1),
    (3, 4, 8, 3, 5, 1),
    (3, 6, 5, 4, 3, 2, 1),  # depth 6
]


@pytest.mark.parametrize("sizes", ARCHITECTURES, ids=lambda s: "-".join(map(str, s)))
def test_depths_1_to_6_compiled(sizes):
    X, Y = toy_data(sizes[0], 37, seed=len(sizes))  # 37 samples: not a whole chunk
    net = Network(sizes, ("relu",) * (len(sizes) - 2))
    starts = starts_for(net, [3, 4, 5])
    result = train_population(
        net, starts, X, Y, learning_rate=0.1, iterations=30, backend="compiled"
    )
    assert_matches_reference(net, starts, X, Y, result, 0.1, 30)


@pytest.mark.parametrize("activation", KERNEL_NAMES)
@pytest.mark.parametrize("backend", ["compiled", "numpy"])
def test_each_kernel_activation(activation, backend):
    X, Y = toy_data(4, 150, seed=7)
    net = Network((4, 9, 6, 1), (activation, activation))
    starts = starts_for(net, [21, 22])
    result = train_population(net, starts, X, Y, learning_rate=0.2, iterations=25, backend=backend)
    assert_matches_reference(net, starts, X, Y, result, 0.2, 25)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_registered_activation_through_auto(activation):
    """Whatever the catalogue holds, "auto" trains it (compiled or batched NumPy)."""
    X, Y = toy_data(3, 40, seed=8)
    net = Network((3, 5, 4, 1), (activation, "relu"))
    starts = starts_for(net, [31, 32])
    result = train_population(net, starts, X, Y, learning_rate=0.1, iterations=20)
    assert result.backend == ("compiled" if activation in KERNEL_ACTIVATIONS else "numpy")
    assert_matches_reference(net, starts, X, Y, result, 0.1, 20)


@pytest.mark.parametrize("backend", ["compiled", "numpy"])
@pytest.mark.parametrize("width", [1, 64, 256])
def test_widths_up_to_256(backend, width):
    X, Y = toy_data(5, 70, seed=width)
    net = Network((5, width, 3, 1), ("relu", "relu"))
    starts = starts_for(net, [41, 42])
    result = train_population(net, starts, X, Y, learning_rate=0.05, iterations=20, backend=backend)
    assert_matches_reference(net, starts, X, Y, result, 0.05, 20)


@pytest.mark.parametrize("m", [1, 5, 16, 17, 161, 1000])
def test_any_number_of_samples(m):
    """Chunks are padded with masked copies of real samples: any m gives the same maths."""
    X, Y = toy_data(2, m, seed=m)
    net = Network((2, 6, 3, 1), ("relu", "relu"))
    starts = starts_for(net, [51, 52])
    result = train_population(
        net, starts, X, Y, learning_rate=0.1, iterations=15, backend="compiled"
    )
    assert_matches_reference(net, starts, X, Y, result, 0.1, 15)


def test_split_plan():
    """Leftover models (fewer than the threads) are split over the threads, a chunk each."""
    from initlab.engine.compiled import split_plan

    assert split_plan(1, 2, 2) == (0, 2)
    assert split_plan(3, 2, 2) == (2, 2)
    assert split_plan(1000, 2, 2) == (1000, 1)
    assert split_plan(1, 2, 1) == (1, 1)  # one chunk: nothing to split
    assert split_plan(1, 4, 3) == (0, 3)
    assert split_plan(2, 4, 7) == (0, 2)
    assert split_plan(3, 4, 7) == (3, 1)  # one thread each already
    assert split_plan(5, 1, 9) == (5, 1)


@pytest.mark.parametrize(
    ("m", "models", "threads"),
    [(300, 1, 2), (481, 1, 2), (1000, 1, 2), (1000, 1, 3), (481, 2, 4), (1000, 4, 3)],
)
def test_models_split_over_threads_match_the_reference(m, models, threads):
    """2, 4 and 7 chunks shared by groups of 2 or 3 threads (uneven shares, odd m)."""
    X, Y = toy_data(2, m, seed=m)
    net = Network((2, 7, 3, 1), ("tanh", "relu"))
    starts = starts_for(net, range(60, 60 + models))
    result = train_population(
        net, starts, X, Y, learning_rate=0.1, iterations=15, backend="compiled", threads=threads
    )
    assert_matches_reference(net, starts, X, Y, result, 0.1, 15)


@pytest.mark.parametrize("pays", [0.0, math.inf])
def test_a_split_that_stops_paying_falls_back_to_one_thread(monkeypatch, pays):
    """SPLIT_PAYS = 0: every window counts as slow, so after a few windows the first
    thread carries on alone (where there is a cycle counter); inf: never. Same maths."""
    monkeypatch.setattr("initlab.engine.compiled.SPLIT_PAYS", pays)
    X, Y = toy_data(2, 1000, seed=3)
    net = Network((2, 5, 1), ("sigmoid",))
    starts = starts_for(net, [70, 71, 72])
    iterations = 1000  # past WINDOW * (BAD_WINDOWS + 1) iterations
    result = train_population(
        net, starts, X, Y, learning_rate=0.5, iterations=iterations, backend="compiled",
        threads=2,
    )  # fmt: skip
    assert_matches_reference(net, starts, X, Y, result, 0.5, iterations)


def test_a_split_model_diverges_where_the_reference_does():
    """The threads of a group agree on the cost, so they stop together (no hang)."""
    data = course_circles()
    net = Network((2, 10, 5, 1), ("identity", "identity"))
    start = starts_for(net, [7])[0]  # seed 7 x 10: diverges a few iterations in
    for scale in (1e200, 10.0):
        sick = Parameters([w * scale for w in start.weights], start.biases)
        kwargs = dict(learning_rate=0.5, iterations=40, backend="compiled")
        result = train_population(net, [sick], data.X_train, data.Y_train, threads=2, **kwargs)
        assert result.diverged_at[0] == 0 if scale > 1e100 else result.diverged_at[0] > 3
        assert_matches_reference(net, [sick], data.X_train, data.Y_train, result, 0.5, 40)
        one = train_population(net, [sick], data.X_train, data.Y_train, threads=1, **kwargs)
        assert one.diverged_at[0] == result.diverged_at[0]
        np.testing.assert_allclose(result.costs, one.costs, rtol=COST_RTOL, atol=0)


def test_a_split_course_run_is_the_single_thread_run():
    """One chunk per thread: the same partial sums, added in the single thread's order.

    Only agreement to rounding is asserted: how the compiler groups the additions
    (reassociation is allowed) may differ between the two paths on some CPUs.
    """
    data = course_circles()
    net = Network.course()
    start = [initialize(net, "he", np.random.RandomState(3))]
    kwargs = dict(learning_rate=0.01, iterations=200, backend="compiled")
    one = train_population(net, start, data.X_train, data.Y_train, threads=1, **kwargs)
    two = train_population(net, start, data.X_train, data.Y_train, threads=2, **kwargs)
    np.testing.assert_allclose(two.costs, one.costs, rtol=1e-13, atol=0)
    for got, want in zip(two.params[0].weights, one.params[0].weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_auto_sends_wide_layers_to_numpy():
    at, above = Network((2, WIDE_LAYER, 1), ("relu",)), Network((2, WIDE_LAYER + 1, 1), ("relu",))
    assert choose_backend(at, models=4, threads=2) == "compiled"
    assert choose_backend(above, models=4, threads=2) == "numpy"
    few = Network((2, WIDE_LAYER_FEW_MODELS + 1, 1), ("relu",))
    assert choose_backend(few, models=2, threads=2) == "compiled"
    assert choose_backend(few, models=1, threads=2) == "numpy"


def test_population_of_1000_differently_seeded_models():
    data = course_circles()
    net = Network.course()
    starts = starts_for(net, range(1000))
    result = train_population(
        net, starts, data.X_train, data.Y_train, learning_rate=0.05, iterations=20
    )
    assert result.backend == "compiled"
    assert result.costs.shape == (1000, 20)
    assert not result.diverged.any()
    # the models really differ ...
    assert len(np.unique(result.costs[:, -1])) == 1000
    # ... and each one is its own reference run (a sample of them: the loop is slow)
    models = [0, 1, 137, 500, 998, 999]
    assert_matches_reference(
        net, starts, data.X_train, data.Y_train, result, 0.05, 20, models=models
    )
    # a model's numbers do not depend on the population around it or on threads
    alone = train_population(
        net, [starts[137]], data.X_train, data.Y_train, learning_rate=0.05, iterations=20,
        threads=1,
    )  # fmt: skip
    np.testing.assert_allclose(alone.costs[0], result.costs[137], rtol=1e-13, atol=0)


def test_stacked_parameters_are_accepted_and_not_modified():
    data = course_circles()
    net = Network.course()
    theta = pack(net, starts_for(net, [1, 2, 3]))
    before = theta.copy()
    result = train_population(
        net, theta, data.X_train, data.Y_train, learning_rate=0.05, iterations=5
    )
    np.testing.assert_array_equal(theta, before)
    assert len(result) == 3
    with pytest.raises(ValueError, match=r"shape \(M, 91\)"):
        train_population(
            net, theta[:, :-1], data.X_train, data.Y_train, learning_rate=0.05, iterations=5
        )


# --- divergence ----------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["compiled", "numpy"])
def test_a_diverging_model_does_not_disturb_the_others(backend):
    data = course_circles()
    net = Network((2, 10, 5, 1), ("identity", "identity"))  # linear: large weights blow up
    starts = starts_for(net, [5, 6, 7, 8])
    starts[1] = Parameters([w * 1e200 for w in starts[1].weights], starts[1].biases)  # at once
    starts[2] = Parameters([w * 10 for w in starts[2].weights], starts[2].biases)  # a bit later
    kwargs = dict(learning_rate=0.5, iterations=40, backend=backend)
    result = train_population(net, starts, data.X_train, data.Y_train, **kwargs)
    assert result.diverged.tolist() == [False, True, True, False]
    assert result.diverged_at[1] == 0
    assert result.diverged_at[2] > 3
    assert np.isnan(result.costs[1, 1:]).all()
    # the diverged ones stop exactly where the reference loop stops, the others match too
    assert_matches_reference(net, starts, data.X_train, data.Y_train, result, 0.5, 40)
    # and the healthy models are what they are without the sick ones (with one thread,
    # so that no model shares a thread with a sick one by luck of the schedule)
    healthy = train_population(
        net, [starts[0], starts[3]], data.X_train, data.Y_train, threads=1, **kwargs
    )
    assert (healthy.diverged_at == -1).all()
    np.testing.assert_allclose(healthy.costs, result.costs[[0, 3]], rtol=1e-13, atol=0)


ENGINE_PATHS = [
    dict(backend="compiled", threads=1),
    dict(backend="compiled", threads=2),  # one model: split over both threads
    dict(backend="numpy"),
]


@pytest.mark.parametrize("path", ENGINE_PATHS, ids=["compiled-1", "compiled-2", "numpy"])
@pytest.mark.parametrize("learning_rate", [1.0, 1e300])
def test_zero_weights_on_balanced_labels_stay_at_ln2_at_any_learning_rate(path, learning_rate):
    """With zero weights every error ``sigmoid(0) - y`` is exactly +-1/2, so on balanced
    labels every gradient is exactly 0 (its sums are exact in any order, the 1/m comes
    after them): the cost stays ln 2 whatever the step, on every engine path."""
    data = course_circles()
    assert data.Y_train.sum() * 2 == data.Y_train.size  # balanced
    net = Network.course()
    zeros = initialize(net, "zeros", np.random.RandomState(3))
    kwargs = dict(learning_rate=learning_rate, iterations=20)
    result = train_population(net, [zeros], data.X_train, data.Y_train, **kwargs, **path)
    params, history = gradient_descent(net, zeros, data.X_train, data.Y_train, **kwargs)
    assert result.diverged_at[0] == -1 and history.diverged_at is None
    np.testing.assert_allclose(result.costs[0], math.log(2), rtol=1e-14)
    np.testing.assert_allclose(history.costs, math.log(2), rtol=1e-14)
    for got, want in zip(result.params[0].biases, params.biases, strict=True):
        assert (got == 0).all() and (want == 0).all()


@pytest.mark.parametrize("path", ENGINE_PATHS, ids=["compiled-1", "compiled-2", "numpy"])
def test_engines_agree_with_the_reference_at_an_extreme_learning_rate(path):
    """At a step of 1e300 the output bias swings between +-1e299 (unbalanced labels:
    finite, huge costs), and random weights overflow: every engine path stops where
    the reference loop stops and agrees with it to rounding until then."""
    X, Y = toy_data(2, 90, seed=4)
    assert Y.sum() * 2 != Y.size  # unbalanced: the bias gradient is not zero
    net = Network((2, 6, 1), ("relu",))
    starts = [initialize(net, "zeros", np.random.default_rng(0)), *starts_for(net, [1])]
    kwargs = dict(learning_rate=1e300, iterations=12)
    diverged = []
    for start in starts:
        result = train_population(net, [start], X, Y, **kwargs, **path)
        _, history = gradient_descent(net, start, X, Y, **kwargs)
        assert result.history(0).diverged_at == history.diverged_at
        np.testing.assert_allclose(result.history(0).costs, history.costs, rtol=1e-12, atol=0)
        diverged.append(history.diverged_at)
        if start is starts[0]:  # zero weights: finite costs of order 1e299
            assert history.costs[1:].min() > 1e298 and np.isfinite(history.costs).all()
    assert diverged[0] is None and diverged[1] is not None


# --- the course, through the engine --------------------------------------------------------


@pytest.fixture(scope="module")
def course_population():
    data = course_circles()
    net = Network.course()
    starts = [initialize(net, name, np.random.RandomState(3)) for name in ("zeros", "random", "he")]
    result = train_population(
        net, starts, data.X_train, data.Y_train, learning_rate=0.01, iterations=15000
    )
    return data, net, result


def test_course_he_costs_match_the_published_numbers(course_population):
    _, _, result = course_population
    he = result.costs[2]
    for iteration, cost in EXPECTED["runs"]["he"]["costs"].items():
        assert abs(he[int(iteration)] - cost) <= 1e-9, iteration


def test_course_zeros_costs_are_ln2(course_population):
    _, _, result = course_population
    np.testing.assert_allclose(result.costs[0], math.log(2), rtol=0, atol=1e-12)


def test_course_random_first_cost_is_finite_cross_entropy(course_population):
    _, _, result = course_population
    assert np.isfinite(result.costs[1]).all()
    assert result.costs[1, 0] > 100  # saturated sigmoid: large, finite


def test_course_accuracies(course_population):
    data, net, result = course_population
    for i, name in enumerate(("zeros", "random", "he")):
        expected = EXPECTED["runs"][name]
        p = result.params[i]
        assert accuracy(net, p, data.X_train, data.Y_train) == expected["train_accuracy"], name
        assert accuracy(net, p, data.X_test, data.Y_test) == expected["test_accuracy"], name


def test_run_course_engines_agree():
    config = course_config(inits=("he", "zeros"), iterations=3000, print_every=500)
    printed = {"fast": [], "reference": []}
    results = {
        engine: run_course(
            config, engine=engine, on_cost=lambda n, i, c, e=engine: printed[e].append((n, i, c))
        )
        for engine in ("fast", "reference")
    }
    fast, ref = printed["fast"], printed["reference"]
    # the reference prints run after run; the population both runs at each iteration in turn
    assert [(n, i) for n, i, _ in ref] == [
        (n, i) for n in ("he", "zeros") for i in range(0, 3000, 500)
    ]
    assert [(n, i) for n, i, _ in fast] == [
        (n, i) for i in range(0, 3000, 500) for n in ("he", "zeros")
    ]
    ref_costs = {(n, i): c for n, i, c in ref}
    np.testing.assert_allclose(
        [c for *_, c in fast], [ref_costs[n, i] for n, i, _ in fast], rtol=1e-12
    )
    for a, b in zip(results["fast"].runs, results["reference"].runs, strict=True):
        assert a.init == b.init
        assert a.train_accuracy == b.train_accuracy
        assert a.test_accuracy == b.test_accuracy
        assert a.final_cost == pytest.approx(b.final_cost, rel=1e-12)


def test_run_course_rejects_unknown_engine():
    with pytest.raises(ValueError, match="unknown engine 'gpu'; choose one of: fast, reference"):
        run_course(course_config(iterations=1), engine="gpu")


def test_cli_course_engine_option(tmp_path, capsys):
    from initlab.cli import main

    code = main(
        ["course", "--engine", "reference", "--iterations", "3", "--init", "he",
         "--out", str(tmp_path), "--quiet"]
    )  # fmt: skip
    assert code == 0
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["runs"][0]["costs"][0]["cost"] == pytest.approx(0.8830537463419761, abs=1e-12)
    code = main(["course", "--engine", "gpu", "--out", str(tmp_path)])
    assert code == 2
    assert "gpu" in capsys.readouterr().err


# --- backends, options, fallbacks ----------------------------------------------------------


def test_unknown_backend_and_dtype_are_rejected():
    net = Network.course()
    data = course_circles()
    starts = starts_for(net, [1])
    with pytest.raises(ValueError, match="unknown backend 'cuda'; choose one of: auto, compiled"):
        train_population(net, starts, data.X_train, data.Y_train, learning_rate=0.1, iterations=1,
                         backend="cuda")  # fmt: skip
    with pytest.raises(ValueError, match="unknown dtype 'float16'"):
        train_population(net, starts, data.X_train, data.Y_train, learning_rate=0.1, iterations=1,
                         dtype="float16")  # fmt: skip
    with pytest.raises(ValueError, match="learning_rate must be a positive finite number, got -1"):
        train_population(net, starts, data.X_train, data.Y_train, learning_rate=-1, iterations=1)


def test_compiled_backend_refuses_an_activation_it_does_not_know(monkeypatch):
    import initlab.engine.population as population

    monkeypatch.setattr(population, "KERNEL_ACTIVATIONS", {"relu": 1})
    net = Network((2, 3, 1), ("sigmoid",))
    assert choose_backend(net) == "numpy"
    with pytest.raises(ValueError, match=r"does not support activation\(s\) \['sigmoid'\]"):
        choose_backend(net, "compiled")


def test_without_numba_auto_falls_back_to_numpy_with_a_warning(monkeypatch):
    monkeypatch.setitem(sys.modules, "initlab.engine.compiled", None)  # import fails
    data = course_circles()
    net = Network.course()
    starts = starts_for(net, [1, 2])
    with pytest.warns(RuntimeWarning, match="compiled engine unavailable"):
        result = train_population(net, starts, data.X_train, data.Y_train, learning_rate=0.05,
                                  iterations=10)  # fmt: skip
    assert result.backend == "numpy"
    assert_matches_reference(net, starts, data.X_train, data.Y_train, result, 0.05, 10)


def test_float32_stays_close_to_float64():
    data = course_circles()
    net = Network.course()
    starts = [initialize(net, "he", np.random.RandomState(3))]
    kwargs = dict(learning_rate=0.01, iterations=3000)
    r64 = train_population(net, starts, data.X_train, data.Y_train, **kwargs)
    r32 = train_population(net, starts, data.X_train, data.Y_train, dtype="float32", **kwargs)
    err = np.abs(r32.costs - r64.costs).max()
    assert 0 < err < 1e-5


def test_commands_that_do_not_train_do_not_import_numba():
    code = (
        "import sys, initlab, initlab.engine, initlab.cli.commands, initlab.experiments.course\n"
        "from initlab.cli import main\n"
        "assert main(['--help']) == 0\n"
        "assert 'numba' not in sys.modules, 'numba imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
