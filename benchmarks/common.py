"""Small helpers shared by the benchmark scripts."""
from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


LOCK = "/tmp/shopassist-cpu.lock"   # the shared machine's CPU lock (timed parts only)


class timed_section:
    """Hold the shared CPU lock at normal priority for the timed parts; the heavy untimed setup
    (imports) runs before it at whatever priority the script was started with (nice -n 19)."""

    # SHOPASSIST_BENCH_LOCK=0: time without waiting for the lock (figures then say so: `locked`)
    locked = os.environ.get("SHOPASSIST_BENCH_LOCK", "1") != "0"

    def __enter__(self):
        import fcntl

        self.fd = open(LOCK, "a")
        if self.locked:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.nice = os.getpriority(os.PRIO_PROCESS, 0)
        try:
            os.setpriority(os.PRIO_PROCESS, 0, 0)
        except PermissionError:
            pass
        return self

    def __exit__(self, *exc):
        import fcntl

        try:
            os.setpriority(os.PRIO_PROCESS, 0, self.nice)
        except PermissionError:
            pass
        if self.locked:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.fd.close()
