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
from datetime import datetime
from pathlib import Path
from typing import Any, get_args

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from starlette.middleware.sessions import SessionMiddleware
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.labour import Violation
from store.errors import StoreError
from store.events import read_events
from store.labour import labour_requests, read_labour_events
from store.staff import get_staff
from store.staff import signed_in as token_matches
from workflows import api
from workflows import employer_api as eapi

TEMPLATES = Path(__file__).parent / "templates"
STAFF_ID = r"^[A-Za-z0-9._-]{1,64}$"


@dataclass(frozen=True)
class ConsoleSettings:
    secret: str  # signs the session cookie


@dataclass(frozen=True)
class Row:
    case_id: str
    track: str
    region: str
    policy: str
    due: str
    started: str


def _attr(values: Any, key: Any) -> str:
    value = values.get(key)
    if isinstance(value, datetime):
        return value.date().isoformat()
    return "" if value is None else str(value)


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
        # SQL visibility (the dev server, PostgreSQL) has no ORDER BY: sorted here, due first.
        query = f"{api.SA_WAITING_FOR.name} = 'interview' AND ExecutionStatus = 'Running'"
        rows: list[Row] = []
        try:
            async for wf in client.list_workflows(query, limit=500):
                attrs = wf.typed_search_attributes
                rows.append(
                    Row(
                        case_id=wf.id.removeprefix("case-"),
                        track=_attr(attrs, api.SA_TRACK),
                        region=_attr(attrs, api.SA_REGION),
                        policy=_attr(attrs, api.SA_POLICY),
                        due=_attr(attrs, api.SA_NEXT_DEADLINE),
                        started=wf.start_time.date().isoformat(),
                    )
                )
        except RPCError as exc:
            return page(request, "worklist.html", 503, rows=[], problem=exc.message)
        rows.sort(key=lambda r: (r.due or "9999", r.case_id))
        return page(request, "worklist.html", rows=rows)

    @app.get("/find", response_model=None)
    async def find(request: Request, case_id: str = "") -> Response:
        return RedirectResponse(f"/cases/{case_id.strip()}", status_code=303)

    async def picture(case_id: str) -> tuple[api.CaseStatus | None, list[Any], str | None]:
        handle = client.get_workflow_handle(api.case_workflow_id(case_id))
        try:
            status = await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None, [], f"No case {case_id}."
            return None, [], f"Temporal did not answer ({exc.message})."
        try:
            async with pool.acquire() as conn:
                history = await read_events(conn, case_id=case_id)
        except StoreError as exc:
            return status, [], f"The business record is unavailable ({exc})."
        return status, history, None

    @app.get("/cases/{case_id}", response_model=None)
    async def case(request: Request, case_id: str) -> Response:
        if await signed_in(request) is None:
            return to_login(request)
        status, history, problem = await picture(case_id)
        return page(
            request,
            "case.html",
            404 if status is None else 200,
            case_id=case_id,
            status=status,
            history=history,
            problem=problem,
            request_id=str(uuid.uuid4()),
            form={},
        )

    @app.post("/cases/{case_id}/interview", response_model=None)
    async def interview(request: Request, case_id: str) -> Response:
        member = await signed_in(request)
        if member is None:
            return to_login(request)
        form = await request.form()
        if not secrets.compare_digest(str(form.get("csrf", "")), request.session.get("csrf", "")):
            return HTMLResponse("The form expired: reload the page and submit again.", 403)
        outcome = str(form.get("outcome", ""))
        raw = {
            "interviewer_id": member,  # the signed-in member, never a form field
            "passed": {"pass": True, "fail": False}.get(outcome),
            "points": str(form.get("points", "")).strip(),
            "notes": str(form.get("notes", "")),
            "request_id": str(form.get("request_id", "")) or None,
        }
        try:
            payload = api.InterviewOutcome.model_validate(raw)
        except ValidationError as exc:
            errors = [
                f"{_field(e['loc'])}: {e['msg']}"
                if e["loc"] != ("passed",)
                else "outcome: choose pass or fail"
                for e in exc.errors()
            ]
            status, history, problem = await picture(case_id)
            return page(
                request,
                "case.html",
                422,
                case_id=case_id,
                status=status,
                history=history,
                problem=problem,
                request_id=raw["request_id"] or str(uuid.uuid4()),
                errors=errors,
                form={k: str(form.get(k, "")) for k in ("outcome", "points", "notes")},
            )
        handle = client.get_workflow_handle(api.case_workflow_id(case_id))
        try:
            result = await handle.execute_update(
                api.UPDATE_INTERVIEW, payload.model_dump(mode="json"), result_type=api.UpdateResult
            )
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            rule = cause.type if isinstance(cause, ApplicationError) else "refused"
            message = cause.message if isinstance(cause, ApplicationError) else str(exc)
            request.session["flash"] = {"ok": False, "text": f"Refused ({rule}): {message}"}
        except RPCError as exc:
            request.session["flash"] = {"ok": False, "text": f"Not sent: {exc.message}"}
        else:
            text = "Interview recorded." if result.accepted else f"Refused: {result.reason}"
            request.session["flash"] = {"ok": result.accepted, "text": text}
        return RedirectResponse(f"/cases/{case_id}", status_code=303)

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

    async def labour_picture(
        request_id: str,
    ) -> tuple[eapi.LabourStatus | None, list[Any], str | None]:
        handle = client.get_workflow_handle(eapi.request_workflow_id(request_id))
        try:
            status = await handle.query(eapi.QUERY_STATUS, result_type=eapi.LabourStatus)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None, [], f"No labour request {request_id}."
            return None, [], f"Temporal did not answer ({exc.message})."
        try:
            async with pool.acquire() as conn:
                history = await read_labour_events(conn, request_id=request_id)
        except StoreError as exc:
            return status, [], f"The business record is unavailable ({exc})."
        return status, history, None

    async def labour_page(
        request: Request, request_id: str, code: int = 200, **extra: Any
    ) -> HTMLResponse:
        status, history, problem = await labour_picture(request_id)
        context: dict[str, Any] = {
            "request_id": request_id,
            "status": status,
            "history": history,
            "problem": problem,
            "form_id": str(uuid.uuid4()),
            "violations": VIOLATIONS,
            "form": {},
        }
        context.update(extra)
        return page(request, "labour.html", 404 if status is None else code, **context)

    @app.get("/labour/{request_id}", response_model=None)
    async def labour_request(request: Request, request_id: str) -> Response:
        if await signed_in(request) is None:
            return to_login(request)
        return await labour_page(request, request_id)

    @app.post("/labour/{request_id}/violation", response_model=None)
    async def labour_violation(request: Request, request_id: str) -> Response:
        """An inspection's finding: the case officer signed in is the actor."""
        member = await signed_in(request)
        if member is None:
            return to_login(request)
        form = await request.form()
        if not secrets.compare_digest(str(form.get("csrf", "")), request.session.get("csrf", "")):
            return HTMLResponse("The form expired: reload the page and submit again.", 403)
        raw = {
            "kind": "violation",
            "actor_id": member,  # the signed-in member, never a form field
            "violations": [str(v) for v in form.getlist("violations")],
            "reason": str(form.get("reason", "")).strip() or None,
            "request_id": str(form.get("form_id", "")) or None,
        }
        errors: list[str] = []
        try:
            fact = eapi.LabourFact.model_validate(raw)
        except ValidationError as exc:
            errors = [f"{_field(e['loc'])}: {e['msg']}" for e in exc.errors()]
        else:
            if not fact.violations:
                errors = ["violations: tick at least one"]
        if errors:
            kept = {"reason": str(form.get("reason", "")), "ticked": raw["violations"]}
            return await labour_page(request, request_id, 422, errors=errors, form=kept)
        handle = client.get_workflow_handle(eapi.request_workflow_id(request_id))
        try:
            result = await handle.execute_update(
                eapi.UPDATE_FACT, fact.model_dump(mode="json"), result_type=eapi.LabourUpdateResult
            )
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            message = cause.message if isinstance(cause, ApplicationError) else str(exc)
            request.session["flash"] = {"ok": False, "text": f"Refused: {message}"}
        except RPCError as exc:
            request.session["flash"] = {"ok": False, "text": f"Not sent: {exc.message}"}
        else:
            text = "Violation recorded." if result.accepted else f"Refused: {result.reason}"
            request.session["flash"] = {"ok": result.accepted, "text": text}
        return RedirectResponse(f"/labour/{request_id}", status_code=303)

    return app


VIOLATIONS = get_args(Violation)


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(form)"
