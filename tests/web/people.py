"""Web clients that act for a person: member A, member B, an admin, and nobody (``anon``).

With sign-in (the hall's accounts service on ``hall.accounts``, issue 11), the people are made
through it and each client sends its own API key (``Authorization: Bearer …``): the real way in.
Without it, a test hands the app its caller directly: :func:`acting_as` wraps the app so that the
header ``X-Test-As: a|b|admin`` puts that person on ``request.state.caller`` — where the
authentication middleware puts a signed-in person or the owner of an API key — and the people
are rows of ``users`` made directly in the database. ``PeopleClients.signed_in`` tells which.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pytest

from masterhall.accounts import Caller
from masterhall.web.app import create_app

#: The request header the test wrapper reads.
HEADER = b"x-test-as"


def acting_as(app, callers: dict[str, Caller]):
    """An ASGI app around ``app`` that puts ``callers[<X-Test-As>]`` on ``request.state.caller``
    (no header: nothing, as for a request nobody signed)."""

    async def wrapped(scope, receive, send):
        if scope["type"] == "http":
            name = dict(scope.get("headers") or []).get(HEADER)
            if name is not None:
                scope = {**scope, "state": {**(scope.get("state") or {}), "caller": callers[name.decode()]}}
        await app(scope, receive, send)

    return wrapped


#: A password the accounts service accepts.
PASSWORD = "a long test password 42"


def signed_in(hall) -> tuple[dict[str, Caller], dict[str, dict[str, str]]] | None:
    """With sign-in: the admin, then A and B, made through ``hall.accounts``, their callers and
    the headers with each one's API key; else ``None``."""
    service = getattr(hall, "accounts", None)
    if service is None or not hasattr(service, "create_key"):
        return None
    callers, headers = {}, {}
    for who, name, admin in (("admin", "root", True), ("a", "alice", False), ("b", "bob", False)):
        user = service.create_user(name, PASSWORD, admin=admin)
        _, secret = service.create_key(user.id, label="tests")
        callers[who] = Caller(user_id=user.id, name=name, role="admin" if admin else "member")
        headers[who] = {"Authorization": f"Bearer {secret}"}
    return callers, headers


@dataclass
class PeopleClients:
    """One client per person (``anon`` sends no credential), their callers by name, and whether
    they are really signed in (API keys) or handed to the app by the test wrapper."""

    anon: httpx.AsyncClient
    a: httpx.AsyncClient
    b: httpx.AsyncClient
    admin: httpx.AsyncClient
    callers: dict[str, Caller] = field(default_factory=dict)
    signed_in: bool = False
    app: object = None

    def of(self, who: str) -> httpx.AsyncClient:
        return getattr(self, who)


@pytest.fixture
async def people_clients(hall, accounts):
    """Clients of one app over ``hall`` (SQLite and PostgreSQL) for members ``a`` and ``b``, an
    ``admin`` and ``anon``."""
    app = create_app(hall, load_model=False)
    real = signed_in(hall)
    if real is not None:
        callers, headers = real
        transport = httpx.ASGITransport(app=app)
    else:
        engine = hall.store.engine
        callers = {"a": accounts(engine, "alice"), "b": accounts(engine, "bob"), "admin": accounts(engine, "root", "admin")}
        headers = {who: {"X-Test-As": who} for who in callers}
        transport = httpx.ASGITransport(app=acting_as(app, callers))
    async with app.router.lifespan_context(app):
        clients = {who: httpx.AsyncClient(transport=transport, base_url="http://hall", timeout=30, headers=headers.get(who, {}))
                   for who in ("anon", "a", "b", "admin")}
        try:
            yield PeopleClients(**clients, callers=callers, signed_in=real is not None, app=app)
        finally:
            for client in clients.values():
                await client.aclose()
