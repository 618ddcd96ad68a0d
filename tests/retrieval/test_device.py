"""One device choice (retrieval.device) for the embedder, SASRec and the LLM."""
from __future__ import annotations

import pytest

from retrieval import device


@pytest.fixture(autouse=True)
def _fresh_cache():
    device.detect_device.cache_clear()
    yield
    device.detect_device.cache_clear()


def test_env_override_decides(monkeypatch):
    monkeypatch.setenv("SHOPASSIST_DEVICE", "CUDA ")
    assert device.detect_device() == "cuda"
    device.detect_device.cache_clear()
    monkeypatch.setenv("SHOPASSIST_DEVICE", "cpu")
    assert device.detect_device() == "cpu"


def test_a_bad_override_names_what_is_accepted(monkeypatch):
    monkeypatch.setenv("SHOPASSIST_DEVICE", "tpu")
    with pytest.raises(ValueError, match=r"Expected SHOPASSIST_DEVICE to be one of cpu, cuda \(or cuda:N\), got 'tpu'"):
        device.detect_device()


def test_resolve_device(monkeypatch):
    monkeypatch.setenv("SHOPASSIST_DEVICE", "cpu")
    assert device.resolve_device("auto") == "cpu"
    assert device.resolve_device(None) == "cpu"
    assert device.resolve_device("cuda:1") == "cuda:1"
    with pytest.raises(ValueError, match="Expected device to be one of cpu, cuda"):
        device.resolve_device("gpu")


def test_the_three_users_share_the_one_choice(monkeypatch):
    """llm.py, embedder.py and sequential.py had a detector each; now they all ask retrieval.device."""
    pytest.importorskip("torch")
    from assistant import llm
    from ranking import sequential
    from retrieval import embedder

    assert llm.detect_device is device.detect_device
    assert embedder.detect_device is device.detect_device
    monkeypatch.setenv("SHOPASSIST_DEVICE", "cpu")
    assert str(sequential._device("auto")) == "cpu"
    monkeypatch.setattr(device, "detect_device", lambda: "cuda")   # what "auto" means comes from here
    assert str(sequential._device("auto")) == "cuda"
    assert str(sequential._device("cpu")) == "cpu"
