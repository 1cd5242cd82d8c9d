"""Spec strings: a registered name with optional parameters, parsed without ``eval``.

A spec is ``name`` or ``name(key=value, ...)``, for example ``he_normal``,
``normal(std=0.01)`` or
``variance_scaling(scale=2, mode=fan_avg, distribution=uniform)``. Values are

* numbers: ``2``, ``-0.5``, ``1e-3``, ``inf``;
* ``true`` / ``false`` (any case) for booleans, ``none`` for ``None``;
* bare words (``fan_avg``, ``relu``, paths such as ``data/points.csv``) or
  quoted strings (``'fan avg'``) as strings.

Positional values (``constant(0.5)``) are allowed before keyword ones and are
bound to the parameters in order. A name containing ``:`` (``package.module:attr``)
refers to user code; see :mod:`initlab.initializers.registry`.

Parsing is cached (:func:`parse_spec` is an :func:`functools.lru_cache`), so
looking a spec up on every training iteration costs a dictionary lookup.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = [
    "Spec",
    "check_params",
    "format_spec",
    "format_value",
    "lookup",
    "parse_keyword_spec",
    "parse_spec",
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
        token = match["number"]
        if re.fullmatch(r"[+-]?\d+", token):
            return int(token)
        return float(token)
    word = match["word"]
    lowered = word.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if lowered == "none":
        return None
    if lowered in ("inf", "nan"):
        return float(lowered)
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
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        bare = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", value) is not None
        reserved = value.lower() in ("true", "false", "none", "inf", "nan")
        return value if bare and not reserved else repr(value)
    return str(value)


def format_spec(name: str, params: dict[str, Any]) -> str:
    """``name(key=value, ...)``, or just ``name`` without parameters."""
    if not params:
        return name
    inner = ", ".join(f"{key}={format_value(value)}" for key, value in params.items())
    return f"{name}({inner})"


def unknown_name_message(
    kind: str, name: str, choices: Iterable[str], also: Iterable[str] = ()
) -> str:
    """``unknown KIND 'nam'; did you mean 'name'? choose one of: ...``.

    ``choices`` are listed; ``also`` (aliases) are only considered for the suggestion.
    """
    choices = sorted(set(choices))
    candidates = sorted(set(choices) | set(also))
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:
        close = [lowered[name.lower()]]
    else:
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
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


def lookup(registry: Mapping[str, T], name: str, what: str) -> T:
    """``registry[name]``, or a ``ValueError`` suggesting the closest name and listing all."""
    try:
        return registry[name]
    except KeyError:
        raise ValueError(unknown_name_message(what, name, registry)) from None


def check_params(what: str, name: str, params: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Raise ``ValueError`` naming the first parameter of ``params`` not in ``allowed``."""
    allowed = list(allowed)
    for key in params:
        if key not in allowed:
            names = ", ".join(allowed) or "none"
            raise ValueError(f"{what} {name!r} has no parameter {key!r}; its parameters: {names}")
