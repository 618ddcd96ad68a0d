"""Engine.warm_up: what the first request would load is loaded in the background, once, and a
failure there never breaks the engine (issue 7: the first chat turn waited 8-28 s)."""
from __future__ import annotations


class StubLLM:
    name = "stub"

    def __init__(self, fail: bool = False):
        self.loaded = False
        self.warmups = 0
        self.fail = fail

    def warmup(self):
        self.warmups += 1
        if self.fail:
            raise RuntimeError("no weights")
        self.loaded = True

    def complete(self, messages, *, json_schema=None, max_tokens=256):
        raise RuntimeError("not used")


def test_warm_up_builds_searcher_and_loads_llm(engine):
    llm = StubLLM()
    engine._llm = llm
    engine.warm_up().join(30)
    assert "shop" in engine._searchers and "shop" in engine._services
    from retrieval.filters import _INDEXES

    assert engine._searchers["shop"].catalog in _INDEXES    # the first filtered query builds nothing
    assert llm.warmups == 1
    engine.warm_up().join(30)          # already loaded: not again
    assert llm.warmups == 1
    assert engine.search("matte lipstick", k=3)


def test_warm_up_without_llm_and_with_a_failing_one(engine):
    engine.warm_up().join(30)          # llm="none": search parts only, no error
    assert "shop" in engine._searchers
    engine._llm = StubLLM(fail=True)
    engine.warm_up().join(30)          # logged, not raised
    assert engine.chat("matte lipstick").products


def test_warm_up_unknown_default_catalog_is_only_logged(tmp_path):
    from assistant.engine import Engine
    from assistant.settings import Settings

    eng = Engine(Settings(home=tmp_path / "home", embedder="hashing", llm="none", default_catalog="missing"))
    eng.warm_up().join(30)
    assert eng._searchers == {}
