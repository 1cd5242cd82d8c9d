"""InitMLPClassifier: scikit-learn's own checks, model selection, and agreement with initlab."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris, make_circles
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from initlab.fit import fit
from initlab.initializers import initialize
from initlab.network import Network, predict_proba
from initlab.optimizers import get_optimizer
from initlab.sklearn import InitMLPClassifier


@parametrize_with_checks(
    [
        InitMLPClassifier(
            hidden_layer_sizes=(8,), max_iter=20, learning_rate_init=0.01, random_state=0
        ),
        InitMLPClassifier(
            hidden_layer_sizes=(6, 6),
            activation="sigmoid",
            optimizer="momentum",
            learning_rate_init=0.1,
            batch_size=16,
            max_iter=40,
            random_state=0,
        ),
    ]
)
@pytest.mark.filterwarnings("ignore:Got `batch_size` less than 1 or larger than sample size")
def test_scikit_learn_estimator_checks(estimator, check) -> None:
    check(estimator)


def test_grid_search_over_initializers_prefers_he_to_zeros() -> None:
    """Zeros never break the symmetry: every hidden unit stays equal and circles stay unsolved."""
    X, y = make_circles(300, noise=0.05, factor=0.5, random_state=0)
    search = GridSearchCV(
        InitMLPClassifier(
            hidden_layer_sizes=(10, 5), learning_rate_init=0.01, max_iter=150, random_state=0
        ),
        {"init": ["zeros", "random", "he"]},
        cv=3,
    )
    search.fit(X, y)
    results = search.cv_results_
    scores = dict(zip(results["param_init"], results["mean_test_score"], strict=True))
    assert search.best_params_ == {"init": "he"}
    assert scores["he"] > 0.95
    assert scores["zeros"] < 0.6
    zeros = InitMLPClassifier(hidden_layer_sizes=(10, 5), init="zeros", max_iter=5).fit(X, y)
    first = zeros.params_.weights[0]
    np.testing.assert_array_equal(first, first[:1].repeat(first.shape[0], axis=0))


def test_cross_val_score_on_iris() -> None:
    X, y = load_iris(return_X_y=True)
    model = make_pipeline(
        StandardScaler(), InitMLPClassifier(learning_rate_init=0.01, max_iter=100, random_state=0)
    )
    scores = cross_val_score(model, X, y, cv=3)
    assert scores.shape == (3,)
    assert scores.mean() > 0.9


def test_digits_accuracy() -> None:
    """Hidden 64, He, Adam (lr 0.001, batches of 32, 20 epochs), standardized: measured 0.969."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    model = make_pipeline(
        StandardScaler(),
        InitMLPClassifier(
            hidden_layer_sizes=(64,), init="he", batch_size=32, max_iter=20, random_state=0
        ),
    )
    model.fit(X_train, y_train)
    assert model.score(X_test, y_test) > 0.95


def test_estimator_is_the_initlab_loop() -> None:
    """Same seeds, same network, same optimizer: fit's numbers, per-epoch loss curve included
    (to rounding: the estimator trains on the compiled engine, whose sums run in another
    order)."""
    X, y = make_circles(60, noise=0.1, random_state=1)
    clf = InitMLPClassifier(
        hidden_layer_sizes=(5,), optimizer="gd", learning_rate_init=0.5, max_iter=25, random_state=3
    ).fit(X, y)
    init_seed, _ = np.random.RandomState(3).randint(np.iinfo(np.int32).max, size=2)
    network = Network((2, 5, 1), ("relu",))
    start = initialize(network, "he", np.random.default_rng(init_seed))
    params, history = fit(
        network, start, X.T, y.reshape(1, -1), get_optimizer("gd", 0.5), iterations=25
    )
    np.testing.assert_allclose(clf.loss_curve_, history.costs, rtol=1e-10, atol=0)
    assert clf.n_iter_ == 25 and clf.diverged_at_ is None
    p = predict_proba(network, params, X.T)[0]
    np.testing.assert_allclose(clf.predict_proba(X), np.column_stack([1 - p, p]), rtol=1e-9)


def test_loss_curve_is_the_sample_weighted_epoch_mean() -> None:
    X, y = make_circles(50, noise=0.1, random_state=1)
    clf = InitMLPClassifier(batch_size=20, max_iter=3, random_state=0).fit(X, y)
    assert len(clf.loss_curve_) == 3  # ceil(50 / 20) = 3 updates per epoch
    init_seed, shuffle_seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max, size=2)
    network = Network((2, 64, 1), ("relu",))
    start = initialize(network, "he", np.random.default_rng(init_seed))
    _, history = fit(
        network,
        start,
        X.T,
        y.reshape(1, -1),
        get_optimizer("adam"),
        epochs=3,
        batch_size=20,
        rng=np.random.default_rng(shuffle_seed),
    )
    costs = history.costs.reshape(3, 3)
    expected = (20 * costs[:, 0] + 20 * costs[:, 1] + 10 * costs[:, 2]) / 50
    np.testing.assert_allclose(clf.loss_curve_, expected, rtol=1e-10)


def test_string_labels_and_multiclass_probabilities() -> None:
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = InitMLPClassifier(
        hidden_layer_sizes=(), learning_rate_init=0.05, max_iter=50, random_state=0
    )
    clf.fit(X, names)
    proba = clf.predict_proba(X[:5])
    assert proba.shape == (5, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    np.testing.assert_array_equal(clf.predict(X[:5]), clf.classes_[proba.argmax(axis=1)])
    assert clf.network_.layer_sizes == (4, 3) and clf.network_.output == "softmax"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"init": "glorious"}, "unknown initializer 'glorious'"),
        ({"optimizer": "rmsprop"}, "unknown optimizer 'rmsprop'"),
        ({"activation": "swishy"}, "unknown activation 'swishy'"),
        ({"hidden_layer_sizes": (4, 0)}, "layer sizes must be positive integers"),
        ({"batch_size": "big"}, "'batch_size' parameter of InitMLPClassifier must be a str among"),
        ({"batch_size": 0}, "'batch_size' parameter of InitMLPClassifier must be"),
        ({"max_iter": 0}, "'max_iter' parameter of InitMLPClassifier must be an int in the range"),
        ({"learning_rate_init": -1.0}, "'learning_rate_init' parameter of InitMLPClassifier"),
        ({"learning_rate_init": True}, "learning_rate_init must be a positive real number, got T"),
        (
            {"learning_rate_init": np.inf},
            "must be a float in the range .0.0, inf.. Got inf instead",
        ),
        ({"learning_rate": "adaptive"}, "'learning_rate' parameter of InitMLPClassifier must be"),
        ({"learning_rate": 0.01}, "'learning_rate' parameter of InitMLPClassifier must be a str"),
        ({"optimizer": "gd", "batch_size": 10}, "batch_size=10 with optimizer 'gd': it is full-"),
    ],
)
def test_bad_hyper_parameters_fail_in_fit(params: dict, message: str) -> None:
    X, y = make_circles(20, random_state=0)
    clf = InitMLPClassifier(**params)  # nothing is checked before fit (scikit-learn convention)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)


def test_names_and_constraints_follow_mlpclassifier() -> None:
    """The hyper-parameters both estimators share carry the same names, defaults and checks."""
    from sklearn.neural_network import MLPClassifier

    ours, theirs = InitMLPClassifier().get_params(), MLPClassifier().get_params()
    shared = ("hidden_layer_sizes", "activation", "learning_rate_init", "learning_rate",
              "max_iter", "batch_size", "random_state")  # fmt: skip
    for name in shared:
        assert name in ours and name in theirs, name
        assert name in InitMLPClassifier._parameter_constraints
    for name in ("learning_rate_init", "learning_rate", "max_iter", "batch_size"):
        assert ours[name] == theirs[name], name
    assert set(InitMLPClassifier._parameter_constraints) == set(ours)


def test_numpy_step_sizes_and_full_batch_sizes_are_accepted() -> None:
    X, y = make_circles(40, noise=0.1, random_state=1)
    base = InitMLPClassifier(hidden_layer_sizes=(4,), optimizer="gd", max_iter=3, random_state=0)
    reference = base.set_params(learning_rate_init=0.5).fit(X, y).loss_curve_
    for value in (np.float32(0.5), np.float64(0.5), 0.5):
        curve = base.set_params(learning_rate_init=value).fit(X, y).loss_curve_
        np.testing.assert_array_equal(curve, reference)
    # a batch of every sample (or more: clipped to n_samples) is full batch, as the CLI allows
    for size in (40, 1000):
        curve = base.set_params(learning_rate_init=0.5, batch_size=size).fit(X, y).loss_curve_
        np.testing.assert_array_equal(curve, reference)


def test_a_batch_larger_than_the_data_is_clipped_with_a_warning_as_scikit_learn_does():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 2)), np.arange(50) % 2
    clf = InitMLPClassifier(optimizer="adam", batch_size=1000, max_iter=3, random_state=0)
    with pytest.warns(
        UserWarning, match="clipped: batch_size=1000 with 37 training samples|clipped"
    ):
        clf.fit(X, y)
    full = InitMLPClassifier(optimizer="adam", batch_size=50, max_iter=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.loss_curve_, full.loss_curve_)
