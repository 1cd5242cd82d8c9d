"""``initlab experiment``: published claims, their tolerances, and the command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate

from badinput import assert_one_line_error, run_cli
from initlab.experiments.published import (
    EXPERIMENTS,
    finite_width_factor,
    run_experiment,
)
from reportpage import Page, assert_self_contained


def test_the_relu_relative_variance_behind_the_tolerance_is_five():
    """E[relu(z)^4] / E[relu(z)^2]^2 - 1 = (3/2) / (1/4) - 1 = 5 for z ~ N(0, 1)."""

    def moment(k: int) -> float:
        density = lambda z: z**k * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
        return integrate.quad(density, 0, np.inf)[0]

    assert moment(4) / moment(2) ** 2 - 1 == pytest.approx(5.0, rel=1e-9)
    s2 = 5 * 29 / 256
    assert finite_width_factor(30, 256, 8) == pytest.approx(
        math.exp(3 * math.sqrt(math.expm1(s2) / 8)), rel=1e-12
    )
    assert finite_width_factor(30, 256, 32) < finite_width_factor(30, 256, 8)


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_claim_holds_on_the_quick_instance(name):
    result = run_experiment(name, quick=True)
    assert result.checks and result.passed, [c for c in result.checks if not c.passed]
    for label, (measured, predicted) in result.curves.items():
        assert len(measured) >= 10, label
        assert predicted is None or len(predicted) == len(measured)


def test_tanh_std_small_weights_shrink_by_the_known_factor_per_layer():
    """With N(0, 0.01^2) weights tanh is linear at these scales: each layer multiplies
    the std by 0.01 sqrt(500), measured layer by layer."""
    measured, _ = run_experiment("tanh-std", quick=True).curves["N(0, 0.01^2)"]
    ratios = np.array(measured[1:]) / np.array(measured[:-1])
    np.testing.assert_allclose(ratios, 0.01 * math.sqrt(500), rtol=0.1)


def test_he_depth_one_over_n_halves_the_second_moment_per_layer():
    result = run_experiment("he-depth", quick=True)
    glorot, _ = result.curves["1/n (Glorot, square layers)"]
    halvings = np.log2(np.array(glorot[:-1]) / np.array(glorot[1:]))
    assert abs(np.mean(halvings) - 1.0) < 0.1  # 2x per layer on average


def test_the_command_prints_pass_and_writes_its_files(tmp_path: Path, capsys):
    out = tmp_path / "exp"
    code, stdout, stderr = run_cli(capsys, "experiment", "TANH-std", "--quick", "--out", str(out))
    assert code == 0, stderr
    assert stdout.count("PASS") == 4 and "FAIL" not in stdout
    document = json.loads((out / "experiment.json").read_text())
    assert document["experiment"] == "tanh-std" and document["passed"] is True
    assert (out / "experiment.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # its report: every check with its measured value, the curves and the figure
    page = (out / "report.html").read_text()
    assert_self_contained(page)
    parsed = Page(page)
    checks = parsed.rows("checks")
    assert [float(r["measured"][1]) for r in checks] == [c["measured"] for c in document["checks"]]
    assert [r["passed"][0] for r in checks] == ["true"] * 4
    assert [a["alt"] for t, a in parsed.tags if t == "img"] == ["experiment.png"]
    assert sum(1 for t, a in parsed.tags if t == "svg" and a.get("class") == "chart") == 1


def test_a_failed_check_exits_1_with_one_line(tmp_path: Path, capsys, monkeypatch):
    from initlab.experiments.published import he_depth

    monkeypatch.setattr(he_depth, "finite_width_factor", lambda *args: 1.0001)  # too tight
    code, _, stderr = run_cli(capsys, "experiment", "he-depth", "--quick", "-q",
                              "--out", str(tmp_path / "e"))  # fmt: skip
    assert code == 1
    assert stderr.strip().startswith("initlab: error: ") and "checks of he-depth failed" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_an_unknown_experiment_is_one_line(tmp_path: Path, capsys):
    code, _, stderr = run_cli(capsys, "experiment", "tanh-sdt", "--out", str(tmp_path / "e"))
    assert_one_line_error(code, stderr, "tanh-sdt", "did you mean 'tanh-std'")
    assert not (tmp_path / "e").exists()


def test_chaos_the_x10_run_amplifies_one_rounding_step_and_he_does_not():
    result = run_experiment("chaos", quick=True)
    random, _ = result.curves["random (x10)"]
    he, _ = result.curves["he (He)"]
    assert max(random[:1001]) > 1e-3  # 1e-15 grown by more than 1e12
    assert max(he[:1001]) < 1e-12


def test_isometry_states_its_input_scale_and_writes_both_spectra(tmp_path: Path, capsys):
    """The tanh inputs have the fixed point's second moment q* at sigma_b^2 = 1e-4 and the
    critical sigma_w^2 (chi_1 = 1), both printed; the spectra are in the JSON."""
    from initlab.diagnostics.meanfield import chi_1, critical_sigma_w2, fixed_point

    sigma_w2 = critical_sigma_w2("tanh", 1e-4)
    assert sigma_w2 == pytest.approx(1.086, abs=5e-4)
    assert chi_1("tanh", sigma_w2, 1e-4) == pytest.approx(1.0, abs=1e-10)
    q_star = fixed_point("tanh", sigma_w2, 1e-4)
    out = tmp_path / "iso"
    code, stdout, stderr = run_cli(capsys, "experiment", "isometry", "--quick", "--out", str(out))
    assert code == 0, stderr
    assert f"q* = {q_star:.3g}" in stdout and f"std {math.sqrt(q_star):.3g}" in stdout
    document = json.loads((out / "experiment.json").read_text())
    data = document["data"]
    assert data["q_star"] == pytest.approx(q_star, rel=1e-12)
    spectra = data["singular_values"]
    assert sorted(spectra) == sorted(
        ["tanh, orthogonal", "tanh, Gaussian", "linear, orthogonal", "linear, Gaussian"]
    )
    assert len(spectra["tanh, orthogonal"]) == 400 and len(spectra["linear, Gaussian"]) == 128
    assert (out / "experiment.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_edge_of_chaos_critical_point_is_interpolated_where_chi_1_crosses_1():
    from initlab.diagnostics.meanfield import chi_1, critical_sigma_w2
    from initlab.experiments.published.edge_of_chaos import SIGMA_B2, _crossing

    assert _crossing([1.0, 2.0, 3.0], [0.5, 0.9, 1.3], 1.0) == pytest.approx(2.25, rel=1e-12)
    assert math.isnan(_crossing([1.0, 2.0], [0.5, 0.9], 1.0))
    critical = critical_sigma_w2("tanh", SIGMA_B2)
    assert critical == pytest.approx(1.76, abs=0.005)  # Schoenholz et al. 2017
    grid = [1.5, 1.75, 2.0]
    # on the exact chi_1 the interpolation lands within the grid's curvature of the root
    assert _crossing(grid, [chi_1("tanh", s, SIGMA_B2) for s in grid], 1.0) == pytest.approx(
        critical, abs=0.01
    )


def test_dead_relu_zero_bias_dead_units_do_not_depend_on_the_weight_scale():
    """relu(c z) = c relu(z): with zero biases, the same draws scaled by a power of 2 give
    the same dead units exactly; a negative bias makes them depend on the scale."""
    from initlab.experiments.published.dead_relu import BIASES, dead_fractions

    def at(scale: float, bias: str) -> np.ndarray:
        return dead_fractions(8, 12, scale, BIASES[bias], np.random.default_rng(5), samples=30)

    np.testing.assert_array_equal(at(0.125, "zeros"), at(8.0, "zeros"))
    assert at(1.0, "zeros").max() > 0  # there are dead units to compare
    assert at(0.125, "constant(-0.1)").mean() > at(8.0, "constant(-0.1)").mean() + 0.3


def test_the_fitted_depth_scale_recovers_an_exponential_decay():
    from initlab.experiments.published.edge_of_chaos import fitted_depth_scale

    layers = np.arange(1, 101)
    assert fitted_depth_scale((1 - 0.5 * np.exp(-layers / 7.0)).tolist()) == pytest.approx(
        7.0, rel=1e-9
    )
    assert math.isnan(fitted_depth_scale([0.999] * 50))  # under the floor: nothing to fit
