"""The one registry type behind the activations, optimizers and datasets."""

from __future__ import annotations

import pytest

from initlab.activations import ACTIVATION_FACTORIES
from initlab.datasets import DATASETS
from initlab.optimizers import OPTIMIZERS
from initlab.spec import Registry

ENTRIES = {"alpha": {"scale": 1}, "beta_two": {"Width": 2}}
REGISTRY = Registry("widget", ENTRIES, {"a": "alpha", "ZerO": "beta_two"})


def test_it_is_a_read_only_mapping_of_canonical_names() -> None:
    assert list(REGISTRY) == ["alpha", "beta_two"] and len(REGISTRY) == 2
    assert REGISTRY["alpha"] == {"scale": 1} and "a" not in REGISTRY
    assert REGISTRY.names() == ["alpha", "beta_two"]
    assert REGISTRY.names(aliases=True) == ["ZerO", "a", "alpha", "beta_two"]
    with pytest.raises(TypeError):
        REGISTRY["gamma"] = {}  # type: ignore[index]


@pytest.mark.parametrize(
    ("name", "registered", "canonical"),
    [("alpha", "alpha", "alpha"), ("ALPHA", "alpha", "alpha"), ("A", "a", "alpha"),
     ("Beta_Two", "beta_two", "beta_two"), ("ZerO", "ZerO", "beta_two")],
)  # fmt: skip
def test_names_match_case_insensitively_and_aliases_resolve(name, registered, canonical) -> None:
    assert REGISTRY.match(name) == registered
    assert REGISTRY.canonical(name) == canonical
    assert REGISTRY.lookup(name) is ENTRIES[canonical]


def test_an_unknown_name_suggests_the_closest_and_lists_the_choices() -> None:
    with pytest.raises(ValueError, match=r"^unknown widget 'alpah'; did you mean 'alpha'\? "
                       r"choose one of: alpha, beta_two$"):  # fmt: skip
        REGISTRY.lookup("alpah")
    with pytest.raises(ValueError, match="unknown widget 'zero'"):  # a mixed-case alias: exact
        REGISTRY.lookup("zero")


def test_parse_reads_the_spec_and_spells_keys_as_the_entry_declares() -> None:
    registered, entry, args, params = REGISTRY.parse("A(3, SCALE=2, other=1)", lambda e: e)
    assert (registered, entry, args, params) == (
        "a",
        ENTRIES["alpha"],
        (3,),
        {"scale": 2, "other": 1},
    )
    with pytest.raises(ValueError, match="bad widget 'alpha\\(3\\)'"):
        REGISTRY.parse("alpha(3)", lambda e: e, keywords_only=True)
    with pytest.raises(ValueError, match="parameter 'scale' given twice"):
        REGISTRY.parse("alpha(scale=1, Scale=2)", lambda e: e)


def test_aliases_must_name_registered_entries() -> None:
    with pytest.raises(ValueError, match=r"aliases refer to unregistered names: \['gamma'\]"):
        Registry("widget", ENTRIES, {"g": "gamma"})


def test_the_catalogues_share_it() -> None:
    for registry, what in ((ACTIVATION_FACTORIES, "activation"), (OPTIMIZERS, "optimizer"),
                           (DATASETS, "dataset")):  # fmt: skip
        assert isinstance(registry, Registry) and registry.what == what
        with pytest.raises(ValueError, match=rf"^unknown {what} 'nope'"):
            registry.lookup("nope")
    assert ACTIVATION_FACTORIES.canonical("Swish") == "silu"
    assert OPTIMIZERS.lookup("ADAM").name == "adam"
