"""Parse ``name`` or ``name(key=value, ...)`` strings, as the command line writes them.

Values are Python literals (numbers, strings, booleans, ``None``, tuples) or,
failing that, plain text. Used for ``--dataset moons(noise=0.2)`` and
``--optimizer momentum(beta=0.95)``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

__all__ = ["check_params", "lookup", "parse_spec", "split_top_level"]

T = TypeVar("T")

_SPEC = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*", re.DOTALL)


def parse_spec(text: str, what: str) -> tuple[str, dict[str, Any]]:
    """Split ``"name(k=v, ...)"`` into ``("name", {"k": v, ...})``.

    A value is read as a Python literal (``0.2``, ``'x'``, ``True``, ``None``,
    ``(1, 2)``) when it is one, and kept as text otherwise, so that
    ``csv(path=data/points.csv, label=species)`` needs no quotes.

    Raises:
        ValueError: naming ``what`` (e.g. ``"dataset"``) and the bad text.
    """
    bad = ValueError(
        f"bad {what} {text!r}; write NAME or NAME(key=value, ...), e.g. moons(noise=0.2)"
    )
    match = _SPEC.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise bad
    name, inner = match.group(1), match.group(2)
    params: dict[str, Any] = {}
    if inner is None or not inner.strip():
        return name, params
    for item in split_top_level(inner):
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key.isidentifier() or not value:
            raise bad
        if key in params:
            raise ValueError(f"bad {what} {text!r}: {key!r} is given twice")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            params[key] = value
    return name, params


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
    """``registry[name]``, or a ``ValueError`` listing the names there are."""
    try:
        return registry[name]
    except KeyError:
        choices = ", ".join(registry)
        raise ValueError(f"unknown {what} {name!r}; choose one of: {choices}") from None


def check_params(what: str, name: str, params: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Raise ``ValueError`` naming the first parameter of ``params`` not in ``allowed``."""
    allowed = list(allowed)
    for key in params:
        if key not in allowed:
            names = ", ".join(allowed) or "none"
            raise ValueError(f"{what} {name!r} has no parameter {key!r}; its parameters: {names}")
