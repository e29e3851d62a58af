"""The region choice through the real entry (dashboard.py under AppTest): the Wilayah filter and
the Peringkat region comparison appear with several regions, never with one, and a
region-limited account sees only its own region."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from access import accounts
from core.settings import load_settings
from data_sources.demo import kalsel_regions, load_demo
from data_sources.store import Store
from tests.conftest import ROOT, make_store

APP = str(ROOT / "dashboard.py")
TIMEOUT = 90
PASSWORD = "Sandi-Uji-12345"
UNTIL = date(2026, 11, 21)
WINDOW = {"periode": "custom", "dari": "2026-01-01", "sampai": "2026-11-21", "asof": "2026-11-21T12:00:00+08:00"}
TWO = kalsel_regions(2)  # Hulu Sungai Tengah, then Tanah Laut
NAMES = dict(TWO)


def _demo_store(tmp_path_factory, name: str, regions) -> str:  # noqa: ANN001
    secrets = tmp_path_factory.mktemp("secrets") / "none.toml"
    secrets.write_text("")
    url = f"sqlite:///{tmp_path_factory.mktemp(name) / 'complaints.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DASHBOARD_SECRETS", str(secrets))
        store = Store.open(url, load_settings(db_url=url))
        load_demo(store, n=1500, seed=1, until=UNTIL, regions=regions)
        store.dispose()
    return url


@pytest.fixture(scope="module")
def two_regions_db(tmp_path_factory) -> str:
    return _demo_store(tmp_path_factory, "two", TWO)


@pytest.fixture(scope="module")
def one_region_db(tmp_path_factory) -> str:
    return _demo_store(tmp_path_factory, "one", None)


@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def _run(url: str, monkeypatch, page: str | None = None, params: dict | None = None) -> AppTest:  # noqa: ANN001
    monkeypatch.setenv("COMPLAINTS_DB_URL", url)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({**WINDOW, **(params or {})})
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _wilayah(at: AppTest):  # noqa: ANN202
    found = [m for m in at.sidebar.multiselect if m.label == "Wilayah"]
    return found[0] if found else None


def _bandingkan(at: AppTest):  # noqa: ANN202
    found = [s for s in at.segmented_control if s.label == "Bandingkan"]
    return found[0] if found else None


def _table(at: AppTest):  # noqa: ANN202
    """The first table on the page: the scorecard (of OPDs, or of regions under "Wilayah")."""
    return at.dataframe[0].value


def test_two_regions_show_the_wilayah_filter_and_the_region_comparison(two_regions_db, monkeypatch):
    at = _run(two_regions_db, monkeypatch, "pages/peringkat.py")
    _clean(at)
    wilayah = _wilayah(at)
    assert wilayah is not None
    assert sorted(wilayah.options) == sorted(NAMES.values())
    compare = _bandingkan(at)
    assert compare is not None and compare.value == "opd"
    compare.set_value("wilayah")
    at.run()
    _clean(at)
    assert at.query_params.get("bandingkan") == ["wilayah"] or at.query_params.get("bandingkan") == "wilayah"
    shown = _table(at)
    assert sorted(shown["OPD"]) == sorted(NAMES.values())
    assert len(at.get("plotly_chart")) >= 1


def test_choosing_a_region_narrows_the_figures_and_goes_into_the_url(two_regions_db, monkeypatch):
    at = _run(two_regions_db, monkeypatch, "pages/peringkat.py", {"bandingkan": "wilayah"})
    _clean(at)
    both = _table(at)
    assert len(both) == 2
    _wilayah(at).select(TWO[1][0])
    at.run()
    _clean(at)
    only = _table(at)
    assert list(only["OPD"]) == [TWO[1][1]]
    assert str(at.query_params.get("f_wilayah")).strip("[]'\"") == TWO[1][0]
    # A shared link with the region opens the same view.
    again = _run(two_regions_db, monkeypatch, "pages/peringkat.py", {"bandingkan": "wilayah", "f_wilayah": TWO[1][0]})
    _clean(again)
    assert _wilayah(again).value == [TWO[1][0]]
    assert list(_table(again)["OPD"]) == [TWO[1][1]]


def test_one_region_shows_neither_the_filter_nor_the_comparison(one_region_db, monkeypatch):
    at = _run(one_region_db, monkeypatch, "pages/peringkat.py", {"bandingkan": "wilayah", "f_wilayah": "63.01"})
    _clean(at)
    assert _wilayah(at) is None
    assert _bandingkan(at) is None
    assert [t.value for t in at.title] == ["Peringkat OPD"]
    assert "f_wilayah" not in at.query_params


def test_a_region_limited_account_sees_only_its_region(two_regions_db, tmp_path, monkeypatch):
    path = tmp_path / "complaints.db"
    shutil.copy(two_regions_db.split("///", 1)[1], path)
    url = f"sqlite:///{path}"
    store = make_store(url)
    code, name = TWO[1]
    accounts.create_user(store, "tala", "pimpinan", PASSWORD, regions=code)
    store.dispose()
    monkeypatch.setenv("COMPLAINTS_DB_URL", url)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    # The link asks for the other region: the scope wins, the choice is not even offered.
    at.query_params.update({**WINDOW, "f_wilayah": TWO[0][0], "bandingkan": "wilayah"})
    at.run()
    at.text_input(key="access_username").input("tala")
    at.text_input(key="access_password").input(PASSWORD)
    next(b for b in at.button if b.label == "Masuk").click()
    at.run()
    at.switch_page("pages/peringkat.py")
    at.run()
    _clean(at)
    assert _wilayah(at) is None and _bandingkan(at) is None
    shown = _table(at)
    label = name.replace("Kabupaten ", "Kab. ")
    assert len(shown) > 0 and all(str(opd).endswith(label) for opd in shown["OPD"])
