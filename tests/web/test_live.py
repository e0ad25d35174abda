"""What needs a real server: a client that disconnects, and a server killed mid-answer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx

from masterhall import load_settings
from masterhall.hall import build_hall
from masterhall.store import Store
from masterhall.web.app import create_app

from .conftest import LiveServer, free_port


def _wait_status(store: Store, conv_id: str, status: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msgs = store.conversations.messages(conv_id)
        if msgs[-1].status == status:
            return msgs
        time.sleep(0.05)
    raise AssertionError(f"status stayed {msgs[-1].status}")


def test_client_disconnect_keeps_partial_answer(live, hall, fake):
    fake.delay_s = 0.02
    fake.queue(" ".join(f"w{i}" for i in range(500)))
    with httpx.Client(base_url=live.url, timeout=10) as client:
        with client.stream("POST", "/api/messages", json={"master_id": "socrates", "content": "talk"}) as r:
            lines = r.iter_lines()
            conv_id = None
            deltas = 0
            for line in lines:
                if line.startswith("data:") and conv_id is None:
                    conv_id = json.loads(line[5:])["conversation_id"]
                if line == "event: delta":
                    deltas += 1
                    if deltas == 5:
                        break
    msgs = _wait_status(hall.store, conv_id, "stopped")
    assert msgs[0].content == "talk"
    assert msgs[1].error == "the client disconnected" and msgs[1].content.startswith("w0 w1 w2 w3 w")


def _wait_for_stored_text(db_url: str, timeout: float = 20.0) -> None:
    """Poll the database until the newest answer has stored text."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        store = Store(db_url)
        try:
            convs = store.conversations.list()
            msgs = store.conversations.messages(convs[0].id) if convs else []
        finally:
            store.close()
        if len(msgs) == 2 and msgs[1].content:
            return
        time.sleep(0.1)
    raise AssertionError("no partial answer was stored")


def test_server_killed_mid_answer_loses_nothing(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('backend = "slow"\n[backends.slow]\ntype = "fake"\ndelay_s = 0.05\n')
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTERHALL_")}
    env.update(MASTERHALL_CONFIG=str(config), MASTERHALL_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "masterhall.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/api/status", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, proc.stdout.read() if proc.poll() is not None else "timeout"
            time.sleep(0.1)
        message = "please repeat " + " ".join(f"word{i}" for i in range(300))
        with httpx.stream("POST", url + "/api/messages", json={"master_id": "seneca", "content": message}, timeout=10) as r:
            deltas = 0
            for line in r.iter_lines():
                deltas += line == "event: delta"
                if deltas == 30:
                    break
            # kill once the partial answer is on disk (written every 0.5 s; later on a busy machine),
            # with the stream still open, so the answer is cut by the kill and nothing else
            _wait_for_stored_text(f"sqlite:///{tmp_path / 'data' / 'masterhall.db'}")
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    db_url = f"sqlite:///{tmp_path / 'data' / 'masterhall.db'}"
    store = Store(db_url)
    conv = store.conversations.list()[0]
    user, answer = store.conversations.messages(conv.id)
    assert user.content == message
    assert answer.status == "streaming" and answer.content.startswith("[fake] You said: please repeat word0")
    partial = answer.content
    store.close()
    # the next start marks the interrupted answer, keeping its text
    hall = build_hall(load_settings(backend="fake", database_url=db_url))
    with LiveServer(create_app(hall, load_model=False)) as server:
        got = httpx.get(f"{server.url}/api/conversations/{conv.id}").json()["messages"]
    assert got[1]["status"] == "error" and got[1]["content"] == partial and "interrupted" in got[1]["error"]
    hall.store.close()
