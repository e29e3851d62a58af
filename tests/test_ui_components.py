"""Cards, lists and badges: escaped HTML, the same three colours, two cards per row on a phone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from ui import components, theme, views


def _compare(**rows):
    return pd.DataFrame.from_dict(rows, orient="index", columns=["current", "previous", "delta"])


def test_headline_has_the_four_cards_with_indonesian_formats():
    compare = _compare(
        received=(1234.0, 1200.0, 34.0), response_on_time_pct=(82.45, 80.0, 2.45),
        accuracy_pct=(90.0, 95.0, -5.0), completion_pct=(float("nan"), float("nan"), float("nan")),
    )
    cards = views.headline_cards(compare)
    assert [c.label for c in cards] == ["Aduan masuk", "Kecepatan", "Ketepatan", "Tuntas"]
    assert [c.value for c in cards] == ["1.234", "82,5%", "90,0%", "—"]
    assert cards[0].delta == "+34" and cards[0].delta_color == theme.GREY  # volume is not a judgement
    assert cards[1].delta == "+2,5 poin" and cards[1].delta_color == theme.GREEN and cards[1].arrow == "▲"
    assert cards[2].delta_color == theme.RED and cards[2].arrow == "▼"
    assert cards[3].delta == "—" and cards[3].arrow == ""


def test_cards_sit_two_per_row_on_a_phone_and_four_on_a_wide_screen():
    html = components.kpi_cards_html([components.KpiCard("received", "Aduan masuk", "1")])
    assert "grid-template-columns: repeat(2, minmax(0, 1fr))" in html
    assert "@media (min-width: 720px)" in html and "repeat(4, minmax(0, 1fr))" in html


def test_names_from_data_are_escaped_in_html():
    html = components.ranked_list_html([components.ListRow("<script>alert(1)</script> & Co", "3 terlambat")])
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html and "&amp; Co" in html


def test_grade_badge_uses_the_theme_colour_of_the_grade():
    assert theme.GREEN in components.grade_badge_html("baik")
    assert theme.AMBER in components.grade_badge_html("cukup")
    assert theme.RED in components.grade_badge_html("perlu_perhatian")
    assert "Data belum cukup" in components.grade_badge_html(None)


def test_freshness_turns_into_a_warning_past_the_configured_age():
    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    text, stale = components.freshness_text(now - timedelta(hours=2), now, "Asia/Makassar", 24)
    assert text == "Data per 22 Nov 2026 16.00 WITA" and not stale
    text, stale = components.freshness_text(now - timedelta(hours=30), now, "Asia/Makassar", 24)
    assert stale and "30 jam yang lalu" in text
    assert components.freshness_text(None, now, "Asia/Makassar", 24)[1]


def _table():
    return pd.DataFrame(
        {
            "opd": ["A", "B", "C", "D", "E", "F", "G", "Kecil", "TOTAL"],
            "rank": [1, 2, 3, 4, 5, 6, 7, None, None],
            "score": [95, 90, 86, 80, 72, 60, 50, 100, 78],
            "grade": ["baik", "baik", "baik", "cukup", "cukup", "perlu_perhatian", "perlu_perhatian", "baik", "cukup"],
            "overdue": [0, 4, 1, 9, 0, 9, 2, 1, 26],
            "received": [50, 40, 30, 20, 20, 10, 10, 2, 182],
        }
    )


def test_perlu_perhatian_lists_opds_with_most_overdue_first_without_total():
    rows = views.most_overdue(_table(), top=3)
    assert [r.name for r in rows] == ["D", "F", "B"]
    assert rows[0].value == "9 terlambat"


def test_best_and_lowest_three_are_ranked_opds_only_and_do_not_overlap():
    best, lowest = views.best_and_lowest(_table())
    assert [r.name for r in best] == ["1. A", "2. B", "3. C"]
    assert [r.name for r in lowest] == ["7. G", "6. F", "5. E"]
    best, lowest = views.best_and_lowest(_table().iloc[[0, 1, 2, 3, 8]])
    assert [r.name for r in lowest] == ["4. D"]


def test_opds_below_min_volume_are_listed_apart():
    ranked, unranked = views.split_ranked(_table())
    assert "Kecil" not in ranked["opd"].tolist()
    assert unranked["opd"].tolist() == ["Kecil"]


def test_scorecard_keeps_numbers_sortable_and_shows_them_in_indonesian():
    ranked, _ = views.split_ranked(_table())
    styler = views.scorecard(ranked.assign(response_on_time_pct=[12.5, None, 1, 2, 3, 4, 5]))
    assert styler.data["Kecepatan"].dtype == "float64"
    html = styler.to_html()
    assert "12,5%" in html and "—" in html
    assert theme.GREEN in html and theme.RED in html


def test_complaint_list_links_through_the_template_and_never_carries_reporter_columns():
    frame = pd.DataFrame(
        {
            "tracking_id": ["123 45"], "opd": ["A"],
            "submitted_at": [pd.Timestamp("2026-01-02T20:00:00Z")], "category": [None],
            "kecamatan": ["Barabai"], "status": ["menunggu_tindak_lanjut"], "overdue_kind": ["tanggapan"],
            "working_days_overdue": [3], "times_estimated": [False], "reporter_name": ["Budi"],
        }
    )
    shown = views.complaint_list(frame, "Asia/Makassar", "https://lapor.go.id/laporan/detil/{tracking_id}")
    assert shown.loc[0, "Masuk"] == "3 Jan 2026"  # local date in WITA
    assert shown.loc[0, "Tautan"] == "https://lapor.go.id/laporan/detil/123%2045"
    assert shown.loc[0, "Status"] == "Menunggu tindak lanjut"
    assert "Budi" not in shown.to_string()
    assert "Tautan" not in views.complaint_list(frame, "Asia/Makassar", "").columns


def test_scorecard_download_has_indonesian_headers_and_grade_words_and_keeps_the_machine_sheet(tmp_path):
    import io
    from datetime import UTC, date, datetime

    import pandas as pd
    from openpyxl import load_workbook

    from core.settings import Settings
    from metrics.export import neutralise_cell, write_report
    from metrics.filters import Filters

    table = pd.DataFrame({
        "opd": ["Dinas A", "＝cmd|' /C calc'!A0", "TOTAL"], "rank": pd.array([1, None, None], dtype="Int64"),
        "grade": ["perlu_perhatian", "baik", "cukup"], "score": [60.0, 100.0, 75.0], "received": [20, 2, 22],
    })
    buffer = io.BytesIO()
    filters = Filters(date(2026, 11, 1), date(2026, 11, 30), datetime(2026, 12, 4, tzinfo=UTC))
    write_report(table, "xlsx", buffer, filters, Settings(), scorecard=True)
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames[0] == "Scorecard" and "Laporan KPI" in book.sheetnames
    sheet = book["Scorecard"]
    assert [c.value for c in sheet[1]] == ["Peringkat", "OPD", "Predikat", "Skor", "Aduan masuk"]
    assert sheet["C2"].value == "Perlu perhatian"
    assert sheet["A3"].value == "tidak diperingkat (kurang dari 5 aduan)" and sheet["C3"].value == "—"
    assert sheet["B3"].value.startswith("'")  # a full-width ＝ is neutralised too
    assert sheet["B4"].value == "Seluruh wilayah"
    settings_sheet = {r[0].value: r[1].value for r in book["Pengaturan"].iter_rows(min_row=2)}
    assert "'-" not in settings_sheet.values()
    for raw in (" =1+1", "\t=1", "\n+1", "\u3000=1", "＋1", "－1", "＠SUM(A1)"):
        assert neutralise_cell(raw).startswith("'"), raw


def test_unknown_times_are_said_when_counted_and_nothing_when_the_column_is_absent():
    import pandas as pd

    from ui import views

    assert views.unknown_time_note(pd.Series({"received": 10})) == ""
    assert views.unknown_time_note(pd.Series({"response_time_unknown": 0})) == ""
    note = views.unknown_time_note(pd.Series({"response_time_unknown": 12, "completion_time_unknown": 3}))
    assert "12 aduan tanpa waktu tanggapan" in note and "3 aduan tanpa waktu selesai" in note
    assert views.empty_speed_reason(pd.Series({"response_on_time_pct": None, "response_time_unknown": 4})).startswith(
        "Kecepatan —")


def test_cards_from_data_are_plain_text_and_links_escape():
    from ui import cards

    html_text = cards.complaint_cards_html([cards.ComplaintCard(
        tracking_id='"><script>x</script>', opd="<b>Dinas</b>\u202e", headline="3 hari kerja terlambat",
        url='https://www.lapor.go.id/laporan/detil/"x', subject="![px](http://host/pixel.png)",
        actions=(("Hubungi", "https://wa.me/62812?text=a%20b"),),
    )])
    assert "<script>" not in html_text and "<b>Dinas" not in html_text and "\u202e" not in html_text
    assert "&lt;b&gt;Dinas" in html_text and 'href="https://www.lapor.go.id/laporan/detil/&quot;x"' in html_text
    assert "<img" not in html_text
    opd_html = cards.opd_card_html(cards.OpdCard(name="<a href=x>Dinas</a>", value="90,0", rank="1", grade="baik"))
    assert "<a href=x>" not in opd_html and "&lt;a href=x&gt;Dinas" in opd_html


def test_hubungi_prefills_the_overdue_tracking_ids_and_offers_a_call():
    from types import SimpleNamespace

    from ui import contacts

    book = {"Dinas A": SimpleNamespace(opd="Dinas A", name="Budi", role=None, whatsapp="0812-3456-7890", email=None)}
    links = contacts.actions("Dinas A", book, ["5101", "5102"], "https://dasbor.example.go.id")
    (label, whatsapp), (_, call) = links
    assert label == "Hubungi Budi (WhatsApp)"
    assert whatsapp.startswith("https://wa.me/6281234567890?text=") and "5101%2C%205102" in whatsapp
    assert "dasbor.example.go.id" in whatsapp and call == "tel:+6281234567890"
    assert contacts.actions("Dinas B", book, ["1"]) == []
