"""``initlab inits``: the initializer catalogue, or one initializer in full."""

from __future__ import annotations

import inspect
import math

import click
from rich.table import Table
from rich.text import Text

from initlab.cli.options import POSITIVE_INT
from initlab.cli.output import fmt, print_table, stdout

DEFAULT_FAN = 256


def _defaults(info) -> str:  # type: ignore[no-untyped-def]
    from initlab.spec import format_value

    params = info.defaults if info.kind != "custom" else {}
    if not params:
        return "-"
    return ", ".join(
        f"{key}" if value is ... else f"{key}={format_value(value)}"
        for key, value in params.items()
    )


def catalogue_table(fan_in: int | None, fan_out: int | None) -> Table:
    from initlab.initializers import initializer_info, initializer_names

    table = Table(title="Initializers", title_justify="left", show_lines=True)
    table.add_column("name (aliases)", no_wrap=True)
    table.add_column("formula (scale, mode, distribution)", ratio=3)
    table.add_column("defaults", ratio=2)
    table.add_column("citation", ratio=2)
    show_var = fan_in is not None or fan_out is not None
    if show_var:
        fan_in, fan_out = fan_in or DEFAULT_FAN, fan_out or DEFAULT_FAN
        table.add_column(Text(f"E[w^2] at {fan_in}->{fan_out}"), justify="right")
    for name in initializer_names():
        info = initializer_info(name)
        label = Text(name)
        for alias in info.aliases:
            label.append(f"\n{alias}", style="dim")
        formula = info.formula + (f"  {info.triple}" if info.triple else "")
        row = [label, Text(formula), Text(_defaults(info)), Text(info.citation)]
        if show_var:
            row.append(Text(_second_moment(name, fan_in, fan_out)))
        table.add_row(*row)
    return table


def _second_moment(spec: str, fan_in: int, fan_out: int) -> str:
    from initlab.initializers import get_initializer

    try:
        moments = get_initializer(spec).moments(fan_in, fan_out)
    except (AttributeError, ValueError):
        return "?"
    return "data" if moments is None else fmt(moments.second_moment)


def show_one(spec: str, fan_in: int, fan_out: int) -> None:
    from initlab.initializers import InitializerInfo, get_initializer, initializer_info
    from initlab.spec import param_help, parse_spec

    init = get_initializer(spec)  # the specific error first (bad parameter, import failure...)
    base = parse_spec(spec)[0]
    if ":" in base:
        user = getattr(init, "target", init)
        factory = user if inspect.isroutine(user) else type(user)
        info = InitializerInfo(
            base, factory, "(user code)", "user code", "custom", source=f"imported from {base}"
        )
    else:
        info = initializer_info(spec)
    out = stdout
    out.print(Text(info.name, style="bold"), Text(f"  ({info.kind})"))
    if info.aliases:
        out.print(f"aliases:    {', '.join(info.aliases)}", markup=False)
    out.print(f"formula:    {info.formula}", markup=False)
    if info.triple:
        out.print(f"triple:     {info.triple}  (scale, mode, distribution)", markup=False)
    out.print(f"defaults:   {_defaults(info)}", markup=False)
    ranges = param_help(info.factory)
    if ranges:
        out.print("parameters:", markup=False)
        for line in ranges:
            out.print(f"  {line}", markup=False)
    out.print(f"citation:   {info.citation}", markup=False)
    out.print(f"built:      {init!r}", markup=False)
    if info.source != "built-in":
        out.print(f"source:     {info.source}", markup=False)
    moments = getattr(init, "moments", None)
    result = moments(fan_in, fan_out) if moments is not None else None
    if getattr(init, "data_dependent", False):
        out.print(
            f"at fan_in={fan_in}, fan_out={fan_out}: data-dependent "
            "(needs a batch; each layer is rescaled to Var(z) = 1)",
            markup=False,
        )
    elif result is None:
        out.print(f"at fan_in={fan_in}, fan_out={fan_out}: moments unknown", markup=False)
    else:
        out.print(
            f"at fan_in={fan_in}, fan_out={fan_out}: mean {fmt(result.mean)}, "
            f"E[w^2] {fmt(result.second_moment)}, variance {fmt(result.variance)}, "
            f"std {fmt(math.sqrt(result.variance))}, "
            f"fan_in*E[w^2] {fmt(fan_in * result.second_moment)}",
            markup=False,
        )
    if hasattr(init, "draw_bias"):
        out.print("bias:       as --bias-init it draws biases with the layer's fans", markup=False)
    if info.doc:
        out.print("", markup=False)
        out.print(info.doc, markup=False)


@click.command("inits")
@click.argument("name", required=False, metavar="[NAME]")
@click.option("--fan-in", type=POSITIVE_INT, default=None, help=f"Fan-in (default {DEFAULT_FAN}).")
@click.option(
    "--fan-out", type=POSITIVE_INT, default=None, help=f"Fan-out (default {DEFAULT_FAN})."
)
def inits(name: str | None, fan_in: int | None, fan_out: int | None) -> None:
    """List the initializers, or show NAME in full with the variance it gives.

    NAME may carry parameters, e.g. 'he_normal(mode=fan_out)'. With --fan-in or
    --fan-out the list gains a column with E[w^2] for those fans.
    """
    if name is None:
        print_table(catalogue_table(fan_in, fan_out))
        stdout.print(
            "Spec syntax: NAME or NAME(key=value, ...), e.g. 'normal(std=0.01)'; "
            "own code: package.module:function. Details: initlab inits NAME",
            markup=False,
        )
        return
    show_one(name, fan_in or DEFAULT_FAN, fan_out or DEFAULT_FAN)
