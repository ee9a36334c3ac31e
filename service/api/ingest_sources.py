"""Where an ingest job's files come from: paths under the ingest root, or an upload.

Everything a request names is checked here before a job exists (paths stay inside
``AISLE_INGEST_ROOT``, uploads are catalog files within the size limit); the routes are in
:mod:`service.api.ingest`.
"""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path
from typing import Annotated

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from aisle.settings import Settings
from ingestion.loaders import SUPPORTED_SUFFIXES, discover
from service.errors import AppError, Forbidden, InvalidRequest, PayloadTooLarge, UnsupportedFile
from service.jobs import IngestJob, IngestJobs

MAX_FILES = 32
MAX_PATHS = 100
_SNIFF_BYTES = 8192
_COPY_CHUNK = 1 << 20
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,199}$")


class IngestPathsRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"paths": ["catalog/products.json"]}]},
    )

    paths: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(
        min_length=1,
        max_length=MAX_PATHS,
        description="Files or folders, relative to the server's AISLE_INGEST_ROOT.",
    )
    delete_missing: bool = Field(
        True, description="Delete stored products missing from these files (like the CLI)."
    )


def ingest_jobs(request: Request) -> IngestJobs:
    jobs: IngestJobs = request.app.state.ingest_jobs
    return jobs


# -- paths under the ingest root ------------------------------------------------------------------
async def start_from_paths(request: Request, settings: Settings) -> IngestJob:
    try:
        body = IngestPathsRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        if any(err.get("type") == "json_invalid" for err in exc.errors()):
            raise AppError("the request body is not valid JSON", code="malformed_json") from None
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise InvalidRequest(problems) from None
    if settings.ingest_root is None:
        raise Forbidden(
            "server-side paths are disabled: the operator has not set AISLE_INGEST_ROOT; "
            "upload the files instead",
            code="paths_disabled",
        )
    longest = settings.api.max_path_chars
    for n, raw in enumerate(body.paths):
        if len(raw) > longest:
            raise InvalidRequest(f"paths.{n}: at most {longest} characters", code="too_long")
    root = settings.ingest_root.resolve()
    files, display = _resolve_under_root(root, body.paths)
    with ingest_jobs(request).reserve() as slot:
        return slot.start(
            files, display=display, source="paths", delete_missing=body.delete_missing
        )


def _resolve_under_root(root: Path, paths: list[str]) -> tuple[list[Path], dict[str, str]]:
    files: list[Path] = []
    for raw in paths:
        if "\x00" in raw:
            raise InvalidRequest(f"path {raw!r}: contains a NUL byte", code="invalid_path")
        candidate = (root / raw).resolve()
        if not candidate.is_relative_to(root):
            raise Forbidden(f"path {raw!r} is outside the ingest root", code="path_outside_root")
        if not candidate.exists():
            raise InvalidRequest(f"path {raw!r}: no such file or folder", code="path_not_found")
        if candidate.is_file() and candidate.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise UnsupportedFile(f"path {raw!r}: {_supported()}")
        found, problems = discover([candidate])
        if problems:
            raise InvalidRequest(f"path {raw!r}: {problems[0].reason}", code="path_not_found")
        for file in found:
            # A symlink inside the root may point anywhere: judge where it really leads.
            if not file.resolve().is_relative_to(root):
                raise Forbidden(
                    f"path {raw!r} leads outside the ingest root", code="path_outside_root"
                )
        files.extend(found)
    unique = list(dict.fromkeys(files))
    display = {str(file): str(file.relative_to(root)) for file in unique}
    display[str(root)] = "."
    return unique, display


# -- uploads ------------------------------------------------------------------------------------
async def start_from_upload(request: Request, settings: Settings) -> IngestJob:
    form = await request.form(max_files=MAX_FILES, max_fields=MAX_FILES + 8)
    try:
        uploads = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
        delete_missing = _form_bool(form.get("delete_missing"), default=True)
        if not uploads:
            raise InvalidRequest("no files: send catalog files in the multipart field 'files'")
        names = [_upload_name(upload) for upload in uploads]
        if len(set(names)) != len(names):
            raise InvalidRequest("two uploaded files have the same name", code="duplicate_file")
        total = sum(upload.size or 0 for upload in uploads)
        if total > settings.api.max_upload_bytes:
            raise PayloadTooLarge(
                f"the upload is larger than the limit of {settings.api.max_upload_bytes} bytes"
            )
        for upload, name in zip(uploads, names, strict=True):
            await _check_content(upload, name)

        folder = settings.data_dir / "uploads" / settings.collection
        with ingest_jobs(request).reserve() as slot:
            # Stable paths (one per file name): a re-upload replaces the same source.
            folder.mkdir(parents=True, exist_ok=True)
            files: list[Path] = []
            for upload, name in zip(uploads, names, strict=True):
                files.append(await _save(upload, folder / name))
            display = {str(path): name for path, name in zip(files, names, strict=True)}
            display[str(folder.resolve())] = "uploads"
            return slot.start(
                files, display=display, source="upload", delete_missing=delete_missing
            )
    finally:
        await form.close()


def _upload_name(upload: UploadFile) -> str:
    name = os.path.basename((upload.filename or "").replace("\\", "/")).strip()
    if not name or not _SAFE_NAME.match(name) or name.startswith("."):
        raise InvalidRequest(
            f"file name {upload.filename!r}: use letters, digits, spaces, '.', '_', '-'",
            code="invalid_file_name",
        )
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise UnsupportedFile(f"{name}: {_supported()}")
    return name


async def _check_content(upload: UploadFile, name: str) -> None:
    """Refuse what cannot be a catalog file before any job exists (binary posing as text)."""
    await upload.seek(0)
    head = await upload.read(_SNIFF_BYTES)
    await upload.seek(0)
    if not head:
        raise InvalidRequest(f"{name}: the file is empty", code="empty_file")
    if name.lower().endswith(".pdf"):
        if not head.startswith(b"%PDF-"):
            raise UnsupportedFile(f"{name}: not a PDF document")
        return
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        raise UnsupportedFile(f"{name}: not UTF-8 text (a binary file?)") from None
    if b"\x00" in head:
        raise UnsupportedFile(f"{name}: not UTF-8 text (a binary file?)")


async def _save(upload: UploadFile, target: Path) -> Path:
    staging = target.with_name(f".{target.name}.part")
    with staging.open("wb") as out:
        while chunk := await upload.read(_COPY_CHUNK):
            out.write(chunk)
    os.replace(staging, target)
    return target.resolve()


def _form_bool(value: object, *, default: bool) -> bool:
    if value is None:
        return default
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "on"}:
        return True
    if text in {"false", "0", "no", "off"}:
        return False
    raise InvalidRequest("delete_missing: expected true or false")


def _supported() -> str:
    return "not a catalog file (supported: " + ", ".join(sorted(SUPPORTED_SUFFIXES)) + ")"
