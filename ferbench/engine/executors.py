"""Where tasks run: in this process, in local worker processes (loky), or on a Dask cluster.

All three take a `Job`, run `ferbench.engine.worker.run_job` and hand back its `Outcome` through a
future, so the scheduler schedules the same graph the same way on each. Where they differ, an
executor says so in a capability the scheduler reads (`slots`, `stops_at_deadline`, and a
`WorkerDied`'s `pool_broken`), never in its name: a new backend is one class here and one line
in `make_executor`.
"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import os
import re
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Protocol

from ferbench.engine.config import JOBS_ENV, RunConfig
from ferbench.engine.worker import Job, Outcome, run_job
from ferbench.errors import FerbenchError

DASK_HINT = 'pip install -e ".[dask]"'
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class WorkerDied(Exception):
    """A worker process ended while it ran tasks: a crash in native code, the kernel's
    out-of-memory killer, a plugin that exits. `pool_broken`: every task running beside it was
    lost too (local workers: the executor has started fresh workers), so which one did it is not
    known; else (Dask) this task was on the workers that died (running, or waiting its turn there)."""

    def __init__(self, reason: str, pool_broken: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pool_broken = pool_broken


def death_reason(message: str) -> str:
    """loky's "...exit codes of the workers are {EXIT(3)}" (or {SIGKILL(-9)}) as one line."""
    codes = re.findall(r"(EXIT|SIG[A-Z]+)\((-?\d+)\)", message)
    if not codes:
        return "worker process died"
    name, number = codes[0]
    if name == "EXIT":
        return f"worker process died (exit code {number})"
    return f"worker process killed by {name} (signal {abs(int(number))})" + (
        ": out of memory?" if name == "SIGKILL" else ""
    )


class Executor(Protocol):
    """Where jobs run, and what the scheduler may count on there.

    slots:             tasks that can run at once.
    stops_at_deadline: a task past its `Job.timeout` is stopped where it runs (an alarm in the
                       main thread of its process) and comes back timed out; where not (tasks
                       in threads), the scheduler stops waiting for it at the deadline.
    `outcome` raises `WorkerDied` for a task whose worker died; one that broke the pool has
    already been replaced by fresh workers.
    """

    slots: int
    stops_at_deadline: bool

    def submit(self, job: Job) -> Any: ...

    def wait(self, futures: Iterable[Any], timeout: float) -> list[Any]: ...

    def outcome(self, future: Any) -> Outcome: ...

    def cancel(self, future: Any) -> None: ...

    def close(self, *, kill: bool) -> None: ...


class SerialExecutor:
    """Runs each task in this process as it is submitted (`--jobs 1`)."""

    slots = 1
    stops_at_deadline = True

    def submit(self, job: Job) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        future.set_result(run_job(job))
        return future

    def wait(self, futures: Iterable[Any], timeout: float) -> list[Any]:
        return list(futures)

    def outcome(self, future: concurrent.futures.Future) -> Outcome:
        return future.result()

    def cancel(self, future: Any) -> None:
        pass

    def close(self, *, kill: bool) -> None:
        pass


def keep_worker_memory() -> None:
    """Stop loky from replacing a worker whose memory grew by 300 MB since its first task.

    Loky reads that growth as a leak; here it is the point: a worker keeps recent stage outputs
    and what plugins memoise per process (landmark detections, a CNN's pretrained layers), so
    the next task of the same seed reuses them. Replaced workers lost all of it and redid
    minutes of work (18 workers started in the first 18 minutes of the full grid). Memory stays
    bounded by those caches' own sizes. Runs in each worker as its initializer.
    """
    from joblib.externals.loky import process_executor

    process_executor._USE_PSUTIL = False  # the leak check runs only with psutil; there is no public switch


class LokyExecutor:
    """`--jobs N`: N worker processes (joblib's loky), each capped at `threads` threads."""

    stops_at_deadline = True

    def __init__(self, jobs: int, threads: int) -> None:
        self.slots = jobs
        self._env = {variable: str(threads) for variable in _THREAD_VARIABLES}
        self._pool = self._start()

    def _start(self) -> Any:
        from joblib.externals.loky import get_reusable_executor

        return get_reusable_executor(max_workers=self.slots, env=self._env, reuse=False, initializer=keep_worker_memory)

    def submit(self, job: Job) -> concurrent.futures.Future:
        return self._pool.submit(run_job, job)

    def wait(self, futures: Iterable[Any], timeout: float) -> list[Any]:
        done, _ = concurrent.futures.wait(list(futures), timeout=timeout, return_when="FIRST_COMPLETED")
        return list(done)

    def outcome(self, future: concurrent.futures.Future) -> Outcome:
        try:
            return future.result()
        except concurrent.futures.process.BrokenProcessPool as error:  # loky's TerminatedWorkerError too
            self._restart()
            raise WorkerDied(death_reason(str(error)), pool_broken=True) from None

    def cancel(self, future: concurrent.futures.Future) -> None:
        future.cancel()

    def _restart(self) -> None:
        """Fresh workers for a broken pool (the caller drops every other future of the old one)."""
        self._pool.shutdown(wait=False, kill_workers=True)
        self._pool = self._start()

    def close(self, *, kill: bool) -> None:
        self._pool.shutdown(wait=not kill, kill_workers=kill)


class DaskExecutor:
    """`--backend dask`: the same tasks on a Dask distributed cluster.

    With a scheduler address it joins that cluster; without one it starts a LocalCluster
    of `jobs` single-threaded worker processes. Workers compute; only this process writes
    the database. Workers read and write the stage cache, so on a real cluster the results
    folder must be on a file system every worker sees. Tasks run in worker threads, where no
    alarm can stop them, so the scheduler stops waiting at the deadline instead.
    """

    stops_at_deadline = False

    def __init__(self, jobs: int, threads: int, scheduler: str | None) -> None:
        require_dask()
        import dask
        from distributed import Client, LocalCluster

        self._cluster = None
        try:
            if scheduler:
                self._client = Client(scheduler, timeout="20s")
            else:
                env = {variable: str(threads) for variable in _THREAD_VARIABLES}
                with dask.config.set({"distributed.scheduler.allowed-failures": 1}):  # one retry, not three
                    self._cluster = LocalCluster(
                        n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None, env=env
                    )
                self._client = Client(self._cluster)
        except OSError as error:
            raise FerbenchError(f"cannot reach the Dask scheduler {scheduler}: {error}") from None
        self.slots = max(1, sum(self._client.nthreads().values()))

    def submit(self, job: Job) -> Any:
        return self._client.submit(run_job, job, pure=False)

    def wait(self, futures: Iterable[Any], timeout: float) -> list[Any]:
        from distributed import wait

        pending = list(futures)
        try:
            done, _ = wait(pending, timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return []
        return list(done)

    def outcome(self, future: Any) -> Outcome:
        from distributed.scheduler import KilledWorker

        try:
            return future.result()
        except KilledWorker as error:  # the scheduler knows which task kept killing its workers
            raise WorkerDied(f"worker process died twice running it ({type(error).__name__})", False) from None

    def cancel(self, future: Any) -> None:
        future.cancel()

    def close(self, *, kill: bool) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def require_dask() -> None:
    """A clear error, before any work, where the optional Dask extra is missing."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise FerbenchError(f"--backend dask needs dask.distributed, which is not installed: {DASK_HINT}") from None


def make_executor(config: RunConfig) -> Executor:
    """The executor a run's `--backend`, `--jobs` and `--threads` ask for."""
    if config.backend == "dask":
        return DaskExecutor(config.jobs, config.threads, config.scheduler)
    if config.jobs > 1:
        return LokyExecutor(config.jobs, config.threads)
    return SerialExecutor()


@contextmanager
def running_on(executor: Executor) -> Iterator[Executor]:
    """The executor, closed when the schedule ends: its workers killed where it did not finish
    (Ctrl-C, a full disk), so no task outlives the run."""
    finished = False
    try:
        yield executor
        finished = True
    finally:
        executor.close(kill=not finished)


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, as taskset or a container limits it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def resolve_jobs(requested: str | None, threads: int) -> int:
    """`--jobs`, else $FERBENCH_JOBS, else `auto`: as many workers as the cores hold at `threads` each."""
    source = "--jobs"
    if requested is None:
        requested, source = os.environ.get(JOBS_ENV, "auto"), f"${JOBS_ENV}"
    text = requested.strip().lower()
    if text == "auto":
        return max(1, usable_cores() // max(threads, 1))
    try:
        jobs = int(text)
    except ValueError:
        raise FerbenchError(f"{source} must be a whole number or 'auto', got {requested!r}") from None
    if jobs < 1:
        raise FerbenchError(f"{source} must be at least 1, got {jobs}")
    return jobs


def check_cores(jobs: int, threads: int, backend: str) -> None:
    """Local workers x threads must fit the cores: oversubscribed pools run many times slower."""
    cores = usable_cores()
    if backend == "local" and jobs * threads > cores:
        raise FerbenchError(
            f"--jobs {jobs} x --threads {threads} asks for {jobs * threads} threads on {cores} cores; "
            f"keep jobs x threads <= {cores}"
        )
