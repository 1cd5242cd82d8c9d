"""How fast ``initlab app`` answers: start to first page, and a course training streamed.

    python benchmarks/app.py [--repeat 3]

Measures, in headless Chromium (the system's ``/usr/bin/chromium``, as the tests):

* ``first_page_s``: from starting ``initlab app --no-browser`` to the page showing the
  course's three runs trained (the results table filled);
* ``train_done_s``: from pressing Train with ``he`` and ``zeros`` (15000 iterations) to
  the page saying ``done``;

and in this process, on a warm engine, for the same training: ``first_update_s`` (the
first progress report after an update) and ``train_s`` (all 15000 iterations, with the
snapshots the page draws from).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from appserver import app_server
from browser import CHROMIUM, CHROMIUM_ARGS


def in_process() -> dict[str, float]:
    from initlab.app.config import AppConfig
    from initlab.app.training import prepare, train

    config = AppConfig(inits=("he", "zeros"))
    train(prepare(AppConfig(inits=("he", "zeros"), iterations=10)))  # load the engine
    start = time.perf_counter()
    first: list[float] = []

    def progress(p) -> None:  # type: ignore[no-untyped-def]
        if p.done > 0 and not first:
            first.append(time.perf_counter() - start)

    train(prepare(config), on_progress=progress)
    return {"first_update_s": first[0], "train_s": time.perf_counter() - start}


def in_browser() -> dict[str, float]:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        start = time.perf_counter()
        with app_server() as (url, _proc):
            return _first_page_and_train(page, url, start, browser, expect)


def _first_page_and_train(page, url, start, browser, expect) -> dict[str, float]:  # type: ignore[no-untyped-def]
    served = time.perf_counter() - start
    page.goto(url)
    expect(page.locator("tr[data-init='random']")).to_have_count(1, timeout=60_000)
    first_page = time.perf_counter() - start
    box = page.locator("textarea")
    box.fill("he\nzeros")
    box.press("Tab")
    clicked = time.perf_counter()
    page.locator("button", has_text="Train").click()
    expect(page.locator("tr[data-init='random']")).to_have_count(0, timeout=60_000)
    expect(page.locator(".initlab-status")).to_contain_text("done", timeout=60_000)
    done = time.perf_counter() - clicked
    browser.close()
    return {"served_s": served, "first_page_s": first_page, "train_done_s": done}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    rows = [{**in_process(), **in_browser()} for _ in range(repeat)]
    best = {key: round(min(row[key] for row in rows), 3) for key in rows[0]}
    print(json.dumps({"best": best, "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
