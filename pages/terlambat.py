"""Aduan Terlambat: the backlog's overdue watchlist (late now, whatever the period), most
working days late first, and the complaints that will fall due next: the leader's action list."""

import streamlit as st

from ui import cards, components, data, page, views
from ui import contacts as ui_contacts
from ui import filters as ui_filters
from ui import format as fmt

PARAM = "opd"
WIDGET = "terlambat_opd"
ALL = "Semua OPD"
PHONE_CARDS = 30  # a phone shows the 30 most urgent; the desktop table has all

ctx = page.guard("terlambat", "Aduan Terlambat")
filters = ctx.filters
settings = ctx.settings
own_opd = filters.scope.opd
options = {"with_title": True, "include_confidential": ctx.viewer.can("confidential")}
overdue = data.backlog_complaints(filters, kind="overdue", **options)
due_soon = data.backlog_complaints(filters, kind="due_soon", **options)

chosen = own_opd
if own_opd is None:  # an OPD viewer has one OPD: nothing to choose
    names = [ALL, *sorted(set(overdue["opd"].dropna().astype(str)) | set(due_soon["opd"].dropna().astype(str)))]
    ui_filters.page_param(PARAM, names, WIDGET)
    picked = st.selectbox("OPD", names, key=WIDGET)
    ui_filters.sync_query_params({PARAM: [picked] if picked and picked != ALL else []}, [PARAM])
    if picked and picked != ALL:
        chosen = picked
        overdue = overdue[overdue["opd"] == picked]
        due_soon = due_soon[due_soon["opd"] == picked]

book = ui_contacts.contacts()
ids_by_opd = overdue.groupby("opd")["tracking_id"].apply(lambda s: [str(v) for v in s]).to_dict()


def call(opd: str) -> list:
    return ui_contacts.actions(opd, book, ids_by_opd.get(opd, ()), settings.public_url)


def show(frame, kind: str, key: str, empty: str) -> None:  # noqa: ANN001
    with cards.phone_only(key):
        if len(frame) > PHONE_CARDS:
            st.caption(f"{fmt.number(PHONE_CARDS)} teratas dari {fmt.number(len(frame))}; pilih OPD untuk "
                       "menyaring, atau buka di layar lebar untuk tabel lengkap.")
        cards.complaint_cards(
            views.complaint_cards(frame.head(PHONE_CARDS), settings.complaint_url_template, kind=kind,
                                  timezone=settings.kpi.timezone, actions=call if kind == "overdue" else None,
                                  show_opd=chosen is None),
            empty_text=empty,
        )
    if not frame.empty:
        with cards.desktop_only(key):
            shown = views.backlog_table(frame, settings.kpi.timezone, settings.complaint_url_template, kind=kind,
                                        show_opd=chosen is None)
            st.dataframe(
                shown, hide_index=True, key=f"terlambat_{key}",
                column_config={
                    "Tracking ID": st.column_config.TextColumn("Tracking ID", pinned=True),
                    "Tautan": st.column_config.LinkColumn("Tautan", display_text="Buka di LAPOR!"),
                },
            )


cards.css()
st.subheader("Terlambat saat ini")
per_opd = overdue.groupby("opd").size()
where = "" if chosen is not None else f" di {fmt.number(len(per_opd))} OPD"
st.caption(
    f"{fmt.number(len(overdue))} aduan terlambat saat ini{where} (belum selesai dan lewat batas waktu, dari "
    "periode mana pun), paling lama di atas. Hari kerja dihitung dari batas yang terlewat sampai saat perhitungan."
)
if chosen is not None:
    links = call(chosen)
    if links:
        st.html(cards.CSS + cards.actions_html(links))
else:  # whom to call, beside the table (the phone's cards carry their own links)
    with cards.desktop_only("hubungi"):
        reachable = [(opd, call(opd)) for opd in per_opd.sort_values(ascending=False).index.astype(str)]
        lines = [f'<p class="lp-c-meta">{cards.text(opd)}: {fmt.number(per_opd[opd])} terlambat</p>'
                 f"{cards.actions_html(links)}" for opd, links in reachable if links]
        if lines:
            st.html(cards.CSS + "".join(lines))
show(overdue, "overdue", "overdue", "Tidak ada aduan yang terlambat saat ini.")
if overdue["times_estimated"].astype(bool).any() if not overdue.empty else False:
    st.caption("\\* waktu hanya perkiraan dari ekspor berkala.")

st.subheader("Akan jatuh tempo")
st.caption(
    f"{fmt.number(len(due_soon))} aduan belum terlambat yang batas waktunya habis sampai akhir hari kerja "
    "berikutnya, yang paling dekat di atas."
)
show(due_soon, "due_soon", "due_soon", "Tidak ada aduan yang akan jatuh tempo.")
if overdue.empty and due_soon.empty:
    components.empty_state("Tidak ada aduan terlambat", "Semua aduan yang belum selesai masih dalam batas waktu.")
