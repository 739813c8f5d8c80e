"""The codec server: decrypts payloads for the Temporal UI and CLI, for signed-in operators
only, and writes every decryption to the access log (who, which workflow, when) before it
answers. Nothing reachable without signing in opens a payload: no secret travels in a URL or
in the UI's public settings.

The Temporal UI posts `{"payloads": [...]}` (protobuf JSON) to `<endpoint>/decode` and
`<endpoint>/encode` with an `X-Namespace` header. Who asks is checked on every request, in
one of three ways:

- `Authorization: Bearer <staff id>:<sign-in token>`: a staff member's own sign-in
  credentials (`kosh staff token`), for tools: `temporal workflow show --codec-endpoint URL
  --codec-auth "Bearer staff-017:TOKEN"`. The member must be active, signed in with that
  token, and an operator.
- `Authorization: Bearer <access token>`: an OIDC access token, which the Temporal UI passes
  when it signs people in against an identity provider (its codec `passAccessToken`):
  signature, issuer, audience, expiry and the operator role are checked (adapters/oidc.py).
- the codec server's own sign-in page (`/sign-in`, the same staff credentials), for a browser:
  a session cookie the Temporal UI sends when its codec settings include cross-origin
  credentials (adapters/codec_signin.py). Accepted only from the UI's origins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

import structlog
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payload, Payloads

from adapters.codec import ENCODING, UNDECRYPTABLE, CodecKeyError, EncryptionCodec, stamp_of
from adapters.codec_access import (
    AccessLog,
    AccessLogUnavailableError,
    Read,
    Reader,
    Refusal,
    StaffOperators,
    TokenOperators,
)
from adapters.codec_signin import SESSION_COOKIE, Sessions, sign_in_routes

CORS_HEADERS = "content-type, x-namespace, authorization, authorization-extras"
log = structlog.get_logger("kosh.codec")

__all__ = ["Read", "Reader", "Refusal", "codec_app"]


def codec_app(
    codec: EncryptionCodec,
    *,
    access_log: AccessLog,
    staff: StaffOperators | None = None,
    tokens: TokenOperators | None = None,
    ui_origins: Sequence[str] = (),
    namespace: str = "",
) -> Starlette:
    """The codec server's ASGI app. `staff` enables staff credentials (bearer and the sign-in
    page), `tokens` OIDC access tokens; with neither, every request is refused."""
    sessions = Sessions()

    def cors(request: Request, response: Response) -> Response:
        origin = request.headers.get("origin", "")
        if origin in ui_origins:  # the UI's origins only: never "*", and with credentials
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Vary"] = "Origin"
        response.headers["Cache-Control"] = "no-store"
        return response

    async def reader(request: Request) -> Reader | Refusal:
        bearer = request.headers.get("authorization", "")
        if bearer:
            scheme, _, credential = bearer.partition(" ")
            if scheme.lower() != "bearer" or not credential.strip():
                return Refusal(401, "expected Authorization: Bearer <credentials>")
            credential = credential.strip()
            if ":" in credential:  # staff id and sign-in token (an access token has no colon)
                if staff is None:
                    return Refusal(401, "staff credentials are not accepted here")
                staff_id, _, token = credential.partition(":")
                return await staff.operator(staff_id, token)
            if tokens is None:
                return Refusal(401, "access tokens are not accepted here (no OIDC issuer set)")
            return await tokens.operator(credential)
        session = sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if session is not None and staff is not None:
            if request.headers.get("origin", "") not in ui_origins:
                return Refusal(403, "a signed-in browser may decode from the Temporal UI only")
            found = await staff.operator(session.staff_id, session.token)
            if isinstance(found, Refusal):  # deactivated, token reissued, role removed
                sessions.end(request.cookies.get(SESSION_COOKIE, ""))
                return found
            return Reader(found.member, "staff_session")
        return Refusal(401, "sign in: an operator's credentials are required")

    async def decode_logged(who: Reader, asked: str, payloads: Sequence[Payload]) -> list[Payload]:
        done = await codec.decode(payloads)
        opened = Counter(
            stamp_of(before)
            for before, after in zip(payloads, done, strict=True)
            if before.metadata.get("encoding") == ENCODING
            and after.metadata.get("encoding") != UNDECRYPTABLE
        )
        if opened:  # written before anything decrypted leaves; a failure answers 503
            reads = [Read(who.member, who.via, asked, wf, n) for wf, n in opened.items()]
            try:
                await access_log.record(reads)
            except Exception as exc:
                log.warning("access_log_unavailable", error=type(exc).__name__)
                raise AccessLogUnavailableError from exc
            log.info(
                "payloads_decrypted",
                member=who.member,
                via=who.via,
                namespace=asked,
                workflows=sorted(w or "unknown" for w in opened),
                payloads=sum(opened.values()),
            )
        return done

    def endpoint(kind: str) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            if request.method == "OPTIONS":
                return cors(request, Response(status_code=204))
            who = await reader(request)
            if isinstance(who, Refusal):
                log.info("codec_refused", path=request.url.path, status=who.status)
                answer = JSONResponse({"error": who.reason}, who.status)
                if who.status == 401:
                    answer.headers["WWW-Authenticate"] = 'Bearer realm="kosh codec server"'
                return cors(request, answer)
            asked = request.headers.get("x-namespace", "") or namespace or "default"
            if namespace and asked != namespace:
                return cors(request, JSONResponse({"error": f"not namespace {asked}"}, 403))
            try:
                payloads = list(json_format.Parse(await request.body(), Payloads()).payloads)
                if kind == "decode":
                    done = await decode_logged(who, asked, payloads)
                else:
                    done = await codec.encode(payloads)
            except (json_format.ParseError, CodecKeyError, ValueError) as exc:
                return cors(request, JSONResponse({"error": str(exc)}, 400))
            except AccessLogUnavailableError:  # nothing decrypted leaves unlogged
                message = "the access log is unavailable: nothing was decrypted"
                return cors(request, JSONResponse({"error": message}, 503))
            body = json_format.MessageToJson(Payloads(payloads=done))
            return cors(request, Response(body, media_type="application/json"))

        return handle

    routes = [
        Route(f"/{kind}", endpoint(kind), methods=["POST", "OPTIONS"])
        for kind in ("decode", "encode")
    ]
    if staff is not None:
        routes += sign_in_routes(sessions, staff.operator)
    return Starlette(routes=routes)
