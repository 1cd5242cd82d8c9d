"""Benchmark of sweeps: the course comparison, the store's overhead, a grid of small runs.

    python benchmarks/sweep.py --json sweep-benchmark.json

1. ``initlab compare``'s course setting (zeros, random, he x 100 seeds, 15000 iterations of
   full-batch gradient descent on the course network), statistics and figure included,
   against the reference loop (:func:`initlab.fit.gradient_descent`) run 10 times and
   scaled to the 300 runs.
2. The store's overhead per run: committing batches of 100 records of 15000-point cost
   curves (:meth:`initlab.sweep.Store.add_batch`).
3. A grid of 10,000 small runs (the course network, 500 iterations: 10 initializer scales
   x 10 learning rates x 100 seeds) through :func:`initlab.sweep.plan.run_batches`
   (store included), against the pure engine (:func:`initlab.engine.train_population`)
   training the same batches.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np

from initlab import Network, course_circles, initialize
from initlab.engine import train_population
from initlab.engine.population import usable_cores
from initlab.experiments.train import TrainConfig
from initlab.fit import gradient_descent
from initlab.sweep.compare import CompareSpec, run_compare
from initlab.sweep.figures import comparison_figure
from initlab.sweep.grammar import parse_spec
from initlab.sweep.plan import (
    batch_backend,
    run_batches,
    setup_of,
    shuffle_rng,
    weight_rng,
)
from initlab.sweep.store import RunRecord, Store, run_hash
from initlab.sweep.summary import METRICS, compare_summary, curves_by_init, sweep_summary

COURSE = TrainConfig(dataset="course_circles", hidden=(10, 5), optimizer="gd",
                     learning_rate=0.01, iterations=15000)  # fmt: skip

GRID = """
seeds = 100
[train]
dataset = "course_circles"
optimizer = "gd"
iterations = 500
[grid]
init = ["normal(std={0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3})"]
learning-rate = [0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2]
"""


def course_compare(folder: Path) -> dict:
    spec = CompareSpec(COURSE, seeds=100)
    started, cpu = time.perf_counter(), time.process_time()
    with Store.open(folder, spec.hash) as store:
        for _ in run_compare(spec, store):
            pass
        trained = time.perf_counter() - started
        trained_cpu = time.process_time() - cpu
        frame = store.frame(costs=True)
    summary = compare_summary(frame, COURSE.inits)
    values = {
        init: {m: frame[frame["init"] == init].sort_values("seed_index")[m].to_numpy(float)
               for m in METRICS}
        for init in COURSE.inits
    }  # fmt: skip
    fig = comparison_figure(values, curves_by_init(frame, COURSE.inits),
                            ["test_accuracy", "final_cost"])  # fmt: skip
    fig.savefig(folder / "comparison.png")
    total = time.perf_counter() - started
    total_cpu = time.process_time() - cpu
    data, net = course_circles(), Network.course()
    reference, reference_cpu = [], []
    for k in range(10):
        init = COURSE.inits[k % 3]
        start = initialize(net, init, weight_rng(COURSE, k))
        t, c = time.perf_counter(), time.process_time()
        gradient_descent(net, start, data.X_train, data.Y_train, learning_rate=0.01,
                         iterations=15000)  # fmt: skip
        reference.append(time.perf_counter() - t)
        reference_cpu.append(time.process_time() - c)
    reference_total = float(np.mean(reference)) * 300
    return {
        "runs": 300,
        "iterations": 15000,
        "sweep_s": total,
        "training_and_store_s": trained,
        "statistics_and_figure_s": total - trained,
        "us_per_model_iter": trained / (300 * 15000) * 1e6,
        "reference_10_runs_s": float(np.sum(reference)),
        "reference_scaled_300_s": reference_total,
        "speedup": reference_total / total,
        "cpu_s": total_cpu,
        "training_cpu_s": trained_cpu,
        "reference_scaled_300_cpu_s": float(np.mean(reference_cpu)) * 300,
        "cpu_speedup": float(np.mean(reference_cpu)) * 300 / total_cpu,
        "he_median_test_accuracy": next(
            g["test_accuracy"]["median"] for g in summary["groups"] if g["init"] == "he"
        ),
    }


def store_overhead(folder: Path, batches: int = 20, size: int = 100) -> dict:
    rng = np.random.default_rng(0)
    records = [
        [
            RunRecord(
                hash=run_hash(config := {"b": b, "i": i}),
                batch=b,
                config=config,
                metrics={
                    "final_cost": float(rng.random()),
                    "train_accuracy": 0.9,
                    "test_accuracy": 0.9,
                    "diverged": False,
                    "diverged_at": None,
                    "exploded": False,
                },
                costs=rng.random(15000),
                timings={"train_s": 0.1},
                status="ok",
            )
            for i in range(size)
        ]
        for b in range(batches)
    ]
    with Store.open(folder, "overhead") as store:
        started = time.perf_counter()
        for batch in records:
            store.add_batch(batch)
        seconds = time.perf_counter() - started
    return {"runs": batches * size, "cost_points": 15000,
            "ms_per_run": seconds / (batches * size) * 1e3}  # fmt: skip


def small_grid(folder: Path) -> dict:
    spec = parse_spec(tomllib.loads(GRID))
    started, cpu = time.perf_counter(), time.process_time()
    batches = spec.batches()
    planned = time.perf_counter() - started
    with Store.open(folder, spec.hash) as store:
        for _ in run_batches(batches, store):
            pass
        swept = time.perf_counter() - started
        swept_cpu = time.process_time() - cpu
        frame = store.frame(costs=True)
    t = time.perf_counter()
    sweep_summary(frame, spec.varying_columns, threshold=0.5)
    statistics = time.perf_counter() - t
    engine = engine_cpu = 0.0
    threads = usable_cores()
    for batch in batches:
        setup = setup_of(batch.config)
        starts = [initialize(setup.network, r.init, weight_rng(batch.config, r.seed))
                  for r in batch.runs]  # fmt: skip
        backend = batch_backend(batch)
        t, c = time.perf_counter(), time.process_time()
        train_population(setup.network, starts, setup.dataset.X_train, setup.dataset.Y_train,
                         backend=backend, threads=threads,
                         **setup.training(shuffle_rng(batch.config)))  # fmt: skip
        engine += time.perf_counter() - t
        engine_cpu += time.process_time() - c
    return {
        "runs": spec.n_runs,
        "iterations": 500,
        "batches": len(batches),
        "plan_s": planned,
        "sweep_s": swept,
        "engine_s": engine,
        "ratio_to_engine": swept / engine,
        "sweep_cpu_s": swept_cpu,
        "engine_cpu_s": engine_cpu,
        "cpu_ratio_to_engine": swept_cpu / engine_cpu,
        "statistics_s": statistics,
    }


def speed_table(bench: dict) -> str:
    """The table of ``docs/sweep.md``'s speed section, from the benchmark's JSON."""
    course, store, grid = bench["course_compare"], bench["store"], bench["grid"]
    rows = [
        ("the course compare (3 inits x 100 seeds x 15000 iterations), statistics, "
         "store and figure included",
         f"{course['sweep_s']:.1f} s wall ({course['us_per_model_iter']:.1f} us per "
         f"model-iteration in training); {course['cpu_s']:.1f} s of CPU",
         f"reference loop: {course['reference_10_runs_s']:.1f} s for 10 runs, "
         f"{course['reference_scaled_300_s']:.0f} s scaled to 300: "
         f"{course['speedup']:.1f}x faster in wall time, "
         f"{course['cpu_speedup']:.1f}x in CPU time"),
        ("the store, per run (a 15000-point cost curve, batches of 100)",
         f"{store['ms_per_run']:.2f} ms", "target < 1 ms"),
        (f"a grid of {grid['runs']:,} runs (course network, {grid['iterations']} iterations, "
         f"{grid['batches']} batches), store included",
         f"{grid['sweep_s']:.1f} s wall, {grid['sweep_cpu_s']:.1f} s CPU (plan "
         f"{grid['plan_s']:.2f} s; statistics {grid['statistics_s']:.1f} s more)",
         f"the pure engine on the same batches: {grid['engine_s']:.1f} s wall, "
         f"{grid['engine_cpu_s']:.1f} s CPU: {grid['ratio_to_engine']:.2f}x in wall time, "
         f"{grid['cpu_ratio_to_engine']:.2f}x in CPU time"),
    ]  # fmt: skip
    lines = ["| what | time | against |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    result: dict = {
        "machine": {"platform": platform.platform(), "cpus": usable_cores(),
                    "python": platform.python_version(), "numpy": np.__version__,
                    "load_average_before": os.getloadavg()[0]},
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        result["store"] = store_overhead(Path(tmp) / "store")
        print("store", result["store"], flush=True)
        result["grid"] = small_grid(Path(tmp) / "grid")
        print("grid", result["grid"], flush=True)
        result["course_compare"] = course_compare(Path(tmp) / "compare")
        print("course", result["course_compare"], flush=True)
    result["machine"]["load_average_after"] = os.getloadavg()[0]
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(speed_table(result))


if __name__ == "__main__":
    main()
