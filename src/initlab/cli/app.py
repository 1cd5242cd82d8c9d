"""The command group and the error boundary: every failure becomes one line and an exit code."""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Any

import click

from initlab import __version__
from initlab._startup import (
    command_done,
    command_running,
    interrupts_as_before,
    interrupts_not_lost,
    print_aborted,
    running_as_command,
)

EXIT_USAGE = 2
EXIT_FAILURE = 1


#: the group's own options; any other leading option belongs to the default command
GROUP_OPTIONS = ("-h", "--help", "--version")
DEFAULT_COMMAND = "course"


class InitlabGroup(click.Group):
    """A group whose unknown-command error lists the commands there are, and where a
    command line starting with an option other than the group's own (``--help``,
    ``--version``) runs the default command, ``course``, with those options.

    Commands may be registered by where they are (:meth:`add_lazy_command`): a command's
    module, and what it imports, is imported only when that command runs (or a help page
    lists it), so ``initlab`` does not pay for the other ten."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, str] = {}

    def add_lazy_command(self, name: str, where: str) -> None:
        """Register the command ``name``, the attribute ``ATTR`` of the module ``MODULE``
        given as ``where = "MODULE:ATTR"``, imported on first use."""
        self.lazy_commands[name] = where

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module, attr = self.lazy_commands[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return self.commands.get(cmd_name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0].startswith("-") and args[0] not in GROUP_OPTIONS:
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: click.Context, args: list[str]):  # type: ignore[override]
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            from initlab.spec import unknown_name_message

            message = unknown_name_message("command", name, self.list_commands(ctx))
            raise click.UsageError(message, ctx)
        return super().resolve_command(ctx, args)


@click.group(
    cls=InitlabGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="initlab")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """See and measure how weight initialization shapes neural-network training.

    With no command, runs `initlab course`: the deeplearning.ai "Initialization"
    comparison (zeros vs. large random vs. He); `initlab -q`, `initlab --init he`
    and every other course option work without the command name.
    """
    if ctx.invoked_subcommand is None:
        from initlab.cli.course import course

        ctx.invoke(course)


def _one_line(message: str) -> str:
    return " ".join(message.split())


_INVOCATION: list[str] = []


def invocation() -> list[str]:
    """The arguments the running command was given (to tell how to run it again)."""
    return list(_INVOCATION)


def keep_for_good() -> None:
    """In the ``initlab`` command (never in a program that imports initlab), hand every
    object alive now to the garbage collector's permanent generation (:func:`gc.freeze`).

    Called where a step has just created objects that live until the command exits (the
    modules it imported, the compiled kernel, the trained runs). A full collection would
    otherwise walk all of them again each time the heap grows by a quarter, and once more
    at exit, finding nothing: about a fifth of bare ``initlab``'s time. Frozen objects are
    still freed when their last reference goes; only a cycle among them would wait for
    the process to end.
    """
    if running_as_command():
        gc.freeze()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning every error into one line on stderr."""
    _INVOCATION[:] = sys.argv[1:] if argv is None else list(argv)
    keep_for_good()  # the modules imported so far
    command_running()
    interrupts_not_lost()
    try:
        return _run(argv)
    finally:
        interrupts_as_before()
        keep_for_good()  # the process ends now: no collection needed at exit
        command_done()


def _stdout_failed() -> int:
    """Exit 0, or 1 with one line if standard output could not be written (a full device):
    the run went on without it and wrote its files."""
    from initlab.cli.output import stdout

    failed, stdout.failed = stdout.failed, None
    if failed is None:
        return 0
    click.echo(
        f"initlab: error: could not write to standard output ({failed.strerror or failed}); "
        "the run went on and wrote its files",
        err=True,
    )
    return EXIT_FAILURE


def _run(argv: list[str] | None) -> int:
    from initlab.cli.output import stdout

    stdout.failed = None
    try:
        # outside standalone mode click returns the code of an Exit raised by a command
        code = cli.main(args=argv, prog_name="initlab", standalone_mode=False)
        if isinstance(code, int) and not isinstance(code, bool) and code != 0:
            return code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        return print_aborted()
    except BrokenPipeError:
        # the reader of standard output went away (`initlab --help | head -1`): not an error
        from initlab.cli.output import discard_closed_stream

        discard_closed_stream(sys.stdout)
        return 0
    except click.ClickException as exc:
        click.echo(f"initlab: error: {_one_line(exc.format_message())}", err=True)
        return exc.exit_code
    except ValueError as exc:
        click.echo(f"initlab: error: {_one_line(str(exc))}", err=True)
        return EXIT_USAGE
    except OSError as exc:
        click.echo(f"initlab: error: {_one_line(str(exc))}", err=True)
        return EXIT_FAILURE
    return _stdout_failed()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
