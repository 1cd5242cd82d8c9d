"""One network at initialization, once per initializer: per-layer statistics, flags, theory.

For every initializer of a :class:`~initlab.experiments.train.TrainConfig` the
network's starting parameters are drawn exactly as :func:`initlab.experiments.train.run_train`
draws them (same data, split and seed), and on the training set (its first
:data:`~initlab.runs.STATISTICS_SAMPLES` samples,
:func:`~initlab.runs.statistics_batch`) this module measures
:func:`initlab.diagnostics.network_statistics`, raises
:func:`initlab.diagnostics.diagnose`'s flags and, where mean-field theory applies,
predicts the per-layer second moment of the pre-activations
(:func:`initlab.diagnostics.predicted_preactivation_variances`):

* the weights come from a variance-scaling initializer (``he``, ``he_normal``,
  ``glorot_*``, ``lecun_*``, ``variance_scaling(...)``): ``Var W[l] = v_l``;
* the biases have mean 0 and one variance ``sigma_b^2`` in every layer (``zeros``,
  ``normal(std=s)``, ...), and are not drawn from the layer's fans (``torch_linear``);

then ``q^1 = v_1 n_0 E[x^2] + sigma_b^2`` with ``E[x^2]`` the mean of ``x^2`` over
the batch, ``q^{l+1} = v_{l+1} n_l E[phi_l(sqrt(q^l) z)^2] + sigma_b^2``, and the
theory's pre-activations have mean 0, so their predicted standard deviation is
``sqrt(q^l)``: the number to hold against the measured ``std(z[l])``. The theory is
that of infinite width; at width ``n`` the measured values scatter about it by
about ``1 / sqrt(n)`` relative per layer.

With ``snapshots`` the networks are then trained as ``initlab train`` trains them
(the configuration's optimizer, learning rate, batch size and updates, the same
minibatch order; all initializers at once on :func:`initlab.engine.train_population`)
and the statistics, flags and per-layer output histograms are computed again, on the
same batch, from the parameters *before* each snapshot update (``updates`` itself: the final
parameters); an ``int`` asks for that many log-spaced updates
(:func:`initlab.engine.log_spaced`).

The library returns data (:class:`DiagnoseResult`, :func:`diagnose_to_dict`); the
``initlab diagnose`` command prints it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from initlab.diagnostics import (
    Flag,
    NetworkStatistics,
    diagnose,
    network_statistics,
    predicted_preactivation_variances,
)
from initlab.diagnostics.histograms import LayerHistogram, layer_histograms
from initlab.diagnostics.jacobian import (
    MAX_JACOBIAN_BYTES,
    input_output_jacobian,
    jacobian_bytes,
    singular_values,
)
from initlab.diagnostics.meanfield import variance_scaling_weight_variances
from initlab.experiments.train import (
    TrainConfig,
    TrainSetup,
    _rngs,
    plain_step_size,
    prepare,
    starting_parameters,
)
from initlab.initializers import get_initializer
from initlab.network import Network, Parameters
from initlab.results import finite_or_none, flags_to_dicts, layers_to_dicts
from initlab.runs import diagnose_start, statistics_batch

__all__ = [
    "DEFAULT_DATASET",
    "DEFAULT_SNAPSHOTS",
    "DiagnoseResult",
    "InitDiagnosis",
    "Prediction",
    "Snapshot",
    "bias_variance",
    "check_jacobian_samples",
    "diagnose_config",
    "diagnose_inits",
    "diagnose_to_dict",
    "one_blas_thread",
    "predict",
    "snapshot_diagnosis",
]

#: ``initlab diagnose`` looks at the course's network on the course's data by default
DEFAULT_DATASET = "course_circles"
#: how many log-spaced snapshots of training ``initlab diagnose --iterations N`` takes
DEFAULT_SNAPSHOTS = 10


@dataclass(frozen=True)
class Snapshot:
    """The statistics and flags of one network's parameters before update ``update``."""

    update: int
    statistics: NetworkStatistics
    flags: list[Flag]
    #: every layer's output histogram (:func:`initlab.diagnostics.histograms.layer_histograms`)
    histograms: list[LayerHistogram] = field(default_factory=list)


@dataclass(frozen=True)
class Prediction:
    """Mean-field prediction for one initializer: ``weight_variances[l]`` is ``Var W[l+1]``,
    ``second_moments[l]`` the predicted ``q^{l+1} = E[z[l+1]^2]``."""

    weight_variances: list[float]
    bias_variance: float
    second_moments: list[float]

    @property
    def z_std(self) -> list[float]:
        """The predicted standard deviation of each layer's pre-activations, ``sqrt(q^l)``."""
        return [math.sqrt(q) for q in self.second_moments]


@dataclass(frozen=True)
class InitDiagnosis:
    """One initializer's starting parameters, their statistics and flags, and the theory's
    prediction (``None``, with the reason in ``no_prediction``, where it does not apply)."""

    init: str
    params: Parameters
    statistics: NetworkStatistics
    flags: list[Flag]
    prediction: Prediction | None
    no_prediction: str = ""
    #: during training (empty without): at each snapshot update, in order
    snapshots: list[Snapshot] = field(default_factory=list)
    #: singular values of the input-output Jacobian ``dz[L]/dx`` at initialization, one row
    #: per sample (``None``: not asked for)
    jacobian: np.ndarray | None = None


@dataclass
class DiagnoseResult:
    """The diagnosis of every initializer of ``setup`` on the same batch of ``samples``
    training samples, whose inputs have second moment ``input_second_moment``;
    ``learning_rate`` is the step the update-to-data ratio was computed with (``None``:
    not computed, see :func:`~initlab.experiments.train.plain_step_size`); ``snapshot_at``
    the updates of the snapshots of training (empty: not trained)."""

    setup: TrainSetup
    samples: int
    input_second_moment: float
    learning_rate: float | None
    diagnoses: list[InitDiagnosis] = field(default_factory=list)
    snapshot_at: list[int] = field(default_factory=list)

    @property
    def trained(self) -> bool:
        return bool(self.snapshot_at)


def diagnose_config(**options: Any) -> TrainConfig:
    """A :class:`~initlab.experiments.train.TrainConfig` with the diagnosis's defaults: the
    course's data (:data:`DEFAULT_DATASET`), network and three initializers."""
    return TrainConfig(**{"dataset": DEFAULT_DATASET, **options})


def bias_variance(network: Network, bias_init: str) -> float | None:
    """``sigma_b^2`` when ``bias_init`` draws biases of mean 0 and the same variance in every
    layer of ``network`` (its ``moments`` for a ``(n_l, 1)`` column), else ``None``: biases
    drawn from the layer's fans (``draw_bias``), of nonzero mean, of a variance that
    changes with the layer, or of unknown moments are outside the theory's assumptions."""
    init = get_initializer(bias_init)
    moments = getattr(init, "moments", None)
    if getattr(init, "draw_bias", None) is not None or moments is None:
        return None
    found = [moments(1, n) for n in network.layer_sizes[1:]]
    if any(m is None or m.mean != 0.0 for m in found):
        return None
    variances = {m.second_moment for m in found}
    return variances.pop() if len(variances) == 1 else None


def predict(
    network: Network, init: str, bias_init: str, input_second_moment: float
) -> tuple[Prediction | None, str]:
    """The mean-field prediction for ``init`` and ``bias_init`` (see the module docstring),
    or ``None`` and the reason it does not apply."""
    try:
        variances = variance_scaling_weight_variances(network, init)
    except TypeError:
        return None, f"{init} is not a variance-scaling initializer"
    sigma_b2 = bias_variance(network, bias_init)
    if sigma_b2 is None:
        return None, f"the biases of {bias_init} are not of mean 0 and one variance"
    moments = predicted_preactivation_variances(network, variances, input_second_moment, sigma_b2)
    return Prediction(variances, sigma_b2, moments), ""


def _mebibytes(size: int) -> str:
    mib = size / 2**20
    return f"{mib:.0f} MiB" if mib >= 10 else f"{mib:.2g} MiB"


def check_jacobian_samples(
    network: Network, samples: object, available: int, max_bytes: int | None = None
) -> int:
    """``samples`` checked for :func:`initlab.diagnostics.input_output_jacobian` of
    ``network``: a positive integer, at most ``available``, whose estimated memory
    (:func:`~initlab.diagnostics.jacobian.jacobian_bytes`) is within ``max_bytes``
    (default :data:`~initlab.diagnostics.jacobian.MAX_JACOBIAN_BYTES`).

    Raises:
        ValueError: naming the value and what is allowed (for memory: the estimate, the
            limit and the most samples that fit).
    """
    if max_bytes is None:
        max_bytes = MAX_JACOBIAN_BYTES
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer) or samples < 1:
        raise ValueError(f"jacobian samples must be a positive integer, got {samples!r}")
    if samples > available:
        raise ValueError(
            f"jacobian samples {samples} is more than the {available} statistics samples; "
            f"allowed: 1 to {available}"
        )
    need = jacobian_bytes(network, int(samples))
    if need > max_bytes:
        fit = max_bytes // jacobian_bytes(network, 1)
        more = f"at most {fit} samples fit" if fit else "not even 1 sample fits"
        raise ValueError(
            f"the input-output Jacobian of {list(network.layer_sizes)} at {samples} samples "
            f"needs about {_mebibytes(need)} (estimated), over the limit of "
            f"{_mebibytes(max_bytes)}; {more}"
        )
    return int(samples)


def diagnose_inits(
    config: TrainConfig | TrainSetup,
    *,
    snapshots: int | Sequence[int] | None = None,
    jacobian: int | None = None,
) -> DiagnoseResult:
    """Every initializer of ``config`` at initialization and, with ``snapshots`` (a
    number of log-spaced updates, or the updates themselves, ``0`` to the
    configuration's updates), during training (see the module docstring). With
    ``jacobian`` (a number of samples, the first of the statistics batch) the singular
    values of the input-output Jacobian ``dz[L]/dx`` at initialization as well
    (:func:`initlab.diagnostics.input_output_jacobian`).

    Raises:
        ValueError: as :func:`~initlab.experiments.train.prepare` and
            :func:`~initlab.initializers.initialize` do, for data, sizes or
            initializers they refuse; for snapshot updates outside the run, or a
            count below 2; for a Jacobian :func:`check_jacobian_samples` refuses (its
            memory estimated first); all before any training.
    """
    from initlab.engine import log_spaced, train_population

    setup = config if isinstance(config, TrainSetup) else prepare(config)
    data, network = setup.dataset, setup.network
    X, Y = statistics_batch(data.X_train, data.Y_train)
    if jacobian is not None:
        jacobian = check_jacobian_samples(network, jacobian, int(X.shape[1]))
    moment = float(np.mean(X * X))
    learning_rate = plain_step_size(setup)
    result = DiagnoseResult(setup, int(X.shape[1]), moment, learning_rate)
    at = None
    if snapshots is not None:
        at = log_spaced(setup.updates, snapshots) if isinstance(snapshots, int) else snapshots
    starts = starting_parameters(setup)
    with one_blas_thread():
        for init, params in zip(setup.config.inits, starts, strict=True):
            stats, flags = diagnose_start(
                network, params, data.X_train, data.Y_train, learning_rate=learning_rate
            )
            prediction, why_not = predict(network, init, setup.config.bias_init, moment)
            spectrum = None
            if jacobian is not None:
                J = input_output_jacobian(network, params, X[:, :jacobian])
                spectrum = singular_values(J)
            result.diagnoses.append(
                InitDiagnosis(init, params, stats, flags, prediction, why_not, jacobian=spectrum)
            )
    if at is None:
        return result
    population = train_population(
        network,
        starts,
        data.X_train,
        data.Y_train,
        **setup.training(np.random.default_rng(_rngs(setup.config.seed)[1])),  # train's order
        snapshots=at,
    )
    result.snapshot_at = [int(k) for k in population.snapshot_at]
    with one_blas_thread():
        for i, diagnosis in enumerate(result.diagnoses):
            for k, update in enumerate(result.snapshot_at):
                params = population.snapshot(i, k)
                diagnosis.snapshots.append(
                    snapshot_diagnosis(network, params, X, Y, update, learning_rate)
                )
    return result


def one_blas_thread():  # type: ignore[no-untyped-def]
    """BLAS on one thread for the statistics: their products are small or few, and on a
    machine whose cores are shared a second BLAS thread made them several times slower
    (measured: 8.5 s against 2.6 s for the diagnosis of 30 layers of 256)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def snapshot_diagnosis(
    network: Network,
    params: Parameters,
    X: np.ndarray,
    Y: np.ndarray,
    update: int,
    learning_rate: float | None,
) -> Snapshot:
    """The statistics, flags and per-layer histograms of ``params`` on the batch ``X, Y``
    (what every snapshot of training gets; ``benchmarks/diagnostics.py`` times it)."""
    stats = network_statistics(network, params, X, Y, learning_rate=learning_rate)
    return Snapshot(update, stats, diagnose(stats), layer_histograms(network, params, X))


def _snapshot_to_dict(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "update": snapshot.update,
        "loss": finite_or_none(snapshot.statistics.loss),
        "layers": layers_to_dicts(snapshot.statistics),
        "flags": flags_to_dicts(snapshot.flags),
    }


def _jacobian_to_dict(values: np.ndarray) -> dict[str, Any]:
    return {
        "samples": int(values.shape[0]),
        "median": finite_or_none(float(np.median(values))),
        "min": finite_or_none(float(values.min())),
        "max": finite_or_none(float(values.max())),
        "singular_values": [[finite_or_none(float(v)) for v in row] for row in values],
    }


def _prediction_to_dict(prediction: Prediction | None) -> dict[str, Any] | None:
    if prediction is None:
        return None
    return {
        "weight_variances": [finite_or_none(v) for v in prediction.weight_variances],
        "bias_variance": finite_or_none(prediction.bias_variance),
        "z_second_moment": [finite_or_none(q) for q in prediction.second_moments],
        "z_std": [finite_or_none(s) for s in prediction.z_std],
    }


def diagnose_to_dict(result: DiagnoseResult) -> dict[str, Any]:
    """The ``diagnostics.json`` document: the configuration, then per initializer its
    ``layers`` (:func:`~initlab.results.layers_to_dicts`), ``flags``
    (:func:`~initlab.results.flags_to_dicts`) and ``predicted`` (the mean-field
    prediction, or ``null`` with the reason in ``no_prediction``); when trained,
    ``config.training`` and per initializer ``snapshots``: ``update``, ``loss``,
    ``layers`` and ``flags`` at each snapshot; with the Jacobian, per initializer
    ``jacobian``: ``samples``, ``median``, ``min``, ``max`` and the ``singular_values``
    of each sample."""
    setup = result.setup
    network = setup.network
    config = {
        "network": network.as_dict(),
        "inits": list(setup.config.inits),
        "bias_init": setup.config.bias_init,
        "seed": setup.config.seed,
        "dataset": setup.dataset.config,
        "statistics_samples": result.samples,
        "input_second_moment": finite_or_none(result.input_second_moment),
        "learning_rate": result.learning_rate,
    }
    if result.trained:
        config["training"] = {
            "optimizer": setup.optimizer.config(),
            "batch_size": setup.batch_size,
            "updates": setup.updates,
            "snapshot_at": result.snapshot_at,
        }
    return {
        "experiment": "diagnose",
        "config": config,
        "inits": [
            {
                "init": d.init,
                "loss": finite_or_none(d.statistics.loss),
                "layers": layers_to_dicts(d.statistics),
                "flags": flags_to_dicts(d.flags),
                "predicted": _prediction_to_dict(d.prediction),
                "no_prediction": d.no_prediction or None,
                **(
                    {"snapshots": [_snapshot_to_dict(x) for x in d.snapshots]}
                    if result.trained
                    else {}
                ),
                **({"jacobian": _jacobian_to_dict(d.jacobian)} if d.jacobian is not None else {}),
            }
            for d in result.diagnoses
        ],
    }
