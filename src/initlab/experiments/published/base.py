"""What every published experiment returns: checks and the data behind them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from initlab.network import Network, Parameters

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "Check",
    "ExperimentResult",
    "at_least",
    "at_most",
    "gaussian_parameters",
    "within",
    "within_factor",
]


@dataclass(frozen=True)
class Check:
    """One published number against its measurement."""

    claim: str
    expected: float
    measured: float
    tolerance: str
    passed: bool


@dataclass
class ExperimentResult:
    """The checks of one experiment and the per-layer curves behind them:
    ``curves[label] = (measured per layer, predicted per layer or None)``."""

    name: str
    description: str
    checks: list[Check]
    curves: dict[str, tuple[list[float], list[float] | None]] = field(default_factory=dict)
    ylabel: str = ""
    xlabel: str = "layer"
    #: further measurements (JSON-ready), written with the checks
    data: dict[str, Any] = field(default_factory=dict)
    #: draws the experiment's own figure (else the curves are drawn per layer or iteration)
    draw: Callable[[Figure, ExperimentResult], None] | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.name,
            "description": self.description,
            "passed": self.passed,
            "checks": [check.__dict__ for check in self.checks],
            "curves": {
                label: {"measured": measured, "predicted": predicted}
                for label, (measured, predicted) in self.curves.items()
            },
            "xlabel": self.xlabel,
            "ylabel": self.ylabel,
            **({"data": self.data} if self.data else {}),
        }


def within_factor(claim: str, expected: float, measured: float, factor: float) -> Check:
    """Passes when ``expected / factor <= measured <= expected * factor``."""
    ok = bool(expected / factor <= measured <= expected * factor)
    return Check(claim, expected, measured, f"within a factor {factor:.3g}", ok)


def within(claim: str, expected: float, measured: float, tolerance: float) -> Check:
    """Passes when ``|measured - expected| <= tolerance``."""
    ok = bool(abs(measured - expected) <= tolerance)
    return Check(claim, expected, measured, f"+-{tolerance:g}", ok)


def gaussian_parameters(
    network: Network, weight_std: Callable[[int], float], rng: np.random.Generator
) -> Parameters:
    """Gaussian weights of std ``weight_std(fan_in)`` per layer, zero biases."""
    weights, biases = [], []
    for n_in, n_out in zip(network.layer_sizes, network.layer_sizes[1:], strict=False):
        weights.append(weight_std(n_in) * rng.standard_normal((n_out, n_in)))
        biases.append(np.zeros((n_out, 1)))
    return Parameters(weights, biases)


def at_most(claim: str, expected: float, measured: float, bound: float) -> Check:
    """Passes when ``measured <= bound`` (``expected`` is the published value)."""
    return Check(claim, expected, measured, f"<= {bound:g}", bool(measured <= bound))


def at_least(claim: str, expected: float, measured: float, bound: float) -> Check:
    """Passes when ``measured >= bound`` (``expected`` is the published value)."""
    return Check(claim, expected, measured, f">= {bound:g}", bool(measured >= bound))
