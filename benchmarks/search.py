"""Benchmark of a grid search over initializations: GridSearchCV vs InitGridSearchCV.

    python benchmarks/search.py --json search-benchmark.json

Digits (``load_digits``, standardized), a ``[64, 64, 10]`` network (ReLU hidden layer,
softmax), Adam (learning rate 0.001) on minibatches of 32 for a few epochs; the grid is
5 initializers x 10 seeds (``random_state``), 3-fold cross-validation: 150 fits. Both
searches run in this process, alternately ``--repeats`` times (the compiled kernel
loaded once before either; the best wall time of each is kept), and the script checks
that they give the same split scores and the same best parameters.

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


def timed(search, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Wall and CPU seconds of ``search.fit(X, y)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    search.fit(X, y)
    return time.perf_counter() - wall, time.process_time() - cpu


def parts(search) -> tuple[float, float]:
    """Seconds spent fitting and scoring, summed over all fits (from ``cv_results_``)."""
    results = search.cv_results_
    n = search.n_splits_
    return float(results["mean_fit_time"].sum() * n), float(results["mean_score_time"].sum() * n)


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
    plain_runs, population_runs = [], []
    for _ in range(args.repeats):  # alternated, so that a change of load hits both
        plain = GridSearchCV(estimator, grid, cv=args.cv)
        plain_runs.append((*timed(plain, X, y), *parts(plain)))
        population = InitGridSearchCV(estimator, grid, cv=args.cv)
        population_runs.append((*timed(population, X, y), *parts(population)))
    load_after = os.getloadavg()[0]
    plain_s, plain_cpu, plain_fit, plain_score = min(plain_runs)
    population_s, population_cpu, population_fit, population_score = min(population_runs)

    keys = [f"split{k}_test_score" for k in range(args.cv)]
    same = (
        all(np.array_equal(plain.cv_results_[k], population.cv_results_[k]) for k in keys)
        and plain.best_params_ == population.best_params_
    )
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
        },
        "gridsearchcv_s": plain_s,
        "initgridsearchcv_s": population_s,
        "ratio": plain_s / population_s,
        "repeats": args.repeats,
        "gridsearchcv_runs_s": [run[0] for run in plain_runs],
        "initgridsearchcv_runs_s": [run[0] for run in population_runs],
        "gridsearchcv_cpu_s": plain_cpu,
        "initgridsearchcv_cpu_s": population_cpu,
        "gridsearchcv_fit_s": plain_fit,
        "initgridsearchcv_fit_s": population_fit,
        "gridsearchcv_score_s": plain_score,
        "initgridsearchcv_score_s": population_score,
        "identical_split_scores_and_best_params": bool(same),
        "best_params": population.best_params_,
        "best_score": float(population.best_score_),
    }
    print(
        f"digits, [64, 64, 10] ReLU softmax, Adam, batch 32, {args.epochs} epochs, "
        f"{len(INITS)} inits x {len(SEEDS)} seeds, cv={args.cv} ({fits} fits)"
    )
    print(f"best of {args.repeats}   wall (s)  CPU (s)  fitting (s)  scoring (s)")
    for name, (wall, cpu, fit, score) in (
        ("GridSearchCV    ", (plain_s, plain_cpu, plain_fit, plain_score)),
        ("InitGridSearchCV", (population_s, population_cpu, population_fit, population_score)),
    ):
        print(f"{name}  {wall:8.2f} {cpu:8.2f} {fit:12.2f} {score:12.2f}")
    print(f"ratio             {plain_s / population_s:8.2f}x")
    print(f"same split scores and best parameters: {same}")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
