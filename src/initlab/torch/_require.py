"""PyTorch, imported only here, or an ``ImportError`` naming the extra that installs it."""

from __future__ import annotations

from types import ModuleType

__all__ = ["INSTALL", "TorchMissingError", "require_torch"]

#: What to install for :mod:`initlab.torch`.
INSTALL = "pip install 'initlab[torch]'"


class TorchMissingError(ImportError):
    """PyTorch is not installed: :mod:`initlab.torch` needs the ``torch`` extra."""


def require_torch() -> ModuleType:
    """The ``torch`` module; :class:`TorchMissingError` (an ``ImportError``) if it is missing."""
    try:
        import torch
    except ImportError as exc:
        raise TorchMissingError(
            f"initlab.torch needs PyTorch, which is not installed ({exc}); "
            f"install the torch extra: {INSTALL}"
        ) from None
    return torch
