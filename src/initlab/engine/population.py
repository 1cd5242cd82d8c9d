"""Training a population of networks at once: the public entry point."""

from __future__ import annotations

import copy
import numbers
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from initlab import memory
from initlab.activations import activation_factory
from initlab.checks import as_rng, check_positive_int, check_real, check_training_data
from initlab.engine.batched import PopulationCallback
from initlab.engine.codes import HEADS as KERNEL_HEADS
from initlab.engine.codes import KERNEL_ACTIVATIONS
from initlab.engine.layout import Layout, pack, unpack
from initlab.engine.snapshots import check_snapshots
from initlab.fit import History, as_optimizer, resolve_schedule
from initlab.memory import OPTIMIZER_SLOTS, check_training
from initlab.network import Network, Parameters
from initlab.optimizers import OPTIMIZERS, GradientDescent, Optimizer
from initlab.spec import check_values, declared_params

__all__ = [
    "BACKENDS",
    "WIDE_LAYER",
    "WIDE_LAYER_FEW_MODELS",
    "PopulationResult",
    "choose_backend",
    "supports",
    "train_population",
]

#: ``"auto"`` picks ``"compiled"`` when it can, else ``"numpy"``
BACKENDS = ("auto", "compiled", "numpy")

# Where the kernel stops winning, measured on a loaded 2-core AVX-512 machine, both
# backends in one process (time compiled / time numpy, best of two):
#   full-batch gd, [2, w, w/2, 1] ReLU, 300 samples:
#     w =      64    128    256    512   1024
#     M = 1  0.74   0.84   ~1     0.83   1.34   (noisy around 1 from 128 on)
#     M = 10 0.27   0.49   0.43   0.22   0.57
#   Adam on minibatches of 32, [64, w, 10] softmax, 1437 samples:
#     w =      64    256   1024
#     M = 1  0.10   0.27   0.69
#     M = 10 0.42   0.45   0.45
#: under ``"auto"``, hidden layers wider than this go to the batched NumPy (BLAS) path
#: when the population has at least as many models as there are threads (the
#: kernel then keeps every core busy and wins up to about this width), or trains on
#: minibatches (BLAS pays its overhead per minibatch: the kernel wins at any width
#: measured) ...
WIDE_LAYER = 1024
#: ... and wider than this for full batch with fewer models than threads (BLAS then
#: uses the idle cores; the two are about even from 128 to 512 units)
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
        snapshot_at: the updates at which snapshots were taken (sorted).
        snapshot_thetas: ``(K, M, P)``: every model's stacked parameters before
            each update of ``snapshot_at`` (see :mod:`initlab.engine.snapshots`).
    """

    network: Network
    costs: np.ndarray
    params: list[Parameters]
    diverged_at: np.ndarray
    backend: str
    snapshot_at: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    snapshot_thetas: np.ndarray | None = None

    def snapshot(self, i: int, k: int) -> Parameters:
        """Model ``i``'s parameters before update ``snapshot_at[k]``."""
        if self.snapshot_thetas is None or not 0 <= k < len(self.snapshot_at):
            raise IndexError(f"no snapshot {k}; there are {len(self.snapshot_at)}")
        return unpack(self.network, self.snapshot_thetas[k], i)

    @property
    def snapshots(self) -> list[list[Parameters]]:
        """``snapshots[i][k]``: model ``i``'s parameters before update ``snapshot_at[k]``."""
        return [
            [self.snapshot(i, k) for k in range(len(self.snapshot_at))]
            for i in range(len(self.params))
        ]

    def __len__(self) -> int:
        return len(self.params)

    def history(self, i: int) -> History:
        """Model ``i``'s :class:`~initlab.fit.History`, as the reference loop returns it."""
        d = int(self.diverged_at[i])
        if d < 0:
            return History(self.costs[i].copy())
        return History(self.costs[i, : d + 1].copy(), diverged_at=d)

    @property
    def diverged(self) -> np.ndarray:
        """``(M,)`` bool: which models diverged."""
        return self.diverged_at >= 0


def supports(network: Network, optimizer: Optimizer, full_batch: bool = True) -> list[str]:
    """Why the compiled kernel cannot train ``network`` with ``optimizer``: an empty list
    when it can.

    The kernel trains every optimizer of :data:`initlab.optimizers.OPTIMIZERS`
    (gradient descent, minibatch SGD, momentum, Adam; L2 weight decay), full batch or
    minibatches, on a sigmoid or softmax head, with every activation of the catalogue;
    what remains is an optimizer class of one's own (its ``direction`` is Python),
    which the batched NumPy engine trains. ``full_batch`` is kept for callers that
    pass it; minibatches no longer matter.

    Raises:
        ValueError: for the regression head ``"identity"``, which neither engine trains yet
            (train it with :func:`initlab.fit.fit`).
    """
    if not network.head.classifier:
        raise ValueError(
            f"the population engine does not train a network with an {network.output!r} "
            "(regression) output; train it with initlab.fit.fit"
        )
    reasons = []
    if network.output not in KERNEL_HEADS:
        reasons.append(f"a {network.output!r} head")
    unknown = [a for a in network.activations if _activation_base(a) not in KERNEL_ACTIVATIONS]
    if unknown:
        reasons.append(f"activation(s) {unknown} (it knows: {', '.join(KERNEL_ACTIVATIONS)})")
    if OPTIMIZERS.get(optimizer.name) is not type(optimizer):
        reasons.append(
            f"optimizer {type(optimizer).__name__} {optimizer.name!r} (it knows: "
            f"{', '.join(OPTIMIZERS)})"
        )
    return reasons


def _activation_base(spec: str) -> str:
    """The registered name of an activation spec: ``leaky_relu(slope=0.2)`` -> ``leaky_relu``."""
    try:
        return activation_factory(spec).__name__
    except ValueError:
        return spec


def choose_backend(
    network: Network,
    backend: str = "auto",
    models: int = 1,
    threads: int | None = None,
    optimizer: Optimizer | None = None,
    full_batch: bool = True,
    one_rate: bool = True,
) -> str:
    """The backend :func:`train_population` uses for ``models`` networks like ``network``.

    ``"auto"`` picks the compiled kernel when it :func:`supports` the network and
    the optimizer (default: gradient descent) and no hidden layer is wider than
    :data:`WIDE_LAYER` (:data:`WIDE_LAYER_FEW_MODELS` for full batch with fewer
    models than ``threads``, default: the usable cores); otherwise the batched NumPy
    engine. ``"compiled"`` for what the kernel does not support is a ``ValueError``
    naming it. (``one_rate`` no longer changes the choice: the kernel trains one
    learning rate per model.)
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    reasons = supports(network, optimizer or GradientDescent(), full_batch)
    if backend == "compiled" and reasons:
        raise ValueError(
            f"the compiled backend does not support {'; '.join(reasons)} "
            "(use backend='numpy' or 'auto')"
        )
    if backend != "auto":
        return backend
    threads = usable_cores() if threads is None else threads
    limit = WIDE_LAYER if models >= threads or not full_batch else WIDE_LAYER_FEW_MODELS
    if reasons or max(network.layer_sizes[1:-1], default=0) > limit:
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


def _check_hyper_parameters(optimizer: Optimizer) -> None:
    """Every declared hyper-parameter of ``optimizer`` in its range (checked when it was
    made; checked again here, as a field may have been set since)."""
    declared = declared_params(type(optimizer))
    check_values(optimizer.name, declared, {key: getattr(optimizer, key) for key in declared})


def _learning_rates(value: object, models: int) -> np.ndarray:
    """One positive finite learning rate per model, from a number or a sequence."""
    if np.ndim(value) == 0:
        rate = check_real("learning_rate", value)
        rates = np.full(models, rate)
    else:
        rates = np.asarray(value)
        if rates.shape != (models,) or rates.dtype.kind not in "iuf":
            raise ValueError(
                f"learning_rate must be a number or one per model ({models}), got shape "
                f"{rates.shape} of {rates.dtype}"
            )
        rates = rates.astype(np.float64)
    bad = rates[~(np.isfinite(rates) & (rates > 0))]
    if bad.size:
        raise ValueError(f"learning_rate must be a positive finite number, got {bad[0].item()!r}")
    return rates


def _model_rngs(rngs: Sequence, models: int, full_batch: bool) -> list:
    """One generator per model from a list or tuple of generators or seeds (``None``
    allowed for full batch, which draws nothing). One generator object given for two
    models is refused: ``fit`` would draw the second model's orders where the first's
    end, a population draws each model's from its own generator."""
    if len(rngs) != models:
        raise ValueError(
            f"rng must be one generator or seed, or one per model ({models}), got a "
            f"{type(rngs).__name__} of {len(rngs)}"
        )
    first: dict[int, int] = {}
    for i, r in enumerate(rngs):
        if isinstance(r, np.random.Generator | np.random.RandomState):
            j = first.setdefault(id(r), i)
            if j != i:
                raise ValueError(
                    f"rng[{i}] is the same generator object as rng[{j}]: give every model "
                    "its own generator or seed (e.g. from SeedSequence.spawn), or one rng "
                    "for all models"
                )
    return [
        None if r is None and full_batch else as_rng(r, f"rng[{i}]") for i, r in enumerate(rngs)
    ]


#: per-model minibatch orders may take at most this fraction of the available memory
ORDERS_MEMORY_FRACTION = 0.25


def check_orders(m: int, models: int = 1) -> None:
    """Refuse one minibatch order per model (``models`` > 1) when a single epoch of them,
    ``4 m`` bytes each, would take more than :data:`ORDERS_MEMORY_FRACTION` of the
    available memory. The compiled engine draws the orders span by span (see
    :data:`initlab.engine.compiled.ORDERS_SPAN_BYTES`), never every epoch's at once."""
    needed = 4 * m * models
    limit = int(ORDERS_MEMORY_FRACTION * memory.available_bytes())
    if models > 1 and needed > limit:
        raise ValueError(
            f"one minibatch order per model needs {needed / 2**30:.1f} GiB per epoch "
            f"({models} models x {m} samples); give one rng for every model, or train "
            "fewer models at once"
        )


class _Orders:
    """The permutations ``fit`` draws, one per epoch, in its order, drawn epoch by epoch
    as the compiled engine asks for them (``orders(lo, hi)``: ``(sets, hi - lo, m)``,
    ranges that move forward): from one generator (``sets`` 1) or a list of one per
    model. Copies are drawn from: the caller's generators stay as they were (for a
    fallback to the NumPy engine) until :func:`_advance` hands them the copies' states."""

    def __init__(self, rng, m: int) -> None:  # type: ignore[no-untyped-def]
        sources = rng if isinstance(rng, list) else [rng]
        check_orders(m, len(sources))
        self.sets = len(sources)
        self.m = m
        self.drawing = [copy.deepcopy(source) for source in sources]
        self.drawn = 0  # epochs drawn so far
        self.last = np.empty((self.sets, m), dtype=np.int32)  # epoch drawn - 1's

    def __call__(self, lo: int, hi: int) -> np.ndarray:
        out = np.empty((self.sets, hi - lo, self.m), dtype=np.int32)
        for e in range(lo, hi):
            if e == self.drawn:
                for k, drawing in enumerate(self.drawing):
                    self.last[k] = drawing.permutation(self.m)
                self.drawn += 1
            elif e != self.drawn - 1:
                raise RuntimeError(f"epoch {e} asked for after epoch {self.drawn - 1}")
            out[:, e - lo] = self.last
        return out

    def finish(self, epochs: int) -> list:
        """The generators after every one of ``epochs`` epochs is drawn."""
        if self.drawn < epochs:
            self(self.drawn, epochs)
        return self.drawing


def _advance(rng, drawn: list) -> None:  # type: ignore[no-untyped-def]
    """Leave the caller's generators where ``fit`` (and the NumPy engine) leaves them:
    after the permutations drawn, as ``drawn`` (their copies) are."""
    for source, drawing in zip(rng if isinstance(rng, list) else [rng], drawn, strict=True):
        if isinstance(source, np.random.Generator):
            source.bit_generator.state = drawing.bit_generator.state
        else:
            source.set_state(drawing.get_state())


class _ReportFailed(Exception):
    """``on_report`` raised (the exception is the cause): not a failure of the engine."""


def _unpacking(
    network: Network, on_snapshot: Callable[[int, list[Parameters]], None]
) -> PopulationCallback:
    """``on_snapshot`` called with every model's :class:`Parameters` instead of the stack."""

    def call(k: int, thetas: np.ndarray) -> None:
        on_snapshot(k, [unpack(network, thetas, i) for i in range(thetas.shape[0])])

    return call


def _reporting(on_report: PopulationCallback) -> PopulationCallback:
    def report(update: int, costs: np.ndarray) -> None:
        try:
            on_report(update, costs)
        except Exception as exc:
            raise _ReportFailed from exc

    return report


def train_population(
    network: Network,
    initial_params: Sequence[Parameters] | np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    learning_rate: float | Sequence[float] | np.ndarray | None = None,
    iterations: int | None = None,
    epochs: int | None = None,
    optimizer: Optimizer | str | None = None,
    batch_size: int | None = None,
    rng: np.random.Generator | np.random.RandomState | int | Sequence | None = None,
    backend: str = "auto",
    dtype: str = "float64",
    threads: int | None = None,
    report_every: int = 0,
    on_report: PopulationCallback | None = None,
    snapshots: Sequence[int] | np.ndarray | None = None,
    on_snapshot: Callable[[int, list[Parameters]], None] | None = None,
) -> PopulationResult:
    """Train ``M`` networks of one architecture on the same data at once.

    Each model starts from its own parameters and is trained exactly as
    :func:`initlab.fit.fit` trains it alone (with the default full-batch
    gradient descent, as the reference loop :func:`initlab.fit.gradient_descent`
    does): the same optimizer (each model with its own state), the same
    minibatches in the same order (the columns shuffled by ``rng`` at the start of
    every epoch, one order for all models), the cost recorded *before* each
    update, a model stopping at its first non-finite cost (its parameters are
    the ones at which that cost was measured). Models are independent: one that
    diverges does not disturb the others.

    Args:
        network: the common architecture (sigmoid or softmax head).
        initial_params: one :class:`~initlab.network.Parameters` per model, or
            an array ``(M, P)`` of stacked parameters (see
            :mod:`initlab.engine.layout`). Not modified.
        X: inputs, shape ``(n_0, m)``; Y: integer labels, shape ``(1, m)``
            (checked by :func:`initlab.checks.check_training_data`).
        learning_rate: a positive number, or one per model; default: the
            optimizer's.
        iterations, epochs: exactly one: the number of updates, or of passes over
            the data (``ceil(m / batch_size)`` updates each).
        optimizer: an :class:`~initlab.optimizers.Optimizer` or a spec
            (``"adam(beta1=0.8)"``); default ``"gd"``. Not modified: each
            population steps its own copy.
        batch_size: minibatch size (default: the optimizer's, as for ``fit``).
        rng: shuffles the minibatches (a ``Generator``, ``RandomState`` or int
            seed; one order for every model), or a list or tuple of one per model
            (model ``i`` shuffled as ``fit(..., rng=rng[i])`` would shuffle it; one
            generator object for two models is refused); required with minibatches.
            Generators are left where ``fit`` leaves them.
        backend: ``"compiled"`` (the numba kernel: samples vectorized, models
            spread over threads; every optimizer, head and activation of the
            catalogue), ``"numpy"`` (batched ``np.matmul``
            over the stack: everything) or ``"auto"`` (see
            :func:`choose_backend`). If numba is missing or fails, ``"auto"``
            falls back to ``"numpy"`` with a ``RuntimeWarning``.
        dtype: ``"float64"`` (default) or ``"float32"`` (parameters and
            activations in single precision). Measured on the course ``he`` run
            (compiled): costs within 3.3e-6 of float64 over 15000 iterations, same
            accuracies; chaotic runs (the course ``random``) drift apart as they
            do between any two platforms. Use it to study precision, not to
            reproduce published numbers.
        threads: worker threads for the compiled backend (default: usable cores).
        report_every, on_report: ``on_report(update, costs)`` with every model's
            cost is called every ``report_every`` updates, as training runs (the
            compiled backend trains in spans of about 0.2 s and reports after each
            span; the same bits as without reports).
            An exception raised by ``on_report`` stops training and propagates.
        snapshots: updates (``0`` to the number of updates) at which to keep every
            model's parameters, e.g. :func:`initlab.engine.snapshots.log_spaced`;
            read them with :meth:`PopulationResult.snapshot`.
        on_snapshot: ``on_snapshot(k, params)`` with every model's parameters before
            update ``snapshot_at[k]``, while training runs, as soon as every model
            is past that update (the compiled backend: after the span of updates
            that passes it, see ``report_every``). An exception raised by it stops
            training and propagates.

    Returns:
        a :class:`PopulationResult`: per model, the cost at every update, the
        final parameters and the divergence update.

    Differences from ``fit`` are rounding only: sums run in another order (and,
    in the kernel, ``exp`` is a vectorized polynomial and the softplus terms are
    summed as the log of a product), so costs agree to about 1e-15 relative
    (tested to 1e-10) as long as the run is not chaotic.

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
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of: {', '.join(DTYPES)}")
    optimizer = GradientDescent() if optimizer is None else as_optimizer(optimizer)
    _check_hyper_parameters(optimizer)
    check_positive_int("threads", threads, allow_none=True)
    if (
        isinstance(report_every, bool | np.bool_)
        or not isinstance(report_every, numbers.Integral)
        or report_every < 0
    ):
        raise ValueError(f"report_every must be a non-negative integer, got {report_every!r}")
    report_every = int(report_every)
    if on_report is not None and not callable(on_report):
        raise TypeError(
            f"on_report must be a callable on_report(update, costs), got {on_report!r} "
            f"({type(on_report).__name__})"
        )
    X, Y = check_training_data(network, X, Y)
    X = np.ascontiguousarray(X)
    m = X.shape[1]
    per_model = isinstance(rng, list | tuple)
    schedule = resolve_schedule(
        optimizer, m, iterations=iterations, epochs=epochs, batch_size=batch_size,
        rng=0 if per_model else rng,  # a per-model list is checked below, item by item
    )  # fmt: skip
    batch, updates = schedule.batch, schedule.updates
    theta = _as_theta(network, initial_params, np.dtype(dtype))
    M = theta.shape[0]
    if M == 0:
        raise ValueError("the population is empty: give at least one set of parameters")
    rng = _model_rngs(rng, M, batch == m) if per_model else schedule.rng
    if batch == m:
        rng = None
    rates = _learning_rates(optimizer.learning_rate if learning_rate is None else learning_rate, M)
    one_rate = bool((rates == rates[0]).all())
    check_training(
        network.layer_sizes, updates=updates, batch=batch, runs=M, concurrent=M,
        optimizer_slots=OPTIMIZER_SLOTS.get(optimizer.name, 2),
        updates_parameter=schedule.counted,
        runs_parameter=("models", M),
    )  # fmt: skip
    chosen = choose_backend(network, backend, M, threads, optimizer, batch == m, one_rate)
    at = check_snapshots(snapshots, updates)
    costs = diverged_at = snaps = None
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
            orders = None
            if batch < m:  # the permutations fit draws, one per epoch, in its order
                orders = _Orders(rng, m)
            try:
                costs, diverged_at, snaps = train_compiled(
                    network, work, X, Y, optimizer, rates, updates, batch, orders, threads, at,
                    report_every, None if on_report is None else _reporting(on_report),
                    None if on_snapshot is None else _reporting(_unpacking(network, on_snapshot)),
                )  # fmt: skip
                theta = work
                if orders is not None:
                    _advance(rng, orders.finish(-(-updates // schedule.per_epoch)))
            except _ReportFailed as failed:  # the caller's own exception, not the engine's
                raise failed.__cause__ from None
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

        costs, diverged_at, snaps = train_batched(
            network, theta, X, Y, optimizer, rates, updates, batch, rng, report_every, on_report,
            at, None if on_snapshot is None else _unpacking(network, on_snapshot),
        )  # fmt: skip
    params = [unpack(network, theta, i) for i in range(M)]
    return PopulationResult(network, costs, params, diverged_at, chosen, at, snaps)
