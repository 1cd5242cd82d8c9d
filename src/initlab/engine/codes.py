"""The numbers the compiled kernel branches on (kept free of numba imports).

Activations, heads and optimizers are passed to :mod:`initlab.engine._kernel` as
these integer codes; the kernel imports the constants by name, so they are
compile-time constants there. numba's on-disk cache is keyed on the kernel's own
source file: after changing a value here, touch ``_kernel.py`` (or clear the cache).
"""

from __future__ import annotations

__all__ = [
    "ADAM",
    "ELU",
    "GD",
    "GELU",
    "HEADS",
    "IDENTITY",
    "KERNEL_ACTIVATIONS",
    "KERNEL_OPTIMIZERS",
    "LEAKY_RELU",
    "MOMENTUM",
    "RELU",
    "SELU",
    "SIGMOID",
    "SIGMOID_HEAD",
    "SILU",
    "SOFTMAX_HEAD",
    "SOFTPLUS",
    "TANH",
]

# hidden-layer activations (see :mod:`initlab.activations`)
IDENTITY = 0
RELU = 1
SIGMOID = 2
TANH = 3
LEAKY_RELU = 4  # parameter: slope
ELU = 5  # parameter: alpha
SELU = 6
GELU = 7
SOFTPLUS = 8
SILU = 9

#: activation name -> code branched on inside the compiled kernel
KERNEL_ACTIVATIONS: dict[str, int] = {
    "identity": IDENTITY,
    "relu": RELU,
    "sigmoid": SIGMOID,
    "tanh": TANH,
    "leaky_relu": LEAKY_RELU,
    "elu": ELU,
    "selu": SELU,
    "gelu": GELU,
    "softplus": SOFTPLUS,
    "silu": SILU,
}
#: the parameter an activation's code carries into the kernel (the others carry 0)
ACTIVATION_PARAMETER: dict[str, str] = {"leaky_relu": "slope", "elu": "alpha"}

# output heads (see :mod:`initlab.heads`)
SIGMOID_HEAD = 0
SOFTMAX_HEAD = 1
#: head name -> code
HEADS: dict[str, int] = {"sigmoid": SIGMOID_HEAD, "softmax": SOFTMAX_HEAD}

# optimizers (see :mod:`initlab.optimizers`); sgd is gd on minibatches
GD = 0
MOMENTUM = 1
ADAM = 2
#: optimizer name -> code
KERNEL_OPTIMIZERS: dict[str, int] = {"gd": GD, "sgd": GD, "momentum": MOMENTUM, "adam": ADAM}
