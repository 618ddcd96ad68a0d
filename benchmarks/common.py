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
