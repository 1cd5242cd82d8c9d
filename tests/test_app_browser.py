"""``initlab app`` in headless Chromium: the page a user sees, driven as a user drives it.

Every request the page makes is checked: anything not addressed to the app's own
server is refused and fails the test (the app works offline). Console errors fail it
too. Screenshots are kept as test artifacts (:func:`appserver.artifacts`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from extras import require

require("bokeh", "app")

from appserver import app_server, artifacts  # noqa: E402
from browser import CHROMIUM, CHROMIUM_ARGS, sync_api  # noqa: E402

expect = sync_api.expect

#: generous limits for a busy two-core machine: a failure, never a measurement
LOAD = 60_000
TRAIN = 60_000


@pytest.fixture(scope="module")
def server():
    with app_server() as (url, proc):
        yield url
        assert proc.poll() is None, "the server stopped"


@pytest.fixture(scope="module")
def chromium():
    """Chromium for this module only: Playwright's synchronous API runs one instance at a
    time, and the report tests start their own."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watched:
    """A page whose console errors and off-server requests are recorded."""

    def __init__(self, browser, server: str) -> None:
        self.errors: list[str] = []
        self.external: list[str] = []
        self.page = browser.new_page(
            viewport={"width": 1400, "height": 1000}, accept_downloads=True
        )
        origin = server.rstrip("/")
        ws = origin.replace("http://", "ws://")
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(request_route) -> None:
            url = request_route.request.url
            if url.startswith((origin + "/", ws + "/")) or url == origin:
                request_route.continue_()
            else:
                self.external.append(url)
                request_route.abort()

        self.page.route("**/*", route)

    def check(self) -> None:
        assert self.errors == []
        assert self.external == []

    def rows(self) -> dict[str, tuple[str, str]]:
        """init -> (train accuracy, test accuracy) as the results table shows them."""
        found = {}
        for row in self.page.locator("tr[data-init]").all():
            init = row.get_attribute("data-init")
            found[init] = (
                row.locator("td.train").inner_text(),
                row.locator("td.test").inner_text(),
            )
        return found

    def set_inits(self, text: str) -> None:
        box = self.page.locator("textarea")
        box.fill(text)
        box.press("Tab")  # Bokeh sends the value on change

    def train(self) -> None:
        self.page.locator("button", has_text="Train").click()


@pytest.fixture
def watched(chromium, server):
    page = Watched(chromium, server)
    yield page
    page.page.close()


def _course_rows(course_expected, inits) -> dict[str, tuple[str, str]]:
    runs = course_expected["runs"]
    return {
        init: (f"{runs[init]['train_accuracy']:.4g}", f"{runs[init]['test_accuracy']:.4g}")
        for init in inits
    }


def test_first_page_shows_the_course_trained(watched, server, course_expected) -> None:
    watched.page.goto(server)
    expect(watched.page.locator("tr[data-init='he'] td.test")).to_have_text("0.96", timeout=LOAD)
    assert watched.rows() == _course_rows(course_expected, ("zeros", "random", "he"))
    # every chart drew: the cost chart, 3 boundaries, 3 x 2 histograms
    expect(watched.page.locator(".bk-Canvas, canvas").first).to_be_visible()
    expect(watched.page.locator(".initlab-flags")).to_contain_text("symmetry not broken")
    expect(watched.page.locator(".bk-slider-value")).to_have_text("iteration 15000")  # slider
    watched.page.screenshot(path=artifacts() / "app-first-page.png", full_page=True)
    watched.check()


def test_train_he_and_zeros_gives_the_course_accuracies(
    watched, server, course_expected, tmp_path
) -> None:
    page = watched.page
    page.goto(server)
    expect(page.locator("tr[data-init='random']")).to_have_count(1, timeout=LOAD)
    watched.set_inits("he\nzeros")
    watched.train()
    expect(page.locator("tr[data-init='random']")).to_have_count(0, timeout=TRAIN)
    expect(page.locator("tr[data-init='zeros'] td.train")).to_have_text("0.5", timeout=TRAIN)
    expect(page.locator(".initlab-status")).to_contain_text("done", timeout=TRAIN)
    assert watched.rows() == _course_rows(course_expected, ("he", "zeros"))
    # the address bar now reproduces the configuration
    query = parse_qs(urlsplit(page.url).query)
    assert query["init"] == ["he", "zeros"] and query["iterations"] == ["15000"]
    # results.json downloads with the same numbers
    with page.expect_download() as info:
        page.locator("a", has_text="results.json").click()
    path = tmp_path / "results.json"
    info.value.save_as(path)
    document = json.loads(path.read_text())
    runs = {run["init"]: run for run in document["runs"]}
    for init in ("he", "zeros"):
        for key in ("train_accuracy", "test_accuracy"):
            assert runs[init][key] == course_expected["runs"][init][key]
    # and report.html, a page of its own with the same runs
    with page.expect_download() as info:
        page.locator("a", has_text="report.html").click()
    report = tmp_path / "report.html"
    info.value.save_as(report)
    text = report.read_text()
    assert text.startswith("<!DOCTYPE html") and "initlab report: app" in text
    he = course_expected["runs"]["he"]["train_accuracy"]
    assert f'data-key="train_accuracy" data-value="{he!r}"' in text
    page.screenshot(path=artifacts() / "app-he-zeros.png", full_page=True)
    watched.check()


def test_injected_script_in_a_spec_shows_as_text(watched, server) -> None:
    page = watched.page
    page.goto(server)
    expect(page.locator("tr[data-init='random']")).to_have_count(1, timeout=LOAD)
    attack = "<script>window.__injected = 1</script><img src=x onerror='window.__injected=2'>"
    watched.set_inits(attack)
    watched.train()
    status = page.locator(".initlab-error")
    expect(status).to_contain_text("<script>window.__injected = 1</script>", timeout=LOAD)
    assert page.evaluate("window.__injected") is None
    # the same through the URL
    page.goto(server + "?init=%3Cscript%3Ewindow.__injected%3D3%3C%2Fscript%3E")
    expect(page.locator(".initlab-error")).to_contain_text("<script>", timeout=LOAD)
    assert page.evaluate("window.__injected") is None
    watched.check()


def test_bad_upload_is_explained_and_the_page_goes_on(watched, server, tmp_path) -> None:
    page = watched.page
    page.goto(server)
    expect(page.locator("tr[data-init='random']")).to_have_count(1, timeout=LOAD)
    bad = tmp_path / "points.csv"
    bad.write_text("x,<script>window.__injected=1</script>\n1,2\n3,4\n")
    page.locator("input[type=file]").set_input_files(str(bad))
    message = page.locator(".initlab-error")
    expect(message).to_contain_text("no label column 'label'", timeout=LOAD)
    expect(message).to_contain_text("<script>window.__injected=1</script>")
    assert page.evaluate("window.__injected") is None
    big = tmp_path / "big.csv"
    big.write_text("x,label\n" + "1.000000,0\n" * 110_000)  # 1.1 MB, over the 1 MiB limit
    page.locator("input[type=file]").set_input_files(str(big))
    expect(page.locator(".initlab-error")).to_contain_text("uploads are limited to 1,048,576 bytes")
    good = tmp_path / "good.csv"
    good.write_text("x,y,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    page.locator("input[type=file]").set_input_files(str(good))
    expect(page.get_by_text("good.csv: 40 rows, 2 features, 2 classes")).to_be_visible()
    watched.set_inits("he")
    iterations = page.get_by_label("Iterations")
    iterations.fill("500")
    iterations.press("Tab")
    watched.train()
    expect(page.locator("tr[data-init='random']")).to_have_count(0, timeout=TRAIN)
    expect(page.locator(".initlab-status")).to_contain_text("done", timeout=TRAIN)
    assert list(watched.rows()) == ["he"]
    query = parse_qs(urlsplit(page.url).query)
    assert query["dataset"] == ["csv"] and query["iterations"] == ["500"]
    watched.check()


def test_two_tabs_do_not_interfere(chromium, server, course_expected) -> None:
    slow, fast = Watched(chromium, server), Watched(chromium, server)
    try:
        # minutes of training (64-wide layers, 200000 updates), cut short below
        slow.page.goto(server + "?init=he&iterations=200000&hidden=64,64,64")
        expect(slow.page.locator(".initlab-status")).to_contain_text("training", timeout=LOAD)
        fast.page.goto(server + "?init=he&init=zeros")
        expect(fast.page.locator("tr[data-init='zeros'] td.test")).to_have_text(
            "0.5", timeout=TRAIN
        )
        # the URL reproduced the configuration: the form shows it, the run is the course's
        assert fast.page.locator("textarea").input_value() == "he\nzeros"
        assert fast.rows() == _course_rows(course_expected, ("he", "zeros"))
        assert slow.rows() == {}  # still training its own run
        slow.page.locator("button", has_text="Stop").click()
        expect(slow.page.locator(".initlab-status")).to_contain_text("stopped", timeout=TRAIN)
        slow.check()
        fast.check()
    finally:
        slow.page.close()
        fast.page.close()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def test_the_page_and_its_scripts_come_from_the_server_only(server) -> None:
    url = server
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=30) as response:
        page = response.read().decode()
    links = _Links()
    links.feed(page)
    assert links.urls, page[:500]
    for link in links.urls:
        assert link.startswith("/static/"), link
        with urllib.request.urlopen(url.rstrip("/") + link, timeout=30) as response:
            assert response.status == 200
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url + "download/not-a-token/results.json", timeout=30)
    assert info.value.code == 404
    info.value.close()
