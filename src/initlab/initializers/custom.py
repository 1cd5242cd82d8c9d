"""User code as an initializer: found as ``python -m`` finds it, checked, and guarded.

``--init package.module:attr`` names user code. :func:`import_user_module` imports the
module with the current directory first on the import path (as ``python -m`` and
``python -c`` have it; the ``initlab`` console script alone would not find a module
sitting next to the user), for that lookup only. :func:`check_initializer_signature`
refuses a callable that cannot be called as ``init(rng, shape)`` (``os:system`` takes
one ``command``) *before* calling it. :class:`UserInitializer` runs the user's code
behind a guard: whatever it raises (``RecursionError`` included) becomes one
``ValueError`` naming the initializer and the error, e.g.
``custom initializer 'badinits:raises' raised RuntimeError: boom``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "UserInitializer",
    "call_user_code",
    "check_initializer_signature",
    "import_user_module",
]

#: Optional methods of an initializer that run user code (see ``Initializer``).
_HOOKS = ("moments", "draw_bias", "initialize_network")


def _message(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "..."


def call_user_code(label: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``func(*args, **kwargs)``; anything it raises becomes ``ValueError: LABEL raised ...``.

    ``SystemExit`` and ``RecursionError`` are caught too; ``KeyboardInterrupt`` is not.
    """
    try:
        return func(*args, **kwargs)
    except (Exception, SystemExit) as exc:  # user code may fail in any way
        raise ValueError(f"{label} raised {type(exc).__name__}: {_message(exc)}") from None


def import_user_module(module_name: str) -> ModuleType:
    """Import ``module_name`` with the current directory first on ``sys.path`` meanwhile.

    The directory is added only if ``sys.path`` lacks it (``python -m`` already has it)
    and removed afterwards, so other imports are not affected.
    """
    try:
        cwd = os.getcwd()
    except OSError:  # the current directory was deleted
        cwd = ""
    present = not cwd or any(
        entry == "" or os.path.abspath(entry) == cwd for entry in sys.path if isinstance(entry, str)
    )
    if not present:
        sys.path.insert(0, cwd)
    importlib.invalidate_caches()  # a module written since the last import is found
    try:
        return importlib.import_module(module_name)
    finally:
        if not present and cwd in sys.path:
            sys.path.remove(cwd)


def _takes(obj: Any) -> str:
    try:
        return f"({', '.join(inspect.signature(obj).parameters)})"
    except (TypeError, ValueError):
        return "(?)"


def check_initializer_signature(label: str, obj: Any) -> None:
    """Refuse ``obj`` unless it is callable as ``obj(rng, shape)`` (checked without calling it).

    A callable whose signature Python cannot tell (some built-ins) passes; what it
    returns is then checked when it draws.
    """
    if not callable(obj):
        raise ValueError(
            f"{label} is not an initializer: it is a {type(obj).__name__}, not a callable "
            "init(rng, shape)"
        )
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(None, None)
    except TypeError:
        name = getattr(obj, "__qualname__", None) or type(obj).__name__
        raise ValueError(
            f"{label} is not an initializer: an initializer is called as init(rng, shape), "
            f"but {name} takes {_takes(obj)}"
        ) from None


class UserInitializer:
    """A user's initializer behind a guard.

    Calling it (and its ``moments``, ``draw_bias`` and ``initialize_network``) runs the
    user's code through :func:`call_user_code`; a draw that is not a numeric array is
    refused with a ``ValueError`` naming it. Other attributes (``data_dependent``) are
    the user's object's.
    """

    def __init__(self, label: str, target: Callable[..., Any]) -> None:
        self.label = label
        self.target = target

    def __call__(self, rng: Any, shape: tuple[int, ...]) -> np.ndarray:
        value = call_user_code(self.label, self.target, rng, shape)
        array = np.asarray(value) if not isinstance(value, str | bytes) else None
        if array is None or array.dtype.kind not in "iuf":
            raise ValueError(
                f"{self.label} returned {type(value).__name__}, not an array of numbers "
                f"of shape {tuple(shape)}"
            )
        return value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("label", "target"):
            raise AttributeError(name)
        value = getattr(self.target, name)
        if name in _HOOKS and callable(value):
            return functools.partial(call_user_code, self.label, value)
        return value

    def __repr__(self) -> str:
        try:
            return repr(self.target)
        except Exception:  # a user __repr__ may fail too
            return object.__repr__(self.target)
