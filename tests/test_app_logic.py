"""The app's logic without a browser or Bokeh: configuration from URLs, training in
cancellable steps, uploads, the results document."""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs

import numpy as np
import pytest

from initlab.app.config import MAX_ITERATIONS, AppConfig, parse_hidden
from initlab.app.record import results_bytes, results_document
from initlab.app.training import prepare, steps, threads_for, train
from initlab.app.upload import UPLOAD_LIMIT, load_upload
from initlab.app.views import boundary_grid, grid_extent, histogram, layer_histograms
from initlab.datasets import course_circles
from initlab.engine import train_population
from initlab.network import Network

# -- configuration -------------------------------------------------------------------


def test_defaults_are_the_course() -> None:
    config = AppConfig.from_query({})
    assert config == AppConfig()
    assert (config.dataset, config.hidden, config.activation) == ("course_circles", (10, 5), "relu")
    assert config.inits == ("zeros", "random", "he")
    assert (config.optimizer, config.learning_rate, config.iterations, config.seed) == (
        "gd", 0.01, 15000, 3,
    )  # fmt: skip


def test_query_round_trip() -> None:
    config = AppConfig(
        dataset="moons(noise=0.2)", hidden=(16, 8, 4), activation="tanh",
        inits=("he", "normal(std=0.01)", "orthogonal"), bias_init="zeros",
        optimizer="adam(beta1=0.8)", learning_rate=0.005, iterations=321, seed=7, standardize=True,
    )  # fmt: skip
    assert AppConfig.from_query(parse_qs(config.query())) == config


def test_query_reads_tornado_bytes_and_several_inits() -> None:
    query = {"init": [b"he", b"zeros\nlecun_normal"], "hidden": [b"4,4"], "iterations": [b"10"]}
    config = AppConfig.from_query(query)
    assert config.inits == ("he", "zeros", "lecun_normal")
    assert config.hidden == (4, 4)
    assert config.iterations == 10


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"colour": ["red"]}, "'colour'"),
        ({"iterations": ["0"]}, "iterations"),
        ({"iterations": [str(MAX_ITERATIONS + 1)]}, str(MAX_ITERATIONS + 1)),
        ({"iterations": ["1e3"]}, "'1e3'"),
        ({"lr": ["-1"]}, "learning rate"),
        ({"lr": ["nan"]}, "learning rate"),
        ({"seed": ["1", "2"]}, "'seed'"),
        ({"hidden": ["10,x"]}, "'x'"),
        ({"hidden": ["0"]}, "hidden width"),
        ({"activation": ["relux"]}, "relux"),
        ({"init": ["hee"]}, "hee"),
        ({"init": ["he", "he"]}, "twice"),
        ({"init": [""]}, "at least one"),
        ({"init": ["normal(std=)"]}, "normal"),
        ({"optimizer": ["adamw"]}, "adamw"),
        ({"dataset": ["moonz"]}, "moonz"),
        ({"dataset": ["csv(path=/etc/passwd)"]}, "upload"),
        ({"dataset": ["npz(path=/tmp/x.npz)"]}, "upload"),
        ({"standardize": ["maybe"]}, "standardize"),
        ({"bias": ["lsuv"]}, "lsuv"),
    ],
)
def test_bad_query_is_refused_naming_the_value(query, named) -> None:
    with pytest.raises(ValueError, match=None) as info:
        AppConfig.from_query(query)
    assert named in str(info.value), str(info.value)


def test_custom_code_is_refused_before_anything_is_imported(tmp_path, monkeypatch) -> None:
    marker = tmp_path / "imported"
    (tmp_path / "evil_init.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "def init(rng, shape):\n    return rng.standard_normal(shape)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match="--allow-custom-code"):
        AppConfig.from_query({"init": ["evil_init:init"]})
    assert not marker.exists()
    config = AppConfig.from_query({"init": ["evil_init:init"]}, allow_custom_code=True)
    assert config.inits == ("evil_init:init",)
    assert marker.exists()


def test_hidden_widths() -> None:
    assert parse_hidden(" 10 , 5 ") == (10, 5)
    assert parse_hidden("") == ()
    with pytest.raises(ValueError, match="at most"):
        parse_hidden(",".join(["2"] * 9))


# -- training ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def he_zeros():
    """The course's he and zeros runs, trained by the app."""
    return train(prepare(AppConfig(inits=("he", "zeros"))))


def test_training_equals_the_course(he_zeros, course_expected) -> None:
    """The app's he and zeros runs give the course's published costs and accuracies."""
    for i, init in enumerate(("he", "zeros")):
        expected = course_expected["runs"][init]
        costs = he_zeros.costs[i]
        for at, cost in expected["costs"].items():
            assert costs[int(at)] == pytest.approx(cost, rel=1e-9, abs=1e-12), (init, at)
        scores = he_zeros.scores(i)
        assert scores["train_accuracy"] == expected["train_accuracy"]
        assert scores["test_accuracy"] == expected["test_accuracy"]
        assert scores["status"] == "ok"
    assert he_zeros.scores(0)["train_accuracy"] == 298 / 300
    assert he_zeros.scores(1)["test_accuracy"] == 0.5


def test_steps_give_the_single_call_bit_for_bit(he_zeros) -> None:
    """Gradient descent has no state: training in steps is training at once."""
    prepared = he_zeros.prepared
    data = prepared.dataset
    once = train_population(
        prepared.network, prepared.starts, data.X_train, data.Y_train,
        learning_rate=0.01, iterations=15000,
    )  # fmt: skip
    np.testing.assert_array_equal(he_zeros.costs, once.costs)
    for mine, theirs in zip(he_zeros.params, once.params, strict=True):
        for a, b in zip(mine.weights, theirs.weights, strict=True):
            np.testing.assert_array_equal(a, b)
    assert he_zeros.snapshot_at == [int(k) for k in steps(15000)]
    np.testing.assert_array_equal(
        he_zeros.snapshots[0][0].weights[0], prepared.starts[0].weights[0]
    )


def test_pieces_give_the_single_call_bit_for_bit_and_stop_when_cancelled(monkeypatch) -> None:
    """A step too large for one call is trained in pieces (here one update each): the
    same numbers, and a cancel stops it between two pieces."""
    from initlab.app import training

    config = AppConfig(inits=("he", "zeros"), iterations=200)
    prepared = prepare(config)
    monkeypatch.setattr(
        training, "CALL_FLOPS", training.update_flops(prepared.network, 300) * 2 * 3
    )  # 3 updates of the 2 models per call
    calls = []
    cancel = threading.Event()
    engine = training.train_population

    def counted(*args, **kwargs):
        calls.append(kwargs["iterations"])
        return engine(*args, **kwargs)

    monkeypatch.setattr(training, "train_population", counted)
    whole = train(prepared)
    assert max(calls) == 3 and sum(calls) == 200
    data = prepared.dataset
    once = train_population(
        prepared.network, prepared.starts, data.X_train, data.Y_train,
        learning_rate=0.01, iterations=200,
    )  # fmt: skip
    np.testing.assert_array_equal(whole.costs, once.costs)

    calls.clear()

    def cancelling(*args, **kwargs):
        if len(calls) == 4:
            cancel.set()
        return counted(*args, **kwargs)

    monkeypatch.setattr(training, "train_population", cancelling)
    stopped = train(prepared, cancel=cancel)
    assert stopped.cancelled and len(calls) == 5
    assert stopped.done == sum(calls)
    np.testing.assert_array_equal(stopped.costs[:, : stopped.done], once.costs[:, : stopped.done])
    assert np.isnan(stopped.costs[:, stopped.done :]).all()


def test_steps_start_small_and_end_at_the_last_update() -> None:
    at = steps(15000)
    assert at[0] == 0 and at[-1] == 15000 and at[1] == 1
    assert np.all(np.diff(at) > 0)
    assert list(steps(1)) == [0, 1]


def test_threads_never_split_a_model() -> None:
    for models in range(1, 9):
        t = threads_for(models)
        assert t >= 1 and models % t == 0


def _first_update_cancels(config: AppConfig):
    cancel = threading.Event()
    seen = []

    def on_progress(progress) -> None:
        seen.append(progress.done)
        if progress.done > 0:
            cancel.set()

    return train(prepare(config), cancel=cancel, on_progress=on_progress), seen


def test_cancel_stops_at_the_next_step() -> None:
    outcome, seen = _first_update_cancels(AppConfig(inits=("he",), iterations=5000))
    assert outcome.cancelled
    assert seen == [0, 1]  # the step after the cancelling one never ran
    assert outcome.done == 1
    assert np.isnan(outcome.costs[0, 1:]).all()
    assert outcome.scores(0)["status"] == "stopped at iteration 1"


def test_cancel_stops_an_optimizer_with_state() -> None:
    outcome, seen = _first_update_cancels(
        AppConfig(inits=("he",), optimizer="adam", learning_rate=0.01, iterations=3000)
    )
    assert outcome.cancelled
    assert outcome.done == 0 and len(seen) == 1


def test_optimizer_with_state_matches_the_engine() -> None:
    # minibatches of 200 (momentum's default) shuffled by default_rng(seed)
    config = AppConfig(inits=("he", "zeros"), optimizer="momentum", iterations=200)
    prepared = prepare(config)
    outcome = train(prepared)
    data = prepared.dataset
    once = train_population(
        prepared.network, prepared.starts, data.X_train, data.Y_train, optimizer="momentum",
        learning_rate=0.01, iterations=200, rng=np.random.default_rng(config.seed),
    )  # fmt: skip
    np.testing.assert_array_equal(outcome.costs, once.costs)
    assert outcome.snapshot_at == [int(k) for k in steps(200)]
    assert not outcome.cancelled


def test_multiclass_data_gets_a_softmax_head() -> None:
    config = AppConfig(dataset="blobs(k=3)", inits=("he",), iterations=20, seed=0)
    outcome = train(prepare(config))
    assert outcome.prepared.network.output == "softmax"
    assert outcome.prepared.network.layer_sizes == (2, 10, 5, 3)
    grid = boundary_grid(
        outcome.prepared.network, outcome.params[0], grid_extent(outcome.prepared.dataset.X_train)
    )
    assert set(np.unique(grid.values)) <= {0.0, 1.0, 2.0}


def test_diverging_run_is_reported_and_the_others_go_on() -> None:
    config = AppConfig(inits=("he", "random"), learning_rate=1e300, iterations=50)
    outcome = train(prepare(config))
    statuses = [outcome.scores(i)["status"] for i in range(2)]
    assert all(s.startswith("diverged at iteration") for s in statuses), statuses
    document = json.loads(results_bytes(results_document(outcome)))
    assert document["runs"][0]["diverged"] is True


# -- views -----------------------------------------------------------------------------


def test_boundary_grid_is_the_models_probability() -> None:
    net = Network((2, 1), ())
    from initlab.network import Parameters

    params = Parameters([np.array([[1.0, 0.0]])], [np.zeros((1, 1))])
    grid = boundary_grid(net, params, (-1.0, 1.0, -2.0, 2.0), resolution=4)
    xs = -1.0 + (np.arange(4) + 0.5) * 0.5
    np.testing.assert_allclose(grid.values[0], 1 / (1 + np.exp(-xs)))
    np.testing.assert_allclose(grid.values[:, 0], grid.values[0, 0])


def test_histograms_count_every_value() -> None:
    h = histogram(np.array([0.0, 0.0, 1.0, np.nan, 2.0]), bins=4)
    assert h.counts.sum() == 4 and h.non_finite == 1
    assert (h.edges[0], h.edges[-1]) == (0.0, 2.0)
    flat = histogram(np.zeros(7), bins=3)
    assert flat.counts.sum() == 7 and flat.edges[0] < 0 < flat.edges[-1]


def test_zeros_layers_histograms_are_all_zero(he_zeros) -> None:
    prepared = he_zeros.prepared
    data = course_circles()
    layers = layer_histograms(prepared.network, prepared.starts[1], data.X_train, data.Y_train)
    assert [h.layer for h in layers] == [1, 2, 3]
    for h, units in zip(layers[:2], (10, 5), strict=True):  # relu(0) = 0 for every sample
        assert h.activations.counts.sum() == units * 300
        assert (h.activations.edges[0], h.activations.edges[-1]) == (-0.5, 0.5)


# -- uploads ---------------------------------------------------------------------------


def _csv(rows: int = 40, header: str = "x,y,label") -> bytes:
    rng = np.random.default_rng(0)
    lines = [header]
    for r in range(rows):
        x, y = rng.normal(size=2)
        lines.append(f"{x:.6f},{y:.6f},{'ab'[r % 2]}")
    return ("\n".join(lines) + "\n").encode()


def test_upload_is_read_as_the_csv_dataset(tmp_path) -> None:
    from initlab.datasets import load_dataset

    content = _csv()
    path = tmp_path / "points.csv"
    path.write_bytes(content)
    mine = load_upload(content, "points.csv", "label", seed=5)
    theirs = load_dataset("csv", seed=5, path=str(path), label="label")
    np.testing.assert_array_equal(mine.X_train, theirs.X_train)
    np.testing.assert_array_equal(mine.Y_test, theirs.Y_test)
    assert mine.classes == ("a", "b")


@pytest.mark.parametrize(
    ("content", "label", "named"),
    [
        (b"x" * (UPLOAD_LIMIT + 1), "label", "1,048,576 bytes"),
        (b"\x89PNG\r\n\x1a\n\0\0\0", "label", "not a CSV"),
        (b"\xff\xfe\xfa,1\n", "label", "not a readable CSV"),
        (_csv().replace(b"0.", b"nan", 1), "label", "'my.csv' line 2"),
        (_csv(), "class", "no label column 'class'"),
        (_csv(header="x,<script>alert(1)</script>,label"), "nope", "<script>"),
        (b"x,label\n1,a\n2,a\n", "label", "at least 2 classes"),
        (b"", "label", "empty"),
    ],
)
def test_bad_uploads_are_refused_naming_the_file(content, label, named) -> None:
    with pytest.raises(ValueError) as info:
        load_upload(content, "/some/where/my.csv", label)
    message = str(info.value)
    assert named in message, message
    assert "'my.csv'" in message and "initlab-upload" not in message, message
    assert "\n" not in message


# -- results.json ------------------------------------------------------------------------


def test_results_document(he_zeros, course_expected) -> None:
    document = json.loads(results_bytes(results_document(he_zeros)))
    assert document["experiment"] == "app"
    assert document["config"]["inits"] == ["he", "zeros"]
    assert AppConfig.from_query(parse_qs(document["config"]["query"])) == he_zeros.prepared.config
    assert document["config"]["network"]["layer_sizes"] == [2, 10, 5, 1]
    he = document["runs"][0]
    assert he["train_accuracy"] == course_expected["runs"]["he"]["train_accuracy"]
    printed = {str(c["iteration"]): c["cost"] for c in he["costs"]}
    assert printed.keys() == course_expected["runs"]["he"]["costs"].keys()
    zeros = document["runs"][1]
    assert [f["kind"] for f in zeros["flags"]][:1] == ["symmetry"]
    assert zeros["layers"][0]["distinct_units"] == 1


def test_an_optimizer_with_state_shows_its_snapshots_while_it_trains(monkeypatch) -> None:
    """Adam: snapshots (and so the boundaries) reach the page during the run, each equal to
    the finished run's, not only at the end."""
    from initlab.engine import compiled

    monkeypatch.setattr(compiled, "SPAN_SECONDS", 0.0)  # as many spans as reports
    config = AppConfig(inits=("he", "zeros"), optimizer="adam", learning_rate=0.01,
                       iterations=300)  # fmt: skip
    seen = []
    outcome = train(prepare(config), on_progress=seen.append)
    early = [p for p in seen if p.snapshot is not None and p.done < p.total]
    assert len(early) >= len(steps(300)) - 2
    assert [p.snapshot for p in early] == sorted(p.snapshot for p in early)
    assert outcome.snapshot_at == [int(k) for k in steps(300)]
    for p in early:
        assert p.done >= outcome.snapshot_at[p.snapshot]  # its costs are known by then
        for got, want in zip(p.params, outcome.snapshots[p.snapshot], strict=True):
            np.testing.assert_array_equal(got.weights[0], want.weights[0])
