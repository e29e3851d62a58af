"""Signing in and out in a real Chromium at a phone viewport, and a direct URL a role may not open.

The server runs `streamlit run dashboard.py` on its own store (demo data plus two accounts), so
the shared demo server of the page tests stays open (no account) and untouched.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import DESKTOP, PHONE, _skip_reason, running_dashboard

pytestmark = pytest.mark.browser

PASSWORD = "Sandi-Peramban-123"
TIMEOUT_MS = 90_000  # generous: CI machines run the other suites beside this one


_DB_URLS: dict[str, str] = {}  # base URL of a running server -> its database


def _db_url(base: str) -> str:
    return _DB_URLS[base]


@pytest.fixture(scope="module")
def signed_app_url(tmp_path_factory) -> Iterator[str]:
    """The dashboard on a store with demo data and accounts: the sign-in gate is on."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from access import accounts
    from core.settings import load_settings
    from data_sources.demo import load_demo
    from data_sources.store import Store

    secrets = tmp_path_factory.mktemp("access-secrets") / "none.toml"
    secrets.write_text("")
    url = f"sqlite:///{tmp_path_factory.mktemp('access-db') / 'complaints.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DASHBOARD_SECRETS", str(secrets))
        store = Store.open(url, load_settings(db_url=url))
        load_demo(store, n=1500, seed=3)
        accounts.create_user(store, "admin", "analis", PASSWORD)
        accounts.create_user(store, "bupati", "pimpinan", PASSWORD)
        accounts.create_user(store, "sekda", "pimpinan", PASSWORD)  # disabled by a test
        store.dispose()

    workdir = tmp_path_factory.mktemp("access-server")
    with running_dashboard(url, workdir) as base:
        _DB_URLS[base] = url
        yield base
    server_log = (workdir / "streamlit.log").read_text()
    assert PASSWORD not in server_log and "$argon2" not in server_log


def _settled(page) -> None:  # noqa: ANN001
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=TIMEOUT_MS)


def _sign_in_form_shown(page) -> None:  # noqa: ANN001
    page.get_by_label("Nama pengguna").wait_for(timeout=TIMEOUT_MS)
    assert page.locator('[data-testid="stPlotlyChart"], [data-testid="stDataFrame"], .lp-card').count() == 0


def _sign_in(page, username: str) -> None:  # noqa: ANN001
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk", exact=True).click()


@pytest.fixture
def new_page(browser, artifacts_dir):
    contexts = []

    def _open(viewport: dict):  # noqa: ANN202
        phone = viewport is PHONE
        context = browser.new_context(viewport=viewport, device_scale_factor=1, is_mobile=phone, has_touch=phone)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def test_sign_in_and_sign_out_at_phone_viewport(signed_app_url, new_page, artifacts_dir):
    page = new_page(PHONE)
    page.goto(signed_app_url, wait_until="domcontentloaded")
    _settled(page)
    _sign_in_form_shown(page)
    page.screenshot(path=str(artifacts_dir / "access-phone-sign-in.png"), full_page=True)

    _sign_in(page, "bupati")
    page.wait_for_selector('[data-testid="stMain"] h1:has-text("Ringkasan")', timeout=TIMEOUT_MS)
    _settled(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(artifacts_dir / "access-phone-signed-in.png"), full_page=True)

    # On a phone the sidebar starts collapsed (off screen): open it to reach "Keluar".
    page.locator('[data-testid="stExpandSidebarButton"]').click()
    sign_out = page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Keluar")
    sign_out.wait_for(state="visible", timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)  # the sidebar slides in
    sign_out.click()
    page.get_by_text("Anda sudah keluar.").wait_for(timeout=TIMEOUT_MS)
    _sign_in_form_shown(page)
    page.screenshot(path=str(artifacts_dir / "access-phone-signed-out.png"), full_page=True)


def test_direct_url_to_a_page_the_role_may_not_see_shows_nothing_of_it(signed_app_url, new_page):
    from ui.registry import SPECS_BY_KEY

    page = new_page(DESKTOP)
    page.goto(f"{signed_app_url}/{SPECS_BY_KEY['akun'].url_path}", wait_until="domcontentloaded")
    _settled(page)
    _sign_in_form_shown(page)  # before sign-in: the gate, nothing else
    _sign_in(page, "bupati")
    page.wait_for_function(
        """() => { const h = document.querySelector('[data-testid="stMain"] h1');
                   return h && !/Masuk|Dasbor Pengaduan/.test(h.textContent); }""",
        timeout=TIMEOUT_MS,
    )
    _settled(page)
    headings = page.locator('[data-testid="stMain"] h1').all_inner_texts()
    assert not any("Akun" in h for h in headings), headings
    assert page.get_by_text("admin", exact=True).count() == 0
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Akun" not in nav and "Audit" not in nav and "Ringkasan" in nav


# --- staying signed in (issue 19), downloads at click time (issue 14) ------------------------
def _signed_in_at(page, heading: str) -> None:  # noqa: ANN001
    page.wait_for_selector(f'[data-testid="stMain"] h1:has-text("{heading}")', timeout=TIMEOUT_MS)
    _settled(page)


def _session_cookie(page) -> dict | None:  # noqa: ANN001
    from access.gate import COOKIE_NAME

    page.wait_for_function(f"() => document.cookie.includes('{COOKIE_NAME}=')", timeout=TIMEOUT_MS)
    return next((c for c in page.context.cookies() if c["name"] == COOKIE_NAME), None)


def test_a_reload_and_a_new_tab_stay_signed_in_at_phone_viewport(signed_app_url, new_page, artifacts_dir):
    page = new_page(PHONE)
    page.goto(signed_app_url, wait_until="domcontentloaded")
    _settled(page)
    _sign_in(page, "bupati")
    _signed_in_at(page, "Ringkasan")
    cookie = _session_cookie(page)
    assert cookie["sameSite"] == "Strict" and len(cookie["value"]) >= 40
    assert cookie["value"] not in page.url

    page.reload(wait_until="domcontentloaded")
    _signed_in_at(page, "Ringkasan")
    assert page.get_by_label("Nama pengguna").count() == 0
    page.screenshot(path=str(artifacts_dir / "access-phone-after-reload.png"), full_page=True)

    tab = page.context.new_page()
    tab.goto(f"{signed_app_url}/terlambat", wait_until="domcontentloaded")
    _signed_in_at(tab, "Aduan Terlambat")


def test_a_deep_link_opened_signed_out_lands_on_its_page_after_sign_in(signed_app_url, new_page, artifacts_dir):
    page = new_page(PHONE)
    page.goto(f"{signed_app_url}/terlambat?periode=bulan_lalu", wait_until="domcontentloaded")
    _settled(page)
    _sign_in_form_shown(page)
    _sign_in(page, "bupati")
    _signed_in_at(page, "Aduan Terlambat")
    assert "/terlambat" in page.url and "periode=bulan_lalu" in page.url
    page.screenshot(path=str(artifacts_dir / "access-phone-deep-link.png"), full_page=True)


def test_after_sign_out_the_old_cookie_is_refused_by_the_server(signed_app_url, new_page, browser):
    page = new_page(PHONE)
    page.goto(signed_app_url, wait_until="domcontentloaded")
    _settled(page)
    _sign_in(page, "bupati")
    _signed_in_at(page, "Ringkasan")
    old = _session_cookie(page)
    page.locator('[data-testid="stExpandSidebarButton"]').click()
    sign_out = page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Keluar")
    sign_out.wait_for(state="visible", timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)
    sign_out.click()
    page.get_by_text("Anda sudah keluar.").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function("() => !document.cookie.includes('dasbor_sesi=')", timeout=TIMEOUT_MS)

    # A fresh browser that still presents the old token (copied, as a thief would) gets the gate.
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        context.add_cookies([{k: old[k] for k in ("name", "value", "domain", "path")}])
        replay = context.new_page()
        replay.goto(signed_app_url, wait_until="domcontentloaded")
        _settled(replay)
        _sign_in_form_shown(replay)
    finally:
        context.close()


def test_a_download_clicked_after_the_account_was_disabled_gets_nothing(signed_app_url, new_page):
    from access import accounts
    from data_sources.store import Store

    page = new_page(DESKTOP)
    page.goto(f"{signed_app_url}/peringkat?periode=bulan_lalu", wait_until="domcontentloaded")
    _settled(page)
    _sign_in(page, "sekda")
    _signed_in_at(page, "Peringkat OPD")
    button = page.get_by_role("button", name="Unduh scorecard Excel")
    button.wait_for(timeout=TIMEOUT_MS)
    with page.expect_download(timeout=TIMEOUT_MS) as allowed:
        button.click()
    assert allowed.value.suggested_filename.endswith(".xlsx")
    _settled(page)

    store = Store.open(_db_url(signed_app_url))
    try:
        accounts.disable_user(store, "sekda", actor="admin")
    finally:
        store.dispose()
    downloads = []
    page.on("download", lambda download: downloads.append(download))
    page.get_by_role("button", name="Unduh scorecard Excel").click()
    page.get_by_text("Akun Anda tidak lagi aktif").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(2000)
    assert downloads == []
    _sign_in_form_shown(page)


def test_serve_py_sends_headers_that_forbid_framing(tmp_path_factory, browser_db, new_page):
    import urllib.request

    with running_dashboard(browser_db, tmp_path_factory.mktemp("serve"), script="serve.py") as base:
        with urllib.request.urlopen(f"{base}/", timeout=30) as response:
            headers = response.headers
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Content-Security-Policy"] == "frame-ancestors 'none'"
        page = new_page(PHONE)  # and the app itself still runs behind the middleware
        page.goto(base, wait_until="domcontentloaded")
        page.wait_for_selector('[data-testid="stMain"] h1:has-text("Ringkasan")', timeout=TIMEOUT_MS)


def test_under_serve_py_the_session_cookie_is_httponly_and_a_reload_stays_signed_in(
    signed_app_url, tmp_path_factory, new_page
):
    from access.cookies import COOKIE_NAME

    with running_dashboard(_db_url(signed_app_url), tmp_path_factory.mktemp("serve-cookie"), script="serve.py") as base:
        page = new_page(PHONE)
        page.goto(base, wait_until="domcontentloaded")
        _settled(page)
        _sign_in(page, "bupati")
        _signed_in_at(page, "Ringkasan")
        cookie = None
        for _ in range(100):  # the route's answer arrives a moment after the page has drawn
            cookie = next((c for c in page.context.cookies() if c["name"] == COOKIE_NAME), None)
            if cookie is not None:
                break
            page.wait_for_timeout(200)
        assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert page.evaluate(f"document.cookie.includes('{COOKIE_NAME}')") is False  # out of script's reach
        page.reload(wait_until="domcontentloaded")
        _signed_in_at(page, "Ringkasan")
        assert page.get_by_label("Nama pengguna").count() == 0
