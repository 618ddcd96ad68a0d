"""The one place the torch device is chosen: the embedder (retrieval), SASRec (ranking) and the LLM
(assistant) all ask here, so one setting moves all three. It lives in the lowest layer so that every
layer can import it; torch is imported only to ask whether CUDA is there (and not at all when
$SHOPASSIST_DEVICE says)."""
from __future__ import annotations

import functools
import os

DEVICES = ("cpu", "cuda")
ENV = "SHOPASSIST_DEVICE"


def _checked(name: str, what: str) -> str:
    value = str(name).strip().lower()
    if value in DEVICES or (value.startswith("cuda:") and value[5:].isdigit()):
        return value
    raise ValueError(f"Expected {what} to be one of {', '.join(DEVICES)} (or cuda:N), got {name!r}")


@functools.lru_cache(maxsize=None)
def detect_device() -> str:
    """$SHOPASSIST_DEVICE when set, else "cuda" when torch sees a GPU, else "cpu". Cached."""
    forced = os.environ.get(ENV, "").strip()
    if forced:
        return _checked(forced, ENV)
    try:
        import torch  # heavy optional dependency: only to ask whether CUDA is there
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(name: str | None = "auto") -> str:
    """A component's device setting: "auto" (or None) -> detect_device(); "cpu" / "cuda" / "cuda:N" kept."""
    if name is None or str(name).strip().lower() == "auto":
        return detect_device()
    return _checked(name, "device")
