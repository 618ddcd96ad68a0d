"""Fast-then-refined chat turns: the rules' reading is answered at once when the LLM must run."""
from __future__ import annotations

import threading

import pytest

from assistant.llm import FakeLLM
from tests.assistant.conftest import intent_json
from tests.engine.conftest import build_engine

UNSURE = "something for dry cracked lips"   # the rules are not sure: the LLM is asked


class GatedLLM(FakeLLM):
    """A slow LLM that answers only once the test opens the gate (or after 10 s)."""

    def __init__(self, reply: str):
        self.gate = threading.Event()
        self.finished = threading.Event()

        def answer(_messages):
            self.gate.wait(10)
            self.finished.set()
            return reply

        super().__init__(default=answer)


@pytest.fixture
def make(tmp_path):
    return lambda llm: build_engine(tmp_path, llm=llm)


def test_the_fast_reading_comes_first_then_the_llm_reading_replaces_it(make):
    llm = GatedLLM(intent_json(search_text="matte lipstick", category="lipstick"))
    engine = make(llm)
    turn = engine.chat_stream(UNSURE, session_id="s")
    first = next(turn)                      # arrives while the LLM is still working
    assert not llm.finished.is_set()
    assert first.pending is True and first.products and first.to_dict()["pending"] is True
    assert first.intent["_source"] == "rules"
    llm.gate.set()
    rest = list(turn)
    assert [r.pending for r in rest] == [False]
    final = rest[-1]
    assert final.intent["_source"] == "llm" and final.intent["category"] == "lipstick"
    assert final.products and all("Lipstick" in p["title"] for p in final.products)
    assert final.to_dict()["pending"] is False
    # the session remembers the refined answer, not the fast one
    session = engine.sessions.get("s")
    assert [p.id for p in session.last_products] == [p["id"] for p in final.products]


def test_when_the_llm_agrees_the_fast_products_stand(make):
    rules = make(None).chat(UNSURE, session_id="r")
    llm = GatedLLM(intent_json(**{k: v for k, v in rules.intent.items() if not k.startswith("_")}))
    llm.gate.set()
    results = list(make(llm).chat_stream(UNSURE, session_id="s"))
    assert [r.pending for r in results] == [True, False]
    assert [p["id"] for p in results[0].products] == [p["id"] for p in results[1].products]
    assert results[1].intent["_source"] == "llm"


def test_turns_the_rules_understand_never_wait_for_the_llm(make):
    llm = GatedLLM(intent_json(search_text="never asked"))
    engine = make(llm)
    results = list(engine.chat_stream("matte red lipstick under $20", session_id="s"))
    assert llm.calls == []
    assert results[-1].pending is False and all(r.pending for r in results[:-1])
    assert results[-1].intent["_source"] == "rules" and results[-1].products


def test_chat_returns_the_final_refined_result(make):
    llm = GatedLLM(intent_json(search_text="matte lipstick", category="lipstick"))
    llm.gate.set()
    result = make(llm).chat(UNSURE, session_id="s")
    assert result.pending is False and result.intent["_source"] == "llm"


@pytest.mark.timeout(120)
def test_a_turn_resumed_on_other_threads_releases_its_session_lock(make):
    """Gradio resumes a streaming handler on whichever worker thread is free; the turn holds its
    session's RLock across yields, which raised "cannot release un-acquired lock" when the last
    step ran on another thread than the first."""
    llm = GatedLLM(intent_json(search_text="matte lipstick", category="lipstick"))
    llm.gate.set()
    engine = make(llm)
    turn = engine.chat_stream(UNSURE, session_id="t")
    results, errors = [], []

    def step() -> None:
        try:
            results.extend(turn)          # the rest of the turn, on a thread of its own
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    results.append(next(turn))            # the first result on this thread
    worker = threading.Thread(target=step)
    worker.start()
    worker.join(30)
    assert errors == [] and results[-1].pending is False
    assert engine.chat("cheaper", session_id="t").products   # the session's lock is free again
