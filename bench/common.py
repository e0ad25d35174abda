"""What every benchmark part shares: an isolated environment, servers on 127.0.0.1, SSE clients,
small statistics, machine facts and the text table.

Times are seconds (``time.perf_counter``) unless a name says ``_ms``; rates are tokens per second.
Nothing here touches the user's files: the data dir is a temporary folder and ``MASTERHALL_CONFIG``
points at a file that does not exist (only ``MASTERHALL_CACHE_DIR``, where the embedded GGUF is
assembled, is inherited).
"""

from __future__ import annotations

import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import httpx

#: The repository root (``bench/`` lives in it); subprocesses run from here.
REPO_ROOT = Path(__file__).resolve().parents[1]


# -- options and run context -------------------------------------------------------------------
@dataclass
class Options:
    """Knobs of one bench run.

    ``threads``: llama.cpp CPU threads, every path the same (default: MasterHall's own default,
    :func:`masterhall.backends.llamacpp.default_threads`); ``parallel``: llama.cpp slots;
    ``max_tokens``: reply length of the decode runs; ``rounds``: measured rounds per decode path;
    ``quick``: smaller sizes everywhere (for smoke tests, not for numbers); ``roundtable_backend``:
    the backend of the round-table part (``embedded``; ``fake`` proves the part runs, its ratio
    means nothing); ``roundtable_compare``: also run every round on a second server whose round
    tables do not read the next speaker ahead (``MASTERHALL_ROUNDTABLE_PREREAD=false``), interleaved.
    """

    threads: int = field(default_factory=lambda: _default_threads())
    parallel: int = 4
    context_window: int = 4096
    max_tokens: int = 128
    rounds: int = 3
    requests: int = 200
    quick: bool = False
    roundtable_backend: str = "embedded"
    roundtable_compare: bool = False


class Context:
    """One bench run: options, a temporary workdir, the isolated environment, shared servers.

    Use as a context manager; on exit every server it started is stopped and the environment of
    this process is restored.
    """

    def __init__(self, options: Options, workdir: Path | None = None):
        self.options = options
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="masterhall-bench-")
        self.workdir = Path(workdir or self._tmp.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = isolated_env(self.workdir / "data", options)
        self._saved_env: dict[str, str] = {}
        self._entered = False
        self._servers: dict[str, ServerProcess] = {}

    def __enter__(self) -> "Context":
        self._saved_env = {k: v for k, v in os.environ.items() if k.startswith("MASTERHALL_")}
        for key in self._saved_env:
            del os.environ[key]
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("MASTERHALL_")})
        self._entered = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the shared servers, restore the environment, remove the temporary workdir."""
        for server in self._servers.values():
            server.stop()
        self._servers.clear()
        if self._entered:
            for key in [k for k in os.environ if k.startswith("MASTERHALL_")]:
                del os.environ[key]
            os.environ.update(self._saved_env)
            self._entered = False
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def server(self, backend: str = "embedded", variant: str = "", env: dict[str, str] | None = None) -> "ServerProcess":
        """A ``masterhall serve`` shared by the parts of this run (started on first use, model
        loaded); a ``variant`` name gets a server of its own, with ``env`` added to its environment."""
        key = f"{backend}-{variant}" if variant else backend
        if key not in self._servers:
            server = ServerProcess({**self.env, **(env or {})}, self.workdir / f"serve-{key}.log", backend=backend,
                                   data_dir=self.workdir / f"data-{key}")
            server.start(wait_model=True)
            self._servers[key] = server
        return self._servers[key]


def _default_threads() -> int:
    from masterhall.backends.llamacpp import default_threads

    return default_threads()


def isolated_env(data_dir: Path, options: Options) -> dict[str, str]:
    """The environment of every MasterHall process of the run (this one included).

    No ``MASTERHALL_*`` variable of the machine leaks in except ``MASTERHALL_CACHE_DIR``; the data
    dir is ``data_dir``, the config file does not exist, threads and slots are the run's.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTERHALL_") or k == "MASTERHALL_CACHE_DIR"}
    data_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        MASTERHALL_DATA_DIR=str(data_dir),
        MASTERHALL_CONFIG=str(data_dir / "absent-config.toml"),
        MASTERHALL_THREADS=str(options.threads),
        MASTERHALL_PARALLEL=str(options.parallel),
        MASTERHALL_CONTEXT_WINDOW=str(options.context_window),
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p),
        PYTHONUNBUFFERED="1",
    )
    return env


# -- servers -------------------------------------------------------------------------------------
def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """A server subprocess on 127.0.0.1: ``masterhall serve`` by default, or any ``command``.

    ``start`` records ``t_http_ready_s`` (spawn → first answer to ``ready_path``) and, with
    ``wait_model``, ``t_model_ready_s`` (spawn → ``/api/status`` says the model is ready).
    Every wait is bounded by ``timeout_s``; output goes to ``log_path``.
    """

    def __init__(self, env: dict[str, str], log_path: Path, *, backend: str | None = None,
                 command: list[str] | None = None, ready_path: str = "/api/status",
                 data_dir: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(env)
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            self.env["MASTERHALL_DATA_DIR"] = str(data_dir)
        self.command = command or [sys.executable, "-m", "masterhall.cli", "serve", "--host", "127.0.0.1",
                                   "--port", str(self.port)] + (["--backend", backend] if backend else [])
        self.command = [part.replace("{port}", str(self.port)) for part in self.command]
        self.ready_path = ready_path
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.t_spawn = 0.0
        self.t_http_ready_s: float | None = None
        self.t_model_ready_s: float | None = None

    def spawn(self) -> None:
        """Start the process (returns at once)."""
        self._log = open(self.log_path, "ab")
        self.t_spawn = time.perf_counter()
        self.proc = subprocess.Popen(self.command, env=self.env, cwd=REPO_ROOT, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_http(self, timeout_s: float = 60.0) -> float:
        """Block until ``ready_path`` answers 200; return seconds since spawn."""
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            while True:
                self._check_alive()
                try:
                    if client.get(self.ready_path).status_code == 200:
                        self.t_http_ready_s = time.perf_counter() - self.t_spawn
                        return self.t_http_ready_s
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.command[2:4]} did not answer within {timeout_s:.0f} s; see {self.log_path}")
                time.sleep(0.01)

    def wait_model(self, timeout_s: float = 180.0) -> float:
        """Block until ``/api/status`` reports the model ``ready``; return seconds since spawn."""
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            while True:
                self._check_alive()
                try:
                    state = client.get("/api/status").json()["model"]
                except httpx.TimeoutException:  # the model library holds the GIL while it loads
                    state = {"state": "loading"}
                if state["state"] == "ready":
                    self.t_model_ready_s = time.perf_counter() - self.t_spawn
                    self.wait_background(client, deadline)
                    return self.t_model_ready_s
                if state["state"] == "error":
                    raise RuntimeError(f"the model failed to load: {state['message']}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the model was not ready within {timeout_s:.0f} s")
                time.sleep(0.02)

    def wait_background(self, client: httpx.Client, deadline: float) -> None:
        """Block until the start-up work that runs beside the model load is over — the Finder's
        index (15-30 s on 2 cores with a cold vector cache) and the safety classifier's fit — so
        that no measurement shares the CPUs with it. A hall that does not report a part (an older
        one, or one without it) is not waited for."""
        busy = {"idle", "building", "preparing"}
        while True:
            self._check_alive()
            try:
                status = client.get("/api/status").json()
            except httpx.TimeoutException:
                status = {"finder": {"state": "building"}}
            if not any((status.get(part) or {}).get("state") in busy for part in ("finder", "safety")):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("the Finder's index or the safety classifier was still being built")
            time.sleep(0.1)

    def start(self, wait_model: bool = True) -> "ServerProcess":
        """Spawn and wait until it answers (and, with ``wait_model``, until the model is loaded)."""
        self.spawn()
        try:
            self.wait_http()
            if wait_model:
                self.wait_model()
        except BaseException:
            self.stop()
            raise
        return self

    def _check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"the server exited with {self.proc.returncode}; see {self.log_path}")

    def memory(self) -> dict[str, float | None]:
        """``rss_mib`` (now) and ``peak_rss_mib`` (``VmHWM``) of the server process, from /proc."""
        return process_memory(self.proc.pid) if self.proc else {"rss_mib": None, "peak_rss_mib": None}

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGINT (uvicorn's graceful stop), then SIGKILL after ``timeout_s``."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout_s)
        self._log.close()
        self.proc = None


def process_cpu_s(pid: int | None = None) -> float:
    """CPU seconds (user + system, all threads) used so far by process ``pid`` (default: this one)."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_memory(pid: int) -> dict[str, float | None]:
    """Resident set size now and at its peak (MiB) of process ``pid``, read from ``/proc/PID/status``."""
    values: dict[str, float | None] = {"rss_mib": None, "peak_rss_mib": None}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return values
    for key, name in (("VmRSS", "rss_mib"), ("VmHWM", "peak_rss_mib")):
        match = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
        if match:
            values[name] = round(int(match.group(1)) / 1024, 1)
    return values


# -- streaming clients ---------------------------------------------------------------------------
@dataclass
class Stream:
    """One streamed answer as a client saw it.

    ``t0``: when the request was sent; ``delta_times``: arrival of each text delta; ``usage``:
    token counts as the server reported them (``completion_tokens``, ``prompt_tokens``,
    ``cached_tokens``, ``tokens_per_s`` = the engine's own decode rate); ``error``: why it failed.
    """

    t0: float
    delta_times: list[float] = field(default_factory=list)
    text: str = ""
    usage: dict = field(default_factory=dict)
    status: str | None = None
    error: str | None = None
    conversation_id: str | None = None
    t_end: float | None = None
    cpu_s: float | None = None

    @property
    def ttft_s(self) -> float | None:
        """Seconds from the request to the first text delta."""
        return self.delta_times[0] - self.t0 if self.delta_times else None

    @property
    def completion_tokens(self) -> int:
        """Reply tokens as reported by the engine (the number of deltas if it reported none)."""
        return int(self.usage.get("completion_tokens") or len(self.delta_times))

    @property
    def decode_tps(self) -> float | None:
        """Client-side decode rate: (tokens − 1) / (last delta − first delta)."""
        if len(self.delta_times) < 2 or self.completion_tokens < 2:
            return None
        span = self.delta_times[-1] - self.delta_times[0]
        return (self.completion_tokens - 1) / span if span > 0 else None

    @property
    def ok(self) -> bool:
        """True when the answer ended normally with some text."""
        return self.error is None and bool(self.delta_times)

    def summary(self) -> dict[str, Any]:
        """JSON-ready numbers of this stream."""
        return {
            "ttft_ms": ms(self.ttft_s),
            "decode_tps": rnd(self.decode_tps),
            "engine_tps": rnd(self.usage.get("tokens_per_s")),
            "completion_tokens": self.completion_tokens,
            "prompt_tokens": self.usage.get("prompt_tokens"),
            "cached_tokens": self.usage.get("cached_tokens"),
            "cpu_ms_per_token": rnd(self.cpu_s * 1000 / self.completion_tokens, 2)
            if self.cpu_s is not None and self.completion_tokens else None,
            "text_head": self.text[:48],
            "error": self.error,
        }


def _frames(chunks: Iterable[tuple[float, bytes]]) -> Iterable[tuple[float, str | None, str]]:
    """``(arrival time, event, data)`` per SSE frame; a frame gets the time of the chunk that completed it."""
    buf = b""
    for t, chunk in chunks:
        buf += chunk.replace(b"\r\n", b"\n")
        while b"\n\n" in buf:
            frame, buf = buf.split(b"\n\n", 1)
            event, data = None, []
            for line in frame.decode("utf-8").split("\n"):
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip())
            yield t, event, "\n".join(data)


def _record(client: httpx.Client, path: str, body: dict, timeout_s: float) -> tuple[float, int, list[tuple[float, bytes]], bytes]:
    """POST and record every raw chunk with its arrival time; parsing waits until the end so the
    client spends as little CPU as possible while the server streams."""
    t0 = time.perf_counter()
    chunks: list[tuple[float, bytes]] = []
    with client.stream("POST", path, json=body, timeout=timeout_s) as response:
        status = response.status_code
        if status != 200:
            return t0, status, [], response.read()
        for chunk in response.iter_raw():
            chunks.append((time.perf_counter(), chunk))
    return t0, status, chunks, b""


def post_messages(client: httpx.Client, body: dict, timeout_s: float = 300.0, path: str = "/api/messages") -> Stream:
    """POST ``/api/messages`` (MasterHall's SSE: ``start``, ``delta``…, ``done`` or ``error``)."""
    t0, status, chunks, error_body = _record(client, path, body, timeout_s)
    stream = Stream(t0=t0)
    if status != 200:
        stream.error = f"HTTP {status}: {error_body[:200].decode(errors='replace')}"
        return stream
    parts = []
    for t, event, data in _frames(chunks):
        payload = json.loads(data) if data else {}
        if event == "start":
            stream.conversation_id = payload.get("conversation_id")
        elif event == "delta":
            stream.delta_times.append(t)
            parts.append(payload.get("text", ""))
        elif event == "done":
            stream.usage = payload.get("usage") or {}
            stream.status = payload.get("status")
        elif event == "error":
            stream.error = f"{payload.get('code')}: {payload.get('message')}"
    stream.text = "".join(parts)
    stream.t_end = chunks[-1][0] if chunks else t0
    if stream.status is None and stream.error is None:
        stream.error = "the stream ended without a done event"
    return stream


def post_chat_completions(client: httpx.Client, body: dict, timeout_s: float = 300.0) -> Stream:
    """POST ``/v1/chat/completions`` with ``stream`` and usage (OpenAI's SSE chunks)."""
    body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    t0, status, chunks, error_body = _record(client, "/v1/chat/completions", body, timeout_s)
    stream = Stream(t0=t0)
    if status != 200:
        stream.error = f"HTTP {status}: {error_body[:200].decode(errors='replace')}"
        return stream
    parts = []
    for t, _event, data in _frames(chunks):
        if data == "[DONE]":
            stream.status = "complete"
            continue
        payload = json.loads(data)
        if "error" in payload:
            stream.error = str(payload["error"].get("message"))
            continue
        for choice in payload.get("choices") or ():
            text = (choice.get("delta") or {}).get("content")
            if text:
                stream.delta_times.append(t)
                parts.append(text)
        if payload.get("usage"):
            stream.usage = payload["usage"]
    stream.text = "".join(parts)
    stream.t_end = chunks[-1][0] if chunks else t0
    if stream.status is None and stream.error is None:
        stream.error = "the stream ended without [DONE]"
    return stream


# -- numbers -------------------------------------------------------------------------------------
def rnd(value: float | None, digits: int = 1) -> float | None:
    """Round, keeping ``None``."""
    return None if value is None else round(value, digits)


def ms(seconds: float | None) -> float | None:
    """Seconds → milliseconds, one decimal."""
    return None if seconds is None else round(seconds * 1000, 1)


def median(values: Iterable[float | None]) -> float | None:
    """Median of the values that are not ``None`` (``None`` if there are none)."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ratio(a: float | None, b: float | None, digits: int = 3) -> float | None:
    """``a / b`` rounded, ``None`` when either is missing or ``b`` is 0."""
    return None if a is None or not b else round(a / b, digits)


def jain(values: Iterable[float | None]) -> float | None:
    """Jain's fairness index (Σx)² / (n·Σx²): 1.0 when all equal, 1/n when one takes everything."""
    xs = [v for v in values if v is not None]
    if not xs or not any(xs):
        return None
    return round(sum(xs) ** 2 / (len(xs) * sum(x * x for x in xs)), 3)


def target(name: str, value: float | None, limit: float, op: str) -> dict[str, Any]:
    """A target check: ``value op limit`` with ``op`` one of ``<=``, ``>=``, ``==``."""
    met = value is not None and {"<=": value <= limit, ">=": value >= limit, "==": value == limit}[op]
    return {"name": name, "value": value, "limit": limit, "op": op, "met": bool(met)}


# -- the machine ---------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    """What the numbers ran on: CPUs, CPU model, memory, load average, versions."""
    cpuinfo = _read("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    cores = {m for m in re.findall(r"^physical id\s*:\s*(\d+)[\s\S]*?^core id\s*:\s*(\d+)", cpuinfo, re.M)}
    meminfo = _read("/proc/meminfo")
    mem = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.M)
    try:
        from importlib.metadata import version

        xllamacpp = version("xllamacpp")
    except Exception:  # noqa: BLE001 - only informative
        xllamacpp = None
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "physical_cores": len(cores) or None,
        "cpu_model": model.group(1).strip() if model else platform.processor() or None,
        "memory_gib": round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None,
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "xllamacpp": xllamacpp,
        "platform": platform.platform(),
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


# -- output --------------------------------------------------------------------------------------
def table(title: str, columns: list[str], rows: list[dict[str, Any]]) -> str:
    """A plain-text table (also valid Markdown) of ``rows`` under ``title``."""
    def cell(value: Any) -> str:
        if value is None:
            return "–"
        if isinstance(value, (list, tuple)):
            return " / ".join(cell(v) for v in value)
        if isinstance(value, float):
            return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
        return str(value)

    cells = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(columns)]
    line = lambda values: "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"  # noqa: E731
    out = [f"### {title}", "", line(columns), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(row) for row in cells]
    return "\n".join(out)
