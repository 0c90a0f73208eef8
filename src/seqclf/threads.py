"""How many threads a process computes with, and how they wait: one policy for every command that runs a
model (train, predict, evaluate, serve, tune, audit), chosen before PyTorch starts its thread pool.

Three facts, measured on a 2-core machine (`benchmarks/threads.py`): with one other CPU-bound process,
OpenMP threads that spin while they wait for a core make a 2-thread PyTorch epoch several times slower than
one thread; waiting passively (`OMP_WAIT_POLICY=PASSIVE`, read once, when the OpenMP runtime loads with
PyTorch) removes most but not all of that; and on an idle machine passive waiting makes the same epoch
2.5 times slower (8.0 s against 3.2 s). So the number of threads is the cores this process can get now: the
cores it may run on (affinity, and a cgroup's CPU quota) less those other processes keep busy, measured
from /proc/stat over a short window while the process starts; and a command that finds the cores
contended before it loads PyTorch makes its threads wait passively (`settle_wait_policy`).
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

WAIT_POLICY = "PASSIVE"
SAMPLE_SECONDS = 0.1  # how long other processes' CPU use is watched (10 ticks a core at USER_HZ 100), in the background
BUSY_SHARE = 0.5  # a core counts as taken when other processes kept it busy at least this share of the window
STALE_SECONDS = 60.0  # a measurement older than this is taken again


@dataclass(frozen=True)
class ThreadChoice:
    """The threads chosen, and why: `cores` this process may run on, `taken` of them busy with others."""

    threads: int
    cores: int
    taken: int
    asked: bool = False  # --threads (or `threads`) said so

    @property
    def reduced(self) -> bool:
        return not self.asked and self.threads < self.cores


def settle_wait_policy() -> None:
    """Before PyTorch loads (it reads the policy once, with its OpenMP runtime): when other processes keep
    cores busy, OpenMP threads sleep instead of spinning while they wait. The user's own OMP_WAIT_POLICY is
    kept; an idle machine keeps the runtime's default (spinning: 2.5 times faster there)."""
    if "torch" in sys.modules or "OMP_WAIT_POLICY" in os.environ:
        return
    start_measuring()
    if _sampler.result() > 0:
        os.environ["OMP_WAIT_POLICY"] = WAIT_POLICY


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity, capped by a cgroup v2 CPU quota if any."""
    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cores = min(cores, max(1, math.floor(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cores


def _cpu_ticks(cpus: set[int]) -> tuple[int, int] | None:
    """(busy, total) jiffies of the cores `cpus`, from /proc/stat's per-core lines; None where there is none."""
    busy = total = 0
    try:
        with open("/proc/stat", "rb") as stat:
            for line in stat:
                name, *values = line.split()
                if not name.startswith(b"cpu") or name == b"cpu" or int(name[3:]) not in cpus:
                    continue
                fields = [int(value) for value in values[:8]]  # guest time is counted in user already
                total += sum(fields)
                busy += sum(fields) - fields[3] - fields[4]  # less idle and iowait
    except (OSError, ValueError, IndexError):
        return None
    return (busy, total) if total else None


def cores_taken(busy_ticks: int, total_ticks: int, own_seconds: float, elapsed: float, cores: int) -> int:
    """The cores other processes kept busy over `elapsed` seconds: the cores' busy ticks (of `total_ticks`
    in all) less this process's own CPU seconds, a core counted when busy at least BUSY_SHARE of the time."""
    ticks_per_second = total_ticks / (elapsed * cores)  # USER_HZ, as the kernel counted this window
    others = max(0.0, busy_ticks / ticks_per_second - own_seconds)  # core-seconds
    return math.floor(others / elapsed + (1 - BUSY_SHARE))


class _Sampler:
    """Other processes' CPU use over a short window, measured in a background thread: the busy time of this
    process's cores from /proc/stat, less this process's own CPU time."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.taken: int | None = None
        self._thread = threading.Thread(target=self._measure, name="seqclf-cpu-sample", daemon=True)
        self._thread.start()

    def _measure(self) -> None:
        cpus = os.sched_getaffinity(0)
        first, own, started = _cpu_ticks(cpus), time.process_time(), time.monotonic()
        time.sleep(SAMPLE_SECONDS)
        last, own_after, elapsed = _cpu_ticks(cpus), time.process_time(), time.monotonic() - started
        if first is not None and last is not None and last[1] > first[1]:
            self.taken = cores_taken(last[0] - first[0], last[1] - first[1], own_after - own, elapsed, len(cpus))

    def result(self) -> int:
        self._thread.join()
        return self.taken or 0


_sampler: _Sampler | None = None


def start_measuring() -> None:
    """Begin watching other processes' CPU use, unless a recent measurement stands (`choose_threads` waits
    for it). A process that lives long (a server, a notebook) measures again after `STALE_SECONDS`."""
    global _sampler
    if _sampler is None or time.monotonic() - _sampler.started > STALE_SECONDS:
        _sampler = _Sampler()


def choose_threads(asked: int | None = None, share: int = 1) -> ThreadChoice:
    """`asked` threads if given (or OMP_NUM_THREADS, if set); else the usable cores (split among `share`
    processes of one machine, as under torchrun) less those other processes keep busy, at least one."""
    cores = max(1, usable_cores() // share)
    asked = asked or _from_environment()
    if asked:
        return ThreadChoice(asked, cores, 0, asked=True)
    start_measuring()
    taken = min(_sampler.result(), cores - 1)
    return ThreadChoice(cores - taken, cores, taken)


def _from_environment() -> int | None:
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


@contextlib.contextmanager
def denormals_flushed() -> Iterator[None]:
    """Inside, PyTorch's threads flush denormal floats to zero. Without that, the tiny gradients of saturated
    LSTM gates slow an epoch down as it goes (measured: from 13,500 to 5,500 sentences/s over 3.3M sentences;
    flushed, it stays at 12,000-13,900). The flag is a property of each thread, which a thread inherits from
    the one that starts it: so PyTorch's thread pool must start inside (a fit's first parallel operation, a
    model's weights loading) for its threads to flush, and they keep flushing after; the calling thread's own
    setting is restored on leaving, so the caller's NumPy and PyTorch code computes as it did."""
    import torch

    before = _flushing()
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(before)


_DENORMAL = 1e-310  # below float64's smallest normal number (a variable: never folded into a constant)


def _flushing() -> bool:
    """Whether the calling thread flushes denormals to zero now: a denormal times one reads as zero."""
    return _DENORMAL * 1.0 == 0.0
