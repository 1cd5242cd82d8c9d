"""Benchmark of the per-layer diagnostics: what they add to training, and ``initlab diagnose``
of a deep network at initialization.

Run ``python benchmarks/diagnostics.py --json PATH``; it prints the numbers and writes them
as JSON. Everything is measured in this one run on this machine, each timing the median of
```--repeats`` runs (default 5): the best (``*_s``, the cost of the work) and the median
(``median_*_s``, what a user saw while other processes shared the machine):

* ``snapshots``: the course's ``he`` run (the ``[2, 10, 5, 1]`` network, 300 samples, 15000
  gradient-descent updates at learning rate 0.01) on the population engine, alone
  (``train_s``), keeping 20 log-spaced parameter snapshots (``train_with_snapshots_s``),
  and the statistics of those snapshots on the 300 training samples (``statistics_s``:
  the per-layer statistics and the flags; ``with_histograms_s``: all that
  :func:`initlab.experiments.diagnose.diagnose_inits` computes per snapshot, the per-layer
  histograms of its figure too); ``extra_fraction`` = ``(max(train_with_snapshots_s -
  train_s, 0) + statistics_s) / train_s`` against the target 0.25, and
  ``extra_fraction_with_histograms`` the same with the histograms;
* ``diagnose_deep``: :func:`~initlab.experiments.diagnose.diagnose_inits` of 30 hidden ReLU
  layers of width 256 on the course's data at initialization, for the three course
  initializations (``library_s``, target 1 s), and the whole command ``initlab diagnose
  --hidden 256,...`` in this process, printing and writing its JSON and figure
  (``command_s``; the interpreter's start and imports not included, see ``process_s``: a
  fresh ``python -m initlab diagnose``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from initlab.datasets import course_circles
from initlab.diagnostics import diagnose, network_statistics
from initlab.engine import log_spaced, train_population
from initlab.experiments.diagnose import one_blas_thread, snapshot_diagnosis
from initlab.initializers import initialize
from initlab.network import Network

ITERATIONS = 15000
SNAPSHOTS = 20
DEEP = ",".join(["256"] * 30)


def timings(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    """``(best, median)`` wall time of ``repeats`` runs: the best is the cost of the work,
    the median what a user saw while the machine was shared."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.min(times)), float(np.median(times))


def snapshots(repeats: int) -> dict[str, float]:
    data = course_circles()
    network = Network.course()
    start = initialize(network, "he", np.random.RandomState(3))
    X, Y = data.X_train, data.Y_train
    at = log_spaced(ITERATIONS, SNAPSHOTS)

    def train(snapshot_at=None):  # type: ignore[no-untyped-def]
        return train_population(network, [start], X, Y, learning_rate=0.01,
                                iterations=ITERATIONS, snapshots=snapshot_at)  # fmt: skip

    kept = train(at)

    def statistics() -> None:
        with one_blas_thread():  # as diagnose_inits does
            for k in range(len(kept.snapshot_at)):
                diagnose(network_statistics(network, kept.snapshot(0, k), X, Y, learning_rate=0.01))

    def with_histograms() -> None:
        with one_blas_thread():
            for k, update in enumerate(kept.snapshot_at):
                snapshot_diagnosis(network, kept.snapshot(0, k), X, Y, int(update), 0.01)

    train()  # compile (or load the cached kernel) first
    train_s, train_median = timings(train, repeats)
    snap_s, snap_median = timings(lambda: train(at), repeats)
    stats_s, stats_median = timings(statistics, repeats)
    full_s, full_median = timings(with_histograms, repeats)
    extra = max(snap_s - train_s, 0.0) + stats_s
    return {
        "iterations": ITERATIONS,
        "snapshots": len(at),
        "train_s": train_s,
        "train_with_snapshots_s": snap_s,
        "statistics_s": stats_s,
        "extra_fraction": extra / train_s,
        "target_extra_fraction": 0.25,
        "with_histograms_s": full_s,
        "extra_fraction_with_histograms": (max(snap_s - train_s, 0.0) + full_s) / train_s,
        "median_train_s": train_median,
        "median_train_with_snapshots_s": snap_median,
        "median_statistics_s": stats_median,
        "median_with_histograms_s": full_median,
    }


def diagnose_deep(repeats: int) -> dict[str, float]:
    from initlab.cli import main
    from initlab.experiments.diagnose import diagnose_config, diagnose_inits

    hidden = tuple([256] * 30)
    config = diagnose_config(hidden=hidden)
    library_s, library_median = timings(lambda: diagnose_inits(config), repeats)
    with tempfile.TemporaryDirectory() as tmp:
        args = ["diagnose", "--hidden", DEEP, "--out", str(Path(tmp) / "d")]

        def command() -> None:
            with contextlib.redirect_stdout(io.StringIO()):
                assert main(args) == 0

        command_s, command_median = timings(command, repeats)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "initlab", *args, "-q"], check=True,
                       env={**os.environ, "MPLBACKEND": "Agg"})  # fmt: skip
        process_s = time.perf_counter() - start
    return {
        "layers": 31,
        "width": 256,
        "library_s": library_s,
        "target_library_s": 1.0,
        "command_s": command_s,
        "median_library_s": library_median,
        "median_command_s": command_median,
        "process_s": process_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, required=True, help="write the numbers here")
    parser.add_argument("--repeats", type=int, default=5, help="timings are medians of this many")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    started = time.perf_counter()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    document = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
            "load_average_at_start": load,
        },
        "snapshots": snapshots(args.repeats),
        "diagnose_deep": diagnose_deep(args.repeats),
    }
    document["total_s"] = time.perf_counter() - started
    snap, deep = document["snapshots"], document["diagnose_deep"]
    print(f"course he run, {ITERATIONS} updates: {snap['train_s']:.3f} s; keeping "
          f"{snap['snapshots']} snapshots {snap['train_with_snapshots_s']:.3f} s, their "
          f"statistics {snap['statistics_s']:.3f} s: +{100 * snap['extra_fraction']:.1f}% "
          f"(target <= 25%); with the histograms {snap['with_histograms_s']:.3f} s: "
          f"+{100 * snap['extra_fraction_with_histograms']:.1f}%")  # fmt: skip
    print(f"diagnose, 30 ReLU layers of 256 at initialization: library {deep['library_s']:.3f} s "
          f"(target < 1 s), command {deep['command_s']:.3f} s, fresh process "
          f"{deep['process_s']:.2f} s")  # fmt: skip
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    print(f"total {document['total_s']:.0f} s; wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
