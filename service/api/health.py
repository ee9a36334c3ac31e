"""Liveness (the process answers) and readiness (the store answers and something can answer).

Readiness is what a load balancer routes on, so it fails only when this process cannot serve:
the store is down, or the default backend is down with no extractive fallback behind it. An LLM
that blips while the extractive fallback answers is reported in the body, not as a 503.
"""

from __future__ import annotations

import anyio
from fastapi import APIRouter

from service.deps import StateDep
from service.errors import AppError, ServiceUnavailable
from service.schemas import ErrorResponse, HealthResponse, ReadyResponse

router = APIRouter(tags=["health"])

EXTRACTIVE = "extractive"


@router.get("/healthz", response_model=HealthResponse)
async def healthz() -> HealthResponse:
    return HealthResponse()


@router.get(
    "/readyz",
    response_model=ReadyResponse,
    responses={503: {"model": ErrorResponse, "description": "A part is not usable (named)."}},
)
async def readyz(state: StateDep) -> ReadyResponse:
    try:
        counts = await anyio.to_thread.run_sync(state.catalog.readiness)
    except AppError as exc:
        raise ServiceUnavailable(f"store: {exc.message}", code="not_ready") from exc
    backends = state.backends
    default = backends.default
    # Only the default is probed: checking every LLM would make each probe as slow as the
    # slowest timeout.
    problem = None if default == EXTRACTIVE else await backends.check_ready(default)
    report = {default: "ok" if problem is None else problem}
    if default != EXTRACTIVE:
        report[EXTRACTIVE] = "ok"
    serving = default
    if report.get(default, "ok") != "ok":
        if state.settings.llm.fallback != EXTRACTIVE:
            raise ServiceUnavailable(f"backend {default}: {report[default]}", code="not_ready")
        serving = EXTRACTIVE
    return ReadyResponse(
        products=counts["products"],
        chunks=counts["chunks"],
        generation=counts["generation"],
        default_backend=default,
        backends=report,
        serving=serving,
    )
