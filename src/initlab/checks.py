"""Checking what every training entry point is given: data, labels, random generators.

One place, so that :func:`initlab.fit.gradient_descent`, :func:`initlab.fit.fit`,
:func:`initlab.engine.train_population` and the experiments built on them accept
and refuse the same things, with the same messages. The library raises
``ValueError`` for a bad value and ``TypeError`` for an argument of the wrong kind.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from initlab.network import Network, Parameters

__all__ = [
    "as_rng",
    "check_inputs",
    "check_parameters",
    "check_positive_int",
    "check_real",
    "check_targets",
    "check_training_data",
    "is_real",
]


def is_real(value: object) -> bool:
    """A real number of any Python or NumPy type; ``bool`` is not one."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def check_real(name: str, value: object) -> float:
    """``value`` as a float, or ``TypeError`` naming ``name`` (booleans are refused)."""
    if not is_real(value):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    return float(value)  # type: ignore[arg-type]


def check_positive_int(name: str, value: object, *, allow_none: bool = False) -> int | None:
    """``value`` as a positive ``int`` (``None`` passes if ``allow_none``), else an error."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def as_rng(rng: object, name: str = "rng") -> np.random.Generator | np.random.RandomState:
    """A NumPy generator from ``rng``: a ``Generator`` or legacy ``RandomState`` as it is,
    an ``int`` seed or a ``SeedSequence`` through ``numpy.random.default_rng``.

    ``None`` is refused: a run must be reproducible from what it was given.
    """
    if isinstance(rng, np.random.Generator | np.random.RandomState):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool | np.bool_):
        if rng < 0:
            raise ValueError(f"{name} seed must be a non-negative integer, got {rng!r}")
        return np.random.default_rng(int(rng))
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    raise TypeError(
        f"{name} must be a numpy.random.Generator, a RandomState, a SeedSequence or an "
        f"int seed, got {rng!r} ({type(rng).__name__})"
    )


def _real_array(name: str, value: object) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must hold real numbers, got dtype {array.dtype} "
            f"({'complex numbers' if array.dtype.kind == 'c' else 'not numbers'})"
        )
    return array


def check_inputs(network: Network, X: object) -> np.ndarray:
    """``X`` checked against ``network``'s input layer: real, finite, of shape ``(n_0, m)``
    with ``m >= 1``; returned as float64."""
    X = _real_array("X", X)
    n0 = network.layer_sizes[0]
    if X.ndim != 2 or X.shape[0] != n0:
        raise ValueError(
            f"X must have shape ({n0}, m) for the network's input layer of {n0} units, "
            f"got {X.shape}"
        )
    if X.shape[1] == 0:
        raise ValueError("X has no samples (shape (n_0, 0)); at least one column is needed")
    X = np.asarray(X, dtype=np.float64)
    if not np.isfinite(X).all():
        raise ValueError("X contains non-finite values (nan or inf)")
    return X


def check_parameters(network: Network, params: Parameters, name: str = "params") -> None:
    """Raise unless ``params`` are parameters of ``network``: for layer sizes
    ``n_0, ..., n_L``, ``L`` weights ``W[l]`` of shape ``(n_l, n_(l-1))`` and ``L`` biases
    ``b[l]`` of shape ``(n_l, 1)``. (The maths reads the sizes from the arrays: parameters of
    another network would otherwise train that network under this one's name.)"""
    from initlab.network import Parameters

    if not isinstance(params, Parameters):
        raise TypeError(f"{name} must be initlab Parameters, got {type(params).__name__}")
    sizes = list(network.layer_sizes)
    if len(params.weights) != network.depth or len(params.biases) != network.depth:
        raise ValueError(
            f"{name} has {len(params.weights)} weight and {len(params.biases)} bias arrays; "
            f"the network {sizes} needs {network.depth} of each"
        )
    for l, (W, b) in enumerate(zip(params.weights, params.biases, strict=True)):
        want_w, want_b = (sizes[l + 1], sizes[l]), (sizes[l + 1], 1)
        if np.shape(W) != want_w or np.shape(b) != want_b:
            raise ValueError(
                f"{name} do not fit the network {sizes}: layer {l + 1} needs W of shape "
                f"{want_w} and b of shape {want_b}, got {np.shape(W)} and {np.shape(b)}"
            )


def check_targets(network: Network, Y: object, m: int) -> np.ndarray:
    """Real regression targets for an ``"identity"`` head of ``k`` outputs: finite, of
    shape ``(k, m)`` (or ``(m,)`` when ``k = 1``); returned as float64 ``(k, m)``."""
    k = network.layer_sizes[-1]
    Y = _real_array("Y", Y)
    shapes = ((k, m), (m,)) if k == 1 else ((k, m),)
    if Y.shape not in shapes:
        raise ValueError(
            f"Y must have shape ({k}, {m}), one target per output unit and column of X, "
            f"for the network's identity head of {k} output(s), got {Y.shape}"
        )
    Y = np.asarray(Y, dtype=np.float64).reshape(k, m)
    if not np.isfinite(Y).all():
        raise ValueError("Y contains non-finite targets (nan or inf)")
    return Y


def check_training_data(network: Network, X: object, Y: object) -> tuple[np.ndarray, np.ndarray]:
    """``X`` and ``Y`` checked against ``network``: ``(X, Y)`` as float64 ``(n_0, m)`` and
    labels of shape ``(1, m)`` (float64 0/1 for a sigmoid head, int64 for softmax), or
    float64 targets ``(k, m)`` for a regression (``"identity"``) head (:func:`check_targets`).

    ``X`` must be real, finite, of shape ``(n_0, m)`` with ``m >= 1``; ``Y`` must
    hold one label per column (shape ``(1, m)`` or ``(m,)``), each an integer
    from 0 to ``k - 1`` for the network's ``k`` classes (``k = 2``, labels 0 and 1,
    for a sigmoid head). Floats with integral values count as integers.
    """
    X = check_inputs(network, X)
    m = X.shape[1]
    if not network.head.classifier:
        return X, check_targets(network, Y, m)
    Y = _real_array("Y", Y)
    if Y.shape not in ((1, m), (m,)):
        raise ValueError(f"Y must have shape (1, {m}), one label per column of X, got {Y.shape}")
    Y = Y.reshape(1, m)
    k = network.n_classes
    head = f"the network's {network.output} head ({k} classes)"
    if Y.dtype.kind == "f" and not np.isfinite(Y).all():
        raise ValueError(f"labels must be integers 0 to {k - 1} for {head}, got nan or inf")
    integral = Y.dtype.kind in "biu" or bool(np.all(Y == np.round(Y)))
    if not integral:
        bad = Y[Y != np.round(Y)].flat[0].item()
        raise ValueError(f"labels must be integers 0 to {k - 1} for {head}, got {bad!r}")
    low, high = Y.min(), Y.max()
    if low < 0 or high > k - 1:
        bad = (low if low < 0 else high).item()
        raise ValueError(f"labels must be integers 0 to {k - 1} for {head}, got {bad!r}")
    dtype = np.float64 if network.output == "sigmoid" else np.int64
    return X, Y.astype(dtype)
