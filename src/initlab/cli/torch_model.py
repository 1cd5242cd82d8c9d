"""``initlab diagnose --torch-model package.module:factory``: a user's torch model at
initialization, layer by layer, once per ``--init``.

**This imports the user's module and runs the factory (their code).** The model is built
afresh for each ``--init`` (``torch.manual_seed(--seed)`` first, so torch's own default
initialization is reproducible too), initialized by :func:`initlab.torch.init_` (none:
the factory's own initialization, labelled ``torch default``; biases by ``--bias-init``)
and diagnosed by
:func:`initlab.torch.diagnose` on :data:`SAMPLES` Gaussian inputs ``N(0, 1)`` of shape
``--input-shape``; ``lsuv`` calibrates on the same inputs. For a model whose output is
``(N, k)`` the backward statistics are those of the cross-entropy (``k = 1``: binary)
against uniformly random labels, whose loss at initialization should be about ``ln k``.
It writes ``diagnostics.json``, ``layer_std.png`` and ``report.html`` into ``--out``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from initlab.cli.output import (
    figure_writer,
    print_table,
    stdout,
    with_provenance,
    write_outputs,
)
from initlab.cli.paths import check_outputs

__all__ = ["SAMPLES", "TORCH_DEFAULT", "diagnose_torch_model", "parse_input_shape"]

#: How many Gaussian examples the diagnosis uses.
SAMPLES = 256
#: The label of the factory's own initialization.
TORCH_DEFAULT = "torch default"
#: The options of ``initlab diagnose`` that go with ``--torch-model``.
ALLOWED = (
    "torch_model", "input_shape", "inits", "out_dir", "json_path", "quiet", "seed", "bias_init"
)  # fmt: skip


def parse_input_shape(text: str) -> tuple[int, ...]:
    """``"1,8,8"`` -> ``(1, 8, 8)``: one example's shape, positive integers."""
    try:
        dims = tuple(int(part) for part in text.split(","))
    except ValueError:
        dims = ()
    if not dims or any(d < 1 for d in dims):
        raise click.BadParameter(
            f"{text!r} is not a shape: give positive integers separated by commas, e.g. 1,8,8",
            param_hint="'--input-shape'",
        )
    return dims


def _refuse_other_options(ctx: click.Context) -> None:
    for param in ctx.command.params:
        if param.name in ALLOWED or param.name is None:
            continue
        if ctx.get_parameter_source(param.name) is not click.core.ParameterSource.DEFAULT:
            flag = param.opts[0] if param.opts else param.name
            raise click.UsageError(
                f"{flag} describes initlab's own networks and does not go with --torch-model"
            )


def load_factory(spec: str) -> Any:
    """The callable ``package.module:factory`` names (importing the module runs its code)."""
    from initlab.initializers.custom import import_user_module

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"--torch-model {spec!r} must be written package.module:factory")
    try:
        target: Any = import_user_module(module_name)
    except (Exception, SystemExit) as exc:  # user code may fail to import in any way
        raise ValueError(
            f"--torch-model {spec!r}: cannot import module {module_name!r} "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:300]})"
        ) from None
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ValueError(
                f"--torch-model {spec!r}: module {module_name!r} has no attribute {attr!r}"
            ) from None
    if not callable(target):
        raise ValueError(f"--torch-model {spec!r} is not callable ({type(target).__name__})")
    return target


def _build(spec: str, factory: Any, seed: int) -> Any:
    import torch
    from torch import nn

    from initlab.initializers.custom import call_user_code

    torch.manual_seed(seed)
    model = call_user_code(f"--torch-model {spec!r}", factory)
    if not isinstance(model, nn.Module):
        raise ValueError(
            f"--torch-model {spec!r} returned {type(model).__name__}, not a torch.nn.Module"
        )
    return model


def _input_shape(model: Any, given: tuple[int, ...] | None) -> tuple[int, ...]:
    from torch import nn

    from initlab.torch import select_layers

    if given is not None:
        return given
    first = select_layers(model)[0]
    if isinstance(first.module, nn.Linear):
        return (first.module.in_features,)
    raise click.UsageError(
        f"--input-shape is needed: the model's first layer {first.name!r} is a "
        f"{first.kind} (give one example's shape, e.g. --input-shape 1,8,8)"
    )


def _check_batch_fits(shape: tuple[int, ...], given: bool) -> None:
    """Refuse an input shape whose :data:`SAMPLES` float64 examples, ``8 SAMPLES prod(shape)``
    bytes, cannot fit in the available memory (before torch tries to allocate them)."""
    from initlab.memory import available_bytes, format_bytes

    needed = 8 * SAMPLES * math.prod(shape)
    available = available_bytes()
    if needed <= available:
        return
    text = ",".join(str(d) for d in shape)
    message = (
        f"{SAMPLES} Gaussian inputs of shape {text} need about {format_bytes(needed)} of "
        f"memory, but {format_bytes(available)} is available; give a smaller shape"
    )
    if given:
        raise click.BadParameter(f"{text!r}: {message}", param_hint="'--input-shape'")
    raise click.UsageError(f"the model's input shape (from its first layer): {message}")


def _labels(model: Any, batch: Any, seed: int) -> Any:
    """Uniformly random labels for the model's ``(N, k)`` output, or None."""
    import torch
    from torch.func import functional_call

    from initlab.torch.layers import run_model

    state = {n: t.detach().clone() for n, t in [*model.named_parameters(), *model.named_buffers()]}
    with torch.no_grad():
        output = run_model(model, lambda: functional_call(model, state, (batch,)))
    if not isinstance(output, torch.Tensor) or output.ndim != 2:
        return None
    classes = max(int(output.shape[1]), 2)
    generator = torch.Generator().manual_seed(seed + 1)
    return torch.randint(0, classes, (batch.shape[0],), generator=generator)


def _number(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{value:.3g}"


def _table(label: str, diagnosis: Any) -> Any:
    from rich.table import Table
    from rich.text import Text

    stats = diagnosis.statistics
    table = Table(title=f"{label} at initialization", title_justify="left")
    for header in ("layer", "type", "units", "z std", "a std", "dead %", "sat. %"):
        table.add_column(header, justify="left" if header in ("layer", "type") else "right")
    for header in ("grad norm", "signal std"):
        table.add_column(header, justify="right")
    for l in range(stats.depth):
        percent = [
            "-" if not math.isfinite(v) else f"{100 * v:.3g}"
            for v in (stats.dead_fraction[l], stats.saturated_fraction[l])
        ]
        table.add_row(
            Text(f"{l + 1}: {diagnosis.names[l]} ({stats.activations[l]})"),
            diagnosis.types[l],
            str(stats.units[l]),
            _number(stats.z_std[l]),
            _number(stats.a_std[l]),
            *percent,
            _number(stats.grad_w_norm[l]),
            _number(stats.signal_std[l]),
        )
    return table


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _run(label: str, diagnosis: Any, table: Any) -> dict[str, Any]:
    layers = diagnosis.table().to_dict(orient="records")
    return {
        "init": label,
        "loss": diagnosis.statistics.loss if diagnosis.statistics.labelled else None,
        "layers": [
            {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in layers
        ],
        "flags": [
            {
                "kind": f.kind,
                "layer": f.layer,
                "value": f.value,
                "threshold": f.threshold,
                "message": f.message,
            }
            for f in diagnosis.flags
        ],
        "initialized": None if table is None else table.to_dict(orient="records"),
    }


def diagnose_torch_model(
    ctx: click.Context,
    spec: str,
    input_shape: str | None,
    inits: tuple[str, ...],
    out_dir: Path,
    json_path: Path | None,
    quiet: bool,
    options: dict[str, Any],
    names: tuple[str, str],
) -> None:
    """The ``--torch-model`` path of ``initlab diagnose`` (module docstring): ``options``
    are the command's other options (``--seed`` and ``--bias-init`` are used, the others
    refused), ``names`` the diagnostics JSON and the figure written in ``out_dir``."""
    seed, bias = int(options["seed"]), options["bias_init"]
    _refuse_other_options(ctx)
    shape = None if input_shape is None else parse_input_shape(input_shape)
    try:
        import initlab.torch as itorch
    except ImportError as exc:  # TorchMissingError: its message names the extra
        raise click.UsageError(f"--torch-model: {exc}") from None
    import torch

    check_outputs(out_dir, names, json_path)
    factory = load_factory(spec)
    runs, diagnoses = [], {}
    try:
        for label in inits or (TORCH_DEFAULT,):
            model = _build(spec, factory, seed)
            given, shape = shape is not None, _input_shape(model, shape)
            _check_batch_fits(shape, given)
            generator = torch.Generator().manual_seed(seed)
            batch = torch.randn((SAMPLES, *shape), generator=generator, dtype=torch.float64)
            batch = itorch.init.as_batch(batch, model, "the Gaussian inputs")
            table = None
            if label != TORCH_DEFAULT or inits:
                table = itorch.init_(model, label, generator=seed, bias=bias, data=batch)
            labels = _labels(model, batch, seed)
            diagnosis = itorch.diagnose(model, batch, labels, run=label)
            diagnoses[label] = diagnosis
            runs.append(_run(label, diagnosis, table))
    except TypeError as exc:  # the library's TypeErrors (a bad model) are usage errors here
        raise ValueError(str(exc)) from None
    if not quiet:
        stdout.print(
            f"Diagnosing {spec} at initialization on {SAMPLES} Gaussian inputs of shape "
            f"{shape}; backward statistics against random labels",
            markup=False,
        )
        for label, diagnosis in diagnoses.items():
            print_table(_table(label, diagnosis))
            for line in [f.message for f in diagnosis.flags] or ["healthy"]:
                stdout.print(f"  {line}", markup=False)
    document = _finite(
        with_provenance({
            "experiment": "diagnose-torch",
            "config": {"torch_model": spec, "input_shape": list(shape or ()), "seed": seed,
                       "bias_init": bias,
                       "samples": SAMPLES, "inits": list(inits) or [TORCH_DEFAULT]},
            "inits": runs,
        })
    )  # fmt: skip
    content = (json.dumps(document, indent=2, allow_nan=False) + "\n").encode()

    def figure() -> Any:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(8.0, 4.5), layout="constrained")
        itorch.plot_layer_std(
            fig.subplots(), diagnoses, title=f"Layer output std at initialization: {spec}"
        )
        return fig

    writers = [
        ("diagnostics", lambda: (out_dir / names[0], content)),
        ("layer std figure", figure_writer(out_dir / names[1], figure)),
    ]
    if json_path is not None:
        writers.append(("diagnostics copy", lambda: (json_path, content)))
    from initlab.report import with_report

    write_outputs(with_report(writers, out_dir), quiet, write_through=[json_path])
