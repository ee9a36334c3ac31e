"""Operations wiring (metrics, auth, limits, ingest jobs) added to the app in one place."""

from __future__ import annotations

from typing import Any


def install_ops(app: Any, settings: Any) -> None:
    """Placeholder until the operations issue lands: nothing to install yet."""
