"""Signal Propagation Plots of residual models at initialization.

Brock, De and Smith, "Characterizing signal propagation to close the performance gap in
unnormalized ResNets", ICLR 2021: feed Gaussian inputs ``x ~ N(0, 1)`` to the model at
initialization and, at the output ``y`` of each residual block (``y`` of shape
``(N, C, ...)``, channels on axis 1, statistics over the examples and positions), plot

* the average channel squared mean ``mean_c (E[y_c])^2``;
* the average channel variance ``mean_c Var(y_c)``;
* the residual-branch variance ``mean_c Var(f_c)``, with ``f`` the output of the
  block's residual branch: the child module named by ``branch`` (default: the first
  child named one of :data:`BRANCH_NAMES`), else ``f = y - x`` for a block whose
  output has its input's shape (exact for ``y = x + f(x)``; NaN otherwise).

A healthy unnormalized ResNet keeps the variance growing linearly and the squared mean
small; an exploding mean or variance at initialization is what normalization hides.
The pass runs on copies of the parameters and buffers: the model is not changed.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.func import functional_call

from initlab.torch.layers import check_model, run_model

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "BLOCK_PATTERN",
    "BRANCH_NAMES",
    "SPP_COLUMNS",
    "plot_signal_propagation",
    "signal_propagation",
]

SPP_COLUMNS = ("block", "name", "squared_mean", "variance", "residual_variance")
#: Default blocks: modules whose class name matches this (``BasicBlock``, ``Bottleneck``).
BLOCK_PATTERN = re.compile(r"block|bottleneck", re.IGNORECASE)
#: Child names taken as the residual branch when ``branch`` is not given.
BRANCH_NAMES = ("branch", "residual", "body")


def _select_blocks(model: nn.Module, blocks: Any) -> list[tuple[str, nn.Module]]:
    named = [(name, module) for name, module in model.named_modules() if name]
    if blocks is None:
        found = [(n, m) for n, m in named if BLOCK_PATTERN.search(type(m).__name__)]
        outer = [(n, m) for n, m in found if not any(n.startswith(o + ".") for o, _ in found)]
        if not outer:
            raise ValueError(
                "no residual block found (no module class named like *Block or *Bottleneck): "
                "pass blocks=['layer1.*', ...] (name patterns) or block types"
            )
        return outer
    patterns = [blocks] if isinstance(blocks, str | type) else list(blocks)
    for pattern in patterns:
        if not isinstance(pattern, str) and not (
            isinstance(pattern, type) and issubclass(pattern, nn.Module)
        ):
            raise TypeError(f"blocks: {pattern!r} is neither a name pattern nor an nn.Module type")

    def hit(pattern: Any, name: str, module: nn.Module) -> bool:
        if isinstance(pattern, str):
            return fnmatch.fnmatchcase(name, pattern)
        return isinstance(module, pattern)

    for pattern in patterns:
        if not any(hit(pattern, n, m) for n, m in named):
            shown = pattern if isinstance(pattern, str) else pattern.__name__
            raise ValueError(f"blocks: {shown!r} matches none of the model's modules")
    return [(n, m) for n, m in named if any(hit(p, n, m) for p in patterns)]


def _branch(block: nn.Module, branch: str | None) -> nn.Module | None:
    if branch is not None:
        try:
            return block.get_submodule(branch)
        except AttributeError:
            raise ValueError(f"branch: the block has no submodule {branch!r}") from None
    for name in BRANCH_NAMES:
        child = getattr(block, name, None)
        if isinstance(child, nn.Module):
            return child
    return None


def _channel_stats(value: torch.Tensor) -> tuple[float, float]:
    """``(mean_c mean_c^2, mean_c var_c)`` over examples and positions (channels: axis 1)."""
    v = value.detach().to(torch.float64)
    if v.ndim < 2:
        v = v.reshape(-1, 1)
    per_channel = v.transpose(0, 1).reshape(v.shape[1], -1)
    means = per_channel.mean(dim=1)
    variances = per_channel.var(dim=1, unbiased=False)
    return float((means**2).mean()), float(variances.mean())


@dataclass
class _Seen:
    x: torch.Tensor | None = None
    y: torch.Tensor | None = None
    f: torch.Tensor | None = None


def signal_propagation(
    model: nn.Module,
    input_shape: Sequence[int],
    *,
    blocks: Any = None,
    branch: str | None = None,
    samples: int = 64,
    seed: int = 0,
) -> pd.DataFrame:
    """The Signal Propagation Plot data of ``model`` (module docstring), one row per block.

    Args:
        input_shape: one example's shape, e.g. ``(3, 32, 32)``.
        blocks: name glob patterns and/or module types of the residual blocks (default:
            the outermost modules whose class name contains ``Block`` or ``Bottleneck``).
        branch: the residual branch's submodule path inside each block.
        samples: how many Gaussian examples; ``seed`` seeds them.

    Returns:
        Columns :data:`SPP_COLUMNS`: the block's number (execution order, from 1) and name,
        the average channel squared mean, average channel variance and residual-branch
        variance at its output.

    Raises:
        TypeError, ValueError: a bad model, shape, count or selection; no block found; a
            forward pass that fails (one line naming the layer).
    """
    check_model(model)
    shape = tuple(input_shape)
    if not shape or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in shape):
        raise ValueError(f"input_shape must be positive integers, got {input_shape!r}")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise ValueError(f"samples must be an integer >= 2, got {samples!r}")
    chosen = _select_blocks(model, blocks)
    reference = next(model.parameters(), None)
    dtype = reference.dtype if reference is not None else torch.get_default_dtype()
    generator = torch.Generator().manual_seed(int(seed))
    x = torch.randn((samples, *shape), generator=generator, dtype=torch.float64).to(dtype)
    seen: dict[int, _Seen] = {id(m): _Seen() for _, m in chosen}
    order: list[int] = []
    handles = []

    def block_hook(module: nn.Module, args: Any, output: Any) -> None:
        entry = seen[id(module)]
        if entry.y is None and isinstance(output, torch.Tensor):
            entry.x = args[0] if args and isinstance(args[0], torch.Tensor) else None
            entry.y = output
            order.append(id(module))

    def branch_hook(owner: int):  # type: ignore[no-untyped-def]
        def hook(module: nn.Module, args: Any, output: Any) -> None:
            if seen[owner].f is None and isinstance(output, torch.Tensor):
                seen[owner].f = output

        return hook

    state = {n: t.detach().clone() for n, t in [*model.named_parameters(), *model.named_buffers()]}
    try:
        for _, module in chosen:
            handles.append(module.register_forward_hook(block_hook))
            child = _branch(module, branch)
            if child is not None:
                handles.append(child.register_forward_hook(branch_hook(id(module))))
        with torch.no_grad():
            run_model(model, lambda: functional_call(model, state, (x,)), "Gaussian inputs")
    finally:
        for handle in handles:
            handle.remove()
    names = {id(m): n for n, m in chosen}
    rows = []
    for number, key in enumerate(order, start=1):
        entry = seen[key]
        assert entry.y is not None
        squared_mean, variance = _channel_stats(entry.y)
        f = entry.f
        if f is None and entry.x is not None and entry.x.shape == entry.y.shape:
            f = entry.y - entry.x
        residual = math.nan if f is None else _channel_stats(f)[1]
        rows.append((number, names[key], squared_mean, variance, residual))
    if not rows:
        raise ValueError("the forward pass ran none of the selected blocks")
    return pd.DataFrame(rows, columns=list(SPP_COLUMNS))


def plot_signal_propagation(ax: Axes, frame: pd.DataFrame, *, title: str = "") -> Axes:
    """The three SPP curves of :func:`signal_propagation`'s ``frame`` against block depth."""
    blocks = np.asarray(frame["block"])
    for column, label in (
        ("squared_mean", "average channel squared mean"),
        ("variance", "average channel variance"),
        ("residual_variance", "residual-branch variance"),
    ):
        ax.plot(blocks, np.asarray(frame[column], dtype=float), marker="o", label=label)
    ax.set_xlabel("residual block")
    ax.set_ylabel("value at the block's output")
    ax.set_title(title or "Signal propagation at initialization (Gaussian inputs)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax
