"""The mutation script's safeguards: stale snippets stop it, every mutant is well formed."""

from __future__ import annotations

from pathlib import Path

import pytest

import mutate


def _tree(tmp_path: Path) -> Path:
    src = tmp_path / "initlab"
    src.mkdir()
    (src / "mod.py").write_text("def f(x):\n    return x + 1\n\n\ndef g(x):\n    return x + 1\n")
    return src


def test_a_snippet_not_found_or_found_twice_is_stale(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    fine = mutate.Mutant("m.fine", "mod.py", "def f(x):", "def f(y):", "renamed", ())
    gone = mutate.Mutant("m.gone", "mod.py", "return x - 1", "return x", "gone", ())
    twice = mutate.Mutant("m.twice", "mod.py", "return x + 1", "return x", "ambiguous", ())
    same = mutate.Mutant("m.same", "mod.py", "def g(x):", "def g(x):", "no change", ())
    nofile = mutate.Mutant("m.nofile", "other.py", "x", "y", "no file", ())
    mutate.check_mutants([fine], src)
    with pytest.raises(mutate.StaleMutants) as info:
        mutate.check_mutants([fine, gone, twice, same, nofile], src)
    message = str(info.value)
    for name in ("m.gone", "m.twice", "m.same", "m.nofile"):
        assert name in message
    assert "m.fine" not in message
    assert "not found" in message and "found 2 times" in message


def test_every_mutant_has_a_unique_name_real_change_and_existing_tests() -> None:
    names = [m.name for m in mutate.MUTANTS]
    assert len(names) == len(set(names)) >= 55
    for m in mutate.MUTANTS:
        assert m.original != m.mutated, m.name
        assert m.tests, m.name
        for test in m.tests:
            assert (mutate.ROOT / test).is_file(), (m.name, test)


def test_selection_by_glob_and_unknown_names() -> None:
    chosen = mutate.select(["kernel.*", "network.predict_ge"])
    assert chosen[-1].name == "network.predict_ge"
    assert all(m.name.startswith("kernel.") for m in chosen[:-1]) and len(chosen) > 2
    assert mutate.select(None) == mutate.MUTANTS
    with pytest.raises(SystemExit, match=r"no mutant matches 'nothing\.like\.this'"):
        mutate.select(["nothing.like.this"])


def test_every_mutant_snippet_is_in_the_source_once() -> None:
    """Code moved or rewritten must take its mutants along (or the mutation run stops)."""
    mutate.check_mutants(mutate.MUTANTS, Path(mutate.__file__).parents[1] / "src" / "initlab")
