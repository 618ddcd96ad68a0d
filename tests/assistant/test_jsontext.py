"""One JSON-object scanner (LLM replies and the stop criterion) and one JSONL reader (batch commands)."""
from __future__ import annotations

import pytest

from assistant.errors import UserError
from assistant.intent import extract_json
from assistant.jsontext import object_end, read_jsonl


@pytest.mark.parametrize("text, end", [
    ('{"a": 1} and more', 8),
    ('sure: {"a": "}{", "b": {"c": [1]}} ok', 34),
    ('{"q": "say \\"}\\" twice"}', 24),
    ('{"open": {"still": 1}', None),
    ("no object here", None),
])
def test_object_end(text, end):
    assert object_end(text) == end


def test_extract_json_and_the_stop_criterion_read_objects_alike():
    """The LLM backend stops generating where extract_json finds the object's end."""
    pytest.importorskip("torch")
    import torch

    from assistant.llm import _JsonClosed

    class Tok:
        def decode(self, ids, skip_special_tokens=True):
            return "".join(chr(int(i)) for i in ids)

    for reply in ['{"action": "search", "q": "a } in a string"} trailing', '{"a": {"b": "\\"}"}}']:
        ids = torch.tensor([[ord(c) for c in reply]])
        closed = _JsonClosed(Tok(), prompt_len=0, prefix="")
        end = object_end(reply)
        assert extract_json(reply) is not None and end is not None
        assert bool(closed(ids[:, :end], None)[0]) and not bool(closed(ids[:, :end - 1], None)[0])


def test_read_jsonl(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('\ufeff{"id": 1, "message": "hi"}\n\n{"id": 2, "message": "a\u2028b"}\n', encoding="utf-8")
    assert read_jsonl(path, "x") == [(1, {"id": 1, "message": "hi"}), (3, {"id": 2, "message": "a\u2028b"})]
    path.write_text('{"id": 1}\n[1, 2]\n')
    with pytest.raises(UserError, match=r"line 2: expected a JSON object, got list"):
        read_jsonl(path, "x")
    path.write_text('{"id": 1\n')
    with pytest.raises(UserError, match=r'line 1: not valid JSON \(.*\); expected \{"id": \.\.\.\}'):
        read_jsonl(path, '{"id": ...}')
    with pytest.raises(UserError, match="cannot read"):
        read_jsonl(tmp_path / "missing.jsonl", "x")
