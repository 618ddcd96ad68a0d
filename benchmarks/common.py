"""Small helpers shared by the benchmark scripts."""
from __future__ import annotations

import os
import platform
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"      # figures and homes of the benchmark runs (gitignored)


def shared_data() -> Path:
    """The shared real-data folder: ../shared/data next to the checkout, else /work/shared/data."""
    here = REPO.parent / "shared" / "data"
    return here if here.exists() else Path("/work/shared/data")


def offline() -> None:
    """Never let a model library reach a hub, nor Chroma send telemetry."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


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

    # SHOPASSIST_BENCH_LOCK=0: time without waiting for the lock and at the priority the script was
    # started with (figures then say so: `locked`; under nice beside other work they are upper bounds)
    locked = os.environ.get("SHOPASSIST_BENCH_LOCK", "1") != "0"

    def __enter__(self):
        import fcntl

        self.fd = open(LOCK, "a")
        if self.locked:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.nice = os.getpriority(os.PRIO_PROCESS, 0)
        if self.locked:   # without the lock the CPU is shared: keep the priority we were started with
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


def write_json(path: Path | None, doc) -> None:
    """Write a benchmark's results (no-op without a path), creating the folder."""
    if path is None:
        return
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
