"""Optional extras in tests: skip with the reason when one is missing, fail when required.

``.ci/run`` installs every extra and sets ``INITLAB_REQUIRE_EXTRAS=1``, so a test module
that needs an extra can never be skipped silently there.
"""

from __future__ import annotations

import importlib
import os
import shutil
from types import ModuleType

import pytest

REQUIRED = bool(os.environ.get("INITLAB_REQUIRE_EXTRAS"))


def _missing(what: str, install: str, reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{what} is required here (INITLAB_REQUIRE_EXTRAS is set): {reason}", False)
    pytest.skip(f"{what} is not installed ({install})", allow_module_level=True)


def require(module: str, extra: str) -> ModuleType:
    """``module`` imported, or the calling test module skipped (failed in CI) naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        _missing(module, f"pip install 'initlab[{extra}]'", str(exc))
        raise  # unreachable: _missing skips or fails


def require_program(path: str, package: str) -> str:
    """The path of an installed program (e.g. ``/usr/bin/chromium``), or skip (fail in CI)."""
    found = shutil.which(path)
    if found is None:
        _missing(path, f"apt-get install {package}", f"{path} not found")
    return str(found)
