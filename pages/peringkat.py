"""Peringkat OPD: the ranked scorecard of all OPDs (or of the regions); tapping an OPD opens its detail."""

import pandas as pd
import streamlit as st

from ui import cards, charts, components, data, page, registry, scorecard_download, views
from ui import filters as ui_filters
from ui import format as fmt

COMPARE = {"opd": "OPD", "wilayah": "Wilayah"}

ctx = page.guard("peringkat", "Peringkat OPD")
filters = ctx.filters
kpi = ctx.settings.kpi


def show_regions() -> None:
    """The regions ranked like OPDs (metrics.kpi.region_table), for a store holding several."""
    table = data.region_table(filters).rename(columns={"region_name": "opd"})
    ranked, unranked = views.split_ranked(table)
    if ranked.empty and unranked.empty:
        components.empty_state("Belum ada aduan untuk periode ini", "Pilih periode lain di panel saring.")
        return
    if not ranked.empty:
        charts.show(charts.score_bars(ranked, kpi.grade_baik, kpi.grade_cukup), key="peringkat_wilayah_scores")
    st.dataframe(
        views.scorecard(pd.concat([ranked, unranked], ignore_index=True)), hide_index=True,
        key="peringkat_wilayah_table",
        column_config={"OPD": st.column_config.TextColumn("Wilayah", pinned=True)},
    )
    st.caption(
        f"Wilayah dengan kurang dari {fmt.number(kpi.min_volume)} aduan pada periode ini tidak diberi peringkat."
    )


# Several regions (a provincial installation): compare them as well as OPDs. Not for an OPD
# viewer, whose figures cover its own OPD only.
if filters.scope.opd is None and data.region_count(filters.scope.region_codes) > 1:
    ui_filters.page_param("bandingkan", list(COMPARE), "peringkat_bandingkan")
    st.session_state.setdefault("peringkat_bandingkan", "opd")
    compare = st.segmented_control(
        "Bandingkan", list(COMPARE), format_func=COMPARE.__getitem__, key="peringkat_bandingkan", required=True
    )
    ui_filters.sync_query_params({"bandingkan": [compare] if compare != "opd" else []}, ["bandingkan"])
    if compare == "wilayah":
        show_regions()
        st.stop()

table = data.opd_table(filters)
ranked, unranked = views.split_ranked(table)
region = views.total_row(table)
detail_page = registry.page("detail_opd")
params = ui_filters.global_params()

if ranked.empty and unranked.empty:
    components.empty_state("Belum ada aduan untuk periode ini", "Pilih periode lain di panel saring.")
    st.stop()

if filters.scope.opd is not None:
    # An OPD viewer sees its own place, never the other OPDs' figures.
    own = views.opd_rows(table).iloc[0]
    count = table.attrs.get("ranked_count")
    if fmt.is_empty(own["rank"]):
        place = views.unranked_text(kpi.min_volume)
    else:
        place = f"peringkat {fmt.number(own['rank'])}" + (f" dari {fmt.number(count)}" if count else "")
    st.subheader(f"{fmt.plain_text(own['opd'])}: {place}")
    cards.opd_cards(views.ranking_cards(views.opd_rows(table), lambda name: {**params, "opd": name},
                                        kpi.min_volume, total=count), detail_page, key="own")
    st.caption(f"Skor = Kecepatan 40% · Ketepatan 30% · Tuntas 30%; diperingkat bila ≥ {fmt.number(kpi.min_volume)} "
               "aduan pada periode ini.")
    scorecard_download.scorecard_download_button(data.store(), ctx.settings, filters, ctx.viewer.username)
    st.stop()

with cards.phone_only("ranking"):
    cards.opd_cards(
        views.ranking_cards(pd.concat([ranked, unranked], ignore_index=True), lambda name: {**params, "opd": name},
                            kpi.min_volume),
        detail_page, key="rank",
    )

if region is not None:
    st.caption(
        f"Seluruh wilayah: skor {fmt.score(region['score'])} · Kecepatan {fmt.percent(region['response_on_time_pct'])}"
        f" · Ketepatan {fmt.percent(region['accuracy_pct'])} · Tuntas {fmt.percent(region['completion_pct'])}"
        f" · {fmt.number(region['received'])} aduan"
    )

if not ranked.empty:
    charts.show(charts.score_bars(ranked, kpi.grade_baik, kpi.grade_cukup), key="peringkat_scores")
    st.caption(
        f"Garis titik-titik: batas nilai Cukup ({fmt.number(kpi.grade_cukup)}) dan Baik "
        f"({fmt.number(kpi.grade_baik)})."
    )
    with cards.desktop_only("ranking_table"):
        st.caption("Ketuk kotak di awal baris untuk membuka detail OPD.")
        selection = st.dataframe(
            views.scorecard(ranked),
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key="peringkat_table",
            column_config={
                "OPD": st.column_config.TextColumn("OPD", pinned=True),
                **{name: st.column_config.Column(name, help=text) for name, text in views.SCORECARD_HELP.items()},
            },
        )
    rows = selection.selection.rows if selection is not None else []
    detail_page = registry.page("detail_opd")
    if rows and detail_page is not None:
        chosen = str(ranked.iloc[rows[0]]["opd"])
        st.switch_page(detail_page, query_params={**ui_filters.global_params(), "opd": chosen})

with cards.desktop_only("unranked"):
    st.subheader("Tidak diperingkat")
    st.caption(
        f"OPD dengan kurang dari {fmt.number(kpi.min_volume)} aduan pada periode ini: skornya ditampilkan, "
        "tetapi tidak diberi peringkat dan predikat."
    )
    if unranked.empty:
        st.caption("Semua OPD memiliki aduan yang cukup.")
    else:
        st.dataframe(views.scorecard(unranked.drop(columns=["rank", "grade"])),
                     hide_index=True, key="peringkat_unranked")

scorecard_download.scorecard_download_button(data.store(), ctx.settings, filters, ctx.viewer.username)
