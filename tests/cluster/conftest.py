"""Several real ``masterhall serve`` processes on one PostgreSQL database and one Redis.

The processes share a throwaway PostgreSQL database (created and dropped here, as the storage
tests do) and the Redis at 127.0.0.1:6379 under a key prefix of their own (every key under it is
deleted afterwards). Each runs the ``slow`` fake backend (a delay between words, so Stop has
something to stop) with the safety guard on its rules alone (no encoders to load). PostgreSQL or
Redis missing skips the tests, except in CI, where it fails them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[2]
CONFIG = """
backend = "slow"
safety_semantic = false
[backends.slow]
type = "fake"
delay_s = 0.03
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        message = f"Redis at {REDIS_URL} unreachable: {exc}"
        if os.environ.get("CI", ""):
            pytest.fail(message + " (CI is set, so this is an error)")
        pytest.skip(message)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without MASTERHALL_* (the cache folder kept), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTERHALL_") or k == "MASTERHALL_CACHE_DIR"}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


@dataclass
class Process:
    """A ``masterhall serve`` process and its base URL."""

    proc: subprocess.Popen
    url: str
    log: Path

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, headers={"origin": self.url}, **kw)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def serve(env: dict[str, str], log: Path, *args: str) -> Process:
    """Start ``masterhall serve`` on a free port and wait (up to 60 s) until ``/readyz`` says ready."""
    port = free_port()
    handle = log.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "masterhall.cli", "serve", "--port", str(port), *args], env=env,
                            stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT)
    process = Process(proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{process.url}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.stop()
    raise AssertionError(f"serve never became ready: {log.read_text()}")


@pytest.fixture(scope="module")
def shared_world(pg_admin, tmp_path_factory):
    """``(env, prefix)``: the environment of hall processes sharing a new PostgreSQL database and
    Redis under a new prefix."""
    redis_or_skip()
    folder = tmp_path_factory.mktemp("cluster")
    (folder / "config.toml").write_text(CONFIG)
    prefix = f"mhtest-{uuid.uuid4().hex[:10]}"
    if isinstance(pg_admin, str):  # no PostgreSQL
        if os.environ.get("CI", ""):
            pytest.fail(pg_admin + " (CI is set, so this is an error)")
        pytest.skip(pg_admin)
    import sqlalchemy as sa

    name = f"mh_test_{uuid.uuid4().hex[:16]}"
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    env = clean_env(MASTERHALL_CONFIG=str(folder / "config.toml"), MASTERHALL_DATABASE_URL=db,
                    MASTERHALL_REDIS_URL=REDIS_URL, MASTERHALL_REDIS_PREFIX=prefix, MASTERHALL_DATA_DIR=str(folder / "data"))
    yield env, prefix, folder
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def two_halls(shared_world):
    """Two ``masterhall serve`` processes (A, B) on the shared database and Redis."""
    env, _prefix, folder = shared_world
    a = serve(env, folder / "a.log")
    try:
        b = serve(env, folder / "b.log")
    except BaseException:
        a.stop()
        raise
    yield a, b
    a.stop()
    b.stop()
