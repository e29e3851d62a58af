"""Data (analysts): sources and their last import or sync, upload, quarantine, OPD names and aliases,
OPD contacts and the morning messages."""

from datetime import datetime

import streamlit as st

from access import audit
from access.gate import NotAllowed
from data_sources.sync.open311 import source_profile
from ui import components, data, notify_admin, page
from ui import format as fmt

FORMATS = {"auto": "Deteksi otomatis", "lapor-export": "Ekspor admin SP4N-LAPOR! (Excel)", "canonical": "Berkas CSV standar"}
# Source kinds and run kinds as people say them (the machine names stay in the store).
KIND_LABELS = {"canonical": "Berkas CSV standar", "lapor-export": "Ekspor SP4N-LAPOR!", "demo": "Data contoh",
               "lapor-api": "API SP4N-LAPOR!", "open311": "Open311", "import": "Impor", "sync": "Sinkronisasi"}
STATUS_LABELS = {"ok": "berhasil", "success": "berhasil", "failed": "gagal", "running": "berjalan", "partial": "sebagian"}


def _word(value: object, labels: dict) -> str:
    return "" if fmt.is_empty(value) else labels.get(str(value), fmt.plain_text(value))

ctx = page.guard("data", "Data", needs_data=False)
tz = ctx.settings.kpi.timezone

st.subheader("Sumber data")
sources = data.sources_overview()
if sources.empty:
    st.caption("Belum ada sumber. Unggah berkas di bawah atau jalankan "
               "`.venv/bin/python -m data_sources import BERKAS` di server.")
else:
    st.dataframe(
        sources.assign(
            last_success_at=[fmt.moment(v, tz) for v in sources["last_success_at"]],
            finished_at=[fmt.moment(v, tz) for v in sources["finished_at"]],
            is_demo=sources["is_demo"].map({True: "ya", False: ""}).fillna(""),
            name=[_word(v, KIND_LABELS) for v in sources["name"]],
            kind=[_word(v, KIND_LABELS) for v in sources["kind"]],
            run_kind=[_word(v, KIND_LABELS) for v in sources["run_kind"]],
            status=[_word(v, STATUS_LABELS) for v in sources["status"]],
            error=["" if fmt.is_empty(v) else fmt.plain_text(v) for v in sources["error"]],
            # counts with the thousands separator (20.000), as everywhere else
            **{c: [fmt.number(v) if not fmt.is_empty(v) else "" for v in sources[c]]
               for c in ("rows_read", "rows_stored", "rows_quarantined")},
        ).rename(columns={
            "name": "Sumber", "kind": "Jenis", "is_demo": "Demo", "last_success_at": "Terakhir berhasil",
            "run_kind": "Proses terakhir", "status": "Status", "finished_at": "Selesai",
            "rows_read": "Dibaca", "rows_stored": "Disimpan", "rows_quarantined": "Dikarantina", "error": "Galat",
        }),
        hide_index=True, key="data_sources",
    )

# --- Open311 servers: what each honours (data_sources.sync.open311; branch open311) ---
for name in ([] if sources.empty else sources.loc[sources["kind"] == "open311", "name"]):
    profile = source_profile(data.store(), name)
    with st.expander(f"Server Open311 {name}: yang dihormati"):
        if not profile:
            st.caption("Belum diperiksa: sinkronisasi pertama memeriksanya (`sync --probe` menampilkannya).")
        else:
            st.caption(f"Diperiksa {fmt.moment(datetime.fromisoformat(profile['probed_at']), tz)}"
                       if profile.get("probed_at") else "Belum diperiksa (probe = false).")
            st.text("\n".join(f"- {line}" for line in [*profile["summary"], profile.get("completeness") or ""] if line))
# --- end Open311 ---

st.subheader("Unggah berkas")
components.uploader_in_indonesian(ctx.settings.max_upload_mb, "CSV, XLSX")
with st.form("data_upload", clear_on_submit=True):
    upload = st.file_uploader("Berkas CSV atau XLSX", type=["csv", "xlsx"],
                              max_upload_size=ctx.settings.max_upload_mb)
    layout = st.selectbox("Format", list(FORMATS), format_func=FORMATS.__getitem__)
    source = st.text_input("Nama sumber (opsional)", placeholder="mis. lapor-export")
    submitted = st.form_submit_button("Impor", type="primary")
if submitted and upload is not None:
    with st.spinner("Mengimpor..."):
        try:
            report = data.import_upload(upload, upload.name, layout, source.strip())
        except NotAllowed as exc:
            st.error(str(exc))
        except Exception as exc:  # noqa: BLE001 - the importer's messages are written for people
            audit.record(data.store(), ctx.viewer.username, "import", f"{upload.name}: gagal", ok=False)
            # The message may quote the file's own text (a header, its name): plain text only.
            st.error("Berkas tidak dapat diimpor:")
            st.text(f"{fmt.plain_text(upload.name)}: {fmt.plain_text(exc)}")
        else:
            audit.record(data.store(), ctx.viewer.username, "import",
                         f"{upload.name}: {fmt.number(report.rows_read)} dibaca, "
                         f"{fmt.number(report.rows_stored)} disimpan")
            st.success("Berkas diimpor.")
            st.text(
                f"{fmt.plain_text(upload.name)}: {fmt.number(report.rows_read)} baris dibaca, "
                f"{fmt.number(report.rows_stored)} disimpan, {fmt.number(report.rows_quarantined)} dikarantina "
                f"(sumber {_word(report.source, KIND_LABELS)})."
            )
            for message in report.messages:
                st.text(message)

st.subheader("Karantina")
count = data.quarantine_count()
st.caption(f"{fmt.number(count)} baris disisihkan karena melanggar aturan data (500 terbaru ditampilkan).")
if count:
    rows = data.quarantine_overview()
    rows["created_at"] = [fmt.moment(v, tz) for v in rows["created_at"]]
    st.dataframe(rows.rename(columns={"source": "Sumber", "run_id": "Proses", "record_no": "Baris",
                                      "tracking_id": "Tracking ID", "reason": "Alasan", "created_at": "Waktu"}),
                 hide_index=True, key="data_quarantine")

st.subheader("Nama OPD belum dipetakan")
unmapped = data.unmapped_opds()
if unmapped.empty:
    st.caption("Semua nama OPD sudah dikenali.")
else:
    st.dataframe(unmapped.rename(columns={"opd": "Nama di data", "complaints": "Aduan"}), hide_index=True,
                 key="data_unmapped")
    with st.form("data_alias"):
        alias = st.selectbox("Nama di data", unmapped["opd"].tolist())
        target = st.selectbox("OPD rujukan", data.reference_opds(), accept_new_options=True)
        if st.form_submit_button("Petakan") and alias and target:
            try:
                changed = data.add_alias(alias, target)
            except NotAllowed as exc:
                st.error(page.escape_markdown(str(exc)))
            else:
                audit.record(data.store(), ctx.viewer.username, "opd_alias", f"{alias} -> {target}")
                st.success(f"{fmt.number(changed)} aduan kini tercatat pada {page.escape_markdown(target)}.")

st.subheader("Tabel alias OPD")
aliases = data.alias_table()
if aliases.empty:
    st.caption("Belum ada alias.")
else:
    st.dataframe(aliases.rename(columns={"alias": "Alias", "opd": "OPD rujukan"}), hide_index=True, key="data_aliases")

# --- morning messages (notify): OPD contacts and the outbox, drawn by ui/notify_admin.py ----------
notify_admin.render(ctx.viewer, tz)
