"""Training a population of networks at once: the public entry point."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from initlab.checks import check_positive_int, check_training_data
from initlab.engine.codes import KERNEL_ACTIVATIONS
from initlab.engine.layout import Layout, pack, unpack
from initlab.network import Network, Parameters
from initlab.train import History, validate_schedule

__all__ = [
    "BACKENDS",
    "WIDE_LAYER",
    "WIDE_LAYER_FEW_MODELS",
    "PopulationResult",
    "choose_backend",
    "train_population",
]

#: ``"auto"`` picks ``"compiled"`` when it can, else ``"numpy"``
BACKENDS = ("auto", "compiled", "numpy")

#: under ``"auto"``, hidden layers wider than this go to the batched NumPy (BLAS) path
#: when the population has at least as many models as there are threads (the
#: kernel then keeps every core busy and wins up to about this width) ...
WIDE_LAYER = 1024
#: ... and wider than this when it has fewer (BLAS then uses the idle cores);
#: both measured with ``benchmarks/engine.py``
WIDE_LAYER_FEW_MODELS = 160

DTYPES = ("float64", "float32")


@dataclass
class PopulationResult:
    """What training a population returned.

    Attributes:
        network: the common architecture.
        costs: ``(M, iterations)``; ``costs[i, t]`` is model ``i``'s cost before
            update ``t``; NaN after the iteration at which the model diverged.
        params: the final parameters of every model (for a diverged model, the
            parameters at which its cost was first not finite).
        diverged_at: ``(M,)`` int64: the first iteration whose cost was not
            finite, or -1.
        backend: ``"compiled"`` or ``"numpy"``: the engine that ran.
    """

    network: Network
    costs: np.ndarray
    params: list[Parameters]
    diverged_at: np.ndarray
    backend: str

    def __len__(self) -> int:
        return len(self.params)

    def history(self, i: int) -> History:
        """Model ``i``'s :class:`~initlab.train.History`, as the reference loop returns it."""
        d = int(self.diverged_at[i])
        if d < 0:
            return History(self.costs[i].copy())
        return History(self.costs[i, : d + 1].copy(), diverged_at=d)

    @property
    def diverged(self) -> np.ndarray:
        """``(M,)`` bool: which models diverged."""
        return self.diverged_at >= 0


def choose_backend(
    network: Network, backend: str = "auto", models: int = 1, threads: int | None = None
) -> str:
    """The backend :func:`train_population` uses for ``models`` networks like ``network``.

    ``"auto"`` picks the compiled kernel when every hidden activation is one it
    knows (identity, relu, sigmoid, tanh) and no hidden layer is wider than
    :data:`WIDE_LAYER` (:data:`WIDE_LAYER_FEW_MODELS` when there are fewer
    models than ``threads``, default: the usable cores); otherwise the batched
    NumPy engine.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    unknown = [a for a in network.activations if a not in KERNEL_ACTIVATIONS]
    if backend == "compiled" and unknown:
        raise ValueError(
            f"the compiled backend does not know activation(s) {unknown}; it knows: "
            f"{', '.join(KERNEL_ACTIVATIONS)} (use backend='numpy' or 'auto')"
        )
    if backend != "auto":
        return backend
    threads = usable_cores() if threads is None else threads
    limit = WIDE_LAYER if models >= threads else WIDE_LAYER_FEW_MODELS
    if unknown or max(network.layer_sizes[1:-1], default=0) > limit:
        return "numpy"
    return "compiled"


def usable_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _as_theta(network: Network, initial_params, dtype) -> np.ndarray:
    if isinstance(initial_params, np.ndarray):
        want = Layout.of(network).n_parameters
        if initial_params.ndim != 2 or initial_params.shape[1] != want:
            raise ValueError(
                f"stacked parameters must have shape (M, {want}) for layer sizes "
                f"{network.layer_sizes}, got {initial_params.shape}"
            )
        return np.array(initial_params, dtype=dtype, order="C")
    params_list = list(initial_params)
    for i, params in enumerate(params_list):
        if not isinstance(params, Parameters):
            raise TypeError(
                f"initial_params must be Parameters (one per model) or an (M, P) array; "
                f"item {i} is {params!r} ({type(params).__name__})"
            )
    return pack(network, params_list, dtype=dtype)


def train_population(
    network: Network,
    initial_params: Sequence[Parameters] | np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    learning_rate: float,
    iterations: int,
    backend: str = "auto",
    dtype: str = "float64",
    threads: int | None = None,
) -> PopulationResult:
    """Train ``M`` networks of one architecture on the same data at once.

    Each model starts from its own parameters and follows exactly the reference
    loop :func:`initlab.train.gradient_descent`: full-batch gradient descent
    ``theta <- theta - learning_rate * grad J`` on the binary cross-entropy from
    the logits ``J = mean(softplus(z) - y z)``, the cost recorded *before* each
    update, a model stopping at its first non-finite cost (its parameters are
    the ones at which that cost was measured). Models are independent: one that
    diverges does not disturb the others.

    Args:
        network: the common architecture.
        initial_params: one :class:`~initlab.network.Parameters` per model, or
            an array ``(M, P)`` of stacked parameters (see
            :mod:`initlab.engine.layout`). Not modified.
        X: inputs, shape ``(n_0, m)``; Y: labels in {0, 1}, shape ``(1, m)`` (checked by
            :func:`initlab.checks.check_training_data`; only sigmoid heads are trained).
        learning_rate, iterations: as for the reference loop.
        backend: ``"compiled"`` (the numba kernel: samples vectorized, models
            spread over threads), ``"numpy"`` (batched ``np.matmul`` over the
            stack, BLAS for wide layers, any activation) or ``"auto"`` (see
            :func:`choose_backend`). If numba is missing or fails, ``"auto"``
            falls back to ``"numpy"`` with a ``RuntimeWarning``.
        dtype: ``"float64"`` (default) or ``"float32"`` (parameters and
            activations in single precision; the loss, ``exp`` and the cost are
            still accumulated in float64). Measured on the course ``he`` run:
            costs within 3.3e-6 of float64 over 15000 iterations, same
            accuracies; chaotic runs (the course ``random``) drift apart as they
            do between any two platforms. It is not faster on x86-64 here; use
            it to study precision, not to reproduce published numbers.
        threads: worker threads for the compiled backend (default: usable cores).

    Returns:
        a :class:`PopulationResult`: per model, the cost at every iteration,
        the final parameters and the divergence iteration.

    Differences from the reference loop are rounding only: sums run in another
    order, ``exp`` is a vectorized polynomial and the softplus terms are summed
    as the log of a product, so costs agree to about 1e-15 relative (tested to
    1e-10) as long as the run is not chaotic.

    Example::

        import numpy as np
        from initlab import Network, course_circles, initialize
        from initlab.engine import train_population

        data = course_circles()
        net = Network.course()
        starts = [initialize(net, "he", np.random.default_rng(s)) for s in range(100)]
        result = train_population(
            net, starts, data.X_train, data.Y_train, learning_rate=0.01, iterations=15000
        )
        result.costs[:, -1]          # final cost of every model
        result.params[7]             # trained Parameters of model 7
    """
    validate_schedule(learning_rate, iterations)
    if network.output != "sigmoid":
        raise ValueError(
            f"the population engine trains sigmoid heads only, got a {network.output!r} head; "
            "train it with initlab.fit.fit"
        )
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of: {', '.join(DTYPES)}")
    check_positive_int("threads", threads, allow_none=True)
    X, Y = check_training_data(network, X, Y)
    X = np.ascontiguousarray(X)
    theta = _as_theta(network, initial_params, np.dtype(dtype))
    if theta.shape[0] == 0:
        raise ValueError("the population is empty: give at least one set of parameters")
    chosen = choose_backend(network, backend, theta.shape[0], threads)
    costs = diverged_at = None
    if chosen == "compiled":
        try:
            from initlab.engine.compiled import train_compiled
        except Exception as exc:  # numba missing or broken
            if backend == "compiled":
                raise
            warnings.warn(
                f"compiled engine unavailable ({exc.__class__.__name__}: {exc}); "
                "using the NumPy engine",
                RuntimeWarning,
                stacklevel=2,
            )
            chosen = "numpy"
        else:
            work = theta.copy()
            try:
                costs, diverged_at = train_compiled(
                    network, work, X, Y, learning_rate, iterations, threads
                )
                theta = work
            except Exception as exc:  # a compilation failure
                if backend == "compiled":
                    raise
                warnings.warn(
                    f"compiled engine failed ({exc.__class__.__name__}: {exc}); "
                    "using the NumPy engine",
                    RuntimeWarning,
                    stacklevel=2,
                )
                chosen = "numpy"
    if chosen == "numpy":
        from initlab.engine.batched import train_batched

        costs, diverged_at = train_batched(network, theta, X, Y, learning_rate, iterations)
    params = [unpack(network, theta, i) for i in range(theta.shape[0])]
    return PopulationResult(network, costs, params, diverged_at, chosen)
