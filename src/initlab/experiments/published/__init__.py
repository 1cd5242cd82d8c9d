"""Published claims about initialization, reproduced and checked.

Each experiment builds the networks of a paper's or a course's claim, measures
the quantity the claim is about with :mod:`initlab.diagnostics`, and returns an
:class:`~initlab.experiments.published.base.ExperimentResult`: its
:class:`~initlab.experiments.published.base.Check`\\ s (the expected value as
published, the measured one, and whether they agree within a stated tolerance)
and the data behind them. ``quick=True`` runs a smaller instance of the same
claim. One module per experiment, each with a ``run(rng, quick)``:

* :mod:`~initlab.experiments.published.tanh_std`: ``tanh-std``
* :mod:`~initlab.experiments.published.he_depth`: ``he-depth``
* :mod:`~initlab.experiments.published.chaos`: ``chaos``
* :mod:`~initlab.experiments.published.isometry`: ``isometry``
* :mod:`~initlab.experiments.published.edge_of_chaos`: ``edge-of-chaos``
* :mod:`~initlab.experiments.published.lsuv`: ``lsuv``
* :mod:`~initlab.experiments.published.dead_relu`: ``dead-relu``
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from initlab.experiments.published import (
    chaos,
    dead_relu,
    edge_of_chaos,
    he_depth,
    isometry,
    lsuv,
    tanh_std,
)
from initlab.experiments.published.base import Check, ExperimentResult
from initlab.experiments.published.he_depth import finite_width_factor
from initlab.spec import Registry

__all__ = [
    "EXPERIMENTS",
    "Check",
    "ExperimentResult",
    "finite_width_factor",
    "run_experiment",
]

#: every experiment by name
EXPERIMENTS: Registry[Callable[..., ExperimentResult]] = Registry(
    "experiment",
    {
        "tanh-std": tanh_std.run,
        "he-depth": he_depth.run,
        "chaos": chaos.run,
        "isometry": isometry.run,
        "edge-of-chaos": edge_of_chaos.run,
        "lsuv": lsuv.run,
        "dead-relu": dead_relu.run,
    },
)


def run_experiment(name: str, *, seed: int = 0, quick: bool = False) -> ExperimentResult:
    """Run experiment ``name`` (case-insensitive; did-you-mean for a typo) from ``seed``.

    BLAS runs on one thread: the experiments' products are a few hundred wide, where a
    second thread gains little on an idle machine and, on a busy one, loses a lot
    (measured: ``isometry --quick`` 2.4 s on one thread, 40 s on two, with the two
    cores shared by other work).
    """
    from threadpoolctl import threadpool_limits

    experiment = EXPERIMENTS.lookup(name)
    with threadpool_limits(limits=1, user_api="blas"):
        return experiment(np.random.default_rng(seed), quick=quick)
