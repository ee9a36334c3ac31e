"""The shopper chat: Gradio Blocks over the REST API (a client of it; never imports the service).

Gradio is imported inside the functions, not at module level, so that :func:`launch` can turn
Gradio's analytics off before Gradio first reads its environment.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import TYPE_CHECKING, Any

from ui.client import (
    SERVER_FAILED,
    ApiClient,
    ApiError,
    DoneEvent,
    ErrorEvent,
    SourcesEvent,
    TokenEvent,
)
from ui.render import (
    CARDS_PLACEHOLDER,
    DEFAULT_MONEY,
    NO_PRODUCTS,
    SEARCHING,
    Money,
    answer_notice,
    distinct_products,
    product_cards,
    status_notice,
)

if TYPE_CHECKING:
    import gradio as gr
    from gradio.components.chatbot import ExampleMessage

log = logging.getLogger(__name__)

MAX_CARDS = 6
EXAMPLES = 4  # example questions shown in the empty chat
HISTORY_MESSAGES = 20  # earlier messages sent with each turn (the API accepts up to 50)
FACETS_TTL_S = 60.0  # new categories/brands after an ingest show up within a minute
RETRY_EVERY_S = 5.0  # while the API is down, facets are retried this often
THINKING = "…"
DOWN_BANNER = (
    "The shop assistant is not reachable right now. Filters and example questions will "
    "appear as soon as it is back; you can already type your question."
)

Messages = list[dict[str, str]]


class FacetsCache:
    """Facets fetched lazily and kept briefly: every page load needs them, they rarely change."""

    def __init__(self, client: ApiClient, ttl_s: float = FACETS_TTL_S) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._value: dict[str, Any] | None = None
        self._fetched_at = 0.0

    def get(self) -> dict[str, Any]:
        """The facets; raises ApiError when the API cannot give them."""
        with self._lock:
            if self._value is not None and time.monotonic() - self._fetched_at < self._ttl_s:
                return self._value
        value = self._client.facets()
        with self._lock:
            self._value, self._fetched_at = value, time.monotonic()
        return value

    def money(self) -> Money:
        """The catalog's currency and locale as last fetched (USD before any fetch)."""
        with self._lock:
            return Money.from_facets(self._value)


class FilterProblem(ValueError):
    """The filter panel holds something the shopper has to fix; the message says what."""


def parse_price(text: str | None, label: str, money: Money = DEFAULT_MONEY) -> float | None:
    """``"$1,200.50"`` -> 1200.5, ``"₹1,50,000"`` -> 150000 in en_IN; empty -> None."""
    if not (text or "").strip():
        return None
    try:
        value = money.parse(text or "")
    except ValueError:
        raise FilterProblem(f"The {label} “{text}” is not a number; please fix it.") from None
    if not math.isfinite(value) or value < 0:
        raise FilterProblem(f"The {label} must be zero or more; please fix it.")
    return value


def panel_filters(
    min_price: str | None,
    max_price: str | None,
    category: str | None,
    brand: str | None,
    in_stock: bool,
    money: Money = DEFAULT_MONEY,
) -> dict[str, Any]:
    """The filter panel as the API's ``filters`` (unset fields are left out by the client)."""
    low = parse_price(min_price, "minimum price", money)
    high = parse_price(max_price, "maximum price", money)
    if low is not None and high is not None and low > high:
        raise FilterProblem("The minimum price is above the maximum price; please fix it.")
    return {
        "min_price": low,
        "max_price": high,
        "category": category or None,
        "brand": brand or None,
        # Unticked means "don't care", not "out of stock only".
        "in_stock": True if in_stock else None,
    }


def _choices(facet: Any, any_label: str) -> list[tuple[str, str]]:
    options = [(any_label, "")]
    for item in facet if isinstance(facet, list) else []:
        if isinstance(item, dict) and item.get("name"):
            name = str(item["name"])
            count = item.get("count")
            options.append((f"{name} ({count})" if count is not None else name, name))
    return options


def _turn(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def page_css() -> str:
    return resources.files("ui").joinpath("style.css").read_text(encoding="utf-8")


# On a phone the open filter panel would fill the first screen: start it folded there.
PAGE_JS = """
() => {
  if (window.innerWidth < 640) {
    const toggle = document.querySelector("#aisle-filters .label-wrap");
    if (toggle && toggle.classList.contains("open")) toggle.click();
  }
}
"""


def page_theme() -> gr.themes.Base:
    import gradio as gr

    # Local fonts only (Gradio bundles them): the page makes no request off this host.
    return gr.themes.Soft(primary_hue="teal", secondary_hue="amber", neutral_hue="slate")


def build_app(api_url: str, *, client: ApiClient | None = None) -> gr.Blocks:
    """The Blocks app talking to the API at ``api_url``; queue and launch it yourself."""
    import gradio as gr

    api = client or ApiClient(api_url)
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
            gr.Dropdown(choices=_choices(facets.get("categories"), "Any"), interactive=True),
            gr.Dropdown(choices=_choices(facets.get("brands"), "Any"), interactive=True),
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

    with gr.Blocks(title="Aisle · shop assistant", analytics_enabled=False) as demo:
        display_state = gr.State([])
        history_state = gr.State([])
        retry_timer = gr.Timer(RETRY_EVERY_S, active=False)

        gr.HTML(
            '<header class="aisle-header"><span class="aisle-logo" aria-hidden="true">A</span>'
            "<div><h1>Aisle</h1><p>Ask about any product in the catalog: prices, stock, "
            "specs, warranty. Answers cite the products they come from.</p></div></header>",
            elem_id="aisle-header",
        )
        status = gr.HTML("", visible=False, elem_id="aisle-status")

        with (
            gr.Accordion("Filters", open=True, elem_id="aisle-filters"),
            gr.Row(equal_height=True),
        ):
            min_price = gr.Textbox(
                label="Min price",
                placeholder="Any",
                max_length=20,
                min_width=110,
                elem_id="aisle-min-price",
            )
            max_price = gr.Textbox(
                label="Max price",
                placeholder="Any",
                max_length=20,
                min_width=110,
                elem_id="aisle-max-price",
            )
            category = gr.Dropdown(
                label="Category",
                choices=[("Any", "")],
                value="",
                min_width=150,
                elem_id="aisle-category",
            )
            brand = gr.Dropdown(
                label="Brand",
                choices=[("Any", "")],
                value="",
                min_width=150,
                elem_id="aisle-brand",
            )
            with gr.Column(min_width=130, scale=0):
                in_stock = gr.Checkbox(label="In stock only", value=False, elem_id="aisle-in-stock")
                clear_filters = gr.Button(
                    "Clear filters", size="sm", variant="secondary", elem_id="aisle-clear"
                )
            # Empty until the facets say which backends exist: meanwhile (None) the service
            # answers with its own default.
            backend = gr.Radio(
                label="Answering engine",
                choices=[],
                value=None,
                visible=False,
                min_width=150,
                elem_id="aisle-backend",
            )

        with gr.Row(equal_height=False, elem_id="aisle-main"):
            with gr.Column(scale=3, min_width=340):
                chatbot = gr.Chatbot(
                    label="Chat",
                    show_label=False,
                    height=360,
                    elem_id="aisle-chat",
                    feedback_options=None,
                    buttons=["copy"],
                    placeholder="**Hi! I'm Aisle, your shop assistant.** Ask me about any product, "
                    "or start with one of these:",
                    sanitize_html=True,
                )
                with gr.Row(elem_id="aisle-input-row"):
                    message = gr.Textbox(
                        show_label=False,
                        placeholder="Ask about a product…",
                        scale=4,
                        min_width=240,
                        submit_btn="Send",
                        autofocus=True,
                        elem_id="aisle-message",
                    )
                    new_chat = gr.Button(
                        "New conversation", scale=0, min_width=190, elem_id="aisle-new"
                    )
            with gr.Column(scale=2, min_width=300):
                notice = gr.HTML("", visible=False, elem_id="aisle-notice")
                cards = gr.HTML(CARDS_PLACEHOLDER, elem_id="aisle-cards")

        facet_outputs = [
            category,
            brand,
            min_price,
            max_price,
            backend,
            chatbot,
            status,
            retry_timer,
        ]
        demo.load(load_facets, outputs=facet_outputs, show_progress="hidden")
        retry_timer.tick(load_facets, outputs=facet_outputs, show_progress="hidden")

        chat_inputs = [
            message,
            display_state,
            history_state,
            min_price,
            max_price,
            category,
            brand,
            in_stock,
            backend,
        ]
        chat_outputs = [message, chatbot, display_state, history_state, cards, notice]
        submitted = message.submit(respond, chat_inputs, chat_outputs, show_progress="minimal")
        picked = chatbot.example_select(pick_example, None, message, show_progress="hidden").then(
            respond, chat_inputs, chat_outputs, show_progress="minimal"
        )
        reset_outputs = [chatbot, display_state, history_state, message, cards, notice]
        new_chat.click(new_conversation, outputs=reset_outputs, cancels=[submitted, picked])
        # The chat's own trash button must forget the history too, not only the bubbles.
        chatbot.clear(new_conversation, outputs=reset_outputs, cancels=[submitted, picked])
        clear_filters.click(
            reset_filters, outputs=[min_price, max_price, category, brand, in_stock]
        )
    return demo


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
