"""Optimizers: how a gradient becomes a parameter update.

Every optimizer updates ``theta`` (each ``W[l]`` and ``b[l]``) from its gradient
``g`` with a learning rate ``eta``. With ``weight_decay = lambda > 0`` the
weights (not the biases) get the gradient of an L2 penalty
``(lambda / 2) sum ||W[l]||^2`` added first: ``g <- g + lambda W`` (coupled L2
regularization; for Adam this is "Adam with L2", not AdamW).

Optimizers are looked up by name in :data:`OPTIMIZERS` (see
:func:`get_optimizer`). An optimizer keeps its state (velocities, moments)
between :meth:`Optimizer.step` calls; :meth:`Optimizer.reset` forgets it, and
the training loop calls it at the start of every run. Minibatching is the
training loop's job (:func:`initlab.fit.fit`); an optimizer only sees
gradients.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from initlab.network import Parameters
from initlab.spec import (
    Range,
    Registry,
    check_params,
    declare,
    declared_params,
)

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "GradientDescent",
    "Momentum",
    "Optimizer",
    "get_optimizer",
]


#: The declared ranges of the optimizers' parameters (see :class:`initlab.spec.Range`).
POSITIVE = Range(low=0.0, low_open=True)
NONNEGATIVE = Range(low=0.0)
#: A decay rate of a moving average: beta = 1 would never forget, beta > 1 diverges.
DECAY = Range(low=0.0, high=1.0, high_open=True)


@dataclass
@declare("", learning_rate=POSITIVE, weight_decay=NONNEGATIVE)
class Optimizer:
    """Base class: ``learning_rate`` ``eta > 0`` and L2 ``weight_decay`` ``lambda >= 0``."""

    name: ClassVar[str] = ""
    #: the learning rate used when none is given
    default_learning_rate: ClassVar[float] = 0.01
    #: the minibatch size used when none is given, capped at the number of samples
    #: (scikit-learn's ``batch_size="auto"``: ``min(200, m)``); ``None``: the whole set
    default_batch_size: ClassVar[int | None] = 200
    #: ``True``: the optimizer is defined on the whole training set only
    full_batch: ClassVar[bool] = False

    learning_rate: float = 0.01
    weight_decay: float = 0.0
    t: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        """The declared ranges are checked (by :func:`initlab.spec.declare`) before this."""

    def reset(self) -> None:
        """Forget all state: the next :meth:`step` is step 1."""
        self.t = 0

    def step(
        self, params: Parameters, grads: Parameters, learning_rate: float | np.ndarray | None = None
    ) -> None:
        """Update ``params`` in place (each array is replaced by its updated copy).

        ``learning_rate`` overrides :attr:`learning_rate`: a number, or an array that
        broadcasts against every parameter array (the population engine steps the
        stacked parameters of ``M`` models at once, each with its own rate, as
        ``(M, 1, 1)``). The update is linear in it, so the state is shared.
        """
        self.t += 1
        eta = self.learning_rate if learning_rate is None else learning_rate
        decay = self.weight_decay
        for group, grad_group, kind in (
            (params.weights, grads.weights, "w"),
            (params.biases, grads.biases, "b"),
        ):
            for l, grad in enumerate(grad_group):
                if decay and kind == "w":
                    grad = grad + decay * group[l]
                group[l] = group[l] - self.direction((kind, l), grad, eta)

    def direction(
        self, key: tuple[str, int], grad: np.ndarray, learning_rate: float | np.ndarray
    ) -> np.ndarray:
        """The update ``theta_{t} - theta_{t+1}`` for the array ``key`` given its gradient."""
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The hyper-parameters, JSON-ready, with the optimizer's name."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        return {"name": self.name, **values}


@dataclass
class GradientDescent(Optimizer):
    """Full-batch gradient descent (the course): ``theta <- theta - eta g``.

    The gradient is that of the cost over the whole training set, so the run
    is deterministic; with ``weight_decay = 0`` it is exactly
    :func:`initlab.fit.gradient_descent`. Cauchy, "Méthode générale pour la
    résolution des systèmes d'équations simultanées", 1847.
    """

    name: ClassVar[str] = "gd"
    full_batch: ClassVar[bool] = True
    default_batch_size: ClassVar[int | None] = None

    def direction(
        self, key: tuple[str, int], grad: np.ndarray, learning_rate: float | np.ndarray
    ) -> np.ndarray:
        return learning_rate * grad


@dataclass
class SGD(GradientDescent):
    """Minibatch stochastic gradient descent: ``theta <- theta - eta g_B``.

    ``g_B`` is the gradient of the mean cost over a minibatch ``B``; the
    training loop shuffles the training set every epoch with an explicit,
    seeded ``rng`` (default minibatch: ``min(200, m)`` samples). Robbins and Monro, "A
    Stochastic Approximation Method", Ann. Math. Statist. 1951.
    """

    name: ClassVar[str] = "sgd"
    full_batch: ClassVar[bool] = False
    default_batch_size: ClassVar[int | None] = 200


@dataclass
@declare("momentum", beta=DECAY)
class Momentum(Optimizer):
    """Gradient descent with (heavy-ball) momentum.

    ``v <- beta v + g``, ``theta <- theta - eta v`` with ``v = 0`` at the start
    (the form of ``torch.optim.SGD(momentum=beta)``); ``beta = 0`` is plain
    gradient descent. Polyak, "Some methods of speeding up the convergence of
    iteration methods", USSR Comput. Math. Math. Phys. 1964; Sutskever,
    Martens, Dahl and Hinton, "On the importance of initialization and
    momentum in deep learning", ICML 2013.
    """

    name: ClassVar[str] = "momentum"

    beta: float = 0.9
    _velocity: dict = field(default_factory=dict, init=False, repr=False)

    def reset(self) -> None:
        super().reset()
        self._velocity = {}

    def direction(
        self, key: tuple[str, int], grad: np.ndarray, learning_rate: float | np.ndarray
    ) -> np.ndarray:
        velocity = self._velocity.get(key)
        velocity = grad.copy() if velocity is None else self.beta * velocity + grad
        self._velocity[key] = velocity
        return learning_rate * velocity


@dataclass
@declare("adam", beta1=DECAY, beta2=DECAY, eps=POSITIVE)
class Adam(Optimizer):
    """Adam: adaptive moment estimation.

    With ``m = v = 0`` at the start and ``t`` counting steps from 1::

        m <- beta1 m + (1 - beta1) g
        v <- beta2 v + (1 - beta2) g^2
        m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)
        theta <- theta - eta m_hat / (sqrt(v_hat) + eps)

    Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015
    (Algorithm 1; the defaults are the paper's).
    """

    name: ClassVar[str] = "adam"
    default_learning_rate: ClassVar[float] = 0.001

    learning_rate: float = 0.001
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    _moments: dict = field(default_factory=dict, init=False, repr=False)

    def reset(self) -> None:
        super().reset()
        self._moments = {}

    def direction(
        self, key: tuple[str, int], grad: np.ndarray, learning_rate: float | np.ndarray
    ) -> np.ndarray:
        m, v = self._moments.get(key, (0.0, 0.0))
        m = self.beta1 * m + (1.0 - self.beta1) * grad
        v = self.beta2 * v + (1.0 - self.beta2) * grad * grad
        self._moments[key] = (m, v)
        m_hat = m / (1.0 - self.beta1**self.t)
        v_hat = v / (1.0 - self.beta2**self.t)
        return learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS: Registry[type[Optimizer]] = Registry(
    "optimizer", {"gd": GradientDescent, "sgd": SGD, "momentum": Momentum, "adam": Adam}
)


def get_optimizer(
    spec: str | Optimizer,
    learning_rate: float | None = None,
    weight_decay: float = 0.0,
) -> Optimizer:
    """Build the optimizer named by ``spec``: ``"adam"`` or ``"momentum(beta=0.95)"``.

    ``learning_rate`` ``None`` takes the optimizer's default (0.001 for Adam,
    0.01 for the others). An :class:`Optimizer` instance is returned as is.

    Raises:
        ValueError: for an unknown name (the message lists the choices), an
            unknown parameter or a bad value.
    """
    if isinstance(spec, Optimizer):
        return spec
    _, factory, _, params = OPTIMIZERS.parse(spec, declared_params, keywords_only=True)
    own = ("learning_rate", "weight_decay")
    declared = declared_params(factory)
    for key in own:
        if key in params:
            raise ValueError(f"optimizer {spec!r}: give {key} as its own option, not in the spec")
    allowed = [f.name for f in fields(factory) if f.init and f.name not in own]
    check_params("optimizer", factory.name, params, {key: declared.get(key) for key in allowed})
    lr = factory.default_learning_rate if learning_rate is None else learning_rate
    return factory(learning_rate=lr, weight_decay=weight_decay, **params)
