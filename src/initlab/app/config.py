"""What one training in the app is: a checked configuration, read from and written to a URL.

The page's state lives in the query string, so that a URL reproduces the run::

    /?dataset=moons(noise=0.2)&hidden=16,16&activation=tanh&init=he&init=zeros
      &optimizer=gd&lr=0.05&iterations=2000&seed=3

Every value is checked as the command line checks it (the same registries and
parsers); nothing is evaluated. Custom initializers (``package.module:function``)
import user code, so they are refused unless the server was started with
``--allow-custom-code``; file datasets (``csv(path=...)``, ``npz``) would read the
server's files, so they are refused too: a CSV reaches the app only as an upload.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode

from initlab.activations import canonical_activation
from initlab.datasets import resolve_spec
from initlab.initializers import get_initializer
from initlab.optimizers import get_optimizer
from initlab.spec import parse_spec

__all__ = [
    "MAX_DEPTH",
    "MAX_INITS",
    "MAX_ITERATIONS",
    "MAX_WIDTH",
    "QUERY_KEYS",
    "UPLOAD",
    "AppConfig",
]

#: at most this many hidden layers, units per layer, initializers and updates per training:
#: a page is for looking, and every chart stays readable within these
MAX_DEPTH = 8
MAX_WIDTH = 512
MAX_INITS = 8
MAX_ITERATIONS = 200_000

#: the dataset name that stands for "the CSV file uploaded in this page"
UPLOAD = "csv"

#: query parameter -> configuration field (``init`` may repeat)
QUERY_KEYS: dict[str, str] = {
    "dataset": "dataset",
    "label": "label",
    "standardize": "standardize",
    "hidden": "hidden",
    "activation": "activation",
    "init": "inits",
    "bias": "bias_init",
    "optimizer": "optimizer",
    "lr": "learning_rate",
    "iterations": "iterations",
    "seed": "seed",
}

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def _integer(name: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {text!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"10, 5"`` -> ``(10, 5)``: the hidden widths, comma-separated (empty: no hidden layer)."""
    parts = [part.strip() for part in text.replace(";", ",").split(",")]
    if parts == [""]:
        return ()
    if len(parts) > MAX_DEPTH:
        raise ValueError(f"at most {MAX_DEPTH} hidden layers, got {len(parts)} in {text!r}")
    return tuple(_integer("a hidden width", part, 1, MAX_WIDTH) for part in parts)


def parse_inits(text: str) -> tuple[str, ...]:
    """One initializer spec per line (blank lines ignored)."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _real(name: str, text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {text!r}")
    return value


@dataclass(frozen=True)
class AppConfig:
    """One training of the page; the defaults are the course's experiment.

    ``seed`` seeds the starting weights (every initializer draws from a fresh legacy
    ``RandomState(seed)``, as the course does, so they are compared on the same draw),
    the dataset's draw and split (:func:`initlab.datasets.load_dataset`) and the
    minibatch order.
    """

    dataset: str = "course_circles"
    label: str = "label"
    standardize: bool = False
    hidden: tuple[int, ...] = (10, 5)
    activation: str = "relu"
    inits: tuple[str, ...] = ("zeros", "random", "he")
    bias_init: str = "zeros"
    optimizer: str = "gd"
    learning_rate: float = 0.01
    iterations: int = 15000
    seed: int = 3
    #: refused specs: ``package.module:function`` unless this is set
    allow_custom_code: bool = field(default=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(self.hidden))
        object.__setattr__(self, "inits", tuple(self.inits))
        self.check()

    # -- checks --------------------------------------------------------------

    def check(self) -> None:
        """Raise ``ValueError`` naming the first bad value and what is allowed."""
        if len(self.hidden) > MAX_DEPTH:
            raise ValueError(f"at most {MAX_DEPTH} hidden layers, got {len(self.hidden)}")
        for width in self.hidden:
            ok = isinstance(width, int) and not isinstance(width, bool)
            if not (ok and 1 <= width <= MAX_WIDTH):
                raise ValueError(f"a hidden width must be between 1 and {MAX_WIDTH}, got {width!r}")
        if self.hidden:
            canonical_activation(self.activation)
        if not self.inits:
            raise ValueError("give at least one initializer (one spec per line)")
        if len(self.inits) > MAX_INITS:
            raise ValueError(f"at most {MAX_INITS} initializers, got {len(self.inits)}")
        if len(set(self.inits)) != len(self.inits):
            twice = next(s for s in self.inits if self.inits.count(s) > 1)
            raise ValueError(f"initializer {twice!r} is given twice")
        for spec in self.inits:
            self._check_initializer(spec)
        if getattr(self._check_initializer(self.bias_init), "data_dependent", False):
            raise ValueError(
                f"bias initializer {self.bias_init!r} is data-dependent; it can only draw weights"
            )
        get_optimizer(self.optimizer, self.learning_rate)
        if isinstance(self.iterations, bool) or not isinstance(self.iterations, int):
            raise ValueError(f"iterations must be an integer, got {self.iterations!r}")
        if not 1 <= self.iterations <= MAX_ITERATIONS:
            raise ValueError(
                f"iterations must be between 1 and {MAX_ITERATIONS}, got {self.iterations}"
            )
        if (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int)
            or not (0 <= self.seed < 2**32)
        ):
            raise ValueError(f"seed must be an integer from 0 to 2**32 - 1, got {self.seed!r}")
        self._check_dataset()

    def _check_initializer(self, spec: str) -> object:
        if not isinstance(spec, str):
            raise ValueError(f"an initializer spec must be text, got {spec!r}")
        base = parse_spec(spec)[0]
        if ":" in base and not self.allow_custom_code:
            raise ValueError(
                f"initializer {spec!r} names user code ({base}); the app does not import "
                "user code unless started with --allow-custom-code"
            )
        return get_initializer(spec)

    def _check_dataset(self) -> None:
        entry, params = resolve_spec(self.dataset)
        if entry.kind == "file":
            if entry.name != UPLOAD or params:
                raise ValueError(
                    f"dataset {self.dataset!r} would read a file on the server; "
                    "upload a CSV file in the page instead"
                )
        if entry.name == UPLOAD and not self.label.strip():
            raise ValueError("the label column of the CSV file is empty; name it")

    @property
    def uploaded(self) -> bool:
        """Whether the data is the page's uploaded CSV file."""
        return resolve_spec(self.dataset)[0].name == UPLOAD

    # -- URL -------------------------------------------------------------------

    @classmethod
    def from_query(
        cls, query: Mapping[str, Sequence[str | bytes]], *, allow_custom_code: bool = False
    ) -> AppConfig:
        """The configuration a URL's query names (missing keys: the defaults).

        ``query`` maps each key to its values, as ``urllib.parse.parse_qs`` and Tornado
        give them (bytes are decoded as UTF-8).

        Raises:
            ValueError: an unknown key, a repeated key other than ``init``, or a bad value.
        """
        values: dict[str, list[str]] = {}
        for key, raw in query.items():
            if key not in QUERY_KEYS:
                known = ", ".join(QUERY_KEYS)
                raise ValueError(f"unknown URL parameter {key!r}; known: {known}")
            texts = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in raw]
            if key != "init" and len(texts) > 1:
                raise ValueError(f"URL parameter {key!r} is given {len(texts)} times")
            values[key] = texts
        kwargs: dict[str, Any] = {"allow_custom_code": allow_custom_code}

        def one(key: str) -> str | None:
            return values[key][0] if key in values else None

        for key in ("dataset", "label", "activation", "bias", "optimizer"):
            if (text := one(key)) is not None:
                kwargs[QUERY_KEYS[key]] = text.strip()
        if (text := one("standardize")) is not None:
            if text.strip().lower() not in (*_TRUE, *_FALSE):
                raise ValueError(f"standardize must be true or false, got {text!r}")
            kwargs["standardize"] = text.strip().lower() in _TRUE
        if (text := one("hidden")) is not None:
            kwargs["hidden"] = parse_hidden(text)
        if "init" in values:
            kwargs["inits"] = tuple(spec for text in values["init"] for spec in parse_inits(text))
        if (text := one("lr")) is not None:
            kwargs["learning_rate"] = _real("the learning rate", text)
        if (text := one("iterations")) is not None:
            kwargs["iterations"] = _integer("iterations", text, 1, MAX_ITERATIONS)
        if (text := one("seed")) is not None:
            kwargs["seed"] = _integer("the seed", text, 0, 2**32 - 1)
        return cls(**kwargs)

    def query(self) -> str:
        """The query string (without ``?``) that :meth:`from_query` reads back as ``self``."""
        pairs: list[tuple[str, str]] = [("dataset", self.dataset)]
        if self.uploaded:
            pairs.append(("label", self.label))
        if self.standardize:
            pairs.append(("standardize", "true"))
        pairs += [
            ("hidden", ",".join(str(w) for w in self.hidden)),
            ("activation", self.activation),
            *(("init", spec) for spec in self.inits),
        ]
        if self.bias_init != "zeros":
            pairs.append(("bias", self.bias_init))
        pairs += [
            ("optimizer", self.optimizer),
            ("lr", repr(self.learning_rate)),
            ("iterations", str(self.iterations)),
            ("seed", str(self.seed)),
        ]
        return urlencode(pairs)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (for ``results.json``)."""
        data = asdict(self)
        data.pop("allow_custom_code")
        data["hidden"] = list(self.hidden)
        data["inits"] = list(self.inits)
        if not self.uploaded:
            data.pop("label")
        return data
