"""Web clients that act for a person: member A, member B and an admin (and, later, nobody).

Until the hall signs people in, a test hands the app its caller directly: :func:`acting_as`
wraps the app so that the header ``X-Test-As: a|b|admin`` puts that person on
``request.state.caller`` — where the authentication middleware puts a signed-in person or the
owner of an API key. The people are rows of ``users`` made directly in the database.

To switch these tests to real sign-in, change only :func:`people_clients`: sign each person in
(or give each an API key as ``Authorization: Bearer …``) instead of sending the header, and drop
the wrapper.
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


@dataclass
class PeopleClients:
    """One client per person (``anon`` sends no credential) and their callers by name."""

    anon: httpx.AsyncClient
    a: httpx.AsyncClient
    b: httpx.AsyncClient
    admin: httpx.AsyncClient
    callers: dict[str, Caller] = field(default_factory=dict)

    def of(self, who: str) -> httpx.AsyncClient:
        return getattr(self, who)


@pytest.fixture
async def people_clients(hall, accounts):
    """Clients of one app over ``hall`` (SQLite and PostgreSQL) for members ``a`` and ``b``, an
    ``admin`` and ``anon``."""
    engine = hall.store.engine
    callers = {"a": accounts(engine, "alice"), "b": accounts(engine, "bob"), "admin": accounts(engine, "root", "admin")}
    app = create_app(hall, load_model=False)
    transport = httpx.ASGITransport(app=acting_as(app, callers))
    async with app.router.lifespan_context(app):
        clients = {who: httpx.AsyncClient(transport=transport, base_url="http://hall", timeout=30,
                                          headers={"X-Test-As": who} if who != "anon" else {})
                   for who in ("anon", "a", "b", "admin")}
        try:
            yield PeopleClients(**clients, callers=callers)
        finally:
            for client in clients.values():
                await client.aclose()
