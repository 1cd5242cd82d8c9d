"""The initializer interface, fans, moments and parameter checks shared by the catalogue."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from initlab.spec import Choice, Range

__all__ = [
    "FINITE",
    "FRACTION",
    "GAIN",
    "NONNEGATIVE_WEIGHT",
    "POSITIVE",
    "POSITIVE_INT",
    "POSITIVE_WEIGHT",
    "WEIGHT",
    "WEIGHT_LIMIT",
    "Initializer",
    "Moments",
    "Rng",
    "check_choice",
    "check_finite",
    "check_nonnegative",
    "check_positive",
    "check_shape",
    "fans",
]

Rng = np.random.Generator | np.random.RandomState


@runtime_checkable
class Initializer(Protocol):
    """Anything that draws an array of a given shape from an ``rng``.

    ``shape`` is ``(fan_out, fan_in)`` for a weight matrix and ``(fan_out, 1)``
    for a bias column. Only methods that :class:`numpy.random.Generator` and
    :class:`numpy.random.RandomState` share may be called on ``rng``
    (``standard_normal``, ``normal``, ``uniform``, ``permutation``).

    Optional extras that :func:`initlab.initializers.initialize` and the CLI use:

    * ``moments(fan_in, fan_out) -> Moments``: the expected mean and mean
      square of the entries (what ``initlab inits NAME`` prints);
    * ``draw_bias(rng, shape, fan_in, fan_out)``: how the scheme draws a bias
      when it is told the layer's fans (torch ``nn.Linear``, scikit-learn);
    * ``data_dependent = True`` and ``initialize_network(network, rng, X,
      bias_init)``: schemes such as LSUV that need a data batch.
    """

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray: ...


class Moments(NamedTuple):
    """Expected mean and mean square of the entries of one drawn array.

    For random schemes these are the mean and second moment of one entry; for
    structured or deterministic ones (identity, ZerO, orthogonal) they are the
    average over the matrix, ``mean_ij W_ij`` and ``mean_ij W_ij^2``.
    """

    mean: float
    second_moment: float

    @property
    def variance(self) -> float:
        return max(self.second_moment - self.mean**2, 0.0)

    @property
    def std(self) -> float:
        return math.sqrt(self.variance)


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of a ``(fan_out, fan_in, ...)`` weight shape.

    A 1-D shape ``(n,)`` has fan_in = fan_out = n; a scalar shape ``()`` has 1, 1;
    trailing dimensions beyond the second multiply into fan_in.
    """
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    fan_out, fan_in = shape[0], int(np.prod(shape[1:]))
    return fan_in, fan_out


def check_shape(shape: Any, who: str, *, matrix: bool = False) -> tuple[int, ...]:
    """``shape`` as a tuple of positive ints (exactly two of them if ``matrix``)."""
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(
            f"{who}: shape must be a tuple of positive integers, got {shape!r}"
        ) from None
    for dim in dims:
        if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < 1:
            raise ValueError(f"{who}: shape must be a tuple of positive integers, got {shape!r}")
    if matrix and len(dims) != 2:
        raise ValueError(f"{who}: needs a 2-D (fan_out, fan_in) shape, got {shape!r}")
    return tuple(int(d) for d in dims)


#: The largest weight magnitude a parameter may ask for (a std, a gain, a constant): its
#: square, the second moment ``E[w^2]`` of the weights, is then still a finite float64.
WEIGHT_LIMIT = 1e150

#: Declared ranges shared by the catalogue (see :class:`initlab.spec.Range`).
FINITE = Range()
WEIGHT = Range(max_abs=WEIGHT_LIMIT, why="its square must be a finite float64")
NONNEGATIVE_WEIGHT = Range(low=0.0, high=WEIGHT_LIMIT, why="its square must be a finite float64")
POSITIVE_WEIGHT = Range(
    low=0.0, high=WEIGHT_LIMIT, low_open=True, why="its square must be a finite float64"
)
#: A gain whose square is a variance scale: positive and finite once squared.
GAIN = Range(
    min_abs=1.0 / WEIGHT_LIMIT,
    max_abs=WEIGHT_LIMIT,
    why="gain^2 scales the variance and must be a positive finite float64",
)
POSITIVE = Range(low=0.0, low_open=True)
POSITIVE_INT = Range(low=0, low_open=True, integer=True)
FRACTION = Range(low=0.0, high=1.0, high_open=True)


def check_finite(who: str, name: str, value: Any) -> float:
    """A finite real number (bools are refused)."""
    return FINITE.check(who, name, value)


def check_nonnegative(who: str, name: str, value: Any) -> float:
    return Range(low=0.0).check(who, name, value)


def check_positive(who: str, name: str, value: Any) -> float:
    return POSITIVE.check(who, name, value)


def check_choice(who: str, name: str, value: Any, choices: Iterable[str]) -> str:
    return Choice(tuple(choices)).check(who, name, value)


def check_positive_int(who: str, name: str, value: Any) -> int:
    return int(POSITIVE_INT.check(who, name, value))
