"""``initlab compare``: the plan, the batches, the store, resuming, and the statistics."""

from __future__ import annotations

import dataclasses
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from badinput import assert_one_line_error, run_cli
from initlab import Network, gradient_descent, initialize
from initlab.experiments.train import TrainConfig, prepare
from initlab.sweep.compare import CompareSpec, _weight_rng, run_compare
from initlab.sweep.store import Store
from reportpage import Page, assert_self_contained

SMALL = TrainConfig(
    dataset="course_circles", hidden=(10, 5), activations=("relu",), optimizer="gd",
    learning_rate=0.05, iterations=120, inits=("zeros", "random", "he"),
)  # fmt: skip
SMALL_ARGS = ("--seeds", "6", "--iterations", "120", "--learning-rate", "0.05")


def test_the_plan_is_every_init_for_every_seed_with_stable_distinct_hashes():
    spec = CompareSpec(SMALL, seeds=4, batch_runs=5)
    runs = spec.runs()
    assert [(r.init, r.seed) for r in runs[:4]] == [("zeros", 0), ("random", 0), ("he", 0),
                                                    ("zeros", 1)]  # fmt: skip
    assert len({r.hash for r in runs}) == len(runs) == 12
    assert [len(b.runs) for b in spec.batches()] == [5, 5, 2]
    again = CompareSpec(SMALL, seeds=4, batch_runs=5)
    assert [r.hash for r in again.runs()] == [r.hash for r in runs] and again.hash == spec.hash
    assert CompareSpec(dataclasses.replace(SMALL, learning_rate=0.06), seeds=4).hash != spec.hash
    assert CompareSpec(SMALL, seeds=5).hash != spec.hash


def test_every_stored_run_is_its_own_reference_run(tmp_path: Path):
    spec = CompareSpec(SMALL, seeds=3, batch_runs=4)
    with Store.open(tmp_path, spec.hash) as store:
        committed = list(run_compare(spec, store))
        records = store.records()
    assert [b.index for b in committed] == [0, 1, 2] and len(records) == 9
    setup = prepare(SMALL)
    net: Network = setup.network
    for record in records:
        init, seed = record.config["init"], record.config["seed_index"]
        start = initialize(net, init, _weight_rng(spec, seed))
        _, history = gradient_descent(
            net, start, setup.dataset.X_train, setup.dataset.Y_train,
            learning_rate=0.05, iterations=120,
        )  # fmt: skip
        # x10 weights are chaotic: rounding differences grow (see the README); early costs
        # and every other run agree to rounding
        agree = 10 if init == "random" else 120
        np.testing.assert_allclose(record.costs[:agree], history.costs[:agree], rtol=1e-10)
        if init == "zeros":  # symmetric: every seed predicts one class
            assert record.metrics["test_accuracy"] == 0.5


def test_a_stopped_comparison_resumes_to_the_same_numbers(tmp_path: Path):
    spec = CompareSpec(SMALL, seeds=4, batch_runs=5)
    with Store.open(tmp_path / "whole", spec.hash) as store:
        list(run_compare(spec, store))
        whole = {r.hash: r for r in store.records()}
    with Store.open(tmp_path / "stopped", spec.hash) as store:
        batches = run_compare(spec, store)
        next(batches)  # one batch committed, then stop
        batches.close()
        assert len(store.done_hashes()) == 5
    with Store.open(tmp_path / "stopped", spec.hash) as store:
        resumed = list(run_compare(spec, store))
        assert [b.index for b in resumed] == [1, 2]
        records = store.records()
    assert sorted(r.hash for r in records) == sorted(whole)
    for record in records:
        np.testing.assert_array_equal(record.costs, whole[record.hash].costs)
        assert record.metrics == whole[record.hash].metrics


def test_the_command_writes_statistics_figure_and_store(tmp_path: Path, capsys):
    out = tmp_path / "cmp"
    code, stdout, stderr = run_cli(capsys, "compare", *SMALL_ARGS, "--out", str(out))
    assert code == 0, stderr
    assert {p.name for p in out.iterdir()} >= {"runs.sqlite", "summary.json", "comparison.png"}
    summary = json.loads((out / "summary.json").read_text())
    assert [g["init"] for g in summary["groups"]] == ["zeros", "random", "he"]
    zeros = summary["groups"][0]
    assert zeros["runs"] == 6 and zeros["test_accuracy"]["mean"] == 0.5
    assert zeros["test_accuracy"]["ci_low"] == zeros["test_accuracy"]["ci_high"] == 0.5
    pairs = {(p["a"], p["b"], p["metric"]) for p in summary["paired"]}
    assert ("zeros", "he", "final_cost") in pairs and len(pairs) == 9
    assert "Per initialization" in stdout and "Paired on shared seeds" in stdout
    # its report: the statistics as summary.json has them, every stored run, the figure
    page = (out / "report.html").read_text()
    assert_self_contained(page)
    parsed = Page(page)
    for row, group in zip(parsed.rows("groups"), summary["groups"], strict=True):
        for metric in ("final_cost", "test_accuracy"):
            for stat in ("mean", "median", "ci_low", "ci_high"):
                assert float(row[f"{metric}.{stat}"][1]) == group[metric][stat]
    assert len(parsed.rows("paired")) == len(summary["paired"])
    assert len(parsed.rows("stored")) == 18
    assert [a["alt"] for t, a in parsed.tags if t == "img"] == ["comparison.png"]
    # run again: nothing is trained, the same statistics come out
    code, stdout, _ = run_cli(capsys, "compare", *SMALL_ARGS, "--out", str(out))
    assert code == 0 and "(18 already stored" in stdout
    assert json.loads((out / "summary.json").read_text()) == summary


def test_a_folder_of_another_comparison_is_refused(tmp_path: Path, capsys):
    out = tmp_path / "cmp"
    assert run_cli(capsys, "compare", *SMALL_ARGS, "-q", "--out", str(out))[0] == 0
    before = (out / "runs.sqlite").read_bytes()
    code, _, stderr = run_cli(
        capsys, "compare", "--seeds", "6", "--iterations", "121", "-q", "--out", str(out)
    )
    assert_one_line_error(code, stderr, str(out))
    assert "another sweep specification" in stderr
    assert (out / "runs.sqlite").read_bytes() == before


def _without_provenance(path: Path) -> dict:
    """A results file without the field that records when and by which command it was made."""
    document = json.loads(path.read_text())
    del document["provenance"]
    return document


def _start(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "initlab", "compare", "--seeds", "100", "--iterations", "300",
         "--out", str(out), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err


def _stored(out: Path) -> int:
    try:
        with sqlite3.connect(out / "runs.sqlite", timeout=5) as db:
            return db.execute("select count(*) from runs").fetchone()[0]
    except sqlite3.Error:
        return 0


def _wait_for_runs(out: Path, proc: subprocess.Popen, at_least: int) -> None:
    deadline = time.monotonic() + 120
    while _stored(out) < at_least:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no {at_least} runs stored: {proc.communicate()[1]}")
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_killed_and_resumed_equals_uninterrupted(tmp_path: Path, sig):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    _finish(_start(whole, "-q"))
    proc = _start(cut, "-q")
    _wait_for_runs(cut, proc, 100)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if _stored(cut) == 300:
        pytest.skip("the comparison had finished before the signal came")
    if sig == signal.SIGINT and proc.returncode != 0:
        assert proc.returncode == 130
        assert "resume with: initlab compare --seeds 100" in err and "Traceback" not in err
    _finish(_start(cut, "-q"))
    with sqlite3.connect(whole / "runs.sqlite") as a, sqlite3.connect(cut / "runs.sqlite") as b:
        query = "select hash, metrics, costs from runs order by hash"
        assert a.execute(query).fetchall() == b.execute(query).fetchall()
    assert _without_provenance(whole / "summary.json") == _without_provenance(cut / "summary.json")


def test_results_summarizes_filters_and_exports_the_store(tmp_path: Path, capsys):
    from initlab.results import load

    out = tmp_path / "cmp"
    assert run_cli(capsys, "compare", *SMALL_ARGS, "-q", "--out", str(out))[0] == 0
    frame = load(out)
    assert len(frame) == 18 and set(frame["init"]) == {"zeros", "random", "he"}
    code, stdout, stderr = run_cli(capsys, "results", str(out))
    assert code == 0, stderr
    zeros = next(line for line in stdout.splitlines() if "zeros" in line)
    assert "0.5 [0.5, 0.5]; 0.5" in zeros and " 6 " in zeros
    code, stdout, _ = run_cli(
        capsys, "results", str(out), "--where", "init == 'he'", "--csv", str(tmp_path / "he.csv")
    )
    assert code == 0 and "zeros" not in stdout
    import pandas as pd

    exported = pd.read_csv(tmp_path / "he.csv")
    assert len(exported) == 6 and set(exported["init"]) == {"he"}
    np.testing.assert_allclose(
        np.sort(exported["final_cost"]), np.sort(frame[frame["init"] == "he"]["final_cost"])
    )


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--where", "bogus >"], ["--where 'bogus >'", "columns:"]),
        (["--where", "init == 'nothing'"], ["keeps none of the stored runs"]),
        (["--group-by", "init,nope"], ["no column 'nope'"]),
        (["--csv", ""], ["--csv", "empty path"]),
        (["--csv", "/proc/x.csv"], ["--csv", "/proc"]),
        (["--csv", "/tmp"], ["--csv", "is a directory"]),
    ],
)
def test_results_bad_input_is_one_line(tmp_path: Path, capsys, args, names):
    out = tmp_path / "cmp"
    assert run_cli(capsys, "compare", "--seeds", "2", "--iterations", "20", "-q",
                   "--out", str(out))[0] == 0  # fmt: skip
    code, _, stderr = run_cli(capsys, "results", str(out), *args)
    assert_one_line_error(code, stderr, *names)


def test_results_of_a_folder_without_runs_is_one_line(tmp_path: Path, capsys):
    code, _, stderr = run_cli(capsys, "results", str(tmp_path))
    assert_one_line_error(code, stderr, "holds no stored runs")


@pytest.mark.parametrize(
    ("args", "names"),
    [(["--seeds", "0"], ["--seeds"]), (["--init", "nope"], ["nope"]),
     (["--iterations", "5", "--epochs", "2"], ["--iterations or --epochs"])],
)  # fmt: skip
def test_compare_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, capsys, args, names):
    out = tmp_path / "cmp"
    code, _, stderr = run_cli(capsys, "compare", *args, "--out", str(out))
    assert_one_line_error(code, stderr, *names)
    assert not out.exists()
