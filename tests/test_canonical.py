"""The canonical record rules of DATA.md, checked on `validate_records` and its helpers."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from data_sources.canonical import (
    COLUMN_LABELS,
    normalise_channel,
    parse_timestamp_series,
    validate_records,
)

TZ = "Asia/Makassar"


def rows(*records: dict) -> pd.DataFrame:
    base = {"tracking_id": "1", "submitted_at": "2026-01-05 08:00", "status": "proses"}
    return pd.DataFrame([{**base, **r} for r in records])


def check(*records: dict, **kwargs):
    valid, quarantined = validate_records(rows(*records), timezone=TZ, **kwargs)
    assert len(valid) + len(quarantined) == len(records)
    return valid, quarantined


def test_timestamp_without_offset_is_local_time_in_the_configured_zone():
    parsed = parse_timestamp_series(pd.Series(["2026-01-05 08:00"]), TZ)
    assert parsed.iat[0] == datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    parsed = parse_timestamp_series(pd.Series(["2026-01-05 08:00"]), "Asia/Jakarta")
    assert parsed.iat[0] == datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


def test_a_date_without_time_is_local_midnight_not_an_offset():
    parsed = parse_timestamp_series(pd.Series(["2026-01-05", "15-01-2026", "15-01-2026 10:00"]), TZ)
    assert parsed.tolist() == [
        pd.Timestamp("2026-01-04 16:00", tz="UTC"),
        pd.Timestamp("2026-01-14 16:00", tz="UTC"),
        pd.Timestamp("2026-01-15 02:00", tz="UTC"),
    ]


def test_timestamp_offsets_and_z_are_honoured():
    parsed = parse_timestamp_series(
        pd.Series(["2026-01-05T08:00:00Z", "2026-01-05 08:00+07:00", "2026-01-05T08:00-0500"]), TZ
    )
    assert parsed.tolist() == [
        pd.Timestamp("2026-01-05 08:00", tz="UTC"),
        pd.Timestamp("2026-01-05 01:00", tz="UTC"),
        pd.Timestamp("2026-01-05 13:00", tz="UTC"),
    ]
    assert str(parsed.dtype) == "datetime64[us, UTC]"


def test_indonesian_and_english_month_names_parse():
    parsed = parse_timestamp_series(
        pd.Series(["3 Jan 2026 14:05", "4 Des 2025 20:47", "7 Mei 2025 09:00:30", "1 Agu 2025",
                   "9 Okt 2025 10:00", "12 Dec 2025 11:50"]), TZ,
    )
    assert parsed.notna().all()
    assert parsed.iat[1] == pd.Timestamp("2025-12-04 12:47", tz="UTC")
    assert parsed.iat[2] == pd.Timestamp("2025-05-07 01:00:30", tz="UTC")
    assert parsed.iat[3] == pd.Timestamp("2025-07-31 16:00", tz="UTC")


def test_impossible_and_garbage_dates_do_not_parse():
    parsed = parse_timestamp_series(pd.Series(["31 Feb 2026 09:00", "kemarin", "2026-13-01", None]), TZ)
    assert parsed.isna().all()


def test_day_first_by_default_and_mapping_date_format_first():
    assert parse_timestamp_series(pd.Series(["01/02/2026 10:00"]), TZ).iat[0].month == 2
    us = parse_timestamp_series(pd.Series(["01/02/2026 10:00"]), TZ, date_format="%m/%d/%Y %H:%M")
    assert us.iat[0] == pd.Timestamp("2026-01-02 02:00", tz="UTC")


def test_valid_row_is_typed_for_the_store():
    valid, quarantined = check({
        "closed_at": "2026-01-06 09:00", "rating": "4", "reopen_count": "2",
        "is_anonymous": "ya", "channel": "SMS", "classification": "Permintaan Informasi",
    })
    assert not quarantined
    row = valid.iloc[0]
    assert row["submitted_at"] == pd.Timestamp("2026-01-05 00:00", tz="UTC")
    assert row["rating"] == 4 and row["reopen_count"] == 2 and row["redisposition_count"] == 0
    assert row["is_anonymous"] is True or row["is_anonymous"] == True  # noqa: E712 - numpy bool
    assert row["classification"] == "permintaan_informasi"
    assert str(valid["closed_at"].dtype) == "datetime64[us, UTC]"


def test_missing_tracking_id_is_quarantined():
    _, quarantined = check({"tracking_id": "  "})
    assert quarantined[0].reason == "Tracking ID kosong: isi Tracking ID laporan ini di sumber datanya; baris ini dibaca lagi pada pengambilan berikutnya"


def test_missing_or_unparseable_submitted_at_is_quarantined():
    _, quarantined = check({"submitted_at": None}, {"tracking_id": "2", "submitted_at": "31/02/2026"})
    assert "Tanggal laporan masuk kosong" in quarantined[0].reason
    assert "Tanggal laporan masuk bukan tanggal yang dikenali ('31/02/2026')" in quarantined[1].reason


@pytest.mark.parametrize("stage", ["verified_at", "disposed_at", "first_response_at", "closed_at"])
def test_any_stage_before_submission_is_quarantined(stage):
    _, quarantined = check({stage: "2026-01-04 23:00", "status": "selesai"})
    assert quarantined[0].reason == (
        f"{COLUMN_LABELS[stage]} lebih awal dari Tanggal laporan masuk: periksa kedua tanggalnya di sumber datanya; baris ini dibaca lagi pada pengambilan berikutnya"
    )


@pytest.mark.parametrize("rating", ["9", "0", "2.5", "lima", "-1"])
def test_rating_outside_1_to_5_or_not_an_integer_is_quarantined(rating):
    _, quarantined = check({"rating": rating})
    assert quarantined[0].reason.startswith("Rating harus bilangan bulat 1 sampai 5")


def test_rating_written_as_excel_float_is_accepted():
    valid, _ = check({"rating": "4.0"}, {"tracking_id": "2", "rating": 5})
    assert valid["rating"].tolist() == [4, 5]


def test_unknown_status_is_quarantined_and_canonical_status_accepted_in_any_case():
    valid, quarantined = check({"status": "Selesai"}, {"tracking_id": "2", "status": "ditutup"},
                               {"tracking_id": "3", "status": None})
    assert valid["status"].tolist() == ["selesai"]
    assert valid["status_raw"].tolist() == ["Selesai"]
    assert quarantined[0].reason.startswith("Status tidak dikenal ('ditutup'): pakai salah satu dari menunggu_verifikasi")
    assert quarantined[1].reason == "Status kosong: isi status laporan di sumber datanya; baris ini dibaca lagi pada pengambilan berikutnya"


@pytest.mark.parametrize("count", ["-1", "1.5", "banyak", "99999999999"])
def test_negative_fractional_or_huge_counts_are_quarantined(count):
    _, quarantined = check({"redisposition_count": count})
    assert quarantined[0].reason.startswith("Jumlah disposisi ulang harus bilangan bulat 0 atau lebih")


def test_empty_count_is_zero():
    valid, _ = check({"reopen_count": ""})
    assert valid["reopen_count"].tolist() == [0]


def test_unknown_classification_is_quarantined_known_ones_normalised():
    valid, quarantined = check({"classification": "Aspirasi"}, {"tracking_id": "2", "classification": "Keluhan"})
    assert valid["classification"].tolist() == ["aspirasi"]
    assert quarantined[0].reason.startswith("Klasifikasi tidak dikenal ('Keluhan'): pakai salah satu dari pengaduan")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Website", ("website", "Website")), ("website", ("website", None)),
        ("Android - hstkab", ("android", "Android - hstkab")), ("iOS", ("ios", "iOS")),
        ("SMS 1708", ("sms", "SMS 1708")), ("Whatsapp", ("whatsapp", "Whatsapp")),
        ("Twitter", ("twitter", "Twitter")), ("Facebook", ("facebook", "Facebook")),
        ("Instagram", ("instagram", "Instagram")), ("E-mail", ("email", "E-mail")),
        ("Telepon", ("telepon", "Telepon")), ("Tatap Muka", ("tatap_muka", "Tatap Muka")),
        ("Kantor Pos", ("lainnya", "Kantor Pos")), ("", (None, None)), (None, (None, None)),
    ],
)
def test_channels_are_normalised_and_anything_else_is_lainnya_with_raw_kept(raw, expected):
    assert normalise_channel(raw) == expected


def test_unknown_channel_is_stored_as_lainnya_with_channel_raw():
    valid, quarantined = check({"channel": "Surat kaleng"})
    assert not quarantined
    assert valid[["channel", "channel_raw"]].iloc[0].tolist() == ["lainnya", "Surat kaleng"]


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("1", True), ("Ya", True), ("false", False),
                                             ("0", False), ("tidak", False), ("", False)])
def test_booleans_accept_true_false_1_0_ya_tidak(raw, value):
    valid, _ = check({"is_confidential": raw})
    assert bool(valid["is_confidential"].iat[0]) is value


def test_unknown_boolean_is_quarantined():
    _, quarantined = check({"is_anonymous": "mungkin"})
    assert quarantined[0].reason == "Anonim harus ya atau tidak ('mungkin'): perbaiki atau kosongkan di sumber datanya; baris ini dibaca lagi pada pengambilan berikutnya"


def test_formula_and_script_looking_text_is_kept_as_given():
    title = '=HYPERLINK("http://contoh.invalid","klik")'
    body = "<script>alert('x')</script> bantuan"
    valid, _ = check({"title": title, "body": body})
    assert valid["title"].iat[0] == title and valid["body"].iat[0] == body


def test_text_longer_than_its_column_is_quarantined_not_truncated():
    _, quarantined = check({"kecamatan": "x" * 101})
    assert quarantined[0].reason == "Kecamatan lebih dari 100 karakter: persingkat isinya di sumber datanya; baris ini dibaca lagi pada pengambilan berikutnya"


def test_nul_character_is_quarantined():
    _, quarantined = check({"opd": "Dinas\x00Kesehatan"})
    assert quarantined[0].reason.startswith("OPD berisi karakter NUL")


def test_numeric_cells_are_read_as_text():
    valid, _ = validate_records(
        pd.DataFrame({"tracking_id": [6100000.0, 42], "submitted_at": [datetime(2026, 1, 5, 8), "2026-01-05"],
                      "status": ["proses", "arsip"]}),
        timezone=TZ,
    )
    assert valid["tracking_id"].tolist() == ["6100000", "42"]
    assert valid["submitted_at"].iat[0] == pd.Timestamp("2026-01-05 00:00", tz="UTC")


def test_quarantine_keeps_record_number_all_reasons_and_hides_reporter_name():
    _, quarantined = validate_records(
        rows({"tracking_id": "7", "rating": "9", "status": "x", "reporter_name": "Budi"}),
        timezone=TZ, record_numbers=[42],
    )
    (row,) = quarantined
    assert row.record_no == 42 and row.tracking_id == "7"
    assert "Rating harus bilangan bulat 1 sampai 5 ('9')" in row.reason and "Status tidak dikenal ('x')" in row.reason
    assert row.raw["reporter_name"] != "Budi"


def test_extra_reasons_from_a_format_quarantine_the_row():
    valid, quarantined = validate_records(
        rows({}, {"tracking_id": "2"}), timezone=TZ, extra_reasons=[None, "Status Laporan tidak dikenal: 'X'"]
    )
    assert valid["tracking_id"].tolist() == ["1"]
    assert quarantined[0].reason == "Status Laporan tidak dikenal: 'X'"


def test_every_row_is_stored_or_quarantined_never_dropped():
    frame = rows(*({"tracking_id": str(i), "rating": str(i % 7)} for i in range(50)))
    valid, quarantined = validate_records(frame, timezone=TZ)
    assert len(valid) + len(quarantined) == 50
    assert {q.tracking_id for q in quarantined} | set(valid["tracking_id"]) == {str(i) for i in range(50)}
