"""Fixtures for the app tests: a fake engine (fast unit tests) and, in test_app_e2e.py / test_app_browser.py,
a real Engine on a tiny catalog behind a launched Gradio app."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
sys.path.insert(0, str(Path(__file__).parent))

from fake_engine import FakeEngine  # noqa: E402


@pytest.fixture
def fake_engine():
    return FakeEngine()
