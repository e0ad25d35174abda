"""The threads every streamed turn runs on: reused, and a started turn continues on its starter's thread."""

from __future__ import annotations

import threading
import time

from masterhall.conversations.turns import TurnPool


def test_turn_threads_are_reused():
    threads = TurnPool()
    idents: list[int] = []
    for _ in range(3):
        ran = threading.Event()
        threads.submit(lambda ran=ran: (idents.append(threading.get_ident()), ran.set()))
        assert ran.wait(5)
        deadline = time.monotonic() + 5
        while threads._idle == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
    assert len(set(idents)) == 1


def test_the_job_a_handoff_submits_first_runs_on_the_same_thread_and_the_others_elsewhere():
    pool = TurnPool()
    ran: dict[str, int] = {}
    done = threading.Barrier(4, timeout=5)

    def record(name: str) -> None:
        ran[name] = threading.get_ident()
        done.wait()

    def start() -> None:
        ran["start"] = threading.get_ident()
        pool.submit(record, "first")
        pool.submit(record, "second")
        pool.submit(record, "third")

    pool.submit_with_handoff(start)
    done.wait()
    assert ran["first"] == ran["start"]
    assert ran["second"] != ran["start"] and ran["third"] != ran["start"]
