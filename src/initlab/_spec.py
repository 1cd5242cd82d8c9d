"""Parse ``name`` or ``name(key=value, ...)`` strings, as the command line writes them.

Values are Python literals (numbers, strings, booleans, ``None``, tuples);
anything else is rejected. Used for ``--dataset moons(noise=0.2)`` and
``--optimizer momentum(beta=0.95)``.
"""

from __future__ import annotations

import ast
from typing import Any

__all__ = ["parse_spec", "split_top_level"]


def parse_spec(text: str, what: str) -> tuple[str, dict[str, Any]]:
    """Split ``"name(k=v, ...)"`` into ``("name", {"k": v, ...})``.

    Raises:
        ValueError: naming ``what`` (e.g. ``"dataset"``) and the bad text.
    """
    bad = ValueError(
        f"bad {what} {text!r}; write NAME or NAME(key=value, ...), e.g. moons(noise=0.2)"
    )
    if not isinstance(text, str):
        raise bad
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise bad from None
    if isinstance(node, ast.Name):
        return node.id, {}
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)) or node.args:
        raise bad
    params: dict[str, Any] = {}
    for keyword in node.keywords:
        if keyword.arg is None:
            raise bad
        try:
            params[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
            if isinstance(keyword.value, ast.Name):
                # a bare word is a string: csv(label=species)
                params[keyword.arg] = keyword.value.id
            else:
                raise ValueError(
                    f"bad {what} {text!r}: the value of {keyword.arg!r} must be a literal "
                    "(a number, a string, True/False or None)"
                ) from None
    return node.func.id, params


def split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses: ``"relu,leaky_relu(a=1, b=2)"`` -> two items."""
    items: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return items
