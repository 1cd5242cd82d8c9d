"""JAX peers of the engine benchmark: the same jobs, written the fastest honest way in JAX.

Installed with the optional ``bench`` extra (``pip install -e '.[bench]'``: ``jax[cpu]``);
without jax every function here returns ``None`` and the benchmark notes the skip.

Each peer trains exactly initlab's job in float64 (``jax_enable_x64``): the same
architecture (ReLU hidden layers, the head's loss from the logits), the same starting
parameters, the same optimizer written as :mod:`initlab.optimizers` writes it, and, with
minibatches, the same per-epoch permutations (the ones :func:`initlab.fit.fit` draws,
one order for every model). The whole training is one ``jax.jit`` of ``jax.vmap`` over the
models of a ``lax.scan`` (over iterations; with minibatches, over epochs and, inside each
epoch, over its full minibatches, the smaller last one stepped after them), recording the
cost before every update as initlab does. Gradients are ``jax.value_and_grad`` of the
loss. Compilation (``lower().compile()``) is timed apart from the training; the training
is the best of ``repeats`` calls of the compiled function, each on the device-resident
inputs and waited for with ``block_until_ready``.

The cost curves come back too, so that the benchmark checks that JAX trained the same
thing (to rounding) before quoting its time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from initlab.network import Parameters


@dataclass
class JaxRun:
    """What a JAX peer returns: ``seconds`` (best training call, compilation excluded),
    ``compile_s``, every model's ``costs`` ``(M, updates)`` and final ``params``, and
    ``cpu_per_wall``, the process's CPU time over the wall time of that best call (about
    the number of cores XLA kept busy)."""

    seconds: float
    compile_s: float
    cpu_per_wall: float
    costs: np.ndarray
    params: list[Parameters]
    version: str


def _jax() -> Any | None:
    """The ``jax`` module with float64 enabled, or ``None`` when it is not installed."""
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax


def available() -> bool:
    """Whether jax can be imported (the ``bench`` extra)."""
    return _jax() is not None


def _stack(starts: list[Parameters]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per layer ``(W (M, n_l, n_{l-1}), b (M, n_l, 1))``, float64."""
    return [
        (
            np.stack([p.weights[layer] for p in starts]).astype(np.float64),
            np.stack([p.biases[layer] for p in starts]).astype(np.float64),
        )
        for layer in range(len(starts[0].weights))
    ]


def _unstack(layers: list[tuple[Any, Any]], M: int) -> list[Parameters]:
    arrays = [(np.asarray(W), np.asarray(b)) for W, b in layers]
    return [Parameters([W[i] for W, _ in arrays], [b[i] for _, b in arrays]) for i in range(M)]


def _loss_fn(jax: Any, head: str):
    """``loss(layers, X, y)`` of one model: ReLU hidden layers, the head's mean loss from
    the logits (``mean(softplus(z) - y z)`` for the sigmoid, ``mean(logsumexp(z) - z_y)``
    for the softmax), as :mod:`initlab.heads` defines them. ``jax.nn.relu``'s derivative
    at 0 is 0, as initlab's (``jnp.maximum`` would split it in halves)."""
    jnp = jax.numpy

    def loss(layers, X, y):
        a = X
        for W, b in layers[:-1]:
            a = jax.nn.relu(W @ a + b)
        W, b = layers[-1]
        z = W @ a + b
        if head == "sigmoid":
            return jnp.mean(jnp.logaddexp(0.0, z[0]) - y * z[0])
        picked = jnp.take_along_axis(z, y[None, :], axis=0)[0]
        return jnp.mean(jax.nn.logsumexp(z, axis=0) - picked)

    return loss


def _run(jax: Any, fn, args: tuple, M: int, repeats: int) -> JaxRun:
    """Compile ``jax.jit(fn)`` for ``args`` (timed), then the best of ``repeats`` calls;
    ``fn`` returns the final layers and the costs."""
    t = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_s = time.perf_counter() - t
    args = jax.device_put(args)
    jax.block_until_ready(args)
    best, cpu, out = float("inf"), 0.0, None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        out = jax.block_until_ready(compiled(*args))
        seconds = time.perf_counter() - t
        if seconds < best:
            best, cpu = seconds, time.process_time() - c
    final, costs = out
    return JaxRun(best, compile_s, cpu / best, np.asarray(costs), _unstack(final, M),
                  jax.__version__)  # fmt: skip


def course_population(
    X: np.ndarray,
    Y: np.ndarray,
    starts: list[Parameters],
    iterations: int,
    learning_rate: float,
    repeats: int = 2,
) -> JaxRun | None:
    """Full-batch gradient descent (``theta <- theta - eta g``) of a sigmoid-head ReLU
    network for every start, ``iterations`` updates: ``jit(vmap(scan))``."""
    jax = _jax()
    if jax is None:
        return None
    lax = jax.lax
    value_and_grad = jax.value_and_grad(_loss_fn(jax, "sigmoid"))

    def train(layers, X, y):
        def step(layers, _):
            cost, grads = value_and_grad(layers, X, y)
            layers = jax.tree_util.tree_map(lambda p, g: p - learning_rate * g, layers, grads)
            return layers, cost

        return lax.scan(step, layers, None, length=iterations)

    layers = _stack(starts)
    fn = jax.vmap(train, in_axes=(0, None, None))
    args = (layers, np.asarray(X, np.float64), np.asarray(Y, np.float64).reshape(-1))
    return _run(jax, fn, args, len(starts), repeats)


def adam_population(
    X: np.ndarray,
    Y: np.ndarray,
    starts: list[Parameters],
    orders: np.ndarray,
    batch: int,
    learning_rate: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    head: str = "softmax",
    repeats: int = 2,
) -> JaxRun | None:
    """Adam on minibatches of ``batch`` for every start, one epoch per row of ``orders``
    (``(epochs, m)``, the permutation of each epoch): ``jit(vmap(scan over epochs of scan
    over minibatches))``.

    Adam as :class:`initlab.optimizers.Adam` (and torch) writes it, bias-corrected:
    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``theta <- theta - eta (m / c1) / (sqrt(v / c2) + eps)`` with ``c1 = 1 - b1^t``,
    ``c2 = 1 - b2^t`` computed in Python floats for ``t = 1..updates``, as initlab does.
    """
    jax = _jax()
    if jax is None:
        return None
    jnp, lax = jax.numpy, jax.lax
    epochs, m = orders.shape
    full, rest = divmod(m, batch)
    per_epoch = full + (rest > 0)
    t = range(1, epochs * per_epoch + 1)
    c1 = np.array([1.0 - beta1**k for k in t]).reshape(epochs, per_epoch)
    c2 = np.array([1.0 - beta2**k for k in t]).reshape(epochs, per_epoch)
    value_and_grad = jax.value_and_grad(_loss_fn(jax, head))
    tree_map = jax.tree_util.tree_map

    def step(state, xs):
        layers, mo, ve = state
        Xb, yb, k1, k2 = xs
        cost, g = value_and_grad(layers, Xb, yb)
        mo = tree_map(lambda a, b: beta1 * a + (1.0 - beta1) * b, mo, g)
        ve = tree_map(lambda a, b: beta2 * a + (1.0 - beta2) * b * b, ve, g)
        layers = tree_map(
            lambda p, a, b: p - learning_rate * (a / k1) / (jnp.sqrt(b / k2) + eps), layers, mo, ve
        )
        return (layers, mo, ve), cost

    def train(layers, X, y, orders, c1, c2):
        n0 = X.shape[0]

        def epoch(state, xs):
            order, k1, k2 = xs
            Xe, ye = X[:, order], y[order]
            Xb = Xe[:, : full * batch].reshape(n0, full, batch).transpose(1, 0, 2)
            yb = ye[: full * batch].reshape(full, batch)
            state, costs = lax.scan(step, state, (Xb, yb, k1[:full], k2[:full]))
            if rest:
                last = (Xe[:, full * batch :], ye[full * batch :], k1[full], k2[full])
                state, cost = step(state, last)
                costs = jnp.concatenate([costs, cost[None]])
            return state, costs

        zeros = tree_map(jnp.zeros_like, layers)
        (layers, _, _), costs = lax.scan(epoch, (layers, zeros, zeros), (orders, c1, c2))
        return layers, costs.reshape(-1)

    layers = _stack(starts)
    fn = jax.vmap(train, in_axes=(0, None, None, None, None, None))
    y = np.asarray(Y).reshape(-1).astype(np.int64 if head == "softmax" else np.float64)
    args = (layers, np.asarray(X, np.float64), y, np.asarray(orders, np.int64), c1, c2)
    return _run(jax, fn, args, len(starts), repeats)


def max_relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """``max |a - b| / |b|`` over every entry (``b`` nonzero: costs are positive)."""
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.abs(np.asarray(b))))
