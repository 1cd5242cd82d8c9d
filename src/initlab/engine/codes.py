"""Activation codes understood by the compiled kernel (kept free of numba imports)."""

from __future__ import annotations

__all__ = ["KERNEL_ACTIVATIONS"]

#: activation name -> code branched on inside the compiled kernel
KERNEL_ACTIVATIONS: dict[str, int] = {"identity": 0, "relu": 1, "sigmoid": 2, "tanh": 3}
