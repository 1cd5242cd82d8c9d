"""How to run a result again: the command line, the versions, the time it was made."""

from __future__ import annotations

import platform
import shlex
import sys
import warnings
from collections.abc import Sequence
from importlib import metadata
from typing import Any

__all__ = ["DEPENDENCIES", "command_line", "provenance"]

#: the distributions whose versions a result records (initlab's dependencies)
DEPENDENCIES = (
    "numpy", "scipy", "scikit-learn", "matplotlib", "numba", "llvmlite",
    "pandas", "click", "rich", "threadpoolctl",
)  # fmt: skip


def command_line(argv: Sequence[str]) -> str:
    """``initlab ARGV`` as one shell line, each argument quoted as the shell needs."""
    return shlex.join(["initlab", *argv])


#: the module of a distribution whose name differs from it
MODULES = {"scikit-learn": "sklearn"}


def _version(name: str) -> str | None:
    """The installed version of distribution ``name``: the imported module's
    ``__version__`` where it is loaded already (cheap), else the package metadata."""
    module = sys.modules.get(MODULES.get(name, name))
    with warnings.catch_warnings():  # click deprecates its __version__
        warnings.simplefilter("ignore", DeprecationWarning)
        version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def provenance(argv: Sequence[str]) -> dict[str, Any]:
    """The ``provenance`` field of a results file: ``command`` (the shell line),
    ``argv`` (the arguments after ``initlab``), the ``initlab`` and ``python``
    versions, the ``platform`` and the version of every dependency (``packages``). No
    time: the same command with the same versions writes the same bytes."""
    from initlab import __version__

    return {
        "command": command_line(argv),
        "argv": list(argv),
        "initlab": __version__,
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": f"{platform.system()} {platform.machine()}",
        "packages": {name: _version(name) for name in DEPENDENCIES},
    }
