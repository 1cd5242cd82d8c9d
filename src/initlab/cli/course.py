"""``initlab course``: the deeplearning.ai initialization comparison."""

from __future__ import annotations

from pathlib import Path

import click

from initlab.cli.options import (
    POSITIVE_FLOAT,
    POSITIVE_INT,
    engine_option,
    print_every_option,
    quiet_option,
    sizes_as_options,
)
from initlab.cli.output import OUTPUT_FILES
from initlab.cli.paths import check_outputs, json_option, out_option
from initlab.cli.specs import bias_init_option, initializer_option
from initlab.cli.train import run_and_write
from initlab.experiments.course import COURSE_INITS, course_config, run_course
from initlab.experiments.train import prepare


@click.command()
@initializer_option(
    multiple=True,
    help="Initialization to train (repeatable): a name from `initlab inits`, optionally with "
    "parameters, e.g. 'normal(std=0.01)'. Default: zeros, random and he.",
)
@bias_init_option()
@click.option(
    "--iterations",
    type=POSITIVE_INT,
    default=15000,
    show_default=True,
    help="Gradient-descent iterations per run.",
)
@click.option(
    "--learning-rate",
    type=POSITIVE_FLOAT,
    default=0.01,
    show_default=True,
    help="Gradient-descent step size.",
)
@print_every_option(1000)
@out_option(Path("initlab-out"))
@json_option
@engine_option(
    "fast: train all initializations at once with the compiled population engine; "
    "reference: the plain NumPy loop, one run after the other."
)
@quiet_option
def course(
    inits: tuple[str, ...],
    bias_init: str,
    iterations: int,
    learning_rate: float,
    print_every: int,
    out_dir: Path,
    json_path: Path | None,
    engine: str,
    quiet: bool,
) -> None:
    """Reproduce the deeplearning.ai "Initialization" exercise.

    Trains the [2, 10, 5, 1] ReLU network on the course's circles by full-batch
    gradient descent from each initialization, prints the cost every
    --print-every iterations and an accuracy table, and writes the cost curves
    (costs.png), the decision boundaries (decision_boundaries.png),
    results.json and report.html (all of it on one page) into --out.
    """
    check_outputs(out_dir, OUTPUT_FILES, json_path)
    with sizes_as_options():
        config = course_config(
            inits=inits or COURSE_INITS,
            iterations=iterations,
            learning_rate=learning_rate,
            print_every=print_every,
            bias_init=bias_init,
        )
        setup = prepare(config)
    run_and_write(setup, run_course, engine=engine, out_dir=out_dir, json_path=json_path,
                  quiet=quiet)  # fmt: skip
