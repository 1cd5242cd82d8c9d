"""Sweep statistics against scipy, numpy and hand-computed values."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from initlab.sweep import (
    Paired,
    RunRecord,
    Store,
    Summary,
    group_summary,
    iterations_to_threshold,
    paired_comparison,
    run_hash,
    summarize,
)


def scipy_percentile_ci(x, seed, confidence=0.95):
    """The oracle: scipy's percentile bootstrap of the mean, seeded the documented way."""
    rng = np.random.default_rng(seed)
    if "rng" in inspect.signature(scipy.stats.bootstrap).parameters:
        seeding = {"rng": rng}
    else:
        seeding = {"random_state": rng}
    result = scipy.stats.bootstrap(
        (np.asarray(x, dtype=float),),
        np.mean,
        confidence_level=confidence,
        method="percentile",
        **seeding,
    )
    return result.confidence_interval.low, result.confidence_interval.high


SAMPLE = np.random.default_rng(5).lognormal(mean=-1.0, sigma=0.8, size=37)


# --------------------------------------------------------------------------- summarize


@pytest.mark.parametrize(("seed", "confidence"), [(0, 0.95), (3, 0.9), (12345, 0.99)])
def test_summarize_matches_numpy_and_scipy_bootstrap(seed, confidence):
    summary = summarize(SAMPLE, rng_seed=seed, confidence=confidence)
    assert summary.n == SAMPLE.size and summary.n_missing == 0
    assert summary.mean == np.mean(SAMPLE)
    assert summary.std == np.std(SAMPLE, ddof=1)
    assert summary.median == np.median(SAMPLE)
    assert (summary.ci_low, summary.ci_high) == scipy_percentile_ci(SAMPLE, seed, confidence)
    assert summary.ci_low < summary.mean < summary.ci_high


def test_summarize_leaves_out_and_counts_nan_and_infinite_values():
    values = np.concatenate([SAMPLE[:10], [np.nan, np.inf], SAMPLE[10:], [np.nan, -np.inf]])
    assert summarize(values) == Summary(**{**summarize(SAMPLE).__dict__, "n_missing": 4})
    assert summarize(list(values)).n_missing == 4


def test_summarize_of_one_value_and_of_a_constant_sample():
    one = summarize(np.array([np.nan, 0.3]))
    assert (one.n, one.n_missing, one.mean, one.median, one.ci_low, one.ci_high) == (
        1, 1, 0.3, 0.3, 0.3, 0.3,
    )  # fmt: skip
    assert math.isnan(one.std)
    constant = summarize(np.full(7, 0.1))
    assert constant == Summary(7, 0, 0.1, 0.0, 0.1, 0.1, 0.1)


def test_summarize_of_two_values_brackets_the_mean_by_the_extremes():
    summary = summarize(np.array([1.0, 3.0]))
    # Resampled means of {1, 3} are 1, 2 or 3 with probabilities 1/4, 1/2, 1/4.
    assert (summary.ci_low, summary.ci_high) == (1.0, 3.0)
    assert summary.mean == 2.0 and summary.median == 2.0 and summary.std == math.sqrt(2)


def test_summarize_of_no_finite_value_names_the_metric():
    with pytest.raises(ValueError, match=r"final_cost.*3 NaN or infinite of 3"):
        summarize(np.array([np.nan, np.nan, np.inf]), name="final_cost")
    with pytest.raises(ValueError, match="values: no finite value"):
        summarize(np.array([]))


def test_a_large_sample_is_bootstrapped_in_batches_as_scipy_does():
    x = np.random.default_rng(1).standard_normal(3000)
    summary = summarize(x, rng_seed=4)
    rng = np.random.default_rng(4)
    seeding = (
        {"rng": rng}
        if "rng" in inspect.signature(scipy.stats.bootstrap).parameters
        else {"random_state": rng}
    )
    expected = scipy.stats.bootstrap(
        (x,), np.mean, method="percentile", batch=4_000_000 // 3000, **seeding
    ).confidence_interval
    assert (summary.ci_low, summary.ci_high) == (expected.low, expected.high)


@pytest.mark.parametrize(
    ("values", "kwargs", "error", "words"),
    [
        (np.zeros((2, 2)), {}, ValueError, "one-dimensional"),
        (np.array(["a", "b"]), {}, TypeError, "real numbers"),
        (np.array([True, False]), {}, TypeError, "real numbers"),
        (SAMPLE, {"confidence": 1.0}, ValueError, "confidence"),
        (SAMPLE, {"confidence": 0}, ValueError, "confidence"),
        (SAMPLE, {"rng_seed": -1}, ValueError, "rng_seed"),
        (SAMPLE, {"rng_seed": 1.5}, TypeError, "rng_seed"),
        (SAMPLE, {"n_resamples": 0}, ValueError, "n_resamples"),
    ],
)
def test_summarize_refuses_bad_input(values, kwargs, error, words):
    with pytest.raises(error, match=words):
        summarize(values, **kwargs)


# --------------------------------------------------------------------------- threshold


def test_iterations_to_threshold():
    costs = np.array([0.9, np.nan, 0.6, 0.5, 0.4, 0.3])
    assert iterations_to_threshold(costs, 0.5) == 4  # strictly below
    assert iterations_to_threshold(costs, 1.0) == 0
    assert iterations_to_threshold(costs, 0.3) is None
    assert iterations_to_threshold(np.array([np.nan, 0.1]), 0.2) == 1
    assert iterations_to_threshold(np.array([]), 0.2) is None
    assert type(iterations_to_threshold(costs, 0.45)) is int
    with pytest.raises(ValueError, match="threshold"):
        iterations_to_threshold(costs, math.nan)


# --------------------------------------------------------------------------- paired


def test_win_rate_counts_ties_half_by_hand():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    b = np.array([2.0, 2.0, 1.0, 4.0, 6.0])
    # a < b at seeds 0 and 4, ties at seeds 1 and 3: (2 + 2/2) / 5
    paired = paired_comparison(a, b)
    assert paired.win_rate == 0.6
    assert paired.mean_difference == 0.0  # differences -1, 0, 2, 0, -1
    assert paired.n == 5 and paired.n_dropped == 0


def test_paired_comparison_matches_scipy():
    rng = np.random.default_rng(8)
    a = rng.normal(0.5, 0.1, 60)
    b = a + rng.normal(0.02, 0.05, 60)
    paired = paired_comparison(a, b, rng_seed=2)
    assert paired.mean_difference == np.mean(a - b)
    assert (paired.ci_low, paired.ci_high) == scipy_percentile_ci(a - b, 2)
    assert paired.wilcoxon_p == scipy.stats.wilcoxon(a, b).pvalue
    assert paired.win_rate == np.mean(a < b)


def test_pairs_with_a_missing_value_are_dropped_and_counted():
    a = np.array([0.1, 0.4, np.nan, 0.2, 0.7, 0.3, 1.0])
    b = np.array([0.2, 0.3, 0.5, 0.2, np.inf, 0.1, 0.9])
    keep = [0, 1, 3, 5, 6]
    paired = paired_comparison(a, b)
    assert paired == Paired(**{**paired_comparison(a[keep], b[keep]).__dict__, "n_dropped": 2})
    assert paired.n == 5
    assert paired.wilcoxon_p == scipy.stats.wilcoxon(a[keep], b[keep]).pvalue


def test_wilcoxon_exact_p_value_of_all_positive_differences():
    # All n = 6 differences positive, no ties: W- = 0, P(W- = 0) = 2^-6, two-sided twice.
    a = np.array([1.1, 2.3, 3.6, 4.0, 5.9, 6.05])
    b = np.zeros(6)
    assert paired_comparison(a, b).wilcoxon_p == pytest.approx(2 / 2**6, rel=1e-12)
    assert paired_comparison(a, b).win_rate == 0.0


def test_no_wilcoxon_test_without_two_pairs_or_without_a_difference():
    same = paired_comparison(np.array([0.1, 0.2, 0.3]), np.array([0.1, 0.2, 0.3]))
    assert same.wilcoxon_p is None and same.win_rate == 0.5
    assert (same.mean_difference, same.ci_low, same.ci_high) == (0.0, 0.0, 0.0)
    one = paired_comparison(np.array([0.1, np.nan]), np.array([0.3, 0.2]))
    assert one.wilcoxon_p is None and one.n == 1 and one.win_rate == 1.0
    assert one.ci_low == one.ci_high == one.mean_difference == 0.1 - 0.3


def test_paired_comparison_refuses_unpaired_or_empty_samples():
    with pytest.raises(ValueError, match="lengths 3 and 2"):
        paired_comparison(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="2 pairs dropped"):
        paired_comparison(np.array([np.nan, 1.0]), np.array([1.0, np.nan]))


# --------------------------------------------------------------------------- groups


def runs_frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for init in ("he", "zeros", "random"):
        for depth in (2, 3):
            for seed in range(6):
                diverged = init == "random" and (depth == 3 or seed < 2)
                rows.append(
                    {
                        "init": init,
                        "depth": depth,
                        "seed": seed,
                        "final_cost": math.nan if diverged else float(rng.uniform()),
                        "test_accuracy": float(rng.uniform()),
                        "diverged_at": 10 if diverged else None,
                    }
                )
    return pd.DataFrame(rows)


def test_group_summary_is_summarize_per_group():
    frame = runs_frame()
    table = group_summary(frame, ["init", "depth"], ["final_cost", "test_accuracy"])
    assert list(table.columns[:4]) == ["init", "depth", "runs", "fraction_diverged"]
    assert [tuple(k) for k in table[["init", "depth"]].to_numpy()] == [
        ("he", 2), ("he", 3), ("random", 2), ("random", 3), ("zeros", 2), ("zeros", 3),
    ]  # fmt: skip
    for _, row in table.iterrows():
        group = frame[(frame["init"] == row["init"]) & (frame["depth"] == row["depth"])]
        assert row["runs"] == 6
        assert row["fraction_diverged"] == group["diverged_at"].notna().mean()
        for metric in ("final_cost", "test_accuracy"):
            if group[metric].notna().any():
                expected = summarize(group[metric].to_numpy()).__dict__
            else:
                expected = dict.fromkeys(["mean", "std", "median", "ci_low", "ci_high"], np.nan)
                expected.update(n=0, n_missing=6)
            for name, value in expected.items():
                np.testing.assert_equal(row[f"{metric}_{name}"], value)
    random2 = table[(table["init"] == "random") & (table["depth"] == 2)].iloc[0]
    assert random2["fraction_diverged"] == 2 / 6 and random2["final_cost_n"] == 4
    assert random2["final_cost_n_missing"] == 2
    random3 = table[(table["init"] == "random") & (table["depth"] == 3)].iloc[0]
    assert random3["final_cost_n"] == 0 and math.isnan(random3["final_cost_mean"])


def test_group_summary_without_groups_and_from_a_store(tmp_path):
    frame = runs_frame()
    whole = group_summary(frame, [], ["test_accuracy"])
    assert len(whole) == 1 and whole["runs"].iloc[0] == len(frame)
    assert whole["test_accuracy_mean"].iloc[0] == summarize(frame["test_accuracy"]).mean
    records = []
    for seed, cost in enumerate([0.3, 0.5, 0.4]):
        config = {"init": "he", "seed": seed}
        records.append(
            RunRecord(run_hash(config), 0, config, {"final_cost": cost}, [cost], {}, "ok")
        )
    with Store.open(tmp_path, "s") as store:
        store.add_batch(records)
        table = group_summary(store.frame(), ["init"], ["final_cost"])
    assert table["final_cost_median"].iloc[0] == 0.4
    assert table["fraction_diverged"].iloc[0] == 0.0  # no diverged_at, no diverged status


def test_group_summary_names_a_missing_or_non_numeric_column():
    frame = runs_frame()
    with pytest.raises(ValueError, match="no column 'width'"):
        group_summary(frame, ["width"], ["final_cost"])
    with pytest.raises(ValueError, match="metric 'init' must hold numbers"):
        group_summary(frame, ["depth"], ["init"])
    with pytest.raises(TypeError, match="sequence of column names"):
        group_summary(frame, "init", ["final_cost"])
