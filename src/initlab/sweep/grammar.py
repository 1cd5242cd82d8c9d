"""The sweep file: a TOML grammar for grids of trainings, and the runs it expands to.

A sweep file has four parts (all optional; see ``docs/sweep.md``)::

    seeds = 100                 # seed indices 0..99, or a list: seeds = [0, 7, 42]

    [train]                     # one value per setting: any option of `initlab train`
    dataset = "course_circles"
    optimizer = "gd"
    learning-rate = 0.01
    iterations = 15000

    [grid]                      # a non-empty list of values per setting: every combination
    init = ["zeros", "he", "normal(std={0.01, 0.1, 1})"]
    depth = [1, 2, 4]

    [[zip]]                     # lists of one length that vary together (crossed with the grid)
    width = [8, 16, 32]
    learning-rate = [0.04, 0.02, 0.01]

The settings are the options of ``initlab train`` (:data:`FIELDS`, written with ``-`` or
``_``) plus ``depth`` and ``width`` (``depth`` hidden layers of ``width`` units, given
together, instead of ``hidden`` or ``layers``). A string value of ``[grid]`` or ``[zip]``
expands its ``{a, b, c}`` groups: ``"normal(std={0.01, 0.1})"`` is the two values
``"normal(std=0.01)"`` and ``"normal(std=0.1)"`` (several groups expand to every
combination).

The runs are the product of the grid's lists, the zipped groups and the seeds. Run seed
``s`` draws its weights from ``SeedSequence(seed, spawn_key=(1, s))`` (``seed``: the
``[train]`` or swept data seed, default 0), the same for every configuration, so any two
configurations compare on shared seeds, paired. Runs that share everything but their
initializer, bias initializer and seed train together as one population
(:class:`~initlab.sweep.plan.Batch`, at most :data:`~initlab.sweep.plan.BATCH_RUNS` each).
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from initlab.activations import canonical_activation
from initlab.datasets import resolve_spec
from initlab.experiments.train import TrainConfig
from initlab.initializers import get_initializer
from initlab.optimizers import get_optimizer
from initlab.sweep.plan import BATCH_RUNS, Batch, PlannedRun
from initlab.sweep.store import run_hash

__all__ = [
    "FIELDS",
    "MAX_RUNS",
    "SECTIONS",
    "SweepSpec",
    "expand_braces",
    "load_spec",
    "parse_spec",
]

#: a sweep of more runs than this is refused unless allowed (``initlab sweep --yes``)
MAX_RUNS = 100_000
#: the top-level keys of a sweep file
SECTIONS = ("seeds", "description", "train", "grid", "zip")


# --------------------------------------------------------------------------- values


def _type_error(where: str, value: Any, wanted: str) -> TypeError:
    return TypeError(f"{where} must be {wanted}, got {value!r} ({type(value).__name__})")


def _string(where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _type_error(where, value, "a string")
    return value


def _checked_string(check: Callable[[str], Any]) -> Callable[[str, Any], str]:
    def convert(where: str, value: Any) -> str:
        text = _string(where, value)
        try:
            check(text)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        return text

    return convert


def _int(where: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(where, value, f"an integer >= {low}")
    if value < low:
        raise ValueError(f"{where} must be an integer >= {low}, got {value}")
    return value


def _positive_int(where: str, value: Any) -> int:
    return _int(where, value, 1)


def _real(where: str, value: Any, low: float, low_open: bool, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _type_error(where, value, "a number")
    number = float(value)
    bad = not math.isfinite(number) or number < low or (low_open and number == low)
    if high is not None:
        bad = bad or number >= high
    if bad:
        allowed = f"{'>' if low_open else '>='} {low:g}" + (
            f" and < {high:g}" if high is not None else ""
        )
        raise ValueError(f"{where} must be a finite number {allowed}, got {value!r}")
    return number


def _sizes(where: str, value: Any, allow_empty: bool) -> list[int]:
    if isinstance(value, str):
        text = value.strip()
        if allow_empty and text.lower() in ("", "none"):
            return []
        try:
            items: list[Any] = [int(item) for item in text.split(",")]
        except ValueError:
            raise ValueError(
                f"{where} must be comma-separated positive integers, got {value!r}"
            ) from None
    elif isinstance(value, list):
        items = value
    else:
        raise _type_error(where, value, 'a list of sizes ([10, 5]) or a string ("10,5")')
    if not items and not allow_empty:
        raise ValueError(f"{where} must name at least one size")
    return [_positive_int(f"{where}[{i}]", item) for i, item in enumerate(items)]


def _activations(where: str, value: Any) -> list[str]:
    if isinstance(value, str):
        names: list[Any] = [name.strip() for name in value.split(",")]
    elif isinstance(value, list) and value:
        names = value
    else:
        raise _type_error(where, value, 'a name ("relu"), names ("relu,tanh") or a list of names')
    out = []
    for i, name in enumerate(names):
        try:
            out.append(canonical_activation(_string(f"{where}[{i}]", name)))
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
    return out


def _output(where: str, value: Any) -> str:
    text = _string(where, value)
    if text not in ("auto", "sigmoid", "softmax"):
        raise ValueError(f"{where} must be one of auto, sigmoid, softmax, got {text!r}")
    return text


def _bool(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _type_error(where, value, "true or false")
    return value


@dataclass(frozen=True)
class Field:
    """One setting of a sweep file: how its values are checked and normalized."""

    name: str
    convert: Callable[[str, Any], Any]
    help: str


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("dataset", _checked_string(resolve_spec), 'a dataset spec, "moons(noise=0.2)"'),
        Field("data_path", _string, "the file of dataset csv or npz"),
        Field("label_column", _string, "the label column of dataset csv"),
        Field("hidden", lambda w, v: _sizes(w, v, True), "hidden widths, [10, 5] or none"),
        Field("layers", lambda w, v: _sizes(w, v, False), "every layer size, [2, 10, 5, 1]"),
        Field("depth", lambda w, v: _int(w, v, 0), "the number of hidden layers (with width)"),
        Field("width", _positive_int, "the units of every hidden layer (with depth)"),
        Field("activation", _activations, "one name for all hidden layers, or one per layer"),
        Field("output", _output, "auto, sigmoid or softmax"),
        Field("init", _checked_string(get_initializer), 'an initializer, "normal(std=0.1)"'),
        Field("bias_init", _checked_string(get_initializer), "an initializer of the biases"),
        Field("optimizer", _checked_string(get_optimizer), 'an optimizer, "momentum(beta=0.9)"'),
        Field("learning_rate", lambda w, v: _real(w, v, 0.0, True), "a positive step size"),
        Field("weight_decay", lambda w, v: _real(w, v, 0.0, False), "an L2 penalty >= 0"),
        Field("iterations", _positive_int, "the number of updates"),
        Field("epochs", _positive_int, "the number of passes over the data"),
        Field("batch_size", _positive_int, "the minibatch size"),
        Field("seed", lambda w, v: _int(w, v, 0), "the data, split and weight seed (>= 0)"),
        Field("standardize", _bool, "scale the features to mean 0, std 1"),
        Field("test_fraction", lambda w, v: _real(w, v, 0.0, True, 1.0), "in (0, 1)"),
    )
}
#: TrainConfig's name for a setting where it differs
_CONFIG_NAMES = {"activation": "activations"}
#: the settings a run may vary inside one population
_PER_RUN = ("init", "bias_init")


def _key(name: str, where: str, known: Sequence[str]) -> str:
    """``name`` with ``-`` as ``_``, checked against ``known`` (closest one suggested)."""
    if not isinstance(name, str):
        raise _type_error(where, name, "a key")
    key = name.replace("-", "_")
    if key in known:
        return key
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0].replace('_', '-')!r}?" if close else ""
    shown = ", ".join(k.replace("_", "-") for k in known)
    raise ValueError(f"unknown key {where}{name!r}{hint} (known: {shown})")


_BRACES = re.compile(r"\{([^{}]*)\}")


def expand_braces(text: str) -> list[str]:
    """Every text ``text`` stands for: each ``{a, b}`` group replaced by each of its
    comma-separated alternatives (spaces around them dropped), groups left to right.

    ``expand_braces("normal(std={0.01, 0.1})")`` is
    ``["normal(std=0.01)", "normal(std=0.1)"]``; a text without braces is itself.
    """
    match = _BRACES.search(text)
    if match is None:
        if "{" in text or "}" in text:
            raise ValueError(f"unbalanced braces in {text!r}")
        return [text]
    options = [option.strip() for option in match.group(1).split(",")]
    if any(not option for option in options):
        raise ValueError(f"an empty alternative in {{{match.group(1)}}} of {text!r}")
    head, tail = text[: match.start()], text[match.end() :]
    return [out for option in options for out in expand_braces(head + option + tail)]


def _values(where: str, key: str, raw: Any, distinct: bool = True) -> list[Any]:
    """The values of a swept setting: a non-empty list, braces expanded, each converted."""
    if not isinstance(raw, list):
        raise _type_error(where, raw, "a list of values (a swept setting)")
    if not raw:
        raise ValueError(f"{where} is an empty list: give at least one value")
    out = []
    for i, item in enumerate(raw):
        try:
            texts = expand_braces(item) if isinstance(item, str) else [item]
        except ValueError as error:
            raise ValueError(f"{where}[{i}]: {error}") from None
        out += [FIELDS[key].convert(f"{where}[{i}]", text) for text in texts]
    if distinct:  # a zipped list may repeat a value: its rows must differ
        _no_repeats(where, out)
    return out


def _no_repeats(where: str, values: Sequence[Any]) -> None:
    """Refuse a value listed twice (it would be the same runs twice)."""
    seen = set()
    for value in values:
        key = repr(value)
        if key in seen:
            raise ValueError(f"{where} lists {value!r} twice: give each value once")
        seen.add(key)


# --------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class Axis:
    """Settings that vary together: ``values[k]`` gives each of ``names`` its ``k``-th
    value (one name for a grid list, several for a ``[[zip]]`` group)."""

    names: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class SweepSpec:
    """A checked sweep: fixed settings, axes (crossed), seed indices."""

    fixed: dict[str, Any]
    axes: tuple[Axis, ...]
    seeds: tuple[int, ...]
    description: str = ""
    batch_runs: int = BATCH_RUNS

    @property
    def n_runs(self) -> int:
        return len(self.seeds) * math.prod(len(axis.values) for axis in self.axes)

    @property
    def swept(self) -> list[str]:
        """The swept settings, in the file's order."""
        return [name for axis in self.axes for name in axis.names]

    @property
    def columns(self) -> list[str]:
        """The columns of the runs table (:func:`initlab.results.load`) of the swept
        settings, in the file's order."""
        return [_CONFIG_NAMES.get(name, name) for name in self.swept]

    @property
    def varying_columns(self) -> list[str]:
        """:attr:`columns` of the axes of more than one value (the groups of a summary)."""
        return [_CONFIG_NAMES.get(name, name) for axis in self.axes if len(axis.values) > 1
                for name in axis.names]  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        """The whole specification, JSON-ready (its hash is taken of it; the order of the
        axes counts, the description does not)."""
        return {
            "experiment": "sweep",
            "train": self.fixed,
            "axes": [[list(a.names), [list(v) for v in a.values]] for a in self.axes],
            "seeds": list(self.seeds),
        }

    @property
    def hash(self) -> str:
        return run_hash(self.as_dict())

    def points(self) -> list[dict[str, Any]]:
        """Every combination of the axes' values, the last axis varying fastest."""
        return [
            {name: value for axis, k in zip(self.axes, combo, strict=True)
             for name, value in zip(axis.names, axis.values[k], strict=True)}
            for combo in itertools.product(*(range(len(a.values)) for a in self.axes))
        ]  # fmt: skip

    def training(self, point: Mapping[str, Any]) -> TrainConfig:
        """The :class:`TrainConfig` of one point (its ``inits`` and ``bias_init`` are
        placeholders: each run names its own)."""
        settings = {**self.fixed, **point}
        for name in _PER_RUN:
            settings.pop(name, None)
        if "depth" in settings or "width" in settings:
            if "depth" not in settings or "width" not in settings:
                missing = "width" if "depth" in settings else "depth"
                raise ValueError(f"depth and width go together: give {missing} too")
            for other in ("hidden", "layers"):
                if other in settings:
                    raise ValueError(f"give depth and width or {other}, not both")
            settings["hidden"] = [settings.pop("width")] * settings.pop("depth")
        kwargs = {_CONFIG_NAMES.get(k, k): tuple(v) if isinstance(v, list) else v
                  for k, v in settings.items()}  # fmt: skip
        return TrainConfig(**kwargs, inits=("zeros",), print_every=1)

    def run_config(self, training: TrainConfig, point: Mapping[str, Any], seed: int) -> dict:
        """A run's full configuration, JSON-ready (what its hash is taken of): the
        training's settings, ``init``, ``bias_init``, ``seed_index`` and, when the file
        uses them, ``depth`` and ``width``."""
        settings = {**self.fixed, **point}
        config = {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in training.__dict__.items()
            if k not in ("inits", "print_every")
        }
        config["init"] = settings.get("init", "he")
        config["bias_init"] = settings.get("bias_init", "zeros")
        config["seed_index"] = seed
        for name in ("depth", "width"):
            if name in settings:
                config[name] = settings[name]
        return config

    def batches(self) -> list[Batch]:
        """Every run, in batches: runs sharing a training (all settings but ``init``,
        ``bias_init`` and the seed) in the order their training first appears, seed by
        seed, cut into batches of at most ``batch_runs``."""
        groups: dict[TrainConfig, list[dict[str, Any]]] = {}
        trainings: dict[tuple, TrainConfig] = {}
        for point in self.points():
            key = _training_key(point)
            if key not in trainings:
                trainings[key] = self.training(point)
            groups.setdefault(trainings[key], []).append(point)
        batches = []
        for training, points in groups.items():
            runs = []
            for seed in self.seeds:
                for point in points:
                    config = self.run_config(training, point, seed)
                    runs.append(
                        PlannedRun(config["init"], seed, config, run_hash(config),
                                   config["bias_init"])
                    )  # fmt: skip
            for start in range(0, len(runs), self.batch_runs):
                chunk = tuple(runs[start : start + self.batch_runs])
                batches.append(Batch(len(batches), chunk, training))
        return batches


def _seeds(value: Any) -> tuple[int, ...]:
    if isinstance(value, list):
        if not value:
            raise ValueError("seeds is an empty list: give at least one seed index")
        seeds = tuple(_int(f"seeds[{i}]", s, 0) for i, s in enumerate(value))
        duplicate = next((s for s in seeds if seeds.count(s) > 1), None)
        if duplicate is not None:
            raise ValueError(f"seeds lists {duplicate} twice: give each seed index once")
        return seeds
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error("seeds", value, "a number of seeds (100) or a list of seed indices")
    if value < 1:
        raise ValueError(f"seeds must be at least 1, got {value}")
    return tuple(range(value))


def parse_spec(
    document: Mapping[str, Any], *, max_runs: int | None = MAX_RUNS, batch_runs: int = BATCH_RUNS
) -> SweepSpec:
    """Check a sweep document (the parsed TOML) and return its :class:`SweepSpec`.

    Raises ``ValueError`` (an unknown key, with the closest known one; a bad or empty
    value; a setting given twice; more than ``max_runs`` runs) or ``TypeError`` (a value
    of the wrong type), naming the key. Every training is then checked by
    :class:`~initlab.experiments.train.TrainConfig`; the data are loaded later
    (:func:`initlab.sweep.plan.check_batches`).
    """
    if not isinstance(document, Mapping):
        raise _type_error("a sweep", document, "a table")
    known = list(FIELDS)
    sections = {_key(k, "", SECTIONS): v for k, v in document.items()}
    description = sections.get("description", "")
    if not isinstance(description, str):
        raise _type_error("description", description, "a string")
    seeds = _seeds(sections.get("seeds", 1))
    where_of: dict[str, str] = {}

    def claim(key: str, where: str) -> None:
        if key in where_of:
            raise ValueError(
                f"{key.replace('_', '-')} is given in {where_of[key]} and in {where}: "
                "give each setting in one place"
            )
        where_of[key] = where

    def table(name: str, value: Any) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise _type_error(f"[{name}]", value, "a table")
        return value

    fixed: dict[str, Any] = {}
    for raw_key, value in table("train", sections.get("train", {})).items():
        key = _key(raw_key, "train.", known)
        claim(key, "[train]")
        if isinstance(value, str) and ("{" in value or "}" in value):
            raise ValueError(f"train.{raw_key} = {value!r}: braces expand only in [grid] and [zip]")
        fixed[key] = FIELDS[key].convert(f"train.{raw_key}", value)
    axes: list[Axis] = []
    for raw_key, raw in table("grid", sections.get("grid", {})).items():
        key = _key(raw_key, "grid.", known)
        claim(key, "[grid]")
        values = _values(f"grid.{raw_key}", key, raw)
        axes.append(Axis((key,), tuple((v,) for v in values)))
    zips = sections.get("zip", [])
    if isinstance(zips, Mapping):
        zips = [zips]
    if not isinstance(zips, list):
        raise _type_error("zip", zips, "tables ([[zip]])")
    for z, group in enumerate(zips):
        group = table(f"zip {z + 1}", group)
        if not group:
            raise ValueError(f"[[zip]] number {z + 1} is empty: give lists of one length")
        names, columns = [], []
        for raw_key, raw in group.items():
            key = _key(raw_key, "zip.", known)
            claim(key, f"[[zip]] number {z + 1}")
            names.append(key)
            columns.append(_values(f"zip.{raw_key}", key, raw, distinct=False))
        lengths = {len(c) for c in columns}
        if len(lengths) > 1:
            shown = ", ".join(
                f"{n.replace('_', '-')} {len(c)}" for n, c in zip(names, columns, strict=True)
            )
            raise ValueError(
                f"[[zip]] number {z + 1} zips lists of different lengths ({shown}): "
                "give them one length"
            )  # fmt: skip
        rows = tuple(zip(*columns, strict=True))
        _no_repeats(f"[[zip]] number {z + 1}", rows)
        axes.append(Axis(tuple(names), rows))
    spec = SweepSpec(fixed, tuple(axes), seeds, description, batch_runs)
    if max_runs is not None and spec.n_runs > max_runs:
        raise ValueError(
            f"the sweep has {spec.n_runs:,} runs, more than {max_runs:,}: check the grid, "
            "or pass --yes to run it"
        )
    for point in _distinct_trainings(spec):
        try:
            spec.training(point)
        except (TypeError, ValueError) as error:
            shown = ", ".join(f"{k}={v!r}" for k, v in point.items() if k not in _PER_RUN)
            raise ValueError(f"{error}" + (f" (at {shown})" if shown else "")) from None
    return spec


def _training_key(point: Mapping[str, Any]) -> tuple:
    return tuple((k, repr(v)) for k, v in point.items() if k not in _PER_RUN)


def _distinct_trainings(spec: SweepSpec) -> list[dict[str, Any]]:
    """One point per distinct combination of the settings that shape the training."""
    seen, out = set(), []
    for point in spec.points():
        key = _training_key(point)
        if key not in seen:
            seen.add(key)
            out.append(point)
    return out


def load_spec(path: str | Path, **kwargs: Any) -> SweepSpec:
    """Read and check the sweep file ``path`` (TOML; see :func:`parse_spec`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"sweep file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"sweep file {str(path)!r} is a directory") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read sweep file {str(path)!r}: {error}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not valid TOML: {error}") from None
    return parse_spec(document, **kwargs)
