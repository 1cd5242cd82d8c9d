"""Fully connected networks: forward pass, loss from logits, backward pass.

Conventions (those of the deeplearning.ai course):

* data are stored column-wise: ``X`` has shape ``(n_features, m)``, labels
  ``Y`` shape ``(1, m)`` with values in {0, 1};
* layer ``l = 1..L`` has weights ``W[l]`` of shape ``(n_l, n_{l-1})`` and a
  bias column ``b[l]`` of shape ``(n_l, 1)``; Python lists are 0-indexed, so
  ``params.weights[0]`` is ``W[1]``;
* ``z[l] = W[l] a[l-1] + b[l]``, ``a[l] = g_l(z[l])`` with ``a[0] = X``;
  hidden layers use the network's activations, the last layer's ``z[L]`` are
  the *logits* and the output ``sigmoid(z[L])`` is the probability of class 1.

The binary cross-entropy is computed from the logits,
``J = mean(softplus(z) - y z)`` with ``softplus(z) = log(1 + exp(z))``, which
equals ``-mean(y log p + (1 - y) log(1 - p))`` for ``p = sigmoid(z)`` but stays
finite when the sigmoid saturates (the course prints ``inf`` there).

Two output heads:

* ``"sigmoid"`` (the course): one output unit, ``p = sigmoid(z)`` is the
  probability of class 1, binary cross-entropy;
* ``"softmax"``: ``k >= 2`` output units, ``p_j = exp(z_j) / sum_i exp(z_i)``,
  categorical cross-entropy ``J = mean(logsumexp(z) - z_y)``, again from the
  logits (Bridle 1990, "Probabilistic interpretation of feedforward
  classification network outputs").

For both heads ``Y`` holds *integer class labels* of shape ``(1, m)``: values in
{0, 1} for the sigmoid, in {0, ..., k-1} for the softmax (not one-hot rows).

And one regression head, ``"identity"``: ``k >= 1`` output units, the output is
``z[L]`` itself, ``Y`` holds real targets of shape ``(k, m)`` and the loss is half
the mean squared error ``J = (1/2m) sum_i ||z[L]_i - y_i||^2``
(:class:`initlab.heads.IdentityHead`); :func:`predict` returns the outputs and
:func:`accuracy` refuses it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from initlab.activations import get_activation
from initlab.heads import HEADS, Head

__all__ = [
    "Cache",
    "Network",
    "Parameters",
    "accuracy",
    "backward",
    "binary_cross_entropy_from_logits",
    "forward",
    "loss_and_gradients",
    "predict",
    "predict_proba",
    "softmax_cross_entropy_from_logits",
]

OUTPUTS = tuple(HEADS)


@dataclass(frozen=True)
class Network:
    """A fully connected architecture.

    Args:
        layer_sizes: ``(n_0, n_1, ..., n_L)``: input features, hidden widths,
            output units.
        activations: one activation name per hidden layer (``L - 1`` names).
        output: the output head: ``"sigmoid"`` (1 output unit, binary
            cross-entropy), ``"softmax"`` (``k >= 2`` output units,
            categorical cross-entropy) or ``"identity"`` (``k >= 1`` output
            units, regression with half the mean squared error).
    """

    layer_sizes: tuple[int, ...]
    activations: tuple[str, ...]
    output: str = "sigmoid"

    def __post_init__(self) -> None:
        sizes = tuple(self.layer_sizes)
        object.__setattr__(self, "layer_sizes", sizes)
        object.__setattr__(self, "activations", tuple(self.activations))
        if len(sizes) < 2:
            raise ValueError(
                f"layer_sizes must name at least an input and an output size, got {sizes!r}"
            )
        for size in sizes:
            if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
                raise ValueError(f"layer sizes must be positive integers, got {sizes!r}")
        if len(self.activations) != len(sizes) - 2:
            raise ValueError(
                f"{len(sizes) - 2} hidden layer(s) need {len(sizes) - 2} activation(s), "
                f"got {len(self.activations)}: {self.activations!r}"
            )
        for name in self.activations:
            get_activation(name)
        if self.output not in OUTPUTS:
            raise ValueError(f"unknown output {self.output!r}; choose one of: {', '.join(OUTPUTS)}")
        if self.output == "sigmoid" and sizes[-1] != 1:
            raise ValueError(f"a sigmoid output needs 1 output unit, got {sizes[-1]}")
        if self.output == "softmax" and sizes[-1] < 2:
            raise ValueError(f"a softmax output needs at least 2 output units, got {sizes[-1]}")

    @classmethod
    def from_hidden(
        cls,
        n_inputs: int,
        hidden: Sequence[int],
        activation: str,
        n_outputs: int = 1,
        output: str = "sigmoid",
    ) -> Network:
        """``n_inputs -> hidden... -> n_outputs`` with one activation for every hidden layer."""
        sizes = (n_inputs, *hidden, n_outputs)
        return cls(sizes, (activation,) * len(hidden), output)

    @classmethod
    def for_classes(
        cls, n_inputs: int, hidden: Sequence[int], activations: Sequence[str], n_classes: int
    ) -> Network:
        """The usual head for ``n_classes``: a sigmoid unit for 2 classes, a softmax over more."""
        if n_classes < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {n_classes}")
        if n_classes == 2:
            return cls((n_inputs, *hidden, 1), tuple(activations), "sigmoid")
        return cls((n_inputs, *hidden, n_classes), tuple(activations), "softmax")

    def as_dict(self) -> dict[str, Any]:
        """``{"layer_sizes", "activations", "output"}``, JSON-ready (as results record it)."""
        return {
            "layer_sizes": list(self.layer_sizes),
            "activations": list(self.activations),
            "output": self.output,
        }

    @property
    def head(self) -> Head:
        """The output head (:mod:`initlab.heads`): loss, errors, probabilities, prediction."""
        return HEADS[self.output]

    @property
    def n_classes(self) -> int:
        """Number of classes the output head tells apart.

        Raises:
            ValueError: for the regression head ``"identity"``, which has none.
        """
        if not self.head.classifier:
            raise ValueError(
                f"a network with an {self.output!r} output is a regression: it has no classes"
            )
        return 2 if self.output == "sigmoid" else self.layer_sizes[-1]

    @classmethod
    def course(cls) -> Network:
        """The course's ``[2, 10, 5, 1]`` LINEAR-RELU-LINEAR-RELU-LINEAR-SIGMOID network."""
        return cls((2, 10, 5, 1), ("relu", "relu"))

    @property
    def depth(self) -> int:
        """Number of weight layers ``L``."""
        return len(self.layer_sizes) - 1

    @property
    def n_parameters(self) -> int:
        sizes = self.layer_sizes
        return sum(a * b + b for a, b in itertools.pairwise(sizes))


@dataclass
class Parameters:
    """Layer-indexed weights and biases: ``weights[l]`` is ``W[l+1]``."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]

    def copy(self) -> Parameters:
        return Parameters([w.copy() for w in self.weights], [b.copy() for b in self.biases])

    def all_finite(self) -> bool:
        return all(np.isfinite(w).all() for w in self.weights) and all(
            np.isfinite(b).all() for b in self.biases
        )


@dataclass
class Cache:
    """What the backward pass needs: ``activations[l] = a[l]`` (``a[0] = X``)
    and ``preactivations[l] = z[l+1]``."""

    activations: list[np.ndarray]
    preactivations: list[np.ndarray]

    @property
    def logits(self) -> np.ndarray:
        return self.preactivations[-1]


def forward(network: Network, params: Parameters, X: np.ndarray) -> Cache:
    """Run ``X`` (shape ``(n_0, m)``) through the network, keeping every ``z`` and ``a``."""
    a = X
    acts = [X]
    zs = []
    last = network.depth - 1
    for l, (W, b) in enumerate(zip(params.weights, params.biases, strict=True)):
        z = W @ a + b
        zs.append(z)
        if l < last:
            a = get_activation(network.activations[l]).forward(z)
            acts.append(a)
    return Cache(acts, zs)


def binary_cross_entropy_from_logits(logits: np.ndarray, Y: np.ndarray) -> float:
    """``J = (1/m) sum(softplus(z) - y z)``, finite for any finite logits (the sigmoid head's
    loss, :class:`initlab.heads.SigmoidHead`)."""
    return float(HEADS["sigmoid"].loss(np.asarray(logits), Y))


def softmax_cross_entropy_from_logits(logits: np.ndarray, Y: np.ndarray) -> float:
    """``J = (1/m) sum_i (logsumexp(z[:, i]) - z[y_i, i])`` for labels ``Y`` of shape ``(1, m)``
    (the softmax head's loss, :class:`initlab.heads.SoftmaxHead`).

    Equals ``-mean(log softmax(z)[y_i, i])`` but is finite for any finite
    logits: ``logsumexp`` subtracts the column maximum before exponentiating.
    """
    return float(HEADS["softmax"].loss(np.asarray(logits), np.asarray(Y).reshape(1, -1)))


def backward(
    network: Network, params: Parameters, cache: Cache, Y: np.ndarray
) -> tuple[float, Parameters]:
    """Return the cost and its gradients with respect to every ``W[l]`` and ``b[l]``.

    With ``e[L] = sigmoid(z[L]) - Y`` (sigmoid head),
    ``e[L] = softmax(z[L]) - onehot(Y)`` (softmax head) or ``e[L] = z[L] - Y``
    (identity head) and, going down,
    ``dW[l] = (e[l] a[l-1]^T) / m``, ``db[l] = (sum_cols e[l]) / m``,
    ``e[l-1] = (W[l]^T e[l]) * g'(z[l-1])``.

    The ``1/m`` of the mean is applied after the sums, not to each sample's
    error: where the errors are exact (``sigmoid(0) - y = +-1/2`` for zero
    weights) the sums are then exact in any order, so a gradient that is zero
    in exact arithmetic is exactly zero on every machine and every engine.
    """
    logits = cache.logits
    m = logits.shape[1]
    head = network.head
    cost = float(head.loss(logits, Y))
    dz = head.errors(logits, Y)
    grads_w: list[np.ndarray] = [np.empty(0)] * network.depth
    grads_b: list[np.ndarray] = [np.empty(0)] * network.depth
    for l in range(network.depth - 1, -1, -1):
        a_prev = cache.activations[l]
        grads_w[l] = (dz @ a_prev.T) / m
        grads_b[l] = dz.sum(axis=1, keepdims=True) / m
        if l > 0:
            act = get_activation(network.activations[l - 1])
            z_prev = cache.preactivations[l - 1]
            dz = (params.weights[l].T @ dz) * act.derivative(z_prev, a_prev)
    return cost, Parameters(grads_w, grads_b)


def loss_and_gradients(
    network: Network, params: Parameters, X: np.ndarray, Y: np.ndarray
) -> tuple[float, Parameters]:
    """Forward then backward: the cost at ``params`` and its gradients."""
    return backward(network, params, forward(network, params, X), Y)


def predict_proba(network: Network, params: Parameters, X: np.ndarray) -> np.ndarray:
    """Class probabilities for every column of ``X``.

    Sigmoid head: the probability of class 1, shape ``(1, m)``. Softmax head:
    one row per class, shape ``(k, m)``, each column summing to 1. Identity
    head (regression): the outputs ``z[L]``.
    """
    return network.head.probabilities(forward(network, params, X).logits)


def predict(network: Network, params: Parameters, X: np.ndarray) -> np.ndarray:
    """Class labels, shape ``(1, m)``, int.

    Sigmoid head: probability > 0.5, as the course thresholds. Softmax head:
    the class of the largest logit. Identity head (regression): the outputs
    ``z[L]``, shape ``(k, m)``, float.
    """
    return network.head.predict(forward(network, params, X).logits)


def accuracy(network: Network, params: Parameters, X: np.ndarray, Y: np.ndarray) -> float:
    """Fraction of columns of ``X`` whose predicted label equals ``Y``.

    Raises:
        ValueError: for a regression (``"identity"``) head, which predicts no labels.
    """
    if not network.head.classifier:
        raise ValueError(
            f"accuracy needs a classifier; a network with an {network.output!r} output is a "
            "regression (use its loss)"
        )
    return float(np.mean(predict(network, params, X) == Y))
