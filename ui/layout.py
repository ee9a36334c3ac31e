"""The page: its look (theme, CSS, phone script) and the Blocks layout wired to the handlers.

Gradio is imported inside the functions, not at module level, so that ``launch`` can turn
Gradio's analytics off before Gradio first reads its environment.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any

from ui.client import ApiClient
from ui.handlers import make_handlers
from ui.render import CARDS_PLACEHOLDER

if TYPE_CHECKING:
    import gradio as gr

RETRY_EVERY_S = 5.0  # while the API is down, facets are retried this often


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

    handlers = make_handlers(client or ApiClient(api_url))

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
            min_price = _price_box(gr, "Min price", "aisle-min-price")
            max_price = _price_box(gr, "Max price", "aisle-max-price")
            category = _facet_menu(gr, "Category", "aisle-category")
            brand = _facet_menu(gr, "Brand", "aisle-brand")
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
        demo.load(handlers.load_facets, outputs=facet_outputs, show_progress="hidden")
        retry_timer.tick(handlers.load_facets, outputs=facet_outputs, show_progress="hidden")

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
        submitted = message.submit(
            handlers.respond, chat_inputs, chat_outputs, show_progress="minimal"
        )
        picked = chatbot.example_select(
            handlers.pick_example, None, message, show_progress="hidden"
        ).then(handlers.respond, chat_inputs, chat_outputs, show_progress="minimal")
        reset_outputs = [chatbot, display_state, history_state, message, cards, notice]
        new_chat.click(
            handlers.new_conversation, outputs=reset_outputs, cancels=[submitted, picked]
        )
        # The chat's own trash button must forget the history too, not only the bubbles.
        chatbot.clear(handlers.new_conversation, outputs=reset_outputs, cancels=[submitted, picked])
        clear_filters.click(
            handlers.reset_filters, outputs=[min_price, max_price, category, brand, in_stock]
        )
    return demo


def _price_box(gr: Any, label: str, elem_id: str) -> Any:
    return gr.Textbox(label=label, placeholder="Any", max_length=20, min_width=110, elem_id=elem_id)


def _facet_menu(gr: Any, label: str, elem_id: str) -> Any:
    # Choices arrive from GET /v1/facets when the page loads.
    return gr.Dropdown(label=label, choices=[("Any", "")], value="", min_width=150, elem_id=elem_id)
