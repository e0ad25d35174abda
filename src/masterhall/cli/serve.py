"""``masterhall serve``: the web hall, ``/api`` and the OpenAI-compatible ``/v1``."""

from __future__ import annotations

from typing import Optional

import typer

from ..config import load_settings
from ..hall import build_hall
from .common import assembly_progress, err, out


def serve(
    host: Optional[str] = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, "--port", "-p", help="Port (default 8042)."),
    backend: Optional[str] = typer.Option(None, "--backend", "--model", "-m", help="Default backend name or a .gguf path."),
) -> None:
    """Open the web hall (and the /api and OpenAI-compatible /v1 APIs) in the browser."""
    import uvicorn

    from ..web.app import create_app

    settings = load_settings(backend=backend, host=host, port=port)
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        err.print(
            f"[bold yellow]Warning:[/] binding to {settings.host}: the hall has no login yet — anyone who can "
            "reach this address can read and write every conversation. Host names other than localhost and IP "
            "addresses must be listed in allowed_hosts (MASTERHALL_ALLOWED_HOSTS); see the README's Security section.",
            highlight=False,
        )
    app = create_app(build_hall(settings, progress=assembly_progress()))
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    out.print(f"MasterHall is open at [bold]http://{shown}:{settings.port}/[/]  (Ctrl-C to stop; the model loads in the background)")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``masterhall`` app."""
    app.command("serve")(serve)
