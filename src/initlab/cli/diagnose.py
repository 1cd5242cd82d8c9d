"""``initlab diagnose``: a network at initialization, layer by layer, once per --init.

The data and network options are the very options of ``initlab train`` (the same
objects: same parsing, checks and help), so a network is described the same way
to both commands; only the defaults differ where the diagnosis needs it (the
course's data). The work is :func:`initlab.experiments.diagnose.diagnose_inits`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.table import Table
from rich.text import Text

from initlab.cli.options import POSITIVE_INT, quiet_option, sizes_as_options
from initlab.cli.output import (
    figure_writer,
    print_table,
    runtime_warnings_as_lines,
    stdout,
    with_provenance,
    write_outputs,
)
from initlab.cli.paths import OutputPathType, check_outputs, json_option
from initlab.cli.specs import initializer_option
from initlab.cli.train import _datasets_help, config_from_options, train_option
from initlab.experiments.diagnose import (
    DEFAULT_DATASET,
    DEFAULT_SNAPSHOTS,
    DiagnoseResult,
    InitDiagnosis,
    diagnose_inits,
    diagnose_to_dict,
)
from initlab.experiments.train import COURSE_INITS
from initlab.report import with_report

DIAGNOSTICS_FILE = "diagnostics.json"
LAYER_STD_FIGURE = "layer_std.png"
#: with --iterations: the figures over training (see initlab.diagnostics.figures)
TRAINING_FIGURES = {
    "activation_std": "activation_std.png",
    "gradient_norms": "gradient_norms.png",
    "histograms": "histograms.png",
}
#: what diagnose may write in --out
DIAGNOSE_FILES = (DIAGNOSTICS_FILE, LAYER_STD_FIGURE, *TRAINING_FIGURES.values())

#: the options of ``initlab train`` that set the training of ``--iterations N``
TRAINING_OPTIONS = ("optimizer", "learning_rate", "weight_decay", "batch_size")
#: the options of ``initlab train`` that ``initlab diagnose`` takes as they are
TRAIN_OPTIONS = (
    "dataset",
    "data_path",
    "label_column",
    "hidden",
    "layers",
    "activation",
    "output",
    "bias_init",
    "seed",
    "standardize",
    "test_fraction",
    *TRAINING_OPTIONS,
)


def _number(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.3g}"


def _percent(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{100 * value:.3g}"


#: the columns of :func:`layer_table` after the layer and its width
STAT_COLUMNS = ("z std", "z std theory", "a std", "dead %", "sat. %", "grad norm", "signal std")


def layer_table(diagnosis: InitDiagnosis) -> Table:
    """One row per layer (its number and activation, the head's for the last layer): its
    width, the measured and predicted std of ``z``, the std of ``a``, the percentages of
    dead and saturated units, the norm of ``dJ/dW`` and the std of the backward signal
    ``dJ/dz``; ``-`` where a statistic does not apply."""
    stats = diagnosis.statistics
    predicted = None if diagnosis.prediction is None else diagnosis.prediction.z_std
    table = Table(title=f"{diagnosis.init} at initialization", title_justify="left")
    table.add_column("layer")
    table.add_column("width", justify="right")
    for header in STAT_COLUMNS:
        table.add_column(header, justify="right")
    for l in range(stats.depth):
        table.add_row(
            Text(f"{l + 1} {stats.activations[l]}"),
            str(stats.units[l]),
            _number(stats.z_std[l]),
            "-" if predicted is None else _number(predicted[l]),
            _number(stats.a_std[l]),
            _percent(stats.dead_fraction[l]),
            _percent(stats.saturated_fraction[l]),
            _number(stats.grad_w_norm[l]),
            _number(stats.signal_std[l]),
        )
    return table


#: the columns of :func:`training_table` after the update and the layer
TRAINING_COLUMNS = ("z std", "a std", "dead %", "sat. %", "grad norm", "signal std")


def training_table(diagnosis: InitDiagnosis) -> Table:
    """One row per snapshot update and layer: the statistics of :func:`layer_table` (no
    theory: it describes the initialization) for the parameters before that update."""
    table = Table(title=f"{diagnosis.init} during training", title_justify="left")
    table.add_column("update", justify="right")
    table.add_column("layer")
    for header in TRAINING_COLUMNS:
        table.add_column(header, justify="right")
    for snapshot in diagnosis.snapshots:
        stats = snapshot.statistics
        for l in range(stats.depth):
            table.add_row(
                str(snapshot.update) if l == 0 else "",
                Text(f"{l + 1} {stats.activations[l]}"),
                _number(stats.z_std[l]),
                _number(stats.a_std[l]),
                _percent(stats.dead_fraction[l]),
                _percent(stats.saturated_fraction[l]),
                _number(stats.grad_w_norm[l]),
                _number(stats.signal_std[l]),
                end_section=l == stats.depth - 1,
            )
    return table


def print_training(diagnosis: InitDiagnosis) -> None:
    """The table over the snapshots, then the cost and the flags at the last one."""
    print_table(training_table(diagnosis))
    last = diagnosis.snapshots[-1]
    stdout.print(
        f"  after {last.update} updates: cost {_number(last.statistics.loss)}", markup=False
    )
    for line in [flag.message for flag in last.flags] or ["healthy"]:
        stdout.print(f"  {line}", markup=False)


def _print_header(result: DiagnoseResult) -> None:
    setup = result.setup
    network = setup.network
    stdout.print(
        f"Diagnosing {list(network.layer_sizes)} ({', '.join(network.activations) or 'linear'}"
        f" -> {network.output}) on {setup.dataset.name} at initialization: statistics on "
        f"{result.samples} training samples (E[x^2] = {result.input_second_moment:.3g}); "
        "theory: mean-field std of z, sqrt(q^l), for variance-scaling initializers",
        markup=False,
    )
    if result.trained:
        opt = setup.optimizer
        stdout.print(
            f"Training: {opt.name}, learning rate {opt.learning_rate:g}, {setup.updates} "
            f"updates of {setup.batch_size} samples; statistics before the updates "
            f"{', '.join(str(k) for k in result.snapshot_at)} ({setup.updates}: the final "
            "parameters)",
            markup=False,
        )


def print_diagnosis(diagnosis: InitDiagnosis) -> None:
    """The layer table, then the flags (or ``healthy``) and why there is no theory column."""
    print_table(layer_table(diagnosis))
    for line in [flag.message for flag in diagnosis.flags] or ["healthy"]:
        stdout.print(f"  {line}", markup=False)
    if diagnosis.prediction is None:
        stdout.print(f"  theory: none ({diagnosis.no_prediction})", markup=False)
    if diagnosis.jacobian is not None:
        values = diagnosis.jacobian
        stdout.print(
            f"  Jacobian dz[L]/dx on {values.shape[0]} sample(s): singular values median "
            f"{_number(float(np.median(values)))}, from {_number(float(values.min()))} to "
            f"{_number(float(values.max()))}",
            markup=False,
        )


EPILOG = f"""{_datasets_help()}

\b
Examples:
  initlab diagnose
  initlab diagnose --dataset circles --hidden 256,256,256,256,256,256 --activation tanh \\
      --init glorot_normal --init lecun_normal --init he
"""


@click.command(epilog=EPILOG)
@initializer_option(
    multiple=True,
    help="Weight initialization to diagnose (repeatable): a name from `initlab inits`, "
    f"optionally with parameters. Default: the course's {', '.join(COURSE_INITS)}.",
)
@click.option(
    "--out",
    "out_dir",
    type=OutputPathType(),
    default=Path("initlab-out") / "diagnose",
    show_default=True,
    help=f"Directory for {DIAGNOSTICS_FILE} and {LAYER_STD_FIGURE} (created if needed); both "
    "are replaced together, only once the diagnosis succeeded.",
)
@click.option(
    "--iterations",
    type=POSITIVE_INT,
    default=None,
    help="Also train N updates (as `initlab train` does, with --optimizer, --learning-rate, "
    "--weight-decay and --batch-size) and diagnose at log-spaced snapshots of the training.",
)
@click.option(
    "--snapshots",
    type=click.IntRange(min=2),
    default=DEFAULT_SNAPSHOTS,
    show_default=True,
    help="With --iterations: about this many log-spaced updates, 0 and N included.",
)
@click.option(
    "--jacobian",
    "jacobian",
    type=POSITIVE_INT,
    default=None,
    metavar="K",
    help="Also the singular values of the input-output Jacobian dz[L]/dx at initialization, "
    "on the first K statistics samples (its memory is estimated first).",
)
@click.option(
    "--torch-model",
    metavar="PACKAGE.MODULE:FACTORY",
    default=None,
    help="Diagnose your PyTorch model instead (imports that module and runs its code): the "
    "factory is called with no arguments and returns an nn.Module; needs the torch extra.",
)
@click.option(
    "--input-shape",
    metavar="D1,D2,...",
    default=None,
    help="With --torch-model: one example's shape, e.g. 1,8,8 (default: a first Linear "
    "layer's in_features).",
)
@json_option
@quiet_option
@click.pass_context
def diagnose(
    ctx: click.Context,
    inits: tuple[str, ...],
    iterations: int | None,
    snapshots: int,
    jacobian: int | None,
    out_dir: Path,
    json_path: Path | None,
    quiet: bool,
    torch_model: str | None,
    input_shape: str | None,
    **options: Any,
) -> None:
    """Look inside a network at initialization, layer by layer, once per --init.

    For each --init: a table per layer of the measured std of the
    pre-activations z, the std mean-field theory predicts for it (variance-scaling
    initializers with zero-mean biases), the std of the activations a, the dead
    and saturated units, the gradient norm ||dJ/dW|| and the std of the backward
    signal dJ/dz, on the training set (at most its first 1000 samples); then the
    flags in plain words. Writes diagnostics.json and layer_std.png (measured
    and predicted std per layer, every --init on one chart) and report.html
    (all of it on one page) into --out. The
    network and data options are those of `initlab train`; the default is the
    course's network on the course's data. With --iterations N the networks are
    also trained as `initlab train` trains them, and diagnosed again at
    --snapshots log-spaced updates, and activation_std.png (a heatmap of the
    activation std over layer x update), gradient_norms.png (each layer's
    ||dJ/dW|| over the updates) and histograms.png (layer outputs over the
    updates) are written as well.

    With --torch-model package.module:factory (which imports that module and
    runs its code) it diagnoses your PyTorch model instead, on Gaussian inputs
    of --input-shape, once per --init (none: the model's own initialization).
    """
    if torch_model is not None:  # a user's torch model: initlab.cli.torch_model
        from initlab.cli.torch_model import diagnose_torch_model

        return diagnose_torch_model(ctx, torch_model, input_shape, inits, out_dir, json_path,
                                    quiet, options, DIAGNOSE_FILES)  # fmt: skip
    if input_shape is not None:
        raise click.UsageError("--input-shape goes with --torch-model")
    from initlab.plots import layer_std_figure
    from initlab.results import json_bytes

    if iterations is None:
        for name in (*TRAINING_OPTIONS, "snapshots"):
            if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT:
                flag = "--" + name.replace("_", "-")
                raise click.UsageError(f"{flag} is for training: give --iterations N as well")
    with sizes_as_options():
        config = config_from_options(
            **options, inits=inits, iterations=iterations or 1, epochs=None
        )
    check_outputs(out_dir, DIAGNOSE_FILES, json_path)
    with sizes_as_options(), runtime_warnings_as_lines():
        result = diagnose_inits(
            config, snapshots=None if iterations is None else snapshots, jacobian=jacobian
        )
    if not quiet:
        _print_header(result)
        for diagnosis in result.diagnoses:
            print_diagnosis(diagnosis)
            if result.trained:
                print_training(diagnosis)
    document = with_provenance(diagnose_to_dict(result))
    writers = [
        ("diagnostics", lambda: (out_dir / DIAGNOSTICS_FILE, json_bytes(document))),
        (
            "layer std figure",
            figure_writer(out_dir / LAYER_STD_FIGURE, lambda: layer_std_figure(result)),
        ),
    ]
    if result.trained:
        built: dict[str, Any] = {}  # the three figures are drawn together, once

        def training_figure(key: str):  # type: ignore[no-untyped-def]
            from initlab.diagnostics.figures import training_figures

            if not built:
                built.update(training_figures(result))
            return built[key]

        for key, name in TRAINING_FIGURES.items():
            build = lambda key=key: training_figure(key)  # noqa: E731
            label = key.replace("_", " ") + " figure"
            writers.append((label, figure_writer(out_dir / name, build)))
    if json_path is not None:
        writers.append(("diagnostics copy", lambda: (json_path, json_bytes(document))))
    write_outputs(with_report(writers, out_dir), quiet, write_through=[json_path])


diagnose.params[:0] = [
    train_option(name, **({"default": DEFAULT_DATASET} if name == "dataset" else {}))
    for name in TRAIN_OPTIONS
]
