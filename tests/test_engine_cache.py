"""The kernel compiled in this process and the kernel loaded from numba's cache compute
bit for bit the same numbers: a sweep resumed after a crash (loading the cache) must
store what the uninterrupted one (compiling) would have stored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import hashlib, numpy as np
from initlab.datasets import load_dataset
from initlab.engine import train_population
from initlab.initializers import initialize
from initlab.network import Network
d = load_dataset("moons")
net = Network((2, 10, 10, 3), ("relu", "tanh"), "softmax")
starts = [initialize(net, "he", np.random.default_rng(s)) for s in range(3)]
for opt, lr in (("sgd", 0.5), ("momentum", 0.1), ("adam", 0.01)):
    r = train_population(net, starts, d.X_train, d.Y_train, optimizer=opt, learning_rate=lr,
                         iterations=30, batch_size=64, rng=0, threads=1, backend="compiled")
    final = b"".join(w.tobytes() for p in r.params for w in p.weights)
    print(opt, hashlib.sha1(r.costs.tobytes() + final).hexdigest())
"""


def test_compiled_and_cached_kernels_agree_bit_for_bit(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    runs = [
        subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                       timeout=600)
        for _ in range(2)  # the first compiles (and fills the cache), the second loads it
    ]  # fmt: skip
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert len(runs[0].stdout.splitlines()) == 3
    assert runs[0].stdout == runs[1].stdout
