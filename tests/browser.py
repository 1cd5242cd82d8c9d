"""A real browser for the tests that open pages: headless Chromium, driven by Playwright.

The browser is the system's (Debian's ``chromium`` package, ``/usr/bin/chromium``);
Playwright never downloads one. A test module that imports this one is skipped when
either is missing (failed when ``INITLAB_REQUIRE_EXTRAS`` is set, as in CI).

Use the fixtures by importing them into the test module::

    from browser import browser, visit  # noqa: F401

``visit(url, name)`` opens ``url`` in a fresh context in which every request but
``file:`` and ``data:`` ones is refused (and recorded), records the console's errors and
the page's uncaught exceptions, and saves a full-page screenshot as ``name.png`` under
``$INITLAB_ARTIFACTS`` (a temporary folder when it is not set).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from extras import require, require_program

sync_api = require("playwright.sync_api", "test")
CHROMIUM = require_program("chromium", "chromium")

#: no sandbox (CI runs as root), no GPU, and nothing the browser would fetch by itself
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
LOCAL_SCHEMES = ("file:", "data:", "about:")


@dataclass
class Visit:
    """An open page and what happened while it loaded and since."""

    page: Any
    screenshot: Path
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        """No console error, no uncaught exception, no request outside the machine."""
        assert self.console_errors == [], self.console_errors
        assert self.page_errors == [], self.page_errors
        assert self.refused == [], self.refused
        assert all(url.startswith(LOCAL_SCHEMES) for url in self.requests), self.requests


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """Where the screenshots go: ``$INITLAB_ARTIFACTS``, or a temporary folder."""
    folder = os.environ.get("INITLAB_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def visit(browser, artifacts) -> Iterator[Callable[..., Visit]]:
    """``visit(url, name, width=1100, height=900)``: the page loaded, checked by the caller
    with :meth:`Visit.assert_clean`, its screenshot saved (see the module)."""
    contexts = []

    def open_page(url: str, name: str, width: int = 1100, height: int = 900) -> Visit:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        seen = Visit(page, artifacts / f"{name}.png")

        def route(route: Any) -> None:
            if route.request.url.startswith(LOCAL_SCHEMES):
                route.continue_()
            else:
                seen.refused.append(route.request.url)
                route.abort()

        context.route("**/*", route)
        page.on("request", lambda request: seen.requests.append(request.url))
        page.on(
            "console",
            lambda message: (
                seen.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
        page.goto(url, wait_until="load")
        page.screenshot(path=str(seen.screenshot), full_page=True)
        return seen

    yield open_page
    for context in contexts:
        context.close()
