"""The operator's re-ingest API: ``POST /v1/ingest`` (upload or server paths), ``GET`` a job.

Guarded by the admin bearer token (``AISLE_ADMIN_TOKEN``). While it is unset the endpoints
answer 404 ``ingest_disabled``: there is no operator API to attack. A missing token is 401,
a wrong one 403. Shoppers keep being served while a job runs in its worker thread.
What a request names (server paths, uploads) is checked in :mod:`service.api.ingest_sources`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from aisle.settings import Settings
from service.api.ingest_sources import (
    MAX_FILES,
    MAX_PATHS,
    IngestPathsRequest,
    ingest_jobs,
    start_from_paths,
    start_from_upload,
)
from service.errors import Forbidden, NotFound, Unauthorized, UnsupportedFile
from service.schemas import ErrorResponse
from service.security import matches_secret

# The limits and the paths body moved to ingest_sources; still importable from here.
__all__ = [
    "MAX_FILES",
    "MAX_PATHS",
    "AdminDep",
    "IngestAccepted",
    "IngestCounts",
    "IngestErrorItem",
    "IngestJobResponse",
    "IngestPathsRequest",
    "get_ingest_job",
    "require_admin",
    "router",
    "start_ingest",
]

router = APIRouter(prefix="/v1", tags=["operations"])

_bearer = HTTPBearer(auto_error=False, description="The admin token (AISLE_ADMIN_TOKEN).")


# -- schemas ----------------------------------------------------------------------------------
class IngestAccepted(BaseModel):
    job_id: str = Field(examples=["3f2b9c0e5d8a4f4e9b7c1a2d3e4f5a6b"])
    status: str = Field(examples=["queued"])


class IngestCounts(BaseModel):
    added: int
    updated: int
    metadata_only: int
    unchanged: int
    deleted: int
    failed: int
    chunks_embedded: int


class IngestErrorItem(BaseModel):
    file: str
    line: int | None
    reason: str


class IngestJobResponse(BaseModel):
    job_id: str
    collection: str
    status: str = Field(description="queued, running, succeeded or failed.")
    source: str = Field(description="upload or paths.")
    files: list[str]
    delete_missing: bool
    created_at: str
    started_at: str | None
    finished_at: str | None
    counts: IngestCounts | None = Field(description="The CLI summary's counts, once finished.")
    errors: list[IngestErrorItem] = Field(description="Rows or files that failed: file, line.")
    message: str | None = Field(description="Why the job failed, when it did.")
    progress: dict[str, Any] | None = Field(
        None,
        description='While running: {"stage": loading|diffing|writing|publishing, "done", '
        '"total"}.',
    )


_MULTIPART_SCHEMA = {
    "type": "object",
    "properties": {
        "files": {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": "Catalog files (.json, .jsonl, .csv, .md, .html, .txt, .pdf).",
        },
        "delete_missing": {"type": "boolean", "default": True},
    },
    "required": ["files"],
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in {
        400: "Malformed body.",
        401: "No admin token was sent.",
        403: "Wrong admin token, or a path outside AISLE_INGEST_ROOT.",
        404: "Unknown job, or the ingest API is disabled (AISLE_ADMIN_TOKEN unset).",
        409: "A job is already running for this collection.",
        413: "Upload larger than AISLE_API__MAX_UPLOAD_BYTES.",
        415: "Not a catalog file, or neither JSON nor multipart.",
        422: "Invalid paths or fields.",
    }.items()
}


# -- dependencies -------------------------------------------------------------------------------
def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    settings: Settings = request.app.state.settings
    if settings.admin_token is None:
        raise NotFound(
            "the ingest API is disabled: the operator has not set AISLE_ADMIN_TOKEN",
            code="ingest_disabled",
        )
    if credentials is None:
        raise Unauthorized(
            "admin token required: Authorization: Bearer <AISLE_ADMIN_TOKEN>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not matches_secret(credentials.credentials, settings.admin_token.get_secret_value()):
        raise Forbidden("the admin token is not valid")


AdminDep = Annotated[None, Depends(require_admin)]


# -- endpoints ----------------------------------------------------------------------------------
@router.post(
    "/ingest",
    status_code=202,
    response_model=IngestAccepted,
    summary="Re-ingest catalog files (operator)",
    description=(
        "Upload catalog files as `multipart/form-data` (field `files`), or name files/folders "
        'under the server\'s `AISLE_INGEST_ROOT` as JSON `{"paths": [...]}`. The job runs in '
        "the background; poll `GET /v1/ingest/{job_id}`. One job at a time per collection."
    ),
    responses=_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": IngestPathsRequest.model_json_schema()},
                "multipart/form-data": {"schema": _MULTIPART_SCHEMA},
            },
        }
    },
)
async def start_ingest(request: Request, _: AdminDep) -> IngestAccepted:
    settings: Settings = request.app.state.settings
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        job = await start_from_upload(request, settings)
    elif content_type == "application/json":
        job = await start_from_paths(request, settings)
    else:
        raise UnsupportedFile(
            "send multipart/form-data (files) or application/json (paths)",
            code="unsupported_media_type",
        )
    return IngestAccepted(job_id=job.job_id, status=job.status)


@router.get(
    "/ingest/{job_id}",
    response_model=IngestJobResponse,
    summary="An ingest job's status and summary (operator)",
    responses={k: v for k, v in _ERRORS.items() if k in {401, 403, 404}},
)
async def get_ingest_job(job_id: str, request: Request, _: AdminDep) -> IngestJobResponse:
    job = ingest_jobs(request).get(job_id)
    if job is None:
        raise NotFound(f"no ingest job {job_id!r}", code="job_not_found")
    return IngestJobResponse.model_validate(job.to_dict())
