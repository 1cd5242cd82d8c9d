"""The fast population engine: train many networks of one architecture at once.

:func:`train_population` follows the maths of the reference loop
(:func:`initlab.fit.gradient_descent`) for every model of a population and
returns a :class:`PopulationResult`. Two backends:

* ``"compiled"``: a numba kernel (compiled once, cached on disk) that runs the
  whole iteration loop of a model with the samples as SIMD lanes, matrix
  products in blocks of four multiply-adds per pass over the data, and a
  vectorized ``exp``; models are spread over threads;
* ``"numpy"``: the population stacked into ``(M, n_out, n_in)`` arrays and
  ``np.matmul`` (BLAS): for wide layers, for activations the kernel does not
  know, and when numba is not available.

Importing this package does not import numba; the first compiled training does.
"""

from initlab.engine.layout import Layout, pack, unpack
from initlab.engine.population import (
    BACKENDS,
    WIDE_LAYER,
    WIDE_LAYER_FEW_MODELS,
    PopulationResult,
    choose_backend,
    train_population,
)
from initlab.engine.snapshots import log_spaced

__all__ = [
    "BACKENDS",
    "WIDE_LAYER",
    "WIDE_LAYER_FEW_MODELS",
    "Layout",
    "PopulationResult",
    "choose_backend",
    "log_spaced",
    "pack",
    "train_population",
    "unpack",
]
