"""``aisle serve``: run the app with uvicorn."""

from __future__ import annotations

import logging

from aisle.settings import Settings


def run_server(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    from service.app import create_app

    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        # Logging is configured by the app (JSON lines, see service/json_logs.py), which
        # also writes the access line with the request id: uvicorn adds neither.
        log_config=None,
        access_log=False,
        # Streams end on their own; do not hold shutdown for long on a slow client.
        timeout_graceful_shutdown=10,
    )
