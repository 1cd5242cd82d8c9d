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
    """An initializer spec string, checked by building it (custom code is imported).

    The value becomes the spec spelled as registered (``He`` -> ``he``), which results record.
    """

    name = "initializer"

    def __init__(self, *, bias: bool = False) -> None:
        self.bias = bias

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return check_initializer(value, bias=self.bias)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class ActivationSpec(click.ParamType):
    """An activation spec such as ``relu`` or ``leaky_relu(slope=0.1)``, spelled as registered."""

    name = "activation"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        from initlab.activations import canonical_activation

        try:
            return canonical_activation(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def check_initializer(spec: str, *, bias: bool = False) -> str:
    """``spec`` spelled as registered; ValueError unless it builds an initializer.

    With ``bias``, data-dependent schemes (which can only draw weights) are refused.
    """
    from initlab.initializers import get_initializer
    from initlab.initializers.registry import canonical_initializer

    init = get_initializer(spec)
    if bias and getattr(init, "data_dependent", False):
        raise ValueError(f"{spec!r} is data-dependent and can only initialize weights")
    return canonical_initializer(spec, check=False)


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
