"""The codec server: decrypts payloads for the Temporal UI and CLI, for holders of an
operator token only. Without the token nothing is decrypted (401).

The Temporal UI posts `{"payloads": [...]}` (protobuf JSON) to `<endpoint>/decode` and
`<endpoint>/encode` with an `X-Namespace` header. The UI cannot add an Authorization header,
so the token may also travel in the endpoint's path (`/t/<token>/decode`), which `kosh dev`
configures; tools send `Authorization: Bearer <token>` to `/decode`.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence

from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payload, Payloads

from adapters.codec import CodecKeyError, EncryptionCodec

CORS_HEADERS = "content-type, x-namespace, authorization"


def codec_app(
    codec: EncryptionCodec, *, token: str, ui_origins: Sequence[str] = (), namespace: str = ""
) -> Starlette:
    def cors(request: Request, response: Response) -> Response:
        origin = request.headers.get("origin", "")
        if origin in ui_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
            response.headers["Vary"] = "Origin"
        return response

    def authorised(request: Request) -> bool:
        given = request.path_params.get("token") or request.headers.get("authorization", "")
        given = given.removeprefix("Bearer ")
        return secrets.compare_digest(given.encode(), token.encode())

    def endpoint(
        work: Callable[[Sequence[Payload]], Awaitable[list[Payload]]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            if request.method == "OPTIONS":
                return cors(request, Response(status_code=204))
            if not authorised(request):
                return cors(request, JSONResponse({"error": "operator token required"}, 401))
            asked = request.headers.get("x-namespace", "")
            if namespace and asked and asked != namespace:
                return cors(request, JSONResponse({"error": f"not namespace {asked}"}, 403))
            try:
                payloads = json_format.Parse(await request.body(), Payloads())
                done = await work(list(payloads.payloads))
            except (json_format.ParseError, CodecKeyError, ValueError) as exc:
                return cors(request, JSONResponse({"error": str(exc)}, 400))
            body = json_format.MessageToJson(Payloads(payloads=done))
            return cors(request, Response(body, media_type="application/json"))

        return handle

    routes = [
        Route(path, endpoint(work), methods=["POST", "OPTIONS"])
        for prefix in ("", "/t/{token}")
        for path, work in ((f"{prefix}/decode", codec.decode), (f"{prefix}/encode", codec.encode))
    ]
    return Starlette(routes=routes)
