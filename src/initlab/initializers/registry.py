"""The catalogue: every initializer by name, with its formula, triple, paper and aliases.

:func:`get_initializer` accepts

* a registered name or alias, with parameters as keywords
  (``get_initializer("normal", std=0.01)``) or in a spec string
  (``get_initializer("normal(std=0.01)")``, see :mod:`initlab.spec`);
* ``package.module:attr`` for user code. **This imports the module and so runs
  its code.** Without parameters ``attr`` is the initializer itself
  (``attr(rng, shape)``), unless it is a class, which is instantiated; with
  parameters (``pkg.mod:factory(scale=2)``) ``attr(**params)`` must return the
  initializer;
* a name registered by an installed package under the entry-point group
  ``initlab.initializers``; the entry point names a factory that is called
  with the parameters (like the built-in classes). Built-in names win.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from initlab.initializers.base import Initializer
from initlab.initializers.lsuv import LSUV
from initlab.initializers.simple import (
    Constant,
    He,
    Normal,
    Ones,
    RandomNormal,
    TruncatedNormal,
    Uniform,
    Zeros,
)
from initlab.initializers.structured import Identity, Orthogonal, Sparse, ZerO
from initlab.initializers.variance_scaling import (
    KerasDense,
    SklearnMLP,
    TorchLinear,
    VarianceScaling,
    glorot_normal,
    glorot_normal_truncated,
    glorot_uniform,
    he_normal,
    he_normal_truncated,
    he_uniform,
    lecun_normal,
    lecun_normal_truncated,
    lecun_uniform,
)
from initlab.spec import format_spec, parse_spec, unknown_name_message

__all__ = [
    "ALIASES",
    "CATALOGUE",
    "ENTRY_POINT_GROUP",
    "INITIALIZERS",
    "InitializerInfo",
    "get_initializer",
    "initializer_info",
    "initializer_names",
]

ENTRY_POINT_GROUP = "initlab.initializers"

KINDS = ("constant", "plain", "course", "variance scaling", "framework", "structured", "data")


@dataclass(frozen=True)
class InitializerInfo:
    """What ``initlab inits`` shows about one initializer."""

    name: str
    factory: Callable[..., Initializer]
    formula: str
    citation: str
    kind: str
    triple: str = ""
    aliases: tuple[str, ...] = ()
    random: bool = True
    source: str = "built-in"

    @property
    def defaults(self) -> dict[str, Any]:
        """The factory's parameters and their defaults (``...`` when required)."""
        try:
            signature = inspect.signature(self.factory)
        except (TypeError, ValueError):
            return {}
        return {
            name: (... if p.default is inspect.Parameter.empty else p.default)
            for name, p in signature.parameters.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }

    @property
    def doc(self) -> str:
        factory = self.factory
        if isinstance(factory, _LazyEntryPoint):
            try:
                factory = factory.load()
            except ValueError as exc:
                return str(exc)
        return inspect.getdoc(factory) or ""

    @property
    def data_dependent(self) -> bool:
        return bool(getattr(self.factory, "data_dependent", False))


_ENTRIES = [
    InitializerInfo(
        "zeros",
        Zeros,
        "W = 0",
        "deeplearning.ai course (symmetry never breaks)",
        "constant",
        random=False,
    ),
    InitializerInfo("ones", Ones, "W = 1", "torch ones_, Keras Ones", "constant", random=False),
    InitializerInfo(
        "constant",
        Constant,
        "W = value",
        "torch constant_, Keras Constant",
        "constant",
        random=False,
    ),
    InitializerInfo(
        "normal", Normal, "N(mean, std^2)", "torch normal_", "plain", aliases=("random_normal",)
    ),
    InitializerInfo(
        "uniform", Uniform, "U(low, high)", "torch uniform_", "plain", aliases=("random_uniform",)
    ),
    InitializerInfo(
        "truncated_normal",
        TruncatedNormal,
        "N(mean, std^2) cut to [a, b]",
        "torch trunc_normal_",
        "plain",
    ),
    InitializerInfo(
        "random",
        RandomNormal,
        "scale * N(0, 1)",
        "deeplearning.ai, Improving Deep Neural Networks, wk 1",
        "course",
    ),
    InitializerInfo(
        "he",
        He,
        "sqrt(2 / fan_in) * N(0, 1)",
        "He et al. 2015 (the course's; = he_normal)",
        "course",
        triple="(2, fan_in, normal)",
    ),
    InitializerInfo(
        "variance_scaling",
        VarianceScaling,
        "variance scale / n(mode)",
        "jax/Keras variance_scaling",
        "variance scaling",
        triple="(scale, mode, distribution)",
    ),
    InitializerInfo(
        "glorot_normal",
        glorot_normal,
        "N(0, gain^2 * 2 / (fan_in + fan_out))",
        "Glorot & Bengio 2010",
        "variance scaling",
        triple="(gain^2, fan_avg, normal)",
        aliases=("xavier_normal", "torch_xavier_normal"),
    ),
    InitializerInfo(
        "glorot_uniform",
        glorot_uniform,
        "U(+-gain * sqrt(6 / (fan_in + fan_out)))",
        "Glorot & Bengio 2010",
        "variance scaling",
        triple="(gain^2, fan_avg, uniform)",
        aliases=(
            "xavier_uniform",
            "torch_xavier_uniform",
            "keras_glorot_uniform",
            "jax_glorot_uniform",
        ),
    ),
    InitializerInfo(
        "glorot_normal_truncated",
        glorot_normal_truncated,
        "truncated N, var 2 / (fan_in + fan_out)",
        "Glorot & Bengio 2010",
        "variance scaling",
        triple="(1, fan_avg, truncated_normal)",
        aliases=("keras_glorot_normal", "jax_glorot_normal"),
    ),
    InitializerInfo(
        "he_normal",
        he_normal,
        "N(0, gain^2 / fan_mode), gain(nonlinearity, a)",
        "He et al. 2015",
        "variance scaling",
        triple="(gain^2, mode, normal)",
        aliases=("kaiming_normal", "torch_kaiming_normal"),
    ),
    InitializerInfo(
        "he_uniform",
        he_uniform,
        "U(+-gain * sqrt(3 / fan_mode))",
        "He et al. 2015",
        "variance scaling",
        triple="(gain^2, mode, uniform)",
        aliases=("kaiming_uniform", "torch_kaiming_uniform", "keras_he_uniform", "jax_he_uniform"),
    ),
    InitializerInfo(
        "he_normal_truncated",
        he_normal_truncated,
        "truncated N, var 2 / fan_in",
        "He et al. 2015",
        "variance scaling",
        triple="(2, fan_in, truncated_normal)",
        aliases=("keras_he_normal", "jax_he_normal"),
    ),
    InitializerInfo(
        "lecun_normal",
        lecun_normal,
        "N(0, 1 / fan_in)",
        "LeCun et al. 1998",
        "variance scaling",
        triple="(1, fan_in, normal)",
    ),
    InitializerInfo(
        "lecun_uniform",
        lecun_uniform,
        "U(+-sqrt(3 / fan_in))",
        "LeCun et al. 1998",
        "variance scaling",
        triple="(1, fan_in, uniform)",
        aliases=("keras_lecun_uniform", "jax_lecun_uniform"),
    ),
    InitializerInfo(
        "lecun_normal_truncated",
        lecun_normal_truncated,
        "truncated N, var 1 / fan_in",
        "LeCun et al. 1998",
        "variance scaling",
        triple="(1, fan_in, truncated_normal)",
        aliases=("keras_lecun_normal", "jax_lecun_normal"),
    ),
    InitializerInfo(
        "torch_linear",
        TorchLinear,
        "U(+-1 / sqrt(fan_in)), bias too",
        "torch nn.Linear default (kaiming_uniform_, a=sqrt(5))",
        "framework",
        triple="(1/3, fan_in, uniform)",
        aliases=("torch_default",),
    ),
    InitializerInfo(
        "keras_dense",
        KerasDense,
        "glorot_uniform, zero bias",
        "Keras Dense default",
        "framework",
        triple="(1, fan_avg, uniform)",
        aliases=("keras_default",),
    ),
    InitializerInfo(
        "sklearn_mlp",
        SklearnMLP,
        "U(+-sqrt(f / (fan_in + fan_out))), f = 6 (2 if logistic), bias too",
        "scikit-learn MLPClassifier default",
        "framework",
        triple="(f/6, fan_avg, uniform)",
        aliases=("sklearn_default",),
    ),
    InitializerInfo(
        "orthogonal",
        Orthogonal,
        "gain * Q, Q Haar (semi-)orthogonal",
        "Saxe et al. 2014",
        "structured",
    ),
    InitializerInfo(
        "identity",
        Identity,
        "gain * I (rectangular)",
        "Le et al. 2015",
        "structured",
        aliases=("eye",),
        random=False,
    ),
    InitializerInfo(
        "sparse",
        Sparse,
        "N(0, std^2), ceil(sparsity fan_out) zeros per column",
        "Martens 2010",
        "structured",
    ),
    InitializerInfo(
        "zero_hadamard",
        ZerO,
        "I* or 2^(-m/2) I* H_p I* (deterministic)",
        "Zhao et al. 2022 (ZerO)",
        "structured",
        aliases=("ZerO", "zerO"),
        random=False,
    ),
    InitializerInfo(
        "lsuv",
        LSUV,
        "orthogonal, then W /= sqrt(Var(z)) per layer on data",
        "Mishkin & Matas 2016",
        "data",
    ),
]

#: Canonical name -> its catalogue entry.
CATALOGUE: dict[str, InitializerInfo] = {info.name: info for info in _ENTRIES}
#: Alias -> canonical name.
ALIASES: dict[str, str] = {alias: info.name for info in _ENTRIES for alias in info.aliases}
#: Every accepted built-in name (canonical and alias) -> its factory.
INITIALIZERS: dict[str, Callable[..., Initializer]] = {
    **{name: info.factory for name, info in CATALOGUE.items()},
    **{alias: CATALOGUE[name].factory for alias, name in ALIASES.items()},
}


@lru_cache(maxsize=1)
def _entry_point_infos() -> dict[str, InitializerInfo]:
    found: dict[str, InitializerInfo] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in INITIALIZERS or ep.name in found:
            continue
        dist = getattr(getattr(ep, "dist", None), "name", None) or ep.value
        found[ep.name] = InitializerInfo(
            ep.name,
            _LazyEntryPoint(ep),
            "(see its documentation)",
            dist,
            "plugin",
            source=f"entry point {ep.value}",
        )
    return found


class _LazyEntryPoint:
    """Loads an entry point's factory on first use."""

    def __init__(self, ep: Any) -> None:
        self.ep = ep

    def load(self) -> Callable[..., Initializer]:
        try:
            return self.ep.load()
        except Exception as exc:  # a plugin's import can fail in any way
            raise ValueError(
                f"initializer {self.ep.name!r} (entry point {self.ep.value}) failed to load: {exc}"
            ) from None

    def __call__(self, *args: Any, **kwargs: Any) -> Initializer:
        return self.load()(*args, **kwargs)


def initializer_names(*, aliases: bool = False) -> list[str]:
    """Every registered name (built-in and entry points), canonical ones only unless ``aliases``."""
    names = set(CATALOGUE) | set(_entry_point_infos())
    if aliases:
        names |= set(ALIASES)
    return sorted(names)


def initializer_info(name: str) -> InitializerInfo:
    """The catalogue entry for ``name`` (an alias or spec works too).

    Raises:
        ValueError: for an unknown name, suggesting the closest.
    """
    base = parse_spec(name)[0]
    base = ALIASES.get(base, base)
    if base in CATALOGUE:
        return CATALOGUE[base]
    plugins = _entry_point_infos()
    if base in plugins:
        return plugins[base]
    raise ValueError(unknown_name_message("initializer", base, initializer_names(), ALIASES))


def _factory_params(factory: Callable[..., Any]) -> str:
    try:
        names = list(inspect.signature(factory).parameters)
    except (TypeError, ValueError):
        return "?"
    return ", ".join(names) if names else "no parameters"


def _build(label: str, factory: Callable[..., Any], args: tuple, kwargs: dict) -> Initializer:
    target = factory.load() if isinstance(factory, _LazyEntryPoint) else factory
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ValueError(
                f"initializer {label}: bad parameters ({exc}); it takes: {_factory_params(target)}"
            ) from None
    try:
        return target(*args, **kwargs)
    except TypeError as exc:
        raise ValueError(f"initializer {label}: bad parameters ({exc})") from None


def _load_custom(name: str, args: tuple, kwargs: dict) -> Initializer:
    module_name, _, attr_path = name.partition(":")
    if not module_name or not attr_path:
        raise ValueError(f"custom initializer {name!r} must be written package.module:function")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # user code may fail to import in any way
        raise ValueError(
            f"custom initializer {name!r}: cannot import module {module_name!r} "
            f"({type(exc).__name__}: {exc})"
        ) from None
    target: Any = module
    for part in attr_path.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ValueError(
                f"custom initializer {name!r}: module {module_name!r} has no attribute "
                f"{attr_path!r}"
            ) from None
    if not callable(target):
        raise ValueError(
            f"custom initializer {name!r} is not callable (it is a {type(target).__name__})"
        )
    if args or kwargs or inspect.isclass(target):
        initializer = _build(repr(name), target, args, kwargs)
        if not callable(initializer):
            raise ValueError(
                f"custom initializer {name!r} returned {initializer!r}, which is not callable"
            )
        return initializer
    return target


def get_initializer(name: str | Initializer, **params: Any) -> Initializer:
    """Build the initializer for ``name`` (a name, alias, spec string or custom path).

    ``get_initializer("normal(std=0.01)")`` and ``get_initializer("normal", std=0.01)``
    are the same; an initializer object passed in is returned as it is.

    Raises:
        ValueError: for an unknown name (suggesting the closest and listing the
            choices), a malformed spec, unknown or bad parameters, or a custom
            path that does not import or is not callable.
    """
    if not isinstance(name, str):
        if callable(name) and not params:
            return name
        raise ValueError(f"an initializer name must be a string such as 'he_normal', got {name!r}")
    base, args, spec_kwargs = parse_spec(name)
    kwargs = dict(spec_kwargs)
    for key in params:
        if key in kwargs:
            raise ValueError(f"initializer {name!r}: parameter {key!r} given twice")
    kwargs.update(params)
    if ":" in base:
        return _load_custom(base, args, kwargs)
    factory = INITIALIZERS.get(base)
    if factory is None:
        plugin = _entry_point_infos().get(base)
        if plugin is None:
            raise ValueError(
                unknown_name_message("initializer", base, initializer_names(), ALIASES)
            )
        factory = plugin.factory
    return _build(repr(format_spec(base, kwargs) if kwargs else base), factory, args, kwargs)
