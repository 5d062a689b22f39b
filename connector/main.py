"""create_app(settings): the FastAPI application with its routers, lifespan,
security, error handlers and the single-page UI."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from fastapi.staticfiles import StaticFiles

from connector import __version__
from connector.api import contract, errors
from connector.api.fastpath import FastPathMiddleware
from connector.api.metering import MeteringMiddleware
from connector.api.routes import (
    anthropic,
    chat,
    conversations,
    embeddings,
    endpoints,
    keys,
    models,
    observability,
    ollama,
    responses,
    usage,
    ws,
)
from connector.api.routes import settings as settings_routes
from connector.api.security import SecurityMiddleware
from connector.config import Settings
from connector.redact import add_secret_source
from connector.schemas import Health
from connector.services.container import Services

log = logging.getLogger("connector")

STATIC_DIR = Path(__file__).parent / "static"

_NO_UI = """<!doctype html><html><head><meta charset="utf-8"><title>AI Connector</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}
code{background:#eee;padding:.1rem .3rem;border-radius:4px}</style></head><body>
<h1>AI Connector is running</h1>
<p>The web UI has not been built yet. Build it with <code>bash scripts/run</code>
(which builds and serves it) or
<code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>.</p>
<p>The API works already: see <a href="/docs">/docs</a>.</p></body></html>"""


def _warn_if_exposed(settings: Settings) -> None:
    if not settings.is_loopback_bind and settings.api_token is None:
        log.warning(
            "\n%s\nSECURITY WARNING: listening on %s without CONNECTOR_API_TOKEN.\n"
            "Anyone who can reach port %s can use this connector and the OpenAI key\n"
            "configured in it. Set CONNECTOR_API_TOKEN, or listen on 127.0.0.1.\n%s",
            "!" * 72,
            settings.host,
            settings.port,
            "!" * 72,
        )


def create_app(settings: Settings | None = None, *, settle_heap: bool = False) -> FastAPI:
    settings = settings or Settings()
    services = Services.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        token = settings.api_token.get_secret_value() if settings.api_token else None
        remove = add_secret_source(
            lambda: [
                *services.keys.secrets(),
                *services.endpoint_keys.secrets(),
                *([token] if token else []),
            ]
        )
        _warn_if_exposed(settings)
        await services.start(settle_heap=settle_heap)
        log.info("AI Connector %s ready (data: %s)", __version__, settings.data_dir)
        try:
            yield
        finally:
            await services.stop()
            remove()

    app = FastAPI(
        title="AI Connector",
        version=__version__,
        summary="One local gateway for local (Ollama) and cloud (OpenAI) chat models.",
        lifespan=lifespan,
        # FastAPI's native OpenTelemetry asks every request whether a provider is
        # configured (about 20 us); the connector's metrics are its own (/metrics).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = services
    errors.install(app)

    for router in (
        chat.router,
        anthropic.router,
        ws.router,
        models.router,
        settings_routes.router,
        endpoints.router,
        usage.router,
        conversations.router,
        responses.router,
        embeddings.router,
        ollama.router,
        keys.router,
        observability.router,
    ):
        # The router's own routes, not `include_router`: that wraps each in a copy built
        # again (every model field of every route) on the first request FastAPI routes,
        # 0.15-0.3 s for the UI's first page or a client's first model list. Nothing
        # is added on inclusion here (no prefix, dependencies or overrides at app level).
        app.router.routes.extend(router.routes)

    contract.install(app)

    @app.get("/healthz", response_model=Health, response_model_exclude_none=True, tags=["health"])
    async def healthz() -> Health:
        problem = services.usage.health()
        return Health(status="degraded", problems=[problem]) if problem else Health()

    _mount_spa(app)

    # Innermost: the hot model routes skip FastAPI's routing (api/fastpath.py), after
    # the security checks and inside CORS, like every other route.
    app.add_middleware(FastPathMiddleware)
    origins = [o for o in settings.allowed_origins if o != "*"]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Retry-After", "x-connector-overhead-ms"],
        )
    app.add_middleware(SecurityMiddleware, settings=settings)
    # Outermost: the connector's own time counts from the request's arrival.
    app.add_middleware(MeteringMiddleware)
    return app


def _mount_spa(app: FastAPI) -> None:
    index = STATIC_DIR / "index.html"
    if (STATIC_DIR / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=STATIC_DIR / "assets"), name="assets")

    def page() -> Response:
        if index.is_file():
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(_NO_UI)

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def root(request: Request) -> Response:
        # Programs probe `/` as they probe Ollama (Open WebUI, the ollama libraries):
        # they get Ollama's answer; a browser (it asks for HTML) gets the UI.
        if "text/html" not in request.headers.get("accept", ""):
            return PlainTextResponse("Ollama is running")
        return RedirectResponse("/app/chat") if index.is_file() else HTMLResponse(_NO_UI)

    @app.get("/app", include_in_schema=False)
    @app.get("/app/{path:path}", include_in_schema=False)
    async def spa(path: str = "") -> Response:
        return page()

    for name in ("favicon.svg", "favicon.ico"):
        if (STATIC_DIR / name).is_file():
            app.add_api_route(
                f"/{name}",
                lambda name=name: FileResponse(STATIC_DIR / name),
                include_in_schema=False,
            )
