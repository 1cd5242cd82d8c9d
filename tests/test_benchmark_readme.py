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


def test_the_jax_peers_and_the_memory_get_rows_when_measured() -> None:
    module = _module()
    bench = json.loads(BENCH.read_text())
    # a run without jax and without the memory entry: no row for either
    bench["general"].pop("digits_memory", None)
    bench["general"]["digits_population"].update(jax_s_per_model=None, ratio_jax=None)
    for row in bench["population"]:
        row.update(jax_us_per_model_iter=None, ratio_jax=None)
    without = dict(module.rows(bench))
    assert not any("JAX" in what or "memory, digits" in what for what in without)
    general = bench["general"]
    general["digits_population"].update(
        jax_s_per_model=0.0171, ratio_jax=1.34, jax_max_rel_cost_diff_population=1.6e-14
    )
    general["digits_memory"] = {"models": 1000, "epochs": 20, "peak_rss_mb": 378.7,
                                "baseline_rss_mb": 260.6, "increment_mb": 118.1}  # fmt: skip
    for row, us in zip(bench["population"], (12.2, 12.9, 14.4, 35.7), strict=True):
        row.update(jax_us_per_model_iter=us, ratio_jax=us / row["us_per_model_iter"])
    got = dict(module.rows(bench))
    digits = next(v for k, v in got.items() if k.startswith("digits, 100 models in JAX"))
    assert "0.0171 s per model" in digits and "initlab 1.3x faster" in digits
    assert "2e-14" in digits
    memory = got["peak memory, digits, 1000 models, 20 epochs"]
    assert memory.startswith("118 MB above the 261 MB") and "peak 379 MB" in memory
    course = got["the same populations in JAX (`jit(vmap(scan))`, compilation apart)"]
    assert "M = 1: 12.20 us" in course and "M = 1000: 35.70 us" in course
    assert f"({12.2 / bench['population'][0]['us_per_model_iter']:.1f}x initlab's time)" in course
