"""The Data page's contacts form and outbox (ui/notify_admin.py) through the real entry, dashboard.py
under AppTest: analysts edit contacts, the open demo only looks, the outbox says why a send failed."""

from __future__ import annotations

from dataclasses import replace

import pytest
import streamlit as st
from conftest import ROOT, make_store
from streamlit.testing.v1 import AppTest
from test_kpi_reference import load, wita

from access import accounts, audit
from core.settings import NotifySettings, WebhookChannelSettings
from data_sources.contacts import list_contacts, set_contact
from data_sources.demo import load_demo
from metrics.notify import run_notify

APP = str(ROOT / "dashboard.py")
PASSWORD = "Sandi-Uji-12345"
SCRIPT_OPD = "Dinas <b>Tebal</b> *Uji*"


@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def real_store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'complaints.db'}"
    monkeypatch.setenv("COMPLAINTS_DB_URL", url)
    store = make_store(url)
    load(store, [
        {"tracking_id": "A1", "submitted_at": wita("2026-09-01T09:00:00"), "disposed_at": wita("2026-09-01T10:00:00"),
         "status": "proses", "opd": SCRIPT_OPD, "category": "Jalan", "kecamatan": "Barabai"},
    ], source="lapor-export")
    store.add_opd("Dinas Kesehatan")
    accounts.create_user(store, "admin", "analis", PASSWORD)
    accounts.create_user(store, "bupati", "pimpinan", PASSWORD)
    yield store
    store.dispose()


def _signed_in(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.text_input(key="access_username").input(username)
    at.text_input(key="access_password").input(PASSWORD)
    next(b for b in at.button if b.label == "Masuk").click()
    at.run()
    at.switch_page("pages/data.py")
    return at.run()


def _fill(at: AppTest, opd: str, **values: str) -> AppTest:
    at.selectbox(key="notify_contact_opd").select(opd).run()
    labels = {"name": "Nama", "role": "Jabatan", "whatsapp": "Nomor WhatsApp", "email": "Email"}
    for field, value in values.items():
        next(t for t in at.text_input if t.label == labels[field]).input(value)
    return at


def _button(at: AppTest, label: str):  # noqa: ANN202
    return next(b for b in at.button if b.label == label)


def test_an_analyst_adds_a_contact_on_the_data_page_and_it_is_audited(real_store):
    at = _fill(_signed_in("admin"), "Dinas Kesehatan", name="dr. Ani", role="Kepala Dinas",
               whatsapp="0811-5000-1234", email="ani@example.go.id")
    _button(at, "Simpan kontak").click()
    at.run()
    assert not at.exception
    assert any("Kontak Dinas Kesehatan disimpan" in s.value for s in at.success)
    contact = list_contacts(real_store)["Dinas Kesehatan"]
    assert (contact.name, contact.whatsapp) == ("dr. Ani", "6281150001234")
    assert audit.recent(real_store, action="opd_contact")["username"].tolist() == ["admin"]
    table = next(d.value for d in at.dataframe if "WhatsApp" in d.value.columns)
    assert table.loc[0, ["OPD", "Nama", "WhatsApp", "Oleh"]].tolist() == [
        "Dinas Kesehatan", "dr. Ani", "6281150001234", "admin"]


def test_an_invalid_number_on_the_data_page_shows_the_reason_and_saves_nothing(real_store):
    at = _fill(_signed_in("admin"), "Dinas Kesehatan", name="dr. Ani", whatsapp="12345")
    _button(at, "Simpan kontak").click()
    at.run()
    assert any("Nomor WhatsApp tidak sah" in e.value for e in at.error)
    assert list_contacts(real_store) == {}


def test_an_analyst_removes_a_contact_on_the_data_page(real_store):
    set_contact(real_store, "Dinas Kesehatan", name="dr. Ani", actor="test")
    at = _fill(_signed_in("admin"), "Dinas Kesehatan")
    _button(at, "Hapus kontak").click()
    at.run()
    assert list_contacts(real_store) == {}
    assert any("dihapus" in s.value for s in at.success)


def test_an_opd_name_with_markup_stays_plain_text_in_the_form_messages(real_store):
    at = _fill(_signed_in("admin"), SCRIPT_OPD, email="uji@example.go.id")
    _button(at, "Simpan kontak").click()
    at.run()
    [message] = [s.value for s in at.success]
    assert "<b>" not in message.replace("\\<b\\>", "") and "\\*Uji\\*" in message
    assert SCRIPT_OPD in list_contacts(real_store)


def test_the_open_demo_has_no_data_page_so_no_contact_form(tmp_path, monkeypatch):
    """DATA.md: nothing is written by anyone not signed in as an analyst; the open demo has no
    Data page at all, so neither the contact form nor the outbox is offered."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("COMPLAINTS_DB_URL", url)
    store = make_store(url)
    load_demo(store, n=300, seed=1)
    store.dispose()
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/data.py")
    assert [s for s in at.selectbox if s.key == "notify_contact_opd"] == []


def test_the_outbox_shows_analysts_a_failed_message_and_why(real_store):
    set_contact(real_store, SCRIPT_OPD, whatsapp="081150001234", actor="test")
    dead = WebhookChannelSettings(url="http://127.0.0.1:9/send", timeout_seconds=1)
    settings = replace(real_store.settings, notify=NotifySettings(webhook=dead, max_retries=0))
    result = run_notify(real_store, wita("2026-11-10T07:00:00"), settings, echo=lambda _: None)
    assert result.failed == 1
    at = _signed_in("admin")
    table = next(d.value for d in at.dataframe if "Alasan" in d.value.columns)
    assert table["Status"].tolist() == ["gagal"]
    assert "tidak dapat terhubung ke gateway" in table["Alasan"].iloc[0]
    assert table["Perihal"].iloc[0] == SCRIPT_OPD
    assert any("1 pesan gagal terkirim" in w.value for w in at.warning)
