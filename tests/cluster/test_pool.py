"""A pool of two OpenAI-compatible servers behind one backend name (issue 16, items 2 and 4):
conversation-sticky routing, a server killed under load (every user message stays stored, the
answers it was serving end with a clear error, new turns go to the survivor), failover of a new
request when its server is dead."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from masterhall.backends.pool import PoolBackend, _rank
from masterhall.catalog.models import SamplingParams
from masterhall.config import BackendConfig, load_settings
from masterhall.hall import build_hall
from masterhall.store import Store

from .conftest import free_port

HERE = Path(__file__).parent


class Server:
    """A fake OpenAI-compatible server in its own process (``fake_openai.py``)."""

    def __init__(self, name: str):
        self.name, self.port = name, free_port()
        self.proc = subprocess.Popen([sys.executable, str(HERE / "fake_openai.py"), str(self.port), name],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)


@pytest.fixture
def servers():
    made = [Server("s1"), Server("s2")]
    yield made
    for s in made:
        s.kill()


def pooled_hall(tmp_path, servers, health_interval_s: float, slots: int = 4):
    cfg = BackendConfig(type="openai", base_urls=[s.url for s in servers], model="fake-model", context_window=4096,
                        parallel=slots, health_interval_s=health_interval_s)
    settings = load_settings(backend="pool", safety_semantic=False, backends={"pool": cfg})
    hall = build_hall(settings, store=Store(f"sqlite:///{tmp_path / 'pool.db'}"), flush_interval_s=0.1)
    hall.start(load_model=False)
    return hall


def run_turns(hall, contents: list[str], conversation_ids: list[str | None] | None = None, max_tokens: int = 30):
    """Send each message (new conversations, or into ``conversation_ids``) at once; the generations."""
    gens = []
    for i, content in enumerate(contents):
        cid = conversation_ids[i] if conversation_ids else None
        gens.append(hall.chat.send(content, master_id=None if cid else "socrates", conversation_id=cid,
                                   params=SamplingParams(max_tokens=max_tokens)))
    return gens


def answers(hall, gens) -> list:
    for gen in gens:
        assert gen.done.wait(30)
    return [hall.chat.get(g.conversation.id).messages for g in gens]


def test_turns_of_a_conversation_stay_on_its_server(tmp_path, servers):
    hall = pooled_hall(tmp_path, servers, 5.0, slots=16)  # never busy: stickiness alone decides
    firsts = answers(hall, run_turns(hall, [f"question number {i}" for i in range(6)]))
    cids = [m[0].conversation_id for m in firsts]
    seconds = answers(hall, run_turns(hall, ["and then?"] * 6, cids))
    for first, second in zip(firsts, seconds):
        assert first[1].status == second[3].status == "complete"
        assert first[1].content.split()[0] == second[3].content.split()[0]  # "[s1]" or "[s2]" both times
    hall.close()


def test_routing_is_sticky_per_conversation_spreads_conversations_and_keeps_a_master_together_when_busy():
    pool = PoolBackend("p", [f"http://10.0.0.{i}:8080/v1" for i in range(1, 4)], "m", slots=2)

    def choose(conversation: str, master: str = "system"):
        server = pool._choose(f"{master}\x00{conversation}", master, set())
        server.in_flight -= 1  # done at once: every choice below sees idle servers unless set busy
        return server

    idle = {f"question {i}": choose(f"question {i}").url for i in range(60)}
    assert len(set(idle.values())) == 3  # conversations spread over every server
    assert all(choose(q).url == url for q, url in idle.items())  # and each stays on its own
    home = max(pool._servers, key=lambda s: _rank("system", s.url))  # the master's server
    away = next(q for q, url in idle.items() if url != home.url)
    sticky = next(s for s in pool._servers if s.url == idle[away])
    sticky.in_flight = 2  # the conversation's server is busy: its master's server takes it
    assert choose(away).url == home.url
    home.in_flight = 2  # both busy: the least busy one
    assert choose(away).url == next(s.url for s in pool._servers if s not in (home, sticky))
    for s in pool._servers:
        s.in_flight = 0


def test_a_server_killed_under_load_loses_no_user_message_and_new_turns_go_to_the_survivor(tmp_path, servers):
    s1, s2 = servers
    hall = pooled_hall(tmp_path, servers, 0.3)
    gens = run_turns(hall, [f"load {i} " + "word " * 20 for i in range(12)], max_tokens=200)  # ~4 s each
    firsts = [threading.Event() for _ in gens]
    for gen, first in zip(gens, firsts):
        gen.on_event(lambda e, first=first: first.set() if e is not None and e.type == "delta" else None)
    for first in firsts:
        assert first.wait(20)
    s1.kill()
    results = answers(hall, gens)
    assert all(m[0].role == "user" and m[0].content.startswith("load ") for m in results)  # every user message stored
    cut = [m[1] for m in results if m[1].status == "error"]
    whole = [m[1] for m in results if m[1].status == "complete"]
    assert cut and whole and len(cut) + len(whole) == 12
    assert all(a.content.startswith("[s1]") for a in cut) and all(a.content.startswith("[s2]") for a in whole)
    assert all(s1.url in a.error and "partial answer is kept" in a.error for a in cut)
    pool = hall.registry.get("pool")
    assert [s["up"] for s in pool.servers()] == [False, True]
    # new turns — new conversations and the cut ones again — all go to the survivor
    cut_ids = [m[0].conversation_id for m in results if m[1].status == "error"]
    later = answers(hall, run_turns(hall, [f"after {i}" for i in range(6)]) + run_turns(hall, ["again"] * len(cut_ids), cut_ids))
    for messages in later:
        assert messages[-1].status == "complete" and messages[-1].content.startswith("[s2]")
    hall.close()


def test_a_new_request_fails_over_when_its_server_is_dead(tmp_path, servers):
    s1, s2 = servers
    hall = pooled_hall(tmp_path, servers, 60.0)  # no health check in time: the request itself finds out
    s1.kill()
    results = answers(hall, run_turns(hall, [f"failover {i}" for i in range(8)]))
    assert all(m[1].status == "complete" and m[1].content.startswith("[s2]") for m in results)
    s2.kill()
    gone = answers(hall, run_turns(hall, ["nobody home"]))[0]
    assert gone[0].content == "nobody home" and gone[1].status == "error"
    assert "no inference server of 'pool' can take the request" in gone[1].error
    hall.close()
