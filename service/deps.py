"""``Annotated`` dependency aliases: routers declare what they need, the lifespan provides it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from aisle.settings import Settings
from service.answering.backends.factory import Backends
from service.answering.chat import ChatService
from service.state import AppState, Catalog


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.aisle
    return state


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_catalog(request: Request) -> Catalog:
    return get_state(request).catalog


def get_chat(request: Request) -> ChatService:
    return get_state(request).chat


def get_backends(request: Request) -> Backends:
    return get_state(request).backends


StateDep = Annotated[AppState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
ChatDep = Annotated[ChatService, Depends(get_chat)]
BackendsDep = Annotated[Backends, Depends(get_backends)]
