"""The builder's preview and one-click test run a partial draft and say what is missing."""

from __future__ import annotations

import pytest

from masterhall.builder.draft import draft_for_run
from masterhall.builder.library import InvalidMasterError

from .conftest import parse_sse

pytestmark = pytest.mark.anyio


def partial() -> dict:
    """A draft as a creator leaves it half-way: instructions and two starters, no examples."""
    return {
        "id": "half-done",
        "name": {"zh": "", "en": "Half Done"},
        "instructions": "You are a patient gardening coach. Answer in the person's language, briefly.",
        "starters": {"zh": [], "en": ["How do I prune roses?", "When should I water?"]},
        "examples": [{"user": "", "assistant": ""}],
    }


def test_draft_for_run_keeps_what_the_prompt_uses_and_lists_what_is_missing():
    master, missing = draft_for_run(partial())
    fields = {f["field"].split(".")[0] for f in missing}
    assert {"examples", "starters", "category", "greeting"} <= fields
    assert master.instructions.startswith("You are a patient gardening coach.")
    assert master.examples == []  # the blank example is left out, none invented
    assert master.starters.en == ["How do I prune roses?", "When should I water?"] and master.starters.zh == []
    assert master.name.zh == master.name.en == "Half Done"
    assert master.id == "half-done"
    with pytest.raises(InvalidMasterError):
        draft_for_run(["not", "a", "master"])


async def test_preview_of_a_partial_draft_runs_and_says_what_is_missing(client, fake):
    fake.queue("Cut just above an outward-facing bud.")
    r = await client.post("/api/builder/preview", json={"master": partial(), "content": "How do I prune roses?"})
    assert r.status_code == 200  # was: 422 until the whole form was valid
    events = parse_sse(r.text)
    assert events[0][0] == "draft"
    assert "examples" in {f["field"].split(".")[0] for f in events[0][1]["missing"]}
    assert events[-1][0] == "done" and events[-1][1]["text"] == "Cut just above an outward-facing bud."
    debug = next(d for e, d in events if e == "debug")
    assert debug["messages"][0]["content"].startswith("You are a patient gardening coach.")


async def test_one_click_test_of_a_partial_draft_runs_its_starters(client, fake):
    r = await client.post("/api/builder/test", json={"master": partial(), "langs": ["zh", "en"]})
    assert r.status_code == 200
    events = parse_sse(r.text)
    assert events[0][0] == "draft"
    starters = next(d for e, d in events if e == "starters")["starters"]
    assert [s["text"] for s in starters] == ["How do I prune roses?", "When should I water?"]
    assert len([e for e, _ in events if e == "done"]) == 2
