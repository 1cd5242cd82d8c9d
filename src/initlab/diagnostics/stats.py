"""Per-layer statistics of a network on a batch: forward signals, backward signals, gradients.

For layer ``l = 1..L`` of a network on a batch ``X`` of ``m`` columns, with
``z[l] = W[l] a[l-1] + b[l]``, ``a[l] = g_l(z[l])`` (``a[L]`` is the head's
output: ``sigmoid(z[L])``, ``softmax(z[L])`` or, regression, ``z[L]``) and
``delta[l] = dJ/dz[l]``:

==================== ==========================================================
statistic            definition (over all ``n_l x m`` entries unless stated)
==================== ==========================================================
``z_mean``           mean of ``z[l]``
``z_std``            standard deviation of ``z[l]`` (population, ``ddof=0``)
``z_second_moment``  ``mean(z[l]^2)``: the mean-field ``q^l``
                     (:mod:`initlab.diagnostics.meanfield`)
``a_mean``           mean of ``a[l]``
``a_std``            standard deviation of ``a[l]``
``dead_fraction``    fraction of the ``n_l`` units whose activation is exactly 0
                     for every sample; only for activations in
                     :data:`DEAD_ACTIVATIONS` (ReLU), else NaN
``saturated_fraction`` fraction of the ``n_l x m`` activations in saturation
                     by the rule of :data:`SATURATION_RULES` (tanh:
                     ``|a| > 0.97``; sigmoid, hidden or head:
                     ``a < 0.03 or a > 0.97``), NaN for other activations
``distinct_units``   number of distinct units, a unit being its row of
                     ``W[l]`` with its bias (exact equality): fewer than
                     ``n_l`` means identical units, which receive identical
                     gradients and stay identical (symmetry not broken)
``grad_w_norm``      Frobenius norm ``||dJ/dW[l]||``
``grad_w_std``       standard deviation of the entries of ``dJ/dW[l]``
``signal_norm``      Frobenius norm ``||delta[l]||`` of the backward signal
``signal_std``       standard deviation of the entries of ``delta[l]``
``update_ratio``     ``learning_rate * ||dJ/dW[l]|| / ||W[l]||``: the relative
                     size of one gradient-descent step, about 1e-3 in healthy
                     training (Karpathy, CS231n notes); NaN without a learning
                     rate or when ``||W[l]|| = 0``
==================== ==========================================================

``delta[l]`` is the derivative of the *mean* cost, so it carries the batch's
``1/m``: ``m delta[l]`` is the per-sample signal. The gradients are those of
:func:`initlab.network.loss_and_gradients`; without labels ``Y`` the backward
statistics are NaN.

Every list in :class:`NetworkStatistics` is layer-indexed like
:class:`~initlab.network.Parameters`: entry ``l`` is layer ``l + 1``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from initlab.activations import get_activation
from initlab.checks import check_inputs, check_parameters, check_training_data
from initlab.diagnostics.backprop import backward_pass
from initlab.network import Network, Parameters, forward
from initlab.spec import unknown_name_message

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEAD_ACTIVATIONS",
    "LAYER_STATISTICS",
    "SATURATION_RULES",
    "NetworkStatistics",
    "SaturationRule",
    "check_statistic",
    "network_statistics",
    "to_frame",
]


class SaturationRule(NamedTuple):
    """When an activation value counts as saturated (its derivative is nearly 0)."""

    description: str
    test: Callable[[np.ndarray], np.ndarray]


#: Saturation per activation (hidden activations and the sigmoid head): tanh's
#: derivative ``1 - a^2`` is below 0.06 beyond 0.97, the sigmoid's ``a (1 - a)``
#: below 0.03 outside [0.03, 0.97].
SATURATION_RULES: dict[str, SaturationRule] = {
    "tanh": SaturationRule("|a| > 0.97", lambda a: np.abs(a) > 0.97),
    "sigmoid": SaturationRule("a outside [0.03, 0.97]", lambda a: (a < 0.03) | (a > 0.97)),
}

#: Activations whose units can be dead: output exactly 0, derivative 0 (ReLU).
DEAD_ACTIVATIONS: tuple[str, ...] = ("relu",)

#: The per-layer statistics, in the order of :class:`NetworkStatistics`.
LAYER_STATISTICS: tuple[str, ...] = (
    "z_mean",
    "z_std",
    "z_second_moment",
    "a_mean",
    "a_std",
    "dead_fraction",
    "saturated_fraction",
    "distinct_units",
    "grad_w_norm",
    "grad_w_std",
    "signal_norm",
    "signal_std",
    "update_ratio",
)


@dataclass(frozen=True)
class NetworkStatistics:
    """Per-layer statistics (lists indexed by layer, entry ``l`` is layer ``l + 1``).

    ``activations[l]`` names layer ``l + 1``'s activation (the head, ``"sigmoid"``,
    ``"softmax"`` or ``"identity"``, for the last layer); ``units[l]`` its width; ``loss`` is
    the cost on the batch and ``labelled`` whether labels were given (without
    them the loss and the backward statistics are NaN). See the module
    docstring for each statistic.
    """

    activations: list[str]
    units: list[int]
    labelled: bool
    loss: float
    z_mean: list[float]
    z_std: list[float]
    z_second_moment: list[float]
    a_mean: list[float]
    a_std: list[float]
    dead_fraction: list[float]
    saturated_fraction: list[float]
    distinct_units: list[float]
    grad_w_norm: list[float]
    grad_w_std: list[float]
    signal_norm: list[float]
    signal_std: list[float]
    update_ratio: list[float]

    @property
    def depth(self) -> int:
        return len(self.units)

    def statistic(self, name: str) -> list[float]:
        """The per-layer list of statistic ``name`` (one of :data:`LAYER_STATISTICS`)."""
        return getattr(self, check_statistic(name))

    def rows(self) -> Iterable[tuple[int | None, str, float]]:
        """``(layer, statistic, value)`` with layers numbered from 1; the loss has layer None."""
        if self.labelled:
            yield None, "loss", self.loss
        for name in LAYER_STATISTICS:
            for l, value in enumerate(getattr(self, name), start=1):
                yield l, name, value


def check_statistic(name: str) -> str:
    """``name`` if it is one of :data:`LAYER_STATISTICS`.

    Raises:
        ValueError: naming it, with the closest statistic (did you mean ...?) and the choices.
    """
    if name not in LAYER_STATISTICS:
        raise ValueError(unknown_name_message("statistic", str(name), LAYER_STATISTICS))
    return name


def _base_name(activation: str, head: bool) -> str:
    """The name that keys the rule tables: the head's name, or the activation's without params."""
    return activation if head else get_activation(activation).name.split("(")[0]


#: a fixed direction to project each unit's row on: equal rows project to equal numbers
_PROBE = np.random.default_rng(20170101).standard_normal(4096)


def _distinct_units(W: np.ndarray, b: np.ndarray) -> float:
    """The number of distinct rows of ``[W b]``, exactly.

    Equal rows have bitwise equal projections on any vector (the same products summed
    in the same order), so when the projections on :data:`_PROBE` are all distinct (every
    random initialization) so are the rows, at the cost of one matrix-vector product;
    otherwise (identical units, non-finite values) the rows are compared by sorting.
    """
    rows = np.hstack([W, b])
    if rows.shape[1] <= _PROBE.size:
        projection = rows @ _PROBE[: rows.shape[1]]
        if np.isfinite(projection).all() and np.unique(projection).size == rows.shape[0]:
            return float(rows.shape[0])
    return float(np.unique(rows, axis=0).shape[0])


def _update_ratio(learning_rate: float | None, grad: np.ndarray, W: np.ndarray) -> float:
    weight_norm = float(np.linalg.norm(W))
    if learning_rate is None or weight_norm == 0.0:
        return float("nan")
    return learning_rate * float(np.linalg.norm(grad)) / weight_norm


def _check_learning_rate(learning_rate: float | None) -> float | None:
    if learning_rate is None:
        return None
    if (
        isinstance(learning_rate, bool)
        or not isinstance(learning_rate, int | float | np.integer | np.floating)
        or not np.isfinite(learning_rate)
        or learning_rate <= 0
    ):
        raise ValueError(f"learning_rate must be a positive finite number, got {learning_rate!r}")
    return float(learning_rate)


def _check_batch(
    network: Network, X: np.ndarray, Y: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """``X`` (and ``Y``) as :func:`initlab.checks.check_training_data` checks training data."""
    if Y is not None:
        return check_training_data(network, X, Y)
    return check_inputs(network, X), None


def network_statistics(
    network: Network,
    params: Parameters,
    X: np.ndarray,
    Y: np.ndarray | None = None,
    *,
    learning_rate: float | None = None,
) -> NetworkStatistics:
    """Per-layer statistics of ``network`` at ``params`` on the batch ``X`` (shape ``(n_0, m)``).

    One forward pass (:func:`initlab.network.forward`) and, given labels ``Y``
    (shape ``(1, m)``), one backward pass; ``learning_rate`` gives the
    update-to-data ratio. Works on any snapshot of the parameters.

    Raises:
        ValueError: for a batch or labels that :func:`initlab.checks.check_training_data`
            refuses (wrong shape, non-finite inputs, labels outside the head's classes)
            or a bad learning rate, and ``params`` that do not fit ``network``
            (:func:`initlab.checks.check_parameters`).
    """
    learning_rate = _check_learning_rate(learning_rate)
    X, Y = _check_batch(network, X, Y)
    check_parameters(network, params)
    with np.errstate(over="ignore", invalid="ignore"):
        cache = forward(network, params, X)
        logits = cache.logits
        head = network.head.probabilities(logits)
        outputs = [*cache.activations[1:], head]
        names = [*network.activations, network.output]
        nan = float("nan")
        depth = network.depth
        if Y is not None:
            result = backward_pass(network, params, cache, Y)
            loss = result.cost
            grads, signals = result.gradients.weights, result.signals
        else:
            loss, grads, signals = nan, None, None
        values: dict[str, list[float]] = {name: [] for name in LAYER_STATISTICS}
        for l in range(depth):
            z, a, name = (
                cache.preactivations[l],
                outputs[l],
                _base_name(names[l], head=l == depth - 1),
            )
            values["z_mean"].append(float(z.mean()))
            values["z_std"].append(float(z.std()))
            values["z_second_moment"].append(float(np.mean(z * z)))
            values["a_mean"].append(float(a.mean()))
            values["a_std"].append(float(a.std()))
            dead = float(np.mean(np.all(a == 0.0, axis=1))) if name in DEAD_ACTIVATIONS else nan
            values["dead_fraction"].append(dead)
            rule = SATURATION_RULES.get(name)
            values["saturated_fraction"].append(nan if rule is None else float(rule.test(a).mean()))
            values["distinct_units"].append(_distinct_units(params.weights[l], params.biases[l]))
            if grads is None or signals is None:
                for key in ("grad_w_norm", "grad_w_std", "signal_norm", "signal_std"):
                    values[key].append(nan)
                values["update_ratio"].append(nan)
                continue
            values["grad_w_norm"].append(float(np.linalg.norm(grads[l])))
            values["grad_w_std"].append(float(grads[l].std()))
            values["signal_norm"].append(float(np.linalg.norm(signals[l])))
            values["signal_std"].append(float(signals[l].std()))
            values["update_ratio"].append(_update_ratio(learning_rate, grads[l], params.weights[l]))
    return NetworkStatistics(
        activations=names,
        units=list(network.layer_sizes[1:]),
        labelled=Y is not None,
        loss=float(loss),
        **values,
    )


def to_frame(
    stats: NetworkStatistics | Iterable[tuple[str, int, NetworkStatistics]],
    *,
    run: str = "",
    iteration: int = 0,
) -> pd.DataFrame:
    """A tidy DataFrame: one row per run x iteration x layer x statistic.

    Columns ``run`` (str), ``iteration`` (int), ``layer`` (nullable Int64,
    numbered from 1; ``<NA>`` for the network's ``loss``, present given labels), ``statistic`` (str)
    and ``value`` (float). ``stats`` is one record (labelled ``run`` and
    ``iteration``) or an iterable of ``(run, iteration, record)`` triples.
    """
    import pandas as pd

    entries = [(run, iteration, stats)] if isinstance(stats, NetworkStatistics) else stats
    records = []
    for run_name, it, record in entries:
        if not isinstance(record, NetworkStatistics):
            raise TypeError(
                f"to_frame takes NetworkStatistics records, got {type(record).__name__}"
            )
        for layer, statistic, value in record.rows():
            records.append((str(run_name), int(it), layer, statistic, float(value)))
    frame = pd.DataFrame(records, columns=["run", "iteration", "layer", "statistic", "value"])
    frame["layer"] = frame["layer"].astype("Int64")
    frame["iteration"] = frame["iteration"].astype("int64")
    return frame
