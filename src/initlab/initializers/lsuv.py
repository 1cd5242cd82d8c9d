"""Layer-sequential unit-variance (LSUV) initialization, a data-dependent scheme."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from initlab.initializers.base import POSITIVE, POSITIVE_INT, Initializer, Rng
from initlab.initializers.structured import Orthogonal
from initlab.spec import declare

if TYPE_CHECKING:
    from initlab.network import Network, Parameters

__all__ = ["LSUV", "LSUVResult"]


@dataclass
class LSUVResult:
    """The parameters LSUV produced and, per layer, what it reached.

    ``variances[l]`` is ``Var(z[l+1])`` over the batch after the last rescaling,
    ``rescalings[l]`` how many times ``W[l+1]`` was divided, ``converged[l]``
    whether ``|variances[l] - 1| < tol``.
    """

    params: Parameters
    variances: list[float] = field(default_factory=list)
    rescalings: list[int] = field(default_factory=list)
    converged: list[bool] = field(default_factory=list)


@dataclass(frozen=True)
@declare("lsuv", tol=POSITIVE, max_iter=POSITIVE_INT)
class LSUV:
    """LSUV: orthonormal weights, then each layer rescaled to unit output variance on data.

    1. Draw every ``W[l]`` orthonormal (``orthogonal(gain=1)``) and ``b[l]`` from
       the bias initializer, in the usual order.
    2. For ``l = 1..L``: compute ``z[l] = W[l] a[l-1] + b[l]`` on the batch; while
       ``|Var(z[l]) - 1| >= tol`` and fewer than ``max_iter`` rescalings were made,
       set ``W[l] <- W[l] / sqrt(Var(z[l]))``. ``Var`` is over all units and examples.
       With zero biases one rescaling is exact.

    Data-dependent: use it through ``initialize(network, "lsuv", rng, data=X)``
    or :meth:`fit` (which also returns the variance reached per layer).

    Mishkin and Matas, "All you need is a good init", ICLR 2016.
    """

    tol: float = 0.1
    max_iter: int = 10
    data_dependent: ClassVar[bool] = True

    def __call__(self, rng: Rng, shape: tuple[int, ...]) -> np.ndarray:
        raise ValueError(
            "lsuv is data-dependent and cannot draw a single array; "
            "use initialize(network, 'lsuv', rng, data=X)"
        )

    def fit(
        self, network: Network, rng: Rng, X: np.ndarray, bias_init: Initializer | str = "zeros"
    ) -> LSUVResult:
        """Run LSUV on ``network`` with the batch ``X`` (shape ``(n_0, m)``)."""
        from initlab.activations import get_activation
        from initlab.initializers.apply import check_data, initialize

        X = check_data(network, X)
        params = initialize(network, Orthogonal(1.0), rng, bias_init)
        result = LSUVResult(params)
        a = X
        for l, (W, b) in enumerate(zip(params.weights, params.biases, strict=True)):
            rescalings = 0
            z = W @ a + b
            variance = float(np.var(z))
            while abs(variance - 1.0) >= self.tol and rescalings < self.max_iter:
                if not (math.isfinite(variance) and variance > 0):
                    raise ValueError(
                        f"lsuv: layer {l + 1} has output variance {variance} on the data batch; "
                        "it cannot be rescaled to 1 (constant or degenerate data?)"
                    )
                W /= math.sqrt(variance)
                rescalings += 1
                z = W @ a + b
                variance = float(np.var(z))
            result.variances.append(variance)
            result.rescalings.append(rescalings)
            result.converged.append(abs(variance - 1.0) < self.tol)
            if l < network.depth - 1:
                a = get_activation(network.activations[l]).forward(z)
        return result

    def initialize_network(
        self, network: Network, rng: Rng, X: np.ndarray, bias_init: Initializer | str
    ) -> Parameters:
        return self.fit(network, rng, X, bias_init).params

    def moments(self, fan_in: int, fan_out: int) -> None:
        return None
