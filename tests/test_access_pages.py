"""The access rules through the real entry (dashboard.py under AppTest) on real, non-demo data:
the sign-in gate, pages by role, an OPD user's scope, sessions, and what may be shown."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime

import pandas as pd
import pytest
import streamlit as st
from conftest import ROOT, make_store
from streamlit.testing.v1 import AppTest

from access import accounts, audit
from core.settings import load_settings
from data_sources.demo import generate_frame, load_demo
from data_sources.store import Store
from metrics.filters import Filters, Scope

APP = str(ROOT / "dashboard.py")
TIMEOUT = 90
PASSWORD = "Sandi-Uji-12345"
REPORTER = "Zulkarnain Pelaporsejati"  # a reporter name that must appear nowhere
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x","y")'
OWN_OPD = "Dinas Pekerjaan Umum dan Penataan Ruang"
UNTIL = date(2026, 11, 21)
# A wide window over the data, through the dashboard's URL filters, so every list has rows.
WINDOW = {"periode": "custom", "dari": "2026-01-01", "sampai": "2026-11-21", "asof": "2026-11-21T12:00:00+08:00"}
READING_PAGES = ("ringkasan", "peringkat", "detail_opd", "terlambat", "tren", "presentasi")


def _real_frame(settings) -> pd.DataFrame:  # noqa: ANN001
    """Demo-shaped records stored as a real source, with a reporter name, a script and a formula."""
    frame = generate_frame(1200, 7, UNTIL, settings)
    frame["reporter_name"] = [f"{REPORTER} {i}" for i in range(len(frame))]
    opds = frame["opd"].dropna().unique().tolist()
    assert OWN_OPD in opds, opds
    other = next(o for o in opds if o != OWN_OPD)
    frame.loc[frame["opd"] == OWN_OPD, "category"] = SCRIPT
    frame.loc[frame["opd"] == other, "opd"] = FORMULA
    frame["title"] = SCRIPT
    frame["body"] = FORMULA
    return frame


@pytest.fixture(scope="module")
def real_db(tmp_path_factory) -> str:
    secrets = tmp_path_factory.mktemp("secrets") / "none.toml"
    secrets.write_text("")
    url = f"sqlite:///{tmp_path_factory.mktemp('real') / 'complaints.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DASHBOARD_SECRETS", str(secrets))
        store = Store.open(url, load_settings(db_url=url))
        source_id = store.ensure_source("lapor-export", "lapor-export")
        run_id = store.start_run(source_id, "import", detail="uji")
        frame = _real_frame(store.settings)
        store.write_complaints(source_id, frame, run_id=run_id, observed_at=datetime.now(UTC))
        store.finish_run(run_id, status="ok", rows_read=len(frame), rows_stored=len(frame), rows_quarantined=0)
        store.dispose()
    return url


@pytest.fixture
def real_app(real_db, tmp_path, monkeypatch):
    """The dashboard on a copy of the real-data store with three accounts (one per role)."""
    import shutil

    path = tmp_path / "complaints.db"
    shutil.copy(real_db.split("///", 1)[1], path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("COMPLAINTS_DB_URL", url)
    store = make_store(url)
    accounts.create_user(store, "admin", "analis", PASSWORD)
    accounts.create_user(store, "bupati", "pimpinan", PASSWORD)
    accounts.create_user(store, "pupr", "opd", PASSWORD, opd=OWN_OPD)
    yield store
    store.dispose()


@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def _run() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(WINDOW)
    at.run()
    return at


def _sign_in(at: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    at.text_input(key="access_username").input(username)
    at.text_input(key="access_password").input(password)
    next(b for b in at.button if b.label == "Masuk").click()
    return at.run()


def _page(at: AppTest, key: str) -> AppTest:
    at.switch_page(f"pages/{key}.py")
    return at.run()


def _rendered(at: AppTest) -> str:
    """Everything a run put on screen: every element's message, dataframes as CSV."""
    parts = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if node.type == "arrow_data_frame":
            parts.append(node.value.to_csv())
        elif proto is not None and not hasattr(node, "children"):
            parts.append(str(proto))
    return "\n".join(parts)


def _walk(node):  # noqa: ANN001, ANN202
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _figures(at: AppTest) -> int:
    return (
        len(at.dataframe) + len(at.metric) + len(at.get("plotly_chart"))
        + sum("lp-card" in el.proto.body for el in at.get("html"))
    )


def _assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


# --- the gate -----------------------------------------------------------------------------
def test_real_data_without_sign_in_shows_no_figure_on_any_page(real_app):
    at = _run()
    _assert_clean(at)
    assert [t.label for t in at.text_input] == ["Nama pengguna", "Kata sandi"]
    for key in READING_PAGES + ("data", "akun", "audit"):
        at = _run()
        at.switch_page(f"pages/{key}.py")
        at.run()
        _assert_clean(at)
        assert _figures(at) == 0, key
        assert OWN_OPD not in _rendered(at), key


def test_real_data_without_any_account_shows_only_how_to_create_the_first(real_db, tmp_path, monkeypatch):
    import shutil

    path = tmp_path / "noaccount.db"
    shutil.copy(real_db.split("///", 1)[1], path)
    monkeypatch.setenv("COMPLAINTS_DB_URL", f"sqlite:///{path}")
    at = _run()
    _assert_clean(at)
    assert _figures(at) == 0 and not at.text_input
    assert any("python -m access user add admin --role analis" in c.value for c in at.code)


def test_demo_data_without_accounts_runs_openly_labelled_mode_demo(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    store = make_store(url)
    load_demo(store, n=600, seed=2, until=UNTIL)
    store.dispose()
    monkeypatch.setenv("COMPLAINTS_DB_URL", url)
    at = _run()
    _assert_clean(at)
    assert not at.text_input or "Nama pengguna" not in [t.label for t in at.text_input]
    assert _figures(at) > 0
    text = _rendered(at)
    assert "Mode demo" in text and "python -m access user add admin --role analis" in text


def test_right_password_opens_the_dashboard_and_sign_out_closes_it(real_app):
    at = _sign_in(_run(), "bupati")
    _assert_clean(at)
    assert _figures(at) > 0
    at.button(key="access_sign_out").click().run()
    assert _figures(at) == 0
    assert [t.label for t in at.text_input] == ["Nama pengguna", "Kata sandi"]
    assert list(audit.recent(real_app, 2)["action"]) == ["signout", "signin"]


def test_wrong_passwords_are_refused_and_the_form_says_how_long_to_wait(real_app):
    at = _run()
    for _ in range(4):
        at = _sign_in(at, "bupati", "salah-salah-salah")
        assert [e.value for e in at.error] == ["Nama pengguna atau kata sandi salah."]
    at = _sign_in(at, "bupati", "salah-salah-salah")
    assert _figures(at) == 0
    assert [e.value for e in at.error] == [
        "Nama pengguna atau kata sandi salah. Percobaan berikutnya dapat dilakukan dalam 1 detik."
    ]


@pytest.mark.parametrize("username", ["bupati", "tidak-ada"])
def test_a_throttled_address_gets_the_same_answer_for_a_known_and_an_unknown_name(real_app, username):
    from data_sources.schema import signin_attempts

    now = datetime.now(UTC)
    with real_app.engine.begin() as conn:  # ten recent failures from this (local) address
        conn.execute(signin_attempts.insert(), [
            {"at": now, "username": f"tebakan{i}", "client": accounts.LOCAL_CLIENT, "outcome": "wrong"}
            for i in range(10)
        ])
    at = _sign_in(_run(), username)
    assert _figures(at) == 0
    assert len(at.error) == 1
    shown = re.fullmatch(
        r"Terlalu banyak percobaan masuk yang gagal\. Demi keamanan, coba lagi dalam (\d+) detik\.",
        at.error[0].value,
    )
    assert shown and 0 < int(shown.group(1)) <= 32, at.error[0].value  # 2**5 s after ten failures
    assert "dikunci" not in at.error[0].value


def test_idle_session_ends_after_idle_timeout_hours(real_app):
    at = _sign_in(_run(), "bupati")
    assert _figures(at) > 0
    hours = load_settings().idle_timeout_hours
    at.session_state["_access_last_seen"] = at.session_state["_access_last_seen"] - hours * 3600 - 1
    at.run()
    assert _figures(at) == 0
    assert any("tidak aktif" in i.value for i in at.info)


def test_disabling_an_account_ends_its_open_session(real_app):
    at = _sign_in(_run(), "pupr")
    assert _figures(at) > 0
    accounts.disable_user(real_app, "pupr", actor="admin")
    at.run()
    assert _figures(at) == 0


# --- pages by role ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "username, hidden",
    [("bupati", ("data", "akun", "audit")), ("pupr", ("tren", "presentasi", "data", "akun", "audit"))],
)
def test_a_page_the_role_may_not_see_is_not_registered_and_its_url_finds_nothing(real_app, username, hidden):
    from ui import registry

    at = _sign_in(_run(), username)
    registered = set(at.session_state[registry.PAGES_STATE_KEY])
    assert not registered & set(hidden)
    for key in hidden:
        # AppTest resolves a page the way a URL does: through the pages st.navigation registered.
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"pages/{key}.py")


@pytest.mark.parametrize("page", ["akun", "audit"])
def test_an_analyst_page_run_without_the_gate_gets_the_sign_in_form_and_no_data(real_app, page):
    # Streamlit runs a deep-linked page file bare on a fresh server; the page hands over to the
    # frame, so the sign-in gate runs first and nothing of the page's data is read.
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=TIMEOUT).run()
    _assert_clean(at)
    assert not at.dataframe
    assert "Akun" not in [t.value for t in at.title] and "Log audit" not in [t.value for t in at.title]
    assert any(t.label == "Kata sandi" for t in at.text_input)


def test_analyst_sees_accounts_and_audit_pages(real_app):
    at = _sign_in(_run(), "admin")
    at = _page(at, "akun")
    _assert_clean(at)
    assert [t.value for t in at.title] == ["Akun"]
    assert set(at.dataframe[0].value["Nama pengguna"]) == {"admin", "bupati", "pupr"}
    assert "$argon2" not in _rendered(at)
    at = _page(at, "audit")
    _assert_clean(at)
    assert [t.value for t in at.title] == ["Log audit"]
    assert "Masuk" in set(at.dataframe[0].value["Tindakan"])


def test_analyst_adds_an_account_on_the_accounts_page(real_app):
    at = _page(_sign_in(_run(), "admin"), "akun")
    at.text_input(key="akun_nama").input("sekda")
    at.selectbox(key="akun_peran").set_value("pimpinan")
    at.text_input(key="akun_sandi").input(PASSWORD)
    at.text_input(key="akun_sandi2").input(PASSWORD)
    next(b for b in at.button if b.label == "Tambah").click()
    at.run()
    _assert_clean(at)
    assert accounts.get_user(real_app, "sekda").role == "pimpinan"
    assert audit.recent(real_app, 1).iloc[0]["username"] == "admin"


# --- an OPD user's scope ------------------------------------------------------------------
def test_opd_user_pages_show_only_its_own_opd(real_app):
    others = set(real_app.frame("SELECT DISTINCT opd FROM complaints WHERE opd IS NOT NULL")["opd"]) - {OWN_OPD}
    at = _sign_in(_run(), "pupr")
    for key in ("ringkasan", "peringkat", "detail_opd", "terlambat"):
        at = _page(at, key)
        _assert_clean(at)
        for frame in (df.value for df in at.dataframe):
            cells = set(frame.astype(str).stack())
            assert not cells & others, (key, cells & others)
        text = _rendered(at)
        leaked = [o for o in others if o in text]
        assert not leaked, (key, leaked)


def test_opd_user_queries_and_exports_contain_only_its_opd(real_app):
    from metrics.complaints import open_complaints, overdue_complaints
    from metrics.export import write_report
    from metrics.kpi import opd_table

    settings = real_app.settings
    filters = Filters(date(2025, 1, 1), UNTIL, datetime(2026, 11, 21, 12, tzinfo=UTC), scope=Scope(opd=OWN_OPD))
    assert set(overdue_complaints(real_app, filters, settings)["opd"]) <= {OWN_OPD}
    assert set(open_complaints(real_app, filters, settings)["opd"]) == {OWN_OPD}
    table = opd_table(real_app, filters, settings)
    assert set(table["opd"]) == {OWN_OPD, "TOTAL"}
    out = io.StringIO()
    write_report(table, "csv", out, filters, settings)
    others = set(real_app.frame("SELECT DISTINCT opd FROM complaints WHERE opd IS NOT NULL")["opd"]) - {OWN_OPD}
    assert not [o for o in others if o in out.getvalue()]


# --- what may be shown --------------------------------------------------------------------
def test_reporter_name_appears_in_no_rendered_page(real_app):
    at = _sign_in(_run(), "admin")
    for key in READING_PAGES + ("data", "akun", "audit"):
        at = _page(at, key)
        _assert_clean(at)
        assert REPORTER not in _rendered(at), key


def test_reporter_name_appears_in_no_export_file(real_app, tmp_path):
    from metrics.export import write_report
    from metrics.kpi import opd_table

    settings = real_app.settings
    filters = Filters(date(2025, 1, 1), UNTIL, datetime(2026, 11, 21, 12, tzinfo=UTC))
    table = opd_table(real_app, filters, settings)
    for fmt in ("csv", "json", "xlsx"):
        path = tmp_path / f"report.{fmt}"
        write_report(table, fmt, path, filters, settings)
        assert REPORTER not in _file_text(path), fmt


def _file_text(path) -> str:  # noqa: ANN001
    """A file's text; an xlsx is a zip of XML parts, all of them searched."""
    if str(path).endswith(".xlsx"):
        with zipfile.ZipFile(path) as zf:
            return "\n".join(zf.read(name).decode("utf-8", "replace") for name in zf.namelist())
    return path.read_text(encoding="utf-8")


def test_formula_in_a_cell_is_neutralised_in_the_excel_export(real_app, tmp_path):
    from openpyxl import load_workbook

    from metrics.export import neutralise_cell, write_report
    from metrics.kpi import opd_table

    assert neutralise_cell(FORMULA) == "'" + FORMULA
    assert neutralise_cell(" \t+1") == "' \t+1" and neutralise_cell("@SUM(A1)").startswith("'")
    assert neutralise_cell("-5") == "'-5" and neutralise_cell(12) == 12
    filters = Filters(date(2025, 1, 1), UNTIL, datetime(2026, 11, 21, 12, tzinfo=UTC))
    table = opd_table(real_app, filters, real_app.settings)
    assert FORMULA in set(table["opd"])
    path = tmp_path / "report.xlsx"
    write_report(table, "xlsx", path, filters, real_app.settings)
    cells = [c for ws in load_workbook(path).worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(c.value == "'" + FORMULA for c in cells)
    with zipfile.ZipFile(path) as zf:
        sheets = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in sheets


def test_script_in_complaint_data_is_shown_literally_never_as_html(real_app):
    at = _sign_in(_run(), "admin")
    shown_literally = False
    for key in ("ringkasan", "peringkat", "detail_opd", "terlambat", "tren"):
        at = _page(at, key)
        _assert_clean(at)
        for el in at.get("html"):
            assert SCRIPT not in el.proto.body, key  # escaped as &lt;script&gt; if at all
        for el in at.markdown:
            assert not re.search(r"(?<!\\)<script>", el.value), key
        shown_literally |= any(SCRIPT in set(df.value.astype(str).stack()) for df in at.dataframe)
    assert shown_literally


def test_complaint_text_renders_as_plain_text():
    def app() -> None:
        from access.privacy import ComplaintText, show_complaint_text

        show_complaint_text(ComplaintText("1", "Dinas", False, "<b>judul</b>", "<script>alert(1)</script>"))

    at = AppTest.from_function(app).run()
    assert [t.value for t in at.text] == ["<b>judul</b>", "<script>alert(1)</script>"]
    assert not at.markdown and not at.get("html")


def test_sign_in_failure_and_success_are_in_the_audit_log(real_app):
    at = _sign_in(_run(), "admin", "bukan-sandinya")
    at = _sign_in(at, "admin")
    log = audit.recent(real_app, 2)
    assert list(zip(log["action"], log["ok"], strict=True)) == [("signin", True), ("signin_failed", False)]
    assert "bukan-sandinya" not in log.to_string() and PASSWORD not in log.to_string()



# --- the open demo is read-only (issue 14) ------------------------------------------------
@pytest.fixture
def demo_app(tmp_path, monkeypatch):
    """The dashboard on demo data and no account: the open demo."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("COMPLAINTS_DB_URL", url)
    store = make_store(url)
    load_demo(store, n=600, seed=5, until=UNTIL)
    yield store
    store.dispose()


def test_open_demo_registers_no_data_accounts_or_audit_page(demo_app):
    from ui import registry

    at = _run()
    _assert_clean(at)
    assert at.session_state["viewer"].demo_open
    registered = set(at.session_state[registry.PAGES_STATE_KEY])
    assert registered and not registered & {"data", "akun", "audit"}
    for key in ("data", "akun", "audit"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"pages/{key}.py")
    assert not at.get("file_uploader")


def _write_without_an_analyst() -> None:
    """A script that calls the app's write paths directly, as a stale or bare page would."""
    import io

    import streamlit as st

    from access.gate import NotAllowed
    from ui import data

    for name, write in (
        ("upload", lambda: data.import_upload(io.BytesIO(b"tracking_id\n1\n"), "x.csv", "auto", "")),
        ("alias", lambda: data.add_alias("Dinkes", "Dinas Kesehatan")),
    ):
        try:
            write()
            st.text(f"{name}: ditulis")
        except NotAllowed as exc:
            st.text(f"{name}: {exc}")


def test_a_write_without_an_analyst_signed_in_is_refused_and_stores_nothing(demo_app):
    from access.gate import NOT_ALLOWED

    before = (demo_app.frame("SELECT COUNT(*) AS n FROM complaints")["n"][0],
              demo_app.frame("SELECT COUNT(*) AS n FROM sources")["n"][0],
              demo_app.frame("SELECT COUNT(*) AS n FROM opd_aliases")["n"][0])
    at = AppTest.from_function(_write_without_an_analyst, default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.text] == [f"upload: {NOT_ALLOWED}", f"alias: {NOT_ALLOWED}"]
    after = (demo_app.frame("SELECT COUNT(*) AS n FROM complaints")["n"][0],
             demo_app.frame("SELECT COUNT(*) AS n FROM sources")["n"][0],
             demo_app.frame("SELECT COUNT(*) AS n FROM opd_aliases")["n"][0])
    assert after == before


def test_an_analyst_demoted_while_on_the_data_page_can_no_longer_reach_it(real_app):
    at = _page(_sign_in(_run(), "admin"), "data")
    assert [t.value for t in at.title] == ["Data"]
    accounts.set_role(real_app, "admin", "pimpinan", actor="cli")
    at.run()
    assert "Data" not in [t.value for t in at.title]
    assert not at.get("file_uploader")


# --- nothing an OPD viewer gets is computed from other OPDs (issue 14) ----------------------
def _scoped(**slices) -> Filters:  # noqa: ANN003
    return Filters(date(2026, 1, 1), UNTIL, datetime(2026, 11, 21, 12, tzinfo=UTC), scope=Scope(opd=OWN_OPD),
                   **slices)


def test_an_opd_viewers_total_is_its_own_row_under_any_slicer(real_app):
    from metrics.kpi import opd_table

    kecamatan = real_app.frame(
        "SELECT kecamatan FROM complaints WHERE opd = :o AND kecamatan IS NOT NULL LIMIT 1", {"o": OWN_OPD}
    )["kecamatan"][0]
    assert opd_table(real_app, _scoped(), real_app.settings).attrs["ranked_count"] >= 2  # "7 dari 23"
    for filters in (_scoped(), _scoped(categories=(SCRIPT,)), _scoped(kecamatan=(kecamatan,))):
        table = opd_table(real_app, filters, real_app.settings).set_index("opd")
        own, total = table.loc[OWN_OPD], table.loc["TOTAL"]
        for column in ("received", "open", "overdue", "response_on_time_pct", "completion_pct"):
            assert (pd.isna(own[column]) and pd.isna(total[column])) or own[column] == total[column], column


def test_an_opd_viewers_scorecard_download_holds_only_its_own_figures(real_app):
    import openpyxl

    from ui.scorecard_download import scorecard_xlsx

    filters = _scoped(categories=(SCRIPT,))
    book = openpyxl.load_workbook(io.BytesIO(scorecard_xlsx(real_app, real_app.settings, filters)))
    cells = [str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    own = real_app.frame("SELECT COUNT(*) AS n FROM complaints WHERE opd = :o", {"o": OWN_OPD})["n"][0]
    everyone = real_app.frame("SELECT COUNT(*) AS n FROM complaints")["n"][0]
    assert own < everyone
    assert "awaiting_verification" not in cells and "verified_on_time_pct" not in cells
    others = set(real_app.frame("SELECT DISTINCT opd FROM complaints WHERE opd IS NOT NULL")["opd"]) - {OWN_OPD}
    assert not [o for o in others if any(o in c for c in cells)]


def test_an_opd_viewer_is_offered_only_the_filter_values_of_its_own_complaints(real_app):
    at = _sign_in(_run(), "pupr")
    _assert_clean(at)
    own = real_app.frame("SELECT DISTINCT category, kecamatan, channel FROM complaints WHERE opd = :o", {"o": OWN_OPD})
    assert list(at.multiselect(key="flt_categories").options) == [SCRIPT]
    assert set(at.multiselect(key="flt_kecamatan").options) == set(own["kecamatan"].dropna())
    shown_channels = {o.lower().replace(" ", "_") for o in at.multiselect(key="flt_channels").options}
    assert shown_channels <= set(own["channel"].dropna())


def test_an_opd_viewer_sees_its_rank_as_rank_of_count_and_no_region_figure(real_app):
    at = _page(_sign_in(_run(), "pupr"), "peringkat")
    _assert_clean(at)
    captions = [c.value for c in at.caption]
    headings = [h.value for h in at.subheader]
    # "<OPD>: peringkat 7 dari 23" (or "tidak diperingkat ..." below min_volume), nothing of others.
    assert any(re.search(r": (peringkat \d+ dari \d+|tidak diperingkat)", h) for h in headings), headings
    assert not any("Seluruh wilayah" in c for c in captions + headings)
