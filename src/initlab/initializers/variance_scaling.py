"""The variance-scaling engine, the named schemes built on it, and framework defaults.

``variance_scaling(scale, mode, distribution)`` draws entries of variance
``scale / n`` where ``n`` is ``fan_in``, ``fan_out``, their mean
(``fan_avg``) or their geometric mean (``fan_geo_avg``):

* ``normal``: ``N(0, scale / n)``;
* ``truncated_normal``: a normal cut at +-2 of its standard deviations, the
  standard deviation first divided by 0.87962566103423978 (the standard
  deviation of ``N(0, 1)`` truncated to [-2, 2]) so the variance is still
  ``scale / n``;
* ``uniform``: ``U(-limit, limit)`` with ``limit = sqrt(3 scale / n)``.

The named schemes are one-liners over the engine. Their names follow torch
where the frameworks disagree: ``glorot_normal``, ``he_normal`` and
``lecun_normal`` are *untruncated* (torch ``xavier_normal_`` /
``kaiming_normal_``); the truncated normals that Keras and JAX ship under those
same names are ``glorot_normal_truncated``, ``he_normal_truncated`` and
``lecun_normal_truncated`` (aliases ``keras_he_normal``, ``jax_he_normal``, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from initlab.initializers.base import (
    GAIN,
    WEIGHT_LIMIT,
    Moments,
    Rng,
    check_shape,
    fans,
)
from initlab.initializers.simple import truncated_standard_normal
from initlab.spec import Choice, Param, Range, declare

__all__ = [
    "DISTRIBUTIONS",
    "MODES",
    "TRUNCATED_STD",
    "KerasDense",
    "SklearnMLP",
    "TorchLinear",
    "VarianceScaling",
    "glorot_normal",
    "glorot_normal_truncated",
    "glorot_uniform",
    "he_normal",
    "he_normal_truncated",
    "he_uniform",
    "kaiming_scale",
    "lecun_normal",
    "lecun_normal_truncated",
    "lecun_uniform",
]

#: Standard deviation of N(0, 1) truncated to [-2, 2].
TRUNCATED_STD = 0.87962566103423978
MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
DISTRIBUTIONS = ("normal", "truncated_normal", "uniform")
_DISTRIBUTION_ALIASES = {"untruncated_normal": "normal"}

#: ``scale`` of variance scaling: a variance multiplier, at most ``WEIGHT_LIMIT ** 2`` so
#: that the std ``sqrt(scale / n)`` stays within the weight limit.
SCALE = Range(low=0.0, high=1e300, low_open=True, why="the std sqrt(scale / n) must be finite")
#: ``a`` of the He schemes: leaky_relu's negative slope, gain ``sqrt(2 / (1 + a^2))``.
SLOPE = Range(max_abs=WEIGHT_LIMIT, why="the gain sqrt(2 / (1 + a^2)) must be positive")
KAIMING_MODE = Choice(("fan_in", "fan_out"))


class Nonlinearity(Param):
    """An activation spec of :mod:`initlab.activations` (case-insensitive)."""

    def describe(self, name: str) -> str:
        return "an activation name from `initlab activations`"

    def check(self, who: str, name: str, value: Any) -> str:
        from initlab.activations import canonical_activation

        try:
            return canonical_activation(value)
        except ValueError as exc:
            raise ValueError(f"{who}: {name}: {exc}") from None


def fan_denominator(mode: str, fan_in: int, fan_out: int) -> float:
    """``n`` of ``variance = scale / n`` for ``mode``."""
    if mode == "fan_in":
        return float(fan_in)
    if mode == "fan_out":
        return float(fan_out)
    if mode == "fan_avg":
        return (fan_in + fan_out) / 2.0
    return math.sqrt(fan_in * fan_out)


@dataclass(frozen=True)
@declare(
    "variance_scaling",
    scale=SCALE,
    mode=Choice(MODES),
    distribution=Choice(DISTRIBUTIONS, tuple(_DISTRIBUTION_ALIASES.items())),
)
class VarianceScaling:
    """Entries of variance ``scale / n``; ``n`` set by ``mode``, shape by ``distribution``.

    * ``normal``: ``std = sqrt(scale / n) * N(0, 1)``;
    * ``truncated_normal``: ``sqrt(scale / n) / 0.87962566103423978`` times a
      standard normal truncated to [-2, 2];
    * ``uniform``: ``U(-sqrt(3 scale / n), sqrt(3 scale / n))``.

    ``mode`` is ``fan_in``, ``fan_out``, ``fan_avg`` ((fan_in + fan_out) / 2)
    or ``fan_geo_avg`` (sqrt(fan_in fan_out)). Defaults are Keras's
    ``VarianceScaling`` (scale 1, fan_in, truncated_normal); ``untruncated_normal``
    (Keras's spelling) is accepted for ``normal``.

    Glorot and Bengio 2010 (fan_avg), LeCun et al. 1998 (fan_in), He et al. 2015
    (scale 2); the engine is that of ``jax.nn.initializers.variance_scaling``.
    """

    scale: float = 1.0
    mode: str = "fan_in"
    distribution: str = "truncated_normal"

    def variance_for(self, fan_in: int, fan_out: int) -> float:
        return self.scale / fan_denominator(self.mode, fan_in, fan_out)

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        fan_in, fan_out = fans(check_shape(shape, "variance_scaling"))
        variance = self.variance_for(fan_in, fan_out)
        if self.distribution == "normal":
            return rng.standard_normal(shape) * math.sqrt(variance)
        if self.distribution == "truncated_normal":
            std = math.sqrt(variance) / TRUNCATED_STD
            return truncated_standard_normal(rng, -2.0, 2.0, shape) * std
        limit = math.sqrt(3.0 * variance)
        return rng.uniform(-limit, limit, shape)

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        return Moments(0.0, self.variance_for(fan_in, fan_out))


@declare("glorot_normal", gain=GAIN)
def glorot_normal(gain: float = 1.0) -> VarianceScaling:
    """Glorot (Xavier) normal, torch ``xavier_normal_``: ``N(0, gain^2 * 2 / (fan_in + fan_out))``.

    Triple ``(gain^2, fan_avg, normal)``. Glorot and Bengio, "Understanding the
    difficulty of training deep feedforward neural networks", AISTATS 2010.
    """
    return VarianceScaling(gain**2, "fan_avg", "normal")


@declare("glorot_uniform", gain=GAIN)
def glorot_uniform(gain: float = 1.0) -> VarianceScaling:
    """Glorot (Xavier) uniform: ``U(+-gain * sqrt(6 / (fan_in + fan_out)))``.

    Triple ``(gain^2, fan_avg, uniform)``; torch ``xavier_uniform_``, Keras and
    JAX ``glorot_uniform`` (gain 1). Glorot and Bengio, AISTATS 2010.
    """
    return VarianceScaling(gain**2, "fan_avg", "uniform")


def glorot_normal_truncated() -> VarianceScaling:
    """Keras/JAX ``glorot_normal``: triple ``(1, fan_avg, truncated_normal)``.

    Variance ``2 / (fan_in + fan_out)``, cut at +-2 std. Glorot and Bengio, AISTATS 2010.
    """
    return VarianceScaling(1.0, "fan_avg", "truncated_normal")


def kaiming_scale(a: float, nonlinearity: str) -> float:
    """``gain^2`` of torch's ``calculate_gain(nonlinearity, a)``, computed exactly.

    ``leaky_relu`` gives ``2 / (1 + a^2)`` (so 2.0 exactly for ``a = 0``),
    ``relu`` 2; any other activation of :mod:`initlab.activations` its gain squared.
    """
    a = SLOPE.check("he", "a", a)
    nonlinearity = Nonlinearity().check("he", "nonlinearity", nonlinearity)
    if nonlinearity == "leaky_relu":
        return 2.0 / (1.0 + a * a)
    if a != 0:
        raise ValueError(
            f"he: a={a} is the negative slope of leaky_relu and is only used with "
            f"nonlinearity=leaky_relu, got nonlinearity={nonlinearity!r}"
        )
    if nonlinearity == "relu":
        return 2.0
    from initlab.activations import get_activation

    gain = get_activation(nonlinearity).gain
    return gain * gain


def _kaiming(who: str, a: float, mode: str, nonlinearity: str, distribution: str):
    return VarianceScaling(kaiming_scale(a, nonlinearity), mode, distribution)


@declare("he_normal", a=SLOPE, mode=KAIMING_MODE, nonlinearity=Nonlinearity())
def he_normal(
    a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> VarianceScaling:
    """He (Kaiming) normal, torch ``kaiming_normal_``: ``N(0, gain^2 / fan_mode)``.

    ``gain`` is torch's ``calculate_gain(nonlinearity, a)``: ``sqrt(2 / (1 + a^2))``
    for the default leaky_relu (so ``N(0, 2 / fan_in)`` for ``a = 0``). Triple
    ``(gain^2, mode, normal)``; not truncated (Keras's ``he_normal`` is
    ``he_normal_truncated``). He, Zhang, Ren and Sun, "Delving Deep into
    Rectifiers", ICCV 2015.
    """
    return _kaiming("he_normal", a, mode, nonlinearity, "normal")


@declare("he_uniform", a=SLOPE, mode=KAIMING_MODE, nonlinearity=Nonlinearity())
def he_uniform(
    a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> VarianceScaling:
    """He (Kaiming) uniform, torch ``kaiming_uniform_``: ``U(+-gain * sqrt(3 / fan_mode))``.

    Triple ``(gain^2, mode, uniform)``; with the defaults ``U(+-sqrt(6 / fan_in))``,
    Keras/JAX ``he_uniform``. He et al., ICCV 2015.
    """
    return _kaiming("he_uniform", a, mode, nonlinearity, "uniform")


def he_normal_truncated() -> VarianceScaling:
    """Keras/JAX ``he_normal``: triple ``(2, fan_in, truncated_normal)``, variance ``2 / fan_in``.

    He et al., ICCV 2015.
    """
    return VarianceScaling(2.0, "fan_in", "truncated_normal")


def lecun_normal() -> VarianceScaling:
    """LeCun normal, untruncated: ``N(0, 1 / fan_in)``, triple ``(1, fan_in, normal)``.

    LeCun, Bottou, Orr and Müller, "Efficient BackProp", 1998; the init of
    SELU networks (Klambauer et al., 2017).
    """
    return VarianceScaling(1.0, "fan_in", "normal")


def lecun_uniform() -> VarianceScaling:
    """LeCun uniform: ``U(+-sqrt(3 / fan_in))``, triple ``(1, fan_in, uniform)``.

    LeCun et al. 1998; Keras/JAX ``lecun_uniform``.
    """
    return VarianceScaling(1.0, "fan_in", "uniform")


def lecun_normal_truncated() -> VarianceScaling:
    """Keras/JAX ``lecun_normal``: triple ``(1, fan_in, truncated_normal)``. LeCun et al. 1998."""
    return VarianceScaling(1.0, "fan_in", "truncated_normal")


@dataclass(frozen=True)
class TorchLinear:
    """torch ``nn.Linear``'s default: ``U(+-1 / sqrt(fan_in))`` for weights and bias.

    For the weights this is ``kaiming_uniform_(a=sqrt(5))``: gain
    ``sqrt(2 / (1 + 5)) = 1/sqrt(3)``, limit ``gain * sqrt(3 / fan_in)``, variance
    ``1 / (3 fan_in)``. As a bias initializer (``--bias-init torch_linear``) it
    draws ``U(+-1 / sqrt(fan_in))`` with the layer's fan_in, as torch does;
    use both for torch's default layer.
    """

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        fan_in, _ = fans(check_shape(shape, "torch_linear"))
        limit = 1.0 / math.sqrt(fan_in)
        return rng.uniform(-limit, limit, shape)

    def draw_bias(self, rng: Rng, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
        limit = 1.0 / math.sqrt(fan_in)
        return rng.uniform(-limit, limit, shape)

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        return Moments(0.0, 1.0 / (3.0 * fan_in))


@dataclass(frozen=True)
class KerasDense:
    """Keras ``Dense``'s default: ``glorot_uniform`` kernel, zero bias.

    Weights ``U(+-sqrt(6 / (fan_in + fan_out)))``; as a bias initializer it gives zeros.
    """

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        return glorot_uniform()(rng, shape)

    def draw_bias(self, rng: Rng, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
        return np.zeros(shape)

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        return Moments(0.0, 2.0 / (fan_in + fan_out))


SKLEARN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


@dataclass(frozen=True)
@declare("sklearn_mlp", activation=Choice(SKLEARN_ACTIVATIONS, (("sigmoid", "logistic"),)))
class SklearnMLP:
    """scikit-learn ``MLPClassifier``/``MLPRegressor``: weights and biases ``U(+-bound)``.

    ``bound = sqrt(factor / (fan_in + fan_out))`` with ``factor = 6``, or 2 when
    the hidden ``activation`` is ``logistic`` (``sigmoid`` is accepted for it);
    the bias uses the layer's fans too (``--bias-init sklearn_mlp``). Weights are
    drawn as scikit-learn draws its ``(fan_in, fan_out)`` ``coefs_`` and
    transposed, so with the same ``RandomState`` the numbers are scikit-learn's.
    Glorot and Bengio 2010 (factor 6), scikit-learn ``_init_coef``.
    """

    activation: str = "relu"

    def bound(self, fan_in: int, fan_out: int) -> float:
        factor = 2.0 if self.activation == "logistic" else 6.0
        return math.sqrt(factor / (fan_in + fan_out))

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        fan_in, fan_out = fans(check_shape(shape, "sklearn_mlp"))
        bound = self.bound(fan_in, fan_out)
        if len(shape) == 2:
            return rng.uniform(-bound, bound, (shape[1], shape[0])).T
        return rng.uniform(-bound, bound, shape)

    def draw_bias(self, rng: Rng, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
        bound = self.bound(fan_in, fan_out)
        return rng.uniform(-bound, bound, int(np.prod(shape))).reshape(shape)

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        return Moments(0.0, self.bound(fan_in, fan_out) ** 2 / 3.0)
