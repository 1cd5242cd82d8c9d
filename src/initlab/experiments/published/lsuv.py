"""``lsuv``: layer-sequential unit-variance initialization (Mishkin and Matas, "All you
need is a good init", ICLR 2016).

LSUV draws orthonormal weights, then, layer by layer on a batch of data, divides
``W[l]`` by the std of ``z[l]`` until ``|Var(z[l]) - 1| < tol`` (``tol = 0.1``),
at most ``max_iter = 10`` times (:class:`initlab.initializers.lsuv.LSUV`). The
claim: it reaches unit variance in every layer within the tolerance in at most 10
steps, and the network trains at least as well as from He's initialization.

Measured on 15-layer networks of width 128 (ReLU and tanh, biases ``N(0, 0.1^2)``)
on 256 standardized digits: the rescalings per layer, and the variance of every
layer recomputed by an independent forward pass on the same batch. Then a ReLU
network of the same shape from LSUV and from He (``he``, zero biases) is trained
side by side (SGD with momentum 0.9, learning rate 0.01, minibatches of 64, the
same order for both) on the digits, and the test accuracies compared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from initlab.experiments.published.base import ExperimentResult, at_least, at_most
from initlab.initializers import initialize
from initlab.initializers.lsuv import LSUV
from initlab.network import Network, accuracy, forward

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["run"]


def run(rng: np.random.Generator, quick: bool = False) -> ExperimentResult:
    """LSUV reaches unit variance per layer in <= 10 steps, and trains next to He."""
    from initlab.datasets import load_dataset
    from initlab.engine import train_population

    depth, width, epochs = (10, 64, 3) if quick else (15, 128, 10)
    data = load_dataset("digits", seed=0, standardize_features=True)
    batch = data.X_train[:, :256]
    scheme = LSUV(tol=0.1, max_iter=10)
    result = ExperimentResult(
        "lsuv",
        f"LSUV (tol {scheme.tol:g}, at most {scheme.max_iter} rescalings) on {depth}-layer "
        f"networks of width {width}, 256 standardized digits; then trained next to He "
        f"(momentum SGD, lr 0.01, batches of 64, {epochs} epochs)",
        [],
        ylabel="Var(z) per layer after LSUV",
    )
    steps, worst = 0, 0.0
    for activation in ("relu", "tanh"):
        network = Network((64,) + (width,) * depth + (10,), (activation,) * depth, "softmax")
        fitted = scheme.fit(network, rng, batch, "normal(std=0.1)")
        cache = forward(network, fitted.params, batch)
        variances = [float(np.var(z)) for z in cache.preactivations]
        result.curves[f"{activation}, recomputed"] = (variances, None)
        steps = max(steps, *fitted.rescalings)
        worst = max(worst, max(abs(v - 1.0) for v in variances))
    network = Network((64,) + (width,) * depth + (10,), ("relu",) * depth, "softmax")
    starts = [scheme.fit(network, rng, batch).params, initialize(network, "he", rng)]
    trained = train_population(
        network, starts, data.X_train, data.Y_train, optimizer="momentum", learning_rate=0.01,
        epochs=epochs, batch_size=64, rng=rng, backend="numpy",
    )  # fmt: skip
    test = [accuracy(network, p, data.X_test, data.Y_test) for p in trained.params]
    result.checks = [
        at_most("largest number of rescalings of a layer", 10, float(steps), 10),
        at_most(f"largest |Var(z[l]) - 1| over the layers (tol {scheme.tol:g})", 0.0, worst,
                scheme.tol),
        at_least("test accuracy, LSUV - He (trains at least as well)", 0.0,
                 test[0] - test[1], -0.02),
    ]  # fmt: skip
    result.data = {
        "test_accuracy": {"lsuv": test[0], "he": test[1]},
        "costs": {"lsuv": trained.costs[0].tolist(), "he": trained.costs[1].tolist()},
        "updates_per_epoch": trained.costs.shape[1] // epochs,
    }
    result.draw = draw
    return result


def draw(fig: Figure, result: ExperimentResult) -> None:
    """Left: the per-layer variance after LSUV; right: the training costs, LSUV and He."""
    from initlab.plots import plot_layer_std

    left, right = fig.subplots(1, 2)
    curves = [(label, m, p) for label, (m, p) in result.curves.items()]
    plot_layer_std(left, curves, title="LSUV: Var(z) per layer", ylabel=result.ylabel)
    left.axhspan(0.9, 1.1, color="grey", alpha=0.2)
    per_epoch = result.data["updates_per_epoch"]
    for label, costs in result.data["costs"].items():
        costs = np.asarray(costs)
        accuracy_ = result.data["test_accuracy"][label]
        right.plot(np.arange(costs.size) / per_epoch, costs, linewidth=0.8,
                   label=f"{label}: test accuracy {accuracy_:.3f}")  # fmt: skip
    right.set_yscale("log")
    right.set_xlabel("epoch")
    right.set_ylabel("minibatch cost")
    right.set_title("training, LSUV next to He")
    right.grid(alpha=0.3)
    right.legend(fontsize="small")
