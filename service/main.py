"""The app for uvicorn: ``uvicorn service.main:create --factory`` (settings read at start)."""

from __future__ import annotations

from fastapi import FastAPI

from aisle.settings import load_settings
from service.app import create_app


def create() -> FastAPI:
    return create_app(load_settings())
