"""The staff console: worklists from Temporal visibility, a case's whole picture, and the
interview form; employers' labour requests, each with its picture and an inspection's
violation form (a case officer's); the policy's figures with their provenance.
Server-rendered HTML (FastAPI + Jinja2), no build step.

Staff sign in with their id and the token the staff registry issued them (`kosh staff
token`). The session is the server's (store/staff.py; the signed cookie carries its id): it
ends at sign-out, when the member's token is reissued, when the member is deactivated, and
after a working day, and a copy of an ended session's cookie only gets the sign-in page.
After signing in the browser goes to a path on this site only. The cookie is Secure when the
console's public URL is https. The console is the one issuer of staff assertions
(console/issuing.py): what it sends carries its signed-in member's, and the case takes the
interviewer or officer from it, never from a form field. Every form carries a CSRF token
and a request id, so a double submit is applied once.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.middleware.sessions import SessionMiddleware
from temporalio.client import Client
from temporalio.service import RPCError

from adapters.assertions import Issuer
from console.issuing import issuer_routes
from console.listing import live_cases
from console.pictures import CASE, LABOUR, Subject, picture, send
from console.signin import local_path
from domain.policy import UnknownPolicyError, in_force, policy_by_id, versions
from domain.provenance import cited, describe, render
from store.errors import StoreError
from store.labour import labour_requests
from store.policies import published
from store.staff import SESSION_HOURS, end_session, session_member, start_session
from workflows import api

TEMPLATES = Path(__file__).parent / "templates"
STAFF_ID = r"^[A-Za-z0-9._-]{1,64}$"
# The worklist: cases waiting for an interview.
INTERVIEWS = f"{api.SA_WAITING_FOR.name} = 'interview' AND ExecutionStatus = 'Running'"


@dataclass(frozen=True)
class ConsoleSettings:
    secret: str  # signs the session cookie
    public_url: str = "http://127.0.0.1:8000"  # as browsers reach it: https makes it Secure

    @property
    def secure(self) -> bool:
        return self.public_url.lower().startswith("https://")


def console_app(
    *, client: Client, pool: asyncpg.Pool, settings: ConsoleSettings, issuer: Issuer
) -> FastAPI:
    app = FastAPI(title="kosh staff console", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(issuer_routes(pool, issuer))
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret,
        same_site="strict",
        https_only=settings.secure,
        max_age=SESSION_HOURS * 3600,
    )
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    pages = Jinja2Templates(env=env)

    def page(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
        context["staff_id"] = getattr(request.state, "member", None)
        context["csrf"] = request.session.get("csrf", "")
        context["flash"] = request.session.pop("flash", None)
        return pages.TemplateResponse(request, name, context, status_code=code)

    async def signed_in(request: Request) -> str | None:
        """The signed-in member, while their session lasts (an ended one is forgotten)."""
        session = request.session.get("session")
        if not isinstance(session, str):
            return None
        try:
            async with pool.acquire() as conn:
                member = await session_member(conn, session=session)
        except StoreError:
            return None
        if member is None:
            request.session.clear()
            return None
        request.state.member = member
        return member

    def to_login(request: Request) -> RedirectResponse:
        path = quote(local_path(request.url.path), safe="/")
        return RedirectResponse(f"/login?next={path}", status_code=303)

    async def show(
        request: Request, subject: Subject, subject_id: str, code: int = 200, **extra: Any
    ) -> HTMLResponse:
        """A workflow's picture page (404 when there is none to show), its form fresh unless
        `extra` keeps what was typed."""
        status, history, problem = await picture(client, pool, subject, subject_id)
        context: dict[str, Any] = {
            "subject_id": subject_id,
            "status": status,
            "history": history,
            "problem": problem,
            "form_id": str(uuid.uuid4()),
            "form": {},
            **subject.context,
            **extra,
        }
        return page(request, subject.template, 404 if status is None else code, **context)

    async def staff_input(request: Request, subject: Subject, subject_id: str) -> Response:
        """The page's form, from the signed-in member (else a way to sign in, or 403 for a
        form whose CSRF token is not this session's): sent, and back to the page whose flash
        says what became of it; or the page again, naming what kept it from being sent."""
        member = await signed_in(request)
        if member is None:
            return to_login(request)
        form = await request.form()
        if not secrets.compare_digest(str(form.get("csrf", "")), request.session.get("csrf", "")):
            return HTMLResponse("The form expired: reload the page and submit again.", 403)
        read = subject.form.read(member, form)
        if read.payload is None:
            kept = {"form_id": read.form_id} if read.form_id else {}
            return await show(
                request, subject, subject_id, 422, errors=read.errors, form=read.kept, **kept
            )
        request_id = getattr(read.payload, "request_id", None) or str(uuid.uuid4())
        proof = issuer.issue(
            staff_id=member, workflow_id=subject.workflow_id(subject_id), request_id=request_id
        )
        payload = read.payload.model_copy(update={"request_id": request_id, "assertion": proof})
        request.session["flash"] = await send(client, subject, subject_id, payload)
        return RedirectResponse(subject.url.format(subject_id), status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request, next: str = "/") -> HTMLResponse:
        return page(request, "login.html", next=local_path(next))

    @app.post("/login", response_model=None)
    async def login(request: Request) -> Response:
        form = await request.form()
        member, token = str(form.get("staff_id", ""))[:64], str(form.get("token", ""))[:200]
        target = local_path(str(form.get("next", "/")))
        before = request.session.get("session")
        try:
            async with pool.acquire() as conn:
                session = await start_session(conn, staff_id=member, token=token)
                if session is not None and isinstance(before, str):
                    await end_session(conn, session=before)  # signed in again: one session
        except StoreError as exc:
            return page(
                request,
                "login.html",
                503,
                next=target,
                error=f"The staff registry is unavailable ({exc}).",
            )
        if session is None:
            return page(
                request,
                "login.html",
                401,
                next=target,
                error="Unknown or inactive staff id, or wrong token.",
            )
        request.session.clear()
        request.session.update({"session": session, "csrf": secrets.token_urlsafe(16)})
        return RedirectResponse(target, status_code=303)

    @app.post("/logout", response_model=None)
    async def logout(request: Request) -> Response:
        """End the session on the server (a copy of the cookie is worth nothing after)."""
        session = request.session.get("session")
        if isinstance(session, str):
            try:
                async with pool.acquire() as conn:
                    await end_session(conn, session=session)
            except StoreError as exc:  # the cookie is kept, to sign out with again
                return HTMLResponse(
                    f"Not signed out: the staff registry is unavailable ({escape(str(exc))}). "
                    "Sign out again.",
                    503,
                )
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/", response_model=None)
    async def worklist(request: Request) -> Response:
        if await signed_in(request) is None:
            return to_login(request)
        try:
            rows = await live_cases(client, INTERVIEWS, limit=500)
        except RPCError as exc:
            return page(request, "worklist.html", 503, rows=[], problem=exc.message)
        return page(request, "worklist.html", rows=rows)

    @app.get("/find", response_model=None)
    async def find(request: Request, case_id: str = "") -> Response:
        return RedirectResponse(f"/cases/{case_id.strip()}", status_code=303)

    @app.get("/cases/{case_id}", response_model=None)
    async def case(request: Request, case_id: str) -> Response:
        if await signed_in(request) is None:
            return to_login(request)
        return await show(request, CASE, case_id)

    @app.post("/cases/{case_id}/interview", response_model=None)
    async def interview(request: Request, case_id: str) -> Response:
        return await staff_input(request, CASE, case_id)

    # ---- employers' work-permit requests --------------------------------------------------
    @app.get("/labour", response_model=None)
    async def labour(request: Request) -> Response:
        """Every request in the business record (closed ones too), open ones first."""
        if await signed_in(request) is None:
            return to_login(request)
        try:
            async with pool.acquire() as conn:
                rows = await labour_requests(conn, limit=500)
        except StoreError as exc:
            return page(request, "labour_list.html", 503, rows=[], problem=str(exc))
        rows.sort(key=lambda r: (r.stage == "closed", r.request_id))
        return page(request, "labour_list.html", rows=rows)

    @app.get("/labour/{request_id}", response_model=None)
    async def labour_request(request: Request, request_id: str) -> Response:
        if await signed_in(request) is None:
            return to_login(request)
        return await show(request, LABOUR, request_id)

    @app.post("/labour/{request_id}/violation", response_model=None)
    async def labour_violation(request: Request, request_id: str) -> Response:
        """An inspection's finding: the case officer signed in is the actor."""
        return await staff_input(request, LABOUR, request_id)

    # ---- the rules ------------------------------------------------------------------------
    @app.get("/policy", response_model=None)
    async def policy(request: Request, version: str = "") -> Response:
        """A policy version's figures, each with its value and provenance (`kosh policy show`):
        the version in force today in the rest of the country, or `?version=`; the versions
        published in the record are listed with where and from when they take effect."""
        if await signed_in(request) is None:
            return to_login(request)
        async with pool.acquire() as conn:
            await published(conn)  # registered here: each is shown by its id
        try:
            shown = policy_by_id(version) if version else in_force(date.today(), None, versions())
        except UnknownPolicyError as exc:
            known = [p.id for p in versions()]
            return page(request, "policy.html", 404, policy=None, problem=str(exc), known=known)
        found = shown.figures()
        rows = [(f.path, render(f.value), describe(f.provenance)) for f in found if f.provenance]
        known = [p.id for p in versions()]
        return page(
            request,
            "policy.html",
            policy=shown,
            where=shown.takes_effect(),
            figures=rows,
            cited=cited(found),
            known=known,
        )

    return app
