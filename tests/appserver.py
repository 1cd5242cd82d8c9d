"""``initlab app`` in a subprocess for the tests (the browser is :mod:`browser`'s)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def artifacts() -> Path:
    """Where screenshots are kept (created): ``$INITLAB_ARTIFACTS`` (as
    :mod:`browser`'s fixture), else ``test-artifacts/`` in the working directory."""
    folder = Path(os.environ.get("INITLAB_ARTIFACTS", "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _default_sigint() -> None:
    """In the server process: Ctrl-C as a terminal delivers it, whatever this test process
    inherited or set (an ignored SIGINT is inherited by every child)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _drain(proc: subprocess.Popen) -> None:
    try:
        for line in proc.stderr:  # type: ignore[union-attr]
            proc.stderr_lines.append(line)  # type: ignore[attr-defined]
    except (OSError, ValueError):  # closed when the server is done with
        pass


@contextmanager
def app_server(*args: str, timeout: float = 60) -> Iterator[tuple[str, subprocess.Popen]]:
    """``initlab app --no-browser ARGS`` running; yields its URL (from its first line)."""
    env = {**os.environ, "MPLBACKEND": "Agg", "INITLAB_NO_BROWSER": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "initlab", "app", "--no-browser", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=_default_sigint,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline()), daemon=True)
    reader.start()
    # stderr is read all along: a server whose stderr pipe filled up would block on its
    # next write and could not exit; what it wrote is in proc.stderr_lines
    proc.stderr_lines = []  # type: ignore[attr-defined]
    threading.Thread(target=_drain, args=(proc,), daemon=True).start()
    reader.join(timeout)
    try:
        found = re.search(r"http://\S+", lines[0]) if lines else None
        if found is None:
            proc.kill()
            time.sleep(0.5)
            raise AssertionError(f"no URL from initlab app: {lines}, {proc.stderr_lines}")
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
