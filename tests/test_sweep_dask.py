"""The Dask executor (the optional extra ``initlab[dask]``): a LocalCluster end to end, and
an unreachable scheduler."""

from __future__ import annotations

import socket
from pathlib import Path

from extras import require

require("distributed", "dask")

from badinput import assert_one_line_error, run_cli  # noqa: E402
from initlab.sweep.executors import DaskExecutor, LocalExecutor  # noqa: E402
from initlab.sweep.plan import run_batches  # noqa: E402
from initlab.sweep.store import Store  # noqa: E402
from test_sweep import MIXED, _parse, _rows  # noqa: E402


def test_a_local_cluster_gives_bitwise_the_local_results(tmp_path: Path):
    spec = _parse(MIXED)
    with LocalExecutor() as local, Store.open(tmp_path / "local", spec.hash) as store:
        list(run_batches(spec.batches(), store, local))
        expected = _rows(store)
    with (
        DaskExecutor(local_workers=1, processes=False) as dask,
        Store.open(tmp_path / "dask", spec.hash) as store,
    ):
        assert dask.capacity == 1
        assert len(list(run_batches(spec.batches(), store, dask))) == 2
        assert _rows(store) == expected


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line_naming_it(tmp_path: Path, capsys):
    address = f"tcp://127.0.0.1:{_closed_port()}"
    spec, out = tmp_path / "spec.toml", tmp_path / "out"
    spec.write_text("seeds = 2\n[train]\niterations = 5")
    code, _, stderr = run_cli(capsys, "sweep", str(spec), "--scheduler", address, "--out", str(out))
    assert_one_line_error(code, stderr, f"cannot reach the Dask scheduler at {address}")
    assert not out.exists()
