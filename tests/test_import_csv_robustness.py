"""CSV files read right or refused clearly (issue 14, item 4): a quote never closed, UTF-16 with a
byte-order mark, Latin-1 bytes after the first 64 KiB, a header of more than 1,000 cells. Every
row read is stored or quarantined with a reason."""

from __future__ import annotations

import json

import pytest

from data_sources.importer import import_file
from data_sources.readers import UNCLOSED_QUOTE, UnreadableFile

HEADER = "tracking_id,submitted_at,status,title\n"


def _row(i: int, title: str | None = None) -> str:
    return f"Q-{i},2026-01-{1 + i % 28:02d} 09:00,proses,{title if title is not None else f'aduan {i}'}\n"


def _titles(store) -> dict[str, str]:
    return dict(store.execute("SELECT tracking_id, title FROM complaints").rows)


def _quarantine(store) -> list[tuple]:
    return store.execute("SELECT record_no, reason, raw FROM quarantine ORDER BY record_no").rows


def test_a_quote_never_closed_sets_its_line_aside_and_reads_the_lines_it_swallowed(sqlite_store, tmp_path):
    path = tmp_path / "kutip.csv"
    path.write_text(HEADER + _row(1) + _row(2, '"judul tanpa penutup') + "".join(_row(i) for i in range(3, 8)))
    report = import_file(sqlite_store, path)
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (7, 6, 1)
    titles = _titles(sqlite_store)
    assert sorted(titles) == sorted(f"Q-{i}" for i in (1, 3, 4, 5, 6, 7))
    assert all("\n" not in t for t in titles.values())  # no title swallowed the lines after it
    [(record_no, reason, raw)] = _quarantine(sqlite_store)
    assert record_no == 3 and reason == UNCLOSED_QUOTE  # line 3 of the file
    assert "judul tanpa penutup" in json.loads(raw)["title"]  # the line, cell by cell


def test_a_quote_closed_by_a_later_quote_still_reads_every_line(sqlite_store, tmp_path):
    path = tmp_path / "kutip2.csv"
    body = _row(1, '"awal tanpa penutup') + _row(2) + _row(3) + _row(4, '"judul, dengan koma"') + _row(5)
    path.write_text(HEADER + body)
    report = import_file(sqlite_store, path)
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (5, 4, 1)
    assert _titles(sqlite_store)["Q-4"] == "judul, dengan koma"
    assert [r[0] for r in _quarantine(sqlite_store)] == [2]


def test_a_quoted_cell_with_real_line_breaks_is_kept_whole(sqlite_store, tmp_path):
    path = tmp_path / "baris_baru.csv"
    path.write_text(HEADER + _row(1, '"paragraf satu\nparagraf dua, dengan koma\nparagraf tiga"') + _row(2))
    report = import_file(sqlite_store, path)
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (2, 2, 0)
    assert _titles(sqlite_store)["Q-1"] == "paragraf satu\nparagraf dua, dengan koma\nparagraf tiga"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_read(sqlite_store, tmp_path, encoding):
    path = tmp_path / "unicode.csv"
    text = HEADER + _row(1, "Jalan rusak di Barabai — Désa") + _row(2, "Lampu جالان mati")
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path.write_bytes(data)
    report = import_file(sqlite_store, path)
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (2, 2, 0)
    assert _titles(sqlite_store) == {"Q-1": "Jalan rusak di Barabai — Désa", "Q-2": "Lampu جالان mati"}


def test_latin1_bytes_after_the_first_64_kib_are_read_right_and_reported(sqlite_store, tmp_path):
    path = tmp_path / "campuran.csv"
    head = (HEADER + "".join(_row(i) for i in range(1, 3001))).encode("utf-8")
    assert len(head) > 65536
    late = _row(3001, "Kafé Ünal — ‘kutip’").encode("cp1252") + _row(3002, "Jalan Raya").encode()
    path.write_bytes(head + late)
    report = import_file(sqlite_store, path)
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (3002, 3002, 0)
    assert _titles(sqlite_store)["Q-3001"] == "Kafé Ünal — ‘kutip’"
    assert not any("\ufffd" in t for t in _titles(sqlite_store).values())
    assert any("Baris 3,002 bukan UTF-8" in m and "Windows-1252" in m for m in report.messages), report.messages


def test_a_windows_1252_file_imports_correctly(sqlite_store, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes((HEADER + _row(1, "Kafé — ‘kutip’ €5")).encode("cp1252"))
    report = import_file(sqlite_store, path)
    assert (report.rows_read, report.rows_stored) == (1, 1)
    assert _titles(sqlite_store)["Q-1"] == "Kafé — ‘kutip’ €5"


def test_a_header_of_more_than_1000_cells_is_refused_not_replaced_by_the_first_row(sqlite_store, tmp_path):
    path = tmp_path / "judul_lebar.csv"
    path.write_text("tracking_id,submitted_at,status," + ",".join(f"k{i}" for i in range(1000)) + "\n"
                    + _row(1) + _row(2))
    with pytest.raises(UnreadableFile, match="baris 1, sebelum baris data pertama") as refused:
        import_file(sqlite_store, path)
    assert "1,003 sel, paling banyak 1,000" in str(refused.value)
    assert not sqlite_store.has_complaints()
