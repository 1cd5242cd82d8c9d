"""``initlab train``: train one network per initialization on any dataset, with any optimizer."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from initlab.activations import canonical_activation
from initlab.cli.options import (
    NON_NEGATIVE_FLOAT,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    engine_option,
    print_every_option,
    quiet_option,
    sizes_as_options,
)
from initlab.cli.output import (
    BOUNDARY_FIGURE,
    COST_FIGURE,
    OUTPUT_FILES,
    cost_printer,
    figure_writer,
    report_flags,
    report_runs,
    results_writers,
    runtime_warnings_as_lines,
    stdout,
    write_outputs,
)
from initlab.cli.paths import check_outputs, json_option, out_option
from initlab.cli.specs import bias_init_option, initializer_option
from initlab.datasets import DATASETS, resolve_spec
from initlab.experiments.train import (
    COURSE_INITS,
    DEFAULT_ITERATIONS,
    DEFAULT_MINIBATCH,
    TrainConfig,
    TrainResult,
    TrainSetup,
    far_from_standardized,
    feature_spread,
    prepare,
    run_train,
)
from initlab.fit import steps_per_epoch
from initlab.optimizers import OPTIMIZERS, get_optimizer
from initlab.report import with_report
from initlab.spec import split_top_level


def _datasets_help() -> str:
    lines = ["\b", "Datasets (--dataset NAME or NAME(key=value, ...)):"]
    for entry in DATASETS.values():
        params = ", ".join(f"{k}={v!r}" for k, v in entry.defaults.items() if v is not None)
        extra = {"csv": " --data-path FILE --label-column NAME", "npz": " --data-path FILE"}
        head = f"{entry.name}({params})" if params else entry.name
        weights = (
            "; the weights come from the course's RandomState(3 + --seed)"
            if entry.name == "course_circles"
            else ""
        )
        lines.append(f"  {head}{extra.get(entry.name, '')}: {entry.summary}{weights}")
    return "\n".join(lines)


def _optimizers_help() -> str:
    lines = ["\b", "Optimizers (--optimizer NAME or NAME(key=value, ...)):"]
    for name, cls in OPTIMIZERS.items():
        shown = ("name", "learning_rate", "weight_decay")
        params = {k: v for k, v in cls().config().items() if k not in shown}
        args = ", ".join(f"{k}={v!r}" for k, v in params.items())
        head = f"{name}({args})" if args else name
        batching = (
            "full batch only"
            if cls.full_batch
            else f"default batch min({DEFAULT_MINIBATCH}, training samples)"
        )
        lines.append(f"  {head}: default learning rate {cls.default_learning_rate:g}, {batching}")
    return "\n".join(lines)


EPILOG = f"""{_datasets_help()}

{_optimizers_help()}

\b
Examples:
  initlab train --dataset "moons(noise=0.2)" --init zeros --init he
  initlab train --dataset digits --standardize --hidden 64 --optimizer adam \\
      --epochs 20 --batch-size 32
  initlab train --dataset csv --data-path examples/flowers.csv --label-column species \\
      --standardize
"""


def _print_header(setup) -> None:  # type: ignore[no-untyped-def]
    """The one-line summary of the training, and a hint for far-from-standardized features."""
    data, network, opt = setup.dataset, setup.network, setup.optimizer
    m = data.X_train.shape[1]
    per_epoch = steps_per_epoch(m, setup.batch_size)
    stdout.print(
        f"Training {list(network.layer_sizes)} ({', '.join(network.activations) or 'linear'}"
        f" -> {network.output}) on {data.name}: {m} train / "
        f"{data.X_test.shape[1]} test samples, {data.n_classes} classes; {opt.name}, "
        f"learning rate {opt.learning_rate:g}, {setup.updates} updates of "
        f"{setup.batch_size} samples ({per_epoch} per epoch)",
        markup=False,
    )
    if not setup.config.standardize and far_from_standardized(data.X_train):
        max_abs_mean, max_std = feature_spread(data.X_train)
        stdout.print(
            f"hint: the features are far from standardized (largest |mean| {max_abs_mean:.3g}, "
            f"largest std {max_std:.3g}); --standardize scales them to mean 0, std 1",
            markup=False,
        )


def _checked(check: Callable[[str], Any]):  # type: ignore[no-untyped-def]
    """A click callback that runs ``check`` on every value and reports its ValueError."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None:
            return value
        for item in value if isinstance(value, tuple) else (value,):
            try:
                check(item)
            except ValueError as exc:
                raise click.BadParameter(str(exc), ctx, param) from None
        return value

    return callback


def _activation_list(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    try:  # names spelled as registered (ReLU -> relu), as results record them
        return tuple(canonical_activation(name) for name in split_top_level(value))
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def _sizes(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    if param.name == "hidden" and value.strip().lower() == "none":
        return ()
    try:
        sizes = tuple(int(item) for item in value.split(","))
    except ValueError:
        sizes = ()
    if not sizes or any(size < 1 for size in sizes):
        raise click.BadParameter(
            f"{value!r} is not allowed; give comma-separated positive integers, e.g. 64,64"
            + (" (or none)" if param.name == "hidden" else ""),
            ctx,
            param,
        )
    return sizes


@click.command(epilog=EPILOG)
@click.option(
    "--dataset",
    default="circles",
    show_default=True,
    callback=_checked(resolve_spec),
    metavar="SPEC",
    help="Dataset name, optionally with parameters: moons(noise=0.2). See the list below.",
)
@click.option("--data-path", metavar="FILE", help="The file of --dataset csv or npz.")
@click.option("--label-column", metavar="NAME", help="The label column of --dataset csv.")
@click.option(
    "--hidden",
    default="10,5",
    show_default=True,
    callback=_sizes,
    metavar="SIZES",
    help="Hidden layer widths, comma separated (none: no hidden layer). "
    "Inputs and outputs follow from the data.",
)
@click.option(
    "--layers",
    callback=_sizes,
    metavar="SIZES",
    help="Every layer size, inputs and outputs included (e.g. 2,10,5,1); overrides --hidden.",
)
@click.option(
    "--activation",
    default="relu",
    show_default=True,
    callback=_activation_list,
    metavar="NAMES",
    help="Hidden activation: one for every layer, or one per layer, comma separated.",
)
@click.option(
    "--output",
    type=click.Choice(["auto", "sigmoid", "softmax"]),
    default="auto",
    show_default=True,
    help="Output head; auto: sigmoid for 2 classes, softmax for more.",
)
@initializer_option(
    multiple=True,
    help="Weight initialization to train (repeatable; one network each, same data and seed): "
    "a name from `initlab inits`, optionally with parameters. Default: the course's "
    f"{', '.join(COURSE_INITS)}.",
)
@bias_init_option()
@click.option(
    "--optimizer",
    default="adam",
    show_default=True,
    callback=_checked(get_optimizer),
    metavar="SPEC",
    help="gd, sgd, momentum or adam, optionally with parameters: momentum(beta=0.95).",
)
@click.option(
    "--learning-rate",
    type=POSITIVE_FLOAT,
    default=None,
    help="Step size. Default: the optimizer's (0.001 for adam, 0.01 otherwise).",
)
@click.option(
    "--weight-decay",
    type=NON_NEGATIVE_FLOAT,
    default=0.0,
    show_default=True,
    help="L2 penalty on the weights (added to their gradient as lambda * W).",
)
@click.option(
    "--iterations",
    type=POSITIVE_INT,
    default=None,
    help=f"Number of updates (default {DEFAULT_ITERATIONS}).",
)
@click.option(
    "--epochs",
    type=POSITIVE_INT,
    default=None,
    help="Number of passes over the training set (instead of --iterations).",
)
@click.option(
    "--batch-size",
    type=POSITIVE_INT,
    default=None,
    help=f"Minibatch size (shuffled every epoch). Default: min({DEFAULT_MINIBATCH}, training "
    "samples) for sgd, momentum and adam (scikit-learn's 'auto'); the whole set for gd.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seeds the data, the split, the initial weights and the shuffling. With --dataset "
    "course_circles the weights come from the course's legacy RandomState(3 + seed), so the "
    "course's settings give the course's numbers.",
)
@click.option(
    "--standardize/--no-standardize",
    default=False,
    show_default=True,
    help="Scale features to mean 0, std 1 (statistics of the training part only).",
)
@click.option(
    "--test-fraction",
    type=click.FloatRange(min=0.0, max=1.0, min_open=True, max_open=True),
    default=0.25,
    show_default=True,
    help="Fraction of the data held out for testing (stratified).",
)
@print_every_option(100, "updates")
@engine_option(
    "fast: every initialization trains at once on the population engine (the compiled "
    "kernel; batched NumPy for very wide layers), costs printed live, one line per run at "
    "each printed update; reference: the NumPy loop (the oracle), one run after the other."
)
@out_option(Path("initlab-out") / "train")
@json_option
@quiet_option
def train(
    print_every: int,
    engine: str,
    out_dir: Path,
    json_path: Path | None,
    quiet: bool,
    **options: Any,
) -> None:
    """Train a network of any depth and activation on a dataset, once per --init.

    Every --init trains its own network on the same data, split, seed and
    minibatch order, so they differ only by their initialization. Prints the
    cost every --print-every updates and an accuracy table, and writes the
    cost curves (costs.png), the decision boundaries for 2-D data
    (decision_boundaries.png), results.json and report.html (all of it on one
    page) into --out. Everything,
    including the data, is checked before training starts.
    """
    config = config_from_options(print_every=print_every, **options)
    check_outputs(out_dir, OUTPUT_FILES, json_path)
    with sizes_as_options():
        setup = prepare(config)
    if not quiet:
        _print_header(setup)
    run_and_write(setup, run_train, engine=engine, out_dir=out_dir, json_path=json_path,
                  quiet=quiet)  # fmt: skip


def run_and_write(
    setup: TrainSetup,
    run: Callable[..., TrainResult],
    *,
    engine: str,
    out_dir: Path,
    json_path: Path | None,
    quiet: bool,
) -> None:
    """Train ``setup`` with ``run`` (:func:`run_train` or its course preset), print the
    costs, the results table and the flags, and write results.json and the figures:
    the one pipeline of ``initlab train`` and ``initlab course``."""
    from initlab.cli.app import keep_for_good
    from initlab.plots import cost_figure, decision_boundary_figure
    from initlab.results import results_to_dict

    keep_for_good()  # matplotlib's modules
    with runtime_warnings_as_lines():
        result = run(setup, on_cost=cost_printer(quiet), engine=engine)
    keep_for_good()  # the engine's modules and compiled kernel, the runs
    document = results_to_dict(result)
    optimizer = setup.optimizer
    report_runs(document["runs"], optimizer.learning_rate, quiet, optimizer.weight_decay)
    report_flags(document["runs"], document["config"]["statistics_samples"], quiet)
    writers = results_writers(document, out_dir, json_path)
    writers.append(
        ("cost curves", figure_writer(out_dir / COST_FIGURE, lambda: cost_figure(result)))
    )
    if setup.is_2d:
        path = out_dir / BOUNDARY_FIGURE
        writers.append(
            ("decision boundaries", figure_writer(path, lambda: decision_boundary_figure(result)))
        )
    write_outputs(with_report(writers, out_dir), quiet, write_through=[json_path])


def train_option(name: str, **changes: Any) -> click.Option:
    """A copy of ``initlab train``'s option ``name`` with ``changes`` (e.g. its default), for
    the commands that take the training options too (compare, diagnose)."""
    [option] = [p for p in train.params if p.name == name]
    option = copy.copy(option)
    for key, value in changes.items():
        setattr(option, key, value)
    return option  # type: ignore[return-value]


def config_from_options(
    *,
    dataset: str,
    data_path: str | None,
    label_column: str | None,
    hidden: tuple[int, ...],
    layers: tuple[int, ...] | None,
    activation: tuple[str, ...],
    output: str,
    inits: tuple[str, ...],
    bias_init: str,
    optimizer: str,
    learning_rate: float | None,
    weight_decay: float,
    iterations: int | None,
    epochs: int | None,
    batch_size: int | None,
    seed: int,
    standardize: bool,
    test_fraction: float,
    print_every: int = 100,
) -> TrainConfig:
    """The :class:`TrainConfig` of the training options (shared by train and compare)."""
    if iterations is not None and epochs is not None:
        raise click.UsageError("give --iterations or --epochs, not both")
    dataset_name = resolve_spec(dataset)[0].name
    for flag, value in (("--data-path", data_path), ("--label-column", label_column)):
        allowed = ("csv",) if flag == "--label-column" else ("csv", "npz")
        if value is not None and dataset_name not in allowed:
            raise click.UsageError(
                f"{flag} is for --dataset {' or '.join(allowed)}, not {dataset_name!r}"
            )
    return TrainConfig(
        dataset=dataset,
        data_path=data_path,
        label_column=label_column,
        hidden=hidden,
        layers=layers,
        activations=activation,
        output=output,
        inits=inits or COURSE_INITS,
        bias_init=bias_init,
        optimizer=optimizer,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        iterations=iterations,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        standardize=standardize,
        test_fraction=test_fraction,
        print_every=print_every,
    )
