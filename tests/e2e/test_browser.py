"""The shopper UI in a real browser (Debian's chromium, headless) over the real API and UI."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import stop_process
from tests.e2e.conftest import TcpForwarder, start_ui

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

ANSWER_TIMEOUT_MS = 90_000
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}


def open_page(browser, url: str, viewport: dict[str, int]):
    """A fresh page that records every request leaving loopback (there must be none)."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(ANSWER_TIMEOUT_MS)
    page.outside_requests = []

    def record(request) -> None:
        host = urlsplit(request.url).hostname
        if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host != "127.0.0.1":
            page.outside_requests.append(request.url)

    page.on("request", record)
    page.goto(url)
    return page


def ask(page, question: str) -> None:
    box = page.locator("#aisle-message textarea")
    box.fill(question)
    box.press("Enter")


def last_answer(page):
    return page.locator('#aisle-chat [data-testid="bot"]').last


def wait_for_answer(page, pattern: str) -> str:
    """Wait until the latest answer (as it streams in) shows ``pattern`` and the turn is over
    (the message box unlocks); return the answer's text."""
    from playwright.sync_api import expect

    expect(last_answer(page)).to_contain_text(
        re.compile(pattern, re.IGNORECASE), timeout=ANSWER_TIMEOUT_MS
    )
    expect(page.locator("#aisle-message textarea")).to_be_editable()
    return last_answer(page).inner_text()


def card_prices(page) -> list[float]:
    prices = page.locator("#aisle-cards .aisle-card").evaluate_all(
        "cards => cards.map(card => card.dataset.price)"
    )
    return [float(price) for price in prices]


def wait_for_facets(page) -> None:
    """The filter panel is filled from GET /v1/facets once the page has loaded."""
    from playwright.sync_api import expect

    expect(page.locator("#aisle-max-price textarea")).to_have_attribute(
        "placeholder", re.compile(r"^\$[\d,]+\.\d\d$")
    )


def test_price_question_streams_answer_with_cards_and_filters(
    browser, ui_url: str, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page = open_page(browser, ui_url, DESKTOP)
    wait_for_facets(page)
    # The example questions come from the catalog (shown while the chat is empty).
    expect(page.locator("#aisle-chat .examples")).to_contain_text("Essence Mascara Lash Princess")
    # Only configured backends are offered (the demo API has just the extractive one).
    expect(page.locator("#aisle-backend input[type=radio]")).to_have_count(1)

    ask(page, "How much is the Essence Mascara Lash Princess?")
    answer = wait_for_answer(page, r"9\.99")
    assert "Essence Mascara Lash Princess" in answer
    card = page.locator('#aisle-cards .aisle-card[data-product-id="1"]')
    expect(card).to_be_visible()
    expect(card).to_contain_text("Essence Mascara Lash Princess")
    expect(card).to_contain_text("$9.99")
    expect(card).to_contain_text("Essence")  # brand
    expect(card).to_contain_text("beauty")  # category
    expect(card).to_contain_text("In Stock")
    expect(card.locator(".aisle-rating")).to_contain_text("2.6")
    # The snippet is the fact the answer cites: the record's price, in the catalog's currency.
    expect(card.locator(".aisle-snippet")).to_have_text(re.compile(r"^Price: \$9\.99$"))
    page.screenshot(path=str(artifacts / "ui-desktop-answer.png"))

    # A follow-up only makes sense with the history: "it" is the mascara.
    ask(page, "Does it have a warranty?")
    assert "1 week" in wait_for_answer(page, r"warranty")

    # A price filter from the panel: every card respects it and no constraint was relaxed.
    page.locator("#aisle-max-price textarea").fill("10")
    ask(page, "beauty products")
    wait_for_answer(page, r"8\.99")
    expect(page.locator("#aisle-cards .aisle-card").first).to_be_visible()
    prices = card_prices(page)
    assert prices and all(price <= 10 for price in prices), prices
    expect(page.locator("#aisle-notice")).to_be_hidden()
    page.screenshot(path=str(artifacts / "ui-desktop-filtered.png"))

    # When nothing matches, the relaxed constraint is a calm notice, not an error.
    page.locator("#aisle-max-price textarea").fill("5")
    ask(page, "laptops")
    wait_for_answer(page, r"closest matches|laptop")
    notice = page.locator("#aisle-notice .aisle-notice-info")
    expect(notice).to_contain_text("Constraints relaxed")
    expect(notice).to_contain_text("maximum price $5.00")
    page.screenshot(path=str(artifacts / "ui-desktop-relaxed.png"))

    # "New conversation" forgets the chat, its cards and its notice.
    page.locator("#aisle-new").click()
    expect(page.locator('#aisle-chat [data-testid="bot"]')).to_have_count(0)
    expect(page.locator("#aisle-cards .aisle-card")).to_have_count(0)
    expect(page.locator("#aisle-notice")).to_be_hidden()

    assert "Traceback" not in page.content()
    assert page.outside_requests == []
    page.context.close()


def test_refusal_is_a_notice_and_mobile_layout_reads_well(
    browser, ui_url: str, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page = open_page(browser, ui_url, MOBILE)
    wait_for_facets(page)
    # Without history, "it" is nobody: the service refuses, which the page shows calmly.
    ask(page, "Does it have a warranty?")
    wait_for_answer(page, r"couldn.t find|can.t tell")
    expect(page.locator("#aisle-notice .aisle-notice-info")).to_contain_text("No grounded answer")

    # On a phone the filter panel starts folded; one tap opens it. Category choices come
    # from the catalog; picking one (with in-stock) narrows the cards.
    expect(page.locator("#aisle-category")).to_be_hidden()
    page.locator("#aisle-filters .label-wrap").click()
    page.locator("#aisle-category input").click()
    page.get_by_role("option", name=re.compile(r"^fragrances \(\d+\)$")).click()
    page.locator("#aisle-in-stock input").check()
    ask(page, "perfume")
    wait_for_answer(page, r"\$")
    facts = page.locator("#aisle-cards .aisle-card .aisle-facts")
    expect(facts.first).to_be_visible()
    assert all(text.endswith("fragrances") for text in facts.all_inner_texts())
    expect(page.locator("#aisle-cards .aisle-stock-out")).to_have_count(0)
    page.locator("#aisle-clear").click()

    # An example question is one tap away and answers with its product card.
    page.locator("#aisle-new").click()  # the example questions show in an empty chat
    page.locator("#aisle-chat .example", has_text="Essence Mascara Lash Princess").click()
    wait_for_answer(page, r"9\.99")
    expect(page.locator('#aisle-cards .aisle-card[data-product-id="1"]')).to_be_visible()
    # Nothing may stick out sideways on a phone.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than a {MOBILE['width']}px screen"
    page.screenshot(path=str(artifacts / "ui-mobile-answer.png"), full_page=True)
    assert page.outside_requests == []
    page.context.close()


def test_api_down_shows_friendly_message_and_recovers(
    browser, api_url: str, flaky_api: TcpForwarder, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    # The UI's API address refuses connections at first.
    process, url = start_ui(f"http://127.0.0.1:{flaky_api.port}", artifacts / "e2e-ui-down.log")
    try:
        page = open_page(browser, url, DESKTOP)
        expect(page.locator("#aisle-status")).to_contain_text("not reachable right now")
        ask(page, "How much is the Essence Mascara Lash Princess?")
        answer = wait_for_answer(page, r"not reachable right now")
        assert "Try again" in answer or "try again" in answer
        body = page.locator("body").inner_text()
        assert "Traceback" not in body and "ConnectError" not in body and "Errno" not in body
        page.screenshot(path=str(artifacts / "ui-api-down.png"))

        # The API comes back: facets arrive by themselves and chatting works again.
        flaky_api.open_to(int(urlsplit(api_url).port or 0))
        wait_for_facets(page)
        expect(page.locator("#aisle-status")).to_be_hidden()
        ask(page, "How much is the Essence Mascara Lash Princess?")
        wait_for_answer(page, r"9\.99")
        expect(page.locator('#aisle-cards .aisle-card[data-product-id="1"]')).to_be_visible()
        page.context.close()
    finally:
        stop_process(process)
