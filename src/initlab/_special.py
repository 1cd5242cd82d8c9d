"""The special functions initlab uses, without importing :mod:`scipy.special` up front.

Importing ``scipy.special`` takes a few tenths of a second, a large part of a short
command such as the default course job. :func:`expit`, the sigmoid every binary
network computes, is written here in NumPy; the others call the function of the same
name in :mod:`scipy.special` (imported on their first call), with the same arguments
and results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["expit", "logsumexp", "ndtr", "ndtri", "softmax"]


def _on_first_call(name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        from scipy import special

        return getattr(special, name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``scipy.special.{name}``, imported on the first call."
    return call


def expit(x: Any) -> np.ndarray:
    """The logistic sigmoid ``1 / (1 + exp(-x))``, for any real ``x`` without overflow.

    With ``e = exp(-|x|)`` (in ``(0, 1]``, never overflowing): ``1 / (1 + e)`` for
    ``x >= 0`` and ``e / (1 + e)`` for ``x < 0`` (the form ``scipy.special.expit``
    evaluates). ``expit(0)`` is exactly ``0.5``; ``nan`` stays ``nan``; float32 stays
    float32.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


logsumexp = _on_first_call("logsumexp")
ndtr = _on_first_call("ndtr")
ndtri = _on_first_call("ndtri")
softmax = _on_first_call("softmax")
