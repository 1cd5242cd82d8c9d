"""Shared fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def course_expected() -> dict:
    """The published course outputs (a copy of shared/reference/course_expected.json)."""
    return json.loads((DATA / "course_expected.json").read_text())
