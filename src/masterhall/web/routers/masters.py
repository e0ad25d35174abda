"""``/api`` masters: the hall's status, the masters, one master, and the Master Finder."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AfterValidator, BaseModel, Field

from ...catalog import check_category
from ...inputs import Text
from ..deps import CallerDep, HallDep
from ..guide import create_url
from .schemas import errors

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/status", summary="Server and model status")
def status(hall: HallDep) -> dict:
    safety = {"state": hall.safety.state, "prepare_s": round(hall.safety.prepare_seconds, 2), "error": hall.safety.error_message}
    finder = {"state": hall.finder.state, "error": hall.finder.error_message}  # idle, building, ready, error
    answer = {"model": hall.loader.to_dict(), "backend": hall.registry.default_name, "safety": safety, "finder": finder}
    if hall.bus.shared:  # several processes: whether Stop and live answers reach them all
        answer["redis"] = {"state": hall.bus.state, "warning": hall.bus.warning}
    return answer


#: A category's id: an unknown one is a 422 naming the ids, not an empty list.
CategoryId = Annotated[Text, AfterValidator(check_category)]


@router.get("/masters", summary="List the masters", responses=errors())
def list_masters(hall: HallDep, category: CategoryId | None = None) -> list[dict]:
    return [m.model_dump(include={"id", "category", "avatar", "name", "tagline", "tags"}) for m in hall.catalog.advisors(category)]


@router.get("/masters/{master_id}", summary="One master, all fields (no `instructions` when its creator hides them from you)",
            responses=errors(404))
def get_master(hall: HallDep, caller: CallerDep, master_id: Text):
    return hall.library.view(master_id, caller)


class MatchQuery(BaseModel):
    """A free-text need for the Master Finder."""

    q: Text = Field(description="What the person needs, in any language (at most 10,000 characters).")
    k: int = Field(default=5, ge=1, le=20)
    lang: Literal["zh", "en"] | None = None


def _match(hall, body: MatchQuery) -> dict:
    """``{"query", "lang", "index", "no_fit", "matches": [...], "create_url"?}``: every match
    carries ``fit`` (0-1, calibrated) and ``strength`` (``strong``, ``weak`` or ``null``: not a
    recommendation); ``no_fit`` is true when no master fits, and then ``create_url`` opens the
    builder prefilled with the need. Never waits for the Finder's index: while it is first built
    ``index`` is ``building`` (``error`` if building failed, else ``ready``) and the matches come
    from names and BM25 alone — uncalibrated, so a keyword match is at most ``weak`` and
    ``no_fit`` stays false (nobody can tell yet)."""
    result, index = hall.finder.search(body.q, k=body.k, lang=body.lang)
    out = []
    for m in result.matches:
        master = hall.catalog.masters.get(m.master_id)
        if master is None:
            continue
        row = {**m.to_dict(), "id": m.master_id, "avatar": master.avatar, "tagline": master.tagline.get(m.lang),
               "category": master.category}
        if index != "ready" and row["strength"] is None:
            row["strength"] = "weak"
        out.append(row)
    no_fit = index == "ready" and not any(m["strength"] for m in out)
    answer = {"query": body.q, "lang": result.lang, "index": index, "no_fit": no_fit, "matches": out}
    if no_fit:
        answer["create_url"] = create_url(body.q)
    return answer


@router.get("/match", summary="Master Finder: the masters who fit a need, best first, each with a reason",
            responses=errors(400))
def match_get(hall: HallDep, q: Annotated[Text, Query(description="The need, free text.")] = "", k: int = Query(5, ge=1, le=20),
              lang: Literal["zh", "en"] | None = None):
    return _match(hall, MatchQuery(q=q, k=k, lang=lang))


@router.post("/match", summary="Master Finder for long needs (same answer as GET)", responses=errors(400))
def match_post(hall: HallDep, body: MatchQuery):
    return _match(hall, body)
