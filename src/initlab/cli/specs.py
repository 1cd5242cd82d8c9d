"""Click types and options for initializer and activation spec strings.

Any command that takes an initializer or activation uses these, so every
command accepts the same specs (``he_normal``, ``normal(std=0.01)``,
``package.module:function``) and reports a bad one the same way (one line,
exit code 2)::

    from initlab.cli.specs import bias_init_option, initializer_option

    @click.command()
    @initializer_option(multiple=True)
    @bias_init_option()
    def train(inits: tuple[str, ...], bias_init: str) -> None: ...

The option values stay the spec strings the user wrote (validated), which is
what results files should record; build the initializer with
:func:`initlab.initializers.get_initializer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

__all__ = [
    "ACTIVATION",
    "BIAS_INITIALIZER",
    "INITIALIZER",
    "ActivationSpec",
    "InitializerSpec",
    "activation_option",
    "bias_init_option",
    "check_initializer",
    "initializer_option",
]


class InitializerSpec(click.ParamType):
    """An initializer spec string, checked by building it (custom code is imported)."""

    name = "initializer"

    def __init__(self, *, bias: bool = False) -> None:
        self.bias = bias

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            check_initializer(value, bias=self.bias)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        return value


class ActivationSpec(click.ParamType):
    """An activation spec string such as ``relu`` or ``leaky_relu(slope=0.1)``."""

    name = "activation"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        from initlab.activations import get_activation

        try:
            get_activation(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        return value


def check_initializer(spec: str, *, bias: bool = False) -> None:
    """Raise ValueError unless ``spec`` builds an initializer (usable for biases if ``bias``)."""
    from initlab.initializers import get_initializer

    init = get_initializer(spec)
    if bias and getattr(init, "data_dependent", False):
        raise ValueError(f"{spec!r} is data-dependent and can only initialize weights")


INITIALIZER = InitializerSpec()
BIAS_INITIALIZER = InitializerSpec(bias=True)
ACTIVATION = ActivationSpec()

_SPEC_HELP = (
    "a name from `initlab inits` with optional parameters, e.g. he_normal or "
    "'normal(std=0.01)', or package.module:function (imports and runs that code)"
)


def initializer_option(*decls: str, **kwargs: Any) -> Callable[[Callable], Callable]:
    """``--init SPEC`` (dest ``inits`` if ``multiple=True``, else ``init``), validated."""
    multiple = kwargs.get("multiple", False)
    if not decls:
        decls = ("--init", "inits" if multiple else "init")
    kwargs.setdefault("type", INITIALIZER)
    kwargs.setdefault("metavar", "SPEC")
    kwargs.setdefault(
        "help", f"Weight initializer{' (repeatable)' if multiple else ''}: {_SPEC_HELP}."
    )
    return click.option(*decls, **kwargs)


def bias_init_option(*decls: str, **kwargs: Any) -> Callable[[Callable], Callable]:
    """``--bias-init SPEC`` (default ``zeros``), validated; data-dependent schemes refused."""
    decls = decls or ("--bias-init", "bias_init")
    kwargs.setdefault("type", BIAS_INITIALIZER)
    kwargs.setdefault("metavar", "SPEC")
    kwargs.setdefault("default", "zeros")
    kwargs.setdefault("show_default", True)
    kwargs.setdefault(
        "help",
        "Bias initializer, same syntax as --init (torch_linear and sklearn_mlp "
        "draw biases with the layer's fans).",
    )
    return click.option(*decls, **kwargs)


def activation_option(*decls: str, **kwargs: Any) -> Callable[[Callable], Callable]:
    """``--activation SPEC`` (e.g. ``relu``, ``leaky_relu(slope=0.1)``), validated."""
    decls = decls or ("--activation", "activation")
    kwargs.setdefault("type", ACTIVATION)
    kwargs.setdefault("metavar", "SPEC")
    kwargs.setdefault(
        "help", "Hidden-layer activation from `initlab activations`, e.g. 'leaky_relu(slope=0.1)'."
    )
    return click.option(*decls, **kwargs)
