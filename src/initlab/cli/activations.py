"""``initlab activations``: the activation catalogue, or one activation in full."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from initlab.cli.output import fmt, print_table, stdout


def activations_table() -> Table:
    from initlab.activations import ACTIVATION_ALIASES, activation_names, get_activation

    aliases: dict[str, list[str]] = {}
    for alias, name in ACTIVATION_ALIASES.items():
        aliases.setdefault(name, []).append(alias)
    table = Table(title="Activations", title_justify="left", show_lines=True)
    for column in ("name", "f(z)", "f'(z)", "gain", "gain rule", "aliases"):
        table.add_column(column, justify="right" if column == "gain" else "left")
    for name in activation_names():
        act = get_activation(name)
        table.add_row(
            Text(name),
            Text(act.formula),
            Text(act.derivative_formula),
            Text(fmt(act.gain)),
            Text(act.gain_rule),
            Text(", ".join(aliases.get(name, [])) or "-"),
        )
    return table


def show_one(spec: str) -> None:
    from initlab.activations import activation_factory, get_activation
    from initlab.spec import param_help

    act = get_activation(spec)
    out = stdout
    out.print(Text(act.name, style="bold"))
    out.print(f"f(z):        {act.formula}", markup=False)
    out.print(f"f'(z):       {act.derivative_formula}", markup=False)
    if act.params:
        params = ", ".join(f"{k}={v:g}" for k, v in act.params.items())
        out.print(f"parameters:  {params}", markup=False)
        for line in param_help(activation_factory(spec)):
            out.print(f"  {line}", markup=False)
    out.print(f"gain:        {act.gain!r}  ({act.gain_rule})", markup=False)
    out.print(
        f"unit second-moment gain 1/sqrt(E[f(z)^2]), z~N(0,1): {act.second_moment_gain!r}",
        markup=False,
    )
    if act.citation:
        out.print(f"citation:    {act.citation}", markup=False)


@click.command("activations")
@click.argument("name", required=False, metavar="[NAME]")
def activations(name: str | None) -> None:
    """List the activations with derivatives and gains, or show NAME in full.

    NAME may carry parameters, e.g. 'leaky_relu(slope=0.1)'.
    """
    if name is None:
        print_table(activations_table())
        return
    show_one(name)
