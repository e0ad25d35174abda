"""The embedded llama.cpp continues a cut answer in place (an assistant prefill), not afresh."""

from __future__ import annotations

import pytest

from masterhall import BackendRegistry, ChatEngine, SamplingParams, load_catalog, load_settings

pytestmark = pytest.mark.model


def test_a_cut_answer_is_continued_not_restarted():
    engine = ChatEngine(load_catalog(), BackendRegistry(load_settings(backend="embedded-small", parallel=1)))
    question = "What is virtue?"
    cut = engine.stream("socrates", [], question, params=SamplingParams(temperature=0.0, seed=42, max_tokens=20)).collect()
    assert cut.usage.finish_reason == "length" and cut.text
    rest = engine.stream("socrates", [], question, params=SamplingParams(temperature=0.0, seed=42, max_tokens=40),
                         prefill=cut.text).collect()
    assert rest.text.strip(), "the continuation is empty"
    # a restart would begin the same way as the cut answer did
    assert not rest.text.lstrip().startswith(cut.text[:15]), (cut.text, rest.text)
