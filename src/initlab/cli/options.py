"""Option types and checks shared by the commands."""

from __future__ import annotations

import math
import os
from pathlib import Path

import click


class PositiveFloat(click.ParamType):
    """A finite number greater than zero."""

    name = "number"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        from initlab.spec import abbreviate

        text = value if isinstance(value, str) else repr(value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not (number > 0 and math.isfinite(number)):
            self.fail(f"must be a positive finite number, got {abbreviate(text)}", param, ctx)
        return number


POSITIVE_INT = click.IntRange(min=1)
POSITIVE_FLOAT = PositiveFloat()


def print_every_option(default: int, unit: str = "iterations"):  # type: ignore[no-untyped-def]
    """``--print-every N``: how often the cost is printed and recorded."""
    return click.option(
        "--print-every",
        type=POSITIVE_INT,
        default=default,
        show_default=True,
        help=f"Print (and record in the JSON) the cost every N {unit}.",
    )


def out_option(default: Path):  # type: ignore[no-untyped-def]
    """``--out DIR``: where the figures and results.json go."""
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(path_type=Path),
        default=default,
        show_default=True,
        help="Directory for the figures and results.json (created if needed).",
    )


def engine_option(help: str):  # type: ignore[no-untyped-def]
    """``--engine fast|reference``: the population engine, or the plain NumPy loop."""
    from initlab.experiments.course import ENGINES

    return click.option(
        "--engine", type=click.Choice(ENGINES), default="fast", show_default=True, help=help
    )


json_option = click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the results JSON to this file.",
)
quiet_option = click.option(
    "--quiet", "-q", is_flag=True, help="Print nothing but warnings and errors."
)


def prepare_out_dir(path: Path) -> Path:
    """Create ``path`` as an output directory, or fail with a clear message before any work."""
    if path.exists() and not path.is_dir():
        raise click.BadParameter(
            f"{str(path)!r} is an existing file; a directory is needed", param_hint="'--out'"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(
            f"cannot create directory {str(path)!r} ({exc.strerror})", param_hint="'--out'"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise click.BadParameter(f"directory {str(path)!r} is not writable", param_hint="'--out'")
    return path


def check_json_path(path: Path | None) -> Path | None:
    """``--json`` must name a file whose directory exists (or can be made) and is writable."""
    if path is None:
        return None
    if path.is_dir():
        raise click.BadParameter(
            f"{str(path)!r} is a directory; a file path is needed", param_hint="'--json'"
        )
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(
            f"cannot create directory {str(parent)!r} ({exc.strerror})", param_hint="'--json'"
        ) from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise click.BadParameter(
            f"directory {str(parent)!r} is not writable", param_hint="'--json'"
        )
    return path
