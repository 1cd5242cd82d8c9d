"""Bad and borderline ``rng``, ``report_every`` and ``on_report`` given to
``train_population``: refused naming the value, or handled as ``fit`` handles them."""

from __future__ import annotations

import numpy as np
import pytest

from initlab import Network, course_circles, initialize, memory
from initlab.engine import train_population
from initlab.fit import fit
from initlab.optimizers import get_optimizer

DATA = course_circles()
NET = Network.course()
X, Y = DATA.X_train, DATA.Y_train
STARTS = [initialize(NET, "he", np.random.default_rng(s)) for s in range(3)]
SGD = {"optimizer": "sgd", "batch_size": 64, "epochs": 2, "learning_rate": 0.01}
FULL = {"iterations": 3, "learning_rate": 0.01}


@pytest.mark.parametrize("settings", [SGD, FULL], ids=["minibatch", "full-batch"])
@pytest.mark.parametrize(
    ("rng", "error", "named"),
    [
        ([1, 2], ValueError, "list of 2"),
        ([], ValueError, "list of 0"),
        ((1, "x", 3), TypeError, "rng[1]"),
        ([1, -2, 3], ValueError, "rng[1]"),
    ],
)
def test_a_bad_per_model_rng_is_refused_full_batch_too(settings, rng, error, named):
    with pytest.raises(error) as caught:
        train_population(NET, STARTS, X, Y, rng=rng, **settings)
    assert named in str(caught.value)


@pytest.mark.parametrize("backend", ["compiled", "numpy"])
def test_one_generator_object_for_several_models_is_refused(backend):
    # each backend used to draw something else from it (the kernel the same order for all,
    # the NumPy engine interleaved draws), and neither what fit would draw in sequence
    g = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"rng\[1\] is the same generator object as rng\[0\]"):
        train_population(NET, STARTS, X, Y, rng=[g, g, np.random.default_rng(2)],
                         backend=backend, **SGD)  # fmt: skip
    assert g.bit_generator.state == np.random.default_rng(0).bit_generator.state


@pytest.mark.parametrize("backend", ["compiled", "numpy"])
@pytest.mark.parametrize("per_model", [False, True], ids=["one-rng", "per-model"])
def test_the_generators_are_left_where_fit_leaves_them(backend, per_model):
    mine = [np.random.default_rng(7 + i) for i in range(3)]
    train_population(NET, STARTS, X, Y, rng=mine if per_model else mine[0], backend=backend,
                     **SGD)  # fmt: skip
    for i, g in enumerate(mine if per_model else mine[:1]):
        oracle = np.random.default_rng(7 + i)
        fit(NET, STARTS[i], X, Y, get_optimizer("sgd", learning_rate=0.01), epochs=2,
            batch_size=64, rng=oracle)  # fmt: skip
        assert g.bit_generator.state == oracle.bit_generator.state


def test_the_same_generator_trains_the_same_on_both_backends_twice():
    runs = {}
    for backend in ("compiled", "numpy"):
        g = np.random.default_rng(3)
        first = train_population(NET, STARTS[:1], X, Y, rng=g, backend=backend, **SGD).costs
        runs[backend] = train_population(NET, STARTS[:1], X, Y, rng=g, backend=backend, **SGD)
        assert not np.array_equal(first, runs[backend].costs)  # the next epochs' orders
    np.testing.assert_allclose(runs["compiled"].costs, runs["numpy"].costs, rtol=1e-10)


def test_on_report_that_is_not_callable_is_refused_before_training():
    with pytest.raises(TypeError, match=r"on_report must be a callable.*got 3"):
        train_population(NET, STARTS, X, Y, report_every=1, on_report=3, **FULL)


def test_report_every_accepts_numpy_integers():
    seen = []
    train_population(NET, STARTS, X, Y, report_every=np.int64(2),
                     on_report=lambda it, costs: seen.append(it), **FULL)  # fmt: skip
    assert seen == [0, 2]


def test_minibatch_orders_are_drawn_span_by_span_not_all_at_once(monkeypatch):
    """1000 epochs of orders (896 kB) with room for 8 epochs' at a time: trained in spans
    of at most 8 epochs, each span's orders drawn when it starts; the same costs as with
    every order drawn at once (the fit order, epoch by epoch)."""
    from initlab.engine import compiled

    monkeypatch.setattr(compiled, "ORDERS_SPAN_BYTES", 8 * 4 * 224)
    kwargs = dict(optimizer="sgd", batch_size=112, epochs=60, rng=0, backend="compiled")
    spans_run = []
    original = compiled.spans

    def recording(*args, **kw):
        for span in original(*args, **kw):
            spans_run.append(span)
            yield span

    monkeypatch.setattr(compiled, "spans", recording)
    result = train_population(NET, STARTS[:1], X[:, :224], Y[:, :224], **kwargs)
    assert max(stop - first for first, stop in spans_run) <= 8 * 2  # 2 updates per epoch
    _, history = fit(NET, STARTS[0], X[:, :224], Y[:, :224], "sgd", epochs=60, batch_size=112,
                     rng=0)  # fmt: skip
    np.testing.assert_allclose(result.costs[0], history.costs, rtol=1e-10)


def test_per_model_orders_too_large_for_memory_are_refused(monkeypatch):
    """One epoch of 3 orders of 224 samples takes 2688 bytes: refused with room for 2000,
    and one rng for all models (896 bytes an epoch) trains."""
    from initlab.engine import population

    monkeypatch.setattr(population, "ORDERS_MEMORY_FRACTION", 2000 / memory.available_bytes())
    kwargs = dict(optimizer="sgd", batch_size=112, epochs=2, backend="compiled")
    with pytest.raises(ValueError, match="one minibatch order per model needs"):
        train_population(NET, STARTS, X[:, :224], Y[:, :224], rng=[0, 1, 2], **kwargs)
    train_population(NET, STARTS, X[:, :224], Y[:, :224], rng=0, **kwargs)
