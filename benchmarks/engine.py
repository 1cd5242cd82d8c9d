"""Benchmark of the population engine against the reference loop and the machine's GEMM peak.

Run ``python benchmarks/engine.py --json PATH``; it prints a table and writes
the numbers as JSON. Everything is measured in this one run on this machine:

* ``gemm_peak_gflops``: the best of three float64 ``np.dot`` of 3000 x 3000
  matrices (``2 n^3`` FLOP each), all cores, as the yardstick;
* ``single``: one course ``he`` run (15000 iterations), the reference loop
  (best of two) against the engine (best of three), their ratio and the
  largest cost difference;
* ``population``: M = 1, 10, 100, 1000 course networks (He weights, distinct
  seeds; best of two): microseconds per model-iteration, GFLOP/s and percent of
  the GEMM peak; with jax, JAX ``jit(vmap(scan))`` of the same training
  (``jax_us_per_model_iter``, ``ratio_jax`` = JAX's time over initlab's, and the
  largest relative difference of the cost curves);
* ``full_1000``: 1000 complete course runs (15000 iterations) in a fresh
  process: wall time and peak memory;
* ``growth_samples`` (M = 100 at 300, 3000, 30000 samples) and
  ``growth_width`` (M = 10 at hidden widths 10, 100, 1000, network
  ``[2, w, w / 2, 1]``, both backends);
* ``compile_s``: the first training in a fresh process with an empty numba
  cache (``first_call_s``: the call that compiles; ``process_s``: the whole
  process), ``cached_call_s`` the same once the cache is on disk, and
  ``first_cli_s`` / ``second_cli_s``: ``initlab course`` with an empty cache,
  then again;
* ``peak_rss_mb``: the peak resident memory of this process;
* ``general``: what ``fit`` trains beyond the course, each measured in this run against
  scikit-learn's ``MLPClassifier`` with the same settings (``alpha=0``, no early stop,
  shuffled minibatches): ``digits_single`` (digits standardized, 64 inputs, 64 ReLU
  hidden units, softmax over 10, Adam 1e-3, minibatches of 32, 20 epochs, one model),
  ``digits_population`` (100 models, 100 seeds of ``he``: seconds per model against
  scikit-learn one model after the other, and against JAX ``vmap`` when jax is
  importable, checked to train the same thing first), ``activations`` (microseconds per
  model-iteration of 100 course networks with every activation, full-batch gradient
  descent, and the ratio to ReLU), ``adam_course_population`` (1000 course networks,
  full-batch Adam against gradient descent), ``compile`` (the first digits training in a
  fresh process with an empty numba cache) and ``digits_memory`` (the peak resident
  memory of training 1000 digits models in a fresh process, above its memory after
  imports, data and loading the kernel).

The JAX peers (:mod:`jax_peers`, beside this script) need the optional ``bench`` extra
(``pip install -e '.[bench]'``, ``jax[cpu]``); without it they are skipped with a note
(``null`` times in the JSON).

``--quick`` runs every section at a small size (a smoke test: the numbers mean little);
``--general-only`` runs only the GEMM peak and the ``general`` section.

FLOP count of one model-iteration (documented, not measured): for every sample
and layer the forward pass costs ``2 n_out n_in`` (a multiply and an add per
weight) and the backward pass about twice that (``dW = dz a^T`` and
``W^T dz``), so ``6 m sum_l n_l n_{l-1}``; activations, the loss and the update
are not counted. For the course network and 300 samples that is 135,000 FLOP.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

import numpy as np
from sklearn.datasets import make_circles

import jax_peers  # benchmarks/jax_peers.py, beside this script
from initlab.activations import ACTIVATIONS
from initlab.checks import as_rng
from initlab.datasets import course_circles
from initlab.engine import train_population
from initlab.fit import gradient_descent
from initlab.initializers import initialize
from initlab.network import Network


def flops_per_model_iter(network: Network, m: int) -> float:
    return 6.0 * m * sum(a * b for a, b in pairwise(network.layer_sizes))


def gemm_peak_gflops(n: int = 3000) -> float:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    np.dot(a, b)
    best = min(_timed(lambda: np.dot(a, b)) for _ in range(3))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def he_population(network: Network, M: int, seed: int = 0):
    seeds = np.random.SeedSequence(seed).spawn(M)
    return [initialize(network, "he", np.random.default_rng(s)) for s in seeds]


def circles(m: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_circles(n_samples=m, noise=0.05, random_state=np.random.RandomState(seed))
    return np.ascontiguousarray(X.T), y.reshape(1, -1)


def bench_single() -> dict:
    data = course_circles()
    net = Network.course()
    start = [initialize(net, "he", np.random.RandomState(3))]
    kwargs = dict(learning_rate=0.01, iterations=15000)
    train_population(net, start, data.X_train, data.Y_train, learning_rate=0.01, iterations=2)
    reference_s = float("inf")
    for _ in range(2):  # the best of two, as the engine's best of seven: timings are noisy
        t = time.perf_counter()
        _, history = gradient_descent(net, start[0], data.X_train, data.Y_train, **kwargs)
        reference_s = min(reference_s, time.perf_counter() - t)
    engine_s = float("inf")
    for _ in range(7):
        t = time.perf_counter()
        result = train_population(net, start, data.X_train, data.Y_train, **kwargs)
        engine_s = min(engine_s, time.perf_counter() - t)
    return {
        "reference_s": reference_s,
        "engine_s": engine_s,
        "ratio": reference_s / engine_s,
        "max_cost_diff": float(np.abs(result.costs[0] - history.costs).max()),
    }


def bench_population(M: int, peak: float, iterations: int | None = None) -> dict:
    data = course_circles()
    net = Network.course()
    starts = he_population(net, M)
    iterations = iterations or int(np.clip(300_000 // M, 200, 15000))
    seconds = float("inf")
    for _ in range(2):  # the best of two
        t = time.perf_counter()
        result = train_population(
            net, starts, data.X_train, data.Y_train, learning_rate=0.01, iterations=iterations
        )
        seconds = min(seconds, time.perf_counter() - t)
    flops = flops_per_model_iter(net, data.X_train.shape[1]) * M * iterations
    gflops = flops / seconds / 1e9
    row = {
        "models": M,
        "iterations": iterations,
        "seconds": seconds,
        "us_per_model_iter": seconds / (M * iterations) * 1e6,
        "gflops": gflops,
        "pct_of_gemm_peak": 100 * gflops / peak,
        "backend": result.backend,
    }
    jax_run = jax_peers.course_population(data.X_train, data.Y_train, starts, iterations, 0.01)
    if jax_run is None:
        return {**row, "jax_us_per_model_iter": None, "ratio_jax": None}
    jax_us = jax_run.seconds / (M * iterations) * 1e6
    return {
        **row,
        "jax_us_per_model_iter": jax_us,
        "ratio_jax": jax_us / row["us_per_model_iter"],
        "jax_compile_s": jax_run.compile_s,
        "jax_max_rel_cost_diff": jax_peers.max_relative_difference(jax_run.costs, result.costs),
    }


def bench_growth_samples(peak: float) -> list[dict]:
    net = Network.course()
    starts = he_population(net, 100)
    out = []
    for m, iterations in ((300, 60), (3000, 6), (30000, 2)):
        X, Y = circles(m)
        train_population(net, starts[:1], X, Y, learning_rate=0.01, iterations=1)
        t = time.perf_counter()
        train_population(net, starts, X, Y, learning_rate=0.01, iterations=iterations)
        seconds = time.perf_counter() - t
        gflops = flops_per_model_iter(net, m) * 100 * iterations / seconds / 1e9
        out.append(
            {
                "models": 100,
                "samples": m,
                "iterations": iterations,
                "seconds": seconds,
                "us_per_model_iter": seconds / (100 * iterations) * 1e6,
                "ns_per_model_iter_sample": seconds / (100 * iterations * m) * 1e9,
                "gflops": gflops,
                "pct_of_gemm_peak": 100 * gflops / peak,
            }
        )
    return out


def bench_growth_width(peak: float) -> list[dict]:
    X, Y = circles(300)
    out = []
    for width, iterations in ((10, 1000), (100, 60), (1000, 2)):
        net = Network((2, width, width // 2, 1), ("relu", "relu"))
        starts = he_population(net, 10)
        for backend in ("compiled", "numpy"):
            train_population(
                net, starts[:1], X, Y, learning_rate=0.01, iterations=1, backend=backend
            )
            t = time.perf_counter()
            result = train_population(
                net, starts, X, Y, learning_rate=0.01, iterations=iterations, backend=backend
            )
            seconds = time.perf_counter() - t
            gflops = flops_per_model_iter(net, 300) * 10 * iterations / seconds / 1e9
            out.append(
                {
                    "models": 10,
                    "width": width,
                    "layer_sizes": list(net.layer_sizes),
                    "backend": result.backend,
                    "iterations": iterations,
                    "us_per_model_iter": seconds / (10 * iterations) * 1e6,
                    "gflops": gflops,
                    "pct_of_gemm_peak": 100 * gflops / peak,
                }
            )
    return out


_FIRST_CALL = """
import time
t0 = time.perf_counter()
import numpy as np
from initlab import Network, course_circles, initialize
from initlab.engine import train_population
data = course_circles(); net = Network.course()
start = [initialize(net, "he", np.random.RandomState(3))]
t1 = time.perf_counter()
r = train_population(net, start, data.X_train, data.Y_train, learning_rate=0.01, iterations=1)
assert r.backend == "compiled", r.backend
t2 = time.perf_counter()
print(t2 - t1, t2 - t0)
"""

_FULL_1000 = """
import resource, time
import numpy as np
from initlab import Network, course_circles, initialize
from initlab.engine import train_population
data = course_circles(); net = Network.course()
seeds = np.random.SeedSequence(0).spawn(1000)
starts = [initialize(net, "he", np.random.default_rng(s)) for s in seeds]
train_population(net, starts[:1], data.X_train, data.Y_train, learning_rate=0.01, iterations=1)
t = time.perf_counter()
r = train_population(net, starts, data.X_train, data.Y_train, learning_rate=0.01, iterations=15000)
s = time.perf_counter() - t
def peak_mb():
    # VmHWM: this process's own high-water mark (ru_maxrss would include the parent's
    # memory at fork time on Linux)
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(s, peak_mb(), int(r.diverged.sum()))
"""


def _python(code: str, env: dict) -> list[float]:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return [float(x) for x in done.stdout.split()]


def bench_compile() -> dict:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        env["NUMBA_CACHE_DIR"] = cache
        first_call, process = _python(_FIRST_CALL, env)
        cached_call, cached_process = _python(_FIRST_CALL, env)
        initlab = str(Path(sys.executable).with_name("initlab"))
        with tempfile.TemporaryDirectory() as cache2:
            env["NUMBA_CACHE_DIR"] = cache2
            cli = [initlab, "course", "--quiet", "--out", out]
            first_cli = _timed(lambda: subprocess.run(cli, env=env, check=True))
            second_cli = _timed(lambda: subprocess.run(cli, env=env, check=True))
    return {
        "first_call_s": first_call,
        "process_s": process,
        "cached_call_s": cached_call,
        "cached_process_s": cached_process,
        "first_cli_s": first_cli,
        "second_cli_s": second_cli,
    }


def bench_full_1000() -> dict:
    seconds, rss, diverged = _python(_FULL_1000, dict(os.environ))
    return {
        "models": 1000,
        "iterations": 15000,
        "seconds": seconds,
        "us_per_model_iter": seconds / 1.5e7 * 1e6,
        "peak_rss_mb": rss,
        "diverged": int(diverged),
    }


DIGITS = dict(hidden=64, learning_rate=1e-3, batch_size=32, epochs=20)


def digits_data():
    """digits, 80/20 stratified split (seed 0), standardized on the training part:
    ``(X_train (64, m), y_train (1, m), X_test, y_test)``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    return (np.ascontiguousarray(Xtr.T), ytr.reshape(1, -1), np.ascontiguousarray(Xte.T),
            yte.reshape(1, -1))  # fmt: skip


def sklearn_digits(Xtr, ytr, seed: int, epochs: int) -> tuple[float, object]:
    """One ``MLPClassifier`` with the digits settings: seconds and the model."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=(DIGITS["hidden"],), activation="relu", solver="adam",
        learning_rate_init=DIGITS["learning_rate"], batch_size=DIGITS["batch_size"],
        max_iter=epochs, alpha=0.0, shuffle=True, random_state=seed, tol=0.0,
        n_iter_no_change=10**9, early_stopping=False,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t = time.perf_counter()
        clf.fit(Xtr.T, ytr.ravel())
        return time.perf_counter() - t, clf


_FIRST_GENERAL = """
import time, numpy as np
from initlab import Network, initialize
from initlab.engine import train_population
rng = np.random.default_rng(0)
X = rng.standard_normal((64, 1437)); Y = rng.integers(0, 10, (1, 1437))
net = Network((64, 64, 10), ("relu",), "softmax")
start = [initialize(net, "he", rng)]
t = time.perf_counter()
r = train_population(net, start, X, Y, optimizer="adam", learning_rate=1e-3, epochs=1,
                     batch_size=32, rng=0, backend="compiled")
print(time.perf_counter() - t)
"""


#: the largest relative cost difference at which a peer counts as training the same thing
SAME_TRAINING = 1e-9


def bench_digits_population(
    net: Network, starts: list, data: tuple, kwargs: dict, sklearn_seconds: list[float]
) -> dict:
    """The digits job for every start at once (best of two), against scikit-learn one
    model after the other (``sklearn_seconds``) and JAX ``vmap`` (see
    :mod:`jax_peers`; ``None`` with a note when jax is missing).

    Before its time is quoted, the JAX run is checked to be the same training: every
    model's cost curve against initlab's population (largest relative difference), the
    first model's against its own :func:`initlab.fit.fit` run from the same parameters,
    and the test accuracies model by model.
    """
    from initlab.fit import fit
    from initlab.network import accuracy
    from initlab.optimizers import get_optimizer

    Xtr, ytr, Xte, yte = data
    n_models = len(starts)
    seconds = float("inf")
    for _ in range(2):  # the best of two, as JAX's
        t = time.perf_counter()
        pop = train_population(net, starts, Xtr, ytr, rng=0, **kwargs)
        seconds = min(seconds, time.perf_counter() - t)
    per_model = seconds / n_models
    accs = np.array([accuracy(net, p, Xte, yte) for p in pop.params])
    sk_per_model = float(np.mean(sklearn_seconds))
    updates = pop.costs.shape[1]
    flop = flops_per_model_iter(net, kwargs["batch_size"]) * updates
    out = {
        "models": n_models,
        "epochs": kwargs["epochs"],
        "updates": updates,
        "initlab_s_per_model": per_model,
        "sklearn_s_per_model": sk_per_model,
        "sklearn_models_timed": len(sklearn_seconds),
        "ratio": sk_per_model / per_model,
        "initlab_gflops": flop * n_models / seconds / 1e9,
        "mean_test_accuracy": float(np.mean(accs)),
        "backend": pop.backend,
    }
    rng = as_rng(0)  # the permutations train_population and fit draw with rng=0
    orders = np.stack([rng.permutation(Xtr.shape[1]) for _ in range(kwargs["epochs"])])
    jax_run = jax_peers.adam_population(
        Xtr, ytr, starts, orders, kwargs["batch_size"], kwargs["learning_rate"]
    )
    if jax_run is None:
        note = "jax is not importable (pip install -e '.[bench]'): skipped"
        return {**out, "jax_s_per_model": None, "ratio_jax": None, "jax_note": note}
    optimizer = get_optimizer(kwargs["optimizer"], kwargs["learning_rate"])
    _, history = fit(net, starts[0], Xtr, ytr, optimizer, epochs=kwargs["epochs"],
                     batch_size=kwargs["batch_size"], rng=0)  # fmt: skip
    jax_accs = np.array([accuracy(net, p, Xte, yte) for p in jax_run.params])
    jax_per_model = jax_run.seconds / n_models
    diff_population = jax_peers.max_relative_difference(jax_run.costs, pop.costs)
    diff_fit = jax_peers.max_relative_difference(jax_run.costs[0], history.costs)
    return {
        **out,
        "jax_s_per_model": jax_per_model,
        "ratio_jax": jax_per_model / per_model,
        "jax_note": None,
        "jax_version": jax_run.version,
        "jax_compile_s": jax_run.compile_s,
        "jax_gflops": flop * n_models / jax_run.seconds / 1e9,
        "jax_cpu_per_wall": jax_run.cpu_per_wall,
        "jax_max_rel_cost_diff_population": diff_population,
        "jax_max_rel_cost_diff_fit_model_0": diff_fit,
        # the same training to rounding (initlab's engine is tested to 1e-10 against fit)
        "jax_same_training": bool(max(diff_population, diff_fit) <= SAME_TRAINING),
        "jax_mean_test_accuracy": float(np.mean(jax_accs)),
        "jax_max_test_accuracy_diff": float(np.max(np.abs(jax_accs - accs))),
    }


_DIGITS_MEMORY = """
import json, sys
sys.path.insert(0, {bench_dir!r})
from engine import DIGITS, digits_data, he_population
from initlab.engine import train_population
from initlab.network import Network

def status(key):
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) / 1024 for l in fh if l.startswith(key + ":"))

Xtr, ytr, _, _ = digits_data()
net = Network((64, DIGITS["hidden"], 10), ("relu",), "softmax")
kwargs = dict(optimizer="adam", learning_rate=DIGITS["learning_rate"],
              batch_size=DIGITS["batch_size"], rng=0, backend="compiled")
imported = status("VmRSS")
train_population(net, he_population(net, 1), Xtr, ytr, epochs=1, **kwargs)  # load the kernel
baseline = status("VmRSS")
with open("/proc/self/clear_refs", "w") as fh:  # VmHWM := VmRSS: the peak from here on
    fh.write("5")
r = train_population(net, he_population(net, {models}), Xtr, ytr, epochs={epochs}, **kwargs)
peak = status("VmHWM")
print(json.dumps({{"imported_rss_mb": imported, "baseline_rss_mb": baseline, "peak_rss_mb": peak,
                  "costs_shape": list(r.costs.shape), "backend": r.backend}}))
"""


def bench_digits_memory(quick: bool) -> dict:
    """Peak resident memory of training 1000 digits models (the digits job, compiled
    backend) in a fresh process, above that process's memory after its imports, the
    data and loading the kernel (one model, one epoch).

    Read from ``/proc/self/status``: ``VmHWM`` reset to ``VmRSS`` just before the
    training (``/proc/self/clear_refs``). Not ``ru_maxrss``: on Linux a child's
    ``ru_maxrss`` starts at its parent's peak (it survives the ``exec``), so it would
    measure this benchmark process instead.
    """
    from initlab.memory import OPTIMIZER_SLOTS, training_bytes

    models, epochs = (100, 2) if quick else (1000, DIGITS["epochs"])
    code = _DIGITS_MEMORY.format(bench_dir=str(Path(__file__).parent), models=models,
                                 epochs=epochs)  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)  # fmt: skip
    got = json.loads(done.stdout.strip().splitlines()[-1])
    m = digits_data()[0].shape[1]
    updates = epochs * -(-m // DIGITS["batch_size"])
    estimate = training_bytes(
        (64, DIGITS["hidden"], 10), updates=updates, batch=DIGITS["batch_size"], runs=models,
        concurrent=models, optimizer_slots=OPTIMIZER_SLOTS["adam"],
    )  # fmt: skip
    return {
        "models": models,
        "epochs": epochs,
        "peak_rss_mb": got["peak_rss_mb"],
        "baseline_rss_mb": got["baseline_rss_mb"],
        "increment_mb": got["peak_rss_mb"] - got["baseline_rss_mb"],
        "target_mb": 1024,
        "imported_rss_mb": got["imported_rss_mb"],
        "costs_mb": 8 * models * updates / 2**20,
        "estimate_mb": estimate / 2**20,
        "backend": got["backend"],
    }


def bench_general(quick: bool) -> dict:
    from initlab.network import accuracy

    epochs = 2 if quick else DIGITS["epochs"]
    n_models = 10 if quick else 100
    Xtr, ytr, Xte, yte = digits_data()
    net = Network((64, DIGITS["hidden"], 10), ("relu",), "softmax")
    kwargs = dict(optimizer="adam", learning_rate=DIGITS["learning_rate"], epochs=epochs,
                  batch_size=DIGITS["batch_size"])  # fmt: skip
    starts = he_population(net, n_models)
    train_population(net, starts[:1], Xtr, ytr, rng=0, **{**kwargs, "epochs": 1})
    sk_single = min(sklearn_digits(Xtr, ytr, 0, epochs)[0] for _ in range(2))
    init_single = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        result = train_population(net, starts[:1], Xtr, ytr, rng=0, **kwargs)
        init_single = min(init_single, time.perf_counter() - t)
    digits_single = {
        "sklearn_s": sk_single,
        "initlab_s": init_single,
        "ratio": sk_single / init_single,
        "test_accuracy": accuracy(net, result.params[0], Xte, yte),
        "sklearn_test_accuracy": float(
            sklearn_digits(Xtr, ytr, 0, epochs)[1].score(Xte.T, yte.ravel())
        ),
        "backend": result.backend,
        "epochs": epochs,
    }
    sk_seq = [sklearn_digits(Xtr, ytr, seed, epochs)[0] for seed in range(2 if quick else 5)]
    digits_population = bench_digits_population(net, starts, (Xtr, ytr, Xte, yte), kwargs, sk_seq)
    data = course_circles()
    course = Network.course()
    M_act, it_act = (20, 100) if quick else (100, 500)
    activations = {}
    nets = {name: Network(course.layer_sizes, (name, name)) for name in sorted(ACTIVATIONS)}
    starts = {name: he_population(net_a, M_act) for name, net_a in nets.items()}
    best = dict.fromkeys(nets, float("inf"))
    backends = {}
    for name, net_a in nets.items():  # compile (or load) each activation's kernel first
        train_population(net_a, starts[name][:1], data.X_train, data.Y_train,
                         learning_rate=0.01, iterations=2)  # fmt: skip
    for _ in range(2 if quick else 5):  # round robin: a slow moment slows every activation
        for name, net_a in nets.items():
            t = time.perf_counter()
            r = train_population(net_a, starts[name], data.X_train, data.Y_train,
                                 learning_rate=0.01, iterations=it_act)  # fmt: skip
            best[name] = min(best[name], time.perf_counter() - t)
            backends[name] = r.backend
    for name in nets:
        activations[name] = {"us_per_model_iter": best[name] / (M_act * it_act) * 1e6,
                             "backend": backends[name]}  # fmt: skip
    for row in activations.values():
        row["ratio_to_relu"] = row["us_per_model_iter"] / activations["relu"]["us_per_model_iter"]
    M_adam, it_adam = (100, 100) if quick else (1000, 300)
    starts_c = he_population(course, M_adam)
    adam = {"gd": float("inf"), "adam": float("inf")}
    for _ in range(3):  # round robin, as the activations
        for opt, lr in (("gd", 0.01), ("adam", 0.001)):
            t = time.perf_counter()
            r = train_population(course, starts_c, data.X_train, data.Y_train, optimizer=opt,
                                 learning_rate=lr, iterations=it_adam,
                                 batch_size=data.X_train.shape[1])  # fmt: skip
            seconds = time.perf_counter() - t
            adam[opt] = min(adam[opt], seconds / (M_adam * it_adam) * 1e6)
    adam_course = {
        "models": M_adam,
        "iterations": it_adam,
        "adam_us_per_model_iter": adam["adam"],
        "gd_us_per_model_iter": adam["gd"],
        "ratio_to_gd": adam["adam"] / adam["gd"],
        "backend": r.backend,
    }
    with tempfile.TemporaryDirectory() as cache:
        first = _python(_FIRST_GENERAL, {**os.environ, "NUMBA_CACHE_DIR": cache})[0]
    return {
        "digits_single": digits_single,
        "digits_population": digits_population,
        "activations": activations,
        "adam_course_population": adam_course,
        "compile": {"first_digits_call_s": first},
        "digits_memory": bench_digits_memory(quick),
    }


def print_general(general: dict) -> None:
    d = general["digits_single"]
    print(
        f"\ndigits, one model, Adam, batch 32, {d['epochs']} epochs: scikit-learn "
        f"{d['sklearn_s']:.3f} s, initlab {d['initlab_s']:.3f} s ({d['backend']}), ratio "
        f"{d['ratio']:.1f}x; test accuracy {d['test_accuracy']:.3f} "
        f"(scikit-learn {d['sklearn_test_accuracy']:.3f})"
    )
    p = general["digits_population"]
    print(
        f"digits, {p['models']} models: initlab {p['initlab_s_per_model']:.4f} s per model, "
        f"scikit-learn one after the other {p['sklearn_s_per_model']:.3f} s per model, ratio "
        f"{p['ratio']:.1f}x"
    )
    if p["jax_s_per_model"] is None:
        print(f"  JAX: {p['jax_note']}")
    else:
        print(
            f"  JAX vmap {p['jax_s_per_model']:.4f} s per model (compiling {p['jax_compile_s']:.1f}"
            f" s apart), ratio {p['ratio_jax']:.2f}x; JAX {p['jax_gflops']:.0f} GFLOP/s on "
            f"{p['jax_cpu_per_wall']:.1f} cores, initlab {p['initlab_gflops']:.0f} GFLOP/s"
        )
        same = "same training" if p["jax_same_training"] else "NOT THE SAME TRAINING"
        print(
            f"  {same}: costs within {p['jax_max_rel_cost_diff_population']:.1e} "
            f"relative of initlab's, model 0 within {p['jax_max_rel_cost_diff_fit_model_0']:.1e}"
            f" of fit's; test accuracies differ by at most {p['jax_max_test_accuracy_diff']:.3f}"
        )
    print("activations, course network, gd, us per model-iteration (ratio to relu):")
    for name, row in general["activations"].items():
        print(f"  {name:>10} {row['us_per_model_iter']:8.2f} ({row['ratio_to_relu']:.2f}x)")
    a = general["adam_course_population"]
    print(
        f"course, {a['models']} models, Adam {a['adam_us_per_model_iter']:.2f} vs gd "
        f"{a['gd_us_per_model_iter']:.2f} us per model-iteration ({a['ratio_to_gd']:.2f}x)"
    )
    first = general["compile"]["first_digits_call_s"]
    print(f"first digits training, empty numba cache: {first:.2f} s")
    mem = general["digits_memory"]
    print(
        f"digits, {mem['models']} models, {mem['epochs']} epochs: peak memory "
        f"{mem['peak_rss_mb']:.0f} MB, {mem['increment_mb']:.0f} MB above the "
        f"{mem['baseline_rss_mb']:.0f} MB after imports and data (target < {mem['target_mb']} MB)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, required=True, help="write the numbers here")
    parser.add_argument(
        "--skip-full", action="store_true", help="skip the 1000 full course runs (about a minute)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument(
        "--general-only", action="store_true", help="only the GEMM peak and the general section"
    )
    args = parser.parse_args(argv)
    t_start = time.perf_counter()

    peak = gemm_peak_gflops(1000 if args.quick else 3000)
    print(f"float64 GEMM peak (np.dot 3000x3000): {peak:.1f} GFLOP/s")
    if args.general_only:
        general = bench_general(args.quick)
        print_general(general)
        document = {"gemm_peak_gflops": peak, "general": general,
                    "total_s": time.perf_counter() - t_start}  # fmt: skip
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"\ntotal {document['total_s']:.0f} s; wrote {args.json}")
        return 0
    single = bench_single()
    print(
        f"one course he run, 15000 iterations: reference {single['reference_s']:.3f} s, "
        f"engine {single['engine_s']:.3f} s, ratio {single['ratio']:.1f}x, "
        f"max cost diff {single['max_cost_diff']:.1e}"
    )
    if args.quick:
        population = [bench_population(M, peak, iterations=50) for M in (1, 10, 100)]
    else:
        population = [bench_population(M, peak) for M in (1, 10, 100, 1000)]
    print("\npopulations of course networks (300 samples)")
    print(
        f"{'models':>7} {'iters':>6} {'us/model-iter':>14} {'GFLOP/s':>8} {'% GEMM':>7} "
        f"{'JAX us':>8} {'JAX/initlab':>11} {'JAX cost diff':>13}"
    )
    for row in population:
        jax = "  (jax is not importable: skipped)"
        if row["jax_us_per_model_iter"] is not None:
            jax = (
                f" {row['jax_us_per_model_iter']:>8.2f} {row['ratio_jax']:>11.1f} "
                f"{row['jax_max_rel_cost_diff']:>13.1e}"
            )
        print(
            f"{row['models']:>7} {row['iterations']:>6} {row['us_per_model_iter']:>14.2f} "
            f"{row['gflops']:>8.1f} {row['pct_of_gemm_peak']:>7.1f}{jax}"
        )
    growth_samples = bench_growth_samples(peak)
    print("\ngrowth in samples (100 models)")
    print(f"{'samples':>7} {'us/model-iter':>14} {'ns/model-iter-sample':>21} {'GFLOP/s':>8}")
    for row in growth_samples:
        print(
            f"{row['samples']:>7} {row['us_per_model_iter']:>14.1f} "
            f"{row['ns_per_model_iter_sample']:>21.2f} {row['gflops']:>8.1f}"
        )
    growth_width = bench_growth_width(peak)
    print("\ngrowth in width (10 models, [2, w, w/2, 1], 300 samples)")
    print(f"{'width':>6} {'backend':>9} {'us/model-iter':>14} {'GFLOP/s':>8} {'% GEMM':>7}")
    for row in growth_width:
        print(
            f"{row['width']:>6} {row['backend']:>9} {row['us_per_model_iter']:>14.1f} "
            f"{row['gflops']:>8.1f} {row['pct_of_gemm_peak']:>7.1f}"
        )
    compile_s = bench_compile()
    print(
        f"\nfirst training in a fresh process, empty cache: {compile_s['first_call_s']:.2f} s "
        f"(process {compile_s['process_s']:.2f} s); with the cache: "
        f"{compile_s['cached_call_s']:.2f} s (process {compile_s['cached_process_s']:.2f} s)"
    )
    print(
        f"`initlab course` with an empty cache: {compile_s['first_cli_s']:.2f} s, "
        f"then {compile_s['second_cli_s']:.2f} s"
    )
    general = bench_general(args.quick)
    print_general(general)
    import default_job  # benchmarks/default_job.py, beside this script

    job = default_job.measure(2 if args.quick else 5)
    print(
        f"bare initlab: {job['default_job_s']:.2f} s; the course loop for its three runs "
        f"{job['course_loop_s']:.2f} s (ratio {job['ratio']:.2f}, target <= 0.33)"
    )
    full = None if args.skip_full or args.quick else bench_full_1000()
    if full:
        print(
            f"1000 full course runs (15000 iterations): {full['seconds']:.1f} s "
            f"({full['us_per_model_iter']:.2f} us/model-iter), "
            f"peak memory {full['peak_rss_mb']:.0f} MB"
        )
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak_rss:.0f} MB")
    document = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "flop_formula": "6 * m * sum_l n_l * n_(l-1) per model-iteration",
        "gemm_peak_gflops": peak,
        "single": single,
        "population": population,
        "full_1000": full,
        "growth_samples": growth_samples,
        "growth_width": growth_width,
        "compile_s": compile_s["first_call_s"],
        "compile": compile_s,
        "peak_rss_mb": full["peak_rss_mb"] if full else peak_rss,
        "benchmark_process_peak_rss_mb": peak_rss,
        "general": general,
        "default_job": job,
        "default_job_s": job["default_job_s"],
        "total_s": time.perf_counter() - t_start,
    }
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\ntotal {document['total_s']:.0f} s; wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
