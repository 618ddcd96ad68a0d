"""JSON in text: where the first JSON object of an LLM reply ends, and JSONL input files.

One scanner serves both the parser of LLM replies (`intent.extract_json`) and the backend's
"stop once the object has closed" criterion (`llm._JsonClosed`); one reader serves the batch
commands (`shopassist parse --messages`, `shopassist search --queries`) and the intent test set.
"""
from __future__ import annotations

import json
from pathlib import Path

from assistant.errors import UserError


def object_end(text: str) -> int | None:
    """The index just past the first complete JSON object in `text` (braces inside strings and
    escaped quotes are skipped), or None when no object has started and closed yet."""
    start = text.find("{")
    if start < 0:
        return None
    depth, in_str, escaped = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def read_jsonl(path: Path | str, expected: str) -> list[tuple[int, dict]]:
    """(line number, object) for every non-blank line of a JSONL file; `expected` describes a line
    ('{"id": ..., "message": "..."}') for the error, which names the file and the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    rows = []
    for lineno, line in enumerate(text.split("\n"), start=1):   # JSONL: \n only (U+2028 may sit in a string)
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"file {path}, line {lineno}: not valid JSON ({exc.msg}); expected {expected}") from None
        if not isinstance(rec, dict):
            raise UserError(f"file {path}, line {lineno}: expected a JSON object, got {type(rec).__name__}")
        rows.append((lineno, rec))
    return rows
