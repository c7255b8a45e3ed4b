"""The server's processes as Linux shows them in /proc: found by pid or port; CPU time and memory."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")
LISTEN = "0A"


def pids_listening_on(port: int) -> list[int]:
    """Processes holding a listening TCP socket on `port` (a gunicorn master and its workers)."""
    sockets = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    return sorted(int(fd_dir.parent.name) for fd_dir in PROC.glob("[0-9]*/fd") if _links(fd_dir) & sockets)


def _links(fd_dir: Path) -> set[str]:
    """What a process's open files point to (empty when it is gone or not ours to read)."""
    links = set()
    try:
        fds = list(fd_dir.iterdir())
    except OSError:
        return links
    for fd in fds:
        try:
            links.add(os.readlink(fd))
        except OSError:
            continue   # closed meanwhile (the listing's own descriptor, for one)
    return links


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == LISTEN and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    return inodes


def with_children(pid: int) -> list[int]:
    """`pid` and its direct children (gunicorn's workers)."""
    children = []
    for task in PROC.glob(f"{pid}/task/*/children"):
        try:
            children += [int(c) for c in task.read_text().split()]
        except OSError:
            continue
    return [pid, *sorted(set(children))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used; 0 once it is gone."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS   # utime, stime (fields 14 and 15)


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in KiB; PSS splits pages shared after gunicorn's fork fairly between processes."""
    try:
        rollup = (PROC / str(pid) / "smaps_rollup").read_text().splitlines()
    except OSError:
        return 0, 0
    values = {line.split(":")[0]: int(line.split()[1]) for line in rollup[1:] if line.endswith("kB")}
    return values.get("Rss", 0), values.get("Pss", 0)


@dataclass
class ServerUsage:
    """CPU over the measured window and peak memory of each server process."""

    pids: list[int]
    cpu_s: float = 0.0
    wall_s: float = 0.0
    peak_rss_kib: dict[int, int] = field(default_factory=dict)
    peak_pss_kib: int = 0

    @property
    def cpu_percent(self) -> float:
        """CPU used by all server processes, as a percentage of one core (200 = two cores busy)."""
        return 100 * self.cpu_s / self.wall_s if self.wall_s else 0.0


class UsageSampler:
    """Measures the server over [start_at, stop_at] (time.time()) in a thread while the load runs."""

    def __init__(self, pids: list[int], start_at: float, stop_at: float, interval_s: float = 0.5) -> None:
        self.usage = ServerUsage(pids)
        self._window = (start_at, stop_at)
        self._interval = interval_s
        self._thread = threading.Thread(target=self._measure, daemon=True)

    def start(self) -> None:
        """Begin (returns at once)."""
        self._thread.start()

    def join(self) -> ServerUsage:
        """Wait for the window to pass; the usage seen in it."""
        self._thread.join()
        return self.usage

    def _measure(self) -> None:
        start_at, stop_at = self._window
        time.sleep(max(0.0, start_at - time.time()))
        cpu0, t0 = self._cpu(), time.monotonic()
        while time.time() < stop_at:
            self._sample_memory()
            time.sleep(min(self._interval, max(0.0, stop_at - time.time())))
        self.usage.cpu_s, self.usage.wall_s = self._cpu() - cpu0, time.monotonic() - t0

    def _cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.usage.pids)

    def _sample_memory(self) -> None:
        pss = 0
        for pid in self.usage.pids:
            rss, pid_pss = memory_kib(pid)
            self.usage.peak_rss_kib[pid] = max(rss, self.usage.peak_rss_kib.get(pid, 0))
            pss += pid_pss
        self.usage.peak_pss_kib = max(pss, self.usage.peak_pss_kib)
