"""Ctrl-C landing in a destructor or a weakref callback (matplotlib's, while figures are
drawn): Python cannot raise it there, prints ``Exception ignored ... KeyboardInterrupt``
and goes on; the command raises it again in the code that runs next."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

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


def _default_sigint() -> None:
    """In the child: Ctrl-C handled as in a terminal, whatever this process ignores (a
    test run started in the background ignores SIGINT, and its children inherit that)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run(mode: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=120,
        preexec_fn=_default_sigint,
    )  # fmt: skip


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


TRAINING = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from initlab import Network, course_circles, initialize
    from initlab.engine import train_population
    data = course_circles()
    net = Network.course()
    starts = [initialize(net, "he", np.random.default_rng(s)) for s in range(3)]
    train_population(net, starts, data.X_train, data.Y_train, iterations=2)  # load the kernel
    print("training", flush=True)
    reports = {"report_every": 10**6, "on_report": print} if sys.argv[1] == "reports" else {}
    try:
        train_population(net, starts, data.X_train, data.Y_train, iterations=3_000_000,
                         **reports)
    except KeyboardInterrupt:
        print("interrupted", time.monotonic(), flush=True)
    """
)


@pytest.mark.parametrize("mode", ["quiet", "reports"])
def test_ctrl_c_stops_library_training_within_about_a_span(mode: str) -> None:
    """A run of about 20 s interrupted after it starts: KeyboardInterrupt reaches the
    caller, and the worker threads stop within a span (0.5 s; 2 s allowed here), not at the
    end of the run."""
    import signal
    import time

    process = subprocess.Popen(
        [sys.executable, "-c", TRAINING, mode], stdout=subprocess.PIPE, text=True,
        preexec_fn=_default_sigint,
    )  # fmt: skip
    try:
        assert process.stdout.readline().strip() == "training"
        time.sleep(1.0)
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
        ended = time.monotonic()
    finally:
        process.kill()
    assert "interrupted" in out
    assert ended - sent < 3.0, f"the process ended {ended - sent:.1f} s after Ctrl-C"
