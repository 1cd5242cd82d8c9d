"""docs/torch.md: every example runs, and prints the output shown under it where one is."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from extras import require

torch = require("torch", "torch")
torch.set_num_threads(1)  # small tensors: threads only contend on a shared machine

ROOT = Path(__file__).parents[1]
DOC = ROOT / "docs" / "torch.md"
PAIRS = re.findall(r"```python\n(.*?)```\s*```text\n(.*?)```", DOC.read_text(), re.S)


def test_the_page_has_examples_and_its_figures() -> None:
    assert len(PAIRS) == 2
    for name in ("torch-spp.png", "torch-digits.png"):
        assert (ROOT / "docs" / name).read_bytes().startswith(b"\x89PNG")
    assert "docs/torch-digits.png" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize(("code", "expected"), PAIRS, ids=["init", "lsuv"])
def test_example_prints_what_the_page_shows(code: str, expected: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOC), "exec"), {"__name__": "__doc_example__"})
    assert out.getvalue() == expected
