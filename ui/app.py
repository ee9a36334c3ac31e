"""The shopper chat: Gradio Blocks over the REST API (a client of it; never imports the service).

This module is the entry point (``aisle ui`` calls :func:`launch`). The parts live next to it:
``client`` (HTTP to the API), ``filters`` (facets and the filter panel), ``render`` (answers
and product cards as HTML), ``handlers`` (the events' work) and ``layout`` (the page).
Their public names are re-exported here, where they were before the split.

Gradio is imported inside the functions, not at module level, so that :func:`launch` can turn
Gradio's analytics off before Gradio first reads its environment.
"""

from __future__ import annotations

import logging
import os

from ui.filters import FACETS_TTL_S, FacetsCache, FilterProblem, panel_filters, parse_price
from ui.handlers import (
    DOWN_BANNER,
    EXAMPLES,
    HISTORY_MESSAGES,
    MAX_CARDS,
    THINKING,
    Messages,
)
from ui.layout import PAGE_JS, RETRY_EVERY_S, build_app, page_css, page_theme

__all__ = [
    "DOWN_BANNER",
    "EXAMPLES",
    "FACETS_TTL_S",
    "HISTORY_MESSAGES",
    "MAX_CARDS",
    "PAGE_JS",
    "RETRY_EVERY_S",
    "THINKING",
    "FacetsCache",
    "FilterProblem",
    "Messages",
    "build_app",
    "launch",
    "page_css",
    "page_theme",
    "panel_filters",
    "parse_price",
]


def launch(api_url: str, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Serve the UI until interrupted (``aisle ui``). No analytics, no calls home."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    demo = build_app(api_url)
    demo.queue(default_concurrency_limit=16)
    print(f"Aisle UI on http://{host}:{port} (API {api_url})", flush=True)
    demo.launch(
        server_name=host,
        server_port=port,
        theme=page_theme(),
        css=page_css(),
        js=PAGE_JS,
        show_error=False,
        ssr_mode=False,
        footer_links=[],
        run_history=False,
        quiet=True,
    )
