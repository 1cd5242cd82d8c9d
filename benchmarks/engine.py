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
  the GEMM peak;
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
* ``peak_rss_mb``: the peak resident memory of this process.

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
    for _ in range(2):  # the best of two, as the engine's best of three: timings are noisy
        t = time.perf_counter()
        _, history = gradient_descent(net, start[0], data.X_train, data.Y_train, **kwargs)
        reference_s = min(reference_s, time.perf_counter() - t)
    engine_s = float("inf")
    for _ in range(3):
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
    return {
        "models": M,
        "iterations": iterations,
        "seconds": seconds,
        "us_per_model_iter": seconds / (M * iterations) * 1e6,
        "gflops": gflops,
        "pct_of_gemm_peak": 100 * gflops / peak,
        "backend": result.backend,
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, required=True, help="write the numbers here")
    parser.add_argument(
        "--skip-full", action="store_true", help="skip the 1000 full course runs (about a minute)"
    )
    args = parser.parse_args(argv)
    t_start = time.perf_counter()

    peak = gemm_peak_gflops()
    print(f"float64 GEMM peak (np.dot 3000x3000): {peak:.1f} GFLOP/s")
    single = bench_single()
    print(
        f"one course he run, 15000 iterations: reference {single['reference_s']:.3f} s, "
        f"engine {single['engine_s']:.3f} s, ratio {single['ratio']:.1f}x, "
        f"max cost diff {single['max_cost_diff']:.1e}"
    )
    population = [bench_population(M, peak) for M in (1, 10, 100, 1000)]
    print("\npopulations of course networks (300 samples)")
    print(f"{'models':>7} {'iters':>6} {'us/model-iter':>14} {'GFLOP/s':>8} {'% GEMM':>7}")
    for row in population:
        print(
            f"{row['models']:>7} {row['iterations']:>6} {row['us_per_model_iter']:>14.2f} "
            f"{row['gflops']:>8.1f} {row['pct_of_gemm_peak']:>7.1f}"
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
    full = None if args.skip_full else bench_full_1000()
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
        "total_s": time.perf_counter() - t_start,
    }
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\ntotal {document['total_s']:.0f} s; wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
