"""Train one network per initializer on the same data, split and seed.

The general experiment (the course, :mod:`initlab.experiments.course`, is one of its
presets): any dataset of
:mod:`initlab.datasets`, any depth, width and activations, a sigmoid or
softmax head, any optimizer of :mod:`initlab.optimizers`, by iterations or
epochs, full batch or minibatches (:func:`initlab.fit.fit`).

Randomness comes from ``numpy.random.SeedSequence(seed)``: children 0 and 1
draw and split the data, child 2 draws the initial weights and child 3
shuffles the minibatches. Every initializer starts from a fresh generator of
child 2 and sees the minibatches in the same order, so the runs differ only
by their initialization. The one exception is ``course_circles``, the course's
own data: there every initializer draws from a fresh legacy
``RandomState(3 + seed)``, the course's ``np.random.seed(3)`` at the default
``seed=0``, so the course's settings reproduce the course's numbers.

Defaults follow the course and scikit-learn: the three course initializations
(``zeros``, ``random``, ``he``) are compared, and the minibatch optimizers
(``sgd``, ``momentum``, ``adam``) take scikit-learn's ``batch_size="auto"``,
``min(200, m)`` samples of the ``m`` training samples; ``gd`` is full batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from initlab.checks import check_positive_int
from initlab.datasets import LabelledDataset, load_dataset
from initlab.fit import fit, resolve_batch_size, steps_per_epoch
from initlab.initializers import get_initializer, initialize
from initlab.memory import OPTIMIZER_SLOTS, check_training
from initlab.network import Network, Parameters
from initlab.optimizers import Optimizer, get_optimizer
from initlab.runs import ENGINES, Run, diagnose_runs, population_runs, score_run

__all__ = [
    "COURSE_INITS",
    "COURSE_INIT_SEED",
    "DEFAULT_ITERATIONS",
    "DEFAULT_MINIBATCH",
    "PLAIN_STEP_OPTIMIZERS",
    "STANDARDIZED_MAX_ABS_MEAN",
    "STANDARDIZED_STD_RANGE",
    "TrainConfig",
    "TrainResult",
    "TrainSetup",
    "default_batch_size",
    "far_from_standardized",
    "feature_spread",
    "plain_step_size",
    "prepare",
    "run_train",
    "starting_parameters",
]

#: the course's three initializations, the default comparison
COURSE_INITS: tuple[str, ...] = ("zeros", "random", "he")
#: ``course_circles`` weights come from the legacy ``RandomState(COURSE_INIT_SEED + seed)``
COURSE_INIT_SEED = 3
DEFAULT_ITERATIONS = 1000
#: the optimizers whose update is the plain gradient step ``-learning_rate * dJ/dW``
PLAIN_STEP_OPTIMIZERS: tuple[str, ...] = ("gd", "sgd")
#: the largest default minibatch: scikit-learn's ``batch_size="auto"`` is ``min(200, m)``
DEFAULT_MINIBATCH: int = Optimizer.default_batch_size  # type: ignore[assignment]
#: features count as "far from standardized" when some feature's mean is further from 0
#: than this, or when the largest feature std falls outside this range
STANDARDIZED_MAX_ABS_MEAN = 2.0
STANDARDIZED_STD_RANGE = (0.2, 5.0)


def _positive_ints(name: str, values: Sequence[int], *, allow_empty: bool) -> tuple[int, ...]:
    values = tuple(values)
    if not values and not allow_empty:
        raise ValueError(f"{name} must name at least one size")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            shown = values[0] if len(values) == 1 else list(values)
            raise ValueError(f"{name} must be positive integers, got {shown!r}")
    return tuple(int(v) for v in values)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training comparison.

    ``hidden`` gives the hidden widths (the input and output sizes then follow
    from the data); ``layers`` gives every size, input and output included,
    and wins over ``hidden``. ``activations`` holds one name for every hidden
    layer or one per hidden layer. ``output`` is ``"auto"`` (a sigmoid unit
    for 2 classes, a softmax over more), ``"sigmoid"`` or ``"softmax"``.
    ``learning_rate`` ``None`` takes the optimizer's default; with neither
    ``iterations`` nor ``epochs``, :data:`DEFAULT_ITERATIONS` updates are made;
    ``batch_size`` ``None`` takes :func:`default_batch_size`. ``inits``
    defaults to the course's three: ``zeros``, ``random`` and ``he``.
    """

    dataset: str = "circles"
    data_path: str | None = None
    label_column: str | None = None
    hidden: tuple[int, ...] = (10, 5)
    layers: tuple[int, ...] | None = None
    activations: tuple[str, ...] = ("relu",)
    output: str = "auto"
    inits: tuple[str, ...] = COURSE_INITS
    bias_init: str = "zeros"
    optimizer: str = "adam"
    learning_rate: float | None = None
    weight_decay: float = 0.0
    iterations: int | None = None
    epochs: int | None = None
    batch_size: int | None = None
    seed: int = 0
    standardize: bool = False
    test_fraction: float = 0.25
    print_every: int = 100

    def __post_init__(self) -> None:
        object.__setattr__(self, "inits", tuple(self.inits))
        object.__setattr__(self, "activations", tuple(self.activations))
        object.__setattr__(self, "hidden", _positive_ints("hidden", self.hidden, allow_empty=True))
        if self.layers is not None:
            layers = _positive_ints("layers", self.layers, allow_empty=False)
            if len(layers) < 2:
                raise ValueError(
                    f"layers must give at least an input and an output size, got {list(layers)!r}"
                )
            object.__setattr__(self, "layers", layers)
        if not self.inits:
            raise ValueError("at least one initializer is needed")
        for name in self.inits:
            get_initializer(name)
        get_initializer(self.bias_init)
        if not self.activations:
            raise ValueError("at least one activation is needed")
        if self.output not in ("auto", "sigmoid", "softmax"):
            raise ValueError(
                f"unknown output {self.output!r}; choose one of: auto, sigmoid, softmax"
            )
        if self.iterations is not None and self.epochs is not None:
            raise ValueError("give iterations or epochs, not both")
        get_optimizer(self.optimizer, self.learning_rate, self.weight_decay)
        check_positive_int("print_every", self.print_every)
        check_positive_int("iterations", self.iterations, allow_none=True)
        check_positive_int("epochs", self.epochs, allow_none=True)

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        return self.hidden if self.layers is None else self.layers[1:-1]

    def network_for(self, n_features: int, n_classes: int) -> Network:
        """The network for data with ``n_features`` and ``n_classes``; checks ``layers``."""
        hidden = self.hidden_sizes
        if len(self.activations) == 1:
            activations = self.activations * len(hidden)
        elif len(self.activations) == len(hidden):
            activations = self.activations
        else:
            raise ValueError(
                f"got {len(self.activations)} activations ({', '.join(self.activations)}) "
                f"for {len(hidden)} hidden layer(s); give 1 for all layers or 1 per layer"
            )
        output = self.output
        if output == "auto":
            output = (
                "sigmoid"
                if n_classes == 2 and (not self.layers or self.layers[-1] == 1)
                else "softmax"
            )
        n_outputs = 1 if output == "sigmoid" else n_classes
        if output == "sigmoid" and n_classes != 2:
            raise ValueError(f"a sigmoid output needs 2 classes, the data have {n_classes}")
        if self.layers is not None:
            if self.layers[0] != n_features:
                raise ValueError(
                    f"layers {list(self.layers)} start with {self.layers[0]} inputs but the "
                    f"data have {n_features} features; start with {n_features}"
                )
            if self.layers[-1] != n_outputs:
                raise ValueError(
                    f"layers {list(self.layers)} end with {self.layers[-1]} outputs but the data "
                    f"have {n_classes} classes; end with {n_outputs} for a {output} output"
                )
        return Network((n_features, *hidden, n_outputs), activations, output)


@dataclass
class TrainSetup:
    """A checked configuration with its data loaded: what :func:`run_train` needs."""

    config: TrainConfig
    dataset: LabelledDataset
    network: Network
    optimizer: Optimizer
    batch_size: int
    updates: int

    @property
    def is_2d(self) -> bool:
        return self.dataset.n_features == 2

    def training(self, rng: np.random.Generator) -> dict[str, Any]:
        """The keyword arguments of :func:`initlab.fit.fit` and
        :func:`initlab.engine.train_population` for this training, shuffled by ``rng``."""
        return {
            "optimizer": self.optimizer,
            "iterations": self.updates,
            "batch_size": self.batch_size,
            "rng": rng,
        }

    def check_memory(self) -> None:
        """Refuse (:class:`~initlab.memory.MemoryLimitError`) a training too large for memory;
        a batch is the whole training set, which scoring runs through the network."""
        config, runs = self.config, len(self.config.inits)
        units = (("epochs", config.epochs, self.updates // config.epochs) if config.epochs
                 else ("iterations", self.updates, 1))  # fmt: skip
        width = ("hidden", config.hidden) if config.layers is None else ("layers", config.layers)
        check_training(self.network.layer_sizes, updates=self.updates,
                       batch=self.dataset.X_train.shape[1], runs=runs,
                       concurrent=runs,
                       optimizer_slots=OPTIMIZER_SLOTS.get(self.optimizer.name, 2),
                       updates_parameter=units, width_parameter=width)  # fmt: skip


@dataclass
class TrainResult:
    """The runs of one comparison, one per initializer, with what produced them;
    ``experiment`` names the results (``"train"``, or ``"course"`` for its preset)."""

    setup: TrainSetup
    runs: list[Run] = field(default_factory=list)
    experiment: str = "train"

    @property
    def config(self) -> TrainConfig:
        return self.setup.config

    @property
    def dataset(self) -> LabelledDataset:
        return self.setup.dataset


def default_batch_size(optimizer: Optimizer, m: int) -> int:
    """The minibatch size when none is given, on ``m`` training samples.

    ``m`` (the whole set) for the full-batch ``gd``; otherwise scikit-learn's
    ``batch_size="auto"``: ``min(200, m)`` (:data:`DEFAULT_MINIBATCH`). An
    epoch is then ``ceil(m / batch)`` updates.
    """
    return resolve_batch_size(optimizer, None, m)


def feature_spread(X: np.ndarray) -> tuple[float, float]:
    """``(max_j |mu_j|, max_j sigma_j)``: the largest absolute mean and the largest standard
    deviation of the features ``X`` (shape ``(n, m)``), each taken over the ``m`` samples."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must have shape (n_features, n_samples) with both > 0, got {X.shape}")
    return float(np.abs(X.mean(axis=1)).max()), float(X.std(axis=1).max())


def far_from_standardized(X: np.ndarray) -> bool:
    """Whether the features ``X`` (shape ``(n, m)``) are far from mean 0, std 1.

    With ``mu_j`` and ``sigma_j`` the mean and standard deviation of feature
    ``j`` over the samples: true when ``max_j |mu_j| > 2``
    (:data:`STANDARDIZED_MAX_ABS_MEAN`) or ``max_j sigma_j`` lies outside
    ``[0.2, 5]`` (:data:`STANDARDIZED_STD_RANGE`), i.e. some feature sits far
    off the origin, or the widest feature is far wider or narrower than 1.
    The 2-D circles, moons, spirals, xor and gaussians are not far
    (``|mu| <= 0.51``, ``sigma <= 1.41``); ``digits`` (pixels 0 to 16,
    ``|mu|`` up to about 12), ``iris``, ``wine``, ``breast_cancer`` and
    ``blobs`` (centres drawn in ``[-10, 10]``) are.
    """
    max_abs_mean, max_std = feature_spread(X)
    low, high = STANDARDIZED_STD_RANGE
    return max_abs_mean > STANDARDIZED_MAX_ABS_MEAN or not low <= max_std <= high


def prepare(config: TrainConfig) -> TrainSetup:
    """Load the data and check everything against it, before any training.

    Raises:
        ValueError: for data that cannot be loaded, layer sizes that do not
            match the data, or a batch size larger than the training set.
    """
    dataset = load_dataset(
        config.dataset,
        seed=config.seed,
        test_fraction=config.test_fraction,
        standardize_features=config.standardize,
        path=config.data_path,
        label=config.label_column,
    )
    network = config.network_for(dataset.n_features, dataset.n_classes)
    legacy_seed = COURSE_INIT_SEED + config.seed
    if dataset.name == "course_circles" and legacy_seed >= 2**32:
        raise ValueError(
            f"seed {config.seed} is too large for course_circles, whose weights come from the "
            f"course's legacy RandomState(3 + seed); allowed: 0 to {2**32 - 1 - 3}"
        )
    optimizer = get_optimizer(config.optimizer, config.learning_rate, config.weight_decay)
    m = dataset.X_train.shape[1]
    requested = config.batch_size
    batch = resolve_batch_size(
        optimizer, default_batch_size(optimizer, m) if requested is None else requested, m
    )
    if config.epochs is not None:
        updates = config.epochs * steps_per_epoch(m, batch)
    else:
        updates = config.iterations or DEFAULT_ITERATIONS
    setup = TrainSetup(config, dataset, network, optimizer, batch, updates)
    setup.check_memory()
    return setup


def _rngs(seed: int) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    children = np.random.SeedSequence(seed).spawn(4)
    return children[2], children[3]


def _weight_rng(
    setup: TrainSetup, init_seq: np.random.SeedSequence
) -> np.random.Generator | np.random.RandomState:
    """A fresh generator for one initializer's weights (see the module docstring)."""
    if setup.dataset.name == "course_circles":
        return np.random.RandomState(COURSE_INIT_SEED + setup.config.seed)
    return np.random.default_rng(init_seq)


def starting_parameters(setup: TrainSetup) -> list[Parameters]:
    """The initial parameters of every initializer of ``setup``, in order, each drawn
    from a fresh generator (see the module docstring). Every initializer is drawn (and
    a bad one refused) before any training starts; data-dependent schemes (``lsuv``)
    are calibrated on the training set."""
    config = setup.config
    init_seq, _ = _rngs(config.seed)
    starts = [
        initialize(
            setup.network,
            init,
            _weight_rng(setup, init_seq),
            config.bias_init,
            data=setup.dataset.X_train,
        )
        for init in config.inits
    ]
    return starts


def run_train(
    config: TrainConfig | TrainSetup,
    *,
    on_cost: Callable[[str, int, float], None] | None = None,
    engine: str = "fast",
) -> TrainResult:
    """Train one network per initializer of ``config`` and score each on train and test.

    ``on_cost(init, update, cost)`` is called every ``print_every`` updates, live.
    With ``engine="fast"`` all initializers train at once on the population
    engine (:func:`initlab.engine.train_population`: the compiled kernel; the
    batched NumPy engine for very wide layers), and the costs come interleaved,
    every initializer's at one update, then the next; with ``engine="reference"``
    they train one after the other with :func:`initlab.fit.fit` (the oracle). Both shuffle the
    minibatches of every run in the same order, from the same seed.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    setup = config if isinstance(config, TrainSetup) else prepare(config)
    setup.check_memory()
    config = setup.config
    data = setup.dataset
    _, shuffle_seq = _rngs(config.seed)
    result = TrainResult(setup)
    starts = starting_parameters(setup)
    if engine == "fast":
        result.runs = population_runs(
            setup.network,
            config.inits,
            starts,
            data,
            print_every=config.print_every,
            on_cost=on_cost,
            **setup.training(np.random.default_rng(shuffle_seq)),
        )
        diagnose_runs(result.runs, setup.network, data, learning_rate=plain_step_size(setup))
        return result
    for init, start in zip(config.inits, starts, strict=True):
        report = None if on_cost is None else (lambda i, c, _n=init: on_cost(_n, i, c))
        params, history = fit(
            setup.network,
            start,
            data.X_train,
            data.Y_train,
            **setup.training(np.random.default_rng(shuffle_seq)),
            report_every=config.print_every,
            on_report=report,
        )
        result.runs.append(score_run(init, setup.network, start, params, history, data))
    diagnose_runs(result.runs, setup.network, data, learning_rate=plain_step_size(setup))
    return result


def plain_step_size(setup: TrainSetup) -> float | None:
    """The learning rate when an update is ``-learning_rate * gradient`` (``gd``, ``sgd``),
    for the update-to-data ratio at initialization; ``None`` for ``momentum`` and ``adam``,
    whose steps are not proportional to the gradient."""
    return setup.optimizer.learning_rate if setup.optimizer.name in PLAIN_STEP_OPTIMIZERS else None
