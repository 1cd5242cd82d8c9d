"""``initlab app`` in a subprocess for the tests (the browser is :mod:`browser`'s)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def artifacts() -> Path:
    """Where screenshots are kept (created): ``$INITLAB_ARTIFACTS`` (as
    :mod:`browser`'s fixture), else ``test-artifacts/`` in the working directory."""
    folder = Path(os.environ.get("INITLAB_ARTIFACTS", "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def app_server(*args: str, timeout: float = 60) -> Iterator[tuple[str, subprocess.Popen]]:
    """``initlab app --no-browser ARGS`` running; yields its URL (from its first line)."""
    env = {**os.environ, "MPLBACKEND": "Agg", "INITLAB_NO_BROWSER": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "initlab", "app", "--no-browser", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    try:
        found = re.search(r"http://\S+", lines[0]) if lines else None
        if found is None:
            proc.kill()
            raise AssertionError(f"no URL from initlab app: {lines}, {proc.stderr.read()}")
        yield found.group(0), proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            stream.close()
