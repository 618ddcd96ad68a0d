"""LLM intent-parse latency on a CUDA GPU: 4-bit NF4 (bitsandbytes) vs bf16, through the product's
own `assistant.llm.TransformersLLM` loading code.

Why random weights: the GPU machine lent to this project reaches no network and takes at most
64 MiB of files, so the 0.5-1.1 GB GGUF weights cannot travel there. Speed and memory depend on
the architecture (layer sizes, vocabulary, dtype, quantization), not on the weight values, so the
script rebuilds each Qwen2.5 model from its REAL config and tokenizer (exported here from the GGUF)
with random weights, and generates a FIXED number of tokens per parse (min_new_tokens = max_new_tokens
= the token length of a typical intent JSON), so early EOS from random weights cannot flatter it.
Accuracy is the CPU benchmark's job (bench_intent.py); this measures load time, latency, tok/s and
peak GPU memory only.

    # on this machine: export config + tokenizer of both models (small files) into .gpu/
    python benchmarks/bench_gpu_llm.py export --out .gpu
    # on the GPU machine (device tool, carrying .gpu and .whl):
    python benchmarks/bench_gpu_llm.py run --assets .gpu --json $OUT/gpu_llm.json
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MODELS = ("qwen-0.5b", "qwen-1.5b")
MESSAGES_FILE = Path(__file__).resolve().parent.parent / "tests" / "data" / "intents.jsonl"


def export(out: Path, cache_dir: Path) -> None:
    from transformers import AutoConfig, AutoTokenizer

    from assistant.assets import GGUF_NAME, ensure_gguf

    for name in MODELS:
        gguf = ensure_gguf(name, cache_dir)
        target = out / name
        target.mkdir(parents=True, exist_ok=True)
        AutoConfig.from_pretrained(str(gguf.parent), gguf_file=GGUF_NAME).save_pretrained(str(target))
        AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=GGUF_NAME).save_pretrained(str(target))
        # gzip the 7 MB tokenizer.json so both models fit the device tool's 64 MiB transfer
        raw = target / "tokenizer.json"
        (target / "tokenizer.json.gz").write_bytes(gzip.compress(raw.read_bytes(), 9))
        raw.unlink()
        print("exported", target, sorted(p.name for p in target.iterdir()))


FALLBACK_MESSAGES = [
    "matte red lipstick under $20, not pink", "a gift for my wife, perfume between 50 and 100 dollars",
    "给妈妈买面霜，不超过200元，不要香味", "cheapest sunscreen spf 50 without oxybenzone",
    "shampoo for curly hair, best rated", "is the second one waterproof?",
]


def _messages(limit: int) -> list[str]:
    if not MESSAGES_FILE.exists():
        return FALLBACK_MESSAGES[:limit]
    rows = []
    for line in MESSAGES_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            msg = row.get("message") or (row.get("turns") or [{}])[-1].get("message")
            if msg:
                rows.append(msg)
    return rows[:limit]


def _pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def run(assets: Path, out_json: Path | None, n_messages: int, new_tokens: int | None,
        caches: tuple[str, ...] = ("dynamic",)) -> dict:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from assistant.assets import HF_DIR_NAME, model_dir
    from assistant.intent import build_messages
    from assistant.llm import TransformersLLM

    assert torch.cuda.is_available(), "this benchmark needs a CUDA GPU"
    cache_dir = Path("/tmp/shopassist-gpu-cache")
    results = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "models": {}}
    import transformers

    results["transformers"] = transformers.__version__
    try:
        import bitsandbytes

        results["bitsandbytes"] = bitsandbytes.__version__
    except ImportError:
        results["bitsandbytes"] = None
    messages = _messages(n_messages)
    for name in MODELS:
        hf = model_dir(name, cache_dir) / HF_DIR_NAME
        if not (hf / ".complete").exists():
            shutil.rmtree(hf, ignore_errors=True)
            shutil.copytree(assets / name, hf)
            packed = hf / "tokenizer.json.gz"
            if packed.exists():
                (hf / "tokenizer.json").write_bytes(gzip.decompress(packed.read_bytes()))
                packed.unlink()
            torch.manual_seed(0)
            config = AutoConfig.from_pretrained(str(hf))
            model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
            model.save_pretrained(str(hf), safe_serialization=True)
            del model
            (hf / ".complete").write_text("{}")
        for quant, cache in [(q, c) for q in ("bf16", "nf4") for c in caches]:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            llm = TransformersLLM(name, cache_dir=cache_dir, device="cuda", quant=quant)
            t0 = time.perf_counter()
            llm.load()
            load_s = time.perf_counter() - t0
            tok, model = llm._tokenizer, llm._model
            # typical intent JSON length in tokens (the answer the parser must produce)
            sample = ('{"action": "search", "search_text": "matte red lipstick", "category": "lipstick", '
                      '"brand": null, "price_min": null, "price_max": 20, "currency": "USD", '
                      '"must_have": ["matte"], "exclude": ["pink"], "recipient": "wife", "occasion": null, '
                      '"sort": null, "refers_to": [], "language": "en"}')
            n_new = new_tokens or len(tok(sample)["input_ids"])
            lat, prompt_lens = [], []
            extra = {} if cache == "dynamic" else {"cache_implementation": "static"}
            for i, msg in enumerate([messages[0]] * 3 + messages):  # 3 warm-ups (compilation)
                prompt = tok.apply_chat_template(build_messages(msg), tokenize=False, add_generation_prompt=True)
                inputs = tok(prompt + "{", return_tensors="pt").to(model.device)
                torch.cuda.synchronize()
                t = time.perf_counter()
                with torch.inference_mode():
                    try:
                        model.generate(**inputs, max_new_tokens=n_new, min_new_tokens=n_new, do_sample=False,
                                       pad_token_id=tok.pad_token_id or tok.eos_token_id, **extra)
                    except Exception as exc:  # e.g. a cache kind this quantization does not support
                        print(name, quant, cache, "failed:", repr(exc)[:300], flush=True)
                        break
                torch.cuda.synchronize()
                if i >= 3:
                    lat.append((time.perf_counter() - t) * 1000)
                    prompt_lens.append(inputs["input_ids"].shape[1])
            if not lat:
                continue
            row = {
                "cache": cache, "load_s": round(load_s, 2), "new_tokens": n_new, "n": len(lat),
                "prompt_tokens_median": int(statistics.median(prompt_lens)),
                "parse_ms_p50": round(_pct(lat, 50), 1), "parse_ms_p95": round(_pct(lat, 95), 1),
                "tok_per_s": round(n_new / (statistics.median(lat) / 1000), 1),
                "peak_gpu_mem_mib": round(torch.cuda.max_memory_allocated() / 2**20),
            }
            results["models"][f"{name}/{quant}" + ("" if cache == "dynamic" else f"/{cache}")] = row
            print(name, quant, json.dumps(row), flush=True)
            del llm, model, tok
    if out_json:
        out_json.write_text(json.dumps(results, indent=2))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    e.add_argument("--out", type=Path, default=Path(".gpu"))
    e.add_argument("--cache-dir", type=Path, default=Path(os.environ.get("SHOPASSIST_HOME", ".shopassist")) / "cache")
    r = sub.add_parser("run")
    r.add_argument("--assets", type=Path, default=Path(".gpu"))
    r.add_argument("--json", type=Path)
    r.add_argument("--messages", type=int, default=30)
    r.add_argument("--new-tokens", type=int)
    r.add_argument("--caches", default="dynamic", help="comma list of KV caches to compare: dynamic,static")
    args = parser.parse_args()
    if args.cmd == "export":
        export(args.out, args.cache_dir)
    else:
        run(args.assets, args.json, args.messages, args.new_tokens, tuple(args.caches.split(",")))


if __name__ == "__main__":
    main()
