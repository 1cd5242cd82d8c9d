"""Output heads: how the logits of the last layer become a loss, errors, probabilities
and predicted labels.

A head is one object used by every training path (the reference loop, the
general loop, the population engine), so the loss and its gradient are written
once. Its functions take logits of shape ``(..., k, m)`` (``k`` output units,
``m`` samples, any leading axes: one network, or a population of ``M``) and
integer labels of shape ``(1, m)`` (or ``(..., 1, m)``).

The classification losses are computed from the logits, so they stay finite when
the output saturates, and their gradient with respect to the logits has the same
form: ``dJ/dz = (p - onehot(y)) / m``. :meth:`Head.errors` returns ``m`` times it,
``p - onehot(y)``; callers divide their sums by ``m`` (see
:func:`initlab.network.backward`).

The regression head :class:`IdentityHead` outputs the logits themselves and
takes real targets ``Y`` of shape ``(k, m)``; with the half mean squared error
its gradient has the same form again, ``dJ/dz = (z - y) / m``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from initlab._special import expit, logsumexp, softmax

__all__ = ["HEADS", "Head", "IdentityHead", "SigmoidHead", "SoftmaxHead", "get_head"]


@dataclass(frozen=True)
class Head:
    """Base class of the output heads."""

    name: ClassVar[str] = ""
    #: whether the head tells classes apart (labels) or regresses real targets
    classifier: ClassVar[bool] = True

    def loss(self, logits: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """The mean loss over the samples (cross-entropy, or half the squared error):
        shape ``logits.shape[:-2]``."""
        raise NotImplementedError

    def errors(self, logits: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """``p - onehot(y)`` (``z - y`` for regression): ``m`` times the gradient of
        :meth:`loss` at the logits."""
        raise NotImplementedError

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """What the network outputs: shape of ``logits``."""
        raise NotImplementedError

    def predict(self, logits: np.ndarray) -> np.ndarray:
        """Integer labels, shape ``(..., 1, m)``."""
        raise NotImplementedError


@dataclass(frozen=True)
class SigmoidHead(Head):
    """One output unit, ``p = sigmoid(z)`` the probability of class 1 (the course).

    Binary cross-entropy from the logits: ``J = mean(softplus(z) - y z)`` with
    ``softplus(z) = log(1 + exp(z))``, equal to ``-mean(y log p + (1 - y) log(1 - p))``
    but finite for any finite logit. ``dJ/dz = (sigmoid(z) - y) / m``.
    """

    name: ClassVar[str] = "sigmoid"

    def loss(self, logits: np.ndarray, Y: np.ndarray) -> np.ndarray:
        terms = np.logaddexp(0.0, logits) - Y * logits
        return np.mean(terms[..., 0, :], axis=-1)

    def errors(self, logits: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return expit(logits) - Y

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return expit(logits)

    def predict(self, logits: np.ndarray) -> np.ndarray:
        """Class 1 where the probability is above 1/2, as the course thresholds."""
        return (expit(logits) > 0.5).astype(np.int64)


@dataclass(frozen=True)
class SoftmaxHead(Head):
    """``k >= 2`` output units, ``p_j = exp(z_j) / sum_i exp(z_i)``.

    Categorical cross-entropy from the logits: ``J = mean(logsumexp(z) - z_y)``
    (Bridle 1990, "Probabilistic interpretation of feedforward classification
    network outputs"); ``logsumexp`` subtracts the largest logit first, so ``J``
    is finite for any finite logits. ``dJ/dz = (softmax(z) - onehot(y)) / m``.
    """

    name: ClassVar[str] = "softmax"

    def loss(self, logits: np.ndarray, Y: np.ndarray) -> np.ndarray:
        labels = np.broadcast_to(np.asarray(Y), (*logits.shape[:-2], 1, logits.shape[-1]))
        picked = np.take_along_axis(logits, labels, axis=-2)[..., 0, :]
        return np.mean(logsumexp(logits, axis=-2) - picked, axis=-1)

    def errors(self, logits: np.ndarray, Y: np.ndarray) -> np.ndarray:
        classes = np.arange(logits.shape[-2]).reshape(-1, 1)
        return softmax(logits, axis=-2) - (classes == np.asarray(Y))

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return softmax(logits, axis=-2)

    def predict(self, logits: np.ndarray) -> np.ndarray:
        """The class of the largest logit."""
        return np.argmax(logits, axis=-2)[..., None, :].astype(np.int64)


@dataclass(frozen=True)
class IdentityHead(Head):
    """``k >= 1`` output units, the output is the logits themselves: regression.

    Targets ``Y`` are real, of shape ``(k, m)``. Half the mean squared error over
    the samples, ``J = (1 / 2m) sum_i ||z_i - y_i||^2`` (the squared error summed over
    the ``k`` outputs of sample ``i``, scikit-learn's ``squared_error`` for ``k = 1``),
    so that ``dJ/dz = (z - y) / m``. With identity hidden activations this is the
    deep linear network of Saxe, McClelland and Ganguli (2014).
    """

    name: ClassVar[str] = "identity"
    classifier: ClassVar[bool] = False

    def loss(self, logits: np.ndarray, Y: np.ndarray) -> np.ndarray:
        residual = logits - Y
        return 0.5 * np.mean(np.sum(residual * residual, axis=-2), axis=-1)

    def errors(self, logits: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return logits - Y

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """The output itself (a regression head has no probabilities): the logits."""
        return logits

    def predict(self, logits: np.ndarray) -> np.ndarray:
        """The predicted targets: the logits, shape ``(..., k, m)``."""
        return logits


#: every head by name
HEADS: dict[str, Head] = {
    head.name: head for head in (SigmoidHead(), SoftmaxHead(), IdentityHead())
}


def get_head(name: str) -> Head:
    """The head called ``name`` (``"sigmoid"``, ``"softmax"`` or ``"identity"``)."""
    try:
        return HEADS[name]
    except KeyError:
        raise ValueError(f"unknown output {name!r}; choose one of: {', '.join(HEADS)}") from None
