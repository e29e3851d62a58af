"""Browser fixtures: a real `streamlit run dashboard.py` on a free port, and Playwright's Chromium.

The server gets its own SQLite store filled with demo data and an empty secrets file, so the
run never touches the developer's data. Skipped, with the reason, when /usr/bin/chromium or
the Playwright package is missing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = ROOT / "artifacts" / "browser"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1920, "height": 1080}
START_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _skip_reason() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"browser tests need Chromium at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need the playwright package (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture(scope="session")
def browser_db(tmp_path_factory) -> str:
    """A SQLite store with 3,000 demo complaints up to yesterday (seed 1)."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from core.settings import load_settings
    from data_sources.demo import load_demo
    from data_sources.store import Store

    secrets = tmp_path_factory.mktemp("browser-secrets") / "none.toml"
    secrets.write_text("")
    url = f"sqlite:///{tmp_path_factory.mktemp('browser-db') / 'complaints.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DASHBOARD_SECRETS", str(secrets))
        store = Store.open(url, load_settings(db_url=url))
        load_demo(store, n=3000, seed=1)
        store.dispose()
    return url


@contextmanager
def running_dashboard(db_url: str, workdir: Path, script: str = "dashboard.py") -> Iterator[str]:
    """`streamlit run dashboard.py` (or `script`) on a free port against `db_url`; yields the base URL."""
    port = _free_port()
    secrets = workdir / "none.toml"
    secrets.write_text("")
    env = {**os.environ, "COMPLAINTS_DB_URL": db_url, "DASHBOARD_SECRETS": str(secrets)}
    log_path = workdir / "streamlit.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                if process.poll() is not None:
                    pytest.fail(f"streamlit exited early:\n{log_path.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not answer within {START_TIMEOUT} s:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.3)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def app_url(browser_db, tmp_path_factory) -> Iterator[str]:
    """The dashboard shared by the browser tests; stopped after the session."""
    with running_dashboard(browser_db, tmp_path_factory.mktemp("server")) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        _open_browsers.append(chromium)
        yield chromium
        _open_browsers.remove(chromium)
        chromium.close()


_open_browsers: list = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001, ANN201
    """When a browser test fails, keep what every open page showed (a screenshot and its
    visible text in artifacts/browser/failures/): a failure on a busy CI machine is then
    explained by the page, not guessed at."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or not _open_browsers:
        return
    folder = ARTIFACTS / "failures"
    folder.mkdir(parents=True, exist_ok=True)
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in item.nodeid)[-150:]
    pages = [p for b in _open_browsers for c in b.contexts for p in c.pages]
    shown = []
    for number, page in enumerate(pages):
        try:
            page.screenshot(path=str(folder / f"{name}-{number}.png"), full_page=True, timeout=10_000)
            text = f"{page.url}\n\n{page.locator('body').inner_text(timeout=10_000)}"
        except Exception as exc:  # noqa: BLE001 - diagnostics must not hide the failure itself
            text = f"no capture: {exc}"
        (folder / f"{name}-{number}.txt").write_text(text, encoding="utf-8")
        shown.append(f"--- page {number}: {text[:1500]}")
    # The text goes into the test report too, so a CI log explains the failure without files.
    report.sections.append(("browser pages", f"captured in {folder}\n" + "\n".join(shown)))


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots land here (artifacts/ is gitignored); shared with other browser tests, never wiped."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def wait_for_app(page, timeout_ms: int = 30_000) -> None:  # noqa: ANN001
    """Wait until the app is connected and its script run has finished (Streamlit's own e2e way)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout_ms)
    # Plotly and the data grid load lazily after the run: wait until every one has drawn (a table
    # hidden on a phone, where cards stand in for it, never draws).
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(e => e.querySelector('.main-svg'))
              && [...document.querySelectorAll('[data-testid="stDataFrame"]')].every(e => e.offsetParent === null || e.querySelector('canvas'))""",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(300)


def pytest_collection_modifyitems(config, items):  # noqa: ANN001 - pytest's hook signature
    """A real Chromium against a real server on 2 shared cores can miss a 30 s wait under load:
    each browser test gets one retry (pytest-rerunfailures), and a retried test is reported as
    RERUN in the summary, so flakiness stays visible instead of failing the whole run."""
    for item in items:
        if item.get_closest_marker("browser") is not None and item.get_closest_marker("flaky") is None:
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))
