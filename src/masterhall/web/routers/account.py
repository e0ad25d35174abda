"""Signing in and managing accounts in the browser: ``/login``, ``/logout``, ``/account`` (own
password and API keys), ``/admin/members`` (admins: add, disable, enable, remove), and
``GET /api/account`` (who the caller is).

Plain HTML forms posted to the hall itself (the security middleware checks their origin); every
page is ``Cache-Control: no-store``. The cookie is set and cleared by :mod:`masterhall.web.auth`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...errors import AuthenticationError, ConflictError, HallError, InvalidRequestError, NotFoundError, RateLimitedError
from .. import i18n
from ..auth import SESSION_COOKIE, clear_session_cookie, set_session_cookie
from ..deps import CallerDep, HallDep
from ..templating import page_lang, render_page
from .pages import _safe_next

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["accounts"])

#: Status of a form's error, by type (the page is shown again with the message).
FORM_STATUS = ((RateLimitedError, 429), (AuthenticationError, 401), (ConflictError, 409), (NotFoundError, 404),
               (InvalidRequestError, 400))


def _message(request: Request, exc: HallError) -> str:
    """The form error's message in the page's language (the English message when no string has its code)."""
    lang = page_lang(request)
    values = {"seconds": exc.details.get("retry_after_s", "")}
    text = i18n.translate(lang, f"account_error_{exc.code}", **values)
    return str(exc) if text == f"account_error_{exc.code}" else text


def _status(exc: HallError) -> int:
    return next((status for kind, status in FORM_STATUS if isinstance(exc, kind)), 400)


def _next_of(target: str | None) -> str:
    target = _safe_next(target)
    return "/" if target.startswith("/login") or target.startswith("/logout") else target


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, caller: CallerDep, next: str | None = None) -> Response:
    """The sign-in form; a signed-in person (or a hall without accounts) goes on to ``next``."""
    if not caller.is_local or not _has_accounts(request):
        return RedirectResponse(_next_of(next), status_code=303)
    return render_page(request, "login.html", next=_next_of(next), error=None, name="")


def _has_accounts(request: Request) -> bool:
    accounts = getattr(request.app.state.hall, "accounts", None)
    return bool(accounts and accounts.has_accounts())


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, hall: HallDep) -> Response:
    """Check the name and password (rate-limited per name and client address); on success set the
    session cookie and go to ``next``, else show the form again with the reason (401, or 429 with
    ``Retry-After``)."""
    form = await _form(request)
    name, target = form.get("name", ""), _next_of(form.get("next"))
    address = request.client.host if request.client else ""
    try:
        sign_in = await run_in_threadpool(hall.accounts.login, name, form.get("password", ""), address)
    except (AuthenticationError, RateLimitedError) as exc:
        response = render_page(request, "login.html", status_code=_status(exc), next=target,
                               error=_message(request, exc), name=name)
        if isinstance(exc, RateLimitedError):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    await run_in_threadpool(hall.accounts.logout, request.cookies.get(SESSION_COOKIE))  # a fresh session, never an old one
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, sign_in)
    return response


@router.post("/logout")
def logout(request: Request, hall: HallDep) -> Response:
    """End this browser's session and go to the sign-in page."""
    hall.accounts.logout(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, request)
    return response


def _account_page(request: Request, hall, caller, status_code: int = 200, **extra) -> HTMLResponse:
    keys = [] if caller.is_local else hall.accounts.list_keys(caller.user_id)
    context = {"keys": keys, "new_key": None, "error": None, "notice": None, **extra}
    return render_page(request, "account.html", status_code=status_code, **context)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, hall: HallDep, caller: CallerDep) -> HTMLResponse:
    """The signed-in person's page: change the password, list, create and revoke API keys."""
    return _account_page(request, hall, caller)


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(request: Request, hall: HallDep, caller: CallerDep) -> HTMLResponse:
    """Change one's own password (the current one is asked again; the two new ones must match);
    the account's other sessions end."""
    form = await _form(request)
    lang = page_lang(request)
    if form.get("new_password", "") != form.get("confirm_password", ""):
        return _account_page(request, hall, caller, 400, error=i18n.translate(lang, "account_passwords_differ"))
    try:
        await run_in_threadpool(lambda: hall.accounts.change_password(
            caller, form.get("current_password", ""), form.get("new_password", ""),
            keep_token=request.cookies.get(SESSION_COOKIE)))
    except HallError as exc:
        return _account_page(request, hall, caller, _status(exc), error=_message(request, exc))
    return _account_page(request, hall, caller, notice=i18n.translate(lang, "account_password_changed"))


@router.post("/account/keys", response_class=HTMLResponse)
async def create_key(request: Request, hall: HallDep, caller: CallerDep) -> HTMLResponse:
    """Create an API key for oneself; the page shows it this once."""
    form = await _form(request)
    if caller.is_local:
        return _account_page(request, hall, caller, 400)
    try:
        _, secret = hall.accounts.create_key(caller.user_id, form.get("label", ""))
    except HallError as exc:
        return _account_page(request, hall, caller, _status(exc), error=_message(request, exc))
    return _account_page(request, hall, caller, 201, new_key=secret)


@router.post("/account/keys/{key_id}/revoke")
def revoke_key(request: Request, hall: HallDep, caller: CallerDep, key_id: int) -> Response:
    """Revoke one of one's own keys (another person's key id answers 404)."""
    if caller.is_local:
        raise NotFoundError(f"no API key with id {key_id}", code="unknown_key")
    hall.accounts.revoke_key(key_id, owner_id=caller.user_id)
    return RedirectResponse("/account", status_code=303)


# -- admins ----------------------------------------------------------------------------------
def _members_page(request: Request, hall, caller, status_code: int = 200, **extra) -> HTMLResponse:
    if not caller.is_admin:
        lang = page_lang(request)
        return render_page(request, "forbidden.html", status_code=403, message=i18n.translate(lang, "admin_only"))
    users = [] if caller.is_local else hall.accounts.list_users()
    return render_page(request, "admin_members.html", status_code=status_code,
                       **{"users": users, "error": None, "notice": None, **extra})


@router.get("/admin/members", response_class=HTMLResponse)
def members_page(request: Request, hall: HallDep, caller: CallerDep) -> HTMLResponse:
    """Admins: every account, with forms to add, disable, enable and remove (403 for members)."""
    return _members_page(request, hall, caller)


@router.post("/admin/members", response_class=HTMLResponse)
async def add_member(request: Request, hall: HallDep, caller: CallerDep) -> HTMLResponse:
    """Admins: add an account (``role`` ``member`` or ``admin``)."""
    form = await _form(request)
    if not caller.is_admin or caller.is_local:
        return _members_page(request, hall, caller, 403 if not caller.is_admin else 400)
    try:
        user = await run_in_threadpool(hall.accounts.create_user, form.get("name", ""), form.get("password", ""),
                                       admin=form.get("role") == "admin")
    except HallError as exc:
        return _members_page(request, hall, caller, _status(exc), error=_message(request, exc))
    notice = i18n.translate(page_lang(request), "admin_member_added", name=user.name)
    return _members_page(request, hall, caller, 201, notice=notice)


@router.post("/admin/members/{user_id}/{action}", response_class=HTMLResponse)
def member_action(request: Request, hall: HallDep, caller: CallerDep, user_id: int, action: str) -> Response:
    """Admins: ``disable``, ``enable`` or ``remove`` account ``user_id``."""
    if not caller.is_admin or caller.is_local:
        return _members_page(request, hall, caller, 403 if not caller.is_admin else 400)
    try:
        if action == "disable":
            hall.accounts.set_disabled(user_id, True)
        elif action == "enable":
            hall.accounts.set_disabled(user_id, False)
        elif action == "remove":
            hall.accounts.remove_user(user_id)
            _drop_removed_masters(hall)
        else:
            raise NotFoundError(f"no action '{action}'")
    except HallError as exc:
        return _members_page(request, hall, caller, _status(exc), error=_message(request, exc))
    return RedirectResponse("/admin/members", status_code=303)


def _drop_removed_masters(hall) -> None:
    """Take the published masters deleted with a removed account out of the running catalog."""
    for master_id in [m for m in hall.catalog.masters if m not in hall.catalog.builtin_ids]:
        if hall.library.get(master_id) is None:
            hall.catalog.remove(master_id)


@api_router.get("/account", summary="Who the caller is, and whether the hall has accounts")
def whoami(hall: HallDep, caller: CallerDep) -> dict:
    """``{"accounts": bool, "user": {"id", "name", "role"} | null}`` (``user`` is null in a hall
    without accounts)."""
    accounts = hall.accounts.has_accounts()
    return {"accounts": accounts,
            "user": None if caller.is_local else {"id": caller.user_id, "name": caller.name, "role": caller.role}}
