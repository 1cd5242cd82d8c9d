"""``diagnose``: initlab's per-layer statistics and flags for any torch model, by hooks.

For every selected layer (``nn.Linear``, convolutions), in the order the forward pass
first runs them, the statistics of :mod:`initlab.diagnostics.stats` with

* ``z``: the layer's output (its pre-activation);
* ``a``: the output of the first activation module fed by ``z`` (``nn.ReLU``,
  ``nn.Tanh``, ... see :data:`ACTIVATIONS`), through normalization, dropout and
  ``nn.Identity`` modules in between (``Conv2d -> BatchNorm2d -> ReLU`` gives
  ``a = relu(bn(z))``, named ``relu``); ``a = z`` (``identity``) if none follows. For
  the model's output layer under ``nn.BCEWithLogitsLoss`` or ``nn.CrossEntropyLoss``,
  ``a`` is the head's output, ``sigmoid(z)`` or ``softmax(z)``, as in initlab's networks;
* a unit is an output feature (``nn.Linear``) or channel (convolutions): a dead unit
  outputs 0 for every example and position;
* ``delta = dJ/dz`` (by a tensor hook), ``dJ/dW`` (the weight's gradient), given a
  ``target``: ``J`` is ``loss(output, target)``.

The forward and backward passes run on copies of the parameters and buffers
(``torch.func.functional_call``): the model, its ``.grad`` fields and its running
statistics are left untouched, and every hook is removed, even when the forward pass
raises (its error becomes one ``ValueError`` naming the layer that raised).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.func import functional_call

from initlab.diagnostics.flags import Flag
from initlab.diagnostics.flags import diagnose as raise_flags
from initlab.diagnostics.stats import (
    DEAD_ACTIVATIONS,
    LAYER_STATISTICS,
    SATURATION_RULES,
    NetworkStatistics,
    to_frame,
)
from initlab.spec import format_spec
from initlab.torch.init import as_batch
from initlab.torch.layers import Layer, LayerSelection, run_model, select_layers

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from initlab.network import Network, Parameters

__all__ = [
    "ACTIVATIONS",
    "PASS_THROUGH",
    "TorchDiagnosis",
    "activation_name",
    "diagnose",
    "layer_std_curves",
    "plot_layer_std",
    "to_torch",
]

#: Activation modules and initlab's name for them.
ACTIVATIONS: dict[type[nn.Module], Callable[[nn.Module], str]] = {
    nn.ReLU: lambda m: "relu",
    nn.Tanh: lambda m: "tanh",
    nn.Sigmoid: lambda m: "sigmoid",
    nn.LeakyReLU: lambda m: format_spec("leaky_relu", {"slope": m.negative_slope}),
    nn.ELU: lambda m: format_spec("elu", {"alpha": m.alpha}),
    nn.SELU: lambda m: "selu",
    nn.GELU: lambda m: "gelu",
    nn.Softplus: lambda m: "softplus",
    nn.SiLU: lambda m: "silu",
}
#: Modules between a layer and its activation that ``a`` is measured through.
PASS_THROUGH: tuple[type[nn.Module], ...] = (
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.BatchNorm3d,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.Dropout,
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Dropout3d,
    nn.Identity,
)


def activation_name(module: nn.Module) -> str | None:
    """initlab's name of an activation module, or ``None`` if it is not one."""
    from initlab.activations import get_activation

    for kind, name in ACTIVATIONS.items():
        if type(module) is kind:
            return get_activation(name(module)).name
    return None


@dataclass
class _Record:
    layer: Layer
    z: torch.Tensor  # the output tensor itself (for identity checks and the grad hook)
    z_value: np.ndarray  # a float64 copy taken when it was produced
    tracked: torch.Tensor  # the tensor an activation module must receive
    a_value: np.ndarray | None = None
    activation: str = "identity"
    signal: np.ndarray | None = None


@dataclass(frozen=True)
class TorchDiagnosis:
    """What :func:`diagnose` found.

    ``names[l]``, ``types[l]`` name layer ``l + 1`` (execution order); ``statistics`` is
    initlab's :class:`~initlab.diagnostics.stats.NetworkStatistics` (the same fields, so
    the same flags and figures); ``flags`` are initlab's flags, their messages naming the
    layers (``layer 3 (features.6, relu)``).
    """

    names: list[str]
    types: list[str]
    statistics: NetworkStatistics
    flags: list[Flag]
    run: str = ""
    shapes: list[tuple[int, ...]] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        """initlab's tidy DataFrame (:func:`initlab.diagnostics.to_frame`: ``run``,
        ``iteration``, ``layer``, ``statistic``, ``value``) plus ``name``, the layer's name."""
        frame = to_frame(self.statistics, run=self.run)
        names = {i: name for i, name in enumerate(self.names, start=1)}
        frame["name"] = [
            names.get(int(layer)) if not pd.isna(layer) else None for layer in frame["layer"]
        ]
        return frame

    def table(self) -> pd.DataFrame:
        """One row per layer: name, type, activation, units and every statistic."""
        stats = self.statistics
        columns: dict[str, Any] = {
            "layer": list(range(1, stats.depth + 1)),
            "name": self.names,
            "type": self.types,
            "activation": stats.activations,
            "units": stats.units,
        }
        for name in LAYER_STATISTICS:
            columns[name] = stats.statistic(name)
        return pd.DataFrame(columns)


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to(torch.float64).cpu().numpy().copy()


def _default_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy from logits for one output column, else cross-entropy."""
    if output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1):
        return nn.functional.binary_cross_entropy_with_logits(
            output, target.reshape(output.shape).to(output.dtype)
        )
    return nn.functional.cross_entropy(output, target.reshape(-1).long())


def _head(loss: Any, output: Any) -> str | None:
    """The head the loss applies to the logits: ``sigmoid``, ``softmax`` or ``None``."""
    if loss is _default_loss and isinstance(output, torch.Tensor):
        single = output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1)
        return "sigmoid" if single else "softmax"
    if isinstance(loss, nn.BCEWithLogitsLoss):
        return "sigmoid"
    if isinstance(loss, nn.CrossEntropyLoss):
        return "softmax"
    return None


def _unit_axis(layer: Layer, value: np.ndarray) -> int:
    return value.ndim - 1 if isinstance(layer.module, nn.Linear) else 1


def _dead(layer: Layer, a: np.ndarray) -> float:
    units = np.moveaxis(a, _unit_axis(layer, a), 0).reshape(a.shape[_unit_axis(layer, a)], -1)
    return float(np.mean(np.all(units == 0.0, axis=1)))


def _distinct(layer: Layer, weight: torch.Tensor, bias: torch.Tensor | None) -> float:
    rows = _numpy(layer.unit_rows(weight))
    column = np.zeros((rows.shape[0], 1)) if bias is None else _numpy(bias).reshape(-1, 1)
    return float(np.unique(np.hstack([rows, column]), axis=0).shape[0])


_LAYER_REF = re.compile(r"layer (\d+)(?: \(((?:[^()]|\([^()]*\))*)\))?")


def _named_flag(flag: Flag, names: Sequence[str], activations: Sequence[str]) -> Flag:
    """``flag`` with each ``layer N`` of its message naming the torch layer:
    ``layer 3 (relu)`` -> ``layer 3 (features.6, relu)``, ``layer 1`` -> ``layer 1 (conv1)``."""

    def name(match: re.Match[str]) -> str:
        number, inside = int(match.group(1)), match.group(2)
        label = names[number - 1]
        role = activations[number - 1]
        if inside is not None and inside in (role, f"{role} output"):
            return f"layer {number} ({label}, {inside})"
        rest = "" if inside is None else f" ({inside})"
        return f"layer {number} ({label}){rest}"

    return Flag(flag.kind, flag.layer, flag.value, flag.threshold,
                _LAYER_REF.sub(name, flag.message))  # fmt: skip


def _check_learning_rate(learning_rate: Any) -> float | None:
    if learning_rate is None:
        return None
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, int | float):
        raise TypeError(f"learning_rate must be a positive number, got {learning_rate!r}")
    if not (math.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a positive finite number, got {learning_rate!r}")
    return float(learning_rate)


def _as_target(target: Any, device: torch.device) -> torch.Tensor:
    if isinstance(target, torch.Tensor):
        return target.detach().to(device)
    try:
        return torch.as_tensor(np.asarray(target)).to(device)
    except (TypeError, ValueError):
        raise TypeError(
            f"target must be a tensor or an array, got {type(target).__name__}"
        ) from None


def diagnose(
    model: nn.Module,
    batch: Any,
    target: Any = None,
    loss: Callable[[Any, Any], torch.Tensor] | None = None,
    layers: LayerSelection = None,
    *,
    learning_rate: float | None = None,
    run: str = "",
) -> TorchDiagnosis:
    """Per-layer statistics and flags of ``model`` on ``batch`` (module docstring).

    Args:
        model: any ``torch.nn.Module``; its parameters are not changed.
        batch: the input, a tensor or array with the examples along the first dimension
            (converted to the model's dtype).
        target: labels; with them the backward statistics are measured. ``J`` is
            ``loss(output, target)``: by default binary cross-entropy from logits for a
            single output column, else cross-entropy over classes.
        loss: a callable ``loss(output, target) -> scalar tensor``;
            ``nn.BCEWithLogitsLoss`` and ``nn.CrossEntropyLoss`` also make the output
            layer's ``a`` the head's probabilities (sigmoid, softmax).
        layers: name glob patterns and/or module types (default: all supported layers).
        learning_rate: gives the update-to-data ratio ``lr ||dJ/dW|| / ||W||``.
        run: a label for the DataFrame's ``run`` column.

    Raises:
        TypeError: a model that is not an ``nn.Module``, a batch or target that is not
            numeric, a bad ``layers``, a ``loss`` that is not callable.
        ValueError: no supported layer, a pattern that matches none, a batch the model
            refuses (its error in one line with the layer's name), a loss that fails.
    """
    selected = select_layers(model, layers)
    learning_rate = _check_learning_rate(learning_rate)
    if loss is not None and not callable(loss):
        raise TypeError(f"loss must be callable as loss(output, target), got {type(loss).__name__}")
    x = as_batch(batch, model, "batch")
    y = None if target is None else _as_target(target, x.device)
    loss_fn = loss if loss is not None else (_default_loss if y is not None else None)

    params = {name: p.detach().clone().requires_grad_(True) for name, p in model.named_parameters()}
    buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
    by_module = {id(layer.module): layer for layer in selected}
    records: dict[int, _Record] = {}
    handles = []

    def layer_hook(module: nn.Module, args: Any, output: Any) -> None:
        if id(module) in records or not isinstance(output, torch.Tensor):
            return
        record = _Record(by_module[id(module)], output, _numpy(output), output)
        records[id(module)] = record
        if output.requires_grad and y is not None:

            def keep(grad: torch.Tensor, record: _Record = record) -> None:
                record.signal = _numpy(grad)

            output.register_hook(keep)

    def any_hook(module: nn.Module, args: Any, output: Any) -> None:
        if not args or not isinstance(args[0], torch.Tensor):
            return
        name = activation_name(module)
        passes = isinstance(module, PASS_THROUGH)
        if name is None and not passes:
            return
        for record in records.values():
            if record.a_value is None and record.tracked is args[0]:
                if name is not None:
                    record.a_value, record.activation = _numpy(output), name
                else:
                    record.tracked = output
                return

    try:
        for layer in selected:
            handles.append(layer.module.register_forward_hook(layer_hook))
        for module in model.modules():
            if activation_name(module) is not None or isinstance(module, PASS_THROUGH):
                handles.append(module.register_forward_hook(any_hook))
        output = run_model(model, lambda: functional_call(model, {**params, **buffers}, (x,)))
        cost = float("nan")
        if y is not None and loss_fn is not None:
            try:
                value = loss_fn(output, y)
                cost = float(value.detach())
                value.backward()
            except (Exception, SystemExit) as exc:  # the loss is user code too
                raise ValueError(
                    f"the loss failed on the model's output: {type(exc).__name__}: "
                    f"{' '.join(str(exc).split())[:300]}"
                ) from None
    finally:
        for handle in handles:
            handle.remove()
    if not records:
        raise ValueError("the forward pass ran none of the selected layers")
    ordered = list(records.values())
    head = _head(loss_fn, output)
    returned = any(output is tensor for tensor in (ordered[-1].z, ordered[-1].tracked))
    if head is not None and returned and ordered[-1].a_value is None:
        last = ordered[-1]
        z = torch.as_tensor(last.z_value)
        probs = torch.sigmoid(z) if head == "sigmoid" else torch.softmax(z, dim=-1)
        last.a_value, last.activation = probs.numpy(), head
    return _statistics(ordered, params, y is not None, cost, learning_rate, run)


def _statistics(
    ordered: list[_Record],
    params: Mapping[str, torch.Tensor],
    labelled: bool,
    cost: float,
    learning_rate: float | None,
    run: str,
) -> TorchDiagnosis:
    values: dict[str, list[float]] = {name: [] for name in LAYER_STATISTICS}
    nan = float("nan")
    module_params = {}
    for record in ordered:
        prefix = f"{record.layer.name}." if record.layer.name else ""
        module_params[id(record)] = (params[prefix + "weight"], params.get(prefix + "bias"))
    with np.errstate(over="ignore", invalid="ignore"):
        for record in ordered:
            z = record.z_value
            a = z if record.a_value is None else record.a_value
            base = record.activation.split("(")[0]
            weight, bias = module_params[id(record)]
            values["z_mean"].append(float(z.mean()))
            values["z_std"].append(float(z.std()))
            values["z_second_moment"].append(float(np.mean(z * z)))
            values["a_mean"].append(float(a.mean()))
            values["a_std"].append(float(a.std()))
            dead = _dead(record.layer, a) if base in DEAD_ACTIVATIONS else nan
            values["dead_fraction"].append(dead)
            rule = SATURATION_RULES.get(base)
            values["saturated_fraction"].append(nan if rule is None else float(rule.test(a).mean()))
            values["distinct_units"].append(_distinct(record.layer, weight, bias))
            grad = None if weight.grad is None or not labelled else _numpy(weight.grad)
            signal = record.signal if labelled else None
            values["grad_w_norm"].append(nan if grad is None else float(np.linalg.norm(grad)))
            values["grad_w_std"].append(nan if grad is None else float(grad.std()))
            values["signal_norm"].append(nan if signal is None else float(np.linalg.norm(signal)))
            values["signal_std"].append(nan if signal is None else float(signal.std()))
            w_norm = float(np.linalg.norm(_numpy(weight)))
            ratio = (
                nan
                if grad is None or learning_rate is None or w_norm == 0.0
                else learning_rate * float(np.linalg.norm(grad)) / w_norm
            )
            values["update_ratio"].append(ratio)
    stats = NetworkStatistics(
        activations=[record.activation for record in ordered],
        units=[record.layer.units for record in ordered],
        labelled=labelled,
        loss=float(cost),
        **values,
    )
    names = [record.layer.name or "(model)" for record in ordered]
    flags = [_named_flag(flag, names, stats.activations) for flag in raise_flags(stats)]
    return TorchDiagnosis(
        names=names,
        types=[record.layer.kind for record in ordered],
        statistics=stats,
        flags=flags,
        run=run,
        shapes=[tuple(record.z_value.shape) for record in ordered],
    )


_TORCH_ACTIVATIONS: dict[str, Callable[..., nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
    "leaky_relu": lambda slope=0.01: nn.LeakyReLU(slope),
    "elu": lambda alpha=1.0: nn.ELU(alpha),
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "softplus": nn.Softplus,
    "silu": nn.SiLU,
}


def to_torch(
    network: Network, params: Parameters, dtype: torch.dtype = torch.float64
) -> nn.Sequential:
    """initlab's dense ``network`` with ``params`` as an ``nn.Sequential`` of ``nn.Linear``
    and activation modules (the head is left to the loss: ``nn.BCEWithLogitsLoss`` for a
    sigmoid output, ``nn.CrossEntropyLoss`` for softmax). Inputs are rows: ``X.T``."""
    from initlab.activations import get_activation
    from initlab.spec import parse_spec

    modules: list[nn.Module] = []
    for l, (W, b) in enumerate(zip(params.weights, params.biases, strict=True)):
        linear = nn.Linear(W.shape[1], W.shape[0], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(W))
            linear.bias.copy_(torch.as_tensor(b).reshape(-1))
        modules.append(linear)
        if l < network.depth - 1:
            name, _, kwargs = parse_spec(get_activation(network.activations[l]).name)
            modules.append(_TORCH_ACTIVATIONS[name](**dict(kwargs)))
    return nn.Sequential(*modules)


def layer_std_curves(
    diagnoses: Mapping[str, TorchDiagnosis] | Sequence[TorchDiagnosis], statistic: str = "z_std"
) -> list[tuple[str, list[float], None]]:
    """``(label, per-layer values, None)`` for :func:`initlab.plots.plot_layer_std`."""
    items = diagnoses.items() if isinstance(diagnoses, Mapping) else [(d.run, d) for d in diagnoses]
    return [(label, list(d.statistics.statistic(statistic)), None) for label, d in items]


def plot_layer_std(
    ax: Axes,
    diagnoses: Mapping[str, TorchDiagnosis] | Sequence[TorchDiagnosis],
    *,
    statistic: str = "z_std",
    title: str = "",
) -> Axes:
    """initlab's per-layer std chart (:func:`initlab.plots.plot_layer_std`) of several
    diagnoses of one model: ``statistic`` per layer, one line per diagnosis."""
    from initlab.plots import plot_layer_std as plot

    labels = {"z_std": "std of the layer outputs z", "a_std": "std of the activations a"}
    return plot(
        ax,
        layer_std_curves(diagnoses, statistic),
        title=title,
        ylabel=labels.get(statistic, statistic),
    )
