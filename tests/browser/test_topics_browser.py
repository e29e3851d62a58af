"""The Topik page in a real Chromium at phone and desktop size: terms, kecamatan view, recurring cards."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, wait_for_app

pytestmark = pytest.mark.browser

VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
# The twelve months up to yesterday: the demo data (3,000 complaints, up to yesterday) fills them.
_TO = date.today() - timedelta(days=1)
QUERY = f"?periode=custom&dari={_TO - timedelta(days=364)}&sampai={_TO}"


@pytest.fixture
def open_page(browser, app_url):
    contexts = []

    def _open(path: str, viewport: dict):
        context = browser.new_context(viewport=viewport, device_scale_factor=1,
                                      is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{app_url}/{path}{QUERY}", wait_until="domcontentloaded")
        wait_for_app(page, timeout_ms=60_000)
        return page

    yield _open
    for context in contexts:
        context.close()


def _assert_readable(page) -> None:  # noqa: ANN001
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, f"page scrolls sideways: {scroll_width} > {inner_width}"
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "None" not in body and "nan" not in body.split()


@pytest.mark.parametrize("viewport_name", list(VIEWPORTS))
def test_topik_page_shows_terms_places_and_recurring_cards(open_page, artifacts_dir, viewport_name):
    page = open_page("topik", VIEWPORTS[viewport_name])
    expect(page.locator("h1").first).to_have_text("Topik Aduan")
    terms = page.locator("li[data-term]")
    assert terms.count() >= 5
    expect(page.get_by_text("Per kecamatan")).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    cards = page.locator('[class*="st-key-topik_group_"]')
    assert cards.count() >= 1
    _assert_readable(page)
    page.screenshot(path=str(artifacts_dir / f"topik_{viewport_name}.png"), full_page=True)
    page.locator('[data-testid="stDataFrame"]').first.screenshot(
        path=str(artifacts_dir / f"topik_kecamatan_{viewport_name}.png"))
    cards.first.get_by_text("Lihat").first.click()
    expect(cards.first.get_by_text("Tracking ID").first).to_be_visible()
    _assert_readable(page)
    cards.first.screenshot(path=str(artifacts_dir / f"topik_card_{viewport_name}.png"))


def test_ringkasan_shows_what_is_most_complained_about(open_page, artifacts_dir):
    page = open_page("", PHONE)
    block = page.get_by_text("Yang paling banyak dikeluhkan")
    expect(block).to_be_visible()
    assert page.locator("li[data-term]").count() == 5
    _assert_readable(page)
    block.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "ringkasan_topik_phone.png"))
