"""A spin barrier for the threads that share one model's iterations.

Only :mod:`initlab.engine._kernel` imports this module (numba is needed). When a
population has fewer models than threads, the kernel splits each model's
sample chunks over a group of threads; after every pass over the data the
group meets at :func:`barrier` before each thread sums the group's partial
gradients. An iteration of the course network takes a few microseconds, far
less than waking a sleeping thread, so the threads spin: each publishes the
number of barriers it has reached in its own cache line (an atomic store with
release order) and polls the others' (atomic loads with acquire order), with
the x86 ``pause`` hint while it waits. After :data:`SPINS` polls it yields its
core to the operating system (``yield_fn``: the address of ``sched_yield`` or
``SwitchToThread``, 0 for none) at every poll, so a busy or oversubscribed
machine is not made slower by a thread waiting for one that is not running.

The policy that decides whether splitting a model still pays sits beside the
barrier, in :func:`combine`: the threads post their partial sums and their
timings, meet, and decide alike from the same posted numbers.
"""

from __future__ import annotations

import ctypes
import math
import platform
import sys

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

#: polls with the ``pause`` hint before each further poll yields the core
SPINS = 2000
#: int64 slots between two threads' counters: one 64-byte cache line each
STRIDE = 8

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


def yield_address() -> int:
    """The address of the C function that yields the core (``int f(void)``), or 0."""
    try:
        if sys.platform == "win32":
            fn = ctypes.windll.kernel32.SwitchToThread
        else:
            fn = ctypes.CDLL(None).sched_yield
        return int(ctypes.cast(fn, ctypes.c_void_p).value or 0)
    except (OSError, AttributeError):
        return 0


@intrinsic
def _load_acquire(typingctx, arr, idx):
    sig = types.int64(arr, idx)

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]])
        return builder.load_atomic(ptr, "acquire", 8)

    return sig, codegen


@intrinsic
def _store_release(typingctx, arr, idx, val):
    sig = types.void(arr, idx, val)

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]])
        builder.store_atomic(args[2], ptr, "release", 8)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _pause(typingctx):
    sig = types.void()

    def codegen(context, builder, sig, args):
        if _X86:
            fnty = ir.FunctionType(ir.VoidType(), [])
            pause = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse2.pause")
            builder.call(pause, [])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _call(typingctx, addr):
    sig = types.void(addr)

    def codegen(context, builder, sig, args):
        fnty = ir.FunctionType(ir.IntType(32), [])
        builder.call(builder.inttoptr(args[0], fnty.as_pointer()), [])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def cycles(typingctx):
    """The CPU's time-stamp counter (int64 cycles) on x86, 0 elsewhere."""
    sig = types.int64()

    def codegen(context, builder, sig, args):
        i64 = ir.IntType(64)
        if not _X86:
            return ir.Constant(i64, 0)
        fnty = ir.FunctionType(i64, [])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.readcyclecounter")
        return builder.call(fn, [])

    return sig, codegen


@njit(cache=True, nogil=True)
def barrier(sync, worker, n_workers, epoch, yield_fn):
    """Wait until every thread of the group has called ``barrier`` ``epoch`` times.

    ``sync``: int64, ``STRIDE * n_workers`` zeros before the first call, shared
    by the group; ``worker``, ``n_workers``, ``epoch``, ``yield_fn``: int64.
    Writes made before the call are visible to the whole group after it.
    """
    _store_release(sync, worker * STRIDE, epoch)
    for v in range(n_workers):
        if v == worker:
            continue
        polls = 0
        while _load_acquire(sync, v * STRIDE) < epoch:
            polls += 1
            if polls < SPINS:
                _pause()
            elif yield_fn != 0:
                _call(yield_fn)


#: a group of threads checks every this many iterations whether splitting still pays
WINDOW = 64
#: ... and gives the model to its first thread alone after this many windows in a row
#: that took longer than ``pays`` times what one thread alone would have needed (see
#: :func:`combine`; ``pays`` is :data:`initlab.engine.compiled.SPLIT_PAYS`)
BAD_WINDOWS = 8

_U1 = np.uint64(1)
_U3 = np.uint64(3)


@njit(cache=True, nogil=True, fastmath={"reassoc"}, error_model="numpy")
def combine(g, cost, busy, wall, G, Cp, sync, worker, n_workers, epoch, yield_fn, n_chunks,
            window, cmin, bad, pays):  # fmt: skip
    """One thread's share ``g``, ``cost`` of a split iteration in, the group's sums out.

    The shares are posted in the half of ``G``, ``Cp`` that ``epoch`` selects (two
    halves used in alternate iterations, so one barrier per iteration suffices),
    the group meets at the :func:`barrier`, then every thread sums them in worker
    order into its own ``g``. Returns the summed cost, ``cmin`` and ``bad``.

    At the end of every window of :data:`WINDOW` iterations (``window`` > 0: the
    window's number) the threads also post the cycles they spent computing in
    it (``busy``, waits excluded) and its wall time (``wall``). ``cmin`` is the
    least time per chunk and window seen so far (preemption only makes it
    longer; the first window, which holds the threads' start, is not judged),
    so ``n_chunks * cmin`` is what one thread alone would need for a window.
    ``bad`` counts the windows in a row whose slowest thread took longer than
    ``pays`` times that (another process holds a core, or the machine is
    oversubscribed); the caller stops splitting at :data:`BAD_WINDOWS`. Every
    thread decides from the same posted numbers, so all decide alike. Cycle
    counts are 0 where there is no cycle counter: the split then never stops.
    """
    P = np.uint64(g.shape[0])
    nwu = np.uint64(n_workers)
    b = np.uint64(epoch & 1) * nwu
    go = (b + np.uint64(worker)) * P
    for p in range(P):
        G[go + p] = g[p]
    co = (b + np.uint64(worker)) * _U3
    Cp[co] = cost
    Cp[co + _U1] = busy
    Cp[co + _U1 + _U1] = wall
    barrier(sync, worker, n_workers, epoch, yield_fn)
    cost = Cp[b * _U3]
    for v in range(_U1, nwu):
        cost += Cp[(b + v) * _U3]
    go = b * P
    for p in range(P):
        g[p] = G[go + p]
    for _ in range(_U1, nwu):
        go += P
        for p in range(P):
            g[p] += G[go + p]
    if window > 0:
        worst = 0.0
        for v in range(nwu):
            co = (b + v) * _U3
            worst = max(worst, Cp[co + _U1 + _U1])
            share = (v + _U1) * n_chunks // nwu - v * n_chunks // nwu
            if share > 0:
                cmin = min(cmin, Cp[co + _U1] / float(share))
        if window > 1 and math.isfinite(cmin) and worst > pays * float(n_chunks) * cmin:
            bad += 1
        else:
            bad = 0
    return cost, cmin, bad
