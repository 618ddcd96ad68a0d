"""The transformers backend uses the static (compiled) KV cache only where it was measured faster."""
from assistant.llm import _static_cache_ok


def test_static_cache_only_on_cuda_without_bitsandbytes():
    assert _static_cache_ok("cuda", "bf16")
    assert _static_cache_ok("cuda", "fp32")
    assert not _static_cache_ok("cuda", "nf4")      # NF4 got slower with it on the H100
    assert not _static_cache_ok("cpu", "bf16")      # not measured on CPU: keep HF's default
