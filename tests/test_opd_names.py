"""OPD reference names and aliases: spellings map to one OPD; unmapped ones are listed to resolve."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import select

from data_sources import schema
from data_sources.__main__ import main
from data_sources.opd_names import list_opds


def write(store, *opds: str) -> None:
    source_id = store.ensure_source("uji", "canonical")
    records = pd.DataFrame({
        "tracking_id": [str(i) for i in range(len(opds))],
        "submitted_at": [datetime(2026, 1, 5, tzinfo=UTC)] * len(opds),
        "status": ["proses"] * len(opds),
        "opd": list(opds),
    })
    store.write_complaints(source_id, records, run_id=None, observed_at=datetime(2026, 1, 6, tzinfo=UTC))


def opd_of(store) -> dict[str, str]:
    return dict(store.execute(select(schema.complaints.c.tracking_id, schema.complaints.c.opd)).rows)


def test_add_opd_repoints_complaints_stored_under_a_spelling_with_the_same_alias_key(store):
    write(store, "DINAS KESEHATAN", "Dinas  Kesehatan.", "Dinas Sosial")
    store.add_opd("Dinas Kesehatan")
    assert opd_of(store) == {"0": "Dinas Kesehatan", "1": "Dinas Kesehatan", "2": "Dinas Sosial"}
    raw = dict(store.execute(select(schema.complaints.c.tracking_id, schema.complaints.c.opd_raw)).rows)
    assert raw["0"] == "DINAS KESEHATAN"  # the source's spelling is kept


def test_add_opd_leaves_a_spelling_that_an_alias_sends_elsewhere(store):
    write(store, "Dinkes")
    store.add_opd("Dinas Kesehatan")
    store.add_alias("dinkes", "Dinas Kesehatan")
    store.add_opd("DINKES")  # a new OPD whose key equals an existing alias: the alias wins
    assert opd_of(store) == {"0": "Dinas Kesehatan"}


def test_add_opd_changes_the_data_version_only_when_complaints_move(store):
    write(store, "Dinas Sosial")
    version = store.data_version()
    store.add_opd("Dinas Pendidikan")
    assert store.data_version() == version
    store.add_opd("dinas sosial")
    assert store.data_version() != version


def test_alias_maps_a_spelling_and_unmapped_lists_the_rest(sqlite_store, sqlite_url, capsys):
    write(sqlite_store, "Dinkes Kab. HST", "Dinas Kesehatan", "Dishub")
    assert main(["opd", "add", "Dinas Kesehatan", "--short-name", "Dinkes", "--db", sqlite_url]) == 0
    assert main(["opd", "unmapped", "--db", sqlite_url]) == 0
    out = capsys.readouterr().out
    assert "Dinkes Kab. HST\t1" in out and "Dishub\t1" in out
    assert main(["opd", "alias", "Dinkes Kab. HST", "dinas kesehatan", "--db", sqlite_url]) == 0
    assert "1 pengaduan diperbarui" in capsys.readouterr().out
    assert opd_of(sqlite_store)["0"] == "Dinas Kesehatan"
    main(["opd", "unmapped", "--db", sqlite_url])
    out = capsys.readouterr().out
    assert "Dinkes Kab. HST" not in out and "Dishub\t1" in out
    table = list_opds(sqlite_store)
    assert table.to_dict("records") == [
        {"name": "Dinas Kesehatan", "short_name": "Dinkes", "aliases": "Dinkes Kab. HST", "complaints": 2}
    ]


def test_alias_to_an_unknown_opd_is_refused(sqlite_url, capsys):
    assert main(["opd", "alias", "Dishub", "Dinas Perhubungann", "--db", sqlite_url]) == 1
    assert "OPD rujukan tidak dikenal" in capsys.readouterr().err


def test_imports_resolve_spellings_through_aliases(sqlite_store, tmp_path):
    from data_sources.importer import import_file

    sqlite_store.add_opd("Dinas Kesehatan")
    sqlite_store.add_alias("Dinkes", "Dinas Kesehatan")
    path = tmp_path / "c.csv"
    path.write_text("tracking_id,submitted_at,status,opd\n1,2026-01-05,proses,DINKES\n")
    import_file(sqlite_store, path)
    assert opd_of(sqlite_store) == {"1": "Dinas Kesehatan"}


def test_names_without_latin_letters_keep_distinct_keys(store):
    """An alias on one such name must not capture every other: they used to fold to ""."""
    from data_sources.store import alias_key

    assert alias_key("دائرة الصحة") != alias_key("دائرة التعليم")
    assert alias_key("دائرة الصحة") and alias_key("★") == "★"
    assert alias_key("Dínas  Kesehatan.") == alias_key("DINAS KESEHATAN") == "dinas kesehatan"
    write(store, "دائرة الصحة", "دائرة التعليم")
    store.add_opd("Dinas Kesehatan")
    store.add_alias("دائرة الصحة", "Dinas Kesehatan")
    assert opd_of(store) == {"0": "Dinas Kesehatan", "1": "دائرة التعليم"}
