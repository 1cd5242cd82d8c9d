"""The default job, bare ``initlab``, against the course's own loop for its three runs.

Run ``python benchmarks/default_job.py [--json PATH] [--repeat N]``. Measured in this
one run on this machine:

* ``default_job_s``: the median wall time of ``initlab -q --out TMP`` (three course
  runs, both figures, results.json and everything else it writes) in a fresh process,
  warm (the numba cache and the OS file cache filled by a first run not counted);
* ``course_loop_s``: the plain NumPy loop (:func:`initlab.fit.gradient_descent`, the
  course's own style) for the same three runs, in this process (median);
* ``ratio``: ``default_job_s / course_loop_s``, target at most 1/3;
* ``stages_cpu_s``: the CPU seconds of each stage of the job in one fresh process
  (imports, training with the diagnosis, importing matplotlib, each figure), to see
  where the time goes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

STAGES = r"""
import gc, json, sys, time
T = time.process_time
t0 = T()
import initlab.cli.course  # noqa: F401
gc.freeze()  # as the command does at each of these points (initlab.cli.app.keep_for_good)
t1 = T()
from initlab.experiments.course import run_course
result = run_course()
gc.freeze()
t2 = T()
import matplotlib
matplotlib.use("Agg")
from initlab import plots
gc.freeze()
t3 = T()
plots.figure_bytes(plots.cost_figure(result), "png", dpi=110)
t4 = T()
plots.figure_bytes(plots.decision_boundary_figure(result), "png", dpi=110)
t5 = T()
json.dump({"imports": t1 - t0, "training": t2 - t1, "matplotlib_import": t3 - t2,
           "cost_figure": t4 - t3, "boundary_figure": t5 - t4}, sys.stdout)
"""


def initlab_command() -> list[str]:
    return [sys.executable, "-m", "initlab"]


def time_default_job(repeat: int) -> list[float]:
    """Wall seconds of ``initlab -q`` in fresh processes, after one warm-up run."""
    times = []
    with tempfile.TemporaryDirectory() as folder:
        command = [*initlab_command(), "-q", "--out", str(Path(folder) / "out")]
        subprocess.run(command, check=True)  # warm-up: numba cache, file cache
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run(command, check=True)
            times.append(time.perf_counter() - start)
    return times


def time_course_loop(repeat: int) -> list[float]:
    """Seconds of the three course runs by the reference loop in this process."""
    from initlab.datasets import course_circles
    from initlab.experiments.course import course_parameters
    from initlab.fit import gradient_descent
    from initlab.network import Network

    data, network = course_circles(), Network.course()
    starts = [course_parameters(init) for init in ("zeros", "random", "he")]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for params in starts:
            with np.errstate(all="ignore"):
                gradient_descent(
                    network, params, data.X_train, data.Y_train,
                    learning_rate=0.01, iterations=15000,
                )  # fmt: skip
        times.append(time.perf_counter() - start)
    return times


def stages() -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", STAGES], check=True, capture_output=True)
    return json.loads(out.stdout)


def measure(repeat: int = 5) -> dict[str, object]:
    job = time_default_job(repeat)
    loop = time_course_loop(max(1, repeat // 2))
    job_s, loop_s = statistics.median(job), statistics.median(loop)
    return {
        "default_job_s": job_s,
        "default_job_runs_s": job,
        "course_loop_s": loop_s,
        "ratio": job_s / loop_s,
        "target_ratio": 1 / 3,
        "stages_cpu_s": stages(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the numbers here")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of the job")
    args = parser.parse_args(argv)
    numbers = measure(args.repeat)
    print(
        f"bare initlab (3 course runs, figures, results): {numbers['default_job_s']:.2f} s; "
        f"the course loop for the same 3 runs: {numbers['course_loop_s']:.2f} s; "
        f"ratio {numbers['ratio']:.2f} (target <= 0.33)"
    )
    print("CPU seconds by stage: " + ", ".join(
        f"{name} {seconds:.2f}" for name, seconds in numbers["stages_cpu_s"].items()  # type: ignore[union-attr]
    ))  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
