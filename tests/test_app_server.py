"""``initlab app`` as a command and a web server (no browser): options, bad input, what it
serves."""

from __future__ import annotations

import signal
import socket
import sys
import time

import pytest

from badinput import assert_one_line_error, run_cli
from extras import require

require("bokeh", "app")

from initlab.app.server import is_loopback  # noqa: E402


def test_port_in_use_says_which_and_suggests_port_0(capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run_cli(capsys, "app", "--no-browser", "--port", str(port))
    assert_one_line_error(code, err, f"port {port}", "127.0.0.1", "--port 0")
    assert out == ""


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--port", "70000"), "70000"),
        (("--port", "x"), "'x'"),
        (("--host", "999.1.2.3"), "999.1.2.3"),
        (("--host", ""), "--host"),
    ],
)
def test_bad_options(capsys, args, named) -> None:
    code, out, err = run_cli(capsys, "app", "--no-browser", *args)
    lines = err.strip().splitlines()
    assert [line for line in lines if line.startswith("initlab: error:")] == lines[-1:]
    assert_one_line_error(code, lines[-1], named)
    assert out == ""


def test_loopback_names() -> None:
    for host in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LocalHost"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.10", "example.org", ""):
        assert not is_loopback(host), host


def _served(monkeypatch) -> list[tuple[tuple, dict]]:
    """Replace the server by a recorder of how it would be started."""
    import initlab.app.server as server

    calls: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(server, "serve", lambda *a, **k: calls.append((a, k)))
    return calls


def test_a_host_beyond_this_machine_is_warned_about(capsys, monkeypatch) -> None:
    calls = _served(monkeypatch)
    code, _out, err = run_cli(capsys, "app", "--host", "0.0.0.0", "--allow-custom-code")
    assert code == 0
    assert err.startswith("initlab: warning: listening on 0.0.0.0, not only on this machine")
    assert "run code" in err
    assert calls == [
        (
            ("0.0.0.0", 0),
            {"open_browser": True, "allow_custom_code": True, "on_start": calls[0][1]["on_start"]},
        )
    ]


def test_loopback_is_not_warned_about(capsys, monkeypatch) -> None:
    calls = _served(monkeypatch)
    code, _out, err = run_cli(capsys, "app", "--no-browser", "--port", "8050")
    assert (code, err) == (0, "")
    args, kwargs = calls[0]
    assert args == ("127.0.0.1", 8050)
    assert kwargs["open_browser"] is False and kwargs["allow_custom_code"] is False


def test_without_bokeh_the_extra_is_named(capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "bokeh", None)  # import bokeh raises ImportError
    code, _out, err = run_cli(capsys, "app", "--no-browser")
    assert_one_line_error(code, err, "pip install 'initlab[app]'")


class _Loop:
    """One thread that runs a document's callbacks in order, as the server's event loop
    does; the exceptions they raise are kept."""

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.pool = ThreadPoolExecutor(max_workers=1)
        self.errors: list[BaseException] = []

    def call(self, callback, *args):
        def run():
            try:
                return callback(*args)
            except BaseException as exc:
                self.errors.append(exc)
                raise

        return self.pool.submit(run)


def _lab(query: dict[str, list[bytes]]):
    """A page's controller, its document's callbacks run by a :class:`_Loop` (no browser)."""
    from bokeh.document import Document

    from initlab.app.page import Lab
    from initlab.app.server import Shared

    loop = _Loop()
    doc = Document()
    doc.add_next_tick_callback = lambda callback: loop.call(callback)
    doc.add_timeout_callback = lambda callback, _ms: loop.call(callback)
    lab = loop.call(Lab, doc, Shared(), query).result()
    return lab, loop


def _wait(predicate, what: str) -> None:
    for _ in range(6000):  # a failure after a minute, never a measurement
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"not {what} within a minute")


def test_a_new_train_cancels_the_run_in_progress(course_expected) -> None:
    from initlab.app.config import AppConfig

    lab, loop = _lab({"init": [b"he"], "iterations": [b"200000"], "hidden": [b"64,64,64"]})
    _wait(lambda: lab.outcome is not None, "training")
    first = lab.cancel
    loop.call(lab.start, AppConfig(inits=("he", "zeros"))).result()  # as the Train button
    assert first.is_set()
    _wait(lambda: "done" in lab.w_status.text, "done")
    assert lab.outcome is not None and lab.outcome.names == ("he", "zeros")
    assert not lab.outcome.cancelled
    for i, init in enumerate(("he", "zeros")):
        scores = lab.outcome.scores(i)
        assert scores["train_accuracy"] == course_expected["runs"][init]["train_accuracy"]
    assert 'data-init="he"' in lab.w_results.text and "random" not in lab.w_results.text
    assert loop.errors == []


def test_a_bad_form_is_said_in_the_page_and_nothing_runs() -> None:
    lab, loop = _lab({"init": [b"he"], "iterations": [b"5"]})
    _wait(lambda: "done" in lab.w_status.text, "done")
    run = lab.run_id
    lab.w_inits.value = "<b>he</b>"
    loop.call(lab._on_train).result()
    assert "&lt;b&gt;he&lt;/b&gt;" in lab.w_status.text and "<b>he" not in lab.w_status.text
    assert lab.run_id == run
    assert loop.errors == []


def test_ctrl_c_stops_the_server_with_one_line() -> None:
    """Once the page is served (the server's first training done: the first training after
    installation compiles the engine, for seconds during which no Python code, a signal's
    handler included, runs)."""
    import urllib.request

    from appserver import app_server

    with app_server() as (url, proc):
        with urllib.request.urlopen(url, timeout=240) as page:  # waits for the course
            assert page.status == 200
        proc.send_signal(signal.SIGINT)
        code = proc.wait(60)
        time.sleep(0.2)  # the reader thread takes the last line
        err = "".join(proc.stderr_lines)
    parent = signal.getsignal(signal.SIGINT)
    assert code == 130 and err.strip().splitlines()[-1:] == ["initlab: aborted"], (
        code,
        err,
        parent,
    )
    assert err.strip() == "initlab: aborted", err
