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
    write_outputs,
)
from initlab.cli.paths import check_outputs, json_option, out_option
from initlab.cli.specs import bias_init_option, initializer_option
from initlab.experiments.course import COURSE_INITS, CourseConfig, run_course
from initlab.report import with_report


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
    from initlab.plots import course_boundary_figure, course_cost_figure
    from initlab.results import course_to_dict

    with sizes_as_options():
        config = CourseConfig(
            inits=inits or COURSE_INITS,
            iterations=iterations,
            learning_rate=learning_rate,
            print_every=print_every,
            bias_init=bias_init,
        )
    with runtime_warnings_as_lines():
        result = run_course(config, on_cost=cost_printer(quiet), engine=engine)
    document = course_to_dict(result)
    report_runs(document["runs"], learning_rate, quiet)
    report_flags(document["runs"], document["config"]["statistics_samples"], quiet)
    writers = results_writers(document, out_dir, json_path)
    writers += [
        ("cost curves", figure_writer(out_dir / COST_FIGURE, lambda: course_cost_figure(result))),
        (
            "decision boundaries",
            figure_writer(out_dir / BOUNDARY_FIGURE, lambda: course_boundary_figure(result)),
        ),
    ]
    write_outputs(with_report(writers, out_dir), quiet, write_through=[json_path])
