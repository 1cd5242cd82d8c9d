"""The initializer catalogue.

An initializer is a callable ``init(rng, shape) -> ndarray``. ``shape`` is
``(fan_out, fan_in)`` for a weight matrix (initlab stores ``W[l]`` with shape
``(n_l, n_{l-1})`` and computes ``z = W a + b``) and ``(fan_out, 1)`` for a
bias column. ``rng`` is a :class:`numpy.random.Generator` or, where the exact
numbers of the deeplearning.ai course are wanted, a legacy
:class:`numpy.random.RandomState`; initializers only call methods both share
(``standard_normal``, ``normal``, ``uniform``, ``permutation``), so the same
initializer gives the course stream from ``RandomState(3)``.

Modules: :mod:`.base` (interface, fans, checks), :mod:`.simple` (constants,
plain draws, the course's schemes), :mod:`.variance_scaling` (the engine,
Glorot/He/LeCun and framework defaults), :mod:`.structured` (orthogonal,
identity, sparse, ZerO), :mod:`.lsuv` (data-dependent LSUV),
:mod:`.registry` (names, specs, custom code, entry points) and :mod:`.apply`
(:func:`initialize`).
"""

from initlab.initializers.apply import initialize
from initlab.initializers.base import Initializer, Moments, Rng, fans
from initlab.initializers.lsuv import LSUV, LSUVResult
from initlab.initializers.registry import (
    ALIASES,
    CATALOGUE,
    ENTRY_POINT_GROUP,
    INITIALIZERS,
    InitializerInfo,
    canonical_initializer,
    get_initializer,
    initializer_info,
    initializer_names,
)
from initlab.initializers.simple import (
    Constant,
    He,
    Normal,
    Ones,
    RandomNormal,
    TruncatedNormal,
    Uniform,
    Zeros,
)
from initlab.initializers.structured import Identity, Orthogonal, Sparse, ZerO
from initlab.initializers.variance_scaling import (
    TRUNCATED_STD,
    KerasDense,
    SklearnMLP,
    TorchLinear,
    VarianceScaling,
    glorot_normal,
    glorot_normal_truncated,
    glorot_uniform,
    he_normal,
    he_normal_truncated,
    he_uniform,
    lecun_normal,
    lecun_normal_truncated,
    lecun_uniform,
)

__all__ = [
    "ALIASES",
    "CATALOGUE",
    "ENTRY_POINT_GROUP",
    "INITIALIZERS",
    "LSUV",
    "TRUNCATED_STD",
    "Constant",
    "He",
    "Identity",
    "Initializer",
    "InitializerInfo",
    "KerasDense",
    "LSUVResult",
    "Moments",
    "Normal",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "Rng",
    "SklearnMLP",
    "Sparse",
    "TorchLinear",
    "TruncatedNormal",
    "Uniform",
    "VarianceScaling",
    "ZerO",
    "Zeros",
    "canonical_initializer",
    "fans",
    "get_initializer",
    "glorot_normal",
    "glorot_normal_truncated",
    "glorot_uniform",
    "he_normal",
    "he_normal_truncated",
    "he_uniform",
    "initialize",
    "initializer_info",
    "initializer_names",
    "lecun_normal",
    "lecun_normal_truncated",
    "lecun_uniform",
]
