"""Two ``masterhall serve`` processes on one PostgreSQL and one Redis (issue 16, item 4):
Stop sent to one ends the answer streaming from the other, a conversation busy on one is busy on
the other, a master published on one is served and found by the other within a second, and
``--workers`` refuses SQLite."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import httpx

from .conftest import ROOT, clean_env

LONG = " ".join(f"word{i}" for i in range(300))  # the fake answer repeats it: ~9 s at 0.03 s a word


class Stream(threading.Thread):
    """Reads an SSE answer in the background; ``events`` as they arrive, ``ended`` when it ends."""

    def __init__(self, url: str, path: str, body: dict):
        super().__init__(daemon=True)
        self.url, self.path, self.body = url, path, body
        self.events: list[tuple[str | None, dict]] = []
        self.ended_at: float | None = None
        self.first_delta = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30, headers={"origin": self.url}) as client:
            with client.stream("POST", self.path, json=self.body) as response:
                event = None
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        self.events.append((event, json.loads(line[5:].strip())))
                        if event == "delta" or (event is None and "text" in self.events[-1][1]):
                            self.first_delta.set()
                        event = None
        self.ended_at = time.monotonic()

    def data(self, kind: str) -> dict:
        return next(d for e, d in self.events if e == kind)


def test_stop_on_one_process_ends_the_answer_streaming_from_the_other(two_halls):
    a, b = two_halls
    stream = Stream(a.url, "/api/messages", {"master_id": "socrates", "content": LONG})
    stream.start()
    assert stream.first_delta.wait(10), stream.events
    cid = stream.data("start")["conversation_id"]
    with b.client() as client:
        seen = client.get(f"/api/conversations/{cid}").json()
        assert seen["generating"] is True  # B knows A is answering
        busy = client.post("/api/messages", json={"conversation_id": cid, "content": "and another thing"})
        assert busy.status_code == 400 and "still being generated" in busy.text
        asked = time.monotonic()
        stopped = client.post(f"/api/conversations/{cid}/stop").json()
    assert stopped["stopped"] is True and stopped["message_id"] == stream.data("start")["message_id"]
    stream.join(5)
    assert stream.ended_at is not None and stream.ended_at - asked < 2.0
    done = stream.data("done")
    assert done["status"] == "stopped" and done["text"] == stopped["text"]
    assert len(done["text"].split()) < 200  # cut well before its end
    with b.client() as client:
        messages = client.get(f"/api/conversations/{cid}").json()["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant"]
        assert messages[1]["status"] == "stopped" and messages[1]["content"] == stopped["text"]
        assert client.post(f"/api/conversations/{cid}/stop").json() == {"stopped": False}


def test_a_master_published_on_one_process_is_served_and_found_by_the_other_within_a_second(two_halls):
    a, b = two_halls
    with a.client() as ca, b.client() as cb:
        master = ca.get("/api/masters/socrates").json()
        master.update(id="lighthouse-keeper", category="life")
        master["name"] = {"zh": "灯塔守护人", "en": "Quillon the Lighthouse Keeper"}
        master["tags"] = {"zh": ["灯塔", "守夜"], "en": ["lighthouse", "night watch"]}
        assert cb.get("/api/masters/lighthouse-keeper").status_code == 404
        assert ca.post("/api/builder/masters", json={"master": master, "status": "published"}).status_code == 201
        published = time.monotonic()
        while cb.get("/api/masters/lighthouse-keeper").status_code != 200:
            assert time.monotonic() - published < 1.0, "B did not learn of the published master within a second"
            time.sleep(0.02)
        found = cb.get("/api/match", params={"q": "Quillon the Lighthouse Keeper", "k": 3}).json()
        assert found["matches"][0]["id"] == "lighthouse-keeper"
        assert "lighthouse-keeper" in [m["id"] for m in cb.get("/v1/models").json()["data"]]
        # and back to draft: B drops it too
        assert ca.post("/api/builder/masters/lighthouse-keeper/unpublish").status_code == 200
        unpublished = time.monotonic()
        while cb.get("/api/masters/lighthouse-keeper").status_code != 404:
            assert time.monotonic() - unpublished < 1.0
            time.sleep(0.02)


def test_workers_refuse_sqlite_with_a_clear_message(tmp_path):
    env = clean_env(MASTERHALL_CONFIG=str(tmp_path / "absent.toml"), MASTERHALL_DATA_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "masterhall.cli", "serve", "--workers", "2", "--port", "1"], env=env,
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    said = " ".join((result.stdout + result.stderr).split())
    assert "--workers 2 needs PostgreSQL" in said and "MASTERHALL_DATABASE_URL" in said


def test_a_page_on_one_process_follows_live_the_answer_the_other_generates(two_halls):
    a, b = two_halls
    stream = Stream(a.url, "/api/messages", {"master_id": "socrates", "content": " ".join(f"live{i}" for i in range(60))})
    stream.start()
    assert stream.first_delta.wait(10)
    start = stream.data("start")
    follower = Stream(b.url, f"/api/conversations/{start['conversation_id']}/live", {})
    follower.run = lambda: _get_stream(follower)
    follower.start()
    stream.join(15)
    follower.join(15)
    kinds = [e for e, _ in follower.events]
    assert kinds[0] == "start" and kinds[-1] == "done", kinds
    assert follower.data("start")["message_id"] == start["message_id"]
    text = "".join(d["text"] for e, d in follower.events if e == "delta")
    assert text == follower.data("done")["text"] == stream.data("done")["text"]  # from its first word, nothing twice
    with b.client() as client:
        ended = client.get(f"/api/conversations/{start['conversation_id']}/live")
        assert ended.status_code == 409 and ended.json()["error"]["code"] == "not_generating"


def _get_stream(stream: Stream) -> None:
    with httpx.Client(base_url=stream.url, timeout=30) as client:
        with client.stream("GET", stream.path) as response:
            event = None
            for line in response.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    stream.events.append((event, json.loads(line[5:].strip())))
                    event = None
    stream.ended_at = time.monotonic()
