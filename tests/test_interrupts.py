"""Ctrl-C landing in a destructor or a weakref callback (matplotlib's, while figures are
drawn): Python cannot raise it there, prints ``Exception ignored ... KeyboardInterrupt``
and goes on; the command raises it again in the code that runs next."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from badinput import run_cli
from initlab import _startup

SCRIPT = textwrap.dedent(
    """
    import sys, time, weakref
    from initlab._startup import interrupts_not_lost
    if sys.argv[1] == "guarded":
        interrupts_not_lost()
    class Node:
        pass
    def callback(_):
        raise KeyboardInterrupt  # as a SIGINT handled inside the callback raises it
    node = Node()
    ref = weakref.ref(node, callback)
    try:
        del node
        start = time.monotonic()
        while time.monotonic() - start < 2:  # the redelivery takes 0.01 s
            pass
        print("went on")
    except KeyboardInterrupt:
        print("interrupted")
    """
)


def run(mode: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=120
    )


def test_an_interrupt_lost_in_a_callback_is_raised_again() -> None:
    unguarded = run("unguarded")  # what Python does by itself: the oracle of the problem
    assert unguarded.stdout.strip() == "went on"
    assert "Exception ignored" in unguarded.stderr
    guarded = run("guarded")
    assert guarded.stdout.strip() == "interrupted"
    assert guarded.stderr == ""


def test_the_command_puts_the_previous_hook_back(capsys) -> None:
    before = sys.unraisablehook
    code, _, _ = run_cli(capsys, "activations")
    assert code == 0
    assert sys.unraisablehook is before
    assert before is not _startup._deliver_again
