"""The FastAPI application of ``watch --serve`` (routes in ``live.server``'s docstring).

Imported only when serving, so that FastAPI (the ``[serve]`` extra) is needed only then.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import psutil
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse, StreamingResponse

from painvision._version import __version__
from painvision.live.server import KEEPALIVE_S, Hub, _sse, authorized

__all__ = ["create_app"]


def create_app(hub: Hub, token: str | None = None):
    """The FastAPI application over ``hub``; with ``token``, ``/v1/*`` needs it."""
    app = FastAPI(title="painvision watch", version=__version__, docs_url=None,
                  redoc_url=None, openapi_url=None)

    if token:
        @app.middleware("http")
        async def require_token(request: Request, call_next):
            # every /v1/ path, known or not, before routing: a 404 would say which exist
            if request.url.path.startswith("/v1/") and not authorized(
                    request.headers.get("authorization"), token):
                return JSONResponse({"detail": "unauthorized"}, status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})
            return await call_next(request)

    @app.api_route("/healthz", methods=["GET", "HEAD"])  # HEAD: some liveness probes
    def healthz() -> dict:
        return {"status": "ok", "version": __version__,
                "uptime_s": round(time.time() - hub.started, 1),
                "rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1), **hub.health}

    @app.get("/v1/latest")
    def latest():
        if hub.latest is None:
            return JSONResponse({"detail": "no reading yet"}, status_code=503)
        return hub.latest

    @app.get("/v1/status")
    def status() -> dict:
        return hub.status_fn() if hub.status_fn else {}

    @app.get("/v1/events")
    async def events(request: Request, last_event_id: str | None = Header(None)):
        try:
            after = int(last_event_id) if last_event_id else None
        except ValueError:
            after = None
        queue, missed = hub.subscribe(after)

        async def stream() -> AsyncIterator[str]:
            try:
                yield ": painvision events\n\n"
                for eid, event in missed:
                    yield _sse(eid, event)
                while not hub.closed:
                    try:
                        item = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                    except TimeoutError:
                        if await request.is_disconnected():
                            break
                        yield ": keep-alive\n\n"
                        continue
                    if item is None:
                        break
                    yield _sse(*item)
            finally:
                hub.unsubscribe(queue)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    return app
