"""``masterhall serve``: the web hall, ``/api`` and the OpenAI-compatible ``/v1``."""

from __future__ import annotations

import ipaddress
import threading
import time
from typing import Optional

import typer

from ..config import load_settings
from ..hall import build_hall
from ..store.db import Store
from .common import assembly_progress, err, fail, out

#: Seconds between the server answering and the model starting to load: a browser opened on the
#: printed URL gets the hall page (about 0.2 s) before the load makes the server slow for a while.
LOAD_GRACE_S = 1.5


def serve(
    host: Optional[str] = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, "--port", "-p", help="Port (default 8042)."),
    backend: Optional[str] = typer.Option(None, "--backend", "--model", "-m", help="Default backend name or a .gguf path."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, max=64,
                                help="Hall processes on this port (needs PostgreSQL; with Redis, Stop and live answers "
                                     "reach every process)."),
    insecure: bool = typer.Option(False, "--insecure",
                                  help="Serve a non-loopback address even though the hall has no account (anyone who "
                                       "reaches it can read and write everything)."),
) -> None:
    """Open the web hall (and the /api and OpenAI-compatible /v1 APIs) in the browser.

    A non-loopback ``--host`` needs an account first (``masterhall users add NAME --admin
    --password-stdin``); ``--insecure`` serves it without one, with a warning."""
    import uvicorn

    from ..web.app import create_app

    settings = load_settings(backend=backend, host=host, port=port)
    if workers > 1 and (settings.database_url or "sqlite").startswith("sqlite"):
        fail(f"--workers {workers} needs PostgreSQL: a SQLite file is one process's database (its writes would lock "
             "each other out). Set MASTERHALL_DATABASE_URL=postgresql+psycopg://USER@HOST/DB (and MASTERHALL_REDIS_URL), "
             "or serve with one worker.")
    if workers > 1 and not settings.redis_url:
        err.print("[yellow]Warning:[/] several workers without MASTERHALL_REDIS_URL: Stop only reaches the worker that runs "
                  "the answer, and published masters reach the other workers when they restart.", highlight=False)
    store = Store(settings.database_url)  # checked before the hall (and its models) is built
    if not is_loopback(settings.host):
        if not store.accounts.count_users():
            if not insecure:
                store.close()
                fail(f"Refusing to serve {settings.host}: the hall has no account, so anyone who can reach this "
                     "address could read and write every conversation. Add an admin first:\n"
                     "    masterhall users add NAME --admin --password-stdin\n"
                     "(then everyone signs in, and API clients use keys from 'masterhall keys create NAME'), "
                     "or serve 127.0.0.1 only. --insecure serves it anyway.")
            err.print(f"[bold red]WARNING — INSECURE:[/] serving {settings.host} with no account: ANYONE who can "
                      "reach this address can read, change and delete every conversation and master. Add an "
                      "account (masterhall users add NAME --admin --password-stdin) and restart without --insecure.",
                      highlight=False)
        err.print("[yellow]Note:[/] the hall speaks plain HTTP; across a network put it behind a reverse proxy with "
                  "HTTPS. Host names other than localhost and IP addresses must be listed in allowed_hosts "
                  "(MASTERHALL_ALLOWED_HOSTS); see the README's Security section.", highlight=False)
    if workers > 1:
        store.close()
        _serve_workers(settings, workers, backend)
        return
    hall = build_hall(settings, store=store, progress=assembly_progress())
    app = create_app(hall, background=False)
    server = uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning"))
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{shown}:{settings.port}/"

    def when_listening() -> None:
        # The URL is printed once the server answers; only then does the model start loading
        # (it holds Python's interpreter lock for seconds: started earlier, it delays the start).
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.02)
        out.print(f"MasterHall is open at [bold]{url}[/]  (Ctrl-C to stop; the model loads in the background)")
        if hall.bus.shared and not hall.bus.call(lambda r: r.ping(), default=False):
            err.print(f"[yellow]Warning:[/] {hall.bus.warning}", highlight=False)
        time.sleep(LOAD_GRACE_S)  # let a browser opened on the URL get the page first
        hall.start_background()

    threading.Thread(target=when_listening, name="serve-ready", daemon=True).start()
    server.run()


def _serve_workers(settings, workers: int, backend: str | None) -> None:
    """Run ``workers`` hall processes on one port (uvicorn's supervisor; each builds its own hall
    from the environment, which carries the command line's options)."""
    import os

    import uvicorn

    os.environ.update({"MASTERHALL_HOST": settings.host, "MASTERHALL_PORT": str(settings.port)})
    if backend:
        os.environ["MASTERHALL_BACKEND"] = backend
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    out.print(f"MasterHall is starting {workers} processes at [bold]http://{shown}:{settings.port}/[/]  (Ctrl-C to stop)")
    uvicorn.run("masterhall.web.app:worker_app", factory=True, host=settings.host, port=settings.port, workers=workers,
                log_level="warning")


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` listens on this machine only (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any address


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``masterhall`` app."""
    app.command("serve")(serve)
