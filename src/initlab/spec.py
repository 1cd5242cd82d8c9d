"""Spec strings: a registered name with optional parameters, parsed without ``eval``.

A spec is ``name`` or ``name(key=value, ...)``, for example ``he_normal``,
``normal(std=0.01)`` or
``variance_scaling(scale=2, mode=fan_avg, distribution=uniform)``. Values are

* numbers: ``2``, ``-0.5``, ``1e-3`` (a literal that is not a finite float64, such as
  ``inf``, ``nan`` or ``1e999``, is read as the non-finite float it denotes, marked as
  :class:`NonFiniteLiteral`, and refused by every parameter check with the text the user
  wrote);
* ``true`` / ``false`` (any case) for booleans, ``none`` for ``None``;
* bare words (``fan_avg``, ``relu``, paths such as ``data/points.csv``) or
  quoted strings (``'fan avg'``) as strings.

Positional values (``constant(0.5)``) are allowed before keyword ones and are
bound to the parameters in order. A name containing ``:`` (``package.module:attr``)
refers to user code; see :mod:`initlab.initializers.registry`.

Parsing is cached (:func:`parse_spec` is an :func:`functools.lru_cache`), so
looking a spec up on every training iteration costs a dictionary lookup.

Names are case-insensitive (:func:`fold_name`): ``He``, ``HE_NORMAL`` and ``ReLU`` are
``he``, ``he_normal`` and ``relu``. Every parameter of a registered initializer,
activation or optimizer declares its allowed values once, as a :class:`Range` or a
:class:`Choice` attached to its factory with :func:`declare`; the same declaration checks
the value (naming the parameter, its allowed range and the value given) and is printed by
``initlab inits NAME`` and ``initlab activations NAME``.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "Choice",
    "NonFiniteLiteral",
    "Param",
    "Range",
    "Registry",
    "Spec",
    "abbreviate",
    "check_params",
    "check_values",
    "declare",
    "declared_params",
    "exact_integers",
    "fold_keys",
    "fold_name",
    "format_spec",
    "format_value",
    "lookup",
    "param_help",
    "parse_keyword_spec",
    "parse_spec",
    "refuse_non_finite",
    "shown",
    "split_top_level",
    "unknown_name_message",
]

Spec = tuple[str, tuple[Any, ...], tuple[tuple[str, Any], ...]]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?::[A-Za-z_][A-Za-z0-9_.]*)?"
_HEAD = re.compile(rf"\s*({_NAME})\s*(?:\((.*)\))?\s*\Z", re.DOTALL)
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<quoted>'[^']*'|"[^"]*")
      | (?P<number>[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|nan))
      | (?P<word>[A-Za-z_./~][A-Za-z0-9_.\-/~]*)
    )\s*""",
    re.VERBOSE,
)
_KEY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)\Z", re.DOTALL)


def _split_args(body: str, spec: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    for char in body:
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            current.append(char)
        elif char == ",":
            parts.append("".join(current))
            current = []
        elif char in "()[]{}":
            raise ValueError(f"malformed spec {spec!r}: unexpected {char!r} in the parameters")
        else:
            current.append(char)
    if quote:
        raise ValueError(f"malformed spec {spec!r}: unterminated quote")
    parts.append("".join(current))
    if len(parts) == 1 and not parts[0].strip():
        return []
    if parts and not parts[-1].strip():
        parts.pop()  # allow one trailing comma
    for part in parts:
        if not part.strip():
            raise ValueError(f"malformed spec {spec!r}: empty parameter between commas")
    return parts


class NonFiniteLiteral(float):
    """A number literal of a spec that is not a finite float64 (``inf``, ``nan``, ``1e999``).

    It is the float it denotes (``inf``, ``-inf`` or ``nan``) and remembers the text the
    user wrote, so that the check refusing it can quote that text (see :func:`shown`).
    """

    text: str

    def __new__(cls, value: float, text: str) -> NonFiniteLiteral:
        self = super().__new__(cls, value)
        self.text = text
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return NonFiniteLiteral, (float(self), self.text)


def _number(token: str) -> int | float:
    """A number token as an int (integer literals) or float; non-finite ones are marked
    (an integer literal too large for a float64 too: see :func:`exact_integers`)."""
    try:
        value = float(token)
    except ValueError:  # pragma: no cover - the token regex only lets numbers through
        raise ValueError(f"cannot read number {token!r}") from None
    if not math.isfinite(value):
        return NonFiniteLiteral(value, token)
    if re.fullmatch(r"[+-]?\d+", token):
        return int(token)
    return value


def exact_integers(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with integer literals too large for a float64 as the exact ``int`` they
    denote: for a caller that checks integer ranges itself (sizes, counts)."""
    return {
        key: int(value.text)
        if isinstance(value, NonFiniteLiteral) and re.fullmatch(r"[+-]?\d+", value.text)
        else value
        for key, value in params.items()
    }


def abbreviate(text: str, limit: int = 24) -> str:
    """``text``, a long one shortened: ``999999999999...9999 (400 digits)``."""
    if len(text) <= limit:
        return text
    digits = sum(char.isdigit() for char in text)
    return f"{text[:12]}...{text[-4:]} ({digits} digits)" if digits else f"{text[:limit]}..."


def shown(value: Any) -> str:
    """``value`` for a message: as the user wrote it if it is a literal, ``repr`` otherwise."""
    if isinstance(value, NonFiniteLiteral):
        return abbreviate(value.text)
    if isinstance(value, np.generic):  # np.float32(0.5) -> 0.5
        value = value.item()
    return abbreviate(repr(value))


def _value(text: str, spec: str) -> Any:
    match = _TOKEN.fullmatch(text)
    if match is None:
        raise ValueError(
            f"malformed spec {spec!r}: cannot read value {text.strip()!r} "
            "(use a number, true/false, a bare word or a quoted string)"
        )
    if match["quoted"] is not None:
        return match["quoted"][1:-1]
    if match["number"] is not None:
        return _number(match["number"])
    word = match["word"]
    lowered = word.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if lowered == "none":
        return None
    if lowered in ("inf", "nan"):
        return NonFiniteLiteral(float(lowered), word)
    return word


@lru_cache(maxsize=1024)
def parse_spec(spec: str) -> Spec:
    """Split ``spec`` into ``(name, positional values, ((key, value), ...))``.

    Raises:
        ValueError: if ``spec`` is not a string of the form ``name`` or
            ``name(key=value, ...)``, or a key is repeated.
    """
    if not isinstance(spec, str):
        raise ValueError(f"a spec must be a string such as 'normal(std=0.01)', got {spec!r}")
    head = _HEAD.match(spec)
    if head is None:
        raise ValueError(
            f"malformed spec {spec!r}: expected NAME or NAME(key=value, ...), "
            "e.g. 'normal(std=0.01)'"
        )
    name, body = head[1], head[2]
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for part in _split_args(body or "", spec):
        keyed = _KEY.match(part)
        if keyed is None:
            if kwargs:
                raise ValueError(
                    f"malformed spec {spec!r}: positional value {part.strip()!r} "
                    "after a key=value parameter"
                )
            args.append(_value(part, spec))
            continue
        key = keyed[1]
        if key in kwargs:
            raise ValueError(f"malformed spec {spec!r}: parameter {key!r} given twice")
        kwargs[key] = _value(keyed[2], spec)
    return name, tuple(args), tuple(kwargs.items())


def format_value(value: Any) -> str:
    """Write ``value`` the way :func:`parse_spec` reads it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, NonFiniteLiteral):
        return value.text
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        bare = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", value) is not None
        reserved = value.lower() in ("true", "false", "none", "inf", "nan")
        return value if bare and not reserved else repr(value)
    return str(value)


def format_spec(name: str, params: Mapping[str, Any], args: Iterable[Any] = ()) -> str:
    """``name(arg, ..., key=value, ...)``, or just ``name`` without parameters."""
    items = [format_value(value) for value in args]
    items += [f"{key}={format_value(value)}" for key, value in params.items()]
    return f"{name}({', '.join(items)})" if items else name


def unknown_name_message(
    kind: str, name: str, choices: Iterable[str], also: Iterable[str] = ()
) -> str:
    """``unknown KIND 'nam'; did you mean 'name'? choose one of: ...``.

    ``choices`` are listed; ``also`` (aliases) are only considered for the suggestion,
    which ignores case.
    """
    choices = sorted(set(choices))
    candidates = sorted(set(choices) | set(also))
    # names match case-insensitively, except mixed-case aliases (see fold_name)
    lowered = [c for c in candidates if c == c.lower()]
    close = difflib.get_close_matches(name.lower(), lowered, n=1, cutoff=0.6)
    mixed = [c for c in candidates if c != c.lower()]
    close = close or difflib.get_close_matches(name, mixed, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ";"
    return f"unknown {kind} {name!r}{hint} choose one of: {', '.join(choices)}"


def parse_keyword_spec(text: str, what: str) -> tuple[str, dict[str, Any]]:
    """``"name(k=v, ...)"`` -> ``("name", {"k": v, ...})``, for specs that take keywords only.

    Used for ``--dataset moons(noise=0.2)`` and ``--optimizer momentum(beta=0.95)``.

    Raises:
        ValueError: naming ``what`` (e.g. ``"dataset"``) and the bad text.
    """
    bad = ValueError(
        f"bad {what} {text!r}; write NAME or NAME(key=value, ...), e.g. moons(noise=0.2)"
    )
    try:
        name, args, kwargs = parse_spec(text)
    except ValueError:
        raise bad from None
    if args:
        raise bad
    return name, dict(kwargs)


def split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets and quotes: ``"relu,leaky(a=1, b=2)"`` -> two items."""
    items: list[str] = []
    depth = 0
    quote = ""
    current: list[str] = []
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0 and not quote:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return items


def fold_name(name: str, names: Iterable[str]) -> str | None:
    """The registered spelling of ``name``: itself if registered, else its case-folded match.

    Only registered names written in lower case are matched case-insensitively, so a
    mixed-case alias such as ``ZerO`` answers to its exact spelling only (``zero`` is not
    taken for it). ``None`` if nothing matches.
    """
    names = list(names)
    if name in names:
        return name
    folded = {n: n for n in names if n == n.lower()}
    return folded.get(name.lower())


def fold_keys(params: Mapping[str, Any], keys: Iterable[str], what: str) -> dict[str, Any]:
    """``params`` with each key replaced by the one of ``keys`` it matches case-insensitively.

    Raises:
        ValueError: if two keys fold to the same parameter (``std`` and ``STD``).
    """
    keys = list(keys)
    out: dict[str, Any] = {}
    for key, value in params.items():
        canonical = fold_name(key, keys) or key
        if canonical in out:
            raise ValueError(f"{what}: parameter {canonical!r} given twice")
        out[canonical] = value
    return out


def lookup(registry: Mapping[str, T], name: str, what: str) -> T:
    """``registry[name]`` (case-insensitive), or a ``ValueError`` suggesting the closest name."""
    found = fold_name(name, registry)
    if found is None:
        raise ValueError(unknown_name_message(what, name, registry))
    return registry[found]


class Registry(Mapping[str, T]):
    """A catalogue of named entries, shared by the activations, optimizers and datasets.

    A read-only mapping from each entry's canonical name to the entry; ``aliases``
    maps other accepted names to canonical ones. Names are looked up as
    :func:`fold_name` does (case-insensitively, but for mixed-case aliases), and an
    unknown name is a ``ValueError`` that suggests the closest name and lists the
    choices (:func:`unknown_name_message`). :meth:`parse` reads a whole spec
    (``name(key=value, ...)``): the entry, its positional values and its keyword
    values with their keys spelled as the entry declares them.
    """

    def __init__(
        self, what: str, entries: Mapping[str, T], aliases: Mapping[str, str] | None = None
    ) -> None:
        aliases = aliases or {}
        unknown = sorted(set(aliases.values()) - set(entries))
        if unknown:
            raise ValueError(f"{what} aliases refer to unregistered names: {unknown}")
        self.what = what
        self._entries = dict(entries)
        self.aliases = dict(aliases)

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}, {sorted(self._entries)})"

    def match(self, name: str) -> str:
        """The registered spelling ``name`` matches: a canonical name or an alias."""
        found = fold_name(name, [*self._entries, *self.aliases])
        if found is None:
            raise ValueError(unknown_name_message(self.what, name, self._entries, self.aliases))
        return found

    def canonical(self, name: str) -> str:
        """The canonical name of ``name`` (an alias resolved): ``ReLU`` -> ``relu``."""
        found = self.match(name)
        return self.aliases.get(found, found)

    def lookup(self, name: str) -> T:
        """The entry named ``name`` (any accepted spelling)."""
        return self._entries[self.canonical(name)]

    def names(self, *, aliases: bool = False) -> list[str]:
        """The canonical names, sorted (with the aliases if asked)."""
        return sorted({*self._entries, *(self.aliases if aliases else ())})

    def parse(
        self,
        spec: str,
        keys: Callable[[T], Iterable[str]],
        *,
        keywords_only: bool = False,
    ) -> tuple[str, T, tuple[Any, ...], dict[str, Any]]:
        """``(registered spelling, entry, positional values, keyword values)`` of ``spec``,
        each key spelled as one of ``keys(entry)`` when it matches one case-insensitively
        (unknown keys are left for the caller's :func:`check_params`).

        Raises:
            ValueError: for a malformed spec, positional values where ``keywords_only``,
                an unknown name or a key given twice.
        """
        if keywords_only:
            name, params = parse_keyword_spec(spec, self.what)
            args: tuple[Any, ...] = ()
        else:
            name, args, pairs = parse_spec(spec)
            params = dict(pairs)
        registered = self.match(name)
        entry = self._entries[self.aliases.get(registered, registered)]
        return registered, entry, args, fold_keys(params, keys(entry), f"{self.what} {spec!r}")


def check_params(
    what: str,
    name: str,
    params: Mapping[str, Any],
    allowed: Iterable[str] | Mapping[str, Any],
    *,
    checks_values: bool = False,
) -> None:
    """Raise ``ValueError`` naming the first parameter of ``params`` not in ``allowed``.

    A value that is a non-finite number literal (``1e999``, ``inf``, ``nan``) is refused
    too, naming the parameter (with its declared range if ``allowed`` maps names to
    :class:`Param` declarations), unless the caller ``checks_values`` itself against
    ranges it states in its own messages.
    """
    names = list(allowed)
    for key in params:
        if key not in names:
            listed = ", ".join(names) or "none"
            raise ValueError(f"{what} {name!r} has no parameter {key!r}; its parameters: {listed}")
    if checks_values:
        return
    declared = allowed if isinstance(allowed, Mapping) else {}
    refuse_non_finite(f"{what} {name!r}", params, declared)


def refuse_non_finite(
    who: str, params: Mapping[str, Any], declared: Mapping[str, Any] | None = None
) -> None:
    """Refuse any :class:`NonFiniteLiteral` among ``params``, naming its parameter."""
    for key, value in params.items():
        if isinstance(value, NonFiniteLiteral):
            param = (declared or {}).get(key)
            if isinstance(param, Param):
                param.check(who, key, value)
            raise ValueError(f"{who}: {key} must be a finite number, got {shown(value)}")


# ---------------------------------------------------------------------------
# declared parameter ranges


def _is_real(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating)


def _g(number: float) -> str:
    return f"{number:g}"


class Param:
    """The allowed values of one parameter: :meth:`check` returns the value to use or raises."""

    def describe(self, name: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def check(self, who: str, name: str, value: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def fail(self, who: str, name: str, value: Any) -> ValueError:
        """``WHO: NAME must be DESCRIPTION, got VALUE``."""
        return ValueError(f"{who}: {name} must be {self.describe(name)}, got {shown(value)}")


@dataclass(frozen=True)
class Range(Param):
    """A finite real number (an integer if ``integer``) in an interval.

    ``low``/``high`` bound the value (open ends with ``low_open``/``high_open``),
    ``max_abs``/``min_abs`` bound its magnitude (a gain whose square must stay a
    positive finite float64). Bools are refused; numpy scalars are accepted.
    ``why`` says what a bound protects and is shown in the help.
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    max_abs: float | None = None
    min_abs: float | None = None
    integer: bool = False
    why: str = ""

    def describe(self, name: str) -> str:
        noun = "an integer" if self.integer else "a number"
        if self.low is not None and self.high is not None:
            left = "(" if self.low_open else "["
            right = ")" if self.high_open else "]"
            return f"{noun} in {left}{_g(self.low)}, {_g(self.high)}{right}"
        if self.max_abs is not None:
            lower = f"{_g(self.min_abs)} <= " if self.min_abs is not None else ""
            return f"{noun} with {lower}|{name}| <= {_g(self.max_abs)}"
        word = "integer" if self.integer else "finite number"
        if self.low == 0 and self.low_open:
            return f"a positive {word}"
        article = "an" if self.integer else "a"
        if self.low is not None:
            return f"{article} {word} {'>' if self.low_open else '>='} {_g(self.low)}"
        if self.high is not None:
            return f"{article} {word} {'<' if self.high_open else '<='} {_g(self.high)}"
        return f"{article} {word}"

    def check(self, who: str, name: str, value: Any) -> int | float:
        if not _is_real(value):
            raise self.fail(who, name, value)
        if self.integer:
            if not isinstance(value, int | np.integer):
                raise self.fail(who, name, value)
            number: int | float = int(value)
        else:
            try:
                number = float(value)
            except OverflowError:  # an int beyond float64
                raise self.fail(who, name, value) from None
            if not math.isfinite(number):
                raise self.fail(who, name, value)
        if self.low is not None and (number <= self.low if self.low_open else number < self.low):
            raise self.fail(who, name, value)
        if self.high is not None and (
            number >= self.high if self.high_open else number > self.high
        ):
            raise self.fail(who, name, value)
        if self.max_abs is not None and abs(number) > self.max_abs:
            raise self.fail(who, name, value)
        if self.min_abs is not None and abs(number) < self.min_abs:
            raise self.fail(who, name, value)
        return number


@dataclass(frozen=True)
class Choice(Param):
    """One of ``choices`` (case-insensitive); ``aliases`` map other spellings to a choice."""

    choices: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...] = ()

    def describe(self, name: str) -> str:
        return f"one of: {', '.join(self.choices)}"

    def check(self, who: str, name: str, value: Any) -> str:
        if isinstance(value, str):
            aliases = dict(self.aliases)
            found = fold_name(value, [*self.choices, *aliases])
            if found is not None:
                return aliases.get(found, found)
        raise ValueError(
            f"{who}: unknown {name} {shown(value)}; choose one of: {', '.join(self.choices)}"
        )


def declared_params(factory: Any) -> dict[str, Param]:
    """The parameter declarations of ``factory`` (empty if it declares none)."""
    return dict(getattr(factory, "param_ranges", {}) or {})


def param_help(factory: Any) -> list[str]:
    """One line per declared parameter: ``name = default: allowed values (why)``."""
    try:
        defaults = {
            name: p.default
            for name, p in inspect.signature(factory).parameters.items()
            if p.default is not inspect.Parameter.empty
        }
    except (TypeError, ValueError):
        defaults = {}
    lines = []
    for name, param in declared_params(factory).items():
        head = f"{name} = {format_value(defaults[name])}" if name in defaults else name
        why = getattr(param, "why", "")
        lines.append(f"{head}: {param.describe(name)}" + (f" ({why})" if why else ""))
    return lines


def check_values(who: str, declared: Mapping[str, Param], values: Mapping[str, Any]) -> dict:
    """``values`` with every declared parameter checked and normalized (others as given)."""
    out = dict(values)
    for key, value in values.items():
        param = declared.get(key)
        if param is not None:
            out[key] = param.check(who, key, value)
    return out


def declare(who: str, **params: Param) -> Callable[[F], F]:
    """Declare the allowed values of a factory's parameters, and check them on every call.

    On a function, the arguments are bound to its signature, checked and passed on
    normalized. On a (frozen) dataclass, the fields are checked and normalized before
    its own ``__post_init__`` runs (cross-field checks go there; an empty ``who`` names
    the instance by its ``name`` attribute, for a base class). The declarations are
    kept as ``factory.param_ranges`` (a subclass adds to its parent's) for the help.
    """

    def wrap(factory: F) -> F:
        if inspect.isclass(factory):
            ranges = {**declared_params(factory), **params}
            own_post_init = factory.__dict__.get("__post_init__")

            def __post_init__(self: Any) -> None:
                label = who or str(getattr(self, "name", "") or type(self).__name__)
                for key, param in params.items():
                    object.__setattr__(self, key, param.check(label, key, getattr(self, key)))
                if own_post_init is not None:
                    own_post_init(self)
                else:
                    parent = super(factory, self)
                    if hasattr(parent, "__post_init__"):
                        parent.__post_init__()

            factory.__post_init__ = __post_init__  # type: ignore[attr-defined]
            factory.param_ranges = ranges  # type: ignore[attr-defined]
            return factory
        signature = inspect.signature(factory)

        @functools.wraps(factory)
        def checked(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            values = check_values(who, params, bound.arguments)
            return factory(**values)

        checked.param_ranges = dict(params)  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return wrap
