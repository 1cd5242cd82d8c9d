"""Will a run fit in memory? An estimate made before anything is allocated.

Every training entry point (:func:`initlab.fit.gradient_descent`,
:func:`initlab.fit.fit`, :func:`initlab.engine.train_population`, the
experiments and the scikit-learn estimator) calls :func:`check_training` first,
and every synthetic dataset calls :func:`check_samples` before drawing, so a
size that cannot fit is refused at once with a :class:`MemoryLimitError` (a
``ValueError``) naming the parameter, its value and the largest value that
fits, instead of failing inside NumPy or swapping for hours.

The estimate counts float64 numbers (8 bytes each). For a network of layer
sizes ``n_0, ..., n_L`` with ``P = sum_l (n_{l-1} + 1) n_l`` parameters and
``S = n_0 + n_1 + ... + n_L`` units::

    bytes = 8 * (T R + 2 R P + C ((2 + s) P + 2 b S))

* ``T R``: the cost history, ``T`` updates of ``R`` runs;
* ``2 R P``: the initial and the trained parameters of every run (both are kept);
* ``C (2 + s) P``: for each of the ``C`` models trained at the same time, its
  working parameters, its gradients and ``s`` optimizer slots (0 for gd and
  sgd, 1 for momentum, 2 for adam);
* ``C 2 b S``: the pre-activations and activations of every layer for a batch
  of ``b`` samples (the forward cache and the backward pass's deltas).

Measured with ``tracemalloc`` (NumPy reports its allocations to it), the peak
of :func:`initlab.fit.fit` and of the NumPy population engine is 0.87 to 1.19
times this estimate for networks of 400 to 3000 units per layer.

Drawing a dataset of ``m`` samples with ``n`` features needs
``8 * DATA_COPIES * m (n + 1)`` bytes: the loaders, the split and the
standardization hold about :data:`DATA_COPIES` copies of the data at their peak
(3.7 measured with ``tracemalloc`` for every synthetic set).

The memory available is ``MemAvailable`` of ``/proc/meminfo`` (capped by the
cgroup's ``memory.max`` when one is set), else the physical memory
``SC_PHYS_PAGES * SC_PAGE_SIZE``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

__all__ = [
    "DATA_COPIES",
    "OPTIMIZER_SLOTS",
    "MemoryLimitError",
    "available_bytes",
    "check_samples",
    "check_training",
    "data_bytes",
    "format_bytes",
    "largest_samples",
    "parameter_count",
    "shown",
    "training_bytes",
]

#: optimizer state per parameter (``s`` in the estimate), by optimizer name
OPTIMIZER_SLOTS = {"gd": 0, "sgd": 0, "momentum": 1, "adam": 2}

#: copies of a dataset held at the peak of drawing, splitting and standardizing it
DATA_COPIES = 4
_FLOAT = 8


def shown(value: object) -> str:
    """``repr(value)``, shortened to ``9999...9999 (400 digits)`` for huge integers;
    sizes as ``100,100``."""
    if isinstance(value, tuple | list):
        return ",".join(shown(v) for v in value)
    text = repr(value)
    if isinstance(value, int) and len(text) > 30:
        digits = len(text.lstrip("-"))
        return f"{text[:6]}...{text[-4:]} ({digits} digits)"
    return text


def format_bytes(n: int) -> str:
    """``n`` bytes in B, KB, MB, GB, TB, PB or EB (powers of 1000), 3 significant digits."""
    if n >= 10**21:
        return f"{Decimal(n):.3g} B"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if value < 1000:
            return f"{value:.3g} {unit}"
        value /= 1000
    return f"{value:.3g} EB"


def _cgroup_limit() -> int | None:
    """The cgroup v2 memory limit of this process (``memory.max``), if one is set."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        return None if limit == "max" else int(limit)
    except (OSError, ValueError):
        return None


def available_bytes() -> int:
    """The memory a run may use: ``MemAvailable`` (capped by the cgroup's), else physical."""
    available = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        available = None
    if available is None:
        try:
            available = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, AttributeError):  # pragma: no cover - no sysconf
            return 2**63
    cgroup = _cgroup_limit()
    return available if cgroup is None else min(available, cgroup)


class MemoryLimitError(ValueError):
    """A size that cannot fit in memory.

    Attributes:
        parameter: the name of the parameter at fault (e.g. ``"iterations"``).
        value: its value.
        needed: the bytes the run would need.
        available: the bytes available.
        largest: the largest value of ``parameter`` that fits (0 if none does).
    """

    def __init__(
        self,
        parameter: str,
        value: object,
        needed: int,
        available: int,
        largest: int,
        *,
        low: int = 1,
        width: bool = False,
    ) -> None:
        self.parameter = parameter
        self.value = value
        self.needed = needed
        self.available = available
        self.largest = largest
        self.low = low
        self.width = width
        super().__init__(self.message(parameter))

    def message(self, name: str) -> str:
        """The message with the parameter called ``name`` (the CLI passes its option)."""
        head = (
            f"{name} {shown(self.value)} needs about {format_bytes(self.needed)} of memory, "
            f"but {format_bytes(self.available)} is available"
        )
        if self.largest < self.low:
            return f"{head}; no value of {name} fits with the other settings"
        what = "layer widths " if self.width else ""
        return f"{head}; allowed: {what}{self.low} to {self.largest}"


def parameter_count(layer_sizes: Sequence[int]) -> int:
    """``P = sum_l (n_{l-1} + 1) n_l``: the weights and biases of one model."""
    sizes = [int(n) for n in layer_sizes]
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in pairwise(sizes))


def training_bytes(
    layer_sizes: Sequence[int],
    *,
    updates: int,
    batch: int,
    runs: int = 1,
    concurrent: int = 1,
    optimizer_slots: int = 0,
) -> int:
    """``8 (T R + 2 R P + C ((2 + s) P + 2 b S))`` bytes (see the module docstring)."""
    P = parameter_count(layer_sizes)
    S = sum(int(n) for n in layer_sizes)
    T, R, C, b, s = int(updates), int(runs), int(concurrent), int(batch), int(optimizer_slots)
    return _FLOAT * (T * R + 2 * R * P + C * ((2 + s) * P + 2 * b * S))


def data_bytes(samples: int, n_features: int) -> int:
    """``8 * DATA_COPIES * m (n + 1)``: drawing, splitting and standardizing ``m`` samples."""
    return _FLOAT * DATA_COPIES * int(samples) * (int(n_features) + 1)


def _largest(fits: Callable[[int], bool], high: int) -> int:
    """The largest ``n`` in ``[0, high]`` with ``fits(n)`` (``fits`` is monotone decreasing)."""
    low = 0
    if fits(high):
        return high
    while high - low > 1:  # fits(low) or low == 0; not fits(high)
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low if low > 0 and fits(low) else 0


def largest_samples(n_features: int, available: int | None = None) -> int:
    """The most samples of ``n_features`` whose data fit in ``available`` bytes."""
    available = available_bytes() if available is None else available
    return available // (_FLOAT * DATA_COPIES * (int(n_features) + 1))


def check_samples(
    parameter: str, samples: int, n_features: int, *, low: int = 1, available: int | None = None
) -> None:
    """Raise :class:`MemoryLimitError` unless ``samples`` samples of ``n_features`` fit."""
    available = available_bytes() if available is None else available
    needed = data_bytes(samples, n_features)
    if needed > available:
        largest = largest_samples(n_features, available)
        raise MemoryLimitError(parameter, samples, needed, available, largest, low=low)


def check_training(
    layer_sizes: Sequence[int],
    *,
    updates: int,
    batch: int,
    runs: int = 1,
    concurrent: int = 1,
    optimizer_slots: int = 0,
    updates_parameter: tuple[str, int, int] | None = None,
    width_parameter: tuple[str, object] = ("network", None),
    runs_parameter: tuple[str, object] | None = None,
    available: int | None = None,
) -> int:
    """Raise :class:`MemoryLimitError` unless :func:`training_bytes` fits; return the estimate.

    When it does not fit, the error blames the larger part of the estimate:

    * the cost history (``T R``): ``updates_parameter = (name, value, per_unit)``,
      the parameter counting the updates (``updates = value * per_unit``, e.g.
      ``("epochs", 20, 8)`` for 20 epochs of 8 minibatches; default
      ``("iterations", updates, 1)``); its largest value that fits is given;
      when not even one update fits and ``runs_parameter = (name, value)`` is given
      (e.g. ``("models", 10**7)``), the number of runs instead, with the most that fit;
    * otherwise the network's size: ``width_parameter = (name, value)``, e.g.
      ``("hidden", (100000, 100000))``; the largest hidden width that fits
      (every hidden layer capped at it) is given.
    """
    available = available_bytes() if available is None else available
    sizes = [int(n) for n in layer_sizes]
    common = {"batch": batch, "runs": runs, "concurrent": concurrent}
    common["optimizer_slots"] = optimizer_slots
    needed = training_bytes(sizes, updates=updates, **common)
    if needed <= available:
        return needed
    history = _FLOAT * int(updates) * int(runs)
    name, value, per_unit = updates_parameter or ("iterations", updates, 1)
    if history >= needed - history:
        per_unit = max(1, int(per_unit))
        largest = _largest(
            lambda v: training_bytes(sizes, updates=v * per_unit, **common) <= available,
            max(int(value), 1),
        )
        if largest < 1 and runs_parameter is not None:  # too many runs for even one update
            runs_name, runs_value = runs_parameter

            def fits(r: int) -> bool:
                at_once = {**common, "runs": r, "concurrent": min(int(concurrent), r)}
                return training_bytes(sizes, updates=updates, **at_once) <= available

            raise MemoryLimitError(
                runs_name, runs_value, needed, available, _largest(fits, max(int(runs), 1))
            )
        raise MemoryLimitError(name, value, needed, available, largest)
    name, value = width_parameter
    widest = max(sizes[1:-1], default=0)

    def capped(width: int) -> list[int]:
        return [sizes[0], *(min(n, width) for n in sizes[1:-1]), sizes[-1]]

    largest = _largest(
        lambda w: training_bytes(capped(w), updates=updates, **common) <= available,
        widest,
    )
    shown_value = tuple(sizes) if value is None else value
    raise MemoryLimitError(name, shown_value, needed, available, largest, width=True)
