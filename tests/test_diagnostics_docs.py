"""docs/diagnostics.md: every example runs and prints the output shown under it."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOC = Path(__file__).parents[1] / "docs" / "diagnostics.md"
PAIRS = re.findall(r"```python\n(.*?)```\s*```text\n(.*?)```", DOC.read_text(), re.S)


def test_the_page_has_examples() -> None:
    assert len(PAIRS) == 4


@pytest.mark.parametrize(
    ("code", "expected"), PAIRS, ids=[f"example{i}" for i in range(len(PAIRS))]
)
def test_example_prints_what_the_page_shows(code: str, expected: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOC), "exec"), {"__name__": "__doc_example__"})
    assert out.getvalue() == expected
