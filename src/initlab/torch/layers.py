"""The layers initlab handles in a torch model, torch's fans, and running the model safely.

Supported layers (:data:`SUPPORTED`): ``nn.Linear``, ``nn.Conv1d/2d/3d`` and
``nn.ConvTranspose1d/2d/3d``. Their fans are torch's
(``torch.nn.init._calculate_fan_in_and_fan_out``), read from the weight tensor as
stored: for a weight of shape ``(d0, d1, k1, ..., kr)`` the receptive field size is
``rf = k1 ... kr`` (1 for ``nn.Linear``) and

    fan_in = d1 * rf,    fan_out = d0 * rf.

A convolution stores ``(out_channels, in_channels / groups, *kernel)``; a transposed
convolution stores ``(in_channels, out_channels / groups, *kernel)``, so its fan_in
and fan_out are swapped relative to the data flow, exactly as in ``torch.nn.init``.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

__all__ = [
    "SUPPORTED",
    "Layer",
    "LayerSelection",
    "check_model",
    "execution_order",
    "model_error",
    "run_model",
    "select_layers",
    "torch_fans",
]

SUPPORTED: tuple[type[nn.Module], ...] = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
)
_SUPPORTED_NAMES = "nn.Linear, nn.Conv1d/2d/3d and nn.ConvTranspose1d/2d/3d"

LayerSelection = str | type | Sequence[str | type] | None


@dataclass(frozen=True)
class Layer:
    """One supported layer: its qualified name in the model and the module."""

    name: str
    module: nn.Module

    @property
    def kind(self) -> str:
        return type(self.module).__name__

    @property
    def weight_shape(self) -> tuple[int, ...]:
        return tuple(self.module.weight.shape)

    @property
    def fans(self) -> tuple[int, int]:
        return torch_fans(self.weight_shape)

    @property
    def units(self) -> int:
        """The layer's output units: ``out_features`` or ``out_channels``."""
        module = self.module
        return int(getattr(module, "out_features", None) or module.out_channels)

    def unit_rows(self, weight: torch.Tensor) -> torch.Tensor:
        """The weights of each output unit as one row, shape ``(units, -1)``.

        A transposed convolution stores ``(in, out / groups, *kernel)``: output channel
        ``j`` of group ``g`` reads ``weight[g * in/groups : (g+1) * in/groups, j]``.
        """
        if isinstance(self.module, nn.Linear | nn.Conv1d | nn.Conv2d | nn.Conv3d):
            return weight.reshape(weight.shape[0], -1)
        groups = self.module.groups
        d0, d1, *kernel = weight.shape
        grouped = weight.reshape(groups, d0 // groups, d1, *kernel).transpose(1, 2)
        return grouped.reshape(groups * d1, -1)


def torch_fans(shape: Sequence[int]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape`` by torch's rule (module docstring)."""
    if len(shape) < 2:
        raise ValueError(f"fans need a weight of at least 2 dimensions, got shape {tuple(shape)}")
    receptive = math.prod(shape[2:])
    return int(shape[1]) * receptive, int(shape[0]) * receptive


def check_model(model: Any) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _patterns(layers: LayerSelection) -> list[str | type]:
    if layers is None:
        return []
    if isinstance(layers, str | type):
        return [layers]
    try:
        items = list(layers)
    except TypeError:
        raise TypeError(
            f"layers must be a name pattern (str), a module type, or a list of them, got {layers!r}"
        ) from None
    if not items:
        raise ValueError("layers is empty: give name patterns or module types, or None for all")
    return items


def _matches(pattern: str | type, layer: Layer) -> bool:
    if isinstance(pattern, str):
        return fnmatch.fnmatchcase(layer.name, pattern)
    return isinstance(layer.module, pattern)


def select_layers(model: nn.Module, layers: LayerSelection = None) -> list[Layer]:
    """The supported layers of ``model`` (module order) that ``layers`` selects.

    ``layers`` is ``None`` (all), or glob patterns over the qualified module names
    (``"features.*"``, ``"fc"``) and module types (``nn.Conv2d``), alone or in a list:
    a layer is selected if any of them matches. A layer shared by several parents is
    listed once.

    Raises:
        TypeError: for a model that is not an ``nn.Module``, or a selection that is not
            strings and ``nn.Module`` types.
        ValueError: when the model has no supported layer, or a pattern or type matches
            none of them (naming the layers there are).
    """
    check_model(model)
    found = [Layer(name, module) for name, module in model.named_modules()]
    supported = [layer for layer in found if isinstance(layer.module, SUPPORTED)]
    if not supported:
        kinds = sorted({type(m).__name__ for m in model.modules()})
        raise ValueError(
            f"the model has no layer initlab can initialize or diagnose (supported: "
            f"{_SUPPORTED_NAMES}); its modules are: {', '.join(kinds)}"
        )
    patterns = _patterns(layers)
    for pattern in patterns:
        if not isinstance(pattern, str) and not (
            isinstance(pattern, type) and issubclass(pattern, nn.Module)
        ):
            raise TypeError(
                f"layers: {pattern!r} is neither a name pattern (str) nor an nn.Module type"
            )
    if not patterns:
        return supported
    for pattern in patterns:
        if not any(_matches(pattern, layer) for layer in supported):
            shown = pattern if isinstance(pattern, str) else pattern.__name__
            names = ", ".join(layer.name for layer in supported[:20])
            more = ", ..." if len(supported) > 20 else ""
            raise ValueError(
                f"layers: {shown!r} matches none of the model's supported layers "
                f"({_SUPPORTED_NAMES}): {names}{more}"
            )
    return [layer for layer in supported if any(_matches(p, layer) for p in patterns)]


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[:limit] + "..."


def model_error(exc: BaseException, where: str | None, what: str = "the batch") -> ValueError:
    """A one-line ``ValueError`` for an exception the model raised, naming its layer."""
    place = f" in layer {where}" if where else ""
    return ValueError(
        f"the model failed on {what}{place}: {type(exc).__name__}: {_one_line(str(exc))}"
    )


@contextmanager
def _layer_tracker(model: nn.Module) -> Iterator[list[str]]:
    """The stack of modules being run (innermost last), by hooks removed on exit."""
    names = {id(m): name for name, m in model.named_modules()}
    stack: list[str] = []

    def pre(module: nn.Module, args: Any) -> None:
        name = names.get(id(module), "")
        stack.append(f"{name!r} ({type(module).__name__})" if name else "")

    def post(module: nn.Module, args: Any, output: Any) -> None:
        if stack:
            stack.pop()

    handles = []
    try:
        for module in model.modules():
            handles.append(module.register_forward_pre_hook(pre))
            handles.append(module.register_forward_hook(post))
        yield stack
    finally:
        for handle in handles:
            handle.remove()


def run_model(model: nn.Module, call: Callable[[], Any], what: str = "the batch") -> Any:
    """``call()`` (a forward pass of ``model``); an error becomes one ``ValueError`` naming
    the innermost module that was running (the model's own message kept)."""
    with _layer_tracker(model) as stack:
        try:
            return call()
        except (Exception, SystemExit) as exc:  # the model's code may fail in any way
            where = next((entry for entry in reversed(stack) if entry), None)
            raise model_error(exc, where, what) from None


def execution_order(model: nn.Module, layers: list[Layer], call: Callable[[], Any]) -> list[Layer]:
    """``layers`` in the order a forward pass (``call()``) first runs them; layers the pass
    never runs come last, in module order."""
    seen: list[int] = []
    by_id = {id(layer.module): layer for layer in layers}

    def hook(module: nn.Module, args: Any, output: Any) -> None:
        if id(module) not in seen:
            seen.append(id(module))

    handles = [layer.module.register_forward_hook(hook) for layer in layers]
    try:
        run_model(model, call)
    finally:
        for handle in handles:
            handle.remove()
    ordered = [by_id[i] for i in seen]
    return ordered + [layer for layer in layers if id(layer.module) not in seen]
