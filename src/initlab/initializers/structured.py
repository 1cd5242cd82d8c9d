"""Structured initializers: orthogonal, identity, sparse and ZerO."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from initlab.initializers.base import (
    FRACTION,
    NONNEGATIVE_WEIGHT,
    WEIGHT,
    Moments,
    Rng,
    check_shape,
)
from initlab.spec import Choice, declare

__all__ = ["Identity", "Orthogonal", "Sparse", "ZerO", "hadamard_block"]


@dataclass(frozen=True)
@declare("orthogonal", gain=WEIGHT)
class Orthogonal:
    """A (semi-)orthogonal matrix drawn from the Haar measure, times ``gain``.

    QR-decompose an ``N(0, 1)`` matrix (transposed if wide), then multiply each
    column of Q by the sign of the matching diagonal entry of R, without which
    Q is not Haar-distributed (Mezzadri 2007). The result satisfies
    ``W W^T = gain^2 I`` if ``fan_out <= fan_in`` and ``W^T W = gain^2 I``
    otherwise; every entry has mean 0 and variance ``gain^2 / max(fan_in, fan_out)``.

    Saxe, McClelland and Ganguli, "Exact solutions to the nonlinear dynamics of
    learning in deep linear neural networks", ICLR 2014 (torch ``orthogonal_``).
    """

    gain: float = 1.0

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        rows, cols = check_shape(shape, "orthogonal", matrix=True)
        flat = rng.standard_normal((rows, cols))
        if rows < cols:
            flat = flat.T
        q, r = np.linalg.qr(flat)
        signs = np.sign(np.diag(r))
        signs[signs == 0] = 1.0
        q = q * signs
        if rows < cols:
            q = q.T
        return self.gain * q

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        return Moments(0.0, self.gain**2 / max(fan_in, fan_out))


@dataclass(frozen=True)
@declare("identity", gain=WEIGHT)
class Identity:
    """``gain`` times the (rectangular) identity: ``W_ij = gain`` if ``i == j`` else 0.

    Wide or tall shapes keep the leading square block's diagonal (torch ``eye_``,
    Keras ``Identity``). Le, Jaitly and Hinton, "A Simple Way to Initialize
    Recurrent Networks of Rectified Linear Units", 2015.
    """

    gain: float = 1.0

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        rows, cols = check_shape(shape, "identity", matrix=True)
        return self.gain * np.eye(rows, cols)

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        share = min(fan_in, fan_out) / (fan_in * fan_out)
        return Moments(self.gain * share, self.gain**2 * share)


@dataclass(frozen=True)
@declare("sparse", sparsity=FRACTION, std=NONNEGATIVE_WEIGHT)
class Sparse:
    """Sparse normal: ``N(0, std^2)`` entries, then ``ceil(sparsity * fan_out)`` zeros per column.

    In every column (the outgoing weights of one input unit) a random set of
    ``ceil(sparsity * fan_out)`` rows is zeroed, as torch ``sparse_`` does.
    Martens, "Deep learning via Hessian-free optimization", ICML 2010
    (who kept 15 incoming connections per unit).
    """

    sparsity: float = 0.1
    std: float = 0.01

    def zeros_per_column(self, rows: int) -> int:
        return math.ceil(self.sparsity * rows)

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        rows, cols = check_shape(shape, "sparse", matrix=True)
        weights = rng.standard_normal((rows, cols)) * self.std
        n_zeros = self.zeros_per_column(rows)
        for col in range(cols):
            weights[rng.permutation(rows)[:n_zeros], col] = 0.0
        return weights

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        kept = (fan_out - self.zeros_per_column(fan_out)) / fan_out
        return Moments(0.0, kept * self.std**2)


def hadamard_block(rows: int, cols: int) -> np.ndarray:
    """The top-left ``rows x cols`` block of a Sylvester Hadamard matrix (entries +-1).

    ``H_ij = (-1)^popcount(i & j)``, so no ``2^m x 2^m`` matrix is built.
    """
    bits = np.bitwise_and.outer(np.arange(rows, dtype=np.uint64), np.arange(cols, dtype=np.uint64))
    for shift in (32, 16, 8, 4, 2, 1):
        bits ^= bits >> np.uint64(shift)
    return 1.0 - 2.0 * (bits & np.uint64(1)).astype(np.float64)


ZERO_CONSTANTS = ("code", "paper")


@dataclass(frozen=True)
@declare("zero_hadamard", constant=Choice(ZERO_CONSTANTS))
class ZerO:
    """ZerO: deterministic initialization with only zeros, ones and a Hadamard transform.

    For ``W`` of shape ``(fan_out, fan_in)``:

    * ``fan_out <= fan_in``: the partial identity ``I*`` (``W_ij = 1`` iff ``i == j``);
    * ``fan_out > fan_in``: ``c * I*(fan_out x p) H_p I*(p x fan_in)`` with
      ``p = 2^m``, ``m = ceil(log2(fan_out))`` and ``H_p`` the Sylvester Hadamard
      matrix (+-1 entries), i.e. ``c`` times its top-left block.

    The paper (Algorithm 1) sets ``c = 2^(-(m-1)/2)``; the authors' reference code
    divides by ``2^(m/2)``. initlab defaults to the code's ``c = 2^(-m/2) = 1/sqrt(p)``
    (``constant=code``): ``H_p / sqrt(p)`` is orthogonal, so the layer never
    expands a vector's norm and is an exact isometry (``W^T W = I``) when fan_out
    is a power of two, like the identity branch; it is also what the published
    experiments ran. ``constant=paper`` gives the paper's ``sqrt(2)`` times larger one.

    Zhao, Schäfer and Anandkumar, "ZerO Initialization: Initializing Neural
    Networks with only Zeros and Ones", TMLR 2022.
    """

    constant: str = "code"

    def scale(self, fan_out: int) -> float:
        m = math.ceil(math.log2(fan_out))
        exponent = m / 2 if self.constant == "code" else (m - 1) / 2
        return 2.0**-exponent

    def matrix(self, fan_in: int, fan_out: int) -> np.ndarray:
        if fan_out <= fan_in:
            return np.eye(fan_out, fan_in)
        return self.scale(fan_out) * hadamard_block(fan_out, fan_in)

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        rows, cols = check_shape(shape, "zero_hadamard", matrix=True)
        return self.matrix(cols, rows)

    def moments(self, fan_in: int, fan_out: int) -> Moments:
        w = self.matrix(fan_in, fan_out)
        return Moments(float(w.mean()), float(np.mean(w * w)))
