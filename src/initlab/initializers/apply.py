"""Drawing a whole network's parameters with a weight and a bias initializer."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

from initlab.checks import as_rng
from initlab.initializers.base import Initializer, Rng

if TYPE_CHECKING:
    from initlab.network import Network, Parameters

__all__ = ["check_data", "draw_parameters", "initialize", "resolve"]


def resolve(init: Initializer | str, role: str) -> tuple[Initializer, str]:
    """The initializer for ``init`` (a spec string or an initializer) and a label for messages."""
    from initlab.initializers.registry import get_initializer

    if isinstance(init, str):
        return get_initializer(init), repr(init)
    if not callable(init):
        raise ValueError(f"{role} must be an initializer or a spec string, got {init!r}")
    return init, repr(init)


def checked_array(value: Any, shape: tuple[int, ...], label: str, what: str) -> np.ndarray:
    """``value`` as a float64 array of ``shape`` with finite entries, else ValueError."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"initializer {label} returned {type(value).__name__} for {what}, not an array"
        ) from None
    if array.shape != shape:
        raise ValueError(
            f"initializer {label} returned shape {array.shape} for {what}, expected {shape}"
        )
    if not np.isfinite(array).all():
        raise ValueError(f"initializer {label} returned non-finite values (nan or inf) for {what}")
    return array


def draw_parameters(
    network: Network,
    weight_init: Initializer,
    rng: Rng,
    bias_init: Initializer,
    labels: tuple[str, str] | None = None,
) -> Parameters:
    """Draw ``W[l]`` then ``b[l]`` for ``l = 1..L`` (biases after each layer's weights)."""
    from initlab.network import Parameters

    weight_label, bias_label = labels or (repr(weight_init), repr(bias_init))
    weights: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(network.layer_sizes), start=1):
        shape = (fan_out, fan_in)
        weights.append(checked_array(weight_init(rng, shape), shape, weight_label, f"W[{layer}]"))
        bias_shape = (fan_out, 1)
        draw_bias = getattr(bias_init, "draw_bias", None)
        if draw_bias is not None:
            bias = draw_bias(rng, bias_shape, fan_in, fan_out)
        else:
            bias = bias_init(rng, bias_shape)
        biases.append(checked_array(bias, bias_shape, bias_label, f"b[{layer}]"))
    return Parameters(weights, biases)


def check_data(network: Network, data: Any) -> np.ndarray:
    """``data`` as a finite float array of shape ``(n_0, m)`` with ``m >= 2``."""
    try:
        X = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"data must be a numeric array of shape (n_0, m), got {data!r}") from None
    n_0 = network.layer_sizes[0]
    if X.ndim != 2 or X.shape[0] != n_0 or X.shape[1] < 2:
        raise ValueError(
            f"data must have shape ({n_0}, m) with m >= 2 examples as columns, got {X.shape}"
        )
    if not np.isfinite(X).all():
        raise ValueError("data contains non-finite values (nan or inf)")
    return X


def initialize(
    network: Network,
    weight_init: Initializer | str,
    rng: Rng | int,
    bias_init: Initializer | str = "zeros",
    data: np.ndarray | None = None,
) -> Parameters:
    """Draw the parameters of ``network``, layer by layer.

    For ``l = 1..L`` the weights ``W[l]`` of shape ``(n_l, n_{l-1})`` are drawn
    first, then the bias ``b[l]`` of shape ``(n_l, 1)``. With zero biases (the
    default) nothing is drawn for them, so ``RandomState(3)`` and the course's
    ``he`` or ``random`` scheme give the course's exact weights.

    ``weight_init`` and ``bias_init`` are initializers or spec strings
    (``"normal(std=0.01)"``). A bias initializer with a ``draw_bias(rng, shape,
    fan_in, fan_out)`` method is given the layer's fans (``torch_linear``,
    ``sklearn_mlp``). Data-dependent weight schemes (``lsuv``) need ``data``,
    a batch ``X`` of shape ``(n_0, m)``; other schemes ignore it. ``rng`` is a
    NumPy ``Generator``, a legacy ``RandomState`` or an int seed (for
    ``numpy.random.default_rng``).

    Raises:
        ValueError: for an unknown or malformed spec, a data-dependent scheme
            without data (or as a bias initializer), bad data, or an
            initializer that returns the wrong shape or non-finite values.
    """
    rng = as_rng(rng)
    weight, weight_label = resolve(weight_init, "weight_init")
    bias, bias_label = resolve(bias_init, "bias_init")
    if getattr(bias, "data_dependent", False):
        raise ValueError(
            f"bias initializer {bias_label} is data-dependent; it can only draw weights"
        )
    if getattr(weight, "data_dependent", False):
        if data is None:
            raise ValueError(
                f"initializer {weight_label} is data-dependent: pass a data batch "
                f"(data=X of shape ({network.layer_sizes[0]}, m))"
            )
        X = check_data(network, data)
        return weight.initialize_network(network, rng, X, bias)
    return draw_parameters(network, weight, rng, bias, (weight_label, bias_label))
