"""The reports of course, train and compare, opened in a real browser (offline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from browser import artifacts, browser, visit  # noqa: F401
from initlab.cli import main
from initlab.report import REPORT_FILE
from initlab.report.html import format_value
from initlab.results import load

MAX_COURSE_REPORT = 2 * 2**20
VALUES = "cells => cells.map(cell => cell.getAttribute('data-value'))"
EVIL_COLUMN = "<script>window.injected = 1</script>"
EVIL_LABEL = '<img src=x onerror="window.injected = 2">'


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """The output folders of the course (as `initlab` runs it), a train run, a comparison
    and a train run on a CSV file whose column names are markup."""
    root = tmp_path_factory.mktemp("reports")
    data = root / "evil.csv"
    rows = [f"{x},{y},{int(x * y > 0)}" for x, y in ((1, 2), (-1, 2), (2, -1), (-2, -2)) * 6]
    data.write_text(f"a,{EVIL_COLUMN},{EVIL_LABEL}\n" + "\n".join(rows) + "\n")
    commands = {
        "course": ["course"],
        "train": ["train", "--dataset", "moons(noise=0.2)", "--iterations", "200"],
        "compare": ["compare", "--seeds", "3", "--iterations", "100"],
        "evil": ["train", "--dataset", "csv", "--data-path", str(data),
                 "--label-column", EVIL_LABEL, "--iterations", "5"],
    }  # fmt: skip
    folders = {}
    for name, argv in commands.items():
        folders[name] = root / name
        assert main([*argv, "-q", "--out", str(folders[name])]) == 0, name
    return folders


def _document(folder: Path) -> dict:
    name = "summary.json" if (folder / "summary.json").exists() else "results.json"
    return json.loads((folder / name).read_text())


def _assert_rendered(page) -> None:  # type: ignore[no-untyped-def]
    """Every image decoded and drawn, every chart drawn with its lines and points."""
    images = page.locator("img")
    assert images.count() > 0
    for i in range(images.count()):
        image = images.nth(i)
        image.scroll_into_view_if_needed()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), i
        box = image.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
    charts = page.locator("svg.chart")
    assert charts.count() > 0
    for i in range(charts.count()):
        chart = charts.nth(i)
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
        assert chart.locator("polyline").count() > 0 and chart.locator("circle").count() > 0


def _assert_numbers(page, rows: list[dict], table: str, keys: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    """The rows of ``table`` show, visibly, each of ``keys`` of ``rows`` as results.json has
    it (to 6 digits, every digit in its data-value)."""
    shown = page.locator(f"table.{table} tbody tr")
    assert shown.count() == len(rows)
    for i, row in enumerate(rows):
        for key in keys:
            cell = shown.nth(i).locator(f'td[data-key="{key}"]')
            assert cell.is_visible()
            assert cell.inner_text() == format_value(row[key]), (key, row)
            assert float(cell.get_attribute("data-value")) == row[key]


def test_course_report(folders, visit) -> None:  # noqa: F811
    folder = folders["course"]
    assert (folder / REPORT_FILE).stat().st_size < MAX_COURSE_REPORT
    document = _document(folder)
    seen = visit((folder / REPORT_FILE).as_uri(), "report-course")
    page = seen.page
    _assert_rendered(page)
    _assert_numbers(
        page, document["runs"], "results", ("train_accuracy", "test_accuracy", "final_cost")
    )
    he = page.locator("table.results tbody tr").nth(2)
    assert he.locator('td[data-key="test_accuracy"]').inner_text() == "0.96"
    assert he.locator('td[data-key="train_accuracy"]').inner_text() == "0.993333"
    # hover: each point of the cost chart names its run, iteration and cost
    first = page.locator("svg.chart").first.locator('g[data-run="2"] circle').first
    first.hover()
    cost = document["runs"][2]["costs"][0]["cost"]
    assert first.locator("title").text_content() == f"he, iteration 0: {cost:.6g}"
    # untick a run: its lines go, its rows fade; tick it again: they are back
    series = page.locator('svg.chart g[data-run="1"]')
    toggle = page.locator('#toggles input[data-toggle="1"]')
    assert series.first.is_visible()
    toggle.uncheck()
    assert all(not series.nth(i).is_visible() for i in range(series.count()))
    row = page.locator('table.results tr[data-run="1"]')
    assert "off" in (row.get_attribute("class") or "")
    toggle.check()
    assert series.first.is_visible() and "off" not in (row.get_attribute("class") or "")
    # printed: the check boxes go, the charts and figures stay
    page.emulate_media(media="print")
    assert not toggle.is_visible() and page.locator("svg.chart").first.is_visible()
    page.screenshot(path=str(seen.screenshot.with_name("report-course-print.png")), full_page=True)
    assert page.get_by_text(document["provenance"]["command"], exact=True).is_visible()
    seen.assert_clean()


def test_train_report(folders, visit) -> None:  # noqa: F811
    document = _document(folders["train"])
    seen = visit((folders["train"] / REPORT_FILE).as_uri(), "report-train")
    _assert_rendered(seen.page)
    _assert_numbers(
        seen.page, document["runs"], "results", ("train_accuracy", "test_accuracy", "final_cost")
    )
    seen.assert_clean()


def test_compare_report(folders, visit) -> None:  # noqa: F811
    document = _document(folders["compare"])
    seen = visit((folders["compare"] / REPORT_FILE).as_uri(), "report-compare")
    page = seen.page
    _assert_rendered(page)
    groups = page.locator("table.groups tbody tr")
    assert groups.count() == len(document["groups"])
    for i, group in enumerate(document["groups"]):
        for metric in ("final_cost", "test_accuracy"):
            for stat in ("mean", "ci_low", "ci_high"):
                cell = groups.nth(i).locator(f'td[data-key="{metric}.{stat}"]')
                assert cell.is_visible()
                assert float(cell.get_attribute("data-value")) == group[metric][stat]
                assert cell.inner_text() == format_value(group[metric][stat])
    stored = page.locator("table.stored")
    assert stored.locator("tbody tr").count() == 9  # 3 inits x 3 seeds
    # a click on a column's name sorts the table by it, a second click the other way
    costs = sorted(r["final_cost"] for r in load(folders["compare"]).to_dict("records"))
    header = stored.locator("thead th", has_text="final_cost")
    cells = stored.locator('tbody td[data-key="final_cost"]')
    header.click()
    assert [float(v) for v in cells.evaluate_all(VALUES)] == costs
    header.click()
    assert [float(v) for v in cells.evaluate_all(VALUES)] == costs[::-1]
    seen.assert_clean()


def test_markup_in_a_csv_column_shows_as_text(folders, visit) -> None:  # noqa: F811
    seen = visit((folders["evil"] / REPORT_FILE).as_uri(), "report-markup")
    page = seen.page
    assert page.evaluate("window.injected") is None  # no injected script or handler ran
    assert page.get_by_text(EVIL_LABEL, exact=True).first.is_visible()
    assert page.locator("img").count() == len(list(folders["evil"].glob("*.png")))
    seen.assert_clean()
