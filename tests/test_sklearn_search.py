"""InitGridSearchCV against its oracle, scikit-learn's GridSearchCV with the same estimator.

Each model of a population must be the model its own ``fit`` trains: the tests record
every population the engine trains and compare its models with solo fits parameter for
parameter, and compare the searches' results (accuracies are counts, so equal).
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_moons
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

import initlab.engine.population as population_module
from initlab.sklearn import InitGridSearchCV, InitMLPClassifier

INITS = ["he", "lecun_normal", "glorot_uniform"]


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """240 standardized digits of 4 classes (60 each): 160 training samples per 3-fold split."""
    X, y = load_digits(n_class=4, return_X_y=True)
    keep = np.concatenate([np.flatnonzero(y == k)[:60] for k in range(4)])
    return StandardScaler().fit_transform(X[keep]), y[keep]


@pytest.fixture
def populations(monkeypatch) -> list[tuple[int, object]]:
    """Every ``train_population`` call as ``(models, result)``, solo fits included."""
    calls: list[tuple[int, object]] = []
    real = population_module.train_population

    def recording(network, initial_params, *args, **kwargs):
        result = real(network, initial_params, *args, **kwargs)
        calls.append((len(initial_params), result))
        return result

    monkeypatch.setattr(population_module, "train_population", recording)
    return calls


def equal(a, b) -> bool:
    """Whether two Parameters are equal, bit for bit."""
    pairs = zip(a.weights + a.biases, b.weights + b.biases, strict=True)
    return all(np.array_equal(x, y) for x, y in pairs)


def small(**params) -> InitMLPClassifier:
    return InitMLPClassifier(**{"hidden_layer_sizes": (8,), "max_iter": 3, **params})


def assert_same_search(search, oracle, X: np.ndarray) -> None:
    """The results GridSearchCV exposes, equal (times aside)."""
    mine, theirs = search.cv_results_, oracle.cv_results_
    assert sorted(mine) == sorted(theirs)
    assert mine["params"] == theirs["params"]
    for key in theirs:
        if key.startswith("param_"):
            assert list(mine[key]) == list(theirs[key]), key
        elif "score" in key and "time" not in key:
            np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)
        elif "time" in key:
            assert mine[key].shape == theirs[key].shape
            assert np.all(np.isfinite(mine[key])) and np.all(mine[key] >= 0), key
    assert search.n_splits_ == oracle.n_splits_
    assert search.best_index_ == oracle.best_index_
    assert search.best_params_ == oracle.best_params_
    if hasattr(oracle, "best_score_"):
        assert search.best_score_ == oracle.best_score_
    assert search.multimetric_ == oracle.multimetric_
    assert type(search.scorer_) is type(oracle.scorer_)
    if oracle.refit:
        np.testing.assert_array_equal(search.predict(X), oracle.predict(X))
        mine_best, their_best = search.best_estimator_, oracle.best_estimator_
        if hasattr(their_best, "steps"):  # a pipeline: its classifier
            mine_best, their_best = mine_best[-1], their_best[-1]
        for got, want in zip(mine_best.params_.weights, their_best.params_.weights, strict=True):
            np.testing.assert_array_equal(got, want)
    else:
        assert not hasattr(search, "best_estimator_")


def test_minibatch_grid_equals_gridsearchcv(digits, populations) -> None:
    """Adam on minibatches: one population per split, its models varying in init, learning
    rate and seed (which also orders each model's minibatches); scores and ranks equal."""
    X, y = digits
    grid = {
        "init": INITS,
        "random_state": [0, 1],
        "learning_rate_init": [0.01, 0.003],
    }
    estimator = small(batch_size=32)
    search = InitGridSearchCV(estimator, grid, cv=3, return_train_score=True).fit(X, y)
    trained = [models for models, _ in populations]
    assert trained == [12] * 3 + [1]  # one population per split, then the refit
    oracle = GridSearchCV(estimator, grid, cv=3, return_train_score=True).fit(X, y)
    assert_same_search(search, oracle, X)
    assert "split2_train_score" in search.cv_results_


def test_each_model_is_its_own_fit(digits, populations) -> None:
    """The first split's populations hold, model for model, what fit gives on that split."""
    X, y = digits
    grid = {"init": INITS, "random_state": [3, 4], "learning_rate_init": [0.02, 0.005]}
    splitter = StratifiedKFold(3)
    InitGridSearchCV(small(batch_size=16), grid, cv=splitter, refit=False).fit(X, y)
    train, _ = next(splitter.split(X, y))
    candidates = [
        {"init": init, "learning_rate_init": rate, "random_state": seed}
        for seed in (3, 4)
        for init in INITS
        for rate in (0.02, 0.005)
    ]
    # the split's one population, every seed in it
    models = list(populations[0][1].params)
    assert len(models) == len(candidates)
    found = []
    for params in candidates:
        alone = small(batch_size=16, **params).fit(X[train], y[train]).params_
        same = [i for i, trained in enumerate(models) if equal(trained, alone)]
        assert len(same) == 1, params
        found += same
    assert sorted(found) == list(range(len(candidates)))


def test_full_batch_grid_is_one_population_per_split(digits, populations) -> None:
    """Gradient descent: the seeds do not order anything, so the whole grid is one population."""
    X, y = digits
    grid = {"init": INITS, "random_state": [0, 1, 2], "learning_rate_init": [0.5, 0.1]}
    estimator = small(optimizer="gd", max_iter=20)
    search = InitGridSearchCV(estimator, grid, cv=3).fit(X, y)
    assert [models for models, _ in populations] == [18, 18, 18, 1]
    assert_same_search(search, GridSearchCV(estimator, grid, cv=3).fit(X, y), X)


def test_other_parameters_split_populations_and_fall_back(digits, populations) -> None:
    """Two activations make two populations; a candidate alone in its group is fitted alone."""
    X, y = digits
    grid = [
        {"activation": ["relu", "tanh"], "init": ["he", "lecun_normal"], "random_state": [0]},
        {"activation": ["sigmoid"], "init": ["glorot_uniform"], "random_state": [0]},
    ]
    estimator = small(batch_size=40)
    search = InitGridSearchCV(estimator, grid, cv=2).fit(X, y)
    assert sorted(models for models, _ in populations) == [1, 1, 1, 2, 2, 2, 2]
    assert_same_search(search, GridSearchCV(estimator, grid, cv=2).fit(X, y), X)


def test_each_batch_size_is_a_population_of_its_own(digits, populations) -> None:
    """Candidates that differ in batch size differ in their updates: one population per
    batch size and split, each model trained on its own batch size (its fit's numbers)."""
    X, y = digits
    grid = {"batch_size": [16, 40], "init": ["he", "lecun_normal"], "random_state": [0]}
    search = InitGridSearchCV(small(), grid, cv=2, scoring="neg_log_loss").fit(X, y)
    assert sorted(models for models, _ in populations) == [1, 2, 2, 2, 2]
    oracle = GridSearchCV(small(), grid, cv=2, scoring="neg_log_loss").fit(X, y)
    for key in ("split0_test_score", "split1_test_score"):
        np.testing.assert_allclose(search.cv_results_[key], oracle.cv_results_[key], rtol=1e-9)
    assert search.best_params_ == oracle.best_params_


@pytest.mark.parametrize(
    "options",
    [
        {"scoring": "balanced_accuracy"},
        {"scoring": make_scorer(lambda y, p: float(np.mean(y == p) ** 2))},
        {"scoring": lambda est, X, y: float(np.sum(est.predict(X) == y))},
        {"cv": StratifiedKFold(2, shuffle=True, random_state=5), "refit": False},
        {"refit": lambda results: int(np.argmax(results["mean_test_score"] * 0) + 1)},
    ],
    ids=["scorer-name", "make-scorer", "callable", "splitter-no-refit", "callable-refit"],
)
def test_scoring_cv_refit_options_match(digits, options) -> None:
    X, y = digits
    grid = {"init": ["he", "zeros"], "random_state": [0, 1]}
    estimator = small(batch_size=32)
    search = InitGridSearchCV(estimator, grid, **options).fit(X, y)
    assert_same_search(search, GridSearchCV(estimator, grid, **options).fit(X, y), X)


def test_binary_sigmoid_head_and_refit(populations) -> None:
    """Two classes (one sigmoid unit): the same, and the refitted best model predicts alike."""
    X, y = make_moons(120, noise=0.2, random_state=0)
    grid = {"init": ["he", "glorot_uniform", "orthogonal"], "random_state": [0, 1]}
    estimator = InitMLPClassifier(hidden_layer_sizes=(6, 4), max_iter=30, learning_rate_init=0.05)
    search = InitGridSearchCV(estimator, grid, cv=3).fit(X, y)
    assert [models for models, _ in populations] == [6, 6, 6, 1]  # batch 'auto': full batch
    assert_same_search(search, GridSearchCV(estimator, grid, cv=3).fit(X, y), X)


@pytest.mark.parametrize(
    "options",
    [{"scoring": ["accuracy", "balanced_accuracy"], "refit": "accuracy"}, {"n_jobs": 1}],
    ids=["multi-metric", "n_jobs-1"],
)
def test_multimetric_and_n_jobs_match(digits, options) -> None:
    """Multi-metric scoring is GridSearchCV's own fit; ``n_jobs=1`` the population path."""
    X, y = digits
    grid = {"init": ["he", "zeros"], "random_state": [0]}
    estimator = small(batch_size=32)
    search = InitGridSearchCV(estimator, grid, cv=2, **options).fit(X, y)
    assert_same_search(search, GridSearchCV(estimator, grid, cv=2, **options).fit(X, y), X)


def test_a_pipeline_ending_with_the_classifier(digits, populations) -> None:
    """Its first steps are fitted once per split, the classifier's candidates as populations."""
    X, y = load_digits(n_class=3, return_X_y=True)
    X, y = X[:150], y[:150]  # not standardized: the pipeline does it
    model = make_pipeline(StandardScaler(), small(batch_size=32, random_state=0))
    grid = {"initmlpclassifier__init": INITS, "initmlpclassifier__learning_rate_init": [0.1, 0.01]}
    search = InitGridSearchCV(model, grid, cv=3).fit(X, y)
    assert [models for models, _ in populations] == [6, 6, 6, 1]
    assert_same_search(search, GridSearchCV(model, grid, cv=3).fit(X, y), X)


def test_a_grid_over_other_steps_is_gridsearchcv_itself(digits, populations) -> None:
    X, y = digits
    model = make_pipeline(StandardScaler(), small(batch_size=32, random_state=0))
    grid = {"initmlpclassifier__init": ["he", "zeros"], "standardscaler__with_mean": [True]}
    search = InitGridSearchCV(model, grid, cv=2).fit(X, y)
    assert [models for models, _ in populations] == [1] * 5  # 2 x 2 fits and the refit
    assert_same_search(search, GridSearchCV(model, grid, cv=2).fit(X, y), X)


@pytest.mark.parametrize(
    ("grid", "error"),
    [
        ({"init": ["he", "no_such_init"]}, ValueError),
        ({"max_iter": [3, 0]}, InvalidParameterError),
        ({"optimizer": ["gd"], "batch_size": [16]}, ValueError),
    ],
    ids=["unknown-init", "max_iter-0", "gd-minibatch"],
)
def test_bad_grid_raises_the_estimators_error(digits, populations, grid, error) -> None:
    """A bad candidate raises what its own fit raises, one line, before anything trains."""
    X, y = digits
    bad = {key: values[-1] for key, values in grid.items()}
    train, _ = next(StratifiedKFold(2).split(X, y))
    with pytest.raises(error) as raised:
        small(**bad).fit(X[train], y[train])
    with pytest.raises(error) as searched:
        InitGridSearchCV(small(), grid, cv=2).fit(X, y)
    assert type(searched.value) is type(raised.value)
    assert str(searched.value) == str(raised.value)
    assert "\n" not in str(searched.value)
    assert populations == []


def test_multimetric_callable_is_refused(digits) -> None:
    X, y = digits

    def two(est, X, y) -> dict[str, float]:
        return {"a": 1.0, "b": 2.0}

    with pytest.raises(ValueError, match="multi-metric") as raised:
        InitGridSearchCV(small(), {"init": ["he"]}, scoring=two, cv=2).fit(X, y)
    assert "\n" not in str(raised.value)


def test_the_documented_benchmark_table_is_the_json_one() -> None:
    """docs/train.md quotes benchmarks/search.py's table of docs/search-benchmark.json."""
    root = Path(__file__).parents[1]
    spec = importlib.util.spec_from_file_location("search_bench", root / "benchmarks" / "search.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    report = json.loads((root / "docs" / "search-benchmark.json").read_text())
    assert report["identical_split_scores_and_best_params"] is True
    assert module.table(report) in (root / "docs" / "train.md").read_text()


@pytest.fixture
def failing(monkeypatch) -> None:
    """The engine refuses every population (as it refuses one too large) and fails to
    train an all-zeros start, which ``fit`` would train."""
    real = population_module.train_population

    def refusing(network, initial_params, *args, **kwargs):
        if len(initial_params) > 1:
            raise ValueError("a population of this size needs more memory than is available")
        if all(not w.any() for w in initial_params[0].weights):
            raise RuntimeError("no zeros here")
        return real(network, initial_params, *args, **kwargs)

    monkeypatch.setattr(population_module, "train_population", refusing)


def searched(search, X, y) -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X, y)
    return search, sorted({w.category.__name__ for w in caught})


def test_failures_fall_back_and_follow_error_score(digits, failing) -> None:
    """A refused population is fitted one by one; a fit that fails scores ``error_score``
    with GridSearchCV's warnings, or raises with ``error_score='raise'``."""
    X, y = digits
    grid = {"init": ["he", "zeros", "lecun_normal"], "random_state": [0]}
    search, mine = searched(InitGridSearchCV(small(batch_size=32), grid, cv=2), X, y)
    oracle, theirs = searched(GridSearchCV(small(batch_size=32), grid, cv=2), X, y)
    assert mine == theirs == ["FitFailedWarning", "UserWarning"]
    assert np.isnan(search.cv_results_["mean_test_score"][1])
    assert_same_search(search, oracle, X)
    with pytest.raises(RuntimeError, match="no zeros here"):
        InitGridSearchCV(small(batch_size=32), grid, cv=2, error_score="raise").fit(X, y)
