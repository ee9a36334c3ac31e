"""The page's event handlers: loading the facets, streaming a chat turn, the reset buttons.

They are closures over one API client, built by :func:`make_handlers`; Gradio is imported in
there, not at module level, so that ``launch`` can turn Gradio's analytics off first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, NamedTuple

from ui.client import (
    SERVER_FAILED,
    ApiClient,
    ApiError,
    DoneEvent,
    ErrorEvent,
    SourcesEvent,
    TokenEvent,
)
from ui.filters import FacetsCache, FilterProblem, facet_choices, panel_filters
from ui.render import (
    CARDS_PLACEHOLDER,
    NO_PRODUCTS,
    SEARCHING,
    Money,
    answer_notice,
    distinct_products,
    product_cards,
    status_notice,
)

if TYPE_CHECKING:
    from gradio.components.chatbot import ExampleMessage

log = logging.getLogger(__name__)

MAX_CARDS = 6
EXAMPLES = 4  # example questions shown in the empty chat
HISTORY_MESSAGES = 20  # earlier messages sent with each turn (the API accepts up to 50)
THINKING = "…"
DOWN_BANNER = (
    "The shop assistant is not reachable right now. Filters and example questions will "
    "appear as soon as it is back; you can already type your question."
)

Messages = list[dict[str, str]]


class Handlers(NamedTuple):
    """What the layout wires to its events; see :func:`make_handlers` for each one's outputs."""

    load_facets: Callable[[], tuple[Any, ...]]
    respond: Callable[..., Iterator[tuple[Any, ...]]]
    pick_example: Callable[..., str]
    new_conversation: Callable[[], tuple[Any, ...]]
    reset_filters: Callable[[], tuple[Any, ...]]


def _turn(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def make_handlers(api: ApiClient) -> Handlers:
    """The handlers of one page app talking to ``api`` (they share its facets and fetch pool)."""
    import gradio as gr

    facets_cache = FacetsCache(api)
    fetch_pool = ThreadPoolExecutor(max_workers=MAX_CARDS, thread_name_prefix="aisle-ui")

    def shown(html: str) -> Any:
        """An HTML block that takes no room while empty."""
        return gr.HTML(value=html, visible=bool(html))

    def fetch_records(sources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Each cited product's record, fetched in parallel; a failed one just has no card data."""

        def one(product_id: str) -> tuple[str, dict[str, Any] | None]:
            try:
                return product_id, api.product(product_id)
            except ApiError as exc:
                log.info("no record for product %s: %r", product_id, exc)
                return product_id, None

        ids = list(dict.fromkeys(str(s.get("product_id")) for s in sources if s.get("product_id")))
        return {pid: rec for pid, rec in fetch_pool.map(one, ids) if rec is not None}

    def load_facets() -> tuple[Any, ...]:
        """Fill the filter panel, backends and examples; keep retrying while the API is down."""
        try:
            facets = facets_cache.get()
        except ApiError as exc:
            log.warning("facets unavailable: %r", exc)
            return (
                *(gr.skip() for _ in range(6)),
                shown(status_notice(DOWN_BANNER)),
                gr.Timer(active=True),
            )
        price = facets.get("price") or {}
        low, high = price.get("min"), price.get("max")
        money = Money.from_facets(facets)
        known = isinstance(low, int | float) and isinstance(high, int | float)
        backends = [str(b) for b in facets.get("backends") or []] or ["extractive"]
        default = facets.get("default_backend")
        questions = [str(q) for q in facets.get("examples") or []][:EXAMPLES]
        examples: list[ExampleMessage] = [{"text": q} for q in questions]
        return (
            gr.Dropdown(choices=facet_choices(facets.get("categories"), "Any"), interactive=True),
            gr.Dropdown(choices=facet_choices(facets.get("brands"), "Any"), interactive=True),
            gr.Textbox(placeholder=money.format(low) if known else "Any"),
            gr.Textbox(placeholder=money.format(high) if known else "Any"),
            gr.Radio(
                choices=backends,
                value=default if default in backends else backends[0],
                visible=True,
            ),
            gr.Chatbot(examples=examples or None),
            shown(""),
            gr.Timer(active=False),
        )

    def turn(
        text: str,
        display: Messages,
        history: Messages,
        min_price: str | None,
        max_price: str | None,
        category: str | None,
        brand: str | None,
        in_stock: bool,
        backend: str | None,
    ) -> Iterator[tuple[Messages, Messages, str | None, str | None]]:
        """One turn as it streams: (display, history, cards, notice); None = unchanged."""
        display = [*display, _turn("user", text), _turn("assistant", THINKING)]
        yield display, history, SEARCHING, ""

        def show(content: str) -> None:
            # A new list each time: Gradio diffs streamed values against the previous one.
            nonlocal display
            display = [*display[:-1], _turn("assistant", content)]

        try:
            money = facets_cache.money()
            filters = panel_filters(min_price, max_price, category, brand, in_stock, money)
        except FilterProblem as problem:
            show(str(problem))
            yield display, history, NO_PRODUCTS, ""
            return
        answer = ""
        cited: list[str] | None = None  # product ids whose cards are shown for this turn
        try:
            for event in api.stream_chat(
                text, history=history[-HISTORY_MESSAGES:], filters=filters, backend=backend
            ):
                if isinstance(event, SourcesEvent):
                    sources = distinct_products(event.sources)[:MAX_CARDS]
                    cited = [str(s.get("product_id")) for s in sources]
                    shown_cards = product_cards(sources, fetch_records(sources), money)
                    yield display, history, shown_cards, None
                elif isinstance(event, TokenEvent):
                    answer += event.text
                    show(answer)
                    yield display, history, None, None
                elif isinstance(event, DoneEvent):
                    response = event.response
                    answer = str(response.get("answer") or answer) or "(no answer)"
                    show(answer)
                    sources = [s for s in response.get("sources") or [] if isinstance(s, dict)]
                    sources = distinct_products(sources)[:MAX_CARDS]
                    # Usually the same products as the sources event: no second fetch then.
                    same = [str(s.get("product_id")) for s in sources] == cited
                    cards = None if same else product_cards(sources, fetch_records(sources), money)
                    history = [*history, _turn("user", text), _turn("assistant", answer)]
                    yield display, history, cards, answer_notice(response, money)
                elif isinstance(event, ErrorEvent):
                    log.warning("chat failed: %r", event.error)
                    show(f"⚠️ {event.error.message}")
                    yield display, history, NO_PRODUCTS if cited is None else None, ""
        except Exception:
            # The UI's edge: whatever went wrong, the shopper sees a sentence, not a traceback.
            log.exception("unexpected failure while answering")
            show(f"⚠️ {SERVER_FAILED}")
            yield display, history, NO_PRODUCTS, ""

    def respond(message: str, *panel: Any) -> Iterator[tuple[Any, ...]]:
        """Outputs (textbox, chatbot, display, history, cards, notice).

        The box is locked while the answer streams, so a second question cannot overtake
        the first. Unchanged outputs are skipped while streaming; the last update repeats
        the whole final state, so the page ends right even if an update went missing.
        """
        text = (message or "").strip()
        if not text:
            yield (gr.skip(),) * 6
            return
        box: Any = gr.Textbox(value="", interactive=False)
        display, history = panel[0], panel[1]
        cards, notice = SEARCHING, ""
        for display, history, new_cards, new_notice in turn(text, *panel):
            cards = new_cards if new_cards is not None else cards
            notice = new_notice if new_notice is not None else notice
            yield (
                box,
                display,
                display,
                history,
                gr.skip() if new_cards is None else new_cards,
                gr.skip() if new_notice is None else shown(new_notice),
            )
            box = gr.skip()
        yield gr.Textbox(interactive=True), display, display, history, cards, shown(notice)

    def pick_example(selected: gr.SelectData) -> str:
        value = selected.value
        return str(value.get("text", "")) if isinstance(value, dict) else str(value)

    # Gradio injects the event data by this annotation; resolve it here, where gr is
    # imported (the module's postponed annotations cannot see it).
    pick_example.__annotations__["selected"] = gr.SelectData

    def new_conversation() -> tuple[Any, ...]:
        return [], [], [], gr.Textbox(value="", interactive=True), CARDS_PLACEHOLDER, shown("")

    def reset_filters() -> tuple[Any, ...]:
        return "", "", "", "", False

    return Handlers(load_facets, respond, pick_example, new_conversation, reset_filters)
