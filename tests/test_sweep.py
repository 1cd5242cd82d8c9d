"""``initlab sweep``: the TOML grammar, the plan, executors, the store, resuming, statistics."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from badinput import assert_one_line_error, files_under, run_cli
from initlab import gradient_descent, initialize
from initlab.experiments.train import TrainConfig, prepare
from initlab.sweep.compare import CompareSpec
from initlab.sweep.executors import LocalExecutor, ProcessExecutor, make_executor
from initlab.sweep.grammar import MAX_RUNS, expand_braces, parse_spec
from initlab.sweep.plan import run_batches, weight_rng
from initlab.sweep.store import Store
from initlab.sweep.summary import grid_values, sweep_pairs, sweep_summary
from test_compare import _finish, _stored

SMALL = """
seeds = 3
[train]
dataset = "course_circles"
optimizer = "gd"
learning-rate = 0.05
iterations = 40
[grid]
init = ["zeros", "normal(std={0.1, 1})"]
depth = [1, 2]
[[zip]]
width = [4, 8]
activation = ["relu", "tanh"]
"""


def _parse(text: str, **kwargs):
    import tomllib

    return parse_spec(tomllib.loads(text), **kwargs)


def _rows(store: Store) -> dict[str, tuple]:
    """Every run's bit-exact content, by hash."""
    return {
        r.hash: (json.dumps(r.metrics, sort_keys=True), r.costs.tobytes(), r.status)
        for r in store.records()
    }


# --------------------------------------------------------------------------- grammar


def test_braces_expand_left_to_right_into_every_combination():
    assert expand_braces("he") == ["he"]
    assert expand_braces("normal(std={0.01, 0.1,1})") == [
        "normal(std=0.01)", "normal(std=0.1)", "normal(std=1)",
    ]  # fmt: skip
    assert expand_braces("{a,b}-{x,y}") == ["a-x", "a-y", "b-x", "b-y"]
    for bad in ("normal(std={0.1,})", "normal(std={0.1)"):
        with pytest.raises(ValueError, match=r"empty alternative|unbalanced"):
            expand_braces(bad)


def test_the_grid_is_the_product_of_lists_zips_and_seeds():
    spec = _parse(SMALL)
    # init: 3 (braces), depth: 2, zip (width, activation): 2, seeds: 3
    assert spec.n_runs == 3 * 2 * 2 * 3 == 36
    points = spec.points()
    assert len(points) == 12 and points[0] == {
        "init": "zeros", "depth": 1, "width": 4, "activation": ["relu"],
    }  # fmt: skip
    assert {(p["width"], tuple(p["activation"])) for p in points} == {(4, ("relu",)),
                                                                       (8, ("tanh",))}  # fmt: skip
    batches = spec.batches()
    # runs that share a training (depth x zip: 4 trainings) train together: 3 inits x 3 seeds
    assert [len(b.runs) for b in batches] == [9, 9, 9, 9]
    assert [b.config.hidden for b in batches] == [(4,), (8,), (4, 4), (8, 8)]
    runs = [r for b in batches for r in b.runs]
    assert len({r.hash for r in runs}) == 36
    assert {r.init for r in runs} == {"zeros", "normal(std=0.1)", "normal(std=1)"}
    assert spec.columns == ["init", "depth", "width", "activations"]
    again = _parse(SMALL)
    assert again.hash == spec.hash and [r.hash for b in again.batches() for r in b.runs] == [
        r.hash for r in runs
    ]
    # any change of value, and the order of the axes, make another sweep
    assert _parse(SMALL.replace("0.05", "0.06")).hash != spec.hash
    swapped = SMALL.replace('init = ["zeros", "normal(std={0.1, 1})"]\ndepth = [1, 2]',
                            'depth = [1, 2]\ninit = ["zeros", "normal(std={0.1, 1})"]')  # fmt: skip
    assert swapped != SMALL and _parse(swapped).hash != spec.hash


def test_seeds_by_count_or_list_and_batches_of_at_most_batch_runs():
    zipped = _parse("[[zip]]\nwidth = [4, 4]\ndepth = [1, 2]")  # a zipped list may repeat
    assert zipped.n_runs == 2
    spec = _parse("seeds = [4, 9]\n[grid]\ninit = ['he', 'zeros', 'random']", batch_runs=4)
    assert spec.seeds == (4, 9) and spec.n_runs == 6
    assert [[(r.init, r.seed) for r in b.runs] for b in spec.batches()] == [
        [("he", 4), ("zeros", 4), ("random", 4), ("he", 9)], [("zeros", 9), ("random", 9)],
    ]  # fmt: skip
    assert _parse("seeds = 5").seeds == (0, 1, 2, 3, 4)


def test_a_sweep_of_the_compare_setting_is_the_compare():
    """The same settings give the same runs (hashes) as `initlab compare`, so the weights
    of seed s come from SeedSequence(seed, spawn_key=(1, s)) in both."""
    config = TrainConfig(dataset="course_circles", optimizer="gd", learning_rate=0.05,
                         iterations=30, inits=("zeros", "he"))  # fmt: skip
    compare = CompareSpec(config, seeds=3)
    spec = _parse(
        "seeds = 3\n[train]\ndataset = 'course_circles'\noptimizer = 'gd'\n"
        "learning-rate = 0.05\niterations = 30\n[grid]\ninit = ['zeros', 'he']"
    )
    assert [r.hash for b in spec.batches() for r in b.runs] == [r.hash for r in compare.runs()]


def test_every_run_is_its_own_reference_run(tmp_path: Path):
    spec = _parse(SMALL)
    with Store.open(tmp_path, spec.hash) as store:
        list(run_batches(spec.batches(), store))
        records = store.records()
    assert len(records) == 36
    for batch in spec.batches()[::3]:  # trainings (4,) relu and (8, 8) tanh
        setup = prepare(batch.config)
        for run in batch.runs[:4]:
            record = next(r for r in records if r.hash == run.hash)
            start = initialize(setup.network, run.init, weight_rng(batch.config, run.seed))
            _, history = gradient_descent(
                setup.network, start, setup.dataset.X_train, setup.dataset.Y_train,
                learning_rate=0.05, iterations=40,
            )  # fmt: skip
            np.testing.assert_allclose(record.costs, history.costs, rtol=1e-10)
            assert record.config["depth"] == len(batch.config.hidden)


MIXED = """
seeds = 5
[train]
dataset = "moons"
iterations = 30
[grid]
init = ["he", "glorot_uniform", "normal(std=1)"]
[[zip]]
optimizer = ["gd", "adam"]
learning-rate = [0.5, 0.01]
"""


def test_results_are_bitwise_the_same_on_every_executor_and_worker_count(tmp_path: Path):
    """Batches of 15 runs (an odd number: the compiled kernel's last model is not split
    over threads) on gd (compiled kernel) and minibatch adam (batched NumPy)."""
    spec = _parse(MIXED)
    stores = {}
    executors = {
        "local": LocalExecutor(),
        "local-1-thread": LocalExecutor(threads=1),
        "2-processes": ProcessExecutor(2),
    }
    for name, executor in executors.items():
        with executor, Store.open(tmp_path / name, spec.hash) as store:
            assert len(list(run_batches(spec.batches(), store, executor))) == 2
            stores[name] = _rows(store)
    assert len(stores["local"]) == 30
    assert stores["local-1-thread"] == stores["local"]
    assert stores["2-processes"] == stores["local"]


def test_make_executor_takes_one_kind():
    assert isinstance(make_executor(), LocalExecutor)
    assert isinstance(make_executor(workers=1), LocalExecutor)
    with pytest.raises(ValueError, match="--workers and --scheduler"):
        make_executor(workers=2, scheduler="tcp://127.0.0.1:1")


# --------------------------------------------------------------------------- statistics


def test_the_summary_per_configuration_against_numpy():
    import pandas as pd

    costs = [np.array([1.0, 0.5, 0.2]), np.array([1.0, 0.9, 0.8]), np.array([1.0, 0.4, np.nan]),
             np.array([2.0, 0.1, 0.05])]  # fmt: skip
    frame = pd.DataFrame({
        "init": ["a", "a", "b", "b"], "depth": [1, 1, 1, 2],
        "final_cost": [0.2, 0.8, np.nan, 0.05], "train_accuracy": [1.0, 0.5, np.nan, 1.0],
        "test_accuracy": [1.0, 0.5, np.nan, 1.0], "diverged_at": [None, None, 2, None],
        "diverged": [False, False, True, False], "costs": costs,
    })  # fmt: skip
    groups = sweep_summary(frame, ["init"], threshold=0.6)
    a, b = groups
    assert a["init"] == "a" and a["runs"] == 2 and a["fraction_diverged"] == 0.0
    # a: first below 0.6 at update 1 (run 1), never (run 2)
    assert a["fraction_reached"] == 0.5 and a["iterations_to_threshold"]["median"] == 1.0
    assert a["final_cost"]["mean"] == pytest.approx(0.5) and a["final_cost"]["median"] == 0.5
    assert a["final_cost"]["std"] == pytest.approx(np.std([0.2, 0.8], ddof=1))
    assert b["fraction_diverged"] == 0.5 and b["final_cost"]["n"] == 1
    assert b["fraction_reached"] == 1.0 and b["iterations_to_threshold"]["mean"] == 1.0
    xs, ys, table = grid_values(frame, "init", "depth", "final_cost")
    assert xs == ["a", "b"] and ys == [1, 2]
    np.testing.assert_array_equal(table, [[0.5, np.nan], [np.nan, 0.05]])


def test_initializations_are_paired_on_shared_seeds_within_each_configuration():
    """Per configuration (depth here), every pair of initializations on the seeds both
    have, matched by seed index whatever the rows' order: paired_comparison's numbers."""
    import pandas as pd

    from initlab.sweep.stats import paired_comparison

    rng = np.random.default_rng(0)
    rows = []
    for depth in (1, 2):
        for init in ("he", "zeros", "lecun"):
            for seed in range(6):
                cost = rng.uniform(0.1, 0.7) if init != "zeros" else np.log(2)
                rows.append({"init": init, "depth": depth, "seed_index": seed,
                             "final_cost": cost, "train_accuracy": 1 - cost,
                             "test_accuracy": 1 - cost / 2, "diverged": False,
                             "costs": np.array([1.0, cost])})  # fmt: skip
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=1)  # seeds shuffled, the
    rank = {"he": 0, "zeros": 1, "lecun": 2}  # initializations in the spec's order
    frame = frame.sort_values("init", key=lambda c: c.map(rank), kind="stable")
    frame = frame[~((frame["init"] == "lecun") & (frame["seed_index"] == 5))]  # one seed less
    out = sweep_pairs(frame, ["init", "depth"], threshold=0.5)
    assert [entry["depth"] for entry in out] == [1, 2]
    for entry in out:
        got = {(p["a"], p["b"], p["metric"]): p for p in entry["paired"]}
        assert {(a, b) for a, b, _ in got} == {("he", "zeros"), ("he", "lecun"),
                                                ("zeros", "lecun")}  # fmt: skip
        mine = frame[frame["depth"] == entry["depth"]]

        def values(init, metric, seeds, mine=mine):
            rows = mine[mine["init"] == init].set_index("seed_index")
            return rows.loc[seeds, metric].to_numpy(dtype=float)

        seeds = range(5)  # the seeds he and lecun share
        want = paired_comparison(values("he", "final_cost", seeds),
                                 values("lecun", "final_cost", seeds))  # fmt: skip
        p = got["he", "lecun", "final_cost"]
        assert p["n"] == 5 and p["a_wins"] == want.win_rate
        assert p["mean_difference"] == pytest.approx(want.mean_difference)
        # accuracy: higher is better, so "he wins" where its accuracy is larger
        acc = got["he", "zeros", "test_accuracy"]
        he, zeros = (
            values("he", "test_accuracy", range(6)),
            values("zeros", "test_accuracy", range(6)),
        )
        assert acc["n"] == 6 and acc["a_wins"] == pytest.approx(np.mean(he > zeros))
        # zeros never gets below the threshold: nothing to pair on that metric
        assert ("he", "lecun", "iterations_to_threshold") in got
        assert ("he", "zeros", "iterations_to_threshold") not in got
    assert sweep_pairs(frame, ["depth"]) == []  # init not swept: nothing to pair


# --------------------------------------------------------------------------- the command


def _write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_command_stores_summarizes_draws_and_resumes(tmp_path: Path, capsys):
    spec, out = _write(tmp_path, SMALL), tmp_path / "out"
    code, stdout, stderr = run_cli(capsys, "sweep", str(spec), "--out", str(out),
                                   "--threshold", "0.69")  # fmt: skip
    assert code == 0, stderr
    assert {p.name for p in out.iterdir()} == {
        "runs.sqlite",
        "summary.json",
        "heatmap.png",
        "report.html",
    }
    summary = json.loads((out / "summary.json").read_text())
    assert summary["group_by"] == ["init", "depth", "width", "activations"]
    assert len(summary["groups"]) == 12 and all(g["runs"] == 3 for g in summary["groups"])
    zeros = [g for g in summary["groups"] if g["init"] == "zeros"]
    assert all(g["final_cost"]["median"] == pytest.approx(np.log(2)) for g in zeros)
    assert all(g["fraction_reached"] == 0.0 for g in zeros)
    assert len(summary["paired"]) == 12 // len({g["init"] for g in summary["groups"]})
    assert all(entry["paired"] for entry in summary["paired"])
    assert "36 runs in 4 batches (0 already stored" in stdout and "cost < 0.69" in stdout
    code, stdout, _ = run_cli(capsys, "sweep", str(spec), "--out", str(out), "--threshold",
                              "0.69")  # fmt: skip
    assert code == 0 and "(36 already stored" in stdout
    assert json.loads((out / "summary.json").read_text()) == summary


BAD = [
    ("[grid]\ninti = ['he']", ["unknown key grid.'inti'", "did you mean 'init'"]),
    ("iterations = 5", ["unknown key 'iterations'"]),
    ("[train]\nlearning-rate = 'fast'", ["train.learning-rate", "a number", "'fast'"]),
    ("[train]\niterations = 1.5", ["train.iterations", "an integer"]),
    ("[grid]\ninit = []", ["grid.init", "empty list"]),
    ("[grid]\ninit = 'he'", ["grid.init", "a list of values"]),
    ("seeds = 0", ["seeds must be at least 1"]),
    ("seeds = [1, 1]", ["seeds lists 1 twice"]),
    ("seeds = 200001", ["200,001 runs", "--yes"]),
    ("[grid]\ninit = ['he', 'nope']", ["grid.init[1]", "nope"]),
    ("[grid]\ninit = ['normal(std={0.1,})']", ["grid.init[0]", "empty alternative"]),
    ("[[zip]]\nwidth = [4, 8]\ndepth = [1]", ["different lengths", "width 2, depth 1"]),
    ("[train]\ndepth = 2", ["depth and width go together", "width"]),
    ("[train]\ninit = 'he'\n[grid]\ninit = ['zeros']", ["init is given in [train] and in [grid]"]),
    ("[train]\ninit = 'normal(std={1,2})'", ["braces expand only in [grid] and [zip]"]),
    ("[train\n", ["not valid TOML"]),
    ("[grid]\ninit = ['he', 'normal(std={1, 1})']", ["grid.init", "'normal(std=1)' twice"]),
    ("[[zip]]\nwidth = [4, 4]\ndepth = [1, 1]", ["[[zip]] number 1 lists (4, 1) twice"]),
    ("seeds = true", ["seeds must be a number of seeds", "(bool)"]),
    (
        "[grid]\nhidden = [[4], '8,8']\nactivation = ['relu', 'tanh,relu']",
        ["2 activations (tanh, relu) for 1 hidden layer", "hidden [4], activations tanh,relu"],
    ),
]


@pytest.mark.parametrize(("text", "names"), BAD, ids=[b[1][0][:30] for b in BAD])
def test_bad_sweep_files_are_one_line_and_write_nothing(tmp_path: Path, capsys, text, names):
    spec, out = _write(tmp_path, text), tmp_path / "out"
    code, _, stderr = run_cli(capsys, "sweep", str(spec), "--out", str(out))
    assert_one_line_error(code, stderr, str(spec), *names)
    assert not out.exists()


@pytest.mark.parametrize("command", ["sweep", "compare"])
def test_two_executors_at_once_are_one_line_and_write_nothing(tmp_path: Path, capsys, command):
    spec, out = _write(tmp_path, "seeds = 2\n[train]\niterations = 5"), tmp_path / "out"
    args = [str(spec)] if command == "sweep" else ["--seeds", "2", "--iterations", "5"]
    code, _, stderr = run_cli(capsys, command, *args, "--workers", "2", "--dask-local", "1",
                              "--out", str(out))  # fmt: skip
    assert_one_line_error(code, stderr, "give one of --workers and --dask-local")
    assert not out.exists()


def test_a_large_sweep_runs_with_yes_only():
    text = "seeds = 1000\n[grid]\ninit = ['he', 'zeros']\nwidth = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"
    text += "\ndepth = [1, 2, 3, 4, 5]"
    assert _parse(text).n_runs == 100_000 == MAX_RUNS
    more = text.replace("seeds = 1000", "seeds = [" + ",".join(map(str, range(1001))) + "]")
    with pytest.raises(ValueError, match=f"100,100 runs, more than {MAX_RUNS:,}"):
        _parse(more)
    assert _parse(more, max_runs=None).n_runs == 100_100


def test_a_missing_file_and_a_folder_of_another_sweep_are_refused(tmp_path: Path, capsys):
    code, _, stderr = run_cli(capsys, "sweep", str(tmp_path / "nope.toml"))
    assert_one_line_error(code, stderr, "nope.toml", "does not exist")
    out = tmp_path / "out"
    spec = _write(tmp_path, "seeds = 2\n[train]\niterations = 5")
    assert run_cli(capsys, "sweep", str(spec), "-q", "--out", str(out))[0] == 0
    before = {p: p.read_bytes() for p in files_under(out)}
    other = _write(tmp_path, "seeds = 2\n[train]\niterations = 6", "other.toml")
    code, _, stderr = run_cli(capsys, "sweep", str(other), "-q", "--out", str(out))
    assert_one_line_error(code, stderr, str(out), "another sweep specification")
    assert {p: p.read_bytes() for p in files_under(out)} == before


def test_results_exports_parquet_and_names_the_extra_when_missing(tmp_path: Path, capsys,
                                                                  monkeypatch):  # fmt: skip
    from extras import require

    require("pyarrow", "parquet")
    import pandas as pd

    from initlab.results import load

    spec, out = _write(tmp_path, SMALL), tmp_path / "out"
    assert run_cli(capsys, "sweep", str(spec), "-q", "--out", str(out))[0] == 0
    target = tmp_path / "runs.parquet"
    code, _, stderr = run_cli(capsys, "results", str(out), "--group-by", "init,depth",
                              "--parquet", str(target))  # fmt: skip
    assert code == 0, stderr
    exported, frame = pd.read_parquet(target), load(out)
    assert list(exported["hash"]) == list(frame["hash"])
    np.testing.assert_array_equal(exported["final_cost"], frame["final_cost"])
    assert [tuple(h) for h in exported["hidden"]] == list(frame["hidden"])
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    code, _, stderr = run_cli(capsys, "results", str(out), "--parquet", str(tmp_path / "x.pq"))
    assert_one_line_error(code, stderr, "--parquet", "initlab[parquet]")
    assert not (tmp_path / "x.pq").exists()


# --------------------------------------------------------------------------- kill and resume

KILL_SPEC = """
seeds = 50
[train]
dataset = "course_circles"
optimizer = "gd"
learning-rate = 0.05
iterations = 300
depth = 1
[grid]
init = ["he", "normal(std={0.5, 2})"]
width = [5, 10]
"""


def _start(spec: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "initlab", "sweep", str(spec), "--out", str(out), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> tuple[Path, Path]:
    """The kill test's sweep file and the folder of its uninterrupted run."""
    folder = tmp_path_factory.mktemp("whole")
    spec = _write(folder, KILL_SPEC)
    _finish(_start(spec, folder / "whole", "-q"))
    assert _stored(folder / "whole") == 300
    return spec, folder / "whole"


def _interrupt(spec: Path, cut: Path, sig: signal.Signals) -> tuple[int, str]:
    """Start the sweep into ``cut``, send ``sig`` once 100 runs are stored, wait for it:
    its exit code and standard error."""
    proc = _start(spec, cut, "-q")
    deadline = time.monotonic() + 120
    while _stored(cut) < 100:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no 100 runs stored: {proc.communicate()[1]}")
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if _stored(cut) == 300:
        pytest.skip("the sweep had finished before the signal came")
    return proc.returncode, err


QUERY = "select hash, metrics, costs, status from runs order by hash"


def test_a_killed_sweep_resumes_to_the_uninterrupted_numbers(tmp_path: Path, uninterrupted):
    spec, whole = uninterrupted
    cut = tmp_path / "cut"
    _interrupt(spec, cut, signal.SIGKILL)
    _finish(_start(spec, cut, "-q"))
    with sqlite3.connect(whole / "runs.sqlite") as a, sqlite3.connect(cut / "runs.sqlite") as b:
        assert a.execute(QUERY).fetchall() == b.execute(QUERY).fetchall()
    summaries = [json.loads((run / "summary.json").read_text()) for run in (whole, cut)]
    for summary in summaries:  # the command lines differ (--out), the results must not
        del summary["provenance"]
    assert summaries[0] == summaries[1]


def test_ctrl_c_stops_with_whole_batches_stored_and_the_resume_command(
    tmp_path: Path, uninterrupted
):
    spec, whole = uninterrupted
    cut = tmp_path / "cut"
    code, err = _interrupt(spec, cut, signal.SIGINT)
    assert code == 130, err
    assert (
        err.strip().splitlines()[-1].endswith(f"resume with: initlab sweep {spec} --out {cut} -q")
    )
    assert "Traceback" not in err
    with sqlite3.connect(whole / "runs.sqlite") as a, sqlite3.connect(cut / "runs.sqlite") as b:
        stored = b.execute(QUERY).fetchall()
        batches = b.execute("select batch, count(*) from runs group by batch").fetchall()
        every = dict((row[0], row) for row in a.execute(QUERY).fetchall())
    # whole batches only (of 100 and 50 runs), each run bitwise the uninterrupted one
    assert {count for _, count in batches} <= {100, 50} and len(stored) >= 100
    assert all(every[row[0]] == row for row in stored)


def test_a_new_store_has_large_pages_and_the_examples_parse(tmp_path: Path):
    from initlab.sweep.grammar import load_spec
    from initlab.sweep.store import PAGE_SIZE

    with Store.open(tmp_path, "spec"):
        pass
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:
        assert db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE == 65536
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    examples = sorted((Path(__file__).parent.parent / "examples").glob("*.toml"))
    assert len(examples) >= 3
    for path in examples:
        assert load_spec(path).n_runs > 0


def test_the_documented_speed_is_the_benchmark_json():
    import importlib.util

    root = Path(__file__).parent.parent
    loader = importlib.util.spec_from_file_location("sweep_benchmark", root / "benchmarks/sweep.py")
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    bench = json.loads((root / "docs" / "sweep-benchmark.json").read_text())
    assert module.speed_table(bench) in (root / "docs" / "sweep.md").read_text()


def test_the_heatmap_draws_every_cell_on_the_given_ax():
    from matplotlib.figure import Figure

    from initlab.sweep.figures import plot_heatmap

    ax = Figure().subplots()
    table = np.array([[0.5, np.nan, 2.0], [0.25, 1.0, 4.0]])
    plot_heatmap(ax, ["a", "b", "c"], [(10, 5), (3,)], table, x_name="init",
                 y_name="hidden", title="median final cost", log=True)  # fmt: skip
    assert [t.get_text() for t in ax.texts] == ["0.5", "-", "2", "0.25", "1", "4"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["10,5", "3"]
    assert ax.get_xlabel() == "init" and ax.get_title() == "median final cost"
    image = ax.images[0]
    assert image.norm.vmin == 0.25 and image.norm.vmax == 4.0  # log colours over the range
