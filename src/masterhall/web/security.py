"""Keep other web pages out of a hall that listens on the loopback: pure ASGI middleware.

The hall has no accounts yet, so anything that reaches it may read and write every conversation.
A loopback bind keeps other machines out; this middleware keeps other *web pages* out, which the
person's own browser would otherwise let in:

1. **Host allow-list** (against DNS rebinding, where a page's own host name is re-pointed at
   127.0.0.1 and its scripts become "same-origin" with the hall): the ``Host`` header must be a
   loopback name (``127.0.0.1``, ``localhost``, ``[::1]``, any port), the configured ``host``, an
   IP address literal (rebinding needs a name the attacker controls), or in ``allowed_hosts``.
   Anything else: ``400 host_not_allowed``.
2. **Same-origin writes** (against cross-site request forgery: form posts, multipart and
   body-less ``fetch`` are "simple" requests that no CORS preflight stops): a ``POST``, ``PUT``,
   ``PATCH`` or ``DELETE`` whose ``Origin`` is not the hall's own (scheme, host and port), or that
   has no ``Origin`` but a ``Sec-Fetch-Site`` of ``same-site``/``cross-site`` (a page on another
   port of the same machine is same-site yet another origin): ``403 cross_origin``. Requests
   with neither header (curl, SDKs) pass; so do requests with ``Authorization: Bearer …`` (API
   keys; in a hall with accounts :mod:`masterhall.web.auth` refuses any key that is not valid with
   401, so only a valid key gets a write through): a page cannot send that header to another origin without a CORS
   preflight, which fails because the hall sends no ``Access-Control-Allow-*`` header — and
   under DNS rebinding, where it could, step 1 has already refused the request.
3. **Fetch-Metadata reads** (the resource-isolation policy of web.dev's "Protect your resources
   from web attacks with Fetch Metadata"): a ``GET`` from another site that is not a top-level
   navigation (``Sec-Fetch-Mode: navigate``, not into ``<object>``/``<embed>``) is refused with
   ``403 cross_site_read``, except under ``/static/``. Links from elsewhere to pages and
   downloads still work; a script on another site cannot pull conversations or exports.
4. **Headers on every response**: a Content-Security-Policy (scripts from the hall only, plus the
   hash of the pages' inline import map; no framing), ``X-Content-Type-Options: nosniff``,
   ``Referrer-Policy: same-origin`` (nothing leaks to links in answers, while our own form posts
   keep a real ``Origin`` — ``no-referrer`` would turn it into ``null``), ``X-Frame-Options:
   DENY`` and same-origin ``Cross-Origin-Opener-Policy`` / ``Cross-Origin-Resource-Policy``.

It is one pure ASGI middleware (no ``BaseHTTPMiddleware``: no task or stream wrapper per
request); every constant header is encoded once, at import, and the pages' CSP once per import
map. Per request it costs about 10 µs. Further per-request steps plug into it as :data:`Check`
functions (``SecurityMiddleware(app, settings, checks=[...])``), run after steps 1–3 in order,
each answered like them when it refuses; see :class:`SecurityMiddleware`. (Authentication,
:mod:`masterhall.web.auth`, is its own pure ASGI middleware just inside this one; as a check it
would save one layer.)
"""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
from dataclasses import dataclass
from typing import Callable, Sequence
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Settings
from . import templating
from .errors import api_error, openai_error

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": 80, "https": 443}
#: Page origins that may call the hall, by the request's scheme (WebSocket origins are the page's
#: http/https; a TLS-terminating proxy forwards ``https`` pages over ``http``).
ORIGIN_SCHEMES = {"http": ("http", "https"), "https": ("https",), "ws": ("http", "https"), "wss": ("https",)}
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")

#: CSP of the hall's pages: everything from the hall itself; avatars and the favicon are data: URLs.
PAGE_CSP = ("default-src 'self'; script-src 'self' {script_hashes}; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")
#: CSP of everything that is not a page (JSON, SSE, files): nothing may run or load in it.
DATA_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
#: CSP of FastAPI's /docs and /redoc: they load Swagger UI / ReDoc from a CDN with inline script.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
            "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
            "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
OTHER_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
_OTHER_RAW = tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in OTHER_HEADERS.items())
_CSP = b"content-security-policy"
_DATA_CSP_RAW = DATA_CSP.encode("latin-1")
_DOCS_CSP_RAW = DOCS_CSP.encode("latin-1")


def split_host(value: str) -> tuple[str, int | None] | None:
    """``(host, port)`` of a ``Host`` header or ``allowed_hosts`` entry, lower-cased, IPv6 without
    brackets, no trailing dot: ``"[::1]:8042"`` → ``("::1", 8042)``; ``None`` when malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1:]
        if rest and not rest.startswith(":"):
            return None
        port = rest[1:] if rest else None
    elif value.count(":") > 1:
        return None  # a bare IPv6 address is not a valid Host
    else:
        host, _, port = value.partition(":")
        port = port if ":" in value else None
    host = host.rstrip(".")
    if not host or any(ch in host for ch in "/@\\ ?#") or (port is not None and not (port.isdigit() and len(port) <= 5)):
        return None
    return host, int(port) if port is not None else None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HostPolicy:
    """Which ``Host`` headers the hall answers: ``names`` with any port, ``exact`` ``(name, port)``
    pairs, IP literals, or anything when ``any_host`` (``allowed_hosts = ["*"]``)."""

    names: frozenset[str]
    exact: frozenset[tuple[str, int]] = frozenset()
    any_host: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> "HostPolicy":
        """Loopback names, ``settings.host`` (unless a wildcard bind) and ``settings.allowed_hosts``."""
        names, exact = set(LOOPBACK_NAMES), set()
        bind = split_host(f"[{settings.host}]" if settings.host.count(":") > 1 else settings.host)
        if bind and bind[0] not in WILDCARD_BINDS:
            names.add(bind[0])
        for entry in settings.allowed_hosts:
            if entry.strip() == "*":
                return cls(frozenset(names), frozenset(exact), any_host=True)
            parsed = split_host(entry)
            if parsed is None:
                continue
            if parsed[1] is None:
                names.add(parsed[0])
            else:
                exact.add((parsed[0], parsed[1]))
        return cls(frozenset(names), frozenset(exact))

    def allows(self, host_header: str) -> bool:
        """True when the hall answers a request with this ``Host`` header."""
        if self.any_host:
            return True
        parsed = split_host(host_header)
        if parsed is None:
            return False
        return parsed[0] in self.names or parsed in self.exact or _is_ip(parsed[0])


def same_origin(origin: str, host_header: str | None, scheme: str) -> bool:
    """True when ``origin`` (an ``Origin`` header) is the hall's own: same host and port as the
    ``Host`` header (a missing port is the origin scheme's default), and a scheme that is the
    request's or ``https`` (a TLS-terminating proxy forwards ``https`` pages over ``http``)."""
    if not host_header or origin == "null":
        return False
    try:
        parts = urlsplit(origin)
        origin_port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ORIGIN_SCHEMES.get(scheme, ()) or not parts.hostname or parts.path or parts.query:
        return False
    host = split_host(host_header)
    if host is None:
        return False
    default = DEFAULT_PORTS[parts.scheme]
    return (parts.hostname.rstrip("."), origin_port or default) == (host[0], host[1] or default)


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: HTTP ``status``, a stable ``code`` and a message for people."""

    status: int
    code: str
    message: str


#: A further step of :class:`SecurityMiddleware`: ``check(scope, headers)`` (``headers``:
#: lower-case names → values) returns a :class:`Refusal`, or ``None`` to let the request through.
#: It may leave what it found for the routes in ``scope["state"]`` (``request.state``), e.g. an
#: authentication step puts the person on ``scope["state"]["caller"]``, which
#: :func:`~masterhall.web.deps.get_caller` reads. Checks run in the event loop: no blocking I/O.
Check = Callable[[Scope, dict], "Refusal | None"]


def check_request(method: str, path: str, headers: dict[str, str], scheme: str, policy: HostPolicy) -> Refusal | None:
    """The :class:`Refusal` for a request, or ``None`` when it may be served (steps 1–3 of the
    module docstring). ``headers`` are lower-case names → values."""
    host = headers.get("host")
    if host is not None and not policy.allows(host):
        return Refusal(400, "host_not_allowed",
                       f"This hall does not answer for host '{host}'. Open it at http://127.0.0.1:<port>/ or "
                       "http://localhost:<port>/; behind a reverse proxy add the name to allowed_hosts "
                       "(MASTERHALL_ALLOWED_HOSTS).")
    site = headers.get("sec-fetch-site")
    if method in UNSAFE_METHODS or scheme.startswith("ws"):
        if headers.get("authorization", "")[:7].lower() == "bearer ":
            return None
        origin = headers.get("origin")
        foreign = (not same_origin(origin, host, scheme)) if origin is not None else site in ("same-site", "cross-site")
        if foreign:
            why = f"Origin {origin!r} is not {host!r}" if origin is not None else f"the browser says it came from a {site} page"
            return Refusal(403, "cross_origin", f"Requests that change the hall must come from the hall's own pages ({why}).")
        return None
    if site in ("same-site", "cross-site") and not path.startswith("/static/"):
        navigate = headers.get("sec-fetch-mode") == "navigate" and headers.get("sec-fetch-dest") not in ("object", "embed")
        if not (navigate and method in ("GET", "HEAD")):
            return Refusal(403, "cross_site_read", "Another site's page may link to the hall but not read from it.")
    return None


def page_csp() -> str:
    """The pages' CSP with the SHA-256 of the current inline import map (see ``templating.import_map``)."""
    return _csp_for(templating.import_map())


@functools.lru_cache(maxsize=8)
def _csp_for(import_map: str) -> str:
    """The pages' CSP for this import map (computed once per map: the map changes only when a
    script file does)."""
    digest = hashlib.sha256(import_map.encode()).digest()
    return PAGE_CSP.format(script_hashes=f"'sha256-{base64.b64encode(digest).decode()}'")


class SecurityMiddleware:
    """Pure ASGI middleware applying :func:`check_request` and the security headers to every
    HTTP and WebSocket request; ``settings`` is called once, on the first request (the hall's
    settings: ``host`` and ``allowed_hosts``).

    ``checks``: further :data:`Check` steps, run in order after :func:`check_request` lets a
    request through (never for a refused one). The first :class:`Refusal` answers the request —
    the same JSON error (OpenAI's shape under ``/v1``) with the security headers, or a WebSocket
    close with code 1008. An authentication step fits this shape: a check that reads the session
    cookie or the ``Authorization: Bearer`` key from ``headers``, refuses with ``401`` when it must,
    and puts the caller on ``scope["state"]["caller"]`` for the routes.
    """

    def __init__(self, app: ASGIApp, settings: Callable[[], Settings], checks: Sequence[Check] = ()):
        self.app = app
        self._settings = settings
        self._policy: HostPolicy | None = None
        self.checks = tuple(checks)

    def policy(self) -> HostPolicy:
        """The :class:`HostPolicy` of the hall's settings (built on first use)."""
        if self._policy is None:
            self._policy = HostPolicy.from_settings(self._settings())
        return self._policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        path = scope.get("path", "")
        refusal = check_request(scope.get("method", "GET").upper(), path, headers, scope.get("scheme", "http"), self.policy())
        for check in self.checks:
            if refusal is not None:
                break
            refusal = check(scope, headers)
        if refusal is not None and kind == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": refusal.code})
            return
        if refusal is not None:
            response = (openai_error(refusal.status, refusal.message, code=refusal.code) if path.startswith("/v1/")
                        else api_error(refusal.status, refusal.code, refusal.message))
            await response(scope, receive, self._with_headers(send, path))
            return
        await self.app(scope, receive, self._with_headers(send, path) if kind == "http" else send)

    @staticmethod
    def _with_headers(send: Send, path: str) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", ()))
                present = {k.lower() for k, _ in raw}
                if _CSP not in present:
                    if path in DOCS_PATHS:
                        csp = _DOCS_CSP_RAW
                    else:
                        content_type = next((v for k, v in raw if k.lower() == b"content-type"), b"")
                        csp = page_csp().encode("latin-1") if content_type.startswith(b"text/html") else _DATA_CSP_RAW
                    raw.append((_CSP, csp))
                raw += [header for header in _OTHER_RAW if header[0] not in present]
                message = {**message, "headers": raw}
            await send(message)

        return send_with_headers
