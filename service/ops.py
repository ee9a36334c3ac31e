"""Operations wiring added to the app in one place: logs, metrics, limits, auth, ingest jobs.

``create_app`` calls :func:`install_ops` last, so the middleware added here wraps everything:
observability (outermost: request id, access log, counts) -> CORS -> security -> the app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response

from aisle.settings import Settings
from service.api import ingest
from service.jobs import IngestJob, IngestJobs, Progress
from service.observability import (
    METRICS_CONTENT_TYPE,
    Metrics,
    ObservabilityMiddleware,
    configure_logging,
)
from service.security import (
    INGEST_PREFIX,
    CORSMiddleware,
    SecurityMiddleware,
    cors_options,
    keyed_prefixes,
)

metrics_router = APIRouter(tags=["operations"])


@metrics_router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.render(), media_type=METRICS_CONTENT_TYPE)


def install_ops(app: FastAPI, settings: Settings) -> None:
    metrics = Metrics()
    app.state.metrics = metrics
    configure_logging(settings.log_level, secrets=_secrets(settings))

    def on_finish(job: IngestJob) -> None:
        metrics.record_ingest(job.status, job.counts)
        # This process serves the new generation at once; other replicas see it on their
        # next generation check.
        state = getattr(app.state, "aisle", None)
        if state is not None:
            state.catalog.refresh()

    jobs = IngestJobs(
        lambda: app.state.aisle.catalog.store(),
        settings.collection,
        run=_ingest_runner(app, settings),
        lock_file=settings.ingest_lock_file,
        lease_s=settings.ingest.lease_s,
        on_finish=on_finish,
    )
    app.state.ingest_jobs = jobs
    metrics.ingest_running.set_function(lambda: len(jobs.running()))
    app.include_router(ingest.router)
    app.include_router(metrics_router)
    _document_edge_errors(app, settings)

    # add_middleware puts each new layer outside the previous ones.
    app.add_middleware(SecurityMiddleware, settings=settings, on_reject=metrics.record_rejection)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, **cors_options(settings))  # type: ignore[arg-type]
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)


_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def _document_edge_errors(app: FastAPI, settings: Settings) -> None:
    """Add to the OpenAPI schema the refusals the edge layers give on any API operation, and
    the configured text limits (the models carry only absolute ceilings)."""
    build = app.openapi
    keyed = keyed_prefixes(settings)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith("/v1/") or path.startswith(INGEST_PREFIX):
                continue  # the ingest API documents its own errors
            for operation in operations.values():
                edge: dict[str, str] = {}
                if "application/json" in operation.get("requestBody", {}).get("content", {}):
                    edge["400"] = "The body is not valid JSON."
                    edge["413"] = "The body is larger than AISLE_API__MAX_BODY_BYTES."
                if any(path.startswith(prefix) for prefix in keyed):
                    edge["401"] = "An API key is required (X-API-Key or Authorization: Bearer)."
                if settings.api.rate_limit_per_minute > 0:
                    edge["429"] = "Rate limit reached; retry after Retry-After seconds."
                responses = operation.setdefault("responses", {})
                for status, description in edge.items():
                    responses.setdefault(
                        status,
                        {
                            "description": description,
                            "content": {"application/json": {"schema": _ERROR_REF}},
                        },
                    )
        _document_text_limits(schema, settings)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_text_limits(schema: dict[str, Any], settings: Settings) -> None:
    limits = settings.api
    models = schema.get("components", {}).get("schemas", {})
    for model, prop, limit in (
        ("SearchRequest", "query", limits.max_query_chars),
        ("ChatRequest", "message", limits.max_message_chars),
        ("HistoryTurn", "content", limits.max_history_chars),
    ):
        found = models.get(model, {}).get("properties", {}).get(prop)
        if found is not None:
            found["maxLength"] = limit


def _ingest_runner(app: FastAPI, settings: Settings) -> Any:
    """The job body: the same pipeline as ``aisle ingest``, on the app's store and model."""

    def run(files: list[Path], delete_missing: bool, progress: Progress, lock: Any) -> Any:
        from ingestion.pipeline import ingest_files

        state = app.state.aisle
        return ingest_files(
            files,
            store=state.catalog.store(),
            embeddings=state.embeddings,
            delete_missing=delete_missing,
            progress=progress,
            lock=lock,
            embed_slice=settings.ingest.embed_slice,
            catalog=settings.catalog,
        )

    return run


def _secrets(settings: Settings) -> list[str]:
    """Values never to appear in a log line, whoever logs them."""
    values = [key.get_secret_value() for key in settings.api_keys]
    if settings.admin_token is not None:
        values.append(settings.admin_token.get_secret_value())
    if settings.openai.api_key is not None:
        values.append(settings.openai.api_key.get_secret_value())
    return values
