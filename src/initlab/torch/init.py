"""``init_``: initlab's catalogue applied to the Linear and convolution layers of a torch model.

Every weight is drawn in float64 by initlab's own initializer from a NumPy generator,
with torch's fans (:mod:`initlab.torch.layers`), then copied into the layer's tensor:

* variance-scaling schemes (``glorot_*``, ``he_*``, ``lecun_*``, ``variance_scaling``,
  ``keras_dense``, ``sklearn_mlp``) get ``variance = scale / n(fan_in, fan_out)`` with
  torch's fans, so ``he_normal`` on a ``Conv2d(c, k, 3)`` is ``N(0, 2 / (9 c))`` as
  ``kaiming_normal_`` gives;
* element-wise schemes (``normal``, ``uniform``, ``truncated_normal``, ``constant``,
  ``torch_linear``, ``he``, ...) and user code (``package.module:function``) are called
  with the weight's own shape (``(out, in / groups, *kernel)``);
* ``orthogonal`` and ``sparse`` see the weight as the matrix ``(d0, d1 * rf)``, as
  torch's ``orthogonal_`` does;
* ``identity`` and ``zero_hadamard`` put their ``(d0, d1)`` matrix at the centre of
  the kernel (torch's ``dirac_`` for ``identity``), so a convolution passes its input
  through;
* ``lsuv`` (Mishkin and Matas 2016) draws every selected weight orthogonal, then, layer
  by layer *in the order the forward pass runs them*, divides the weight by
  ``sqrt(Var(output))`` on the data batch until ``|Var - 1| < tol`` (at most
  ``max_iter`` times), each time running the model's real forward pass.

The work is transactional: the new values are built on a copy of the parameters (the
model's forward passes for LSUV run on that copy through
``torch.func.functional_call``) and loaded into the model only once every selected
layer succeeded; after any error the model is unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.func import functional_call

from initlab.checks import as_rng
from initlab.initializers.apply import checked_array, resolve
from initlab.initializers.base import Initializer, Rng
from initlab.initializers.lsuv import LSUV
from initlab.initializers.simple import truncated_standard_normal
from initlab.initializers.structured import Identity, Orthogonal, Sparse, ZerO
from initlab.initializers.variance_scaling import (
    TRUNCATED_STD,
    KerasDense,
    SklearnMLP,
    VarianceScaling,
    glorot_uniform,
)
from initlab.torch.layers import (
    Layer,
    LayerSelection,
    execution_order,
    run_model,
    select_layers,
)

__all__ = ["INIT_COLUMNS", "as_batch", "draw_weight", "init_", "numpy_rng"]

#: The columns of the table :func:`init_` returns.
INIT_COLUMNS = (
    "layer",
    "type",
    "shape",
    "fan_in",
    "fan_out",
    "scheme",
    "bias",
    "std",
    "expected_std",
    "output_variance",
    "rescalings",
)


def numpy_rng(generator: Any) -> Rng:
    """A NumPy generator from ``generator``: ``None`` (fresh entropy), an int seed, a NumPy
    ``Generator``/``RandomState``/``SeedSequence``, or a ``torch.Generator`` (one 63-bit
    seed is drawn from it)."""
    if generator is None:
        return np.random.default_rng()
    if isinstance(generator, torch.Generator):
        seed = int(torch.randint(0, 2**62, (1,), generator=generator).item())
        return np.random.default_rng(seed)
    return as_rng(generator, "generator")


def _variance_scaling(init: Any, fan_in: int, fan_out: int) -> VarianceScaling | None:
    if isinstance(init, VarianceScaling):
        return init
    if isinstance(init, KerasDense):
        return glorot_uniform()
    return None


def _draw_variance_scaling(
    vs: VarianceScaling, rng: Rng, shape: tuple[int, ...], fan_in: int, fan_out: int
) -> np.ndarray:
    variance = vs.variance_for(fan_in, fan_out)
    if vs.distribution == "normal":
        return rng.standard_normal(shape) * math.sqrt(variance)
    if vs.distribution == "truncated_normal":
        std = math.sqrt(variance) / TRUNCATED_STD
        return truncated_standard_normal(rng, -2.0, 2.0, shape) * std
    limit = math.sqrt(3.0 * variance)
    return rng.uniform(-limit, limit, shape)


def _centred(matrix: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``matrix`` (shape ``shape[:2]``) at the centre of a kernel of ``shape[2:]``."""
    weight = np.zeros(shape)
    centre = tuple(k // 2 for k in shape[2:])
    weight[(slice(None), slice(None), *centre)] = matrix
    return weight


def draw_weight(
    init: Initializer, rng: Rng, shape: tuple[int, ...], fan_in: int, fan_out: int
) -> Any:
    """One weight of torch ``shape`` drawn by ``init`` with torch's fans (module docstring)."""
    if len(shape) == 2:
        return init(rng, shape)  # a matrix: initlab's fans are torch's
    vs = _variance_scaling(init, fan_in, fan_out)
    if vs is not None:
        return _draw_variance_scaling(vs, rng, shape, fan_in, fan_out)
    if isinstance(init, SklearnMLP):
        bound = init.bound(fan_in, fan_out)
        return rng.uniform(-bound, bound, shape)
    if isinstance(init, Orthogonal | Sparse):
        rows = shape[0]
        return np.asarray(init(rng, (rows, math.prod(shape) // rows))).reshape(shape)
    if isinstance(init, Identity | ZerO):
        return _centred(init(rng, shape[:2]), shape)
    return init(rng, shape)


def _expected_std(init: Any, shape: tuple[int, ...], fan_in: int, fan_out: int) -> float:
    """The std the scheme gives the entries, where the catalogue knows it (else NaN)."""
    if isinstance(init, Identity | ZerO | LSUV) or type(init).__module__.startswith(
        "initlab.initializers.custom"
    ):
        return float("nan")
    moments = getattr(init, "moments", None)
    if moments is None or not type(init).__module__.startswith("initlab."):
        return float("nan")
    if isinstance(init, Orthogonal | Sparse) and len(shape) > 2:
        fan_out, fan_in = shape[0], math.prod(shape) // shape[0]
    result = moments(fan_in, fan_out)
    return float("nan") if result is None else result.std


def _draw_bias(bias_init: Initializer, rng: Rng, units: int, fan_in: int, fan_out: int) -> Any:
    draw = getattr(bias_init, "draw_bias", None)
    if draw is not None:
        return draw(rng, (units, 1), fan_in, fan_out)
    return bias_init(rng, (units, 1))


def as_batch(data: Any, model: nn.Module, what: str = "data") -> torch.Tensor:
    """``data`` (a tensor or array) as a tensor of the model's floating dtype and device."""
    reference = next(model.parameters(), None)
    dtype = reference.dtype if reference is not None else torch.get_default_dtype()
    device = reference.device if reference is not None else None
    if isinstance(data, torch.Tensor):
        tensor = data.detach()
    elif data is None:  # np.asarray(None, float) would be a 0-d nan
        raise TypeError(f"{what} must be a tensor or a numeric array, got None")
    else:
        try:
            tensor = torch.as_tensor(np.asarray(data, dtype=np.float64))
        except (TypeError, ValueError):
            raise TypeError(
                f"{what} must be a tensor or a numeric array, got {type(data).__name__}"
            ) from None
    if not (tensor.is_floating_point() or tensor.dtype in (torch.int32, torch.int64)):
        raise TypeError(f"{what} must hold real numbers, got dtype {tensor.dtype}")
    tensor = tensor.to(dtype=dtype, device=device)
    if tensor.ndim < 1 or tensor.shape[0] < 2:
        raise ValueError(
            f"{what} must be a batch of at least 2 examples along its first dimension, "
            f"got shape {tuple(tensor.shape)}"
        )
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{what} contains non-finite values (nan or inf)")
    return tensor


@dataclass
class _Row:
    layer: Layer
    scheme: str
    bias: str
    expected_std: float
    output_variance: float = float("nan")
    rescalings: int = 0


class _Stop(BaseException):
    """Raised by a hook to end a forward pass once the layer's output is known."""


def _first_output(
    model: nn.Module, state: dict[str, torch.Tensor], layer: Layer, batch: torch.Tensor
) -> torch.Tensor:
    """The output of ``layer`` at its first call in ``model``'s forward pass on ``batch``,
    with the parameters and buffers ``state`` (``model`` itself is not touched)."""
    captured: list[torch.Tensor] = []

    def hook(module: nn.Module, args: Any, output: Any) -> None:
        captured.append(output)
        raise _Stop

    handle = layer.module.register_forward_hook(hook)
    try:
        run_model(model, lambda: functional_call(model, state, (batch,)))
    except _Stop:
        pass
    finally:
        handle.remove()
    if not captured:
        raise ValueError(f"lsuv: layer {layer.name!r} is not run by the model's forward pass")
    return captured[0]


def _lsuv(
    model: nn.Module,
    lsuv: LSUV,
    layers: list[Layer],
    state: dict[str, torch.Tensor],
    rows: dict[str, _Row],
    batch: torch.Tensor,
) -> None:
    """Calibrate ``state``'s weights of ``layers`` in execution order (module docstring)."""
    ordered = execution_order(model, layers, lambda: functional_call(model, _copy(state), (batch,)))
    for layer in ordered:
        key = _key(layer.name, "weight")
        rescalings = 0
        variance = float(_first_output(model, _copy(state), layer, batch).double().var(False))
        while abs(variance - 1.0) >= lsuv.tol and rescalings < lsuv.max_iter:
            if not (math.isfinite(variance) and variance > 0):
                raise ValueError(
                    f"lsuv: layer {layer.name!r} has output variance {variance} on the data "
                    "batch; it cannot be rescaled to 1 (constant or degenerate data?)"
                )
            state[key] = state[key] / math.sqrt(variance)
            rescalings += 1
            variance = float(_first_output(model, _copy(state), layer, batch).double().var(False))
        rows[layer.name].output_variance = variance
        rows[layer.name].rescalings = rescalings


def _key(name: str, param: str) -> str:
    return f"{name}.{param}" if name else param


def _copy(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {key: value.clone() for key, value in state.items()}


def init_(
    model: nn.Module,
    spec: str | Initializer,
    *,
    generator: Any = None,
    bias: str | Initializer | None = "zeros",
    data: Any = None,
    layers: LayerSelection = None,
) -> pd.DataFrame:
    """Initialize the ``nn.Linear`` and (transposed) convolution layers of ``model`` in place.

    Args:
        model: any ``torch.nn.Module``.
        spec: an initializer of the catalogue (``"he_normal"``,
            ``"normal(std=0.01)"``, ``"lsuv(tol=0.05)"``, ``"my_pkg.inits:my_init"``,
            which imports and runs that code) or an initializer object.
        generator: ``None``, an int seed, a NumPy generator or a ``torch.Generator``;
            the same seed gives the same weights.
        bias: the bias initializer (``"zeros"``; ``"torch_linear"`` gives torch's
            default ``U(+-1/sqrt(fan_in))``), or ``None`` to leave the biases as they are.
        data: a batch (first dimension: examples) for data-dependent schemes (``lsuv``).
        layers: name glob patterns and/or module types selecting the layers (default: all
            supported layers). Layers are drawn in module order, weight then bias.

    Returns:
        One row per initialized layer (:data:`INIT_COLUMNS`): its name, type, weight shape,
        torch's fan_in and fan_out, the scheme, the bias scheme, the std of the drawn
        weight, the std the scheme gives (NaN where not known), and for ``lsuv`` the
        output variance reached and the number of rescalings.

    Raises:
        TypeError: a model that is not an ``nn.Module``, a bad ``layers`` or ``generator``.
        ValueError: an unknown or malformed spec, no supported layer, a pattern matching no
            layer, ``lsuv`` without ``data`` or with data the model refuses (the model's
            error in one line, with the layer), or an initializer returning a wrong shape or
            non-finite values. The model is unchanged after any error.
    """
    selected = select_layers(model, layers)
    weight_init, weight_label = resolve(spec, "spec")
    scheme = spec if isinstance(spec, str) else weight_label
    bias_init = None
    bias_label = "unchanged"
    if bias is not None:
        bias_init, bias_label = resolve(bias, "bias")
        bias_label = bias if isinstance(bias, str) else bias_label
        if getattr(bias_init, "data_dependent", False):
            raise ValueError(f"bias initializer {bias_label!r} is data-dependent; it draws weights")
    lsuv = weight_init if isinstance(weight_init, LSUV) else None
    if lsuv is None and getattr(weight_init, "data_dependent", False):
        raise ValueError(
            f"initializer {weight_label} is data-dependent; on torch models initlab runs "
            "its own lsuv only"
        )
    batch = None
    if lsuv is not None:
        if data is None:
            raise ValueError(
                f"initializer {weight_label} is data-dependent: pass a data batch "
                "(init_(model, 'lsuv', data=batch), examples along the first dimension)"
            )
        batch = as_batch(data, model)
    rng = numpy_rng(generator)
    draw_init: Initializer = Orthogonal(1.0) if lsuv is not None else weight_init

    state = {
        name: tensor.detach().clone()
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]
    }
    rows: dict[str, _Row] = {}
    changed: list[str] = []
    for layer in selected:
        shape = layer.weight_shape
        fan_in, fan_out = layer.fans
        what = f"{layer.name}.weight"
        weight = checked_array(
            draw_weight(draw_init, rng, shape, fan_in, fan_out), shape, weight_label, what
        )
        key = _key(layer.name, "weight")
        if key not in state:
            raise ValueError(
                f"layer {layer.name!r}: its weight is not a plain parameter {key!r} of the "
                "model (a parametrization such as weight_norm?); initialize it before wrapping"
            )
        state[key] = torch.as_tensor(weight).to(state[key])
        changed.append(key)
        module_bias = getattr(layer.module, "bias", None)
        if bias_init is not None and module_bias is not None:
            units = module_bias.shape[0]
            value = checked_array(
                _draw_bias(bias_init, rng, units, fan_in, fan_out),
                (units, 1),
                repr(bias_label),
                f"{layer.name}.bias",
            )
            bkey = _key(layer.name, "bias")
            state[bkey] = torch.as_tensor(value.ravel()).to(state[bkey])
            changed.append(bkey)
        expected = _expected_std(draw_init if lsuv is None else lsuv, shape, fan_in, fan_out)
        shown_bias = bias_label if module_bias is not None else "none"
        rows[layer.name] = _Row(layer, str(scheme), str(shown_bias), expected)
    if lsuv is not None and batch is not None:
        with torch.no_grad():
            _lsuv(model, lsuv, selected, state, rows, batch)
    model.load_state_dict({key: state[key] for key in changed}, strict=False)
    return _table(model, rows)


def _table(model: nn.Module, rows: dict[str, _Row]) -> pd.DataFrame:
    records = []
    for row in rows.values():
        weight = row.layer.module.weight.detach().double()
        records.append(
            (
                row.layer.name,
                row.layer.kind,
                str(tuple(weight.shape)),
                *row.layer.fans,
                row.scheme,
                row.bias,
                float(weight.std(unbiased=False)),
                row.expected_std,
                row.output_variance,
                row.rescalings,
            )
        )
    return pd.DataFrame(records, columns=list(INIT_COLUMNS))
