"""Pure shaping of metrics results for the pages: headline cards, lists, display tables.

No Streamlit and no queries here: a page fetches figures through ui.data and hands them to
these functions, which decide what the screen shows. Tests call them directly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
from pandas.io.formats.style import Styler

from ui import format as fmt
from ui import theme
from ui.components import KpiCard, ListRow, kpi_card

TOTAL = "TOTAL"

# KPI.md column -> screen header (Indonesian), in the order the scorecard shows them.
SCORECARD_HEADERS: dict[str, str] = {
    "rank": "Peringkat",
    "opd": "OPD",
    "grade": "Nilai",
    "score": "Skor",
    "response_on_time_pct": "Kecepatan",
    "accuracy_pct": "Ketepatan",
    "completion_pct": "Tuntas",
    "received": "Masuk",
    "responded": "Ditanggapi",
    "responded_on_time": "Ditanggapi tepat waktu",
    "response_overdue_open": "Belum ditanggapi, lewat batas",
    "median_response_hours": "Median tanggapan (jam)",
    "completed": "Selesai",
    "completed_on_time": "Selesai tepat waktu",
    "mean_rating": "Rata-rata rating",
    "open": "Belum selesai",
    "overdue": "Terlambat",
    "redisposed_pct": "Didisposisi ulang",
}
SCORECARD_HELP: dict[str, str] = {
    "Kecepatan": "Tanggapan pertama dalam 5 hari kerja, dari aduan yang sudah ditanggapi atau sudah lewat batas.",
    "Ketepatan": "Aduan selesai yang tidak dibuka ulang dan tidak diberi rating 1–2.",
    "Tuntas": "Aduan yang sudah selesai dari semua aduan yang masuk.",
    "Skor": "Rata-rata berbobot: Kecepatan 40%, Ketepatan 30%, Tuntas 30%.",
    "Terlambat": "Aduan belum selesai yang sudah lewat batas tanggapan atau penyelesaian.",
}
PCT_COLUMNS = ("response_on_time_pct", "accuracy_pct", "completion_pct", "redisposed_pct")
COUNT_COLUMNS = (
    "received", "responded", "responded_on_time", "response_overdue_open", "completed",
    "completed_on_time", "open", "overdue", "rank",
)

HEADLINE = (
    # key, label, note, is a percentage, higher is better
    ("received", "Aduan masuk", "diteruskan ke OPD", False, None),
    ("response_on_time_pct", "Kecepatan", "ditanggapi ≤ 5 hari kerja", True, True),
    ("accuracy_pct", "Ketepatan", "selesai & diterima pelapor", True, True),
    ("completion_pct", "Tuntas", "sudah diselesaikan", True, True),
)


def _value(frame: pd.DataFrame, row: str, column: str) -> float | None:
    if row not in frame.index or column not in frame.columns:
        return None
    value = frame.at[row, column]
    return None if fmt.is_empty(value) else float(value)


def headline_cards(compare: pd.DataFrame) -> list[KpiCard]:
    """The four home cards from metrics.kpi.compare_periods (index = KPI names)."""
    cards = []
    for key, label, note, is_pct, higher in HEADLINE:
        current = _value(compare, key, "current")
        delta = _value(compare, key, "delta")
        if is_pct:
            value, delta_text = fmt.percent(current), fmt.points(delta)
        else:
            value, delta_text = fmt.number(current), fmt.signed_number(delta)
        cards.append(kpi_card(key, label, value, delta, delta_text, higher, note))
    return cards


def opd_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The OPD rows of metrics.kpi.opd_table, without TOTAL."""
    return table[table["opd"] != TOTAL].reset_index(drop=True)


def total_row(table: pd.DataFrame) -> pd.Series | None:
    rows = table[table["opd"] == TOTAL]
    return None if rows.empty else rows.iloc[0]


def place_text(rank: object, table: pd.DataFrame) -> str:
    """"peringkat 7 dari 23": an OPD's rank and how many are ranked, no other OPD's figure."""
    if fmt.is_empty(rank):
        return "belum diberi peringkat"
    count = table.attrs.get("ranked_count")
    return f"peringkat {fmt.number(rank)}" + (f" dari {fmt.number(count)}" if count else "")


def split_ranked(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(ranked OPDs by rank, OPDs below min_volume or without score: "data belum cukup")."""
    rows = opd_rows(table)
    ranked = rows[rows["rank"].notna()].sort_values("rank", kind="mergesort").reset_index(drop=True)
    unranked = rows[rows["rank"].isna()].sort_values("opd", kind="mergesort").reset_index(drop=True)
    return ranked, unranked


def most_overdue(table: pd.DataFrame, top: int = 5) -> list[ListRow]:
    """"Perlu perhatian": the OPDs with the most overdue complaints (none when nobody is late)."""
    rows = opd_rows(table)
    rows = rows[pd.to_numeric(rows["overdue"], errors="coerce").fillna(0) > 0]
    rows = rows.sort_values(["overdue", "opd"], ascending=[False, True], kind="mergesort").head(top)
    return [ListRow(str(r.opd), f"{fmt.number(r.overdue)} terlambat") for r in rows.itertuples()]


def best_and_lowest(table: pd.DataFrame, n: int = 3) -> tuple[list[ListRow], list[ListRow]]:
    """The best n and the lowest n ranked OPDs by score (lowest listed worst first, no overlap)."""
    ranked, _ = split_ranked(table)
    best = ranked.head(n)
    rest = ranked.iloc[len(best):]
    lowest = rest.tail(n).iloc[::-1]

    def rows(part: pd.DataFrame) -> list[ListRow]:
        return [
            ListRow(f"{int(r.rank)}. {r.opd}", fmt.score(r.score), r.grade, show_badge=True)
            for r in part.itertuples()
        ]

    return rows(best), rows(lowest)


def trend_window(date_to: date, months: int = 6) -> date:
    """The first day of the month `months - 1` months before `date_to` (a small trend's start)."""
    year, month = date_to.year, date_to.month - (months - 1)
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, 1)


def _formatter(column: str) -> Callable[[object], str]:
    if column in PCT_COLUMNS:
        return fmt.percent
    if column == "score":
        return fmt.score
    if column == "median_response_hours":
        return lambda v: fmt.number(v, 1)
    if column == "mean_rating":
        return lambda v: fmt.number(v, 2)
    if column in COUNT_COLUMNS:
        return fmt.number
    if column == "grade":
        return theme.grade_label
    return lambda v: fmt.EMPTY if fmt.is_empty(v) else str(v)


def scorecard(rows: pd.DataFrame) -> Styler:
    """The scorecard table: Indonesian headers, babel-formatted cells, grade cells in grade colours.

    Values stay numeric underneath, so sorting a column in the table sorts by the number.
    """
    columns = [c for c in SCORECARD_HEADERS if c in rows.columns]
    frame = rows[columns].copy()
    for column in columns:
        if column not in ("opd", "grade"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame = frame.reset_index(drop=True)
    grades = frame["grade"].tolist() if "grade" in frame else []
    frame.columns = [SCORECARD_HEADERS[c] for c in columns]
    styler = frame.style.format({SCORECARD_HEADERS[c]: _formatter(c) for c in columns}, na_rep=fmt.EMPTY)
    if grades:
        header = SCORECARD_HEADERS["grade"]

        def paint(column: pd.Series) -> list[str]:
            return [
                f"color: {theme.grade_color(g)}; background-color: "
                f"{theme.GRADE_SOFT_COLORS.get(g or '', theme.LIGHT_GREY)}; font-weight: 600"
                for g in grades
            ]

        styler = styler.apply(paint, subset=[header])
    return styler


def comparison_rows(opd_row: pd.Series, region: pd.Series | None) -> pd.DataFrame:
    """An OPD's headline figures next to the region-wide figures (KPI.md TOTAL)."""
    items = [
        ("Aduan masuk", "received", fmt.number),
        ("Kecepatan", "response_on_time_pct", fmt.percent),
        ("Ketepatan", "accuracy_pct", fmt.percent),
        ("Tuntas", "completion_pct", fmt.percent),
        ("Skor", "score", fmt.score),
        ("Median tanggapan", "median_response_hours", fmt.hours),
        ("Rata-rata rating", "mean_rating", lambda v: fmt.number(v, 2)),
        ("Belum selesai", "open", fmt.number),
        ("Terlambat (aduan periode ini)", "overdue", fmt.number),
        ("Didisposisi ulang", "redisposed_pct", fmt.percent),
    ]
    return pd.DataFrame(
        {
            "Angka": [label for label, _, _ in items],
            "OPD ini": [f(opd_row.get(col)) for _, col, f in items],
            "Seluruh wilayah": [f(region.get(col)) if region is not None else fmt.EMPTY for _, col, f in items],
        }
    )


def complaint_list(frame: pd.DataFrame, timezone: str, url_template: str = "") -> pd.DataFrame:
    """Open/overdue complaints for display: ids, dates, delay, slice, status; never the reporter."""
    out = pd.DataFrame(
        {
            "Tracking ID": frame["tracking_id"].astype(str),
            "OPD": frame["opd"],
            "Masuk": [fmt.day(_local(t, timezone)) for t in frame["submitted_at"]],
            "Hari kerja terlambat": pd.to_numeric(frame["working_days_overdue"]).astype("int64"),
            "Batas terlewat": [fmt.label(k) if isinstance(k, str) else fmt.EMPTY for k in frame["overdue_kind"]],
            "Kategori": frame["category"].fillna(fmt.EMPTY),
            "Kecamatan": frame["kecamatan"].fillna(fmt.EMPTY),
            "Status": [fmt.label(s) for s in frame["status"]],
            "Waktu perkiraan": frame["times_estimated"].map({True: "ya", False: ""}),
        }
    )
    if url_template:
        out["Tautan"] = [_complaint_url(url_template, t) for t in frame["tracking_id"].astype(str)]
    return out


def _local(instant: object, timezone: str) -> object:
    if fmt.is_empty(instant):
        return None
    return pd.Timestamp(instant).tz_convert(timezone).date()


def _complaint_url(template: str, tracking_id: str) -> str | None:
    from urllib.parse import quote

    try:
        return template.format(tracking_id=quote(tracking_id, safe=""))
    except (KeyError, IndexError, ValueError):
        return None


# --- phone cards, backlog and partial buckets (issue 19) ---------------------------------------
def partial_buckets(starts: list, freq: str, date_from: date, date_to: date, today: date) -> list[bool]:
    """One flag per trend bucket: True when the bucket is not a whole, finished one (it starts
    before the period, ends after it, or is not over at `today`): its figures are young."""
    from datetime import timedelta

    from metrics.filters import month_end

    flags = []
    for start in starts:
        start = pd.Timestamp(start).date()
        end = start + timedelta(days=6) if freq == "week" else month_end(start)
        flags.append(start < date_from or end > date_to or end >= today)
    return flags


def unranked_text(min_volume: int) -> str:
    """The one wording for an OPD below min_volume, on screen, PDF, slides and Excel."""
    return f"tidak diperingkat (kurang dari {fmt.number(min_volume)} aduan)"


def ranking_cards(rows: pd.DataFrame, params: Callable[[str], dict], min_volume: int,
                  *, total: int | None = None) -> list:
    """Ranked OPDs (best first) then the unranked, as OPD cards linking to their detail."""
    from ui.cards import OpdCard

    cards = []
    for r in rows.itertuples():
        ranked = not fmt.is_empty(r.rank)
        rank = fmt.number(r.rank) if ranked else ""
        if ranked and total:
            rank = f"{rank}/{fmt.number(total)}"
        meta = (f"Kecepatan {fmt.percent(r.response_on_time_pct)} · Ketepatan {fmt.percent(r.accuracy_pct)}"
                f" · Tuntas {fmt.percent(r.completion_pct)} · {fmt.number(r.received)} aduan")
        unknown = getattr(r, "response_time_unknown", None)
        if not fmt.is_empty(unknown) and int(unknown) > 0:
            meta += f" · {fmt.number(unknown)} tanpa waktu tanggapan yang dapat diketahui"
        if not ranked:
            meta = f"{unranked_text(min_volume)} · {meta}"
        cards.append(OpdCard(
            name=str(r.opd), value=fmt.score(r.score), rank=rank, grade=r.grade if ranked else None,
            meta=meta, params=params(str(r.opd)),
        ))
    return cards


def backlog_opd_rows(counts: pd.DataFrame, top: int | None = 5) -> pd.DataFrame:
    """OPDs with backlog_overdue > 0, most first (the "Perlu perhatian" list), without TOTAL."""
    rows = counts[counts["opd"] != TOTAL].copy()
    rows["backlog_overdue"] = pd.to_numeric(rows["backlog_overdue"], errors="coerce").fillna(0).astype("int64")
    rows = rows[rows["backlog_overdue"] > 0]
    rows = rows.sort_values(["backlog_overdue", "opd"], ascending=[False, True], kind="mergesort")
    return rows.head(top) if top else rows


def backlog_total(counts: pd.DataFrame, column: str) -> int:
    row = counts[counts["opd"] == TOTAL]
    if row.empty:
        return int(pd.to_numeric(counts.get(column, pd.Series(dtype="int64")), errors="coerce").fillna(0).sum())
    value = row.iloc[0][column]
    return 0 if fmt.is_empty(value) else int(value)


def complaint_url(template: str, tracking_id: str) -> str | None:
    return _complaint_url(template, str(tracking_id)) if template else None


def complaint_cards(frame: pd.DataFrame, url_template: str, *, kind: str = "overdue", timezone: str = "",
                    actions: Callable[[str], list] | None = None, show_opd: bool = True) -> list:
    """Backlog complaints (metrics.backlog.backlog_complaints) as complaint cards, in its order."""
    from ui.cards import ComplaintCard

    cards = []
    for r in frame.to_dict("records"):
        if kind == "overdue":
            days = fmt.number(r["working_days_overdue"])
            headline = f"{days} hari kerja terlambat" + (" *" if r.get("times_estimated") else "")
        else:
            due = r.get("due_at")
            headline = f"jatuh tempo {fmt.moment(due, timezone) if timezone and not fmt.is_empty(due) else fmt.EMPTY}"
        cards.append(ComplaintCard(
            tracking_id=str(r["tracking_id"]), opd=str(r["opd"]) if show_opd else "", headline=headline,
            url=complaint_url(url_template, r["tracking_id"]), category=r.get("category"),
            kecamatan=r.get("kecamatan"), subject=r.get("title"), soon=kind != "overdue",
            actions=tuple(actions(str(r["opd"]))) if actions else (),
        ))
    return cards


def unknown_time_note(row: pd.Series | dict | None) -> str:
    """"12 aduan tanpa waktu tanggapan yang dapat diketahui" (KPI.md "Times that are only
    estimates"); "" when the columns are absent or zero."""
    if row is None:
        return ""
    parts = []
    for column, what in (("response_time_unknown", "waktu tanggapan"), ("completion_time_unknown", "waktu selesai")):
        value = row.get(column) if hasattr(row, "get") else None
        if not fmt.is_empty(value) and int(value) > 0:
            parts.append(f"{fmt.number(value)} aduan tanpa {what} yang dapat diketahui")
    if not parts:
        return ""
    return "; ".join(parts) + " (waktu hanya perkiraan dari ekspor berkala), tidak dihitung dalam Kecepatan/tepat waktu."


def empty_speed_reason(row: pd.Series | dict | None) -> str:
    """Why Kecepatan is "—": nothing responded or due yet, or every response time unknown."""
    if row is None or not fmt.is_empty(row.get("response_on_time_pct")):
        return ""
    unknown = row.get("response_time_unknown")
    if not fmt.is_empty(unknown) and int(unknown) > 0:
        return "Kecepatan — : semua waktu tanggapan hanya perkiraan, tidak dapat dinilai."
    return "Kecepatan — : belum ada aduan yang ditanggapi atau lewat batas tanggapan."


def backlog_table(frame: pd.DataFrame, timezone: str, url_template: str = "", *, kind: str = "overdue",
                  show_opd: bool = True) -> pd.DataFrame:
    """Backlog complaints for a desktop table: Indonesian headers, plain values, no "None"."""
    out = pd.DataFrame({"Tracking ID": frame["tracking_id"].astype(str)})
    if show_opd:
        out["OPD"] = frame["opd"].astype(str)
    if kind == "overdue":
        out["Hari kerja terlambat"] = pd.to_numeric(frame["working_days_overdue"]).astype("int64")
        out["Batas terlewat"] = [fmt.label(k) if isinstance(k, str) else fmt.EMPTY for k in frame["overdue_kind"]]
    else:
        out["Jatuh tempo"] = [fmt.moment(t, timezone) if not fmt.is_empty(t) else fmt.EMPTY for t in frame["due_at"]]
    if "title" in frame:
        out["Judul"] = [fmt.plain_text(t) for t in frame["title"]]
    out["Kategori"] = [fmt.plain_text(v) for v in frame["category"]]
    out["Kecamatan"] = [fmt.plain_text(v) for v in frame["kecamatan"]]
    out["Masuk"] = [fmt.day(_local(t, timezone)) for t in frame["submitted_at"]]
    out["Status"] = [fmt.label(s) for s in frame["status"]]
    out["Waktu perkiraan"] = frame["times_estimated"].map({True: "ya", False: ""}).fillna("")
    if url_template:
        out["Tautan"] = [_complaint_url(url_template, t) for t in frame["tracking_id"].astype(str)]
    return out.reset_index(drop=True)
