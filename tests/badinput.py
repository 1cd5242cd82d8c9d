"""The bad-input contract, shared by every corpus of bad inputs.

A bad input gets exactly one line on stderr, ``initlab: error: ...``, naming the
value at fault, exit code 2, no traceback, and no file written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from initlab.cli import main


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``initlab ARGS`` in this process: ``(exit code, stdout, stderr)``."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_cli_process(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> tuple[int, str, str]:
    """Run ``initlab ARGS`` in a fresh interpreter (for signals, pipes, start-up)."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-m", "initlab", *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout,
    )  # fmt: skip
    return proc.returncode, proc.stdout, proc.stderr


def assert_one_line_error(code: int, stderr: str, *names: str) -> None:
    """Exit 2 and a single ``initlab: error:`` line mentioning every one of ``names``."""
    lines = stderr.strip().splitlines()
    assert code == 2, (code, stderr)
    assert len(lines) == 1, stderr
    assert lines[0].startswith("initlab: error: "), stderr
    assert "Traceback" not in stderr
    for name in names:
        assert name in lines[0], (name, lines[0])


def files_under(path: Path) -> list[Path]:
    """Every file below ``path`` (empty if it does not exist)."""
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []
