"""Health, readiness and metrics for load balancers, orchestrators and Prometheus.

``/healthz``: the process answers (liveness; always 200 while it runs). ``/readyz``: 200 when it
can serve turns, else 503, with what was checked (:meth:`~masterhall.hall.Hall.readiness`).
Both are public, also in a hall with accounts: they tell nothing about anyone's data.
``/metrics``: Prometheus text format (:mod:`masterhall.metrics`); in a hall with accounts for
admins only (a signed-in admin, or an admin's API key as ``Authorization: Bearer``), since it
shows how busy the hall is; in a hall without accounts, like every route, to whoever reaches it.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from ...errors import ForbiddenError
from ..deps import CallerDep, HallDep
from .schemas import errors

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: database, model, pool servers (503 when not ready)",
            responses={503: {"description": "Not ready: see the checks"}})
def readyz(hall: HallDep):
    checks = hall.readiness()
    return JSONResponse(checks, status_code=200 if checks["ready"] else 503)


@router.get("/metrics", summary="Prometheus metrics (admins only in a hall with accounts)", responses=errors(403),
            response_class=Response)
def metrics(hall: HallDep, caller: CallerDep):
    if hall.accounts.has_accounts() and not caller.is_admin:
        raise ForbiddenError("metrics are for the hall's admins (an admin's session or API key)")
    body, content_type = hall.metrics.exposition()
    return Response(body, media_type=content_type)
