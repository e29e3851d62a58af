"""The regent's phone (issue 19): every page and role at 390x844 in a real Chromium.

The server runs on its own store (demo data, three accounts: a regent, an analyst and an OPD
head, and a WhatsApp contact for the latest OPD) with the clock pinned early in a month through
the URL (`asof`), the day the issue's walk found slivers, cut charts and English.
Screenshots of every page land in artifacts/browser/phone/ (gitignored).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import DESKTOP, PHONE, ROOT, _skip_reason, running_dashboard

pytestmark = pytest.mark.browser

PASSWORD = "Sandi-Ponsel-Bupati-123"
TIMEOUT_MS = 90_000
ZONE = ZoneInfo("Asia/Makassar")
ROLE_PAGES = {
    "bupati": ["", "peringkat", "detail_opd", "terlambat", "tren", "presentasi"],
    "admin": ["", "peringkat", "detail_opd", "terlambat", "tren", "presentasi", "data"],
    "kepala": ["", "peringkat", "detail_opd", "terlambat"],
}
HEADINGS = {"": "Ringkasan", "ringkasan": "Ringkasan", "peringkat": "Peringkat OPD", "detail_opd": "Detail OPD",
            "terlambat": "Aduan Terlambat", "tren": "Tren", "data": "Data"}
# Words of Streamlit or of the code that must never reach a page (whole words, case as written).
ENGLISH = [
    "Page not found", "Upload", "per file", "Browse files", "Drag and drop", "Choose an option",
    "No results", "Download", "Search", "Show/hide", "Running", "Please wait", "Select all", "Fullscreen",
    "Submit", "None", "NaN", "null", "True", "False", "canonical", "perlu_perhatian", "response_on_time_pct",
    "backlog_overdue", "Made with Streamlit", "Deploy", "Rerun", "Error", "Traceback",
]
WIDE_JS = """() => {
  const W = window.innerWidth, out = [];
  for (const e of document.querySelectorAll('[data-testid="stMain"] *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || (r.right <= W + 1 && r.left >= -1)) continue;
    if (e.closest('[data-testid="stDataFrame"]')) {  // a grid scrolls inside its own box
      const box = e.closest('[data-testid="stDataFrame"]').getBoundingClientRect();
      if (box.right <= W + 1 && box.left >= -1) continue;
    }
    out.push(`${e.tagName}.${String(e.className && e.className.baseVal !== undefined ? e.className.baseVal : e.className).slice(0, 50)} ${Math.round(r.left)}..${Math.round(r.right)}`);
  }
  return out.slice(0, 10);
}"""
CHART_JS = """() => {
  const out = [];
  [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].filter(c => c.offsetParent !== null).forEach((c, i) => {
    const svg = c.querySelector('.main-svg');
    if (!svg) { out.push(`chart ${i}: not drawn`); return; }
    const box = svg.getBoundingClientRect();
    const inside = (r) => r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
    for (const t of c.querySelectorAll('.xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .legendtext, .annotation-text')) {
      const r = t.getBoundingClientRect();
      if (r.width > 0 && !inside(r)) out.push(`chart ${i}: "${t.textContent}" outside`);
    }
    const ticks = [...c.querySelectorAll('.xtick text')].map(t => t.getBoundingClientRect()).filter(r => r.width > 0)
      .sort((a, b) => a.left - b.left);
    for (let k = 1; k < ticks.length; k++) if (ticks[k].left < ticks[k - 1].right - 1) out.push(`chart ${i}: x ticks overlap`);
    for (const title of c.querySelectorAll('.g-xtitle text, .g-ytitle text')) {
      const tr = title.getBoundingClientRect();
      for (const t of c.querySelectorAll('.xtick text, .ytick text')) {
        const r = t.getBoundingClientRect();
        if (r.width > 0 && tr.left < r.right && r.left < tr.right && tr.top < r.bottom && r.top < tr.bottom)
          out.push(`chart ${i}: axis title "${title.textContent}" over tick "${t.textContent}"`);
      }
    }
  });
  return out;
}"""


def early_in_month_as_of() -> datetime:
    """The 3rd of this month, 10:45 local (or of last month before the 4th): demo data runs to yesterday."""
    today = datetime.now(ZONE).date()
    day = today.replace(day=3)
    if day >= today:
        day = (today.replace(day=1) - timedelta(days=1)).replace(day=3)
    return datetime.combine(day, time(10, 45), tzinfo=ZONE)


AS_OF = early_in_month_as_of()
QUERY = "?asof=" + quote(AS_OF.isoformat())


@pytest.fixture(scope="module")
def phone_app(tmp_path_factory) -> Iterator[dict]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from access import accounts
    from core.settings import load_settings
    from data_sources.contacts import set_contact
    from data_sources.demo import load_demo
    from data_sources.store import Store
    from metrics.backlog import backlog_counts
    from metrics.filters import Filters

    secrets = tmp_path_factory.mktemp("phone-secrets") / "none.toml"
    secrets.write_text("")
    url = f"sqlite:///{tmp_path_factory.mktemp('phone-db') / 'complaints.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DASHBOARD_SECRETS", str(secrets))
        store = Store.open(url, load_settings(db_url=url))
        load_demo(store, n=2000, seed=7)
        counts = backlog_counts(store, Filters(AS_OF.date() - timedelta(days=29), AS_OF.date(), AS_OF))
        rows = counts[counts["opd"] != "TOTAL"].sort_values("backlog_overdue", ascending=False)
        latest = str(rows.iloc[0]["opd"])
        set_contact(store, latest, name="Kepala Bidang", whatsapp="0812-3456-7890", actor="test")
        accounts.create_user(store, "admin", "analis", PASSWORD)
        accounts.create_user(store, "bupati", "pimpinan", PASSWORD)
        accounts.create_user(store, "kepala", "opd", PASSWORD, opd=latest)
        store.dispose()
    with running_dashboard(url, tmp_path_factory.mktemp("phone-server")) as base:
        yield {"base": base, "db": url, "latest": latest, "secrets": secrets}


@pytest.fixture
def visit(browser, phone_app):
    contexts = []

    def _visit(role: str, path: str, viewport: dict = PHONE):  # noqa: ANN202
        phone = viewport is PHONE
        context = browser.new_context(viewport=viewport, device_scale_factor=1, is_mobile=phone, has_touch=phone)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{phone_app['base']}/{QUERY}", wait_until="domcontentloaded")
        page.get_by_label("Nama pengguna").wait_for(timeout=TIMEOUT_MS)
        page.get_by_label("Nama pengguna").fill(role)
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk", exact=True).click()
        page.get_by_label("Nama pengguna").wait_for(state="detached", timeout=TIMEOUT_MS)
        settle(page)
        if path:  # the sign-in lives in this session: move on inside the app, as a tap on the menu does
            page.evaluate("(path) => [...document.querySelectorAll('[data-testid=stSidebarNavLink]')]"
                          ".find(a => new URL(a.href).pathname.endsWith('/' + path)).click()", path)
            page.wait_for_url(re.compile(rf"/{path}(\?|$)"), timeout=TIMEOUT_MS)
            settle(page, presentation=path == "presentasi")
        return page

    yield _visit
    for context in contexts:
        context.close()


def settle(page, presentation: bool = False) -> None:  # noqa: ANN001
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=TIMEOUT_MS)
    page.wait_for_selector('[data-testid="pz-slide"]' if presentation else '[data-testid="stMain"] h1',
                           timeout=TIMEOUT_MS)
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(e => e.offsetParent === null || e.querySelector('.main-svg'))
              && [...document.querySelectorAll('[data-testid="stDataFrame"]')].every(e => e.offsetParent === null || e.querySelector('canvas'))""",
        timeout=TIMEOUT_MS,
    )
    page.wait_for_timeout(400)


def screenshot(page, name: str) -> None:  # noqa: ANN001
    """The whole page: the app scrolls inside its main block, so grow the viewport to it first."""
    folder = ROOT / "artifacts" / "browser" / "phone"
    folder.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    tall = page.evaluate("() => (document.querySelector('[data-testid=stMain]') || document.body).scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(max(size["height"], tall + 40), 12000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)


def english_words(text: str) -> list[str]:
    return [word for word in ENGLISH if re.search(rf"(?<![\w/]){re.escape(word)}(?![\w])", text)]


@pytest.mark.parametrize(("role", "path"), [(r, p) for r, pages in ROLE_PAGES.items() for p in pages])
def test_every_page_fits_a_phone_in_indonesian_with_readable_charts(visit, role, path):
    page = visit(role, path)
    text = page.locator("body").inner_text()
    if path != "presentasi":
        assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == HEADINGS[path]
    assert page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count() == 0
    assert not english_words(text), english_words(text)
    assert page.evaluate(WIDE_JS) == []
    assert page.evaluate(CHART_JS) == []
    screenshot(page, f"{role}-{path or 'home'}-phone")


@pytest.mark.parametrize("path", ROLE_PAGES["admin"])
def test_every_page_on_a_desktop_screen_has_readable_charts(visit, path):
    page = visit("admin", path, DESKTOP)
    assert not english_words(page.locator("body").inner_text())
    assert page.evaluate(CHART_JS) == []
    grids = page.locator('[data-testid="stDataFrame"]:visible')
    if grids.count():
        # The table toolbar offers no CSV download: it would bypass the formula neutraliser.
        grids.first.hover()
        page.wait_for_timeout(500)
        assert page.locator('[data-testid="stElementToolbar"] button').count() >= 1  # the toolbar is there
        assert page.get_by_role("button", name=re.compile("Download", re.I)).count() == 0
    screenshot(page, f"admin-{path or 'home'}-desktop")


def test_every_card_is_a_link_and_an_opd_card_opens_its_detail(visit, phone_app):
    page = visit("bupati", "peringkat")
    cards = page.locator('[class*="st-key-lpcard"]:visible')
    assert cards.count() >= 5
    for index in range(cards.count()):
        assert cards.nth(index).locator("a[href]").count() >= 1
    name = cards.nth(0).locator(".lp-c-name").inner_text().split(". ", 1)[1]
    cards.nth(0).locator('[data-testid="stPageLink"] a').click()
    page.wait_for_url(re.compile(r"/detail_opd\?"), timeout=TIMEOUT_MS)
    settle(page)
    assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == "Detail OPD"
    assert quote(name, safe="").replace("%20", "+") in page.url or name.replace(" ", "+") in page.url
    assert "peringkat 1 dari" in page.locator('[data-testid="stMain"]').inner_text()  # the first card's OPD
    # An overdue card opens the complaint in LAPOR!.
    page = visit("bupati", "terlambat")
    complaint_cards = page.locator('[data-testid="lp-complaint-card"]:visible')
    assert complaint_cards.count() >= 1
    for index in range(min(complaint_cards.count(), 10)):
        card = complaint_cards.nth(index)
        tracking_id = card.locator("a.lp-c-main").inner_text().strip()
        assert card.locator("a.lp-c-main").get_attribute("href") == (
            f"https://www.lapor.go.id/laporan/detil/{tracking_id}")


def _report_total(phone_app: dict) -> dict:
    as_of = AS_OF
    start = as_of.date() - timedelta(days=29)
    out = subprocess.run(
        [sys.executable, "-m", "metrics", "report", "--from", start.isoformat(), "--to", as_of.date().isoformat(),
         "--as-of", as_of.isoformat(), "--format", "json", "--db", phone_app["db"]],
        cwd=ROOT, capture_output=True, text=True, check=True,
        env={"PATH": "/usr/bin:/bin", "DASHBOARD_SECRETS": str(phone_app["secrets"])},
    ).stdout
    return next(r for r in json.loads(out) if r["opd"] == "TOTAL")


def test_perlu_perhatian_counts_the_backlog_of_the_report_early_in_a_month(visit, phone_app):
    total = _report_total(phone_app)
    assert total["backlog_overdue"] > 0
    page = visit("bupati", "")
    caption = page.get_by_text(re.compile(r"aduan terlambat saat ini")).first.inner_text()
    shown = int(re.match(r"([\d.]+) aduan terlambat saat ini", caption).group(1).replace(".", ""))
    assert shown == total["backlog_overdue"]
    # The default period is a whole, mature span even on the 3rd, compared like with like.
    subtitle = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first.inner_text()
    start = AS_OF.date() - timedelta(days=29)
    assert str(start.day) in subtitle and "Periode" in subtitle
    # Whom to call: the late OPD with a contact offers WhatsApp with its Tracking IDs, and a phone call.
    whatsapp = page.locator('a[data-testid="lp-contact"][href^="https://wa.me/6281234567890?text="]')
    assert whatsapp.count() >= 1
    assert page.locator('a[data-testid="lp-contact"][href="tel:+6281234567890"]').count() >= 1


def test_the_opd_head_sees_the_own_opd_only(visit, phone_app):
    latest = phone_app["latest"]
    page = visit("kepala", "detail_opd")
    assert page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').count() == 0  # nothing to choose
    assert re.search(r"peringkat \d+ dari \d+|tidak diperingkat", page.locator("body").inner_text())
    page = visit("kepala", "terlambat")
    text = page.locator("body").inner_text()
    assert "Semua OPD" not in text and page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').count() == 0
    assert not re.search(r"di \d+ OPD", text)  # the own OPD's list, not a spread over OPDs
    cards = page.locator('[data-testid="lp-complaint-card"]:visible')
    assert cards.count() >= 1 and not [c for c in cards.all_inner_texts() if latest in c]  # no repeated OPD
    page = visit("kepala", "peringkat")
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert re.search(rf"{re.escape(latest)}: (peringkat \d+ dari \d+|tidak diperingkat)", text)
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 0  # no other OPD's bar
    assert len(page.locator('[class*="st-key-lpcard"]:visible').all()) == 1


def test_ringkasan_by_its_name_opens_without_page_not_found(browser, app_url):
    """A shared link to /ringkasan on the open demo server: the page, no English pop-up."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(f"{app_url}/ringkasan", wait_until="domcontentloaded")
        settle(page)
        page.wait_for_timeout(1000)
        assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == "Ringkasan"
        assert "Page not found" not in page.locator("body").inner_text()
        assert page.locator('[role="dialog"]').count() == 0
    finally:
        context.close()
