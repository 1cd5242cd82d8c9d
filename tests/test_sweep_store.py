"""The sweep's result store: run hashes, records, batches, crash safety, concurrent readers."""

from __future__ import annotations

import hashlib
import json
import math
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import initlab
from initlab.sweep import (
    RunRecord,
    Store,
    StoreConflictError,
    StoreError,
    StoreMismatchError,
    canonical_json,
    run_hash,
)

SPEC = "a" * 64

# The records of the crash tests, made the same way by this module and by the child
# processes (which run this text).
RECORDS_SOURCE = '''
import numpy as np
from initlab.sweep import RunRecord, run_hash

def make_record(batch, index, points=1000):
    """A deterministic run: batch ``batch``, run ``index`` of it."""
    config = {
        "init": ["he", "glorot_uniform", "zeros"][index % 3],
        "seed": batch * 1000 + index,
        "hidden": [10, 5],
        "optimizer": {"name": "adam", "learning_rate": 0.01 * (1 + index)},
    }
    rng = np.random.default_rng([batch, index])
    costs = np.cumsum(rng.standard_normal(points)) * 1e-3 + 0.7
    if index == 1:
        costs[-1] = np.nan
    metrics = {
        "final_cost": float(costs[-2]),
        "train_accuracy": float(rng.uniform()),
        "test_accuracy": float(rng.uniform()),
        "diverged_at": points - 1 if index == 1 else None,
        "exploded": bool(index == 2),
    }
    return RunRecord(
        hash=run_hash(config), batch=batch, config=config, metrics=metrics, costs=costs,
        timings={"train": 0.5 * index}, status="ok" if index != 1 else "diverged",
    )

def make_batch(batch, size):
    return [make_record(batch, index) for index in range(size)]
'''
_namespace: dict = {}
exec(RECORDS_SOURCE, _namespace)  # the same functions here
make_record, make_batch = _namespace["make_record"], _namespace["make_batch"]

WRITER_SOURCE = RECORDS_SOURCE + textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from initlab.sweep import Store

    folder, batches, size, kill_batch, kill_statement = sys.argv[1:6]
    batches, size, kill_batch = int(batches), int(size), int(kill_batch)
    store = Store.open(Path(folder), "a" * 64)
    done = store.done_hashes()
    print("ready", flush=True)
    for batch in range(batches):
        records = make_batch(batch, size)
        present = [record.hash in done for record in records]
        if all(present):
            continue
        assert not any(present), "a batch is in the store in part"
        if batch == kill_batch:
            seen = []
            def trace(statement):
                seen.append(statement)
                if statement.startswith(kill_statement.split(":")[0]) and len(
                    [s for s in seen if s.startswith(kill_statement.split(":")[0])]
                ) == int(kill_statement.split(":")[1]):
                    os.kill(os.getpid(), signal.SIGKILL)
            store._conn.set_trace_callback(trace)
        store.add_batch(records)
        print(batch, flush=True)
    store.close()
    print("finished", flush=True)
""")


def start_writer(
    folder: Path, batches: int, size: int, kill_batch: int = -1, kill_statement: str = "-:0"
) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            WRITER_SOURCE,
            str(folder),
            str(batches),
            str(size),
            str(kill_batch),
            kill_statement,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_whole_batches(records: list[RunRecord], size: int) -> set[int]:
    """Every record is intact and each batch present is present whole, each run once."""
    hashes = [record.hash for record in records]
    assert len(hashes) == len(set(hashes))
    by_batch: dict[int, list[RunRecord]] = {}
    for record in records:
        by_batch.setdefault(record.batch, []).append(record)
    for batch, got in by_batch.items():
        assert got == make_batch(batch, size)  # equality is bitwise on the cost curves
    return set(by_batch)


def integrity(folder: Path) -> str:
    with sqlite3.connect(folder / "runs.sqlite") as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


# --------------------------------------------------------------------------- run_hash

CONFIG = {
    "init": "normal",
    "init_params": {"std": 0.1},
    "seed": 7,
    "hidden": [10, 5],
    "activation": "relu",
    "learning_rate": 0.01,
    "flag": True,
    "schedule": None,
}


def test_run_hash_is_sha256_of_the_canonical_json_written_by_hand():
    text = (
        '{"activation":"relu","flag":true,"hidden":[10,5],"init":"normal",'
        '"init_params":{"std":0.1},"learning_rate":0.01,"schedule":null,"seed":7}'
    )
    assert canonical_json(CONFIG) == text
    assert run_hash(CONFIG) == hashlib.sha256(text.encode()).hexdigest()


def test_run_hash_ignores_key_order_and_numpy_scalar_types():
    shuffled = dict(reversed(list(CONFIG.items())))
    shuffled["init_params"] = {"std": np.float64(0.1)}
    shuffled["seed"] = np.int64(7)
    shuffled["hidden"] = (np.int32(10), 5)
    shuffled["flag"] = np.bool_(True)
    assert run_hash(shuffled) == run_hash(CONFIG)


def _replacements(value):
    """Values other than ``value`` (of its own type, and of another)."""
    if isinstance(value, bool):
        return [not value, int(value)]
    if isinstance(value, int):
        return [value + 1, float(value)]
    if isinstance(value, float):
        return [float(np.nextafter(value, 1.0)), -value]
    if isinstance(value, str):
        return [value + "x", value.upper() + "_"]
    if isinstance(value, list):
        return [[*value, 1], value[::-1]]
    assert value is None
    return [0, "null"]


def _leaf_changes(config, path=()):
    """Every configuration with exactly one leaf of ``CONFIG`` changed."""
    for key, value in config.items():
        if isinstance(value, dict):
            yield from _leaf_changes(value, (*path, key))
            continue
        for new in _replacements(value):
            changed = json.loads(json.dumps(CONFIG))
            target = changed
            for part in path:
                target = target[part]
            target[key] = new
            yield changed


def test_any_change_of_any_field_changes_the_hash():
    changes = [*_leaf_changes(CONFIG), {**CONFIG, "extra": None}, {**CONFIG, "Seed": 7}]
    changes.append({key: value for key, value in CONFIG.items() if key != "seed"})
    hashes = [run_hash(CONFIG)] + [run_hash(changed) for changed in changes]
    assert len(hashes) == len(set(hashes)) > 15


@pytest.mark.parametrize(
    ("config", "error", "words"),
    [
        ({"lr": math.nan}, ValueError, ["lr", "finite"]),
        ({"a": {"b": math.inf}}, ValueError, ["a.b", "finite"]),
        ({1: "x"}, TypeError, ["keys must be strings"]),
        ({"f": object()}, TypeError, ["f", "object"]),
        (["not", "a", "mapping"], TypeError, ["mapping"]),
    ],
)
def test_run_hash_refuses_what_has_no_canonical_form(config, error, words):
    with pytest.raises(error) as caught:
        run_hash(config)
    for word in words:
        assert word in str(caught.value)


# --------------------------------------------------------------------------- records


def test_records_round_trip_bit_for_bit_in_insertion_order(tmp_path):
    first, second = make_batch(5, 4), make_batch(2, 3)
    special = make_record(9, 0)
    costs = np.array([0.0, -0.0, np.nan, np.inf, 5e-324, 0.1])
    special = RunRecord(
        special.hash, 9, special.config, {"final_cost": math.nan, "x": [1, 2]}, costs, {}, "ok"
    )
    with Store.open(tmp_path, SPEC) as store:
        store.add_batch(first)
        store.add_batch(second)
        store.add_batch([special])
        assert store.done_hashes() == {r.hash for r in [*first, *second, special]}
    with Store.open(tmp_path, SPEC) as store:
        got = store.records()
    assert got == [*first, *second, special]
    assert got[-1].costs.tobytes() == costs.tobytes()
    assert got[0].costs.dtype == np.float64 and not got[0].costs.flags.writeable
    assert math.isnan(got[-1].metrics["final_cost"])


def test_the_store_is_sqlite_in_wal_mode_with_the_documented_tables(tmp_path):
    with Store.open(tmp_path, SPEC, version="0.1.3") as store:
        store.add_batch(make_batch(0, 2))
        assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        meta = store.meta()
    assert meta["spec_hash"] == SPEC and meta["initlab_version"] == "0.1.3"
    assert meta["schema_version"] == "1" and float(meta["created"]) > 0
    with sqlite3.connect(tmp_path / "runs.sqlite") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        columns = [row[1] for row in connection.execute("PRAGMA table_info(runs)")]
        row = connection.execute("SELECT costs, version, config FROM runs").fetchone()
    assert columns == [
        "hash", "batch", "config", "metrics", "costs", "timings", "status", "version",
        "finished",
    ]  # fmt: skip
    record = make_record(0, 0)
    assert row[0] == record.costs.astype("<f8").tobytes() and row[1] == "0.1.3"
    assert row[2] == canonical_json(record.config)


def test_a_batch_is_all_or_nothing(tmp_path):
    with Store.open(tmp_path, SPEC) as store:
        store.add_batch(make_batch(0, 3))
        before = store.records()
        changed = make_record(0, 1)
        changed = RunRecord(
            changed.hash, 1, changed.config, {**changed.metrics, "final_cost": 0.5},
            changed.costs, changed.timings, changed.status,
        )  # fmt: skip
        with pytest.raises(StoreConflictError, match="different metrics"):
            store.add_batch([*make_batch(1, 3), changed])
        wrong = make_record(1, 0)
        wrong = RunRecord(make_record(1, 1).hash, 1, wrong.config, {}, [], {}, "ok")
        with pytest.raises(ValueError, match="is not run_hash"):
            store.add_batch([make_record(2, 0), wrong])
        assert store.records() == before
        assert isinstance(StoreConflictError("x"), ValueError)


def test_adding_a_run_again_with_identical_content_is_a_no_op(tmp_path):
    with Store.open(tmp_path, SPEC) as store:
        store.add_batch(make_batch(0, 3))
        before = store.records()
        again = make_record(0, 2)
        again = RunRecord(
            again.hash, 7, again.config, again.metrics, again.costs.copy(), {"train": 9.0},
            again.status,
        )  # fmt: skip
        store.add_batch([again, again])
        store.add_batch(make_batch(0, 3))
        assert store.records() == before
        flipped = make_record(0, 0)
        costs = flipped.costs.copy()
        costs[3] = np.nextafter(costs[3], 2.0)
        flipped = RunRecord(
            flipped.hash, 0, flipped.config, flipped.metrics, costs, {}, flipped.status
        )
        with pytest.raises(StoreConflictError, match="different costs"):
            store.add_batch([flipped])


def test_frame_flattens_configuration_and_metrics(tmp_path):
    records = make_batch(0, 3)
    with Store.open(tmp_path, SPEC) as store:
        empty = store.frame(costs=True)
        assert len(empty) == 0 and list(empty.columns) == ["hash", "status", "costs"]
        store.add_batch(records)
        frame = store.frame()
        with_costs = store.frame(costs=True)
    assert list(frame.columns) == [
        "hash", "hidden", "init", "optimizer.learning_rate", "optimizer.name", "seed",
        "diverged_at", "exploded", "final_cost", "test_accuracy", "train_accuracy", "status",
    ]  # fmt: skip
    assert list(frame["hash"]) == [r.hash for r in records]
    assert list(frame["seed"]) == [0, 1, 2]
    assert frame["hidden"].iloc[0] == (10, 5)
    assert list(frame["optimizer.learning_rate"]) == [
        r.config["optimizer"]["learning_rate"] for r in records
    ]
    assert list(frame["final_cost"]) == [r.metrics["final_cost"] for r in records]
    assert list(frame["status"]) == ["ok", "diverged", "ok"]
    assert frame.groupby("hidden").size().iloc[0] == 3  # tuples group
    for row, record in zip(with_costs["costs"], records, strict=True):
        assert row.tobytes() == record.costs.tobytes()


def test_frame_flattens_nested_metrics(tmp_path):
    config = {"seed": 1}
    metrics = {"layers": {"dead": [0.0, 0.5]}, "final_cost": 0.25}
    record = RunRecord(run_hash(config), 0, config, metrics, [1.0], {}, "ok")
    with Store.open(tmp_path, SPEC) as store:
        store.add_batch([record])
        frame = store.frame()
    assert list(frame.columns) == ["hash", "seed", "final_cost", "layers.dead", "status"]
    assert frame["layers.dead"].iloc[0] == (0.0, 0.5)


def test_frame_refuses_a_metric_named_like_a_configuration_field(tmp_path):
    config = {"seed": 1}
    record = RunRecord(run_hash(config), 0, config, {"seed": 2.0}, [1.0], {}, "ok")
    with Store.open(tmp_path, SPEC) as store:
        store.add_batch([record])
        with pytest.raises(ValueError, match="'seed'"):
            store.frame()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"hash": "abc"}, ValueError),
        ({"batch": -1}, ValueError),
        ({"batch": True}, TypeError),
        ({"costs": np.zeros((2, 2))}, ValueError),
        ({"config": [1]}, TypeError),
        ({"status": ""}, ValueError),
    ],
)
def test_run_record_refuses_bad_fields(kwargs, error):
    fields = {
        "hash": "0" * 64, "batch": 0, "config": {}, "metrics": {}, "costs": [1.0],
        "timings": {}, "status": "ok",
    }  # fmt: skip
    with pytest.raises(error):
        RunRecord(**{**fields, **kwargs})


# --------------------------------------------------------------------------- opening


def test_a_store_of_another_spec_is_refused_naming_the_folder(tmp_path):
    with Store.open(tmp_path / "out", SPEC) as store:
        store.add_batch(make_batch(0, 2))
    with pytest.raises(StoreMismatchError) as caught:
        Store.open(tmp_path / "out", "b" * 64)
    assert str(tmp_path / "out") in str(caught.value)
    assert "another sweep specification" in str(caught.value)
    assert isinstance(caught.value, ValueError)
    with Store.open(tmp_path / "out", SPEC) as store:
        assert store.records() == make_batch(0, 2)


def test_a_store_of_an_incompatible_version_is_refused_naming_both(tmp_path):
    Store.open(tmp_path, SPEC, version="0.1.0").close()
    Store.open(tmp_path, SPEC, version="0.1.7").close()  # same major.minor: compatible
    for other in ("0.2.0", "1.1.0"):
        with pytest.raises(StoreMismatchError) as caught:
            Store.open(tmp_path, SPEC, version=other)
        assert "0.1.0" in str(caught.value) and other in str(caught.value)
        assert "incompatible" in str(caught.value)
    assert Store.open(tmp_path, SPEC).version == initlab.__version__


def test_a_store_of_another_schema_version_is_refused(tmp_path):
    Store.open(tmp_path, SPEC).close()
    with sqlite3.connect(tmp_path / "runs.sqlite") as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreMismatchError, match="schema 99"):
        Store.open(tmp_path, SPEC)


def test_what_is_not_a_store_is_refused(tmp_path):
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / "runs.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match=r"runs\.sqlite"):
        Store.open(tmp_path / "garbage", SPEC)
    with sqlite3.connect(tmp_path / "other.sqlite") as connection:
        connection.execute("CREATE TABLE t (x)")
    (tmp_path / "other").mkdir()
    (tmp_path / "other.sqlite").rename(tmp_path / "other" / "runs.sqlite")
    with pytest.raises(StoreError, match="not an initlab store"):
        Store.open(tmp_path / "other", SPEC)
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="not a folder"):
        Store.open(tmp_path / "file", SPEC)


def test_a_closed_store_refuses_work(tmp_path):
    store = Store.open(tmp_path, SPEC)
    store.close()
    store.close()
    with pytest.raises(ValueError, match="closed"):
        store.done_hashes()


# --------------------------------------------------------------------------- crashes


def test_sigkill_at_random_moments_then_resume_keeps_whole_batches_each_run_once(tmp_path):
    """Kill the writer inside a batch's transaction (at a random INSERT, just before its
    COMMIT) and at random wall-clock moments (anywhere, inside the commit's flush
    included); after each kill the store holds whole batches, each run once, intact; a
    last writer resumes and completes the sweep."""
    rng = np.random.default_rng(11)
    batches, size = 16, 6
    # The kills inside a transaction first: a writer killed at a random moment may
    # have had the time to finish the sweep.
    plan = [f"INSERT:{rng.integers(1, size + 1)}", "COMMIT:1", "time", "time", "time"]
    kept: set[int] = set()
    for kill in plan:
        if kill == "time":
            writer = start_writer(tmp_path, batches, size)
            assert writer.stdout.readline().strip() == "ready"
            for _ in range(int(rng.integers(0, 3))):
                writer.stdout.readline()
            threading.Event().wait(float(rng.uniform(0.0, 0.01)))
            writer.send_signal(signal.SIGKILL)
            writer.communicate(timeout=120)
        else:
            kill_batch = len(kept) + int(rng.integers(0, 3))
            writer = start_writer(tmp_path, batches, size, kill_batch, kill)
            out, err = writer.communicate(timeout=120)
            assert writer.returncode == -signal.SIGKILL, err
            assert out.split() == ["ready", *map(str, range(len(kept), kill_batch))]
        assert integrity(tmp_path) == "ok"
        with Store.open(tmp_path, SPEC) as store:
            kept = assert_whole_batches(store.records(), size)
        assert kept == set(range(len(kept)))  # batches are written in order
        if kill != "time":
            assert len(kept) == kill_batch  # the killed batch is absent, all of it
    writer = start_writer(tmp_path, batches, size)
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert out.split() == ["ready", *map(str, range(len(kept), batches)), "finished"]
    assert integrity(tmp_path) == "ok"
    with Store.open(tmp_path, SPEC) as store:
        records = store.records()
    assert sorted(records, key=lambda r: r.batch) == [
        r for batch in range(batches) for r in make_batch(batch, size)
    ]


# --------------------------------------------------------------------------- readers


def test_a_reader_sees_no_part_of_a_batch_being_written(tmp_path):
    Store.open(tmp_path, SPEC).close()
    inside, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            with Store.open(tmp_path, SPEC) as store:
                store.add_batch(make_batch(0, 4))
                inserts = []

                def trace(statement: str) -> None:
                    if statement.startswith("INSERT"):
                        inserts.append(statement)
                        if len(inserts) == 3:
                            inside.set()
                            release.wait(60)

                store._conn.set_trace_callback(trace)
                store.add_batch(make_batch(1, 4))
        except BaseException as error:
            failures.append(error)
            inside.set()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert inside.wait(60)
        with Store.open(tmp_path, SPEC) as reader:  # opening needs no lock
            assert reader.records() == make_batch(0, 4)
            assert len(reader.frame()) == 4
    finally:
        release.set()
        thread.join(60)
    assert not failures
    with Store.open(tmp_path, SPEC) as reader:
        assert reader.records() == make_batch(0, 4) + make_batch(1, 4)


def test_a_reader_polling_a_writing_process_always_sees_whole_batches(tmp_path):
    Store.open(tmp_path, SPEC).close()
    batches, size = 12, 6
    writer = start_writer(tmp_path, batches, size)
    seen = []
    with Store.open(tmp_path, SPEC) as reader:
        while True:
            running = writer.poll() is None
            kept = assert_whole_batches(reader.records(), size)
            assert kept == set(range(len(kept)))
            seen.append(len(kept))
            if not running:
                break
    _, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert seen == sorted(seen) and seen[-1] == batches
