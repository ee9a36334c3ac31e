"""Liveness (the process answers) and readiness (store and default backend are usable)."""

from __future__ import annotations

import anyio
from fastapi import APIRouter

from service.deps import StateDep
from service.errors import AppError, ServiceUnavailable
from service.schemas import ErrorResponse, HealthResponse, ReadyResponse

router = APIRouter(tags=["health"])


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
    default = state.backends.default
    problem = await state.backends.check_ready(default)
    if problem is not None:
        raise ServiceUnavailable(f"backend {default}: {problem}", code="not_ready")
    return ReadyResponse(
        products=counts["products"], chunks=counts["chunks"], default_backend=default
    )
