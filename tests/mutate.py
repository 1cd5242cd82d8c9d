"""Mutation testing: plant small plausible bugs in the core, one at a time, and see the tests fail.

Usage (from the repository root, in the project's environment)::

    python tests/mutate.py                 # every mutant, 2 jobs
    python tests/mutate.py --list          # the mutants, their files and their tests
    python tests/mutate.py --only 'kernel.*' --only network.predict_ge
    python tests/mutate.py --jobs 4

Each mutant in :data:`MUTANTS` is one plain text replacement, ``original -> mutated``, in one
file of ``src/initlab``. The working tree is never modified: every job copies ``src/``,
``tests/`` and ``pyproject.toml`` into its own temporary directory, plants a mutant there,
runs that mutant's own selection of test files with ``pytest -x -q -p no:cacheprovider``
(``PYTHONPATH`` pointing at the copy's ``src``), then puts the original file back (its
modification time too). Temporary directories are removed at the end, also after Ctrl-C
(or SIGTERM, SIGHUP), which kills the running tests first.
A mutant is *killed* when its tests fail (or cannot even be collected, or exceed the time
limit) and *survives* when they pass.

Safeguards:

* a mutant whose ``original`` snippet is not found exactly once in its file (the code
  changed under it: a *stale* mutant) stops the run before anything is tested, listing every
  stale mutant: it is never counted as killed;
* a baseline run of the union of the selected test files on the unmutated copy comes first;
  its failing tests (a known machine-specific failure, say) are deselected from every mutant
  run and listed, so that they cannot "kill" anything; a baseline that cannot run stops it;
* the copy must be what the tests import (checked before the baseline), and bytecode is not
  written (``PYTHONDONTWRITEBYTECODE``), so no stale ``.pyc`` of another mutant is loaded;
* numba caches the compiled kernel on disk (``cache=True``): every job has its own
  ``NUMBA_CACHE_DIR`` inside its copy, and a mutant of a file holding ``@njit`` code gets a
  fresh, empty one, so a mutated kernel is never loaded by another run and vice versa.

Exit status: 0 when the score reaches ``--fail-under`` (default 90%), 1 when it does not,
2 for stale mutants, a failing set-up or an interrupted run.

Run time, measured on a 2-core machine with ``--jobs 2``: 3 to 7 minutes for the whole list
of 93 mutants, a baseline of about 40 s included (a mutant of the compiled kernel recompiles
it, about 10 s, before its engine tests run; the others take 2 to 10 s each, as ``-x`` stops
at the first failing test). ``--all-tests`` runs the whole suite for each mutant instead
(about a minute each): use it with ``--only`` to confirm that a survivor survives everything.

The reports in spans, per-model orders, GELU's series and grid-search mutants (16, with the
five kernel and runs mutants brought up to the staged kernel) were each killed, run with
``--only``. Score when this list was written: 88 of 88 killed (the kernel's optimizer, head,
minibatch and ELU mutants added since were each killed, run with ``--only``); 69 of 88
(78%) with the tests as they
were before ``tests/test_oracles_*.py`` (70 with ``--all-tests``: an error message of
``test_cli_train.py`` happens to count the training samples), the 19 survivors then being
the ReLU and leaky ReLU
derivatives at exactly 0, predict with ``>= 0.5``, LSUV's ``converged`` tolerance, optimizer
state kept by ``reset`` or ``fit`` (Adam, momentum), one generator shared by every
``--init``, the kernel's divergence slot with one thread, the fast engine reporting a
non-finite cost, the unscaled test part, unshuffled or wrongly sized split parts, the
gaussians' centres, results.json written in place, swallowed write failures, an OSError
exiting 0.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path("src") / "initlab"


@dataclass(frozen=True)
class Mutant:
    """One planted bug: ``original`` replaced by ``mutated`` in ``src/initlab/<path>``."""

    name: str
    path: str
    original: str
    mutated: str
    description: str
    tests: tuple[str, ...]


# --- which tests each kind of mutant runs (the files most likely to fail come first) --------

NET = ("tests/test_oracles_network.py", "tests/test_network.py", "tests/test_softmax.py")
ACT = ("tests/test_oracles_network.py", "tests/test_activations.py", "tests/test_network.py")
INIT = ("tests/test_oracles_initializers.py", "tests/test_initializers.py")
OPT = ("tests/test_oracles_training.py", "tests/test_optimizers.py")
ENGINE = ("tests/test_oracles_engine.py", "tests/test_engine.py", "tests/test_train_engine.py")
DATA = ("tests/test_oracles_data.py", "tests/test_datasets.py")
CLI = ("tests/test_oracles_cli.py", "tests/test_cli_course.py", "tests/test_cli_train.py")
COURSE = ("tests/test_course.py",)
TRAIN = ("tests/test_oracles_training.py", "tests/test_train_engine.py", "tests/test_cli_train.py")

KERNEL = "engine/_kernel.py"
#: the kernel's optimizers, heads, activations and minibatches against fit
KERNEL_GENERAL = ("tests/test_population_general.py", "tests/test_engine.py")
#: the kernel's activation stages against initlab.activations and SciPy
KERNEL_ACT = ("tests/test_engine_kernel.py", "tests/test_population_general.py")
#: reports while training: the run in spans, against one call
SPANS = ("tests/test_engine_spans.py", "tests/test_engine.py")
#: minibatch orders, one per model or one for all
ORDERS = ("tests/test_engine_rng_inputs.py", "tests/test_population_general.py")
SEARCH = ("tests/test_sklearn_search.py",)


def _m(name: str, path: str, original: str, mutated: str, description: str, tests) -> Mutant:
    return Mutant(name, path, original, mutated, description, tuple(dict.fromkeys(tests)))


# fmt: off
MUTANTS: list[Mutant] = [
    # --- network: forward, loss, backward, predict ---------------------------------------
    _m("network.forward_minus_bias", "network.py",
       "z = W @ a + b", "z = W @ a - b",
       "forward subtracts the bias", NET),
    _m("network.forward_first_activation", "network.py",
       "a = get_activation(network.activations[l]).forward(z)",
       "a = get_activation(network.activations[0]).forward(z)",
       "forward uses the first hidden activation for every layer", NET + ACT[1:]),
    _m("network.loss_sum", "heads.py",
       "return np.mean(terms[..., 0, :], axis=-1)",
       "return np.sum(terms[..., 0, :], axis=-1)",
       "binary cross-entropy summed instead of averaged", NET + COURSE),
    _m("network.loss_sign", "heads.py",
       "terms = np.logaddexp(0.0, logits) - Y * logits",
       "terms = np.logaddexp(0.0, -logits) - Y * logits",
       "softplus of -z in the binary cross-entropy", NET + COURSE),
    _m("network.backward_no_1_over_m", "network.py",
       "grads_w[l] = (dz @ a_prev.T) / m", "grads_w[l] = dz @ a_prev.T",
       "weight gradients not divided by m (gradient of the sum)", NET + COURSE),
    _m("network.backward_bias_mean", "network.py",
       "grads_b[l] = dz.sum(axis=1, keepdims=True)", "grads_b[l] = dz.mean(axis=1, keepdims=True)",
       "bias gradient averaged over the batch twice", NET),
    _m("network.backward_derivative_of_a", "network.py",
       "act.derivative(z_prev, a_prev)", "act.derivative(a_prev, a_prev)",
       "activation derivative evaluated at a instead of z", ACT),
    _m("network.softmax_no_1_over_m", "heads.py",
       "return softmax(logits, axis=-2) - (classes == np.asarray(Y))",
       "return softmax(logits, axis=-2) - (classes == np.asarray(Y)) / 2",
       "softmax error signal with half the one-hot target", NET),
    _m("network.predict_ge", "heads.py",
       "return (expit(logits) > 0.5).astype(np.int64)",
       "return (expit(logits) >= 0.5).astype(np.int64)",
       "predict calls p = 0.5 class 1 (the course thresholds p > 0.5)", NET + COURSE),
    _m("network.predict_softmax_min", "heads.py",
       "np.argmax(logits, axis=-2)", "np.argmin(logits, axis=-2)",
       "softmax head predicts the least likely class", NET),
    _m("heads.identity_no_half", "heads.py",
       "return 0.5 * np.mean(np.sum(residual * residual, axis=-2), axis=-1)",
       "return np.mean(np.sum(residual * residual, axis=-2), axis=-1)",
       "regression loss without its 1/2 (its gradient is no longer z - y)",
       ("tests/test_heads_identity.py",)),
    _m("engine.identity_head_not_refused", "engine/population.py",
       "    if not network.head.classifier:\n", "    if False:\n",
       "the population engine trains a regression head it does not support",
       ("tests/test_heads_identity.py",)),
    # --- activations ----------------------------------------------------------------------
    _m("activations.relu_derivative_at_0", "activations.py",
       "derivative=lambda z, a: (z > 0).astype(z.dtype)",
       "derivative=lambda z, a: (z >= 0).astype(z.dtype)",
       "ReLU derivative 1 at z = 0 (documented: 0)", ACT),
    _m("activations.leaky_derivative_at_0", "activations.py",
       "derivative=lambda z, a: np.where(z > 0, 1.0, slope)",
       "derivative=lambda z, a: np.where(z >= 0, 1.0, slope)",
       "leaky ReLU derivative 1 at z = 0 (documented: slope)", ACT),
    _m("activations.leaky_gain", "activations.py",
       "gain=math.sqrt(2.0 / (1.0 + slope * slope))", "gain=math.sqrt(2.0 / (1.0 + slope))",
       "leaky ReLU gain with slope instead of slope^2", ACT),
    _m("activations.tanh_derivative", "activations.py",
       "derivative=lambda z, a: 1.0 - a * a", "derivative=lambda z, a: 1.0 - a",
       "tanh derivative 1 - a", ACT),
    _m("activations.sigmoid_derivative", "activations.py",
       "derivative=lambda z, a: a * (1.0 - a)", "derivative=lambda z, a: a * (1.0 + a)",
       "sigmoid derivative a (1 + a)", ACT),
    _m("activations.elu_derivative", "activations.py",
       "np.where(z > 0, 1.0, a + alpha)", "np.where(z > 0, 1.0, alpha * a)",
       "ELU derivative alpha (exp(z) - 1) on the negative side", ACT),
    _m("activations.selu_derivative", "activations.py",
       "np.where(z > 0, SELU_LAMBDA, a + scale)", "np.where(z > 0, SELU_LAMBDA, a + SELU_ALPHA)",
       "SELU derivative offset alpha instead of lambda alpha", ACT),
    _m("activations.gelu_derivative", "activations.py",
       "return ndtr(z) + z * _INV_SQRT_2PI * np.exp(-0.5 * z * z)",
       "return ndtr(z) + _INV_SQRT_2PI * np.exp(-0.5 * z * z)",
       "GELU derivative Phi(z) + phi(z) (z dropped)", ACT),
    _m("activations.silu_derivative", "activations.py",
       "return s * (1.0 + z * (1.0 - s))", "return s * (1.0 + z * s)",
       "SiLU derivative with s instead of 1 - s", ACT),
    _m("activations.selu_gain", "activations.py",
       "gain=0.75,", "gain=1.0,",
       "SELU gain 1 instead of torch's 3/4", ACT),
    _m("activations.rule_gain_one_side", "activations.py",
       "return 1.0 / math.sqrt(left + right)", "return 1.0 / math.sqrt(right)",
       "second-moment gain integrates the positive side only", ACT),
    # --- initializers ---------------------------------------------------------------------
    _m("init.fan_avg_sum", "initializers/variance_scaling.py",
       "return (fan_in + fan_out) / 2.0", "return float(fan_in + fan_out)",
       "fan_avg is the sum of the fans", INIT),
    _m("init.fan_out_is_fan_in", "initializers/variance_scaling.py",
       "return float(fan_out)", "return float(fan_in)",
       "mode fan_out uses fan_in", INIT),
    _m("init.fan_geo_avg", "initializers/variance_scaling.py",
       "return math.sqrt(fan_in * fan_out)", "return math.sqrt(fan_in + fan_out)",
       "fan_geo_avg sqrt of the sum", INIT),
    _m("init.normal_variance_as_std", "initializers/variance_scaling.py",
       "rng.standard_normal(shape) * math.sqrt(variance)", "rng.standard_normal(shape) * variance",
       "normal distribution scaled by the variance instead of the std", INIT),
    _m("init.truncation_constant_times", "initializers/variance_scaling.py",
       "std = math.sqrt(variance) / TRUNCATED_STD", "std = math.sqrt(variance) * TRUNCATED_STD",
       "truncated normal multiplied by the truncation constant", INIT),
    _m("init.truncation_constant_value", "initializers/variance_scaling.py",
       "TRUNCATED_STD = 0.87962566103423978", "TRUNCATED_STD = 0.88",
       "truncation constant rounded to 0.88", INIT),
    _m("init.truncated_at_3", "initializers/variance_scaling.py",
       "truncated_standard_normal(rng, -2.0, 2.0, shape)",
       "truncated_standard_normal(rng, -3.0, 3.0, shape)",
       "variance scaling truncates at 3 std", INIT),
    _m("init.uniform_limit", "initializers/variance_scaling.py",
       "limit = math.sqrt(3.0 * variance)", "limit = math.sqrt(variance)",
       "uniform limit sqrt(scale / n) instead of sqrt(3 scale / n)", INIT),
    _m("init.kaiming_slope", "initializers/variance_scaling.py",
       "return 2.0 / (1.0 + a * a)", "return 2.0 / (1.0 + a)",
       "he's leaky_relu gain with a instead of a^2", INIT),
    _m("init.glorot_gain_not_squared", "initializers/variance_scaling.py",
       'return VarianceScaling(gain**2, "fan_avg", "normal")',
       'return VarianceScaling(gain, "fan_avg", "normal")',
       "glorot_normal scale gain instead of gain^2", INIT),
    _m("init.torch_linear_moments", "initializers/variance_scaling.py",
       "return Moments(0.0, 1.0 / (3.0 * fan_in))", "return Moments(0.0, 1.0 / fan_in)",
       "torch_linear reports variance 1 / fan_in", INIT),
    _m("init.orthogonal_no_sign_fix", "initializers/structured.py",
       "q = q * signs", "q = q * 1.0",
       "orthogonal without the sign correction (not Haar)", INIT),
    _m("init.orthogonal_no_gain", "initializers/structured.py",
       "return self.gain * q", "return q",
       "orthogonal ignores its gain", INIT),
    _m("init.sparse_floor", "initializers/structured.py",
       "return math.ceil(self.sparsity * rows)", "return math.floor(self.sparsity * rows)",
       "sparse zeroes floor(sparsity * rows) per column", INIT),
    _m("init.zero_hadamard_floor", "initializers/structured.py",
       "m = math.ceil(math.log2(fan_out))", "m = math.floor(math.log2(fan_out))",
       "ZerO's Hadamard size from floor(log2(fan_out))", INIT),
    _m("init.normal_moments_no_mean", "initializers/simple.py",
       "return Moments(self.mean, self.mean**2 + self.std**2)",
       "return Moments(self.mean, self.std**2)",
       "normal's second moment forgets the mean", INIT),
    _m("init.he_fan_out", "initializers/simple.py",
       "rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)",
       "rng.standard_normal(shape) * np.sqrt(2.0 / fan_out)",
       "the course's he scaled by fan_out", INIT + COURSE),
    _m("init.lsuv_converged_loose", "initializers/lsuv.py",
       "result.converged.append(abs(variance - 1.0) < self.tol)",
       "result.converged.append(abs(variance - 1.0) < 2 * self.tol)",
       "LSUV's converged flag uses twice the tolerance", INIT),
    _m("init.lsuv_divide_by_variance", "initializers/lsuv.py",
       "W /= math.sqrt(variance)", "W /= variance",
       "LSUV divides by the variance instead of the std", INIT),
    _m("init.lsuv_no_activation", "initializers/lsuv.py",
       "a = get_activation(network.activations[l]).forward(z)", "a = z",
       "LSUV feeds the pre-activations to the next layer", INIT),
    # --- optimizers and the training loop -------------------------------------------------
    _m("optim.adam_no_m_correction", "optimizers.py",
       "m_hat = m / (1.0 - self.beta1**self.t)", "m_hat = m",
       "Adam without the first-moment bias correction", OPT),
    _m("optim.adam_v_correction_no_t", "optimizers.py",
       "v_hat = v / (1.0 - self.beta2**self.t)", "v_hat = v / (1.0 - self.beta2)",
       "Adam's second-moment correction without the power t", OPT),
    _m("optim.adam_v_beta1", "optimizers.py",
       "v = self.beta2 * v + (1.0 - self.beta2) * grad * grad",
       "v = self.beta2 * v + (1.0 - self.beta1) * grad * grad",
       "Adam's second moment weighted with 1 - beta1", OPT),
    _m("optim.adam_m_no_weight", "optimizers.py",
       "m = self.beta1 * m + (1.0 - self.beta1) * grad", "m = self.beta1 * m + grad",
       "Adam's first moment without the 1 - beta1 weight", OPT),
    _m("optim.adam_eps_inside", "optimizers.py",
       "(np.sqrt(v_hat) + self.eps)", "np.sqrt(v_hat + self.eps)",
       "Adam's eps under the square root", OPT),
    _m("optim.adam_reset_keeps_moments", "optimizers.py",
       "        super().reset()\n        self._moments = {}", "        super().reset()",
       "Adam's reset keeps the moments (state carried into the next run)", OPT),
    _m("optim.momentum_ema", "optimizers.py",
       "self.beta * velocity + grad", "self.beta * velocity + (1.0 - self.beta) * grad",
       "momentum velocity as an exponential average", OPT),
    _m("optim.momentum_reset_keeps_velocity", "optimizers.py",
       "        super().reset()\n        self._velocity = {}", "        super().reset()",
       "momentum's reset keeps the velocity (state carried into the next run)", OPT),
    _m("optim.momentum_velocity_not_stored", "optimizers.py",
       "self._velocity[key] = velocity", "pass",
       "momentum never stores its velocity", OPT),
    _m("optim.decay_on_biases", "optimizers.py",
       'if decay and kind == "w":', "if decay:",
       "weight decay applied to the biases too", OPT),
    _m("fit.no_reset", "fit.py",
       "    optimizer.reset()\n", "",
       "fit does not reset the optimizer (state carried from one --init's run into the next)",
       OPT + TRAIN[1:]),
    _m("fit.no_shuffle", "fit.py",
       "order = rng.permutation(m)", "order = np.arange(m)",
       "minibatches never shuffled", OPT),
    _m("fit.batch_off_by_one", "fit.py",
       "columns = order[position * batch : (position + 1) * batch]",
       "columns = order[position * batch : (position + 1) * batch - 1]",
       "every minibatch drops its last sample", OPT),
    # --- engine: the compiled kernel (activations, update, divergence, padding) -----------
    _m("kernel.diverged_at_other_slot", KERNEL,
       "diverged_at[model] = it", "diverged_at[lo] = it",
       "divergence iteration written into the first model of the thread's range "
       "(visible with threads=1)", ENGINE),
    _m("kernel.costs_other_slot", KERNEL,
       "costs[model, it] = cost", "costs[lo, it] = cost",
       "costs written into the first model of the thread's range", ENGINE),
    _m("kernel.relu_derivative_at_0", KERNEL,
       "(1.0 if H[ao + q] > 0.0 else 0.0)", "(1.0 if H[ao + q] >= 0.0 else 0.0)",
       "kernel ReLU derivative 1 at z = 0", ENGINE),
    _m("kernel.tanh_derivative", KERNEL,
       "D[do + q] = D[do + q] * (1.0 - a * a)", "D[do + q] = D[do + q] * (1.0 - a)",
       "kernel tanh derivative 1 - a", ENGINE),
    _m("kernel.sigmoid_derivative", KERNEL,
       "D[do + q] = D[do + q] * (a * (1.0 - a))", "D[do + q] = D[do + q] * (1.0 - a)",
       "kernel sigmoid derivative 1 - a", ENGINE),
    _m("kernel.sigmoid_sign", KERNEL,
       "H[zo + q] = 1.0 / (1.0 + _exp(-H[zo + q]))", "H[zo + q] = 1.0 / (1.0 + _exp(H[zo + q]))",
       "kernel hidden sigmoid computed as sigmoid(-z)", ENGINE),
    _m("kernel.update_skips_last", KERNEL,
       "    for p in range(lo, hi):\n        grad = g[p] / n",
       "    for p in range(lo, hi - _U1):\n        grad = g[p] / n",
       "the update skips the last parameter of every weight and bias block", ENGINE),
    _m("kernel.padding_counted", KERNEL,
       "n_valid = min(nc, nb - c0)", "n_valid = min(nc, nb)",
       "padded samples of the last chunk counted in the loss and gradients", ENGINE),
    _m("kernel.padding_off_by_one", KERNEL,
       "        valid = s < n_valid\n        z = Z[zo + s]",
       "        valid = s <= n_valid\n        z = Z[zo + s]",
       "one padded sample per chunk counted", ENGINE),
    _m("kernel.bias_grad_overwritten", KERNEL,
       "g[bo + j] += hb", "g[bo + j] = hb",
       "bias gradient of a chunk overwrites the previous chunks'", ENGINE),
    # --- engine: the batched NumPy backend ------------------------------------------------
    _m("batched.diverged_at_other_slot", "engine/batched.py",
       "diverged_at[i] = it", "diverged_at[len(frozen)] = it",
       "numpy backend writes a divergence iteration into another model's slot", ENGINE),
    _m("batched.diverged_params_not_restored", "engine/batched.py",
       "    for i, row in frozen.items():\n        theta[i] = row\n    snaps[taken:] = theta",
       "    snaps[taken:] = theta",
       "a diverged model's parameters are left parked at zero", ENGINE),
    _m("batched.update_before_backprop", "engine/batched.py",
       "                if l > 0:\n"
       "                    deriv = acts[l - 1].derivative(z_list[l - 1], a_prev)\n"
       "                    dz = np.matmul(np.swapaxes(params.weights[l], 1, 2), dz) * deriv\n",
       "                if l > 0:\n"
       "                    deriv = acts[l - 1].derivative(z_list[l - 1], a_prev)\n"
       "                    dz = np.matmul(np.swapaxes(params.weights[l] - grads_w[l], 1, 2), dz)"
       " * deriv\n",
       "numpy backend back-propagates through already updated weights", ENGINE),
    _m("compiled.pool_skips_last_model", "engine/compiled.py",
       "partial(run, lo, min(lo + batch, M))", "partial(run, lo, min(lo + batch, M - 1))",
       "the thread pool never trains the last model", ENGINE),
    _m("population.history_drops_diverged_cost", "engine/population.py",
       "self.costs[i, : d + 1]", "self.costs[i, :d]",
       "a diverged model's history leaves out its non-finite cost", ENGINE),
    _m("layout.bias_offset_overlaps", "engine/layout.py",
       "            offset += n_out * n_in\n            b_off.append(offset)\n",
       "            b_off.append(offset)\n            offset += n_out * n_in\n",
       "each bias is packed over the start of its layer's weights", ENGINE),
    _m("kernel.weight_decay_on_biases", KERNEL,
       "_update(code, th, g, v1, v2, b_off[l], b_end, n, lr, 0.0, hyper, c1, c2)",
       "_update(code, th, g, v1, v2, b_off[l], b_end, n, lr, decay, hyper, c1, c2)",
       "the kernel's L2 weight decay applied to the biases too", KERNEL_GENERAL),
    _m("kernel.adam_without_bias_correction", KERNEL,
       "th[p] = th[p] - lr * (m1 / c1) / (math.sqrt(m2 / c2) + eps)",
       "th[p] = th[p] - lr * m1 / (math.sqrt(m2) + eps)",
       "the kernel's Adam without its bias corrections", KERNEL_GENERAL),
    _m("kernel.momentum_forgets", KERNEL,
       "v = beta * v1[p] + grad", "v = beta * grad + grad",
       "the kernel's momentum forgets its velocity", KERNEL_GENERAL),
    _m("kernel.softmax_hot_class_off_by_one", KERNEL,
       "hot = 1.0 if Yc[c0 + s] == k else 0.0", "hot = 1.0 if Yc[c0 + s] == k + _U1 else 0.0",
       "the kernel's softmax error subtracts the one-hot of the next class", KERNEL_GENERAL),
    _m("kernel.minibatches_of_the_first_epoch", KERNEL,
       "orders, o, e, start", "orders, o, 0, start",
       "the kernel takes every epoch's minibatches in the first epoch's order", KERNEL_GENERAL),
    _m("kernel.elu_derivative_alpha", KERNEL,
       "H[zo + q] = lin if positive else a + scale",
       "H[zo + q] = lin if positive else a",
       "the kernel's ELU/SELU derivative below 0 without its alpha", KERNEL_GENERAL),
    _m("course.final_cost_on_test", "runs.py",
       "final_cost, _ = loss_and_gradients(network, params, dataset.X_train, dataset.Y_train)",
       "final_cost, _ = loss_and_gradients(network, params, dataset.X_test, dataset.Y_test)",
       "the final cost measured on the test part", COURSE + ENGINE[:1]),
    _m("init.uniform_moments", "initializers/simple.py",
       "mean**2 + (self.high - self.low) ** 2 / 12", "mean**2 + (self.high - self.low) ** 2 / 3",
       "uniform's variance (b - a)^2 / 3", INIT),
    _m("compiled.padding_drops_samples", "engine/compiled.py",
       "    n_chunks = math.ceil(m / nc)\n    idx", "    n_chunks = m // nc\n    idx",
       "the data are cut to whole chunks: samples beyond the last whole chunk dropped", ENGINE),
    # --- reports in spans, per-model orders, GELU's series, grid search as populations ----
    _m("kernel.span_forgets_velocity", KERNEL,
       "v1[p] = v1s[model, p]", "v1[p] = 0.0",
       "a span starts with a zero velocity / first moment instead of the previous span's",
       SPANS),
    _m("kernel.span_forgets_second_moment", KERNEL,
       "v2[p] = v2s[model, p]", "v2[p] = 0.0",
       "a span starts with Adam's second moment at zero", SPANS),
    _m("kernel.span_retrains_diverged", KERNEL,
       "if diverged_at[model] >= 0:  # in an earlier span",
       "if diverged_at[model] >= 0 and first < 0:  # in an earlier span",
       "a model that diverged in an earlier span is trained again in the next", SPANS),
    _m("kernel.span_skips_snapshot_at_start", KERNEL,
       "while ks < n_at and at[ks] < first:", "while ks < n_at and at[ks] <= first:",
       "the snapshot before a span's first update is skipped", SPANS),
    _m("kernel.gather_order_of_model_0", KERNEL,
       "o = order_of[model]", "o = order_of[0]",
       "every model takes the first model's minibatch order", ORDERS),
    _m("kernel.gelu_derivative_sign", KERNEL,
       "H[zo + q] = phi + z * _INV_SQRT_2PI * e", "H[zo + q] = phi - z * _INV_SQRT_2PI * e",
       "the kernel's GELU derivative Phi(z) - z phi(z)", KERNEL_ACT),
    _m("kernel.erfc_coefficient_sign", KERNEL,
       "-0.00011376324291423201", " 0.00011376324291423201",
       "a coefficient of GELU's erfc series with the wrong sign", KERNEL_ACT),
    _m("kernel.erfc_coefficient_exponent", KERNEL,
       "1.9132295878422322e-11", "1.9132295878422322e-10",
       "the last coefficient of GELU's erfc series ten times too large", KERNEL_ACT),
    _m("compiled.spans_drop_last_partial", "engine/compiled.py",
       "    while first < updates:\n        stop = min(updates, first + size)",
       "    while first + size <= updates:\n        stop = min(updates, first + size)",
       "the last span, shorter than the others, is never trained", SPANS),
    _m("compiled.reports_after_all_diverged", "engine/compiled.py",
       "if ((diverged_at < 0) | (diverged_at > it)).any():", "if True:",
       "reports go on after every model diverged (the NumPy engine stops them)", SPANS),
    _m("batched.orders_of_model_0", "engine/batched.py",
       "np.stack([r.permutation(m) for r in rng])",
       "np.stack([rng[0].permutation(m) for r in rng])",
       "the NumPy engine shuffles every model with the first model's generator", ORDERS),
    _m("population.generators_not_advanced", "engine/population.py",
       "                if orders is not None:\n                    _advance(",
       "                if orders is None:\n                    _advance(",
       "the compiled backend leaves the caller's generators where they were (NumPy's and "
       "fit advance them)", ORDERS),
    _m("population.shared_generator_allowed", "engine/population.py",
       "            if j != i:", "            if j != i and False:",
       "one generator object for several models accepted (each backend drew other orders)",
       ORDERS),
    _m("search.one_shuffle_seed_for_all", "search.py",
       "rng=[np.random.default_rng(run.plan.shuffle_seed) for run in members]",
       "rng=[np.random.default_rng(members[0].plan.shuffle_seed) for run in members]",
       "every model of a grid population shuffled by the first candidate's random_state",
       SEARCH),
    _m("population.report_failure_falls_back", "engine/population.py",
       "except _ReportFailed as failed:", "except ZeroDivisionError as failed:",
       "an exception of on_report taken for a compilation failure: trained again on NumPy",
       SPANS),
    _m("search.groups_other_batch_sizes", "search.py",
       "        plan.batch,\n        plan.epochs,", "        plan.epochs,",
       "candidates with different batch sizes share a population", SEARCH),
    # --- datasets -------------------------------------------------------------------------
    _m("data.standardize_test_unscaled", "datasets.py",
       "X_train, X_test = standardize(X_train, X_test)",
       "X_train, _ = standardize(X_train, X_test)",
       "with --standardize the test part is left unscaled", DATA),
    _m("data.standardize_test_not_divided", "datasets.py",
       "return (X_train - mean) / std, (X_test - mean) / std",
       "return (X_train - mean) / std, X_test - mean",
       "standardize only centres the test part", DATA),
    _m("data.standardize_ddof1", "datasets.py",
       "std = X_train.std(axis=1, keepdims=True)",
       "std = X_train.std(axis=1, ddof=1, keepdims=True)",
       "standardize with the sample std (ddof=1)", DATA),
    _m("data.split_train_not_shuffled", "datasets.py",
       "train = rng.permutation(np.concatenate(train_idx))",
       "train = np.concatenate(train_idx)",
       "training part not shuffled (grouped by class)", DATA),
    _m("data.split_test_not_shuffled", "datasets.py",
       "test = rng.permutation(np.concatenate(test_idx))",
       "test = np.concatenate(test_idx)",
       "test part not shuffled (grouped by class)", DATA),
    _m("data.split_floor", "datasets.py",
       "n_test = min(max(round(test_fraction * members.size), 1), members.size - 1)",
       "n_test = min(max(int(test_fraction * members.size), 1), members.size - 1)",
       "split sizes floor(f n) instead of round(f n)", DATA),
    _m("data.split_may_take_all", "datasets.py",
       "n_test = min(max(round(test_fraction * members.size), 1), members.size - 1)",
       "n_test = min(max(round(test_fraction * members.size), 1), members.size)",
       "split may put a whole class in the test part", DATA),
    _m("data.gaussians_centres", "datasets.py",
       "np.column_stack([(y - 0.5) * distance, np.zeros(samples)])",
       "np.column_stack([y * distance, np.zeros(samples)])",
       "gaussians centred at 0 and distance", DATA),
    # --- results and the command line -----------------------------------------------------
    _m("results.json_in_place", "outputs.py",
       "                    os.replace(temp, target)\n",
       "                    os.replace(temp, target) if False else None\n"
       "                    target.write_bytes(temp.read_bytes()) if target.exists() else"
       " os.replace(temp, target)\n",
       "an existing output rewritten in place, not replaced by a rename", CLI),
    _m("cli.write_failure_swallowed", "cli/output.py",
       "        raise click.ClickException(\n"
       "            f\"could not write the {label} to {str(exc.path)!r} ({exc.strerror}); "
       "{outcome}\"\n"
       "        ) from None\n",
       "        warn(f\"could not write the {label} ({exc.strerror}); {outcome}\")\n"
       "        return\n",
       "a failed write is a warning and exit 0", CLI),
    _m("cli.oserror_exit_0", "cli/app.py",
       "        click.echo(f\"initlab: error: {_one_line(str(exc))}\", err=True)\n"
       "        return EXIT_FAILURE\n",
       "        click.echo(f\"initlab: error: {_one_line(str(exc))}\", err=True)\n"
       "        return 0\n",
       "an OSError exits 0", CLI),
    _m("cli.valueerror_exit_1", "cli/app.py",
       "        click.echo(f\"initlab: error: {_one_line(str(exc))}\", err=True)\n"
       "        return EXIT_USAGE\n",
       "        click.echo(f\"initlab: error: {_one_line(str(exc))}\", err=True)\n"
       "        return EXIT_FAILURE\n",
       "a bad value exits 1 instead of 2", CLI),
    _m("course.prints_diverged_cost", "runs.py",
       "if np.isfinite(cost):  # a diverged run's last cost and the NaN after it",
       "if True:  # a diverged run's last cost and the NaN after it",
       "the fast engine reports the non-finite cost of a diverged run", ENGINE[:1] + CLI),
    _m("train.same_rng_for_every_init", "experiments/train.py",
       "    starts = [\n        initialize(\n            setup.network,\n            init,\n"
       "            _weight_rng(setup, init_seq),\n",
       "    init_rng = _weight_rng(setup, init_seq)\n"
       "    starts = [\n        initialize(\n            setup.network,\n            init,\n"
       "            init_rng,\n",
       "every --init draws from one shared generator, so later runs get other weights",
       TRAIN),
]
# fmt: on


# --- running -------------------------------------------------------------------------------


#: a pytest plugin, loaded in every run, recording the node id of each failing test or collector
PLUGIN = '''"""Loaded by tests/mutate.py: records the node id of every failure."""
import os


def _record(kind, nodeid):
    with open(os.environ["MUTATE_FAILURES"], "a") as fh:
        fh.write(kind + " " + nodeid + "\\n")


def pytest_runtest_logreport(report):
    if report.failed:
        _record("test", report.nodeid)


def pytest_collectreport(report):
    if report.failed:
        _record("collect", report.nodeid)
'''


class StaleMutants(Exception):
    """Some snippets are no longer in the source."""


def check_mutants(mutants: list[Mutant], src: Path) -> None:
    """Raise :class:`StaleMutants` unless every ``original`` occurs exactly once in its file."""
    problems = []
    names = [m.name for m in MUTANTS]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{dup}: the name is used twice")
    for m in mutants:
        path = src / m.path
        if not path.is_file():
            problems.append(f"{m.name}: no file {path}")
            continue
        count = path.read_text().count(m.original)
        if count != 1:
            where = "not found" if count == 0 else f"found {count} times"
            problems.append(f"{m.name}: snippet {where} in {m.path}: {m.original!r}")
        if m.original == m.mutated:
            problems.append(f"{m.name}: the mutated text equals the original")
    if problems:
        raise StaleMutants("\n".join(problems))


class Workspace:
    """A private copy of the sources and tests where mutants are planted one at a time."""

    def __init__(self, base: Path, index: int) -> None:
        self.root = base / f"job{index}"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.egg-info")
        self.root.mkdir()
        shutil.copytree(ROOT / "src", self.root / "src", ignore=ignore)
        shutil.copytree(ROOT / "tests", self.root / "tests", ignore=ignore)
        shutil.copy2(ROOT / "pyproject.toml", self.root / "pyproject.toml")
        self.numba_cache = self.root / "numba-cache"
        self.numba_cache.mkdir()
        self.tmp = self.root / "tmp"
        self.tmp.mkdir()
        self.plugin = self.root / "plugin"
        self.plugin.mkdir()
        (self.plugin / "_mutate_plugin.py").write_text(PLUGIN)

    def env(self, numba_cache: Path) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(self.root / "src"), str(self.plugin)])
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["NUMBA_CACHE_DIR"] = str(numba_cache)
        env["MPLBACKEND"] = "Agg"
        env["TMPDIR"] = str(self.tmp)
        return env


class Runner:
    """Runs pytest in workspaces; every child is its own process group, killed on interrupt."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.children: set[subprocess.Popen] = set()
        self.lock = threading.Lock()
        self.stopping = False

    def pytest(
        self, ws: Workspace, args: list[str], numba_cache: Path
    ) -> tuple[str, str, list[tuple[str, str]]]:
        """``(outcome, output, failures)``: outcome is ``passed``, ``failed``, ``error`` or
        ``timeout``; failures the ``(kind, node id)`` of every failing test or collector."""
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "_mutate_plugin"]
        fd, record = tempfile.mkstemp(prefix="failures-", suffix=".txt", dir=ws.root)
        os.close(fd)
        env = {**ws.env(numba_cache), "MUTATE_FAILURES": record}
        with self.lock:
            if self.stopping:
                raise KeyboardInterrupt
            proc = subprocess.Popen(
                [*cmd, *args], cwd=ws.root, env=env, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, start_new_session=True,
            )  # fmt: skip
            self.children.add(proc)
        timed_out = False
        try:
            out, _ = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            out, _ = proc.communicate()
            timed_out = True
        finally:
            with self.lock:
                self.children.discard(proc)
            lines = Path(record).read_text().splitlines()
            Path(record).unlink()
        if self.stopping:
            raise KeyboardInterrupt
        failures = [tuple(line.split(" ", 1)) for line in lines]
        if timed_out:
            return "timeout", out, failures
        outcomes = {0: "passed", 1: "failed", 2: "error"}
        if proc.returncode not in outcomes:  # 3 internal error, 4 usage, 5 nothing collected
            raise RuntimeError(f"pytest exited {proc.returncode} for {' '.join(args)}:\n{out}")
        return outcomes[proc.returncode], out, failures

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            for proc in list(self.children):
                _kill(proc)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def check_import_path(runner: Runner, ws: Workspace) -> None:
    env = ws.env(ws.numba_cache)
    code = "import initlab, sys; sys.stdout.write(initlab.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", code], cwd=ws.root, env=env, capture_output=True, text=True
    )
    expected = ws.root / "src" / "initlab" / "__init__.py"
    if where.returncode != 0 or Path(where.stdout).resolve() != expected.resolve():
        raise RuntimeError(
            f"the tests would import initlab from {where.stdout or where.stderr!r}, "
            f"not from the copy {expected}"
        )


def run_mutant(runner: Runner, ws: Workspace, m: Mutant, deselect: list[str]) -> tuple[str, str]:
    target = ws.root / PACKAGE / m.path
    text = target.read_text()
    stat = target.stat()
    jitted = "@njit" in text
    cache = Path(tempfile.mkdtemp(prefix="numba-", dir=ws.root)) if jitted else ws.numba_cache
    args = ["-x", "-q"]
    for node in deselect:
        args += ["--deselect", node]
    try:
        target.write_text(text.replace(m.original, m.mutated, 1))
        outcome, out, failures = runner.pytest(ws, [*args, *m.tests], cache)
    finally:
        target.write_text(text)
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        if jitted:
            shutil.rmtree(cache, ignore_errors=True)
    if outcome == "passed":
        return "survived", ""
    if outcome == "timeout":
        return "killed", f"timeout after {runner.timeout:g} s"
    if failures:
        kind, node = failures[0]
        if node in deselect:
            raise RuntimeError(f"{m.name}: the deselected test {node} ran; the count is wrong")
        return "killed", node if kind == "test" else f"collection error in {node}"
    last = [line for line in out.splitlines() if line.strip()][-1:] or ["?"]
    return "killed", f"{outcome}: {last[0]}"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def select(patterns: list[str] | None) -> list[Mutant]:
    if not patterns:
        return list(MUTANTS)
    chosen = []
    for pattern in patterns:
        hits = [m for m in MUTANTS if fnmatch.fnmatchcase(m.name, pattern)]
        if not hits:
            raise SystemExit(f"mutate.py: no mutant matches {pattern!r} (see --list)")
        chosen += [m for m in hits if m not in chosen]
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only these mutants (glob patterns)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested in parallel")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant")
    parser.add_argument("--fail-under", type=float, default=90.0, help="minimum score, percent")
    parser.add_argument(
        "--skip-missing-tests",
        action="store_true",
        help="leave out test files of the selections that do not exist (to measure a tree "
        "without some test files); by default a missing file is an error",
    )
    parser.add_argument(
        "--all-tests",
        action="store_true",
        help="run the whole test suite for every mutant instead of its own selection (slow: "
        "to check that a survivor survives everything)",
    )
    args = parser.parse_args(argv)
    mutants = select(args.only)
    if args.all_tests:
        mutants = [
            Mutant(m.name, m.path, m.original, m.mutated, m.description, ("tests",))
            for m in mutants
        ]
    if args.list:
        try:
            for m in mutants:
                print(f"{m.name:42} {m.path:36} {m.description}")
                print(f"{'':42} tests: {' '.join(m.tests)}")
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. piped into head
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    try:
        check_mutants(mutants, ROOT / PACKAGE)
    except StaleMutants as exc:
        print(f"mutate.py: stale mutants (refresh their snippets):\n{exc}", file=sys.stderr)
        return 2
    missing = sorted({t for m in mutants for t in m.tests if not (ROOT / t).exists()})
    if missing and not args.skip_missing_tests:
        print(f"mutate.py: missing test files: {', '.join(missing)}", file=sys.stderr)
        return 2
    if missing:
        print(f"left out (missing): {', '.join(missing)}")
        mutants = [
            Mutant(
                m.name,
                m.path,
                m.original,
                m.mutated,
                m.description,
                tuple(t for t in m.tests if t not in missing),
            )
            for m in mutants
        ]
    jobs = max(1, min(args.jobs, len(mutants)))
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # all clean up the same way
        signal.signal(signum, _interrupt)
    runner = Runner(args.timeout)
    start = time.monotonic()
    results: dict[str, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="initlab-mutate-") as base:
        try:
            spaces = [Workspace(Path(base), i) for i in range(jobs)]
            check_import_path(runner, spaces[0])
            union = sorted({t for m in mutants for t in m.tests})
            outcome, out, failures = runner.pytest(spaces[0], ["-q", *union], spaces[0].numba_cache)
            deselect = list(dict.fromkeys(node for kind, node in failures if kind == "test"))
            broken = outcome not in ("passed", "failed") or any(k != "test" for k, _ in failures)
            if broken or (outcome == "failed" and not deselect):
                print(f"mutate.py: the baseline run failed ({outcome}):\n{out}", file=sys.stderr)
                return 2
            if deselect:
                print("baseline: these tests fail without any mutant and are left out:")
                for node in deselect:
                    print(f"  {node}")
            print(f"baseline passed in {time.monotonic() - start:.0f} s; {len(mutants)} mutants")
            free = list(spaces)
            free_lock = threading.Lock()

            def job(m: Mutant) -> tuple[Mutant, str, str, float]:
                with free_lock:
                    ws = free.pop()
                try:
                    t0 = time.monotonic()
                    status, why = run_mutant(runner, ws, m, deselect)
                    return m, status, why, time.monotonic() - t0
                finally:
                    with free_lock:
                        free.append(ws)

            with ThreadPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(job, m) for m in mutants]
                try:
                    for done, future in enumerate(as_completed(futures), start=1):
                        m, status, why, seconds = future.result()
                        results[m.name] = (status, why)
                        print(
                            f"[{done:>3}/{len(mutants)}] {status:8} {m.name:42} "
                            f"{seconds:5.1f} s  {why}",
                            flush=True,
                        )
                except BaseException:
                    runner.stop()
                    for future in futures:
                        future.cancel()
                    raise
        except KeyboardInterrupt:
            runner.stop()
            print("mutate.py: interrupted; the working tree was not touched", file=sys.stderr)
            return 2
    killed = sum(1 for status, _ in results.values() if status == "killed")
    score = 100.0 * killed / len(mutants)
    survivors = [m for m in mutants if results[m.name][0] == "survived"]
    if survivors:
        print("\nsurvivors:")
        for m in survivors:
            print(f"  {m.name}: {m.description} ({m.path})")
    minutes = (time.monotonic() - start) / 60
    print(f"\nscore: {killed}/{len(mutants)} killed ({score:.1f}%) in {minutes:.1f} min")
    return 0 if score >= args.fail_under else 1


if __name__ == "__main__":
    sys.exit(main())
