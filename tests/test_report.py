"""report.html: built from a folder's outputs, self-contained, escaped, and its numbers are
the results file's."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from badinput import assert_one_line_error, files_under, run_cli
from initlab.report import REPORT_FILE, build_report, provenance, write_report
from initlab.report.html import format_value
from initlab.report.svg import Series, line_chart, nice_ticks
from reportpage import EVIL, Page, assert_self_contained


@pytest.fixture(scope="module")
def course_out(tmp_path_factory) -> Path:
    from initlab.cli import main

    out = tmp_path_factory.mktemp("course") / "out"
    argv = ["course", "--iterations", "300", "--print-every", "100", "--engine", "reference"]
    assert main([*argv, "-q", "--out", str(out)]) == 0
    return out


def test_course_report_shows_the_results_numbers(course_out: Path) -> None:
    page = (course_out / REPORT_FILE).read_text()
    document = json.loads((course_out / "results.json").read_text())
    assert_self_contained(page)
    parsed = Page(page)
    rows = parsed.rows("results")
    assert [row["init"][0] for row in rows] == [run["init"] for run in document["runs"]]
    for row, run in zip(rows, document["runs"], strict=True):
        for key in ("train_accuracy", "test_accuracy", "final_cost", "iterations_run"):
            text, exact = row[key]
            assert text == format_value(run[key])
            assert exact is not None and float(exact) == run[key]  # every digit kept
        assert row["status"][0] == run["status"]
    # the configuration, every figure, the flags and the per-layer statistics
    config = {key: value for row in parsed.rows("config") for key, value in row.items()}
    assert config["network.layer_sizes"] == ("2, 10, 5, 1", None)
    assert config["learning_rate"] == ("0.01", "0.01")
    text = " ".join(parsed.text)
    images = [a for t, a in parsed.tags if t == "img"]
    assert sorted(a["alt"] for a in images) == ["costs.png", "decision_boundaries.png"]
    for flag in document["runs"][0]["flags"]:
        assert flag["message"] in text
    he = document["runs"][2]
    layers = parsed.rows("layers")
    assert [row["z_std"][1] for row in layers[-3:]] == [repr(x["z_std"]) for x in he["layers"]]
    # how to run it again
    assert document["provenance"]["command"] in text
    assert "package numpy" in text
    # one chart of the cost curves, one point per printed cost (with its value on hover)
    costs = [c for t, a in parsed.tags if t == "circle" for c in [a]]
    assert len(costs) >= sum(len(run["costs"]) for run in document["runs"])


def test_report_is_rebuilt_byte_for_byte_from_the_folder(course_out: Path, capsys) -> None:
    written = (course_out / REPORT_FILE).read_bytes()
    (course_out / REPORT_FILE).unlink()
    code, stdout, stderr = run_cli(capsys, "report", str(course_out))
    assert code == 0 and stderr == "" and stdout.startswith("wrote report: ")
    assert (course_out / REPORT_FILE).read_bytes() == written
    assert write_report(course_out) == course_out.resolve() / REPORT_FILE


def test_report_of_a_folder_without_results_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    for folder in (tmp_path, tmp_path / "missing"):
        code, stdout, stderr = run_cli(capsys, "report", str(folder))
        assert_one_line_error(code, stderr, str(folder))
        assert stdout == ""
    assert files_under(tmp_path) == []
    with pytest.raises(ValueError, match="no results"):
        build_report(tmp_path)


@pytest.mark.parametrize("nesting", ["array", "object"])
def test_a_results_file_nested_too_deeply_is_one_line_exit_2(
    tmp_path: Path, capsys, nesting: str
) -> None:
    # JSON's decoder recurses once per level: 100000 levels exceed any recursion limit
    depth = 100_000
    text = "[" * depth + "]" * depth if nesting == "array" else '{"a":' * depth + "1" + "}" * depth
    (tmp_path / "results.json").write_text(text)
    code, stdout, stderr = run_cli(capsys, "report", str(tmp_path))
    assert_one_line_error(code, stderr, str(tmp_path), "results.json", "nested too deeply")
    assert stdout == ""
    assert [p.name for p in files_under(tmp_path)] == ["results.json"]


def test_report_checks_where_it_writes_as_every_command_checks_its_out(
    course_out: Path, tmp_path: Path, capsys
) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "results.json").write_bytes((course_out / "results.json").read_bytes())
    (folder / REPORT_FILE).mkdir()  # report.html cannot be written: a folder is there
    code, stdout, stderr = run_cli(capsys, "report", str(folder))
    assert_one_line_error(code, stderr, "FOLDER", REPORT_FILE, "not a regular file")
    assert stdout == "" and [p.name for p in files_under(folder)] == ["results.json"]
    code, stdout, stderr = run_cli(capsys, "report", "")
    assert_one_line_error(code, stderr, "FOLDER", "empty path")
    assert stdout == ""


def test_an_unreadable_store_is_named_and_not_called_missing(tmp_path: Path, capsys) -> None:
    (tmp_path / "runs.sqlite").write_text("not a database")
    code, stdout, stderr = run_cli(capsys, "report", str(tmp_path))
    assert_one_line_error(code, stderr, "runs.sqlite", "not an initlab result store")
    assert "no runs.sqlite" not in stderr
    assert stdout == "" and [p.name for p in files_under(tmp_path)] == ["runs.sqlite"]


def test_json_copy_cannot_be_the_report(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code, _, stderr = run_cli(
        capsys, "course", "--iterations", "2", "--out", str(out), "--json", str(out / REPORT_FILE)
    )
    assert_one_line_error(code, stderr, "--json", REPORT_FILE)
    assert files_under(tmp_path) == []


def test_user_text_is_escaped_everywhere(tmp_path: Path) -> None:
    """An initializer spec, a configuration key and value, a flag and a figure name holding
    markup show as text: the page has no tag but its own."""
    document = {
        "experiment": EVIL,
        "config": {EVIL: EVIL, "dataset": {"path": EVIL}},
        "runs": [
            {
                "init": EVIL,
                "costs": [{"iteration": 0, "cost": 1.0}, {"iteration": 1, "cost": 0.5}],
                "test_accuracy": 0.5,
                "status": EVIL,
                "flags": [{"message": EVIL}],
                "layers": [{"layer": 1, EVIL: 1.0, "z_std": 2.0}, {"layer": 2, "z_std": 1.0}],
            }
        ],
        EVIL: [{"init": EVIL, EVIL: EVIL}],
        "provenance": {"command": f"initlab train --init '{EVIL}'", "packages": {EVIL: EVIL}},
    }
    files = {
        "results.json": json.dumps(document).encode(),
        f"{EVIL}.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 16,
    }
    page = build_report(tmp_path, files).decode()
    assert_self_contained(page)
    parsed = Page(page)
    assert {t for t, _ in parsed.tags} <= {
        "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "small",
        "p", "nav", "a", "div", "strong", "label", "input", "span", "section", "table",
        "thead", "tbody", "tr", "th", "td", "ul", "li", "svg", "rect", "line", "text", "g",
        "polyline", "circle", "figure", "img", "figcaption", "pre", "code", "script",
    }  # fmt: skip
    text = "".join(parsed.text)
    assert text.count(EVIL) >= 10  # shown as text: title, config, run, flag, table, figure...
    assert parsed.rows("results")[0]["init"][0] == EVIL


def test_a_csv_column_and_a_data_path_with_markup_show_as_text(tmp_path: Path, capsys) -> None:
    folder = tmp_path / '<script>alert("path")<'
    folder.mkdir()
    data = folder / "script>.csv"  # the path reads <script>alert("path")</script>.csv
    label = '<img src=x onerror="alert(1)">'
    rows = [f"{x},{y},{int(x * y > 0)}" for x, y in ((1, 2), (-1, 2), (2, -1), (-2, -2)) * 6]
    data.write_text(f"a,{EVIL},{label}\n" + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    code, _, stderr = run_cli(
        capsys, "train", "--dataset", "csv", "--data-path", str(data), "--label-column", label,
        "--iterations", "5", "--print-every", "5", "-q", "--out", str(out),
    )  # fmt: skip
    assert code == 0, stderr
    page = (out / REPORT_FILE).read_text()
    assert_self_contained(page)
    text = "".join(Page(page).text)
    assert label in text and f"{folder}/script>.csv" in text


def test_diagnose_reports_every_snapshot_of_training(tmp_path: Path, capsys) -> None:
    """(The reports of experiment and compare are tested with those commands.)"""
    out = tmp_path / "diagnose"
    argv = ["diagnose", "--init", "he", "--iterations", "20", "--snapshots", "3"]
    code, _, stderr = run_cli(capsys, *argv, "-q", "--out", str(out))
    assert code == 0, stderr
    page = (out / REPORT_FILE).read_text()
    assert_self_contained(page)
    parsed = Page(page)
    figures = ["activation_std.png", "gradient_norms.png", "histograms.png", "layer_std.png"]
    assert sorted(a["alt"] for t, a in parsed.tags if t == "img") == figures  # with training
    document = json.loads((out / "diagnostics.json").read_text())
    assert document["provenance"]["argv"] == [*argv, "-q", "--out", str(out)]
    snapshots = document["inits"][0]["snapshots"]
    rows = parsed.rows("snapshots")
    assert [float(r["loss"][1]) for r in rows] == [s["loss"] for s in snapshots]
    assert [float(r["z_std layer 2"][1]) for r in rows] == [
        s["layers"][1]["z_std"] for s in snapshots
    ]


def test_provenance_names_the_command_and_the_versions() -> None:
    import numpy

    record = provenance(["train", "--init", "normal(std=0.01)", "--out", "a b"])
    assert record["command"] == "initlab train --init 'normal(std=0.01)' --out 'a b'"
    assert record["packages"]["numpy"] == numpy.__version__
    assert json.loads(json.dumps(record)) == record


@pytest.mark.parametrize(
    ("low", "high"), [(0.0, 1.0), (-3.2, 17.9), (1e-7, 3e-7), (0.0, 15000.0), (5.0, 5.5)]
)
def test_nice_ticks_are_round_and_cover_the_range(low: float, high: float) -> None:
    ticks = nice_ticks(low, high)
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 5, 10))
    assert low <= ticks[0] < low + step and high - step < ticks[-1] <= high
    assert 3 <= len(ticks) <= 11


def test_chart_scale_and_hover_titles() -> None:
    wide = Series(EVIL, [0, 1000, 2000], [1773.6, 0.5, None], run=0)
    svg = line_chart([wide], title="t", x_label="iteration", y_label="cost")
    assert "(log scale)" in svg  # positive values over more than two decades
    assert (
        "<title>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;, iteration 1000: 0.5</title>"
        in svg
    )
    assert svg.count("<circle") == 2  # no point for the missing value
    narrow = line_chart(
        [Series("a", [0, 1], [0.0, 1.0], run=0)], title="t", x_label="x", y_label="y"
    )
    assert "(log scale)" not in narrow


@pytest.mark.parametrize("top", [1e3, 1e40, 1.39e298, 1.7e308])
def test_a_log_axis_over_any_range_has_a_few_decade_ticks(top: float) -> None:
    """Costs from 1e-3 up to an exploded run's (past 1e300: the axis's padding then reaches
    beyond float64's range): at most about eight labelled decades, every one finite."""
    svg = line_chart([Series("a", [0, 1, 2], [1e-3, 0.5, top], run=0)], title="t",
                     x_label="iteration", y_label="cost")  # fmt: skip
    labels = re.findall(r'text-anchor="end">([^<]+)</text>', svg)
    assert 2 <= len(labels) <= 9
    assert "inf" not in svg


def test_stored_runs_alone_are_reported_with_their_statistics(tmp_path: Path, capsys) -> None:
    """A store without its summary (a sweep stopped early): per initialization the number of
    runs and the mean, median, min and max of each metric, as pandas computes them."""
    from initlab.results import load

    out = tmp_path / "cmp"
    argv = ["compare", "--seeds", "3", "--iterations", "30", "--init", "zeros", "--init", "he"]
    assert run_cli(capsys, *argv, "-q", "--out", str(out))[0] == 0
    assert 'id="stored-runs"' in (out / REPORT_FILE).read_text()
    # another command's report in that folder is its run's alone
    assert run_cli(capsys, "course", "--iterations", "5", "-q", "--out", str(out))[0] == 0
    assert 'id="stored-runs"' not in (out / REPORT_FILE).read_text()
    for name in ("summary.json", "comparison.png", REPORT_FILE):
        (out / name).unlink()
    code, _, stderr = run_cli(capsys, "report", str(out))
    assert code == 0, stderr
    rows = Page((out / REPORT_FILE).read_text()).rows("store-stats")
    frame = load(out)
    assert [r["init"][0] for r in rows] == ["zeros", "he"]
    for row in rows:
        runs = frame[frame["init"] == row["init"][0]]
        assert row["runs"][0] == "3"
        for metric in ("final_cost", "test_accuracy"):
            assert float(row[f"{metric} mean"][1]) == runs[metric].mean()
            assert float(row[f"{metric} median"][1]) == runs[metric].median()
            assert float(row[f"{metric} max"][1]) == runs[metric].max()


def test_a_figure_older_than_the_results_is_marked(tmp_path: Path) -> None:
    """Rebuilt from a folder, a figure written before the results file (a 2-D run's
    decision boundaries left beside a later run's results) says so."""
    import os

    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
    (tmp_path / "old.png").write_bytes(png)
    (tmp_path / "results.json").write_text(json.dumps({"experiment": "train", "runs": []}))
    (tmp_path / "new.png").write_bytes(png)
    stamp = (tmp_path / "results.json").stat().st_mtime_ns
    os.utime(tmp_path / "old.png", ns=(stamp - 10**9, stamp - 10**9))
    os.utime(tmp_path / "new.png", ns=(stamp, stamp))
    page = build_report(tmp_path).decode()
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page)
    assert captions[0] == "new.png"
    assert captions[1].startswith("old.png <span") and "earlier run" in captions[1]
