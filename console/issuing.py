"""The console as the one issuer of staff assertions (adapters/assertions.py).

The console signs an assertion for its signed-in member whenever it sends their input, and
for the CLI (`kosh interview`, `kosh fact`, `kosh assert`) at `POST /api/assertions`, on the
member's sign-in credentials (`Authorization: Bearer <staff id>:<sign-in token>`, checked
against the staff registry now). Nothing else holds the signing key.
"""

from __future__ import annotations

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from adapters.assertions import Issuer
from adapters.ports import peek_assertion
from store.errors import StoreError
from store.staff import signed_in

PATH = "/api/assertions"


class AssertionRequest(BaseModel):
    workflow_id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
    request_id: str = Field(min_length=1, max_length=100)


def credentials(header: str) -> tuple[str, str] | None:
    """(staff id, sign-in token) of `Bearer <staff id>:<token>`, else None."""
    scheme, _, value = header.partition(" ")
    member, sep, token = value.partition(":")
    if scheme.lower() != "bearer" or not sep or not member or not token:
        return None
    return member[:64], token[:200]


def issuer_routes(pool: asyncpg.Pool, issuer: Issuer) -> APIRouter:
    router = APIRouter()

    @router.post(PATH)
    async def issue(request: Request) -> JSONResponse:
        """An assertion that the signed-in member sends this request to this workflow."""
        who = credentials(request.headers.get("authorization", ""))
        if who is None:
            return JSONResponse({"error": "Bearer <staff id>:<sign-in token> required"}, 401)
        try:
            asked = AssertionRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            fields = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}"
                for e in exc.errors()
            )
            return JSONResponse({"error": fields}, 422)
        try:
            async with pool.acquire() as conn:
                known = await signed_in(conn, staff_id=who[0], token=who[1])
        except StoreError as exc:
            return JSONResponse({"error": f"the staff registry is unavailable ({exc})"}, 503)
        if not known:
            return JSONResponse({"error": "unknown or inactive staff id, or wrong token"}, 401)
        token = issuer.issue(
            staff_id=who[0], workflow_id=asked.workflow_id, request_id=asked.request_id
        )
        claims = peek_assertion(token)
        assert claims is not None
        return JSONResponse({"assertion": token, "staff_id": who[0], "expires_at": claims.exp})

    return router
