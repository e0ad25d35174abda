"""What routes depend on: the hall of the app, through one FastAPI dependency.

``create_app`` puts the hall on ``app.state.hall`` (created once per app, never at import);
routes declare ``hall: HallDep`` and call its services. Future per-request needs (the current
person, a request's language) belong here too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..accounts import LOCAL, Caller
from ..hall import Hall
from .render import MarkdownRenderer


def hall_of(request: Request) -> Hall:
    """The hall serving ``request`` (the one place that knows where the app keeps it)."""
    return request.app.state.hall


async def get_hall(request: Request) -> Hall:
    """The hall serving this request, as a dependency (``async``: FastAPI runs it in the event
    loop, where a plain function would cost a worker-thread round trip per request)."""
    return hall_of(request)


#: A route parameter that receives the hall: ``def route(hall: HallDep): …``.
HallDep = Annotated[Hall, Depends(get_hall)]


async def get_render(request: Request) -> MarkdownRenderer:
    """The app's Markdown renderer (Markdown to sanitized HTML)."""
    return request.app.state.render


#: A route parameter that receives the Markdown renderer.
RenderDep = Annotated[MarkdownRenderer, Depends(get_render)]


async def get_caller(request: Request) -> Caller:
    """The person this request acts for: what the authentication middleware put on
    ``request.state.caller``, else :data:`~masterhall.accounts.LOCAL` (a hall without accounts)."""
    return getattr(request.state, "caller", LOCAL)


#: A route parameter that receives the caller: ``def route(hall: HallDep, caller: CallerDep): …``.
CallerDep = Annotated[Caller, Depends(get_caller)]
