"""/v1 with a master and the client's own system message, to a model whose template has no
system role (issue 13, item 4): one message, no system role, the master's text first."""

from __future__ import annotations

import pytest


@pytest.mark.anyio
async def test_v1_master_and_client_system_to_a_model_without_system_role(client, fake):
    fake.queue("Virtue is a kind of knowledge.")
    fake.system_role = False  # as set with system_role = false in the backend's config
    body = {"model": "socrates", "messages": [{"role": "system", "content": "Be brief."},
                                              {"role": "user", "content": "What is virtue?"}]}
    r = await client.post("/v1/chat/completions", json=body)
    assert r.status_code == 200
    sent, _ = fake.calls[-1]
    assert "system" not in [m.role for m in sent] and sent[0].role == "user"
    assert [m.role for m in sent[1:]] == ["assistant", "user"] * 3  # the example exchanges, then the question
    assert "Socrates" in sent[0].content
    assert sent[0].content.index("Socrates") < sent[0].content.index("Be brief.")
    assert sent[-1].content == "What is virtue?"
