"""Where the batches of a sweep train: in this process, in worker processes, or on Dask.

Every executor takes ``(batch, backend)`` tasks and yields ``(batch, records)`` as batches
finish (in any order), computed by :func:`initlab.sweep.plan.train_batch`, a pure function
of the batch: the records are bit-identical whatever the executor and its number of
workers. Executors only compute; the coordinating process (the caller) writes the store.

- :class:`LocalExecutor`: one batch after the other in this process, the engine using
  every core;
- :class:`ProcessExecutor`: ``workers`` local processes (``multiprocessing``, spawned),
  each batch on ``cores // workers`` threads;
- :class:`DaskExecutor`: the workers of a Dask distributed cluster (``pip install
  'initlab[dask]'``): an existing scheduler's address, or a ``LocalCluster`` it starts;
  each batch on one thread of a worker.

Stopping the generator of :meth:`Executor.run` (an error, Ctrl-C, ``close()``) cancels the
batches not yet finished.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from initlab.checks import check_positive_int
from initlab.sweep.plan import Batch, train_batch
from initlab.sweep.store import RunRecord

__all__ = [
    "CONNECT_TIMEOUT",
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "ProcessExecutor",
    "make_executor",
]

#: seconds to wait for a Dask scheduler before giving up on it
CONNECT_TIMEOUT = 5.0

Task = tuple[Batch, str]
Done = tuple[Batch, list[RunRecord]]


def _cores() -> int:
    from initlab.engine.population import usable_cores

    return usable_cores()


class Executor(Protocol):
    """Runs tasks, yielding each batch's records as it finishes."""

    #: batches that can train at once
    capacity: int

    def run(
        self, tasks: Sequence[Task], on_start: Callable[[Batch], None] | None = None
    ) -> Iterator[Done]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """One batch after the other in this process, on ``threads`` threads (default: every
    usable core)."""

    def __init__(self, threads: int | None = None) -> None:
        check_positive_int("threads", threads, allow_none=True)
        self.threads = _cores() if threads is None else threads
        self.capacity = 1

    def run(
        self, tasks: Sequence[Task], on_start: Callable[[Batch], None] | None = None
    ) -> Iterator[Done]:
        for batch, backend in tasks:
            if on_start is not None:
                on_start(batch)
            yield batch, train_batch(batch, backend, self.threads)

    def close(self) -> None:
        pass

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ignore_sigint() -> None:  # pragma: no cover - runs in the worker processes
    """Workers leave Ctrl-C to the coordinating process, which stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessExecutor:
    """``workers`` spawned local processes; each batch on ``cores // workers`` threads (at
    least one). At most two batches per worker are handed out at a time."""

    def __init__(self, workers: int) -> None:
        check_positive_int("workers", workers)
        self.workers = workers
        self.threads = max(1, _cores() // workers)
        self.capacity = workers
        self._pool: Any = None

    def _start(self) -> Any:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = context.Pool(self.workers, initializer=_ignore_sigint)
        return self._pool

    def run(
        self, tasks: Sequence[Task], on_start: Callable[[Batch], None] | None = None
    ) -> Iterator[Done]:
        pool = self._start()
        finished: queue.Queue = queue.Queue()
        todo = list(tasks)[::-1]
        in_flight = 0
        done_ok = False
        try:
            while todo or in_flight:
                while todo and in_flight < 2 * self.workers:
                    batch, backend = todo.pop()
                    if on_start is not None:
                        on_start(batch)
                    pool.apply_async(
                        train_batch, (batch, backend, self.threads),
                        callback=lambda records, b=batch: finished.put((b, records, None)),
                        error_callback=lambda error, b=batch: finished.put((b, None, error)),
                    )  # fmt: skip
                    in_flight += 1
                while True:
                    try:
                        batch, records, error = finished.get(timeout=0.2)
                        break
                    except queue.Empty:
                        continue
                in_flight -= 1
                if error is not None:
                    raise error
                yield batch, records
            done_ok = True
        finally:
            if not done_ok:
                self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> ProcessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DaskExecutor:
    """The workers of a Dask distributed cluster: the scheduler at ``address``
    (``tcp://HOST:PORT``), or, with ``local_workers=N``, a ``LocalCluster`` of ``N``
    single-threaded worker processes started here (``processes=False``: threads of this
    process instead). Each batch trains on one thread of a worker; at most two batches
    per worker thread are handed out at a time.

    An unreachable scheduler raises ``ValueError`` naming its address after
    :data:`CONNECT_TIMEOUT` seconds. Needs ``pip install 'initlab[dask]'``.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        local_workers: int | None = None,
        processes: bool = True,
        timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        if (address is None) == (local_workers is None):
            raise ValueError("give a scheduler address or a number of local workers, not both")
        if local_workers is not None:
            check_positive_int("local_workers", local_workers)
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ValueError(
                "the Dask executor needs the optional extra: pip install 'initlab[dask]'"
            ) from None
        self.cluster = None
        if address is not None:
            if not isinstance(address, str) or not address.strip():
                raise ValueError(f"the scheduler address must be tcp://HOST:PORT, got {address!r}")
            try:
                self.client = Client(address, timeout=f"{timeout}s", set_as_default=False)
            except (OSError, TimeoutError) as error:
                raise ValueError(
                    f"cannot reach the Dask scheduler at {address} within {timeout:g} s "
                    f"({type(error).__name__})"
                ) from None
        else:
            self.cluster = LocalCluster(
                n_workers=local_workers, threads_per_worker=1, processes=processes,
                dashboard_address=None, silence_logs=logging.ERROR,
            )  # fmt: skip
            self.client = Client(self.cluster, set_as_default=False)
        threads = sum(self.client.nthreads().values())
        self.capacity = max(1, threads)

    def run(
        self, tasks: Sequence[Task], on_start: Callable[[Batch], None] | None = None
    ) -> Iterator[Done]:
        from distributed import as_completed

        todo = list(tasks)[::-1]
        futures: dict[Any, Batch] = {}
        done_ok = False

        def submit() -> list[Any]:
            new = []
            while todo and len(futures) < 2 * self.capacity:
                batch, backend = todo.pop()
                if on_start is not None:
                    on_start(batch)
                future = self.client.submit(train_batch, batch, backend, 1, pure=False)
                futures[future] = batch
                new.append(future)
            return new

        try:
            completed = as_completed(submit(), loop=self.client.loop)
            while futures:
                future = next(completed)
                batch = futures.pop(future)
                records = future.result()
                future.release()
                for new in submit():
                    completed.add(new)
                yield batch, records
            done_ok = True
        finally:
            if not done_ok and futures:
                self.client.cancel(list(futures))

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_executor(
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
) -> LocalExecutor | ProcessExecutor | DaskExecutor:
    """The executor of the command-line options: at most one of ``workers`` (local
    processes), ``scheduler`` (a Dask scheduler's address) and ``dask_local`` (a Dask
    ``LocalCluster`` of that many workers); none: :class:`LocalExecutor`."""
    given = [n for n, v in (("--workers", workers), ("--scheduler", scheduler),
                            ("--dask-local", dask_local)) if v is not None]  # fmt: skip
    if len(given) > 1:
        raise ValueError(f"give one of {' and '.join(given)}, not both")
    if scheduler is not None:
        return DaskExecutor(scheduler)
    if dask_local is not None:
        return DaskExecutor(local_workers=dask_local)
    if workers is not None and workers > 1:
        return ProcessExecutor(workers)
    return LocalExecutor()
