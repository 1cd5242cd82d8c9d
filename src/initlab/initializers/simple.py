"""Constants, plain draws and the course's two schemes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from initlab._special import ndtr, ndtri
from initlab.initializers.base import (
    FINITE,
    NONNEGATIVE_WEIGHT,
    POSITIVE_WEIGHT,
    WEIGHT,
    Moments,
    Rng,
    fans,
)
from initlab.spec import declare

__all__ = [
    "Constant",
    "He",
    "Normal",
    "Ones",
    "RandomNormal",
    "TruncatedNormal",
    "Uniform",
    "Zeros",
    "truncated_standard_normal",
]


@dataclass(frozen=True)
class Zeros:
    """All zeros: ``W = 0``.

    Every unit of a layer then computes the same function and receives the same
    gradient, so gradient descent never breaks the symmetry (the course's
    "zeros" run). The usual bias initializer.
    """

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        return np.zeros(shape)

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        return Moments(0.0, 0.0)


@dataclass(frozen=True)
class Ones:
    """All ones: ``W = 1``."""

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        return np.ones(shape)

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        return Moments(1.0, 1.0)


@dataclass(frozen=True)
@declare("constant", value=WEIGHT)
class Constant:
    """Every entry equal to ``value``: ``W = value`` (torch ``constant_``, Keras ``Constant``)."""

    value: float = 0.0

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        return np.full(shape, self.value)

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        return Moments(self.value, self.value**2)


@dataclass(frozen=True)
@declare("normal", mean=WEIGHT, std=NONNEGATIVE_WEIGHT)
class Normal:
    """``W ~ N(mean, std^2)``, drawn as ``mean + std * N(0, 1)`` (torch ``normal_`` defaults)."""

    mean: float = 0.0
    std: float = 1.0

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        return self.mean + self.std * rng.standard_normal(shape)

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        return Moments(self.mean, self.mean**2 + self.std**2)


@dataclass(frozen=True)
@declare("uniform", low=WEIGHT, high=WEIGHT)
class Uniform:
    """``W ~ U(low, high)`` (torch ``uniform_`` defaults); variance ``(high - low)^2 / 12``."""

    low: float = 0.0
    high: float = 1.0

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"uniform: low must be <= high, got low={self.low}, high={self.high}")

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        return rng.uniform(self.low, self.high, shape)

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        mean = (self.low + self.high) / 2
        return Moments(mean, mean**2 + (self.high - self.low) ** 2 / 12)


def truncated_standard_normal(
    rng: Rng, lower: float, upper: float, shape: tuple[int, ...]
) -> np.ndarray:
    """Draw ``N(0, 1)`` conditioned on ``lower <= x <= upper`` by inverting the CDF.

    One uniform draw per entry, so the stream is the same for a ``Generator``
    and a ``RandomState`` seeded alike. The side of the interval nearer zero
    is inverted, which keeps the tails accurate.
    """
    if lower > 0:
        return -truncated_standard_normal(rng, -upper, -lower, shape)
    u = rng.uniform(ndtr(lower), ndtr(upper), shape)
    return np.clip(ndtri(u), lower, upper)


@dataclass(frozen=True)
@declare("truncated_normal", mean=WEIGHT, std=POSITIVE_WEIGHT, a=FINITE, b=FINITE)
class TruncatedNormal:
    """``W ~ N(mean, std^2)`` conditioned on ``a <= W <= b``.

    ``a`` and ``b`` are absolute bounds, as in torch ``trunc_normal_`` (whose
    defaults these are); Keras ``TruncatedNormal`` cuts at ``mean +- 2 std``,
    which is ``truncated_normal(mean=m, std=s, a=m-2s, b=m+2s)``. ``std`` is the
    parameter of the normal before truncation, so the drawn variance is smaller.
    ``a`` and ``b`` must be finite (a bound far in the tail, such as ``-1e300``,
    does what ``-inf`` would).
    """

    mean: float = 0.0
    std: float = 1.0
    a: float = -2.0
    b: float = 2.0

    def __post_init__(self) -> None:
        if not self.a < self.b:
            raise ValueError(f"truncated_normal: a must be < b, got a={self.a}, b={self.b}")
        alpha, beta = self._standard_bounds()
        if ndtr(beta) - ndtr(alpha) <= 0 and ndtr(-alpha) - ndtr(-beta) <= 0:
            raise ValueError(
                f"truncated_normal: [a, b] = [{self.a}, {self.b}] lies too far in the tail "
                f"of N({self.mean}, {self.std}^2) to sample"
            )

    def _standard_bounds(self) -> tuple[float, float]:
        return (self.a - self.mean) / self.std, (self.b - self.mean) / self.std

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        alpha, beta = self._standard_bounds()
        draw = self.mean + self.std * truncated_standard_normal(rng, alpha, beta, shape)
        return np.clip(draw, self.a, self.b)

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        from scipy.stats import truncnorm

        alpha, beta = self._standard_bounds()
        mean, var = truncnorm.stats(alpha, beta, loc=self.mean, scale=self.std, moments="mv")
        return Moments(float(mean), float(var) + float(mean) ** 2)


@dataclass(frozen=True)
@declare("random", scale=WEIGHT)
class RandomNormal:
    """The course's "random" scheme: ``W ~ scale * N(0, 1)``.

    With the default ``scale = 10`` the weights are far too large: the output
    sigmoid saturates and training is slow (Ng et al., deeplearning.ai,
    *Improving Deep Neural Networks*, week 1).
    """

    scale: float = 10.0

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        return rng.standard_normal(shape) * self.scale

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        return Moments(0.0, float(self.scale) ** 2)


@dataclass(frozen=True)
class He:
    """The course's He (Kaiming) normal: ``W = sqrt(2 / fan_in) * N(0, 1)``.

    Variance scaling with ``(scale=2, mode=fan_in, distribution=normal)``: keeps
    the second moment of ReLU activations constant with depth. Same numbers as
    ``he_normal`` with its defaults.

    He, Zhang, Ren and Sun, "Delving Deep into Rectifiers: Surpassing
    Human-Level Performance on ImageNet Classification", ICCV 2015.
    """

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        fan_in, _ = fans(shape)
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        return Moments(0.0, 2.0 / fan_in)
