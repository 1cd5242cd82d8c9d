"""``initlab app`` as a command and a web server (no browser): options, bad input, what it
serves."""

from __future__ import annotations

import socket
import sys

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
