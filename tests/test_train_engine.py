"""`run_train` on the population engine against the one-run-at-a-time loop (the oracle)."""

from __future__ import annotations

import numpy as np
import pytest

from initlab.experiments.train import TrainConfig, prepare, run_train


def gd_config(**overrides) -> TrainConfig:
    settings = {
        "dataset": "moons(noise=0.2)",
        "hidden": (8, 4),
        "activations": ("tanh",),
        "inits": ("he", "zeros", "glorot_uniform", "normal(std=0.5)"),
        "optimizer": "gd",
        "learning_rate": 0.1,
        "iterations": 200,
        "print_every": 50,
        "seed": 3,
    }
    settings.update(overrides)
    return TrainConfig(**settings)


TRAININGS = {
    "gd": {},
    "adam minibatches": {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 32},
    "sgd": {"optimizer": "sgd", "batch_size": 50},
    "momentum, weight decay": {"optimizer": "momentum", "weight_decay": 0.01, "batch_size": 64},
    "softmax, gelu": {"dataset": "blobs(k=3)", "activations": ("gelu",), "standardize": True},
}


@pytest.mark.parametrize("overrides", TRAININGS.values(), ids=TRAININGS.keys())
def test_fast_and_reference_agree_run_by_run(overrides) -> None:
    setup = prepare(gd_config(**overrides))
    reported: dict[str, list[tuple[str, int, float]]] = {"fast": [], "reference": []}
    results = {}
    for engine, lines in reported.items():
        results[engine] = run_train(
            setup, engine=engine, on_cost=lambda init, i, c, out=lines: out.append((init, i, c))
        )
    fast, reference = results["fast"].runs, results["reference"].runs
    assert [r.init for r in fast] == [r.init for r in reference]
    for f, r in zip(fast, reference, strict=True):
        assert len(f.history.costs) == len(r.history.costs) == 200
        np.testing.assert_allclose(f.history.costs, r.history.costs, rtol=1e-10, atol=0)
        for wf, wr in zip(f.params.weights, r.params.weights, strict=True):
            np.testing.assert_allclose(wf, wr, rtol=1e-9, atol=1e-12)
        assert f.train_accuracy == r.train_accuracy
        assert f.test_accuracy == r.test_accuracy
    fast_lines, reference_lines = reported["fast"], reported["reference"]
    assert len(fast_lines) == len(reference_lines) == 4 * 4
    # the reference reports run after run; the population every run at each update in turn
    order = [r.init for r in reference]
    assert [(i, n) for i, n, _ in reference_lines] == sorted(
        ((i, n) for i, n, _ in reference_lines), key=lambda line: order.index(line[0])
    )
    assert [(i, n) for i, n, _ in fast_lines] == sorted(
        ((i, n) for i, n, _ in reference_lines), key=lambda line: (line[1], order.index(line[0]))
    )
    fast_costs = {(i, n): c for i, n, c in fast_lines}
    for i, n, c in reference_lines:
        assert fast_costs[i, n] == pytest.approx(c, rel=1e-10, abs=0)


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown engine 'turbo'; choose one of: fast, reference"):
        run_train(gd_config(), engine="turbo")
