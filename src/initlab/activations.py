"""Activation functions, their derivatives and their initialization gains.

Every activation is built by a factory in :data:`ACTIVATION_FACTORIES`, keyed
by the name the command line accepts; :data:`ACTIVATIONS` holds each one with
its default parameters. :func:`get_activation` takes a name or a spec string
such as ``"leaky_relu(slope=0.1)"`` (see :mod:`initlab.spec`) and caches what
it builds, so calling it on every training iteration is a dictionary lookup.

An :class:`Activation` bundles

* ``forward(z)``: the elementwise function ``a = f(z)``;
* ``derivative(z, a)``: ``f'(z)``, given both the pre-activation and the
  activation so that cheap forms (``a (1 - a)`` for the sigmoid) can be used;
* ``gain``: the factor by which an initializer's standard deviation is
  multiplied so that the signal keeps its scale through the layer.

Gains. Where torch defines one (``torch.nn.init.calculate_gain``: identity and
sigmoid 1, tanh 5/3, relu sqrt(2), leaky_relu sqrt(2 / (1 + slope^2)),
selu 3/4) initlab uses torch's value. For the others (elu, gelu, softplus,
silu) the gain is the *unit second-moment rule*

    gain = 1 / sqrt(E[f(z)^2]),   z ~ N(0, 1),

computed by adaptive quadrature (:func:`second_moment_gain`): the factor that
makes ``E[a^2] = 1`` for a unit-variance pre-activation. The rule reproduces
torch's relu, leaky_relu and identity gains exactly; for tanh, sigmoid and selu
torch's table differs from it (1.59, 1.85 and 1.00 by the rule), and both are
shown by ``initlab activations NAME``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

from initlab._special import expit, ndtr
from initlab.spec import (
    Range,
    Registry,
    declare,
    declared_params,
    format_spec,
    parse_spec,
)

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_ALIASES",
    "ACTIVATION_FACTORIES",
    "SELU_ALPHA",
    "SELU_LAMBDA",
    "Activation",
    "activation_factory",
    "activation_names",
    "canonical_activation",
    "get_activation",
    "second_moment_gain",
]

ArrayFn = Callable[[np.ndarray], np.ndarray]

SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Activation:
    """An elementwise activation with its derivative and gain.

    ``fixed_gain`` is torch's gain where torch has one; ``None`` means the
    :func:`second_moment_gain` rule, computed (by quadrature) the first time
    :attr:`gain` is read.
    """

    name: str
    forward: ArrayFn
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray]
    fixed_gain: float | None
    formula: str
    gain_rule: str
    derivative_formula: str = ""
    citation: str = ""
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.forward(z)

    @cached_property
    def gain(self) -> float:
        """The factor that keeps the signal's scale through the layer (see the module)."""
        if self.fixed_gain is not None:
            return self.fixed_gain
        return second_moment_gain(self.forward)

    @property
    def second_moment_gain(self) -> float:
        """``1 / sqrt(E[f(z)^2])`` for ``z ~ N(0, 1)`` (the rule used where torch has no gain)."""
        return second_moment_gain(self.forward)


def second_moment_gain(f: ArrayFn) -> float:
    """``1 / sqrt(E[f(z)^2])``, ``z ~ N(0, 1)``, by quadrature on each side of 0."""
    from scipy import integrate  # imported when a gain is asked for: slow to import

    def integrand(z: float) -> float:
        value = float(f(np.array([z]))[0])
        return value * value * _INV_SQRT_2PI * math.exp(-0.5 * z * z)

    left = integrate.quad(integrand, -np.inf, 0.0, epsabs=1e-13, epsrel=1e-12)[0]
    right = integrate.quad(integrand, 0.0, np.inf, epsabs=1e-13, epsrel=1e-12)[0]
    return 1.0 / math.sqrt(left + right)


#: The largest slope or alpha: its square (in the gain, in E[f(z)^2]) stays a finite float64.
PARAMETER_LIMIT = 1e150


def _ones(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.ones_like(z)


def identity() -> Activation:
    return Activation(
        name="identity",
        forward=lambda z: z,
        derivative=_ones,
        fixed_gain=1.0,
        formula="z",
        derivative_formula="1",
        gain_rule="1 (torch: linear)",
        citation="",
    )


def relu() -> Activation:
    return Activation(
        name="relu",
        forward=lambda z: np.maximum(0.0, z),
        derivative=lambda z, a: (z > 0).astype(z.dtype),
        fixed_gain=math.sqrt(2.0),
        formula="max(0, z)",
        derivative_formula="1 if z > 0 else 0",
        gain_rule="sqrt(2) (torch; He et al. 2015)",
        citation="Nair & Hinton 2010",
    )


@declare(
    "activation leaky_relu",
    slope=Range(max_abs=PARAMETER_LIMIT, why="the gain sqrt(2 / (1 + slope^2)) must be positive"),
)
def leaky_relu(slope: float = 0.01) -> Activation:
    return Activation(
        name=format_spec("leaky_relu", {"slope": slope}),
        forward=lambda z: np.where(z > 0, z, slope * z),
        derivative=lambda z, a: np.where(z > 0, 1.0, slope),
        fixed_gain=math.sqrt(2.0 / (1.0 + slope * slope)),
        formula="z if z > 0 else slope * z",
        derivative_formula="1 if z > 0 else slope",
        gain_rule="sqrt(2 / (1 + slope^2)) (torch)",
        citation="Maas et al. 2013",
        params={"slope": slope},
    )


def tanh() -> Activation:
    return Activation(
        name="tanh",
        forward=np.tanh,
        derivative=lambda z, a: 1.0 - a * a,
        fixed_gain=5.0 / 3.0,
        formula="tanh(z)",
        derivative_formula="1 - tanh(z)^2",
        gain_rule="5/3 (torch)",
        citation="LeCun et al. 1998",
    )


def sigmoid() -> Activation:
    return Activation(
        name="sigmoid",
        forward=expit,
        derivative=lambda z, a: a * (1.0 - a),
        fixed_gain=1.0,
        formula="1 / (1 + exp(-z))",
        derivative_formula="sigmoid(z) (1 - sigmoid(z))",
        gain_rule="1 (torch)",
        citation="",
    )


@declare(
    "activation elu",
    alpha=Range(low=0.0, high=PARAMETER_LIMIT, why="E[f(z)^2] must be a finite float64"),
)
def elu(alpha: float = 1.0) -> Activation:

    def forward(z: np.ndarray) -> np.ndarray:
        return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))

    return _rule_gain_activation(
        name=format_spec("elu", {"alpha": alpha}),
        forward=forward,
        derivative=lambda z, a: np.where(z > 0, 1.0, a + alpha),
        formula="z if z > 0 else alpha (exp(z) - 1)",
        derivative_formula="1 if z > 0 else alpha exp(z)",
        citation="Clevert et al. 2016",
        params={"alpha": alpha},
    )


def selu() -> Activation:
    scale = SELU_LAMBDA * SELU_ALPHA

    def forward(z: np.ndarray) -> np.ndarray:
        return np.where(z > 0, SELU_LAMBDA * z, scale * np.expm1(np.minimum(z, 0.0)))

    return Activation(
        name="selu",
        forward=forward,
        derivative=lambda z, a: np.where(z > 0, SELU_LAMBDA, a + scale),
        fixed_gain=0.75,
        formula="lambda z if z > 0 else lambda alpha (exp(z) - 1)",
        derivative_formula="lambda if z > 0 else lambda alpha exp(z)",
        gain_rule="3/4 (torch)",
        citation="Klambauer et al. 2017",
    )


def gelu() -> Activation:
    def derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return ndtr(z) + z * _INV_SQRT_2PI * np.exp(-0.5 * z * z)

    return _rule_gain_activation(
        name="gelu",
        forward=lambda z: z * ndtr(z),
        derivative=derivative,
        formula="z Phi(z) (exact, Phi the normal CDF)",
        derivative_formula="Phi(z) + z phi(z)",
        citation="Hendrycks & Gimpel 2016",
    )


def softplus() -> Activation:
    return _rule_gain_activation(
        name="softplus",
        forward=lambda z: np.logaddexp(0.0, z),
        derivative=lambda z, a: expit(z),
        formula="log(1 + exp(z))",
        derivative_formula="sigmoid(z)",
        citation="Dugas et al. 2001",
    )


def silu() -> Activation:
    def derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
        s = expit(z)
        return s * (1.0 + z * (1.0 - s))

    return _rule_gain_activation(
        name="silu",
        forward=lambda z: z * expit(z),
        derivative=derivative,
        formula="z sigmoid(z)",
        derivative_formula="sigmoid(z) (1 + z (1 - sigmoid(z)))",
        citation="Elfwing et al. 2018; Ramachandran et al. 2017 (swish)",
    )


RULE_GAIN = "1 / sqrt(E[f(z)^2]), z ~ N(0, 1) (quadrature; torch has none)"


def _rule_gain_activation(**fields: Any) -> Activation:
    """An activation torch gives no gain: its gain is the :func:`second_moment_gain` rule."""
    return Activation(fixed_gain=None, gain_rule=RULE_GAIN, **fields)


ACTIVATION_FACTORIES: Registry[Callable[..., Activation]] = Registry("activation", {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "identity": identity,
    "elu": elu,
    "selu": selu,
    "gelu": gelu,
    "softplus": softplus,
    "silu": silu,
}, {"swish": "silu", "linear": "identity"})  # fmt: skip
#: Other accepted names (torch's ``linear``, ``swish``) -> canonical name.
ACTIVATION_ALIASES: dict[str, str] = ACTIVATION_FACTORIES.aliases


def _resolve(spec: str) -> tuple[str, Callable[..., Activation], tuple, dict[str, Any]]:
    """``(registered name, factory, args, kwargs)`` of ``spec``, names and keys case-folded."""
    return ACTIVATION_FACTORIES.parse(spec, declared_params)


def activation_factory(spec: str) -> Callable[..., Activation]:
    """The factory that builds ``spec`` (its declared parameters are the spec's)."""
    return _resolve(spec)[1]


def canonical_activation(spec: str) -> str:
    """``spec`` with its name (and parameter names) spelled as registered: ``ReLU`` -> ``relu``.

    The spec is returned unchanged when it already is; it is checked by building it.

    Raises:
        ValueError: as :func:`get_activation`.
    """
    if not isinstance(spec, str):
        raise ValueError(f"an activation must be a name such as 'relu', got {spec!r}")
    get_activation(spec)
    registered, _, args, params = _resolve(spec)
    name, _, kwargs = parse_spec(spec)
    if registered == name and list(params) == [key for key, _ in kwargs]:
        return spec
    return format_spec(registered, params, args)


@lru_cache(maxsize=256)
def _build(spec: str) -> Activation:
    _, factory, args, params = _resolve(spec)
    try:
        return factory(*args, **params)
    except TypeError as exc:
        import inspect

        takes = ", ".join(inspect.signature(factory).parameters) or "no parameters"
        raise ValueError(
            f"activation {spec!r}: bad parameters ({exc}); it takes: {takes}"
        ) from None


def get_activation(name: str | Activation) -> Activation:
    """Return the activation for ``name``: a name, an alias or a spec like ``"elu(alpha=0.5)"``.

    Raises:
        ValueError: for an unknown name (suggesting the closest and listing the
            choices), a malformed spec or bad parameters.
    """
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise ValueError(f"an activation must be a name such as 'relu', got {name!r}")
    return _build(name)


def activation_names(*, aliases: bool = False) -> list[str]:
    """The registered activation names (and aliases if asked)."""
    return ACTIVATION_FACTORIES.names(aliases=aliases)


#: Every registered activation with its default parameters.
ACTIVATIONS: dict[str, Activation] = {name: _build(name) for name in ACTIVATION_FACTORIES}
