"""The README's speed table is the benchmark JSON's, generated, never typed by hand."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).parents[1]
BENCH = ROOT / "docs" / "engine-benchmark.json"


def _module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "readme_table", ROOT / "benchmarks" / "readme_table.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_the_readme_table_is_the_one_the_json_gives() -> None:
    assert _module().main([str(BENCH), "--check", str(ROOT / "README.md")]) == 0


def test_a_number_typed_by_hand_fails_the_check(tmp_path: Path) -> None:
    module = _module()
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text())
    bench = json.loads(BENCH.read_text())
    bench["single"]["engine_s"] *= 2  # the JSON says otherwise than the README now
    changed = tmp_path / "bench.json"
    changed.write_text(json.dumps(bench))
    assert module.main([str(changed), "--check", str(readme)]) == 1
    assert module.main([str(changed), "--write", str(readme)]) == 0
    assert module.main([str(changed), "--check", str(readme)]) == 0
