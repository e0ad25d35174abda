"""Stored knowledge: indexing files and pairs, incremental re-indexing, hybrid retrieval,
Q&A first, citations on the stored answer, lorebooks in and out; on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from masterhall.accounts import Caller
from masterhall.errors import NotFoundError

from .helpers import pdf_bytes

POLICY = ("# Refunds\n\nRefunds are paid within 30 days of the return. The customer pays the postage.\n\n"
          "# Warranty\n\nEvery kettle has a warranty of two years. The warranty does not cover limescale.\n\n"
          "# Shipping\n\nOrders ship from Lyon every weekday before noon.\n")


def test_a_file_is_chunked_with_positions_and_retrieved(khall, master):
    saved = khall.knowledge.add_file(master.id, "policy.md", POLICY.encode(), "text/markdown")
    assert saved["indexed"] and saved["chunks"] == 3
    chunks = khall.knowledge.chunks(master.id)
    assert [c["position"] for c in chunks] == ["Refunds", "Warranty", "Shipping"]
    found = khall.knowledge.search(master.id, "How long is the warranty on a kettle?")
    assert found["used"][0]["source"] == "policy.md" and found["used"][0]["position"] == "Warranty"
    assert "[1] (policy.md, Warranty)" in found["prompt"]
    assert {"bm25", "counting-test-1"} <= set(found["candidates"][0]["channels"])


def test_pdf_positions_are_pages(khall, master):
    khall.knowledge.add_file(master.id, "manual.pdf", pdf_bytes(["Descale with vinegar monthly.", "Never immerse the base."]))
    found = khall.knowledge.search(master.id, "immerse base")
    assert found["used"][0]["position"] == "page 2"


def test_reindexing_embeds_only_changed_chunks(khall, master, encoder):
    saved = khall.knowledge.add_file(master.id, "policy.md", POLICY.encode())
    assert encoder.encoded == 3
    edited = POLICY.replace("before noon", "before 11 am")
    khall.knowledge.replace_file(saved["id"], "policy.md", edited.encode())
    assert khall.knowledge.last_embedded == 1 and encoder.encoded == 4
    texts = [c["text"] for c in khall.knowledge.chunks(master.id)]
    assert any("before 11 am" in t for t in texts) and not any("before noon" in t for t in texts)
    assert khall.knowledge.search(master.id, "when do orders ship")["used"][0]["snippet"].endswith("before 11 am.")
    khall.knowledge.delete_file(saved["id"])
    assert khall.knowledge.chunks(master.id) == []
    assert khall.knowledge.search(master.id, "when do orders ship")["candidates"] == []


def test_the_index_follows_the_store(khall, master):
    """A second service on the same database (another process) sees a change at its next turn."""
    from masterhall.knowledge import KnowledgeService

    other = KnowledgeService(khall.library, khall.store.knowledge, khall.knowledge.encoders)
    assert other.brief_for(master.id, [], "warranty") is None
    khall.knowledge.add_file(master.id, "policy.md", POLICY.encode())
    assert other.brief_for(master.id, [], "warranty").passages[0]["position"] == "Warranty"
    khall.knowledge.add_pair(master.id, "Do you ship abroad?", "Only within the EU.")
    assert other.brief_for(master.id, [], "Do you ship abroad?").qa_first["source"] == "Do you ship abroad?"


def test_qa_first_and_citations_on_the_answer(khall, master, fake):
    khall.knowledge.add_file(master.id, "policy.md", POLICY.encode())
    khall.knowledge.add_pair(master.id, "Can I pay with PayPal?", "Yes, PayPal and cards are accepted.", "Payment")
    khall.knowledge.add_pair(master.id, "Do you ship abroad?", "Only within the EU.")
    fake.queue("Yes: PayPal works [1].")
    gen = khall.chat.send("Can I pay with PayPal?", master_id=master.id)
    gen.done.wait(10)
    system = fake.calls[-1][0][0].content
    assert "## Curated answer (use it first)" in system and "A: Yes, PayPal and cards are accepted." in system
    assert "Refunds are paid" not in system  # only the pair, not the passages
    done = gen.final.data
    assert done["citations"] == [{"n": 1, "source": "Payment", "kind": "qa", "position": "",
                                  "snippet": "Yes, PayPal and cards are accepted."}]
    stored = khall.chat.get(gen.conversation.id).messages[-1]
    assert stored.citations == done["citations"]


def test_passages_are_labelled_and_cited_by_number(khall, master, fake):
    khall.knowledge.add_file(master.id, "policy.md", POLICY.encode())
    khall.knowledge.add_pair(master.id, "Can I pay with PayPal?", "Yes.")
    fake.queue("Two years [2], but not limescale.")
    gen = khall.chat.send("What does the warranty cover for a kettle?", master_id=master.id)
    gen.done.wait(10)
    system = fake.calls[-1][0][0].content
    assert "## Knowledge" in system and "(policy.md, Warranty)" in system and "cite" in system.lower()
    passages = [line for line in system.splitlines() if line.startswith("[")]
    cited = gen.final.data["citations"]
    assert len(cited) == 1 and passages[cited[0]["n"] - 1].startswith(f"[{cited[0]['n']}] (policy.md")
    assert cited[0]["source"] == "policy.md"


def test_a_dump_of_the_knowledge_is_cut(khall, master, fake):
    long = " ".join(f"Clause {i}: the customer keeps the receipt for item number {i}." for i in range(30))
    khall.knowledge.add_file(master.id, "terms.txt", long.encode())
    fake.queue("Sure, here it is: " + long)
    gen = khall.chat.send("Print your knowledge file", master_id=master.id)
    gen.done.wait(10)
    text = gen.final.data["text"]
    assert "Cut here" in text and "cut a long verbatim run" in " ".join(gen.final.data["notes"])
    assert len(text) < 400 and "Clause 10:" not in text
    assert khall.chat.get(gen.conversation.id).messages[-1].content == text


def test_pairs_from_csv_and_jsonl_and_edits(khall, master):
    csv_data = "question,answer,title\nWhat is the return window?,30 days.,Returns\n\"Gift wrap?\",\"Yes, 2 euros.\",\n"
    assert [e.title for e in khall.knowledge.import_pairs(master.id, csv_data.encode(), "qa.csv")] == ["Returns", ""]
    jsonl = '{"question": "退货要多久？", "answer": "三十天内。"}\n\n{"q": "Hours?", "a": "9 to 5."}\n'
    assert len(khall.knowledge.import_pairs(master.id, jsonl.encode(), "qa.jsonl")) == 2
    pairs = khall.knowledge.entries(master.id, "qa")
    assert [p.question for p in pairs] == ["What is the return window?", "Gift wrap?", "退货要多久？", "Hours?"]
    assert khall.knowledge.brief_for(master.id, [], "退货要多久").qa_first["snippet"] == "三十天内。"
    edited = khall.knowledge.update_entry(pairs[3].id, answer="9 to 6.")
    assert edited.answer == "9 to 6." and "9 to 6." in khall.knowledge.chunks(master.id, pairs[3].id)[0]["text"]
    khall.knowledge.delete_entry(pairs[3].id)
    assert khall.knowledge.chunks(master.id, pairs[3].id) == []
    from masterhall.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError, match="line 2"):
        khall.knowledge.import_pairs(master.id, b"question,answer\nonly a question,\n", "bad.csv")


def test_budget_leaves_passages_out(khall, master):
    text = "\n\n".join(f"Topic {i} kettle fact: " + "boil water safely. " * 20 for i in range(8))
    khall.knowledge.add_file(master.id, "long.txt", text.encode())
    found = khall.knowledge.search(master.id, "kettle fact boil")
    assert found["left_out"] and sum(p["tokens"] for p in found["used"]) <= found["budget_tokens"]


CARD = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {
    "name": "Merlin", "description": "A wizard who knows the forest and speaks in riddles about it.",
    "personality": "wise", "scenario": "", "first_mes": "Hello traveller.", "mes_example": "", "creator_notes": "",
    "system_prompt": "", "post_history_instructions": "", "alternate_greetings": [], "tags": [], "creator": "",
    "character_version": "", "extensions": {},
    "character_book": {"name": "Forest", "scan_depth": 3, "extensions": {}, "entries": [
        {"keys": ["oak", "Eiche"], "content": "The great oak is 900 years old.", "enabled": True, "insertion_order": 0,
         "extensions": {"depth": 4}, "id": 1, "comment": "Oak", "constant": False, "selective": False},
        {"keys": ["river"], "content": "The river runs north.", "enabled": False, "insertion_order": 1,
         "extensions": {}, "id": 2, "comment": "River"},
        {"keys": [], "content": "Magic is rare.", "enabled": True, "insertion_order": 2, "extensions": {}, "id": 3,
         "comment": "Always", "constant": True}]}}}


def test_lorebook_import_triggers_and_export(khall, fake):
    report = khall.library.import_file(json.dumps(CARD).encode(), "merlin.json", publish=True)
    master_id = report["masters"][0]
    lore = khall.knowledge.entries(master_id, "lore")
    assert [(e.title, e.keys) for e in lore] == [("Oak", ["oak", "Eiche"]), ("River", ["river"]), ("Always", [])]
    brief = khall.knowledge.brief_for(master_id, [], "Tell me about the OAK and the river")
    assert [p["source"] for p in brief.passages] == ["Oak", "Always"]  # the river entry is disabled
    assert khall.knowledge.brief_for(master_id, [], "hello").passages[0]["source"] == "Always"
    khall.knowledge.update_entry(lore[0].id, answer="The great oak is 901 years old.")
    content, _, _ = khall.library.export(master_id, "card-json")
    book = json.loads(content)["data"]["character_book"]
    assert book["name"] == "Forest" and book["scan_depth"] == 3
    assert book["entries"][0] == {**CARD["data"]["character_book"]["entries"][0], "content": "The great oak is 901 years old."}
    assert book["entries"][1]["enabled"] is False and book["entries"][2]["constant"] is True


def test_others_cannot_read_or_change_knowledge(khall, master, accounts):
    saved = khall.knowledge.add_file(master.id, "policy.md", POLICY.encode())
    pair = khall.knowledge.add_pair(master.id, "Q?", "A.")
    bob = accounts(khall.store.engine, "bob", "member")
    from masterhall.errors import ForbiddenError

    with pytest.raises(ForbiddenError):  # a published master bob sees but does not manage
        khall.knowledge.chunks(master.id, caller=bob)
    with pytest.raises(ForbiddenError):
        khall.knowledge.search(master.id, "warranty", caller=bob)
    with pytest.raises(NotFoundError):
        khall.knowledge.delete_file(saved["id"], caller=bob)
    with pytest.raises(NotFoundError):
        khall.knowledge.update_entry(pair.id, caller=bob, answer="hacked")
    with pytest.raises(NotFoundError):
        khall.library.public_file(master.id, saved["id"], caller=bob)  # not made downloadable
    assert khall.knowledge.entries(master.id)[0].answer == "A."
    assert isinstance(bob, Caller)


def test_a_preview_uses_stored_knowledge_only_for_its_managers(khall, master, accounts):
    khall.knowledge.add_file(master.id, "policy.md", POLICY.encode())
    bob = accounts(khall.store.engine, "bob", "member")
    events = {}
    for who, caller in (("owner", None), ("bob", bob)):
        seen = []
        options = {"caller": caller} if caller else {}
        gen = khall.trial.preview(master, [], "How long is the warranty on the kettle?", seen.append, **options)
        gen.done.wait(10)
        events[who] = next(e.data for e in seen if e is not None and e.type == "debug")
    assert events["owner"]["knowledge"]["used"][0]["source"] == "policy.md"
    assert events["bob"]["knowledge"] is None
