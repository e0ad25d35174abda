"""``masterhall serve`` prints its URL once the server answers, and loads the model only then."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import socket

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_printed_url_answers_at_once(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('backend = "f"\n[backends.f]\ntype = "fake"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTERHALL_") or k == "MASTERHALL_CACHE_DIR"}
    env.update(MASTERHALL_CONFIG=str(config), MASTERHALL_DATA_DIR=str(tmp_path / "data"), COLUMNS="200")
    port = free_port()
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "masterhall.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        for line in proc.stdout:
            found = re.search(r"http://\S+/", line)
            if found:
                url = found.group(0)
                break
        assert url == f"http://127.0.0.1:{port}/", url
        # was: printed before the server listened (and before the model load that delays it)
        status = httpx.get(url + "api/status", timeout=5)
        assert status.status_code == 200
        assert time.monotonic() - start < 60
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_hall_start_can_leave_the_model_and_index_for_later(tmp_path):
    from masterhall import load_settings
    from masterhall.hall import build_hall
    from masterhall.store import Store

    store = Store(f"sqlite:///{tmp_path / 'hall.db'}")
    hall = build_hall(load_settings(backend="fake"), store=store)
    try:
        from masterhall.finder import Finder

        hall.finder._factory = lambda masters: Finder(masters, channels=[], persist=False)  # a quick index
        hall.start(background=False)  # what serve does before the server answers
        assert hall.loader.state == "loading" and hall.finder.state == "idle"
        hall.start_background()  # serve, once the URL answers
        deadline = time.monotonic() + 10
        while hall.loader.state == "loading" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert hall.loader.state == "ready" and hall.finder.state in ("building", "ready")
    finally:
        store.close()
