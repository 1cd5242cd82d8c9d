"""The catalogue: every initializer by name, with its formula, triple, paper and aliases.

:func:`get_initializer` accepts

* a registered name or alias, with parameters as keywords
  (``get_initializer("normal", std=0.01)``) or in a spec string
  (``get_initializer("normal(std=0.01)")``, see :mod:`initlab.spec`);
* ``package.module:attr`` for user code. **This imports the module and so runs
  its code** (the current directory is searched first, as by ``python -m``).
  Without parameters ``attr`` is the initializer itself (``attr(rng, shape)``),
  unless it is a class, which is instantiated; with parameters
  (``pkg.mod:factory(scale=2)``) ``attr(**params)`` must return the initializer.
  What is used must be callable as ``init(rng, shape)`` (checked before it is
  called: ``os:system`` is refused), and whatever the user's code raises becomes a
  ``ValueError`` naming it (see :mod:`initlab.initializers.custom`);
* a name registered by an installed package under the entry-point group
  ``initlab.initializers``; the entry point names a factory that is called
  with the parameters (like the built-in classes). Built-in names win.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from initlab.initializers.base import Initializer
from initlab.initializers.custom import (
    UserInitializer,
    call_user_code,
    check_initializer_signature,
    import_user_module,
)
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
from initlab.spec import (
    Param,
    declared_params,
    fold_keys,
    fold_name,
    format_spec,
    parse_spec,
    refuse_non_finite,
    unknown_name_message,
)

__all__ = [
    "ALIASES",
    "CATALOGUE",
    "ENTRY_POINT_GROUP",
    "INITIALIZERS",
    "InitializerInfo",
    "canonical_initializer",
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
    def params(self) -> dict[str, Param]:
        """The declared allowed values of each parameter (empty for plugins)."""
        return declared_params(self.factory)

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


def _registered(base: str) -> str | None:
    """The registered spelling of ``base`` (case-insensitive; built-in names first)."""
    return fold_name(base, INITIALIZERS) or fold_name(base, _entry_point_infos())


def _unknown(base: str) -> ValueError:
    return ValueError(unknown_name_message("initializer", base, initializer_names(), ALIASES))


def initializer_info(name: str) -> InitializerInfo:
    """The catalogue entry for ``name`` (an alias or spec works too; case-insensitive).

    Raises:
        ValueError: for an unknown name, suggesting the closest.
    """
    base = parse_spec(name)[0]
    registered = _registered(base)
    if registered is None:
        raise _unknown(base)
    registered = ALIASES.get(registered, registered)
    if registered in CATALOGUE:
        return CATALOGUE[registered]
    return _entry_point_infos()[registered]


def _factory_params(factory: Callable[..., Any]) -> str:
    try:
        names = list(inspect.signature(factory).parameters)
    except (TypeError, ValueError):
        return "?"
    return ", ".join(names) if names else "no parameters"


def _build(
    label: str, factory: Callable[..., Any], args: tuple, kwargs: dict, user: str = ""
) -> Any:
    """``factory(*args, **kwargs)``; with a ``user`` label (user code) its errors are wrapped."""
    if isinstance(factory, _LazyEntryPoint):
        target = factory.load()
    else:
        target = factory
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
    if user:
        return call_user_code(user, target, *args, **kwargs)
    try:
        return target(*args, **kwargs)
    except TypeError as exc:
        raise ValueError(f"initializer {label}: bad parameters ({exc})") from None


def _guarded(label: str, initializer: Any) -> UserInitializer:
    """User code's initializer, checked to be one (without calling it) and guarded."""
    check_initializer_signature(label, initializer)
    return UserInitializer(label, initializer)


def _load_custom(name: str, args: tuple, kwargs: dict) -> Initializer:
    module_name, _, attr_path = name.partition(":")
    if not module_name or not attr_path:
        raise ValueError(f"custom initializer {name!r} must be written package.module:function")
    label = f"custom initializer {name!r}"
    try:
        module = import_user_module(module_name)
    except (Exception, SystemExit) as exc:  # user code may fail to import in any way
        name = getattr(exc, "name", None) or ""
        missing = isinstance(exc, ModuleNotFoundError) and (
            module_name == name or module_name.startswith(name + ".")
        )
        where = "; looked in the current directory and on the import path" if missing else ""
        raise ValueError(
            f"{label}: cannot import module {module_name!r} ({type(exc).__name__}: {exc}){where}"
        ) from None
    target: Any = module
    for part in attr_path.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ValueError(
                f"{label}: module {module_name!r} has no attribute {attr_path!r}"
            ) from None
    if not callable(target):
        raise ValueError(f"{label} is not callable (it is a {type(target).__name__})")
    if args or kwargs or inspect.isclass(target):
        initializer = _build(repr(name), target, args, kwargs, user=label)
        if not callable(initializer):
            raise ValueError(f"{label} returned {initializer!r}, which is not callable")
        return _guarded(label, initializer)
    return _guarded(label, target)


def _split(name: str, params: dict[str, Any]) -> tuple[str, tuple, dict[str, Any]]:
    base, args, spec_kwargs = parse_spec(name)
    kwargs = dict(spec_kwargs)
    for key in params:
        if key in kwargs:
            raise ValueError(f"initializer {name!r}: parameter {key!r} given twice")
    kwargs.update(params)
    return base, args, kwargs


def get_initializer(name: str | Initializer, **params: Any) -> Initializer:
    """Build the initializer for ``name`` (a name, alias, spec string or custom path).

    ``get_initializer("normal(std=0.01)")`` and ``get_initializer("normal", std=0.01)``
    are the same; names and parameter names are case-insensitive (``He``,
    ``Normal(STD=0.01)``); an initializer object passed in is returned as it is.

    Raises:
        ValueError: for an unknown name (suggesting the closest and listing the
            choices), a malformed spec, unknown or bad parameters (naming the parameter
            and its allowed range), or a custom path that does not import, is not an
            initializer or raises.
    """
    if not isinstance(name, str):
        if callable(name) and not params:
            return name
        raise ValueError(f"an initializer name must be a string such as 'he_normal', got {name!r}")
    base, args, kwargs = _split(name, params)
    positional = {f"positional value {i}": value for i, value in enumerate(args, start=1)}
    if ":" in base:
        refuse_non_finite(f"custom initializer {base!r}", {**positional, **kwargs})
        return _load_custom(base, args, kwargs)
    registered = _registered(base)
    if registered is None:
        raise _unknown(base)
    factory = INITIALIZERS.get(registered)
    if factory is None:
        plugin = _entry_point_infos()[registered]
        refuse_non_finite(f"initializer {registered!r}", {**positional, **kwargs})
        label = f"initializer {registered!r} ({plugin.source})"
        built = _build(repr(registered), plugin.factory, args, kwargs, user=label)
        return _guarded(label, built)
    declared = declared_params(factory)
    kwargs = fold_keys(kwargs, declared, f"initializer {name!r}")
    refuse_non_finite(registered, kwargs, declared)
    label = repr(format_spec(registered, kwargs) if kwargs else registered)
    return _build(label, factory, args, kwargs)


def canonical_initializer(spec: str, *, check: bool = True) -> str:
    """``spec`` with its name and parameter names spelled as registered: ``He`` -> ``he``.

    A spec already spelled so, or naming user code, is returned unchanged. With
    ``check`` the spec is checked by building it first.

    Raises:
        ValueError: as :func:`get_initializer`.
    """
    if check:
        get_initializer(spec)
    base, args, kwargs = parse_spec(spec)
    if ":" in base:
        return spec
    registered = _registered(base) or base
    factory = INITIALIZERS.get(registered)
    folded = fold_keys(dict(kwargs), declared_params(factory), spec) if factory else dict(kwargs)
    if registered == base and list(folded) == [key for key, _ in kwargs]:
        return spec
    return format_spec(registered, folded, args)
