"""The diagnosis at initialization as a library: statistics, flags, the theory's column, figure."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from initlab.datasets import course_circles
from initlab.diagnostics import diagnose, network_statistics, predicted_preactivation_variances
from initlab.diagnostics.stats import LAYER_STATISTICS
from initlab.experiments.course import course_parameters
from initlab.experiments.diagnose import (
    DEFAULT_DATASET,
    bias_variance,
    diagnose_config,
    diagnose_inits,
    diagnose_to_dict,
)
from initlab.network import Network
from initlab.plots import layer_std_figure, plot_layer_std
from initlab.results import json_bytes


@pytest.fixture(scope="module")
def course_diagnosis():  # type: ignore[no-untyped-def]
    return diagnose_inits(diagnose_config())


def test_defaults_are_the_course(course_diagnosis) -> None:
    setup = course_diagnosis.setup
    assert DEFAULT_DATASET == setup.dataset.name == "course_circles"
    assert setup.network.layer_sizes == (2, 10, 5, 1)
    assert setup.network.activations == ("relu", "relu") and setup.network.output == "sigmoid"
    assert [d.init for d in course_diagnosis.diagnoses] == ["zeros", "random", "he"]
    assert course_diagnosis.samples == 300


@pytest.mark.parametrize("index", [0, 1, 2])
def test_statistics_are_those_of_the_courses_weights(course_diagnosis, index) -> None:
    diagnosis = course_diagnosis.diagnoses[index]
    data = course_circles()
    params = course_parameters(diagnosis.init)  # the course's RandomState(3)
    for mine, course in zip(diagnosis.params.weights, params.weights, strict=True):
        np.testing.assert_array_equal(mine, course)
    expected = network_statistics(Network.course(), params, data.X_train, data.Y_train)
    assert diagnosis.statistics.units == expected.units
    for name in LAYER_STATISTICS:  # NaN where a statistic does not apply, in both
        np.testing.assert_array_equal(
            diagnosis.statistics.statistic(name), expected.statistic(name)
        )
    assert diagnosis.flags == diagnose(expected)
    assert course_diagnosis.input_second_moment == pytest.approx(np.mean(data.X_train**2))


def test_the_courses_three_stories(course_diagnosis) -> None:
    zeros, random, he = course_diagnosis.diagnoses
    assert [(f.kind, f.layer) for f in zeros.flags] == [("symmetry", 1), ("symmetry", 2)]
    kinds = {f.kind: f for f in random.flags}
    assert kinds["saturation"].layer == 3 and kinds["saturation"].value == 1.0
    assert kinds["huge_loss"].value > 10 * math.log(2)
    assert he.flags == []
    # theory: only for the variance-scaling initializer
    assert zeros.prediction is None and "not a variance-scaling" in zeros.no_prediction
    assert random.prediction is None
    assert he.prediction is not None and he.no_prediction == ""


def test_prediction_is_the_mean_field_length_map(course_diagnosis) -> None:
    he = course_diagnosis.diagnoses[2]
    network = course_diagnosis.setup.network
    expected = predicted_preactivation_variances(
        network, "he", course_diagnosis.input_second_moment, 0.0
    )
    assert he.prediction.second_moments == expected
    assert he.prediction.z_std == [math.sqrt(q) for q in expected]
    assert he.prediction.weight_variances == [2 / 2, 2 / 10, 2 / 5]  # 2 / fan_in


def test_prediction_with_zero_mean_biases_and_any_variance_scaling_mode() -> None:
    config = diagnose_config(
        dataset="gaussians", hidden=(64, 64), activations=("tanh",),
        inits=("glorot_uniform", "lecun_normal"), bias_init="normal(std=0.1)",
    )  # fmt: skip
    result = diagnose_inits(config)
    network = result.setup.network
    for diagnosis in result.diagnoses:
        assert diagnosis.prediction is not None
        assert diagnosis.prediction.bias_variance == pytest.approx(0.01, rel=1e-15)
        expected = predicted_preactivation_variances(
            network, diagnosis.init, result.input_second_moment, 0.01
        )
        np.testing.assert_allclose(diagnosis.prediction.second_moments, expected, rtol=1e-15)


@pytest.mark.parametrize(
    ("bias_init", "expected"),
    [
        ("zeros", 0.0),
        ("normal(std=0.5)", 0.25),
        ("uniform(low=-0.5, high=0.5)", 1 / 12),
        ("constant(value=0)", 0.0),
        ("normal(mean=1, std=0.1)", None),  # not of mean 0
        ("ones", None),
        ("torch_linear", None),  # drawn from the layer's fans
        ("he", 2.0),  # a bias column (n, 1) has fan_in 1: variance 2 in every layer
    ],
)
def test_bias_variance(bias_init: str, expected: float | None) -> None:
    network = Network((2, 10, 5, 1), ("relu", "relu"))
    got = bias_variance(network, bias_init)
    assert got == (None if expected is None else pytest.approx(expected, rel=1e-15))


def test_no_prediction_for_biases_outside_the_theory() -> None:
    result = diagnose_inits(diagnose_config(inits=("he",), bias_init="torch_linear"))
    [he] = result.diagnoses
    assert he.prediction is None and "torch_linear" in he.no_prediction


def test_wide_network_measures_what_the_theory_predicts() -> None:
    """Width 500, 5 tanh layers: measured std(z) within 10% of sqrt(q^l) in every hidden layer
    (the scatter of a width-500 layer's second moment is a few percent)."""
    config = diagnose_config(
        dataset="gaussians(samples=1400)", hidden=(500,) * 5, activations=("tanh",),
        inits=("glorot_normal", "he_normal"), standardize=True,
    )  # fmt: skip
    result = diagnose_inits(config)
    assert result.samples == 1000  # the first 1000 of the 1050 training samples
    for diagnosis in result.diagnoses:
        measured = diagnosis.statistics.z_std[:-1]
        predicted = diagnosis.prediction.z_std[:-1]
        np.testing.assert_allclose(measured, predicted, rtol=0.1)


def test_document_is_strict_json(course_diagnosis) -> None:
    document = json.loads(json_bytes(diagnose_to_dict(course_diagnosis)))
    assert document["experiment"] == "diagnose"
    config = document["config"]
    assert config["network"]["layer_sizes"] == [2, 10, 5, 1]
    assert config["statistics_samples"] == 300
    assert config["learning_rate"] is None  # adam: no update-to-data ratio
    zeros, random, he = document["inits"]
    assert zeros["predicted"] is None and zeros["no_prediction"]
    assert zeros["layers"][0]["saturated_fraction"] is None  # NaN -> null
    assert [f["kind"] for f in zeros["flags"]] == ["symmetry", "symmetry"]
    assert he["predicted"]["z_std"] == course_diagnosis.diagnoses[2].prediction.z_std
    assert he["flags"] == [] and he["no_prediction"] is None
    assert random["loss"] == pytest.approx(course_diagnosis.diagnoses[1].statistics.loss)


def test_plot_layer_std_draws_measured_and_predicted_on_a_log_axis() -> None:
    fig = Figure()
    ax = fig.subplots()
    plot_layer_std(
        ax,
        [("zeros", [0.0, 0.0, 0.0], None), ("he", [0.9, 1.1, 0.6], [0.91, 0.91, 0.91]),
         ("tiny", [1e-3, 0.0, float("nan")], None)],
    )  # fmt: skip
    assert ax.get_yscale() == "log"
    lines = ax.get_lines()
    solid = [line for line in lines if line.get_linestyle() == "-"]
    dashed = [line for line in lines if line.get_linestyle() == "--"]
    assert [len(line.get_xdata()) for line in solid] == [0, 3, 1]  # zeros and NaN left out
    [theory] = dashed
    np.testing.assert_array_equal(theory.get_ydata(), [0.91, 0.91, 0.91])
    assert theory.get_color() == solid[1].get_color()
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels[0].startswith("zeros (layers 1, 2, 3: std 0")
    assert "tiny (layers 2, 3:" in labels[2]
    assert labels[-1] == "dashed: mean-field prediction"


def test_layer_std_figure(course_diagnosis) -> None:
    fig = layer_std_figure(course_diagnosis)
    [ax] = fig.axes
    assert ax.get_yscale() == "log"
    assert "[2, 10, 5, 1]" in ax.get_title()
    assert len(ax.get_lines()) == 4  # three measured, he's prediction


# ---- during training: snapshots --------------------------------------------------------------


def test_snapshots_are_the_training_of_initlab_train() -> None:
    """The loss at every snapshot is the cost the training recorded before that update (the
    batch is the whole training set here), and the last one is the final cost. Only He: the
    x10 run is chaotic, so two engines' rounding moves it apart."""
    from initlab.engine import log_spaced
    from initlab.experiments.train import run_train

    config = diagnose_config(inits=("he",), optimizer="gd", learning_rate=0.05, iterations=60)
    result = diagnose_inits(config, snapshots=5)
    assert result.snapshot_at == [int(k) for k in log_spaced(60, 5)]
    assert result.snapshot_at[0] == 0 and result.snapshot_at[-1] == 60
    [run] = run_train(config, engine="reference").runs  # the oracle loop
    [diagnosis] = result.diagnoses
    first, *middle, last = diagnosis.snapshots
    assert first.statistics.z_std == diagnosis.statistics.z_std  # update 0: the start
    assert first.flags == diagnosis.flags
    for snap in middle:
        assert snap.statistics.loss == pytest.approx(run.history.costs[snap.update], rel=1e-9)
    assert last.statistics.loss == pytest.approx(run.final_cost, rel=1e-9)
    data = result.setup.dataset
    stats = network_statistics(
        result.setup.network, run.params, data.X_train, data.Y_train, learning_rate=0.05
    )
    np.testing.assert_allclose(last.statistics.grad_w_norm, stats.grad_w_norm, rtol=1e-8)
    np.testing.assert_allclose(last.statistics.update_ratio, stats.update_ratio, rtol=1e-8)


def test_snapshots_with_minibatches_and_chosen_updates() -> None:
    from initlab.experiments.train import run_train

    config = diagnose_config(dataset="moons", inits=("he",), optimizer="adam", iterations=12,
                             batch_size=50)  # fmt: skip
    result = diagnose_inits(config, snapshots=[12, 0, 3])
    assert result.snapshot_at == [0, 3, 12]
    [run] = run_train(config, engine="reference").runs
    [diagnosis] = result.diagnoses
    assert [s.update for s in diagnosis.snapshots] == [0, 3, 12]
    assert diagnosis.snapshots[-1].statistics.loss == pytest.approx(run.final_cost, rel=1e-9)
    assert all(math.isnan(r) for r in diagnosis.snapshots[-1].statistics.update_ratio)  # adam
    document = json.loads(json_bytes(diagnose_to_dict(result)))
    assert document["config"]["training"]["snapshot_at"] == [0, 3, 12]
    assert document["config"]["training"]["optimizer"]["name"] == "adam"
    [entry] = document["inits"]
    assert [s["update"] for s in entry["snapshots"]] == [0, 3, 12]
    assert entry["snapshots"][2]["loss"] == pytest.approx(run.final_cost, rel=1e-9)


@pytest.mark.parametrize(("snapshots", "match"), [([0, 61], "61"), ([-1], "-1"), (1, "count")])
def test_bad_snapshots_are_refused_before_training(snapshots, match: str) -> None:
    config = diagnose_config(inits=("he",), optimizer="gd", iterations=60)
    with pytest.raises(ValueError, match=match):
        diagnose_inits(config, snapshots=snapshots)


def test_without_snapshots_nothing_is_trained(course_diagnosis) -> None:
    assert not course_diagnosis.trained and course_diagnosis.snapshot_at == []
    assert all(d.snapshots == [] for d in course_diagnosis.diagnoses)
    assert "snapshots" not in diagnose_to_dict(course_diagnosis)["inits"][0]
