"""Activation functions, their derivatives and their initialization gains.

Every activation lives in :data:`ACTIVATIONS`, keyed by the name the command
line accepts. An :class:`Activation` bundles

* ``forward(z)``: the elementwise function ``a = f(z)``;
* ``derivative(z, a)``: ``f'(z)``, given both the pre-activation and the
  activation so that cheap forms (``a (1 - a)`` for the sigmoid) can be used;
* ``gain``: the factor by which an initializer's standard deviation is
  multiplied so that the signal keeps its scale through the layer. Where torch
  defines a gain (``torch.nn.init.calculate_gain``) the same value is used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

__all__ = ["ACTIVATIONS", "Activation", "get_activation"]

ArrayFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Activation:
    """An elementwise activation with its derivative and gain."""

    name: str
    forward: ArrayFn
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray]
    gain: float
    formula: str
    gain_rule: str

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.forward(z)


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(0.0, z)


def _relu_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return (z > 0).astype(z.dtype)


def _sigmoid_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return a * (1.0 - a)


def _identity(z: np.ndarray) -> np.ndarray:
    return z


def _identity_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.ones_like(z)


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation(
        name="relu",
        forward=_relu,
        derivative=_relu_derivative,
        gain=float(np.sqrt(2.0)),
        formula="max(0, z)",
        gain_rule="sqrt(2) (torch; He et al. 2015)",
    ),
    "sigmoid": Activation(
        name="sigmoid",
        forward=expit,
        derivative=_sigmoid_derivative,
        gain=1.0,
        formula="1 / (1 + exp(-z))",
        gain_rule="1 (torch)",
    ),
    "identity": Activation(
        name="identity",
        forward=_identity,
        derivative=_identity_derivative,
        gain=1.0,
        formula="z",
        gain_rule="1 (torch: linear)",
    ),
}


def get_activation(name: str) -> Activation:
    """Return the activation registered under ``name``.

    Raises:
        ValueError: if ``name`` is not registered; the message lists the choices.
    """
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        choices = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"unknown activation {name!r}; choose one of: {choices}") from None
