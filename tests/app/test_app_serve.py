"""`shopassist serve` argument handling (the launch itself is covered by the live-app fixtures)."""
from __future__ import annotations

import subprocess
import sys

from assistant.cli import build_parser, main


def test_serve_defaults_bind_localhost():
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.catalog, args.llm) == ("127.0.0.1", 7860, None, None)
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "8080", "--catalog", "x",
                                      "--llm", "none"])
    assert (args.host, args.port, args.catalog, args.llm) == ("0.0.0.0", 8080, "x", "none")


def test_serve_refuses_bad_port(capsys):
    assert main(["serve", "--port", "70000"]) == 2
    assert "Expected --port between 1 and 65535, got 70000" in capsys.readouterr().err


def test_serve_help_is_instant_and_imports_nothing_heavy():
    code = ("import sys; from assistant.cli import main\n"
            "try:\n    main(['serve', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('gradio', 'torch', 'chromadb') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30)
    assert "--host" in out.stdout and out.stdout.strip().endswith("[]")
