"""`shopassist parse` and `shopassist model status` through the real CLI entry point."""
from __future__ import annotations

import json

from assistant.cli import main


def test_parse_one_message_json(tmp_home, capsys):
    assert main(["parse", "我想买口红，不要粉色的，200元以内", "--llm", "none", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source"] == "rules"
    assert out["intent"]["category"] == "lipstick" and out["intent"]["exclude"] == ["pink"]
    assert out["intent"]["price_max"] == 200 and out["intent"]["currency"] == "CNY"


def test_parse_human_output(tmp_home, capsys):
    assert main(["parse", "matte red lipstick under $20", "--llm", "none"]) == 0
    out = capsys.readouterr().out
    assert "category    lipstick" in out and "price       ..20 USD" in out and "rules" in out


def test_parse_batch_with_sessions(tmp_home, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "message": "lipstick under $20", "session": "s1",
         "shown": [{"id": "1", "title": "x", "price": 10}, {"id": "2", "title": "y", "price": 14}]},
        {"id": "b", "message": "cheaper", "session": "s1"},
        {"id": "c", "message": "cheaper"},
        {"message": "hi"},
    ]) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["parse", "--messages", str(src), "--out", str(out), "--llm", "none"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c", 4]
    assert set(rows[0]) == {"id", "intent", "ms", "source"}
    assert rows[1]["intent"]["action"] == "refine" and rows[1]["intent"]["price_max"] == 12
    assert rows[2]["intent"]["action"] == "search"        # no context: not a refinement
    assert "parsed 4 messages" in capsys.readouterr().err


def test_parse_errors_are_clear(tmp_home, tmp_path, capsys):
    assert main(["parse", "--llm", "none"]) == 2
    assert "give a MESSAGE" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "message": "ok"}\n{"id": 2, "text": "no message"}\n')
    assert main(["parse", "--messages", str(bad), "--out", "-", "--llm", "none"]) == 2
    assert 'line 2: expected a text field "message"' in capsys.readouterr().err
    assert main(["parse", "--messages", str(bad), "--llm", "none"]) == 2
    assert "--messages needs --out" in capsys.readouterr().err


def test_model_status(tmp_home, capsys):
    assert main(["model", "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {m["name"] for m in data["models"]} == {"qwen-1.5b", "qwen-0.5b"}
    assert all(m["gguf"] is None for m in data["models"])          # a fresh home has nothing prepared


def test_help_does_not_import_heavy_libraries():
    import subprocess
    import sys

    code = ("import sys; from assistant.cli import main\n"
            "try: main(['--help'])\nexcept SystemExit: pass\n"
            "heavy = [m for m in ('torch', 'transformers', 'xllamacpp', 'bitsandbytes', 'chromadb', 'gradio') "
            "if m in sys.modules]\nprint('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
