"""OPD contacts: validated (WhatsApp as 62..., plain e-mail, known OPD), audited, on both databases."""

from __future__ import annotations

import pytest
from conftest import make_store
from test_kpi_reference import load, wita

from access import audit
from data_sources.__main__ import main as data_main
from data_sources.contacts import (
    ContactError,
    OpdContact,
    list_contacts,
    normalise_email,
    normalise_whatsapp,
    remove_contact,
    set_contact,
)


@pytest.fixture
def opd_store(store):
    store.add_opd("Dinas Kesehatan", short_name="Dinkes")
    store.add_alias("DINKES", "Dinas Kesehatan")
    load(store, [{"tracking_id": "A1", "submitted_at": wita("2026-11-02T09:00:00"), "status": "proses",
                  "opd": "Dinas Sosial"}])
    return store


@pytest.mark.parametrize("typed", ["081234567890", "+6281234567890", "6281234567890",
                                   "0812-3456-7890", "+62 812 3456 7890", "(0812) 3456.7890", "006281234567890"])
def test_whatsapp_numbers_are_stored_as_62_digits(typed):
    assert normalise_whatsapp(typed) == "6281234567890"


@pytest.mark.parametrize("typed", ["12345", "0812", "0812345678901234567", "+1 212 555 0100", "0812abc4567",
                                   "٠٨١٢٣٤٥٦٧٨٩٠", "", "62"])
def test_an_invalid_whatsapp_number_is_refused_in_indonesian(typed):
    with pytest.raises(ContactError, match="Nomor WhatsApp tidak sah"):
        normalise_whatsapp(typed)


@pytest.mark.parametrize("typed,stored", [("kadis@dinkes.example.go.id", "kadis@dinkes.example.go.id"),
                                          (" Kadis.Satu+lapor@Example.GO.ID ", "Kadis.Satu+lapor@example.go.id")])
def test_a_plain_email_address_is_accepted_with_its_domain_lower_cased(typed, stored):
    assert normalise_email(typed) == stored


@pytest.mark.parametrize("typed", ["kadis", "kadis@", "@example.go.id", "kadis@example", "a b@example.go.id",
                                   "Kadis <kadis@example.go.id>", "kadis@@example.go.id", "kadis@exa_mple.go.id",
                                   ".kadis@example.go.id", "ka..dis@example.go.id", "kadis@example.go.id\nBcc: x@y.id",
                                   "kädis@example.go.id"])
def test_an_invalid_email_address_is_refused_in_indonesian(typed):
    with pytest.raises(ContactError, match="Alamat email tidak sah"):
        normalise_email(typed)


def test_a_contact_is_kept_under_the_canonical_opd_name_of_any_spelling(opd_store):
    set_contact(opd_store, "dinkes", name="dr. Ani", role="Kepala Dinas", whatsapp="0811-5000-123",
                email="ani@dinkes.example.go.id", actor="analis1")
    assert list_contacts(opd_store) == {
        "Dinas Kesehatan": OpdContact("Dinas Kesehatan", "dr. Ani", "Kepala Dinas", "628115000123",
                                      "ani@dinkes.example.go.id"),
    }


def test_an_opd_found_only_in_the_data_can_have_a_contact(opd_store):
    set_contact(opd_store, "dinas sosial", email="sosial@example.go.id", actor="analis1")
    assert list(list_contacts(opd_store)) == ["Dinas Sosial"]


def test_an_unknown_opd_is_refused_and_nothing_is_written(opd_store):
    with pytest.raises(ContactError, match="OPD tidak dikenal: 'Dinas Pariwisata'"):
        set_contact(opd_store, "Dinas Pariwisata", email="x@example.go.id", actor="analis1")
    assert list_contacts(opd_store) == {}
    assert audit.recent(opd_store, action="opd_contact").empty


def test_an_invalid_value_writes_nothing(opd_store):
    set_contact(opd_store, "Dinas Kesehatan", name="dr. Ani", actor="analis1")
    with pytest.raises(ContactError):
        set_contact(opd_store, "Dinas Kesehatan", name="dr. Budi", email="bukan-email", actor="analis1")
    assert list_contacts(opd_store)["Dinas Kesehatan"].name == "dr. Ani"


def test_a_field_left_out_is_kept_and_an_empty_one_is_cleared(opd_store):
    set_contact(opd_store, "Dinas Kesehatan", name="dr. Ani", whatsapp="081150001234",
                email="ani@example.go.id", actor="analis1")
    set_contact(opd_store, "Dinas Kesehatan", role="Kepala Dinas", email="", actor="analis1")
    contact = list_contacts(opd_store)["Dinas Kesehatan"]
    assert (contact.name, contact.role, contact.whatsapp, contact.email) == (
        "dr. Ani", "Kepala Dinas", "6281150001234", None)


def test_a_name_with_a_line_break_or_control_character_is_kept_on_one_line_or_refused(opd_store):
    set_contact(opd_store, "Dinas Kesehatan", name="dr.\n Ani", actor="analis1")
    assert list_contacts(opd_store)["Dinas Kesehatan"].name == "dr. Ani"
    with pytest.raises(ContactError, match="tidak dapat dicetak"):
        set_contact(opd_store, "Dinas Kesehatan", name="dr.\x00Ani", actor="analis1")


def test_removing_a_contact_and_removing_a_missing_one(opd_store):
    set_contact(opd_store, "Dinas Kesehatan", name="dr. Ani", actor="analis1")
    assert remove_contact(opd_store, "DINKES", actor="analis1") == "Dinas Kesehatan"
    assert list_contacts(opd_store) == {}
    with pytest.raises(ContactError, match="Belum ada kontak untuk Dinas Kesehatan"):
        remove_contact(opd_store, "Dinas Kesehatan", actor="analis1")


def test_every_change_is_in_the_audit_log_with_who_and_which_fields(opd_store):
    set_contact(opd_store, "Dinas Kesehatan", name="dr. Ani", whatsapp="081150001234", actor="analis1")
    set_contact(opd_store, "Dinas Kesehatan", email="ani@example.go.id", actor="analis2")
    remove_contact(opd_store, "Dinas Kesehatan", actor="analis1")
    entries = audit.recent(opd_store, action="opd_contact")
    assert entries["username"].tolist() == ["analis1", "analis2", "analis1"]
    assert entries["detail"].tolist() == [
        "kontak Dinas Kesehatan dihapus",
        "kontak Dinas Kesehatan diubah (email)",
        "kontak Dinas Kesehatan ditambahkan (nama, WhatsApp)",
    ]
    assert "081150001234" not in " ".join(entries["detail"])  # fields, not their values


def test_the_opd_contact_command_saves_lists_and_removes(db_url, capsys):
    store = make_store(db_url)
    store.add_opd("Dinas Kesehatan")
    store.dispose()
    code = data_main(["opd", "contact", "Dinas Kesehatan", "--name", "dr. Ani", "--role", "Kepala Dinas",
                      "--whatsapp", "+62 811 5000 1234", "--email", "ani@example.go.id", "--db", db_url])
    assert code == 0
    assert "Kontak Dinas Kesehatan disimpan" in capsys.readouterr().out
    assert data_main(["opd", "list", "--db", db_url]) == 0
    listed = capsys.readouterr().out
    assert "Dinas Kesehatan\tdr. Ani\tKepala Dinas\t6281150001234\tani@example.go.id" in listed
    assert data_main(["opd", "contact", "Dinas Kesehatan", "--remove", "--db", db_url]) == 0
    assert "dihapus" in capsys.readouterr().out
    store = make_store(db_url)
    try:
        assert list_contacts(store) == {}
        assert audit.recent(store, action="opd_contact")["username"].tolist() == ["cli", "cli"]
    finally:
        store.dispose()


def test_the_opd_contact_command_refuses_bad_input_with_one_line_and_exit_1(sqlite_url, capsys):
    store = make_store(sqlite_url)
    store.add_opd("Dinas Kesehatan")
    store.dispose()
    assert data_main(["opd", "contact", "Dinas Tidak Ada", "--name", "X", "--db", sqlite_url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("OPD tidak dikenal") and "Traceback" not in err
    assert data_main(["opd", "contact", "Dinas Kesehatan", "--whatsapp", "12", "--db", sqlite_url]) == 1
    assert "Nomor WhatsApp tidak sah" in capsys.readouterr().err
    assert data_main(["opd", "contact", "Dinas Kesehatan", "--remove", "--name", "X", "--db", sqlite_url]) == 1
