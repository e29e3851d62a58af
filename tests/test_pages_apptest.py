"""Every page through Streamlit's AppTest: renders on demo data and on an empty store, filters
change the figures, the URL restores the filters, and the screen equals `python -m metrics report`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.settings import load_settings
from data_sources.store import Store

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
TIMEOUT = 60

# (page file, heading, minimum dataframes, minimum charts) on demo data.
PAGES = [
    ("pages/ringkasan.py", "Ringkasan", 0, 1),
    ("pages/peringkat.py", "Peringkat OPD", 1, 1),
    ("pages/detail_opd.py", "Detail OPD", 0, 0),
    ("pages/terlambat.py", "Aduan Terlambat", 1, 0),
    ("pages/tren.py", "Tren", 0, 4),
]  # pages/data.py is for a signed-in analyst only (not in the open demo): see the upload test
# A fixed window the demo data (seed 1, up to yesterday) is known to fill, and a fixed as-of.
FIXED = {"periode": "custom", "dari": "2026-09-01", "sampai": "2026-10-31", "asof": "2026-11-15T12:00:00+08:00"}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    """One SQLite store with 3,000 demo complaints (seed 1), shared by the module's tests."""
    from data_sources.demo import load_demo

    secrets = tmp_path_factory.mktemp("secrets") / "none.toml"
    secrets.write_text("")
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'complaints.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DASHBOARD_SECRETS", str(secrets))
        store = Store.open(url, load_settings(db_url=url))
        load_demo(store, n=3000, seed=1, until=date(2026, 11, 21))
        store.dispose()
    return url


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Caches outlive script runs (and AppTest instances): start every test without them."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def app(demo_db, monkeypatch):
    monkeypatch.setenv("COMPLAINTS_DB_URL", demo_db)
    return _app


@pytest.fixture
def empty_app(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPLAINTS_DB_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    return _app


def _app(page: str | None = None, params: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if params:
        at.query_params.update(params)
    at.run()
    if page and page != "pages/ringkasan.py":
        at.switch_page(page)
        at.run()
    return at


def _html(at: AppTest) -> str:
    return "\n".join(el.proto.body for el in at.get("html"))


def _cards(at: AppTest) -> dict[str, str]:
    found = re.findall(r'data-kpi="([a-z_]+)"><p class="lp-card-label">[^<]*</p><p class="lp-card-value">([^<]*)</p>', _html(at))
    return dict(found)


def _assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _report(url: str, *, extra: list[str] | None = None) -> list[dict]:
    """`python -m metrics report` for the FIXED window, as JSON records."""
    cmd = [sys.executable, "-m", "metrics", "report", "--from", FIXED["dari"], "--to", FIXED["sampai"],
           "--as-of", FIXED["asof"], "--format", "json", "--db", url, *(extra or [])]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    payload = json.loads(done.stdout)
    return payload["rows"] if isinstance(payload, dict) and "rows" in payload else payload


@pytest.mark.parametrize(("page", "heading", "min_tables", "min_charts"), PAGES)
def test_every_page_renders_on_demo_data(app, page, heading, min_tables, min_charts):
    at = app(page, FIXED)
    _assert_clean(at)
    assert [t.value for t in at.title] == [heading]
    assert len(at.dataframe) >= min_tables
    assert len(at.get("plotly_chart")) >= min_charts


@pytest.mark.parametrize(("page", "heading"), [(p, h) for p, h, _, _ in PAGES])
def test_every_page_shows_a_helpful_empty_state_on_an_empty_database(empty_app, page, heading):
    at = empty_app(page)
    _assert_clean(at)
    assert [t.value for t in at.title] == [heading]
    if page != "pages/data.py":
        assert any("Belum ada data pengaduan" in m.value for m in at.markdown)
    assert "Data contoh" not in _html(at)


def test_every_page_is_labelled_data_contoh_while_only_demo_data(app):
    for page, *_ in PAGES:
        at = app(page)
        assert "<strong>Data contoh</strong>" in _html(at), page


def test_ringkasan_shows_four_headline_cards_with_change(app):
    at = app(None, FIXED)
    cards = _cards(at)
    assert list(cards) == ["received", "response_on_time_pct", "accuracy_pct", "completion_pct"]
    assert "perubahan dibanding" in _html(at)
    assert any(s.value == "Perlu perhatian saat ini" for s in at.subheader)


def test_filter_change_changes_the_figures(app):
    at = app(None, FIXED)
    before = _cards(at)["received"]
    at.selectbox(key="flt_preset").set_value("tahun_ini").run()
    _assert_clean(at)
    assert _cards(at)["received"] != before
    assert at.query_params.get("periode") in ("tahun_ini", ["tahun_ini"])


def test_slicer_change_changes_the_figures_and_the_url(app):
    at = app(None, FIXED)
    before = _cards(at)["received"]
    channels = at.multiselect(key="flt_channels").options
    at.multiselect(key="flt_channels").select(channels[0]).run()
    _assert_clean(at)
    assert _cards(at)["received"] != before
    assert "f_kanal" in at.query_params


def test_query_parameters_restore_the_filters(app):
    at = app(None, {**FIXED, "f_kanal": ["sms", "website"]})
    _assert_clean(at)
    assert at.selectbox(key="flt_preset").value == "custom"
    assert sorted(at.multiselect(key="flt_channels").value) == ["sms", "website"]
    filters = at.session_state["filters"]
    assert (filters.date_from, filters.date_to) == (date(2026, 9, 1), date(2026, 10, 31))
    assert filters.channels == ("sms", "website")
    assert filters.as_of.isoformat() == "2026-11-15T04:00:00+00:00"


def test_malformed_query_parameters_fall_back_to_defaults(app):
    at = app(None, {"periode": "kemarin", "dari": "x", "f_opd": "Tidak Ada OPD Ini", "asof": "nanti"})
    _assert_clean(at)
    assert at.selectbox(key="flt_preset").value == "30_hari"
    assert at.session_state["filters"].opds == ()


def test_ringkasan_figures_equal_metrics_report(app, demo_db):
    from ui import format as fmt

    at = app(None, FIXED)
    total = next(r for r in _report(demo_db) if r["opd"] == "TOTAL")
    cards = _cards(at)
    assert cards["received"] == fmt.number(total["received"])
    assert cards["response_on_time_pct"] == fmt.percent(total["response_on_time_pct"])
    assert cards["accuracy_pct"] == fmt.percent(total["accuracy_pct"])
    assert cards["completion_pct"] == fmt.percent(total["completion_pct"])


def test_peringkat_scorecard_equals_metrics_report(app, demo_db):
    at = app("pages/peringkat.py", FIXED)
    report = {r["opd"]: r for r in _report(demo_db) if r["opd"] != "TOTAL" and r.get("rank") is not None}
    shown = at.dataframe[0].value
    assert sorted(shown["OPD"]) == sorted(report)
    for row in shown.itertuples(index=False):
        expected = report[row.OPD]
        assert row.Peringkat == expected["rank"]
        assert row.Skor == pytest.approx(expected["score"])
        assert row.Masuk == expected["received"]
        assert row.Terlambat == expected["overdue"]


def test_terlambat_lists_every_backlog_overdue_complaint_of_the_report(app, demo_db):
    at = app("pages/terlambat.py", FIXED)
    _assert_clean(at)
    total = next(r for r in _report(demo_db) if r["opd"] == "TOTAL")
    table = at.dataframe[0].value
    assert len(table) == total["backlog_overdue"] > 0
    days = table["Hari kerja terlambat"].tolist()
    assert days == sorted(days, reverse=True)


def test_terlambat_filter_by_opd_narrows_the_list_and_sets_the_url(app):
    at = app("pages/terlambat.py", FIXED)
    everyone = len(at.dataframe[0].value)
    name = at.selectbox(key="terlambat_opd").options[1]
    at.selectbox(key="terlambat_opd").set_value(name).run()
    _assert_clean(at)
    assert 0 < len(at.dataframe[0].value) < everyone
    assert "OPD" not in at.dataframe[0].value.columns  # one OPD: no column repeating it
    assert at.query_params.get("opd") in (name, [name])


def test_detail_opd_opens_the_opd_named_in_the_url(app, demo_db):
    total = [r for r in _report(demo_db) if r["opd"] != "TOTAL"]
    name = total[0]["opd"]
    at = app("pages/detail_opd.py", {**FIXED, "opd": name})
    _assert_clean(at)
    assert at.selectbox(key="detail_opd_pilih").value == name
    assert len(at.get("plotly_chart")) >= 3
    compare = at.dataframe[0].value
    from ui import format as fmt

    assert compare.loc[compare["Angka"] == "Aduan masuk", "OPD ini"].item() == fmt.number(total[0]["received"])


def test_detail_opd_never_shows_reporter_or_complaint_text(app):
    at = app("pages/detail_opd.py", FIXED)
    name = at.selectbox(key="detail_opd_pilih").options[0]
    at.selectbox(key="detail_opd_pilih").set_value(name).run()
    for frame in at.dataframe:
        columns = {str(c).lower() for c in frame.value.columns}
        assert not columns & {"reporter_name", "nama pelapor", "title", "body", "judul", "isi"}


def test_tren_by_opd_and_week_are_kept_in_the_url(app):
    at = app("pages/tren.py", FIXED)
    at.selectbox(key="tren_by").set_value("opd").run()
    _assert_clean(at)
    assert at.query_params.get("rincian") in ("opd", ["opd"])
    restored = app("pages/tren.py", {**FIXED, "rincian": "category", "satuan": "week"})
    _assert_clean(restored)
    assert restored.selectbox(key="tren_by").value == "category"


def test_fresh_clone_fills_the_default_store_with_demo_data(tmp_path, monkeypatch):
    import core.settings
    import ui.data

    monkeypatch.delenv("COMPLAINTS_DB_URL", raising=False)
    monkeypatch.setattr(core.settings, "DEFAULT_DB_PATH", tmp_path / "data" / "complaints.db")
    monkeypatch.setattr(ui.data, "DEMO_COMPLAINTS", 2000)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    _assert_clean(at)
    assert (tmp_path / "data" / "complaints.db").exists()
    assert "<strong>Data contoh</strong>" in _html(at)
    assert [t.value for t in at.title] == ["Ringkasan"]
    assert _cards(at)["received"] not in ("0", "—")


def test_a_configured_empty_database_is_never_filled_with_demo_data(empty_app, tmp_path):
    at = empty_app()
    _assert_clean(at)
    store = Store.open(f"sqlite:///{tmp_path / 'empty.db'}")
    assert not store.has_complaints()
    store.dispose()


def test_upload_on_the_data_page_runs_the_importer_and_quarantines_bad_rows(empty_app, tmp_path):
    from access import accounts

    csv = (
        b"tracking_id,submitted_at,opd,category,status,disposed_at\n"
        b"A-1,2026-10-01T09:00:00+08:00,Dinas Kesehatan,Kesehatan,menunggu_tindak_lanjut,2026-10-01T10:00:00+08:00\n"
        b"A-2,2026-10-02T09:00:00+08:00,Dinas Kesehatan,Kesehatan,status_aneh,\n"
    )
    store = Store.open(f"sqlite:///{tmp_path / 'empty.db'}")
    accounts.create_user(store, "admin", "analis", "Sandi-Uji-12345")  # only an analyst may upload
    at = empty_app()
    at.text_input(key="access_username").input("admin")
    at.text_input(key="access_password").input("Sandi-Uji-12345")
    next(b for b in at.button if b.label == "Masuk").click()
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    assert [t.value for t in at.title] == ["Data"]
    at.file_uploader[0].upload("aduan.csv", csv, "text/csv")
    next(b for b in at.button if b.label == "Impor").click().run()
    _assert_clean(at)
    assert any("2 baris dibaca, 1 disimpan, 1 dikarantina" in t.value for t in at.text)
    assert store.has_complaints() and not store.only_demo_data()
    store.dispose()


def test_a_pinned_as_of_from_a_link_can_be_released_to_now(app):
    at = app(None, FIXED)
    assert at.session_state["filters"].as_of.isoformat() == "2026-11-15T04:00:00+00:00"
    at.button(key="flt_live").click().run()
    _assert_clean(at)
    from datetime import UTC, datetime

    assert at.session_state["filters"].as_of > datetime(2026, 11, 15, 4, tzinfo=UTC)  # now, not the pin
    assert "asof" not in at.query_params


def test_a_file_name_and_header_from_data_stay_plain_text_on_the_data_page(empty_app, tmp_path):
    """Issue 14 finding 8: a CSV header `![px](http://host/pixel.png)` once fetched an image."""
    hostile = "![px](http://127.0.0.1:9/pixel.png)"
    csv = f"tracking_id,{hostile}\nA-1,x\n".encode()
    from access import accounts

    store = Store.open(f"sqlite:///{tmp_path / 'empty.db'}")
    accounts.create_user(store, "admin", "analis", "Sandi-Uji-12345")  # only an analyst may upload
    store.dispose()
    at = empty_app()
    at.text_input(key="access_username").input("admin")
    at.text_input(key="access_password").input("Sandi-Uji-12345")
    next(b for b in at.button if b.label == "Masuk").click()
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    at.file_uploader[0].upload("**tebal**[x](http://127.0.0.1:9).csv", csv, "text/csv")
    next(b for b in at.button if b.label == "Impor").click().run()
    assert not at.exception
    markdown = [el.proto.body for kind in ("markdown", "error", "success", "caption", "warning")
                for el in at.get(kind) if hasattr(el.proto, "body")]
    assert not [m for m in markdown if "](http" in m], markdown
    assert any("tebal" in t.value for t in at.text)  # said, as plain text
