"""Datasets against independently computed values: exact split sizes, shuffled parts,
the standardized test part, the synthetic sets' geometry."""

from __future__ import annotations

import numpy as np
import pytest

from initlab.datasets import load_dataset, split, standardize


@pytest.mark.parametrize("spec", ["wine", "moons(samples=90)", "blobs(samples=120, k=4)"])
def test_standardize_scales_both_parts_with_the_training_statistics(spec: str) -> None:
    """``(x - mean_train) / std_train`` on both parts, from the same split as without it."""
    raw = load_dataset(spec, seed=3, test_fraction=0.3)
    scaled = load_dataset(spec, seed=3, test_fraction=0.3, standardize_features=True)
    mean = raw.X_train.mean(axis=1, keepdims=True)
    std = np.sqrt(((raw.X_train - mean) ** 2).mean(axis=1, keepdims=True))  # population std
    np.testing.assert_allclose(scaled.X_train, (raw.X_train - mean) / std, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scaled.X_test, (raw.X_test - mean) / std, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(scaled.Y_train, raw.Y_train)
    np.testing.assert_array_equal(scaled.Y_test, raw.Y_test)
    np.testing.assert_allclose(scaled.X_train.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled.X_train.std(axis=1), 1.0, rtol=1e-12)
    assert scaled.config["standardize"] is True


def test_standardize_only_centres_a_constant_feature() -> None:
    X_train = np.array([[2.0, 4.0, 6.0, 8.0], [3.0, 3.0, 3.0, 3.0]])
    X_test = np.array([[5.0, 1.0], [3.0, 7.0]])
    train, test = standardize(X_train, X_test)
    std = np.sqrt(5.0)  # population std of 2, 4, 6, 8
    np.testing.assert_allclose(train, [[-3 / std, -1 / std, 1 / std, 3 / std], [0, 0, 0, 0]])
    np.testing.assert_allclose(test, [[0.0, -4 / std], [0.0, 4.0]])


def _runs(labels: np.ndarray) -> int:
    """Number of maximal blocks of equal consecutive labels."""
    return 1 + int(np.count_nonzero(labels[1:] != labels[:-1]))


def test_both_parts_of_a_split_are_shuffled() -> None:
    """Each part is a random permutation, not the classes one after the other: a uniformly
    shuffled part of 2 x 60 labels has about 60 blocks of equal labels; in class order it has 2
    (the chance of at most 12 under a uniform shuffle is below 1e-15)."""
    y = np.repeat([0, 1], 120)
    X = np.arange(240.0).reshape(-1, 1)
    X_tr, y_tr, X_te, y_te = split(X, y, 0.5, np.random.default_rng(0))
    for Xp, yp in ((X_tr, y_tr), (X_te, y_te)):
        assert _runs(yp) > 12
        rows = Xp[:, 0].astype(int)
        np.testing.assert_array_equal(y[rows], yp)  # rows keep their labels
        assert np.count_nonzero(np.diff(rows) < 0) > 12  # not in the original order either


@pytest.mark.parametrize(
    ("counts", "fraction"),
    [((7, 11, 2, 30), 0.25), ((2, 3, 9), 0.9), ((5, 13), 0.1), ((100, 50, 3), 0.3)],
)
def test_split_sizes_are_exact(counts: tuple[int, ...], fraction: float) -> None:
    """Per class ``n_test = round(f n)``, at least 1, at most ``n - 1``: the documented rule,
    computed here per class, exactly."""
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.arange(float(y.size)).reshape(-1, 1)
    _, y_tr, _, y_te = split(X, y, fraction, np.random.default_rng(1))
    for label, n in enumerate(counts):
        n_test = min(max(round(fraction * n), 1), n - 1)
        assert np.count_nonzero(y_te == label) == n_test, (label, n)
        assert np.count_nonzero(y_tr == label) == n - n_test, (label, n)


def test_load_dataset_split_sizes_are_exact() -> None:
    data = load_dataset("blobs(samples=103, k=3)", seed=2, test_fraction=0.3)
    counts = [35, 34, 34]  # make_blobs gives the remainder to the first centres
    train = np.bincount(data.Y_train[0], minlength=3)
    test = np.bincount(data.Y_test[0], minlength=3)
    np.testing.assert_array_equal(train + test, counts)
    np.testing.assert_array_equal(test, [round(0.3 * n) for n in counts])
    assert data.config["n_test"] == sum(round(0.3 * n) for n in counts)


def test_gaussians_are_centred_at_plus_minus_half_the_distance() -> None:
    """Class means within 5 standard errors of ``(-d/2, 0)`` and ``(d/2, 0)``."""
    data = load_dataset("gaussians(samples=4000, distance=6, std=0.5)", seed=0)
    X = np.hstack([data.X_train, data.X_test])
    y = np.hstack([data.Y_train, data.Y_test])[0]
    tolerance = 5 * 0.5 / np.sqrt(2000)
    for label, centre in zip(data.classes, ((-3.0, 0.0), (3.0, 0.0)), strict=True):
        np.testing.assert_allclose(X[:, y == label].mean(axis=1), centre, atol=tolerance)
        np.testing.assert_allclose(X[:, y == label].std(axis=1), 0.5, rtol=0.05)
