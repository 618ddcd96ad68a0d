"""`shopassist serve` argument handling (the launch itself is covered by the live-app fixtures)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import build_parser, main


def test_serve_defaults_bind_localhost():
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.catalog, args.llm) == ("127.0.0.1", 7860, None, None)
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "8080", "--catalog", "x",
                                      "--llm", "none"])
    assert (args.host, args.port, args.catalog, args.llm) == ("0.0.0.0", 8080, "x", "none")


def test_serve_refuses_bad_port(capsys, tmp_home):
    assert main(["serve", "--port", "70000"]) == 2
    assert "Expected --port between 1 and 65535, got 70000" in capsys.readouterr().err


def test_serve_help_is_instant_and_imports_nothing_heavy():
    code = ("import sys; from assistant.cli import main\n"
            "try:\n    main(['serve', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('gradio', 'torch', 'chromadb') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30)
    assert "--host" in out.stdout and out.stdout.strip().endswith("[]")


APP = Path(__file__).resolve().parents[2] / "app.py"


def run_app(monkeypatch, argv):
    """`python app.py ARGV` in this process with the Engine build and the launch replaced:
    returns (settings given to build, (host, port) given to launch)."""
    import runpy

    import assistant.ui
    from assistant.commands import serve

    seen = {}

    class Engine:
        def catalogs(self):
            return ["beauty"]

    def build(settings, **kwargs):
        seen["settings"] = settings
        return Engine(), "blocks"

    def launch(demo, host="127.0.0.1", port=7860, **kwargs):
        seen["bind"] = (host, port)

    monkeypatch.setattr(serve, "build", build)
    monkeypatch.setattr(assistant.ui, "launch", launch)
    monkeypatch.setattr(sys, "argv", [str(APP), *argv])
    try:
        runpy.run_path(str(APP), run_name="__main__")
    except SystemExit as exc:
        return exc.code, seen
    return 0, seen


def test_app_py_takes_the_serve_flags(monkeypatch, tmp_path):
    """Issue 11: `python app.py --port 8080` served on 7860 (the flags were ignored)."""
    code, seen = run_app(monkeypatch, ["--port", "8080", "--host", "127.0.0.2", "--llm", "none",
                                       "--home", str(tmp_path)])
    assert code == 0
    assert seen["bind"] == ("127.0.0.2", 8080)
    assert seen["settings"].llm == "none" and seen["settings"].home == tmp_path


def test_app_py_refuses_unknown_flags_and_bad_ports(monkeypatch, capsys, tmp_home):
    code, seen = run_app(monkeypatch, ["--prot", "8080"])
    assert code == 2 and "unrecognized arguments: --prot 8080" in capsys.readouterr().err
    assert seen == {}
    code, seen = run_app(monkeypatch, ["--port", "70000"])
    assert code == 2 and "Expected --port between 1 and 65535, got 70000" in capsys.readouterr().err
    assert seen == {}


def test_serve_and_app_py_read_the_same_environment(monkeypatch):
    from assistant.cli import serve_parser

    monkeypatch.setenv("SHOPASSIST_PORT", "8123")
    monkeypatch.setenv("SHOPASSIST_HOST", "0.0.0.0")
    for args in (build_parser().parse_args(["serve"]), serve_parser().parse_args([])):
        assert (args.host, args.port) == ("0.0.0.0", 8123)
