"""``initlab course``: the deeplearning.ai initialization comparison."""

from __future__ import annotations

import warnings
from pathlib import Path

import click
import numpy as np

from initlab.cli.options import POSITIVE_FLOAT, POSITIVE_INT, check_json_path, prepare_out_dir
from initlab.cli.output import accuracy_table, stdout, warn, write_outputs
from initlab.cli.specs import bias_init_option
from initlab.experiments.course import COURSE_INITS, ENGINES, CourseConfig, run_course

COST_FIGURE = "costs.png"
BOUNDARY_FIGURE = "decision_boundaries.png"
RESULTS_FILE = "results.json"


def _check_init(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]):
    from initlab.initializers import get_initializer

    for name in value:
        try:
            get_initializer(name)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
    return value


@click.command()
@click.option(
    "--init",
    "inits",
    multiple=True,
    callback=_check_init,
    metavar="SPEC",
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
@click.option(
    "--print-every",
    type=POSITIVE_INT,
    default=1000,
    show_default=True,
    help="Print (and record in the JSON) the cost every N iterations.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("initlab-out"),
    show_default=True,
    help="Directory for the figures and results.json (created if needed).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the results JSON to this file.",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="fast",
    show_default=True,
    help="fast: train all initializations at once with the compiled population engine; "
    "reference: the plain NumPy loop, one run after the other.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but warnings and errors.")
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
    (costs.png), the decision boundaries (decision_boundaries.png) and
    results.json into --out.
    """
    from initlab.plots import course_boundary_figure, course_cost_figure
    from initlab.results import course_to_dict, write_json

    out_dir = prepare_out_dir(out_dir)
    json_path = check_json_path(json_path)
    config = CourseConfig(
        inits=inits or COURSE_INITS,
        iterations=iterations,
        learning_rate=learning_rate,
        print_every=print_every,
        bias_init=bias_init,
    )

    def on_cost(init: str, iteration: int, cost: float) -> None:
        if not quiet:
            stdout.print(f"[{init}] Cost after iteration {iteration}: {cost!r}", markup=False)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        result = run_course(config, on_cost=on_cost, engine=engine)
    for w in caught:
        warn(str(w.message))
    document = course_to_dict(result)
    for run in document["runs"]:
        if run["diverged"]:
            warn(
                f"run {run['init']!r} diverged at iteration {run['diverged_at']} "
                f"(non-finite cost; try a smaller --learning-rate than {learning_rate:g})"
            )
    if not quiet:
        stdout.print(accuracy_table(document["runs"]))

    def save_figure(fig_builder, name: str):  # type: ignore[no-untyped-def]
        def write() -> Path:
            path = out_dir / name
            with np.errstate(all="ignore"):  # huge costs of a diverging run overflow log axes
                fig_builder(result).savefig(path, dpi=110)
            return path

        return write

    writers = [("results", lambda: write_json(out_dir / RESULTS_FILE, document))]
    if json_path is not None:
        writers.append(("results copy", lambda: write_json(json_path, document)))
    writers += [
        ("cost curves", save_figure(course_cost_figure, COST_FIGURE)),
        ("decision boundaries", save_figure(course_boundary_figure, BOUNDARY_FIGURE)),
    ]
    write_outputs(writers, quiet)
