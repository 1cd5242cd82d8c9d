"""The compiled kernel on other instruction sets than this machine's best.

numba compiles for the host CPU; ``NUMBA_CPU_NAME`` makes it compile for another
target that this CPU can still run (plain x86-64 with SSE2, AVX2 with FMA,
AVX-512), so one machine checks the code paths of the others. Each target runs in
a fresh interpreter with its own kernel cache and must agree with the reference
loop; zero weights on balanced labels must keep an exactly zero bias gradient
(exact arithmetic on every target).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import numpy as np
from initlab import Network, initialize, gradient_descent
from initlab.datasets import course_circles
from initlab.engine import train_population

data = course_circles()
net = Network.course()
for init, lr in (("zeros", 1e300), ("he", 0.5), ("random", 0.01), ("he", 1e300)):
    start = initialize(net, init, np.random.RandomState(3))
    _, ref = gradient_descent(net, start, data.X_train, data.Y_train, learning_rate=lr,
                              iterations=40)
    for threads in (1, 2):
        got = train_population(net, [start], data.X_train, data.Y_train, learning_rate=lr,
                               iterations=40, backend="compiled", threads=threads)
        mine = got.history(0)
        assert mine.diverged_at == ref.diverged_at, (init, lr, threads)
        np.testing.assert_allclose(mine.costs, ref.costs, rtol=1e-10, atol=0)
        if init == "zeros":
            assert all((b == 0).all() for b in got.params[0].biases)
print("ok")
"""


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


TARGETS = [("generic", set()), ("haswell", {"avx2", "fma"}), ("skylake-avx512", {"avx512f"})]


@pytest.mark.parametrize(("cpu", "needs"), TARGETS, ids=[t[0] for t in TARGETS])
def test_kernel_agrees_with_the_reference_when_compiled_for(cpu, needs, tmp_path):
    if not needs <= cpu_flags():
        pytest.skip(f"this CPU cannot run {cpu} code (needs {', '.join(sorted(needs))})")
    env = {**os.environ, "NUMBA_CPU_NAME": cpu, "NUMBA_CACHE_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
