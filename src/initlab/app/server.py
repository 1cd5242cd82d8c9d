"""The local web server: Bokeh's server (Tornado) with one function handler for the page.

Bokeh ships its JavaScript inside its Python package and the server serves it from
``/static``: the page makes no request beyond the server it came from. The server
listens on ``127.0.0.1`` unless told otherwise; a new tab gets its own document
(:mod:`initlab.app.page`); downloads are served from ``/download/TOKEN/NAME`` where
``TOKEN`` is the tab's random token.

At start the course's experiment is trained once in the background (which also loads
the compiled engine), so the first page shows it trained.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import secrets
import socket
import tempfile
import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from initlab.app.config import AppConfig
from initlab.app.training import Outcome, prepare, train

__all__ = ["Shared", "is_loopback", "serve", "start_server"]

#: the largest message a page may send (an upload travels base64-encoded in one): files
#: up to about 15 MB get the page's "too large" message, larger ones close the tab's
#: connection (reload the page)
WEBSOCKET_LIMIT = 20 * 1024 * 1024
#: finished outcomes kept per server (the course's pre-trained one always)
CACHE_SIZE = 8


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _write_report(document: bytes) -> bytes:
    """``report.html`` for a run, from its ``results.json`` (:mod:`initlab.report`)."""
    from initlab.report import write_report

    with tempfile.TemporaryDirectory(prefix="initlab-app-report-") as folder:
        Path(folder, "results.json").write_bytes(document)
        return Path(write_report(folder)).read_bytes()


@dataclass
class Shared:
    """What the tabs of one server share: settings, finished outcomes, downloads."""

    allow_custom_code: bool = False
    _cache: OrderedDict[AppConfig, Future[Outcome]] = field(default_factory=OrderedDict)
    _downloads: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def new_token(self) -> str:
        token = secrets.token_urlsafe(18)
        with self._lock:
            self._downloads[token] = {}
        return token

    def forget(self, token: str) -> None:
        with self._lock:
            self._downloads.pop(token, None)

    def store(self, token: str, results: bytes, outcome: Outcome) -> None:
        """The tab's newest finished run, for its download links; kept for later tabs."""
        with self._lock:
            if token in self._downloads:
                self._downloads[token] = {"results.json": results}
            config = outcome.prepared.config
            if not config.uploaded and not outcome.cancelled and config not in self._cache:
                done: Future[Outcome] = Future()
                done.set_result(outcome)
                self._cache[config] = done
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)

    def download(self, token: str, name: str) -> bytes | None:
        with self._lock:
            files = self._downloads.get(token)
            if not files or "results.json" not in files:
                return None
            if name == "report.html" and name not in files:
                files[name] = _write_report(files["results.json"])
            return files.get(name)

    def cached(self, config: AppConfig) -> Future[Outcome] | None:
        """The (possibly still running) training of ``config``, if the server has one."""
        with self._lock:
            future = self._cache.get(config)
            if future is not None:
                self._cache.move_to_end(config)
            return future

    def pretrain(self, config: AppConfig) -> Future[Outcome]:
        """Train ``config`` in the background once; tabs that ask for it wait for it."""
        future: Future[Outcome] = Future()
        with self._lock:
            self._cache[config] = future

        def work() -> None:
            try:
                future.set_result(train(prepare(config)))
            except BaseException as exc:  # reported to the tabs that wait for it
                future.set_exception(exc)

        threading.Thread(target=work, name="initlab-app-pretrain", daemon=True).start()
        return future


def _download_handler(shared: Shared) -> type:
    from tornado.web import HTTPError, RequestHandler

    class DownloadHandler(RequestHandler):
        def get(self, token: str, name: str) -> None:
            data = shared.download(token, name)
            if data is None:
                raise HTTPError(404)
            kind = "application/json" if name.endswith(".json") else "text/html"
            self.set_header("Content-Type", f"{kind}; charset=utf-8")
            self.set_header("Content-Disposition", f'attachment; filename="{name}"')
            self.set_header("X-Content-Type-Options", "nosniff")
            self.write(data)

    return DownloadHandler


class PortInUse(OSError):
    """The port asked for is taken."""


def start_server(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    allow_custom_code: bool = False,
    pretrain: bool = True,
) -> tuple[Any, Shared]:
    """Create (not yet run) the Bokeh server on ``host:port`` (``0``: a free port).

    Raises:
        PortInUse: ``port`` is taken (the message says which, and suggests ``--port 0``).
        OSError: ``host`` cannot be listened on.
    """
    shared = Shared(allow_custom_code=allow_custom_code)
    if pretrain:
        shared.pretrain(AppConfig())
    level = logging.DEBUG if os.environ.get("INITLAB_APP_DEBUG") else logging.ERROR
    for name in ("bokeh", "tornado"):
        logging.getLogger(name).setLevel(level)
    from bokeh.application import Application
    from bokeh.application.handlers.function import FunctionHandler
    from bokeh.server.server import Server

    from initlab.app.page import make_document

    application = Application(FunctionHandler(partial(make_document, shared)))
    for attempt in range(3):
        chosen = port or free_port(host)
        _check_port(host, chosen)
        try:
            return _server(Server, application, shared, host, chosen), shared
        except PortInUse:
            if port or attempt == 2:  # a free port taken between choosing and binding: again
                raise
    raise AssertionError("unreachable")


def _local_resources(tornado: Any) -> None:
    """Serve BokehJS from this server whatever ``BOKEH_RESOURCES`` says (never a CDN), and
    only the bundles the page uses (not the 1.8 MB MathJax and the tables bundles)."""
    from bokeh.resources import Resources
    from bokeh.server.views.static_handler import StaticHandler

    prefix = getattr(tornado, "_prefix", "") or ""

    def resources(absolute_url: Any = None) -> Resources:
        return Resources(
            mode="server", root_url=prefix.rstrip("/") + "/",
            path_versioner=StaticHandler.append_version,
            components=["bokeh", "bokeh-widgets"],
        )  # fmt: skip

    tornado.resources = resources


def _server(Server: Any, application: Any, shared: Shared, host: str, port: int) -> Any:
    try:
        server = Server(
            {"/": application},
            address=host,
            port=port,
            allow_websocket_origin=_origins(host, port),
            extra_patterns=[
                (
                    r"/download/([A-Za-z0-9_\-]+)/(results\.json|report\.html)",
                    _download_handler(shared),
                )
            ],
            websocket_max_message_size=WEBSOCKET_LIMIT,
            check_unused_sessions_milliseconds=5000,
            unused_session_lifetime_milliseconds=15000,
        )
    except OSError as exc:
        if exc.errno in (98, 48, 10048) or "in use" in str(exc).lower():
            raise PortInUse(
                f"port {port} on {host} is in use; choose another with --port, "
                "or --port 0 for a free one"
            ) from None
        raise OSError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    _local_resources(server._tornado)
    return server


def _origins(host: str, port: int) -> list[str]:
    """The page origins whose websockets are accepted: the names of this machine the
    server listens on, or any host when it listens on every interface (the browser then
    names the machine in a way the server cannot know)."""
    if host in ("0.0.0.0", "::", ""):
        return ["*"]
    names = {"localhost", "127.0.0.1"} if is_loopback(host) else set()
    if ":" not in host:
        names.add(host)
    return sorted(f"{name}:{port}" for name in names) or ["*"]


def url_of(server: Any, host: str) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{server.port}/"


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    open_browser: bool = True,
    allow_custom_code: bool = False,
    on_start: Any = None,
) -> None:
    """Run the app until interrupted; ``on_start(url)`` is called once it listens."""
    server, _shared = start_server(host, port, allow_custom_code=allow_custom_code)
    server.start()
    url = url_of(server, host)
    if on_start is not None:
        on_start(url)
    if open_browser and not os.environ.get("INITLAB_NO_BROWSER"):
        import webbrowser

        threading.Thread(target=partial(webbrowser.open, url), daemon=True).start()
    server.io_loop.start()


def _address(host: str) -> tuple[int, Any]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        infos = socket.getaddrinfo(host.strip("[]"), 0, family, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot listen on {host} ({exc.strerror or exc})") from None
    return infos[0][0], infos[0][4]


def _check_port(host: str, port: int) -> None:
    """Raise :class:`PortInUse` if ``port`` cannot be bound on ``host`` (as the server
    binds it: with ``SO_REUSEADDR``)."""
    family, address = _address(host)
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address[0], port, *address[2:]))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                why = "in use" if exc.errno == errno.EADDRINUSE else "not allowed"
                raise PortInUse(
                    f"port {port} on {host} is {why}; choose another with --port, "
                    "or --port 0 for a free one"
                ) from None
            raise OSError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` right now (the system's choice)."""
    family, address = _address(host)
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind(address)
        return int(sock.getsockname()[1])
