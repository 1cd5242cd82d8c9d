"""Ctrl-C while the ``initlab`` command starts: one line and exit 130, as later.

``python -m initlab`` and the ``initlab`` script import the package, and with it NumPy,
SciPy and the rest, before the command's own error handling runs. So the package first
imports this module, which calls :func:`guard_command_startup`: in the ``initlab``
command only (never in a program that imports initlab), SIGINT then prints
``initlab: aborted`` and exits with status 130 instead of raising ``KeyboardInterrupt``
in the middle of an import. :func:`initlab.cli.app.main` hands SIGINT back to Python's
``KeyboardInterrupt`` once it runs (:func:`command_running`), and when it returns ignores
it while the interpreter exits (:func:`command_done`). The only moment left uncovered is
the interpreter's own start, before initlab's first line runs (a few milliseconds).

Standard library only: this runs before anything else is imported.
"""

import _thread
import os
import signal
import sys

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
ABORTED = "initlab: aborted\n"


def print_aborted() -> int:
    """Write ``initlab: aborted`` on stderr; returns the exit status, 130."""
    try:
        sys.stderr.write(ABORTED)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return EXIT_INTERRUPTED


def _abort(signum: int, frame: object) -> None:
    # os._exit, not SystemExit: an import that catches BaseException (some do, around
    # optional imports) would swallow SystemExit and the command would go on after
    # printing "aborted". Nothing needs cleaning up yet: the command has not started.
    os._exit(print_aborted())


def running_as_command() -> bool:
    """Whether this process is the ``initlab`` command (the script, or ``python -m``)."""
    if sys.argv and os.path.basename(sys.argv[0]) in ("initlab", "initlab.exe"):
        return True
    argv = list(getattr(sys, "orig_argv", []))[1:]
    while argv:
        arg = argv.pop(0)
        if arg == "-m":
            return argv[:1] == ["initlab"]
        if arg.startswith("-m"):
            return arg == "-minitlab"
        if arg in ("-X", "-W"):
            argv = argv[1:]
        elif not arg.startswith("-") or arg == "-c":
            return False  # a script or a command string
    return False


def guard_command_startup() -> None:
    """In the ``initlab`` command, make SIGINT exit quietly (130) until the command runs."""
    if running_as_command() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _abort)


def command_running() -> None:
    """The command's own handling takes over: SIGINT raises ``KeyboardInterrupt`` again."""
    if signal.getsignal(signal.SIGINT) is _abort:
        signal.signal(signal.SIGINT, signal.default_int_handler)


#: seconds after a lost interrupt before it is raised again, once its hook has returned
REDELIVERY_DELAY = 0.01


def _deliver_again(unraisable: object) -> None:
    """``sys.unraisablehook`` while the command runs: a ``KeyboardInterrupt`` raised where
    Python cannot propagate it (in a destructor or a weakref callback, e.g. matplotlib's,
    when Ctrl-C lands there) would be printed as ``Exception ignored ... Traceback`` and
    lost, the command going on; instead it is raised again in the code that runs next."""
    if isinstance(getattr(unraisable, "exc_value", None), KeyboardInterrupt):
        # not signalled from here: it would be raised in this hook, and ignored again
        import threading

        timer = threading.Timer(REDELIVERY_DELAY, _thread.interrupt_main)
        timer.daemon = True
        timer.start()
        return
    _PREVIOUS_HOOK[0](unraisable)


_PREVIOUS_HOOK = [sys.unraisablehook]


def interrupts_not_lost() -> None:
    """While the command runs, an interrupt swallowed by a destructor is raised again
    (:func:`_deliver_again`); :func:`interrupts_as_before` puts the previous hook back."""
    if sys.unraisablehook is not _deliver_again:
        _PREVIOUS_HOOK[0] = sys.unraisablehook
        sys.unraisablehook = _deliver_again


def interrupts_as_before() -> None:
    """Undo :func:`interrupts_not_lost`."""
    if sys.unraisablehook is _deliver_again:
        sys.unraisablehook = _PREVIOUS_HOOK[0]


def command_done() -> None:
    """The command returned: in the ``initlab`` process, ignore SIGINT while it exits."""
    if running_as_command() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


guard_command_startup()
