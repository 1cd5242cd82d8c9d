"""A scikit-learn classifier whose weight initialization is a hyper-parameter.

:class:`InitMLPClassifier` trains an initlab network (:mod:`initlab.network`)
with an initlab optimizer (:mod:`initlab.optimizers`) through the general
training loop (:func:`initlab.fit.fit`), so ``init`` and ``bias_init`` can be
searched like any other parameter::

    from sklearn.model_selection import GridSearchCV
    from initlab.sklearn import InitMLPClassifier

    search = GridSearchCV(InitMLPClassifier(max_iter=50), {"init": ["zeros", "he"]})
    search.fit(X, y)

Its hyper-parameters carry scikit-learn's ``MLPClassifier`` names where the two
share a meaning (``hidden_layer_sizes``, ``activation``, ``learning_rate_init``
for the step size, ``learning_rate`` for the schedule, ``max_iter`` in epochs,
``batch_size`` with ``"auto"`` = ``min(200, n_samples)``, ``random_state``), so
one can stand in for the other.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from initlab.fit import History, steps_per_epoch
from initlab.fit import fit as fit_network
from initlab.initializers import initialize
from initlab.memory import OPTIMIZER_SLOTS, check_training
from initlab.network import Network, Parameters, predict, predict_proba
from initlab.optimizers import get_optimizer

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - older scikit-learn

    def validate_data(estimator, X, y="no_validation", reset=True, **kwargs):  # type: ignore[no-redef]
        return estimator._validate_data(X, y, reset=reset, **kwargs)


if TYPE_CHECKING:
    from initlab.search import InitGridSearchCV

__all__ = ["InitGridSearchCV", "InitMLPClassifier"]


def __getattr__(name: str) -> Any:
    """``InitGridSearchCV`` lives in :mod:`initlab.search`, imported when first asked for."""
    if name == "InitGridSearchCV":
        from initlab.search import InitGridSearchCV

        return InitGridSearchCV
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class InitMLPClassifier(ClassifierMixin, BaseEstimator):
    """A fully connected classifier with a chosen initialization.

    Two classes get one sigmoid output unit (binary cross-entropy), more
    classes a softmax over ``k`` units (categorical cross-entropy); both are
    computed from the logits.

    Args:
        hidden_layer_sizes: width of each hidden layer, e.g. ``(64, 64)``;
            ``()`` is logistic (softmax) regression.
        activation: one activation name for every hidden layer, or one per layer.
        init: the weight initializer's name (see :mod:`initlab.initializers`).
        bias_init: the bias initializer's name.
        optimizer: ``"gd"``, ``"sgd"``, ``"momentum"`` or ``"adam"`` (a spec
            such as ``"momentum(beta=0.95)"`` also works).
        learning_rate_init: the step size ``eta`` (scikit-learn's name).
        learning_rate: the step-size schedule, as in scikit-learn; only
            ``"constant"`` (``eta`` at every update) is supported.
        max_iter: number of epochs (passes over the training set); for the
            full-batch ``"gd"`` an epoch is one update.
        batch_size: minibatch size; ``"auto"`` is ``min(200, n_samples)`` (the
            whole set for ``"gd"``); larger values are clipped to ``n_samples``.
            ``"gd"`` is full-batch gradient descent: a size that would cut the
            training set into minibatches is refused with it.
        weight_decay: L2 penalty ``lambda`` on the weights (not the biases).
        random_state: seeds the initialization and the minibatch shuffling.

    Attributes:
        classes_: the class labels, in the order of :meth:`predict_proba`'s columns.
        n_features_in_: number of features seen by :meth:`fit`.
        network_: the :class:`~initlab.network.Network` trained.
        params_: its trained :class:`~initlab.network.Parameters`.
        loss_curve_: the mean training cost of every epoch.
        n_iter_: the number of epochs run.
        diverged_at_: the update at which the cost stopped being finite, or ``None``.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [str, list, tuple],
        "init": [str, callable],
        "bias_init": [str, callable],
        "optimizer": [str],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [StrOptions({"constant"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (64,),
        activation: str | Sequence[str] = "relu",
        init: str = "he",
        bias_init: str = "zeros",
        optimizer: str = "adam",
        learning_rate_init: float = 0.001,
        learning_rate: str = "constant",
        max_iter: int = 200,
        batch_size: int | str = "auto",
        weight_decay: float = 0.0,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.bias_init = bias_init
        self.optimizer = optimizer
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.random_state = random_state

    def _network(self, n_features: int, n_classes: int) -> Network:
        sizes = self.hidden_layer_sizes
        hidden = (sizes,) if isinstance(sizes, int | np.integer) else tuple(sizes)
        if isinstance(self.activation, str):
            activations: tuple[str, ...] = (self.activation,) * len(hidden)
        else:
            activations = tuple(self.activation)
        return Network.for_classes(n_features, hidden, activations, n_classes)

    def _batch_size(self, optimizer: Any, m: int) -> int | None:
        size = self.batch_size
        if isinstance(size, str) and size == "auto":
            return None if optimizer.full_batch else min(200, m)
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise ValueError(f"batch_size must be 'auto' or a positive integer, got {size!r}")
        if optimizer.full_batch:
            if size < m:
                raise ValueError(
                    f"batch_size={int(size)} with optimizer {optimizer.name!r}: it is full-batch "
                    f"gradient descent on all {m} samples; use batch_size='auto', or sgd, "
                    "momentum or adam for minibatches"
                )
            return None
        if size > m:  # as scikit-learn's MLPClassifier does
            warnings.warn(
                f"Got `batch_size` less than 1 or larger than sample size. It is going to be "
                f"clipped: batch_size={int(size)} with {m} training samples",
                UserWarning,
                stacklevel=4,
            )
        return min(int(size), m)

    def _step_size(self) -> float:
        value = self.learning_rate_init
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ValueError(f"learning_rate_init must be a positive real number, got {value!r}")
        return float(value)

    def fit(self, X: Any, y: Any) -> InitMLPClassifier:
        """Train on ``X`` (shape ``(n_samples, n_features)``) and labels ``y``; return ``self``.

        The hyper-parameters are checked first against ``_parameter_constraints``
        (scikit-learn's ``InvalidParameterError``, a ``ValueError``, naming the value).
        """
        plan = self._plan(X, y)
        params, history = _train_one(plan)
        return self._trained(plan, params, history)

    def _plan(self, X: Any, y: Any) -> _Plan:
        """Everything :meth:`fit` decides before training: the checked data, the network,
        the optimizer, the batch size and the initial parameters drawn from
        ``random_state`` (``init_seed, shuffle_seed = RandomState.randint(2**31 - 1,
        size=2)``: the first seeds the initializer's generator, the second the
        minibatch shuffling)."""
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                f"InitMLPClassifier needs at least 2 classes; got one class, {classes[0].item()!r}"
            )
        network = self._network(X.shape[1], classes.size)
        optimizer = get_optimizer(self.optimizer, self._step_size(), float(self.weight_decay))
        batch = self._batch_size(optimizer, X.shape[0])
        if isinstance(self.max_iter, int | np.integer) and not isinstance(self.max_iter, bool):
            per_epoch = steps_per_epoch(X.shape[0], batch or X.shape[0])
            check_training(
                network.layer_sizes,
                updates=self.max_iter * per_epoch,
                batch=X.shape[0],
                optimizer_slots=OPTIMIZER_SLOTS.get(optimizer.name, 2),
                updates_parameter=("max_iter", self.max_iter, per_epoch),
                width_parameter=("hidden_layer_sizes", self.hidden_layer_sizes),
            )
        rs = check_random_state(self.random_state)
        init_seed, shuffle_seed = rs.randint(np.iinfo(np.int32).max, size=2)
        columns = np.ascontiguousarray(X.T)
        start = initialize(
            network, self.init, np.random.default_rng(init_seed), self.bias_init, data=columns
        )
        return _Plan(
            X=columns,
            Y=codes.reshape(1, -1).astype(np.int64),
            classes=classes,
            network=network,
            optimizer=optimizer,
            batch=batch,
            epochs=int(self.max_iter),
            start=start,
            shuffle_seed=int(shuffle_seed),
        )

    def _trained(self, plan: _Plan, params: Parameters, history: History) -> InitMLPClassifier:
        """Set the fitted attributes from the trained ``params`` and their ``history``."""
        m = plan.X.shape[1]
        batch = m if plan.batch is None else plan.batch
        per_epoch = steps_per_epoch(m, batch)
        sizes = np.full(per_epoch, batch, dtype=float)
        sizes[-1] = m - batch * (per_epoch - 1)
        full_epochs = len(history.costs) // per_epoch
        costs = history.costs[: full_epochs * per_epoch].reshape(full_epochs, per_epoch)
        self.classes_ = plan.classes
        self.network_ = plan.network
        self.params_ = params
        self.loss_curve_ = list(costs @ sizes / m)
        self.n_iter_ = full_epochs
        self.diverged_at_ = history.diverged_at
        if history.diverged:
            warnings.warn(
                f"training diverged at update {history.diverged_at} (non-finite cost); "
                f"try a smaller learning_rate_init than {self.learning_rate_init!r}",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _columns(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return np.ascontiguousarray(X.T)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``, columns in ``classes_`` order."""
        X = self._columns(X)
        proba = predict_proba(self.network_, self.params_, X)
        if self.network_.output == "sigmoid":
            return np.column_stack([1.0 - proba[0], proba[0]])
        return proba.T

    def predict(self, X: Any) -> np.ndarray:
        """The predicted class label of every sample."""
        X = self._columns(X)
        return self.classes_[predict(self.network_, self.params_, X)[0]]


@dataclass
class _Plan:
    """What :meth:`InitMLPClassifier.fit` trains: inputs ``X`` ``(n_0, m)``, label codes
    ``Y`` ``(1, m)``, the network, the optimizer, the minibatch size (``None``: full
    batch), the number of epochs, the initial parameters and the shuffling seed."""

    X: np.ndarray
    Y: np.ndarray
    classes: np.ndarray
    network: Network
    optimizer: Any
    batch: int | None
    epochs: int
    start: Parameters
    shuffle_seed: int

    def schedule(self) -> dict[str, Any]:
        """The keyword arguments of the training schedule, for ``fit`` or the engine."""
        return {
            "epochs": self.epochs,
            "batch_size": self.batch,
            "rng": np.random.default_rng(self.shuffle_seed),
        }


def on_engine(network: Network, optimizer: Any) -> bool:
    """Whether :meth:`InitMLPClassifier.fit` trains this network on the compiled engine
    (:func:`initlab.engine.population.choose_backend` for one model on one thread)."""
    from initlab.engine.population import choose_backend

    return choose_backend(network, optimizer=optimizer, models=1, threads=1) == "compiled"


def _train_one(plan: _Plan) -> tuple[Parameters, History]:
    """``fit``'s run on the compiled engine when it can take it (its numbers to rounding,
    several times faster), else ``fit`` itself."""
    from initlab.engine.population import train_population

    args = (plan.network, plan.start, plan.X, plan.Y, plan.optimizer)
    if not on_engine(plan.network, plan.optimizer):
        return fit_network(*args, **plan.schedule())
    try:
        result = train_population(
            plan.network, [plan.start], plan.X, plan.Y, optimizer=plan.optimizer,
            backend="compiled", **plan.schedule(),
        )  # fmt: skip
    except ImportError:  # numba missing
        return fit_network(*args, **plan.schedule())
    return result.params[0], result.history(0)
