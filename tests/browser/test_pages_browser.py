"""Every page in a real Chromium at phone and desktop size: loads, no error, no sideways scroll."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, running_dashboard, wait_for_app

pytestmark = pytest.mark.browser

# url path -> heading; "bulan_lalu" is a whole month the demo data (up to yesterday) always fills.
PAGES = {
    "": "Ringkasan",
    "peringkat": "Peringkat OPD",
    "detail_opd": "Detail OPD",  # opened with an OPD, see EXTRA_QUERY
    "terlambat": "Aduan Terlambat",
    "tren": "Tren",
    # "data" is for a signed-in analyst only; the open demo (this server) has no Data page.
}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
QUERY = "?periode=bulan_lalu"
EXTRA_QUERY = {"detail_opd": "&opd=Dinas+Kesehatan"}  # a demo OPD, so its charts and lists show


@pytest.fixture
def open_page(browser, app_url):
    contexts = []

    def _open(path: str, viewport: dict, query: str = QUERY):
        context = browser.new_context(viewport=viewport, device_scale_factor=1,
                                      is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{app_url}/{path}{query}", wait_until="domcontentloaded")
        wait_for_app(page)
        return page

    yield _open
    for context in contexts:
        context.close()


def _assert_no_error(page) -> None:  # noqa: ANN001
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0


def _assert_no_sideways_scroll(page) -> None:  # noqa: ANN001
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, f"page scrolls sideways: {scroll_width} > {inner_width}"


@pytest.mark.parametrize("viewport_name", list(VIEWPORTS))
@pytest.mark.parametrize("path", list(PAGES))
def test_page_loads_without_error_or_sideways_scroll(open_page, artifacts_dir, path, viewport_name):
    page = open_page(path, VIEWPORTS[viewport_name], QUERY + EXTRA_QUERY.get(path, ""))
    heading = page.locator("h1").first
    heading.wait_for()
    assert heading.inner_text().strip() == PAGES[path]
    expect(page.locator("strong", has_text="Data contoh").first).to_be_visible()  # st.html draws late
    _assert_no_error(page)
    if viewport_name == "phone":
        _assert_no_sideways_scroll(page)
    page.screenshot(path=str(artifacts_dir / f"{path or 'ringkasan'}-{viewport_name}.png"), full_page=True)


def test_first_page_on_a_phone_shows_the_headline_figures_two_cards_side_by_side(open_page, artifacts_dir):
    """Issue 2: a fresh visitor on a 390 px phone sees the default period's headline figures at once."""
    page = open_page("", PHONE, query="")
    cards = page.locator("[data-kpi]")
    expect(cards).to_have_count(4)
    for index in range(4):
        assert cards.nth(index).is_visible()
        assert re.search(r"\d|—", cards.nth(index).locator(".lp-card-value").inner_text())
    first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"]  # same row
    assert first["y"] + first["height"] < PHONE["height"]  # above the fold
    _assert_no_error(page)
    _assert_no_sideways_scroll(page)
    page.screenshot(path=str(artifacts_dir / "first-screen-phone.png"))


@pytest.mark.parametrize("viewport_name", list(VIEWPORTS))
def test_tapping_an_opd_in_the_ranking_opens_its_detail(open_page, artifacts_dir, viewport_name):
    page = open_page("peringkat", VIEWPORTS[viewport_name])
    if viewport_name == "phone":  # a phone has cards, each a link to the OPD's detail
        page.locator('[class*="st-key-lpcard"] [data-testid="stPageLink"] a').first.click()
    else:
        grid = page.locator('[data-testid="stDataFrame"]:visible').first
        grid.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        box = grid.bounding_box()
        # The row-selection checkbox sits at the left edge of the first data row (below the header).
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    page.wait_for_url(re.compile(r"/detail_opd\?.*opd="), timeout=20_000)
    wait_for_app(page)
    assert page.locator("h1").first.inner_text().strip() == "Detail OPD"
    chosen = page.locator('[data-testid="stSelectbox"]').last.inner_text()
    assert chosen.strip() and "Pilih OPD" not in chosen
    assert "periode=bulan_lalu" in page.url  # the filters travel with the tap
    _assert_no_error(page)
    page.screenshot(path=str(artifacts_dir / f"ranking-tap-{viewport_name}.png"), full_page=True)


def test_a_shared_deep_link_opens_its_page_on_a_freshly_started_server(browser, browser_db, tmp_path):
    """The first request of a new server process is a deep link: right page, gate ran, no dialog."""
    with running_dashboard(browser_db, tmp_path) as base:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        try:
            page = context.new_page()
            page.goto(f"{base}/peringkat{QUERY}", wait_until="domcontentloaded")
            wait_for_app(page)
            assert page.locator("h1").first.inner_text().strip() == "Peringkat OPD"
            assert page.get_by_text("Page not found").count() == 0
            assert page.locator('[data-testid="stSidebarNav"] a').count() >= 5  # the frame ran
            expect(page.locator("strong", has_text="Data contoh").first).to_be_visible()  # st.html draws late
            _assert_no_error(page)
        finally:
            context.close()
