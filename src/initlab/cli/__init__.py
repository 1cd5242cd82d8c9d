"""The ``initlab`` command line: thin wrappers that parse, call the library, print."""

from initlab.cli import commands as _commands  # noqa: F401  (registers the commands)
from initlab.cli.app import cli, main

__all__ = ["cli", "main"]
