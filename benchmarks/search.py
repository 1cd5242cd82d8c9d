"""Benchmark of a grid search over initializations: GridSearchCV vs InitGridSearchCV.

    python benchmarks/search.py --json search-benchmark.json

Digits (``load_digits``, standardized), a ``[64, 64, 10]`` network (ReLU hidden layer,
softmax), Adam (learning rate 0.001) on minibatches of 32 for a few epochs; the grid is
5 initializers x 10 seeds (``random_state``), 3-fold cross-validation: 150 fits.
``GridSearchCV`` (one process, and ``n_jobs`` = the usable cores) and ``InitGridSearchCV``
run in this process, alternately ``--repeats`` times (the compiled kernel loaded once
before; the best wall time of each is kept), with BLAS's threads as set and then on one
thread (BLAS serves only ``predict``; on a loaded machine its threads wait for each
other); the script checks that all give the same split scores and best parameters.

A population does the same work per model as a lone fit (the kernel trains each model
on its own, samples vectorized): what it saves is the per-fit overhead, and it spreads the
models over the cores. The last measurement shows it: one seed's 5 models on one thread,
as one population and one by one.

With minibatches, the seed also chooses the minibatch order, which a population shares:
each population is one seed's 5 initializers (10 populations per split).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from initlab.engine.population import usable_cores
from initlab.sklearn import InitGridSearchCV, InitMLPClassifier

INITS = ["he", "lecun_normal", "glorot_uniform", "orthogonal", "torch_linear"]
SEEDS = list(range(10))


def searches(epochs: int) -> tuple[InitMLPClassifier, dict[str, list]]:
    """The estimator and the grid of the benchmark."""
    estimator = InitMLPClassifier(
        hidden_layer_sizes=(64,),
        activation="relu",
        optimizer="adam",
        learning_rate_init=0.001,
        batch_size=32,
        max_iter=epochs,
    )
    return estimator, {"init": INITS, "random_state": SEEDS}


def timed(search, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Wall and CPU seconds of ``search.fit(X, y)``, and the seconds its ``cv_results_``
    count for fitting and scoring (summed over the fits: overlapping fits count twice)."""
    wall, cpu = time.perf_counter(), time.process_time()
    search.fit(X, y)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    results, n = search.cv_results_, search.n_splits_
    return {
        "wall_s": wall,
        "cpu_s": cpu,  # this process only: not the n_jobs workers
        "fit_s": float(results["mean_fit_time"].sum() * n),
        "score_s": float(results["mean_score_time"].sum() * n),
    }


def measure(X, y, estimator, grid, cv: int, repeats: int) -> tuple[dict, bool]:
    """The three searches, alternated ``repeats`` times (a change of load hits all), best
    wall time of each; and whether they agree on every split score and the best parameters."""
    makers = {
        "gridsearchcv": lambda: GridSearchCV(estimator, grid, cv=cv),
        "gridsearchcv_n_jobs": lambda: GridSearchCV(estimator, grid, cv=cv, n_jobs=usable_cores()),
        "initgridsearchcv": lambda: InitGridSearchCV(estimator, grid, cv=cv),
    }
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in makers}
    done = {}
    for _ in range(repeats):
        for name, make in makers.items():
            done[name] = make()
            runs[name].append(timed(done[name], X, y))
    best = {name: min(times, key=lambda t: t["wall_s"]) for name, times in runs.items()}
    for name, times in runs.items():
        best[name]["runs_wall_s"] = [t["wall_s"] for t in times]
    best["ratio"] = best["gridsearchcv"]["wall_s"] / best["initgridsearchcv"]["wall_s"]
    best["ratio_to_n_jobs"] = (
        best["gridsearchcv_n_jobs"]["wall_s"] / best["initgridsearchcv"]["wall_s"]
    )
    reference = done["gridsearchcv"]
    keys = [f"split{k}_test_score" for k in range(cv)]
    same = all(
        all(np.array_equal(reference.cv_results_[k], other.cv_results_[k]) for k in keys)
        and other.best_params_ == reference.best_params_
        for other in done.values()
    )
    return best, same


def engine_work(X: np.ndarray, y: np.ndarray, epochs: int, repeats: int) -> dict[str, float]:
    """One split's population of one seed (the 5 initializers) on one thread, against the
    5 models trained one after the other on one thread: the work per model, best of
    ``repeats``."""
    from initlab.engine.population import train_population

    plans = [
        searches(epochs)[0].set_params(init=init, random_state=0)._plan(X, y) for init in INITS
    ]
    first = plans[0]

    def train(group) -> float:
        start = time.perf_counter()
        train_population(first.network, [plan.start for plan in group], first.X, first.Y,
                         optimizer=first.optimizer, backend="compiled", threads=1,
                         **first.schedule())  # fmt: skip
        return time.perf_counter() - start

    together = min(train(plans) for _ in range(repeats))
    alone = min(sum(train([plan]) for plan in plans) for _ in range(repeats))
    return {"population_ms": 1e3 * together, "one_by_one_ms": 1e3 * alone}


def table(report: dict) -> str:
    """The Markdown table of ``report`` that docs/train.md quotes (a test checks it)."""
    cores = report["machine"]["cpus"]
    lines = [
        f"| BLAS | GridSearchCV | GridSearchCV, n_jobs={cores} | InitGridSearchCV | ratio |",
        "|---|---|---|---|---|",
    ]
    for title, key in (("threads as set", "default_blas"), ("one thread", "blas_one_thread")):
        numbers = report[key]
        lines.append(
            f"| {title} | {numbers['gridsearchcv']['wall_s']:.2f} s "
            f"| {numbers['gridsearchcv_n_jobs']['wall_s']:.2f} s "
            f"| {numbers['initgridsearchcv']['wall_s']:.2f} s | {numbers['ratio']:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per fit (default 5)")
    parser.add_argument("--cv", type=int, default=3, help="folds (default 3)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of each search, best kept (default 3)"
    )
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    estimator, grid = searches(args.epochs)
    estimator.set_params(random_state=0).fit(X[:100], y[:100])  # load the kernel once
    load_before = os.getloadavg()[0]
    default, same_default = measure(X, y, estimator, grid, args.cv, args.repeats)
    with threadpool_limits(limits=1, user_api="blas"):
        one_blas, same_one_blas = measure(X, y, estimator, grid, args.cv, args.repeats)
        work = engine_work(X[: len(X) * 2 // 3], y[: len(y) * 2 // 3], args.epochs, args.repeats)
    load_after = os.getloadavg()[0]
    same = same_default and same_one_blas

    fits = len(INITS) * len(SEEDS) * args.cv
    report = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": usable_cores(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
        "job": {
            "dataset": "digits (1797 samples, standardized)",
            "layers": [64, 64, 10],
            "activation": "relu",
            "head": "softmax",
            "optimizer": "adam",
            "learning_rate": 0.001,
            "batch_size": 32,
            "epochs": args.epochs,
            "inits": INITS,
            "seeds": len(SEEDS),
            "cv": args.cv,
            "fits": fits,
            "repeats": args.repeats,
        },
        "gridsearchcv_s": default["gridsearchcv"]["wall_s"],
        "initgridsearchcv_s": default["initgridsearchcv"]["wall_s"],
        "ratio": default["ratio"],
        "default_blas": default,
        "blas_one_thread": one_blas,
        "engine_one_thread_5_models": work,
        "identical_split_scores_and_best_params": bool(same),
    }
    print(
        f"digits, [64, 64, 10] ReLU softmax, Adam, batch 32, {args.epochs} epochs, "
        f"{len(INITS)} inits x {len(SEEDS)} seeds, cv={args.cv} ({fits} fits), "
        f"best of {args.repeats}"
    )
    for title, numbers in (("BLAS threads as set", default), ("BLAS on one thread", one_blas)):
        print(f"{title:26s} wall (s)  CPU (s)  fitting (s)  scoring (s)")
        for name in ("gridsearchcv", "gridsearchcv_n_jobs", "initgridsearchcv"):
            t = numbers[name]
            print(f"  {name:24s}{t['wall_s']:8.2f} {t['cpu_s']:8.2f} {t['fit_s']:12.2f} "
                  f"{t['score_s']:12.2f}")  # fmt: skip
        print(f"  ratio GridSearchCV / InitGridSearchCV: {numbers['ratio']:.2f}x "
              f"(n_jobs={usable_cores()}: {numbers['ratio_to_n_jobs']:.2f}x)")  # fmt: skip
    print(
        f"engine, 5 models of one seed on one thread: {work['population_ms']:.1f} ms as one "
        f"population, {work['one_by_one_ms']:.1f} ms one by one"
    )
    print(f"same split scores and best parameters: {same}")
    print(table(report), end="")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
