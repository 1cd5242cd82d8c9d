"""The initializer catalogue.

An initializer is a callable ``init(rng, shape) -> ndarray``. ``shape`` is
``(fan_out, fan_in)`` for a weight matrix (initlab stores ``W[l]`` with shape
``(n_l, n_{l-1})`` and computes ``z = W a + b``) and ``(fan_out, 1)`` for a
bias column. ``rng`` is a :class:`numpy.random.Generator` or, where the exact
numbers of the deeplearning.ai course are wanted, a legacy
:class:`numpy.random.RandomState`; initializers only call methods both share
(``standard_normal``, ``uniform``, ``normal``), so the same initializer gives
the course stream from ``RandomState(3)``.

Initializers are looked up by name in :data:`INITIALIZERS`
(see :func:`get_initializer`) and applied to a whole network by
:func:`initialize`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from initlab.network import Network, Parameters

__all__ = [
    "INITIALIZERS",
    "He",
    "Initializer",
    "RandomNormal",
    "Rng",
    "Zeros",
    "get_initializer",
    "initialize",
]

Rng = np.random.Generator | np.random.RandomState


class Initializer(Protocol):
    """Anything that draws an array of a given shape from an ``rng``."""

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray: ...


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of a ``(fan_out, fan_in)`` weight shape.

    A 1-D shape ``(n,)`` has fan_in = fan_out = n.
    """
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    fan_out, fan_in = shape[0], int(np.prod(shape[1:]))
    return fan_in, fan_out


@dataclass(frozen=True)
class Zeros:
    """All zeros: ``W = 0``.

    Every unit of a layer then computes the same function and receives the same
    gradient, so gradient descent never breaks the symmetry (the course's
    "zeros" run).
    """

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        return np.zeros(shape)


@dataclass(frozen=True)
class RandomNormal:
    """The course's "random" scheme: ``W ~ scale * N(0, 1)``.

    With the default ``scale = 10`` the weights are far too large: the output
    sigmoid saturates and training is slow (Ng et al., deeplearning.ai,
    *Improving Deep Neural Networks*, week 1).
    """

    scale: float = 10.0

    def __post_init__(self) -> None:
        if not np.isfinite(self.scale):
            raise ValueError(f"random: scale must be a finite number, got {self.scale!r}")

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        return rng.standard_normal(shape) * self.scale


@dataclass(frozen=True)
class He:
    """He (Kaiming) normal: ``W ~ N(0, 2 / fan_in)``, i.e. ``sqrt(2 / fan_in) * N(0, 1)``.

    Variance scaling with ``(scale=2, mode=fan_in, distribution=normal)``: keeps
    the second moment of ReLU activations constant with depth.

    He, Zhang, Ren and Sun, "Delving Deep into Rectifiers: Surpassing
    Human-Level Performance on ImageNet Classification", ICCV 2015.
    """

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        fan_in, _ = fans(shape)
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)


INITIALIZERS: dict[str, Callable[..., Initializer]] = {
    "zeros": Zeros,
    "random": RandomNormal,
    "he": He,
}


def get_initializer(name: str, **params: Any) -> Initializer:
    """Build the initializer registered under ``name`` with ``params``.

    Raises:
        ValueError: for an unknown name (the message lists the choices) or
            parameters the initializer does not take.
    """
    try:
        factory = INITIALIZERS[name]
    except (KeyError, TypeError):
        choices = ", ".join(sorted(INITIALIZERS))
        raise ValueError(f"unknown initializer {name!r}; choose one of: {choices}") from None
    try:
        return factory(**params)
    except TypeError as exc:
        raise ValueError(f"initializer {name!r}: bad parameters {params!r} ({exc})") from None


def initialize(
    network: Network,
    weight_init: Initializer | str,
    rng: Rng,
    bias_init: Initializer | str = "zeros",
) -> Parameters:
    """Draw the parameters of ``network``, layer by layer.

    For ``l = 1..L`` the weights ``W[l]`` of shape ``(n_l, n_{l-1})`` are drawn
    first, then the bias ``b[l]`` of shape ``(n_l, 1)``. With zero biases (the
    default) nothing is drawn for them, so ``RandomState(3)`` and the course's
    ``he`` or ``random`` scheme give the course's exact weights.
    """
    from initlab.network import Parameters

    if isinstance(weight_init, str):
        weight_init = get_initializer(weight_init)
    if isinstance(bias_init, str):
        bias_init = get_initializer(bias_init)
    weights: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    sizes = network.layer_sizes
    for fan_in, fan_out in itertools.pairwise(sizes):
        weights.append(np.asarray(weight_init(rng, (fan_out, fan_in)), dtype=np.float64))
        biases.append(np.asarray(bias_init(rng, (fan_out, 1)), dtype=np.float64))
    return Parameters(weights, biases)
