"""Option types and checks shared by the commands."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import click

from initlab.memory import MemoryLimitError

#: the option of each library parameter a size check can blame
OPTION_OF_PARAMETER = {
    "iterations": "--iterations",
    "epochs": "--epochs",
    "hidden": "--hidden",
    "layers": "--layers",
    "batch_size": "--batch-size",
}


@contextmanager
def sizes_as_options() -> Iterator[None]:
    """Report a :class:`~initlab.memory.MemoryLimitError` under the option it comes from
    (``iterations`` -> ``--iterations``), as a usage error (exit 2)."""
    try:
        yield
    except MemoryLimitError as exc:
        option = OPTION_OF_PARAMETER.get(exc.parameter)
        if option is None:
            raise
        raise click.UsageError(exc.message(option)) from None
    except ValueError as exc:  # "batch_size 500 is larger ..." -> "--batch-size 500 ..."
        message = str(exc)
        for parameter, option in OPTION_OF_PARAMETER.items():
            if message.startswith(f"{parameter} "):
                raise click.UsageError(option + message[len(parameter) :]) from None
        raise


class PositiveFloat(click.ParamType):
    """A finite number greater than zero (or, with ``allow_zero``, at least zero)."""

    name = "number"

    def __init__(self, allow_zero: bool = False) -> None:
        self.allow_zero = allow_zero

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        from initlab.spec import abbreviate

        text = value if isinstance(value, str) else repr(value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        ok = number >= 0 if self.allow_zero else number > 0
        if not (ok and math.isfinite(number)):
            what = "a finite number >= 0" if self.allow_zero else "a positive finite number"
            self.fail(f"must be {what}, got {abbreviate(text)}", param, ctx)
        return number


POSITIVE_INT = click.IntRange(min=1)
POSITIVE_FLOAT = PositiveFloat()
NON_NEGATIVE_FLOAT = PositiveFloat(allow_zero=True)


def print_every_option(default: int, unit: str = "iterations"):  # type: ignore[no-untyped-def]
    """``--print-every N``: how often the cost is printed and recorded."""
    return click.option(
        "--print-every",
        type=POSITIVE_INT,
        default=default,
        show_default=True,
        help=f"Print (and record in the JSON) the cost every N {unit}.",
    )


def engine_option(help: str):  # type: ignore[no-untyped-def]
    """``--engine fast|reference``: the population engine, or the plain NumPy loop."""
    from initlab.runs import ENGINES

    return click.option(
        "--engine", type=click.Choice(ENGINES), default="fast", show_default=True, help=help
    )


quiet_option = click.option(
    "--quiet", "-q", is_flag=True, help="Print nothing but warnings and errors."
)
