"""The FastAPI app factory; the lifespan builds and closes every client the app uses."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from aisle.settings import Settings
from catalog.embeddings import build_embeddings
from service.answering.backends.factory import build_backends
from service.answering.chat import ChatService
from service.api import chat, facets, health, products, search
from service.api.openai_compat import install_openai_compat
from service.errors import install_error_handlers
from service.ops import install_ops
from service.schemas import ErrorResponse
from service.state import AppState, Catalog

log = logging.getLogger(__name__)

DOCS_ASSETS = "/docs-assets"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    embeddings = build_embeddings(settings.embedding, settings.data_dir)
    await anyio.to_thread.run_sync(embeddings.warm_up)  # ~10 s once, not on the first query
    backends = build_backends(settings)
    catalog = Catalog(settings, embeddings)
    try:
        await anyio.to_thread.run_sync(catalog.store)
    except Exception as exc:  # Chroma down: start anyway, /readyz says what is wrong
        log.warning("the product store is not available yet: %s", exc)
    app.state.aisle = AppState(
        settings=settings,
        embeddings=embeddings,
        catalog=catalog,
        backends=backends,
        chat=ChatService(
            catalog.answering, backends, settings.llm, observer=getattr(app.state, "metrics", None)
        ),
    )
    log.info("Aisle API ready; backends: %s", ", ".join(backends.available))
    try:
        yield
    finally:
        await backends.aclose()


def create_app(settings: Settings) -> FastAPI:
    """The REST API over ``settings``; clients are built when the app starts (lifespan)."""
    app = FastAPI(
        title="Aisle",
        summary="A retrieval-augmented shopping assistant over your product catalog.",
        version="0.1.0",
        lifespan=_lifespan,
        docs_url=None,  # served below from local assets: /docs works offline
        redoc_url=None,
        responses={
            422: {"model": ErrorResponse, "description": "Invalid request"},
            500: {"model": ErrorResponse, "description": "Internal error"},
        },
    )
    app.state.settings = settings
    install_error_handlers(app)
    for module in (health, search, chat, products, facets):
        app.include_router(module.router)
    _install_offline_docs(app)
    _document_limits(app, settings)
    install_ops(app, settings)
    install_openai_compat(app)  # after install_ops: its error reshaping wraps the edge layers
    return app


def _install_offline_docs(app: FastAPI) -> None:
    from swagger_ui_bundle import swagger_ui_path

    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="Aisle API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()


def _document_limits(app: FastAPI, settings: Settings) -> None:
    """Write the configured message limit into the OpenAPI schema (models are static)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            props = (
                schema.get("components", {})
                .get("schemas", {})
                .get("ChatRequest", {})
                .get("properties", {})
            )
            if "message" in props:
                props["message"]["maxLength"] = settings.api.max_message_chars
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
