"""The codec server's sign-in page, for operators in a browser: the staff registry's
credentials (staff id and sign-in token) once, then a session cookie the Temporal UI sends
with its codec requests when its codec settings include cross-origin credentials.

Sessions are records of this process only (the cookie holds a random id, nothing else), and
every request is checked against the registry again: a member deactivated, signed in anew
elsewhere (a new token) or no longer an operator is signed out at their next request. The
cookie is HttpOnly and SameSite=Strict: another site's page cannot make the browser send it.
"""

from __future__ import annotations

import html
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from adapters.codec_access import Reader, Refusal

SESSION_COOKIE = "kosh_codec_session"
SESSION_SECONDS = 8 * 3600  # a working day; then sign in again
MAX_SESSIONS = 1000

Check = Callable[[str, str], Awaitable[Reader | Refusal]]


@dataclass(frozen=True)
class Session:
    staff_id: str
    token: str
    expires: float  # time.monotonic()


class Sessions:
    """Signed-in browsers: a random id -> the member's credentials, until they expire."""

    def __init__(self, *, seconds: float = SESSION_SECONDS) -> None:
        self.seconds = seconds
        self._open: dict[str, Session] = {}

    def start(self, staff_id: str, token: str) -> str:
        now = time.monotonic()
        self._open = {k: s for k, s in self._open.items() if s.expires > now}
        while len(self._open) >= MAX_SESSIONS:
            self._open.pop(next(iter(self._open)))  # the oldest
        session_id = secrets.token_urlsafe(32)
        self._open[session_id] = Session(staff_id, token, now + self.seconds)
        return session_id

    def get(self, session_id: str) -> Session | None:
        found = self._open.get(session_id) if session_id else None
        if found is None or found.expires <= time.monotonic():
            return None
        return found

    def end(self, session_id: str) -> None:
        self._open.pop(session_id, None)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kosh codec server</title>
<style>body{{font-family:sans-serif;max-width:44em;margin:2em auto}}
label{{display:block;margin:.6em 0}} .error{{color:#a00}} code{{background:#eee}}</style>
</head><body><h1>kosh codec server</h1>{body}</body></html>"""

FORM = """<p>Operators sign in with their staff id and sign-in token (<code>kosh staff token
ID</code>) to read decrypted payloads in the Temporal UI. Every decryption is logged.</p>
{error}<form method="post" action="/sign-in">
<label>Staff id <input name="staff_id" autocomplete="username" required></label>
<label>Sign-in token <input name="token" type="password" autocomplete="current-password"
required></label><button type="submit">Sign in</button></form>"""

SIGNED_IN = """<p id="signed-in">Signed in as <strong>{member}</strong> (operator). Every
decryption is logged in your name.</p>
<p>In the Temporal UI, open <em>Codec Server</em> (the settings at the bottom of the
navigation), choose <em>Use my browser setting and ignore cluster-level setting</em>, enter
<code>{endpoint}</code>, tick <em>Include cross-origin credentials</em>, and <em>Apply</em>.
Open the UI at the same host name as this page, so the browser sends your session.</p>
<form method="post" action="/sign-out"><button type="submit">Sign out</button></form>"""


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(body=body), status, headers={"Cache-Control": "no-store"})


def _same_origin(request: Request) -> bool:
    """A form posted from this server's own page (or by a tool that sends no Origin)."""
    origin = request.headers.get("origin")
    return origin is None or origin.partition("://")[2] == request.headers.get("host", "")


def sign_in_routes(sessions: Sessions, check: Check) -> list[Route]:
    def form(error: str = "", status: int = 200) -> HTMLResponse:
        shown = f'<p class="error">{html.escape(error)}</p>' if error else ""
        return _page(FORM.format(error=shown), status)

    async def show(request: Request) -> Response:
        session = sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if session is None:
            return form()
        endpoint = str(request.base_url).rstrip("/")
        return _page(SIGNED_IN.format(member=html.escape(session.staff_id), endpoint=endpoint))

    async def sign_in(request: Request) -> Response:
        if not _same_origin(request):
            return form("Sign in from this page.", 403)
        fields = await request.form()
        staff_id = str(fields.get("staff_id", ""))[:64]
        token = str(fields.get("token", ""))[:200]
        found = await check(staff_id, token)
        if isinstance(found, Refusal):
            return form(found.reason, found.status)
        answer = RedirectResponse("/sign-in", status_code=303)
        answer.set_cookie(
            SESSION_COOKIE,
            sessions.start(staff_id, token),
            max_age=int(sessions.seconds),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return answer

    async def sign_out(request: Request) -> Response:
        if not _same_origin(request):
            return form("Sign out from this page.", 403)
        sessions.end(request.cookies.get(SESSION_COOKIE, ""))
        answer = RedirectResponse("/sign-in", status_code=303)
        answer.delete_cookie(SESSION_COOKIE)
        return answer

    async def home(request: Request) -> Response:
        return RedirectResponse("/sign-in", status_code=303)

    return [
        Route("/", home, methods=["GET"]),
        Route("/sign-in", show, methods=["GET"]),
        Route("/sign-in", sign_in, methods=["POST"]),
        Route("/sign-out", sign_out, methods=["POST"]),
    ]
