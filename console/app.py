"""The staff console: worklists from Temporal visibility, a case's whole picture, and the
interview form; employers' labour requests, each with its picture and an inspection's
violation form (a case officer's). Server-rendered HTML (FastAPI + Jinja2), no build step.

Staff sign in with their id and the token the staff registry issued them (`kosh staff
token`); a member deactivated in the registry is signed out at their next request. The
interviewer id sent to the case is the signed-in member, never a form field. Every form
carries a CSRF token and a request id, so a double submit is applied once.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.middleware.sessions import SessionMiddleware
from temporalio.client import Client
from temporalio.service import RPCError

from console.listing import live_cases
from console.pictures import CASE, LABOUR, Subject, picture, send
from store.errors import StoreError
from store.labour import labour_requests
from store.staff import get_staff
from store.staff import signed_in as token_matches
from workflows import api

TEMPLATES = Path(__file__).parent / "templates"
STAFF_ID = r"^[A-Za-z0-9._-]{1,64}$"
# The worklist: cases waiting for an interview.
INTERVIEWS = f"{api.SA_WAITING_FOR.name} = 'interview' AND ExecutionStatus = 'Running'"


@dataclass(frozen=True)
class ConsoleSettings:
    secret: str  # signs the session cookie


def console_app(*, client: Client, pool: asyncpg.Pool, settings: ConsoleSettings) -> FastAPI:
    app = FastAPI(title="kosh staff console", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SessionMiddleware, secret_key=settings.secret, same_site="strict")
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    pages = Jinja2Templates(env=env)

    def page(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
        context["staff_id"] = request.session.get("staff_id")
        context["csrf"] = request.session.get("csrf", "")
        context["flash"] = request.session.pop("flash", None)
        return pages.TemplateResponse(request, name, context, status_code=code)

    async def signed_in(request: Request) -> str | None:
        """The signed-in member, while the registry still has them active."""
        member = request.session.get("staff_id")
        if not isinstance(member, str):
            return None
        try:
            async with pool.acquire() as conn:
                found = await get_staff(conn, staff_id=member)
        except StoreError:
            return None
        if found is None or not found.active:
            request.session.clear()
            return None
        return member

    def to_login(request: Request) -> RedirectResponse:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

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
        request.session["flash"] = await send(client, subject, subject_id, read.payload)
        return RedirectResponse(subject.url.format(subject_id), status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request, next: str = "/") -> HTMLResponse:
        return page(request, "login.html", next=next if next.startswith("/") else "/")

    @app.post("/login", response_model=None)
    async def login(request: Request) -> Response:
        form = await request.form()
        member, token = str(form.get("staff_id", ""))[:64], str(form.get("token", ""))[:200]
        try:
            async with pool.acquire() as conn:
                known = await token_matches(conn, staff_id=member, token=token)
        except StoreError as exc:
            return page(
                request, "login.html", 503, error=f"The staff registry is unavailable ({exc})."
            )
        if not known:
            return page(
                request, "login.html", 401, error="Unknown or inactive staff id, or wrong token."
            )
        request.session.clear()
        request.session.update({"staff_id": member, "csrf": secrets.token_urlsafe(16)})
        target = str(form.get("next", "/"))
        return RedirectResponse(target if target.startswith("/") else "/", status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> RedirectResponse:
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

    return app
