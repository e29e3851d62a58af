"""Realistic, deterministic demo data for Kabupaten Hulu Sungai Tengah: `python -m data_sources demo`.

`generate_frame` builds canonical complaint records (DATA.md) entirely with numpy, so 100,000
complaints take well under a second: two years of submissions with growth, a weekly and a
seasonal rhythm, a lifecycle (verification and disposition by the admin, the OPD's first
follow-up, closure) that happens on working days in office hours of the configured calendar,
and OPDs with distinct characters (`DEMO_OPDS`): a fast one, a slow one, one that closes fast
but gets contested, one with very few complaints. `load_demo` writes them into the store as a
demo source; `run_demo_cli` is the command.

Demo data is never counted with real data (DATA.md "Demo data and real data"): the first real
import or sync removes it in the transaction of its first write (`DemoRemoval`), `demo --remove`
removes it by hand, and the demo source's name cannot be chosen for a real import.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from core.calendar import calendar_for
from core.settings import Settings, load_settings

DEMO_SOURCE = "demo"
HISTORY_DAYS = 730  # two years of submissions, ending at `until`

SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US


@dataclass(frozen=True)
class DemoOpd:
    """One OPD of the demo region and how it handles complaints."""

    name: str
    short_name: str
    profile: str  # normal, fast, slow, contested, tiny
    weight: float  # share of complaints, relative
    categories: tuple[str, ...]  # LAPOR! categories its complaints come under
    speed: float = 1.0  # multiplies its handling durations (normal profile only differs by this)
    aliases: tuple[str, ...] = ()  # other spellings seen in data, seeded as OPD aliases


PU = "Pekerjaan Umum dan Penataan Ruang"
KES = "Kesehatan"
DUK = "Kependudukan"
PEND = "Pendidikan dan Kebudayaan"
SOS = "Sosial dan Kesejahteraan"
LH = "Lingkungan Hidup dan Kehutanan"
TIB = "Ketentraman, Ketertiban Umum, dan Perlindungan Masyarakat"
HUB = "Perhubungan"
PM = "Penanaman Modal"
KOM = "Komunikasi dan Informatika"
RUM = "Perumahan"
ESDM = "Energi dan Sumber Daya Alam"
TANI = "Pertanian dan Peternakan"
EKO = "Ekonomi dan Keuangan"
KERJA = "Ketenagakerjaan"
WISATA = "Pariwisata"
OR = "Pemuda dan Olahraga"
BENCANA = "Penanggulangan Bencana"
PEG = "Kepegawaian"
HUK = "Politik dan Hukum"
DESA = "Pembangunan Desa, Daerah Tertinggal, dan Transmigrasi"
LAIN = "Topik Lainnya"

# The OPDs of the demo region. Exactly one each of the fast, slow, contested and tiny
# profiles, so tests and demos can point at them by profile.
DEMO_OPDS: tuple[DemoOpd, ...] = (
    DemoOpd(
        "Dinas Pekerjaan Umum dan Penataan Ruang",
        "Dinas PUPR",
        "slow",
        14.0,
        (PU,),
        aliases=("Dinas PUPR", "PUPR HST"),
    ),
    DemoOpd(
        "Dinas Kependudukan dan Pencatatan Sipil",
        "Disdukcapil",
        "fast",
        9.0,
        (DUK,),
        aliases=("Disdukcapil", "Dukcapil"),
    ),
    DemoOpd("Dinas Lingkungan Hidup", "DLH", "contested", 6.0, (LH,), aliases=("DLH",)),
    DemoOpd("Dinas Perpustakaan dan Kearsipan", "Dispersip", "tiny", 0.04, (PEND,)),
    DemoOpd("Dinas Kesehatan", "Dinkes", "normal", 6.0, (KES,), 1.0, ("Dinkes",)),
    DemoOpd(
        "RSUD H. Damanhuri Barabai",
        "RSUD Damanhuri",
        "normal",
        7.0,
        (KES,),
        1.25,
        ("RSUD Damanhuri", "RSUD H Damanhuri"),
    ),
    DemoOpd("Dinas Pendidikan", "Disdik", "normal", 7.0, (PEND,), 1.1),
    DemoOpd("Dinas Sosial PPKB PPPA", "Dinsos", "normal", 7.0, (SOS,), 1.15),
    DemoOpd("Satuan Polisi Pamong Praja", "Satpol PP", "normal", 6.0, (TIB,), 0.8, ("Satpol PP",)),
    DemoOpd("Dinas Perhubungan", "Dishub", "normal", 4.0, (HUB,), 0.9, ("Dishub",)),
    DemoOpd("Dinas Penanaman Modal dan PTSP", "DPMPTSP", "normal", 3.0, (PM,), 0.85),
    DemoOpd("Dinas Komunikasi dan Informatika", "Diskominfo", "normal", 3.0, (KOM,), 0.7, ("Diskominfo",)),
    DemoOpd("Dinas Perumahan Rakyat dan Kawasan Permukiman", "Disperkim", "normal", 4.0, (RUM,), 1.3),
    DemoOpd("Perumda Air Minum Murakata", "PDAM Murakata", "normal", 5.0, (ESDM,), 1.05, ("PDAM Barabai",)),
    DemoOpd("Dinas Pertanian", "Distan", "normal", 3.0, (TANI,), 1.0),
    DemoOpd("Dinas Perikanan", "Diskan", "normal", 1.5, (TANI,), 0.95),
    DemoOpd("Dinas Koperasi, UKM dan Perdagangan", "Diskopdag", "normal", 3.0, (EKO,), 1.0),
    DemoOpd("Dinas Tenaga Kerja dan Transmigrasi", "Disnakertrans", "normal", 2.0, (KERJA,), 1.1),
    DemoOpd("Dinas Pemuda, Olahraga dan Pariwisata", "Disporapar", "normal", 1.5, (WISATA, OR), 0.9),
    DemoOpd("Badan Penanggulangan Bencana Daerah", "BPBD", "normal", 2.0, (BENCANA,), 0.75),
    DemoOpd("Badan Pendapatan Daerah", "Bapenda", "normal", 2.0, (EKO,), 0.95),
    DemoOpd("Badan Kepegawaian dan Pengembangan Sumber Daya Manusia", "BKPSDM", "normal", 2.0, (PEG,), 1.2),
    DemoOpd("Dinas Pemberdayaan Masyarakat dan Desa", "DPMD", "normal", 2.5, (DESA,), 1.1),
    DemoOpd("Inspektorat Daerah", "Inspektorat", "normal", 1.0, (HUK,), 1.4),
    DemoOpd("Sekretariat Daerah", "Setda", "normal", 1.5, (LAIN,), 1.0),
)

KECAMATAN: tuple[tuple[str, float], ...] = (  # the 11 kecamatan, weighted by rough population
    ("Haruyan", 7.0),
    ("Batu Benawa", 7.5),
    ("Labuan Amas Selatan", 9.0),
    ("Labuan Amas Utara", 7.0),
    ("Pandawan", 9.5),
    ("Barabai", 20.0),
    ("Batang Alai Selatan", 9.0),
    ("Batang Alai Utara", 6.5),
    ("Hantakan", 4.0),
    ("Batang Alai Timur", 4.5),
    ("Limpasu", 3.5),
)
BARABAI_KELURAHAN = (
    "Barabai Barat",
    "Barabai Darat",
    "Barabai Selatan",
    "Barabai Timur",
    "Barabai Utara",
    "Bukat",
)


@dataclass(frozen=True)
class DemoRegion:
    """A kabupaten/kota of Kalimantan Selatan for the multi-region demo."""

    code: str  # kode wilayah (Kemendagri)
    name: str
    weight: float  # share of complaints, relative (rough population, thousands)
    speed: float  # multiplies handling durations, so regions differ in the comparison
    kecamatan: tuple[tuple[str, float], ...]


# The 13 kabupaten/kota of Kalimantan Selatan with a few of their kecamatan each.
KALSEL_REGIONS: tuple[DemoRegion, ...] = (
    DemoRegion("63.01", "Kabupaten Tanah Laut", 360, 1.1, (
        ("Pelaihari", 10), ("Bati-Bati", 5), ("Takisung", 4), ("Jorong", 4), ("Kintap", 4), ("Kurau", 3))),
    DemoRegion("63.02", "Kabupaten Kotabaru", 330, 1.35, (
        ("Pulau Laut Utara", 10), ("Pulau Laut Sigam", 5), ("Kelumpang Hilir", 3), ("Sampanahan", 2),
        ("Pamukan Selatan", 3), ("Pulau Sebuku", 2))),
    DemoRegion("63.03", "Kabupaten Banjar", 580, 1.0, (
        ("Martapura", 10), ("Gambut", 5), ("Kertak Hanyar", 5), ("Sungai Tabuk", 5), ("Karang Intan", 4),
        ("Astambul", 3), ("Martapura Barat", 3))),
    DemoRegion("63.04", "Kabupaten Barito Kuala", 320, 1.2, (
        ("Marabahan", 6), ("Alalak", 8), ("Tamban", 4), ("Anjir Pasar", 3), ("Mandastana", 3), ("Wanaraya", 3))),
    DemoRegion("63.05", "Kabupaten Tapin", 190, 0.85, (
        ("Tapin Utara", 7), ("Binuang", 5), ("Tapin Selatan", 4), ("Bungur", 3), ("Lokpaikat", 3),
        ("Candi Laras Selatan", 2))),
    DemoRegion("63.06", "Kabupaten Hulu Sungai Selatan", 230, 0.95, (
        ("Kandangan", 8), ("Angkinang", 3), ("Daha Selatan", 5), ("Daha Utara", 4), ("Padang Batung", 3),
        ("Loksado", 2))),
    DemoRegion("63.07", "Kabupaten Hulu Sungai Tengah", 260, 1.0, KECAMATAN),
    DemoRegion("63.08", "Kabupaten Hulu Sungai Utara", 230, 1.15, (
        ("Amuntai Tengah", 8), ("Amuntai Selatan", 5), ("Amuntai Utara", 3), ("Babirik", 3),
        ("Sungai Pandan", 3), ("Danau Panggang", 3))),
    DemoRegion("63.09", "Kabupaten Tabalong", 250, 0.9, (
        ("Tanjung", 7), ("Murung Pudak", 8), ("Kelua", 4), ("Muara Uya", 3), ("Upau", 2), ("Haruai", 3))),
    DemoRegion("63.10", "Kabupaten Tanah Bumbu", 350, 1.25, (
        ("Simpang Empat", 8), ("Batulicin", 6), ("Kusan Hilir", 6), ("Satui", 6), ("Angsana", 3),
        ("Sungai Loban", 3))),
    DemoRegion("63.11", "Kabupaten Balangan", 130, 0.8, (
        ("Paringin", 6), ("Paringin Selatan", 4), ("Awayan", 3), ("Juai", 3), ("Lampihong", 3), ("Halong", 3))),
    DemoRegion("63.71", "Kota Banjarmasin", 660, 1.05, (
        ("Banjarmasin Barat", 7), ("Banjarmasin Selatan", 9), ("Banjarmasin Tengah", 6),
        ("Banjarmasin Timur", 7), ("Banjarmasin Utara", 7))),
    DemoRegion("63.72", "Kota Banjarbaru", 270, 0.75, (
        ("Banjarbaru Selatan", 5), ("Banjarbaru Utara", 5), ("Cempaka", 3), ("Landasan Ulin", 5),
        ("Liang Anggang", 4))),
)
HOME_REGION = "63.07"  # the region the single-region demo (and its OPD names) stands for
# OPDs named after a place in Hulu Sungai Tengah: elsewhere they take the region's name.
_PLACE_BOUND_OPDS = {"RSUD H. Damanhuri Barabai": "RSUD", "Perumda Air Minum Murakata": "Perumda Air Minum"}
TRACKING_ID_REGION_STEP = 1_000_000_000  # region i's tracking ids start at (i + 1) * step


def kalsel_regions(count: int, first: str | None = HOME_REGION) -> list[tuple[str, str]]:
    """`count` Kalimantan Selatan regions as (code, name): `first` (when it is one), then by code."""
    if not 1 <= count <= len(KALSEL_REGIONS):
        raise ValueError(f"count must be between 1 and {len(KALSEL_REGIONS)}")
    ordered = sorted(KALSEL_REGIONS, key=lambda r: (r.code != first, r.code))
    return [(r.code, r.name) for r in ordered[:count]]


def _region_label(name: str) -> str:
    """"Kabupaten Tapin" -> "Kab. Tapin" (kept short: it ends every OPD name of the region)."""
    return "Kab. " + name[len("Kabupaten "):] if name.startswith("Kabupaten ") else name


def regional_opd_names(code: str, name: str) -> dict[str, str]:
    """Demo OPD name -> its name in a region of the multi-region demo.

    LAPOR! names a regional OPD with its region, so two kabupaten's "Dinas Kesehatan" never
    merge into one row of the OPD ranking.
    """
    label = _region_label(name)
    names = {}
    for opd in DEMO_OPDS:
        if opd.name in _PLACE_BOUND_OPDS:
            names[opd.name] = opd.name if code == HOME_REGION else f"{_PLACE_BOUND_OPDS[opd.name]} {label}"
        else:
            names[opd.name] = f"{opd.name} {label}"
    return names


CHANNEL_MIX: tuple[tuple[str, float], ...] = (
    ("website", 24.0),
    ("android", 22.0),
    ("whatsapp", 17.0),
    ("sms", 7.0),
    ("instagram", 8.0),
    ("twitter", 6.0),
    ("facebook", 5.0),
    ("tatap_muka", 5.0),
    ("ios", 2.5),
    ("telepon", 2.0),
    ("email", 1.0),
    ("lainnya", 0.5),
)
CLASSIFICATION_MIX: tuple[tuple[str, float], ...] = (
    ("pengaduan", 62.0),
    ("aspirasi", 17.0),
    ("permintaan_informasi", 18.0),
    ("pengawasan", 3.0),
)

# Issues per category: (title, what the reporter writes about it).
ISSUES: dict[str, tuple[tuple[str, str], ...]] = {
    PU: (
        ("Jalan rusak berlubang", "jalan rusak dan berlubang cukup dalam"),
        ("Jembatan rusak", "jembatan kayu yang lantainya sudah lapuk"),
        ("Drainase tersumbat", "saluran drainase tersumbat sehingga air meluap ke jalan"),
        ("Proyek jalan terbengkalai", "pekerjaan pengaspalan jalan yang berhenti di tengah jalan"),
        ("Banjir saat hujan", "genangan banjir setiap kali hujan deras"),
    ),
    KES: (
        ("Antrean IGD lama", "antrean di IGD sangat lama dan pasien menunggu berjam-jam"),
        ("Stok obat kosong", "obat yang diresepkan tidak tersedia di apotek"),
        ("Tagihan BPJS", "pasien BPJS masih diminta membayar biaya tambahan"),
        ("Pelayanan puskesmas", "puskesmas tutup sebelum jam pelayanan berakhir"),
        ("Fogging demam berdarah", "kasus demam berdarah bertambah tetapi belum ada pengasapan"),
    ),
    DUK: (
        ("KTP elektronik belum jadi", "KTP elektronik yang direkam berbulan-bulan lalu belum jadi"),
        ("Blanko KTP habis", "blanko KTP elektronik habis di kantor kecamatan"),
        ("Akta kelahiran lama", "pengurusan akta kelahiran anak belum selesai"),
        ("Data KK tidak sesuai", "data kartu keluarga tidak sesuai dengan dokumen asli"),
    ),
    PEND: (
        ("Ruang kelas rusak", "atap ruang kelas bocor dan plafon hampir runtuh"),
        ("Pungutan di sekolah", "ada pungutan uang seragam dan buku yang memberatkan orang tua"),
        ("Zonasi PPDB", "anak tidak diterima di sekolah terdekat karena sistem zonasi"),
        ("Perpustakaan desa tutup", "perpustakaan desa tidak pernah buka"),
    ),
    SOS: (
        ("PKH belum cair", "bantuan PKH belum cair sejak beberapa bulan"),
        ("Bansos tidak tepat sasaran", "bantuan sosial diterima warga yang mampu"),
        ("Data DTKS", "keluarga miskin belum masuk data DTKS"),
    ),
    LH: (
        ("Limbah ke sungai", "limbah dibuang langsung ke sungai dan airnya berbau"),
        ("Sampah menumpuk di pasar", "sampah menumpuk di pasar dan tidak diangkut"),
        ("Pembakaran sampah", "pembakaran sampah terbuka menimbulkan asap tebal"),
        ("Pohon tumbang", "pohon besar tumbang menutup jalan"),
    ),
    TIB: (
        ("Pedagang kaki lima di trotoar", "pedagang kaki lima berjualan di trotoar"),
        ("Parkir liar", "parkir liar di bahu jalan menyebabkan kemacetan"),
        ("Balap liar", "balap liar setiap malam minggu mengganggu warga"),
        ("Tempat hiburan malam", "tempat hiburan buka melewati batas jam operasional"),
    ),
    HUB: (
        ("Lampu lalu lintas mati", "lampu lalu lintas di persimpangan mati"),
        ("Rambu hilang", "rambu lalu lintas hilang sehingga rawan kecelakaan"),
        ("Angkutan umum ngetem", "angkutan umum berhenti sembarangan menunggu penumpang"),
    ),
    PM: (
        ("Izin usaha lama terbit", "izin usaha yang diajukan belum terbit"),
        ("Persyaratan PBG", "persyaratan persetujuan bangunan gedung tidak jelas"),
    ),
    KOM: (
        ("Situs pemda tidak bisa diakses", "situs resmi pemerintah daerah tidak bisa dibuka"),
        ("Sinyal internet lemah", "sinyal internet sangat lemah di desa"),
    ),
    RUM: (
        ("Bedah rumah", "bantuan bedah rumah tidak kunjung direalisasikan"),
        ("Lampu jalan padam", "lampu penerangan jalan umum padam sejak lama"),
    ),
    ESDM: (
        ("Air PDAM tidak mengalir", "air PDAM tidak mengalir beberapa hari"),
        ("Air PDAM keruh", "air PDAM keruh dan berbau"),
        ("Tagihan air melonjak", "tagihan air naik tidak wajar padahal pemakaian biasa"),
    ),
    TANI: (
        ("Pupuk bersubsidi langka", "pupuk bersubsidi sulit didapat menjelang musim tanam"),
        ("Irigasi sawah kering", "saluran irigasi sawah kering"),
        ("Bantuan bibit ikan", "bantuan bibit ikan untuk kelompok tani belum diterima"),
    ),
    EKO: (
        ("Harga sembako naik", "harga beras dan minyak goreng naik tajam"),
        ("Retribusi pasar", "penarikan retribusi pasar tanpa karcis resmi"),
        ("Tagihan PBB keliru", "tagihan PBB tidak sesuai luas tanah"),
    ),
    KERJA: (
        ("Upah di bawah UMK", "perusahaan membayar upah di bawah UMK"),
        ("Kartu kuning", "pengurusan kartu pencari kerja berbelit"),
    ),
    WISATA: (("Fasilitas wisata rusak", "fasilitas di objek wisata rusak dan kotor"),),
    OR: (("Lapangan olahraga terbengkalai", "lapangan olahraga desa tidak terawat"),),
    BENCANA: (
        ("Bantuan banjir", "bantuan untuk korban banjir belum sampai"),
        ("Tanah longsor", "tanah longsor mengancam rumah warga"),
    ),
    PEG: (
        ("Gaji honorer terlambat", "honor tenaga kontrak terlambat dibayar"),
        ("Seleksi PPPK", "pengumuman seleksi PPPK tidak transparan"),
    ),
    HUK: (
        ("Dugaan pungli", "ada dugaan pungutan liar dalam pelayanan"),
        ("Penyalahgunaan dana desa", "dugaan penyalahgunaan dana desa"),
    ),
    DESA: (
        ("Dana desa", "penggunaan dana desa tidak diumumkan kepada warga"),
        ("BLT desa", "penyaluran BLT desa tidak merata"),
    ),
    LAIN: (
        ("Pelayanan kantor kecamatan", "petugas kantor kecamatan tidak ada di tempat"),
        ("Informasi program pemda", "informasi program pemerintah daerah sulit didapat"),
    ),
}
OPENINGS = (
    "Mohon ditindaklanjuti: ",
    "Saya ingin melaporkan ",
    "Yth. Bapak/Ibu, ",
    "Assalamualaikum, mau menyampaikan ",
    "Tolong diperhatikan, ",
)
SINCE = (
    "sejak kemarin",
    "sejak seminggu yang lalu",
    "sudah sebulan lebih",
    "sejak awal tahun",
    "sudah berkali-kali terjadi",
    "",
)
CLOSINGS = (
    "Terima kasih.",
    "Mohon segera ditangani.",
    "Warga sangat berharap ada perbaikan.",
    "Atas perhatiannya diucapkan terima kasih.",
    "",
)
# Texts that look like spreadsheet formulas, HTML or markdown, so escaping paths get exercised.
TRICKY_TITLES = (
    '=HYPERLINK("http://contoh.invalid/?q="&A1,"Klik di sini")',
    "=1+2 jalan rusak",
    "+62 812 0000 0000 tolong hubungi",
    "-- lampu jalan mati --",
    "@admin jalan berlubang",
    "<script>alert('lapor')</script> Sampah menumpuk",
    "**Jembatan** _rusak_ [lihat](javascript:alert(1))",
)
FIRST_NAMES = tuple(
    "Ahmad Muhammad Siti Nur Rahmat Fitriani Hasan Aisyah Rizky Dewi Budi Sri Abdul Fauzi Rina Yusuf "
    "Halimah Syarifah Akhmad Norhayati Gusti Taufik Mariani Hairil Zulkifli Rusdiansyah Jumiati".split()
)
LAST_NAMES = tuple(
    "Rahman Hidayat Saputra Fadillah Kurniawan Anwar Hamdani Gazali Noor Arsyad Maulana Wati Lestari "
    "Ramadhan Zainuddin Effendi Mahmud Basri Hairani Sapriansyah Muhlis Yuliani".split()
)


@dataclass(frozen=True)
class _Profile:
    """Handling durations (working days, gamma-distributed) and quality of one profile."""

    response_shape: float
    response_scale: float
    completion_shape: float
    completion_scale: float  # for pengaduan; other classifications take less
    direct_close: float  # share closed without a separate first follow-up
    never_response: float  # share disposed but never followed up (backlog)
    never_close: float  # share followed up but never closed
    rating_share: float  # share of completed complaints the reporter rates
    rating_p: tuple[float, float, float, float, float]  # P(rating = 1..5)
    reopen: float  # share of completed complaints that were reopened at least once


PROFILES: dict[str, _Profile] = {
    "normal": _Profile(2.0, 1.3, 2.0, 2.8, 0.12, 0.006, 0.015, 0.35, (0.05, 0.07, 0.18, 0.35, 0.35), 0.02),
    "tiny": _Profile(2.0, 1.3, 2.0, 2.8, 0.12, 0.0, 0.0, 0.35, (0.05, 0.07, 0.18, 0.35, 0.35), 0.02),
    "fast": _Profile(1.0, 0.6, 1.0, 1.2, 0.25, 0.0, 0.004, 0.35, (0.02, 0.04, 0.12, 0.34, 0.48), 0.01),
    "slow": _Profile(3.0, 2.6, 3.0, 4.5, 0.05, 0.04, 0.06, 0.40, (0.14, 0.16, 0.25, 0.27, 0.18), 0.04),
    "contested": _Profile(1.0, 0.4, 1.0, 0.4, 0.55, 0.0, 0.0, 0.60, (0.38, 0.30, 0.14, 0.11, 0.07), 0.22),
}
COMPLETION_FACTOR = {"pengaduan": 1.0, "aspirasi": 0.45, "permintaan_informasi": 0.35, "pengawasan": 2.5}

# fmt: off
SUBMIT_HOUR_WEIGHTS = np.array(  # any hour, mostly office hours and the evening after work
    [0.4, 0.25, 0.15, 0.15, 0.3, 0.8, 1.8, 3.5, 6.5, 8.0, 8.0, 7.0, 5.0, 6.5, 7.0, 6.0,
     5.0, 4.5, 4.0, 4.5, 4.5, 3.5, 2.0, 1.0]
)
# fmt: on
OFFICE_HOUR_WEIGHTS = np.array(  # when officers act: 08-16 with a lunch dip, a little overtime
    [0, 0, 0, 0, 0, 0, 0, 0.2, 12, 16, 16, 13, 4, 11, 11, 9, 3, 1.5, 0.8, 0.5, 0.3, 0, 0, 0]
)


def demo_opd(profile: str) -> DemoOpd:
    """The demo OPD with a given profile (fast, slow, contested, tiny)."""
    for opd in DEMO_OPDS:
        if opd.profile == profile:
            return opd
    raise KeyError(profile)


def default_until(settings: Settings | None = None) -> date:
    """Yesterday in the region's zone: the default end of demo history, so nothing is in the future."""
    settings = settings or load_settings()
    return (datetime.now(UTC).astimezone(calendar_for(settings.kpi).zone) - timedelta(days=1)).date()


# --- generation ---------------------------------------------------------------------------------
class _Clock:
    """Local-time <-> UTC conversion and working-day stepping on int64 microsecond arrays."""

    def __init__(self, settings: Settings) -> None:
        self.calendar = calendar_for(settings.kpi)
        self.zone = self.calendar.zone

    def to_utc(self, local_us: np.ndarray) -> np.ndarray:
        index = pd.DatetimeIndex(local_us.astype("datetime64[us]"))
        # An hour that repeats at a DST change is read as the first one; a skipped one moves on.
        aware = index.tz_localize(
            self.zone, ambiguous=np.ones(len(index), dtype=bool), nonexistent="shift_forward"
        )
        return aware.tz_convert("UTC").as_unit("us").asi8

    def to_local(self, utc_us: np.ndarray) -> np.ndarray:
        index = pd.DatetimeIndex(utc_us.astype("datetime64[us]")).tz_localize("UTC")
        return index.tz_convert(self.zone).tz_localize(None).as_unit("us").asi8

    def next_event(
        self, rng: np.random.Generator, previous_utc: np.ndarray, working_days: np.ndarray
    ) -> np.ndarray:
        """An instant `working_days` working days after the previous event, in office hours.

        With 0 working days the event falls on the same local date when that is a working day
        (else the next one), and always at least a few minutes after the previous event.
        """
        n = len(previous_utc)
        local_day = (self.to_local(previous_utc) // DAY_US).astype("datetime64[D]")
        day = np.busday_offset(local_day, working_days, roll="forward", busdaycal=self.calendar._busdaycal)
        local = day.astype("int64") * DAY_US + _office_time(rng, n)
        earliest = previous_utc + rng.integers(5 * MINUTE_US, 90 * MINUTE_US, size=n)
        return np.maximum(self.to_utc(local), earliest) // SECOND_US * SECOND_US


def _office_time(rng: np.random.Generator, n: int) -> np.ndarray:
    hours = rng.choice(24, size=n, p=OFFICE_HOUR_WEIGHTS / OFFICE_HOUR_WEIGHTS.sum())
    return hours * HOUR_US + rng.integers(0, HOUR_US, size=n)


def _pick(rng: np.random.Generator, table: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    names = np.array([name for name, _ in table], dtype=object)
    weights = np.array([w for _, w in table], dtype=float)
    return names[rng.choice(len(names), size=n, p=weights / weights.sum())]


def _working_days(rng: np.random.Generator, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return np.floor(rng.gamma(shape, scale)).astype(np.int64)


def _day_weights(rng: np.random.Generator, days: np.ndarray, settings: Settings) -> np.ndarray:
    """Relative submission volume per day: growth, weekly rhythm, rainy season, holidays, noise."""
    cal = calendar_for(settings.kpi)
    t = np.arange(len(days)) / max(len(days) - 1, 1)
    growth = 1.0 + 0.6 * t  # more citizens find LAPOR! every month
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    weekly = np.array([1.25, 1.15, 1.1, 1.05, 0.95, 0.55, 0.5])[weekday]
    day_of_year = (days - days.astype("datetime64[Y]")).astype("int64")
    # The rainy season (peak in January) brings floods, broken roads and more complaints.
    seasonal = 1.0 + 0.15 * np.cos(2 * np.pi * (day_of_year - 15) / 365.25)
    holiday = np.where((weekday < 5) & ~np.is_busday(days, busdaycal=cal._busdaycal), 0.6, 1.0)
    noise = rng.gamma(25.0, 1 / 25.0, size=len(days))
    return growth * weekly * seasonal * holiday * noise


def generate_frame(
    n: int,
    seed: int,
    until: date,
    settings: Settings | None = None,
    *,
    kecamatan_mix: tuple[tuple[str, float], ...] = KECAMATAN,
    speed_factor: float = 1.0,
) -> pd.DataFrame:
    """`n` canonical complaint records (DATA.md), two years of history ending on `until`.

    `kecamatan_mix` and `speed_factor` (multiplies every handling duration) let the
    multi-region demo give each region its own places and pace; the defaults are Hulu Sungai
    Tengah's.

    Deterministic for (n, seed, until) and the calendar settings. Timestamps are tz-aware UTC;
    nothing is later than the end of `until` in the local zone, and each status matches the
    timestamps that are set (menunggu_verifikasi: not disposed; menunggu_tindak_lanjut:
    disposed, no follow-up; proses: followed up, not closed; selesai: closed; arsip: archived).
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    settings = settings or load_settings()
    clock = _Clock(settings)
    rng = np.random.default_rng([seed, n, until.toordinal()])

    # Submissions: a day by the volume pattern, then an hour (any, mostly office hours).
    first_day = np.datetime64(until - timedelta(days=HISTORY_DAYS - 1), "D")
    days = first_day + np.arange(HISTORY_DAYS)
    weights = _day_weights(rng, days, settings)
    per_day = rng.multinomial(n, weights / weights.sum())
    day_of_row = np.repeat(days, per_day)
    hours = rng.choice(24, size=n, p=SUBMIT_HOUR_WEIGHTS / SUBMIT_HOUR_WEIGHTS.sum())
    local = day_of_row.astype("int64") * DAY_US + hours * HOUR_US + rng.integers(0, HOUR_US, size=n)
    local = local // SECOND_US * SECOND_US  # whole seconds, as LAPOR! shows them
    submitted = np.sort(clock.to_utc(local))
    cutoff = int(clock.to_utc(np.array([(np.datetime64(until, "D") + 1).astype("int64") * DAY_US]))[0]) - 1

    # Who, what, where.
    opd_weights = np.array([o.weight for o in DEMO_OPDS])
    opd_idx = rng.choice(len(DEMO_OPDS), size=n, p=opd_weights / opd_weights.sum())
    opd_names = np.array([o.name for o in DEMO_OPDS], dtype=object)
    profiles = [PROFILES[o.profile] for o in DEMO_OPDS]

    def per_opd(attr: str) -> np.ndarray:
        return np.array([getattr(p, attr) for p in profiles])[opd_idx]

    speed = np.array([o.speed for o in DEMO_OPDS])[opd_idx]
    if speed_factor != 1.0:
        speed = speed * speed_factor
    categories = _categories(rng, opd_idx)
    classification = _pick(rng, CLASSIFICATION_MIX, n)
    inspektorat = opd_names[opd_idx] == "Inspektorat Daerah"
    classification[inspektorat & (rng.random(n) < 0.5)] = "pengawasan"
    kecamatan = _pick(rng, kecamatan_mix, n)
    kelurahan = np.full(n, None, dtype=object)
    in_barabai = kecamatan == "Barabai"
    kelurahan[in_barabai] = np.array(BARABAI_KELURAHAN, dtype=object)[
        rng.integers(0, len(BARABAI_KELURAHAN), size=int(in_barabai.sum()))
    ]
    channel = _pick(rng, CHANNEL_MIX, n)

    # Lifecycle: admin verification and disposition, first follow-up, closure.
    verify_days = rng.choice(np.arange(9), size=n, p=[0.42, 0.3, 0.12, 0.07, 0.04, 0.02, 0.015, 0.01, 0.005])
    disposed = clock.next_event(rng, submitted, verify_days)
    # Verified just before disposition (often the same action), always after submission.
    lead = (rng.random(n) * np.minimum(30 * MINUTE_US, (disposed - submitted) // 2)).astype(np.int64)
    verified = (disposed - lead) // SECOND_US * SECOND_US
    response_days = _working_days(rng, per_opd("response_shape"), per_opd("response_scale") * speed)
    responded = clock.next_event(rng, disposed, response_days)
    direct_close = rng.random(n) < per_opd("direct_close")
    class_factor = pd.Series(classification).map(COMPLETION_FACTOR).to_numpy(dtype=float)
    completion_days = _working_days(
        rng, per_opd("completion_shape"), per_opd("completion_scale") * speed * class_factor
    )
    closed = clock.next_event(rng, np.where(direct_close, disposed, responded), completion_days)

    never_verified = rng.random(n) < 0.003  # the admin's own forgotten backlog
    never_response = ~never_verified & (rng.random(n) < per_opd("never_response"))
    never_close = never_response | (rng.random(n) < per_opd("never_close"))

    # A few percent are archived: most by the admin at verification (not an OPD's), the rest
    # by the OPD as outside its authority (Bukan Wewenang), after disposition, unanswered.
    archived = ~never_verified & (rng.random(n) < 0.03)
    by_admin = archived & (rng.random(n) < 0.6)
    archived_at = np.where(by_admin, verified, clock.next_event(rng, disposed, rng.integers(0, 4, size=n)))

    has_disposed = ~never_verified & ~by_admin & (disposed <= cutoff)
    has_verified = ~never_verified & np.where(by_admin, verified <= cutoff, has_disposed)
    has_response = has_disposed & ~archived & ~direct_close & ~never_response & (responded <= cutoff)
    has_closed = has_disposed & ~archived & ~never_close & (closed <= cutoff)
    is_arsip = archived & (archived_at <= cutoff)
    status = np.select(
        [is_arsip, has_closed, has_response, has_disposed],
        ["arsip", "selesai", "proses", "menunggu_tindak_lanjut"],
        default="menunggu_verifikasi",
    ).astype(object)
    closed_final = np.where(is_arsip, archived_at, closed)
    has_closed_final = has_closed | is_arsip

    # Quality: ratings and reopenings on completed complaints, redispositions on disposed ones.
    rated = has_closed & (rng.random(n) < per_opd("rating_share"))
    rating_cdf = np.cumsum(np.array([p.rating_p for p in profiles]), axis=1)[opd_idx]
    rating = (rng.random(n)[:, None] > rating_cdf).sum(axis=1) + 1
    rating = np.where(rated, np.minimum(rating, 5), np.nan)
    reopened = has_closed & (rng.random(n) < per_opd("reopen"))
    reopen_count = np.where(reopened, 1 + (rng.random(n) < 0.2), 0).astype(np.int64)
    redisposed = has_disposed & (rng.random(n) < 0.045)
    redisposition_count = np.where(redisposed, 1 + (rng.random(n) < 0.12), 0).astype(np.int64)

    is_anonymous = rng.random(n) < 0.12
    is_confidential = rng.random(n) < 0.08
    first = np.array(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), size=n)]
    last = np.array(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), size=n)]
    reporter_name = np.where(is_anonymous, None, first + " " + last)

    # Place details and planted recurring problems draw from their own generator, so every other
    # column stays what it was before texts had them.
    text_rng = np.random.default_rng([seed, n, until.toordinal(), 16])
    title, body = _texts(rng, categories, kecamatan, text_rng=text_rng, submitted=submitted, until=until)
    tracking_id = 5_100_000 + np.cumsum(rng.integers(1, 40, size=n))

    def instants(values: np.ndarray, present: np.ndarray) -> pd.Series:
        series = pd.Series(np.where(present, values, 0).astype("datetime64[us]")).dt.tz_localize("UTC")
        return series.where(present)

    frame = pd.DataFrame(
        {
            "tracking_id": tracking_id.astype(str).astype(object),
            "submitted_at": instants(submitted, np.ones(n, dtype=bool)),
            "channel": channel,
            "classification": classification,
            "category": categories,
            # Like LAPOR!'s "Instansi Terdisposisi": empty until the admin disposes the complaint.
            "opd": np.where(has_disposed, opd_names[opd_idx], None),
            "kecamatan": kecamatan,
            "kelurahan": kelurahan,
            "status": status,
            "verified_at": instants(verified, has_verified),
            "disposed_at": instants(disposed, has_disposed),
            "first_response_at": instants(responded, has_response),
            "closed_at": instants(closed_final, has_closed_final),
            "redisposition_count": redisposition_count,
            "reopen_count": reopen_count,
            "rating": rating,
            "is_anonymous": is_anonymous,
            "is_confidential": is_confidential,
            "reporter_name": reporter_name,
            "title": title,
            "body": body,
        }
    )
    return frame


def _categories(rng: np.random.Generator, opd_idx: np.ndarray) -> np.ndarray:
    counts = np.array([len(o.categories) for o in DEMO_OPDS])
    slot = np.floor(rng.random(len(opd_idx)) * counts[opd_idx]).astype(np.int64)
    table = np.array(
        [[o.categories[min(i, len(o.categories) - 1)] for i in range(counts.max())] for o in DEMO_OPDS],
        dtype=object,
    )
    return table[opd_idx, slot]


# Where, in the reporter's words: a kind of place and a name (Banjar villages and streets).
LANDMARK_KINDS = ("dekat", "depan", "di gang", "di jalan", "di ujung", "di belakang", "di simpang")
LANDMARK_NAMES = tuple(
    "Pekauman Kambat Birayang Mahang Tabudarat Hambawang Awang Bukat Murung Pantai Jatuh Benawa "
    "Kayu Bawang Walangku Limpasu Hantakan Haruyan Pandawan Banua Pemangkih Manjang Ilung Tilahan "
    "Datar Ajab Cukan Lipai Tandilang Hinas Alat Patikalain Muara Rasau Aluan Barikin Telaga Mandala "
    "Kapar Mantaas Hulu Gambah Jaranih Lok Besar Sumanggi Wawai Batung Pagat Labunganak Pahalatan".split()
)
LANDMARKS = tuple(f"{kind} {name}" for name in LANDMARK_NAMES for kind in LANDMARK_KINDS)
# What a reporter adds about the case; reports of one recurring problem share theirs.
DETAILS = (
    " dan sudah dua kali disampaikan ke kepala desa", " sehingga anak sekolah terpaksa memutar",
    " dan pengendara motor sering terjatuh", " dan baunya tercium sampai ke permukiman",
    " padahal sudah difoto dan dikirim ke grup kelurahan", " dan lansia kesulitan mengurusnya",
    " sementara petugas hanya datang sekali lalu pergi", " dan pedagang mengeluh omzet turun",
    " dan tetangga juga mengalami hal serupa", " padahal sudah dijanjikan selesai bulan lalu",
    " dan sangat membahayakan saat malam hari", " sehingga kegiatan ibadah terganggu",
    " dan biaya yang dikeluarkan makin besar", " tanpa ada penjelasan resmi",
    " dan sudah viral di media sosial", " sehingga ekonomi keluarga terganggu",
    " dan ketua RT sudah membuat surat", " padahal musim hujan sudah tiba",
    " hingga ternak ikut jadi korban", " sehingga pasien lanjut usia kelelahan",
    " padahal anggaran sudah diumumkan", " dan belum ada papan informasi proyek",
    " sejak ganti kepala seksi", " dan kabarnya akan dibiarkan sampai tahun depan",
    " hingga jamaah langgar mengeluh", " dan pemilik toko sekitar ikut dirugikan",
    " dan air sumur warga ikut tercemar", " padahal bayi dan balita tinggal di situ",
    " sampai pelajar berangkat lebih pagi", " dan ojek tidak mau lewat lagi",
)
# Issues (category, title) that rise in the last RISING_DAYS before `until`, and by how much.
RISING = ((ESDM, "Air PDAM tidak mengalir", 0.6), (LH, "Sampah menumpuk di pasar", 0.5))
RISING_DAYS = 45
RECURRING_PER_COMPLAINTS = 350  # one planted recurring problem per this many complaints
RECURRING_SPAN_US = 21 * DAY_US


def _plant_topics(
    rng: np.random.Generator,
    issue: np.ndarray,
    offsets: np.ndarray,
    counts: np.ndarray,
    category_code: np.ndarray,
    kecamatan: np.ndarray,
    submitted: np.ndarray,
    until: date,
) -> tuple[np.ndarray, np.ndarray]:
    """A detail and a landmark for every body, rising issues and planted recurring problems.

    Returns the issue index of each complaint and the text that goes after the issue's words.
    """
    n = len(issue)
    issue = issue.copy()
    names = list(ISSUES)
    landmarks = np.array([f" {text}" for text in LANDMARKS], dtype=object)
    landmark_idx = rng.integers(0, len(LANDMARKS), size=n)
    details = np.array(DETAILS, dtype=object)
    detail_idx = rng.integers(0, len(DETAILS), size=n)
    end_us = int((np.datetime64(until, "D") + 1).astype("datetime64[us]").astype(np.int64))
    recent = submitted >= end_us - RISING_DAYS * DAY_US - 8 * HOUR_US
    for category, title, share in RISING:
        code = names.index(category)
        target = offsets[code] + [t for t, _ in ISSUES[category]].index(title)
        rows = recent & (category_code == code) & (rng.random(n) < share)
        issue[rows] = target
    planted = n // RECURRING_PER_COMPLAINTS
    if planted:
        anchors = np.sort(rng.choice(n, size=planted, replace=False))
        # `submitted` is sorted, so each anchor's three weeks are one slice.
        ends = np.searchsorted(submitted, submitted[anchors] + RECURRING_SPAN_US, side="right")
        for anchor, end in zip(anchors, ends, strict=True):
            window = slice(anchor, end)
            same = anchor + np.flatnonzero(
                (kecamatan[window] == kecamatan[anchor]) & (category_code[window] == category_code[anchor])
            )
            size = int(rng.integers(3, 9))
            if len(same) < 3:
                continue
            members = same[:size]
            issue[members] = issue[anchor]
            landmark_idx[members] = landmark_idx[anchor]
            detail_idx[members] = detail_idx[anchor]
    return issue, details[detail_idx] + landmarks[landmark_idx]


def _texts(
    rng: np.random.Generator,
    categories: np.ndarray,
    kecamatan: np.ndarray,
    *,
    text_rng: np.random.Generator | None = None,
    submitted: np.ndarray | None = None,
    until: date | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Indonesian titles and bodies from the category's issues, plus a few tricky texts.

    With `text_rng`, each body also says where (a landmark), a few issues rise in the last weeks
    before `until`, and recurring problems are planted: the same issue at the same landmark
    reported three to eight times in one kecamatan within three weeks (the Topik page's groups).
    """
    n = len(categories)
    names = list(ISSUES)
    category_code = pd.Series(categories).map({c: i for i, c in enumerate(names)}).to_numpy(dtype=np.int64)
    counts = np.array([len(ISSUES[c]) for c in names])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    issue_titles = np.array([t for c in names for t, _ in ISSUES[c]], dtype=object)
    issue_texts = np.array([d for c in names for _, d in ISSUES[c]], dtype=object)
    issue = offsets[category_code] + np.floor(rng.random(n) * counts[category_code]).astype(np.int64)
    landmark = np.full(n, "", dtype=object)
    if text_rng is not None and submitted is not None and until is not None:
        issue, landmark = _plant_topics(text_rng, issue, offsets, counts, category_code, kecamatan, submitted, until)

    suffix = np.array(["", "", " di Kecamatan ", " belum ditangani", " mohon perhatian"], dtype=object)
    variant = rng.integers(0, len(suffix), size=n)
    title = issue_titles[issue] + suffix[variant]
    with_place = variant == 2
    title[with_place] = title[with_place] + kecamatan[with_place]

    opening = np.array(OPENINGS, dtype=object)[rng.integers(0, len(OPENINGS), size=n)]
    since = np.array([f" {s}" if s else "" for s in SINCE], dtype=object)[rng.integers(0, len(SINCE), size=n)]
    closing = np.array([f" {c}" if c else "" for c in CLOSINGS], dtype=object)[
        rng.integers(0, len(CLOSINGS), size=n)
    ]
    place = np.where(landmark == "", " di Kecamatan ", ", Kecamatan ").astype(object)
    body = opening + issue_texts[issue] + landmark + place + kecamatan + since + "." + closing

    tricky = min(n, max(len(TRICKY_TITLES), n // 2000))
    if tricky:
        rows = rng.choice(n, size=tricky, replace=False)
        texts = np.array(TRICKY_TITLES, dtype=object)[np.arange(tricky) % len(TRICKY_TITLES)]
        title[rows] = texts
        body[rows[::2]] = "=" + body[rows[::2]]
    return title, body


# --- loading --------------------------------------------------------------------------------------
@dataclass
class DemoResult:
    """What `load_demo` did (a WriteResult with the run and timings)."""

    source_id: int
    run_id: int
    rows: int
    stored: int
    inserted: int
    updated: int
    history_added: int
    until: date
    generate_seconds: float
    store_seconds: float


def seed_opds(store: Any) -> None:
    """The demo OPDs and their usual short spellings in the OPD reference table."""
    for opd in DEMO_OPDS:
        store.add_opd(opd.name, opd.short_name, store.settings.region_code)
    for opd in DEMO_OPDS:
        for alias in opd.aliases:
            store.add_alias(alias, opd.name)


def _split(n: int, weights: list[float]) -> list[int]:
    """n split by weights into whole numbers that add up to n (largest remainder)."""
    total = sum(weights)
    exact = [n * w / total for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    return counts


def generate_regions_frame(
    n: int, seed: int, until: date, regions: list[tuple[str, str]], settings: Settings | None = None
) -> pd.DataFrame:
    """`n` demo complaints spread over `regions` ((code, name) pairs) by their weight.

    Each region gets its own kecamatan, pace, OPD names (`regional_opd_names`) and a block of
    tracking ids, plus `region_code` and `region_name` columns. A code outside Kalimantan
    Selatan gets average weight and pace and no kecamatan.
    """
    settings = settings or load_settings()
    known = {r.code: r for r in KALSEL_REGIONS}
    if len({code for code, _ in regions}) != len(regions) or not regions:
        raise ValueError("regions must be distinct (code, name) pairs, at least one")
    counts = _split(n, [known[c].weight if c in known else 300.0 for c, _ in regions])
    frames = []
    for i, ((code, name), count) in enumerate(zip(regions, counts, strict=True)):
        region = known.get(code)
        frame = generate_frame(
            count, seed + i, until, settings,
            kecamatan_mix=region.kecamatan if region else KECAMATAN,
            speed_factor=region.speed if region else 1.0,
        )
        if region is None:
            frame["kecamatan"] = None
            frame["kelurahan"] = None
        frame["opd"] = frame["opd"].map(regional_opd_names(code, name))
        frame["tracking_id"] = (
            frame["tracking_id"].astype("int64") + (i + 1) * TRACKING_ID_REGION_STEP
        ).astype(str).astype(object)
        frame["region_code"] = code
        frame["region_name"] = name
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def seed_regional_opds(store: Any, regions: list[tuple[str, str]]) -> None:
    """The regions and their demo OPDs (no aliases: "Dinkes" would be ambiguous across regions)."""
    for code, name in regions:
        store.ensure_region(code, name)
        short = {opd.name: opd.short_name for opd in DEMO_OPDS}
        for base, regional in regional_opd_names(code, name).items():
            store.add_opd(regional, f"{short[base]} {_region_label(name)}"[:60], code)


def load_demo(
    store: Any,
    n: int = 20_000,
    seed: int = 42,
    until: date | None = None,
    *,
    batch_size: int = 25_000,
    regions: list[tuple[str, str]] | None = None,
) -> DemoResult:
    """Generate demo complaints and upsert them as the `demo` source in one run.

    Loading the same (n, seed, until) again changes no complaint (upsert on tracking_id).
    `regions` ((code, name) pairs, e.g. `kalsel_regions(5)`) spreads the complaints over several
    kabupaten/kota; without it all belong to the configured region, as before.
    """
    until = until or default_until(store.settings)
    started = time.perf_counter()
    if regions:
        regions = [(str(code), str(name)) for code, name in regions]
        frame = generate_regions_frame(n, seed, until, regions, store.settings)
    else:
        frame = generate_frame(n, seed, until, store.settings)
    generated = time.perf_counter()
    if regions:
        seed_regional_opds(store, regions)
    else:
        seed_opds(store)
    source_id = store.ensure_source(DEMO_SOURCE, "demo", is_demo=True)
    detail = f"demo n={n} seed={seed} until={until.isoformat()}"
    if regions:
        detail += f" regions={','.join(code for code, _ in regions)}"
    run_id = store.start_run(source_id, "demo", detail=detail)
    totals = {"stored": 0, "inserted": 0, "updated": 0, "history_added": 0}
    observed_at = datetime.now(UTC)
    try:
        for start in range(0, len(frame), batch_size):
            written = store.write_complaints(
                source_id, frame.iloc[start : start + batch_size], run_id=run_id, observed_at=observed_at
            )
            for key in totals:
                totals[key] += getattr(written, key)
    except BaseException as exc:
        store.finish_run(
            run_id,
            status="failed",
            rows_read=n,
            rows_stored=totals["stored"],
            rows_quarantined=0,
            error=f"{exc.__class__.__name__}: {exc}",
        )
        raise
    store.finish_run(run_id, status="ok", rows_read=n, rows_stored=totals["stored"], rows_quarantined=0)
    return DemoResult(
        source_id=source_id,
        run_id=run_id,
        rows=n,
        until=until,
        generate_seconds=generated - started,
        store_seconds=time.perf_counter() - generated,
        **totals,
    )


def _first_line(exc: BaseException) -> str:
    # Drivers append multi-line hints and links; the first line says what went wrong.
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else exc.__class__.__name__


def run_demo_cli(args: Any) -> int:
    """`python -m data_sources demo [--complaints N] [--seed S] [--regions N] [--db URL]`,
    or `demo --remove`."""
    from data_sources.store import Store

    if getattr(args, "remove", False):
        return run_demo_remove_cli(args)
    if args.complaints is None or args.complaints < 1:
        print("Error: --complaints must be at least 1 / --complaints minimal 1.", file=sys.stderr)
        return 2
    count = getattr(args, "regions", None) or 1
    if not 1 <= count <= len(KALSEL_REGIONS):
        print(
            f"Error: --regions must be between 1 and {len(KALSEL_REGIONS)} / --regions antara 1 dan "
            f"{len(KALSEL_REGIONS)}.",
            file=sys.stderr,
        )
        return 2
    try:
        settings = load_settings(db_url=args.db)
        store = Store.open(args.db, settings)
    except Exception as exc:  # noqa: BLE001 - any failure to open is reported, not raised
        print(
            f"Error: cannot open the database / basis data tidak dapat dibuka: {_first_line(exc)}",
            file=sys.stderr,
        )
        return 1
    if not store.only_demo_data():
        store.dispose()
        print(
            "Basis data ini sudah berisi data nyata; data contoh tidak dimuat agar tidak tercampur "
            "dengan data nyata.",
            file=sys.stderr,
        )
        return 1
    regions = kalsel_regions(count, settings.region_code) if count > 1 else None
    try:
        result = load_demo(store, n=args.complaints, seed=args.seed, regions=regions)
    except Exception as exc:  # noqa: BLE001
        print(f"Error: demo data not loaded / data demo gagal dimuat: {_first_line(exc)}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    total = result.generate_seconds + result.store_seconds
    print(
        f"Demo data: {result.rows:,} complaints (seed {args.seed}, until {result.until}), "
        f"{result.inserted:,} new, {result.updated:,} updated, in {total:.1f} s "
        f"(generate {result.generate_seconds:.1f} s, store {result.store_seconds:.1f} s)."
    )
    if regions:
        print(f"Regions / wilayah: {', '.join(f'{code} {name}' for code, name in regions)}")
    print(
        f"Data demo: {result.rows:,} laporan (seed {args.seed}, sampai {result.until}), "
        f"{result.inserted:,} baru, {result.updated:,} diperbarui, dalam {total:.1f} detik."
    )
    return 0


# --- demo data never mixed with real data ------------------------------------------------------
def is_demo_source_name(store: Any, name: str) -> bool:
    """True for the demo source's name (any case or padding) or the name of any demo source."""
    from sqlalchemy import func, select

    from data_sources.schema import sources

    key = name.strip().lower()
    if key == DEMO_SOURCE:
        return True
    row = store.execute(
        select(sources.c.id).where(func.lower(sources.c.name) == key, sources.c.is_demo.is_(True))
    ).first()
    return row is not None


def demo_source_refused_message(name: str) -> str:
    return (
        f"Nama sumber '{name.strip()}' dipakai untuk data contoh dan tidak dapat dipakai untuk data "
        "nyata. Pilih nama lain (mis. --source lapor-export) atau biarkan kosong."
    )


def demo_removed_message(count: int) -> str:
    """The line an import, a sync and `demo --remove` print: "Data contoh (20.000 aduan) dihapus ..."."""
    return f"Data contoh ({count:,} aduan) dihapus karena data nyata pertama dimuat.".replace(",", ".")


class DemoRemoval:
    """Removes the demo data inside the transaction of the first real write into the store.

    Pass `hook()` as `write_complaints(in_transaction=...)` and call `committed()` once that write
    returned; `removed` then says how many demo complaints went (0 when there were none).
    """

    def __init__(self, store: Any) -> None:
        self.store = store
        self.removed = 0
        self.done = not store.has_demo_data()
        self._ran = False
        self._counted = 0

    def hook(self) -> Any:
        return None if self.done else self._remove

    def _remove(self, conn: Any) -> None:
        self._counted = self.store.remove_demo_data(conn)
        self._ran = True

    def committed(self) -> None:
        if self._ran and not self.done:
            self.removed = self._counted
            self.done = True

    @property
    def message(self) -> str | None:
        return demo_removed_message(self.removed) if self.removed else None


def run_demo_remove_cli(args: Any) -> int:
    """`python -m data_sources demo --remove [--db URL]`: take every demo complaint out again."""
    from data_sources.store import Store

    try:
        store = Store.open(args.db, load_settings(db_url=args.db))
    except Exception as exc:  # noqa: BLE001 - any failure to open is reported, not raised
        print(f"Basis data tidak dapat dibuka: {_first_line(exc)}", file=sys.stderr)
        return 1
    try:
        removed = store.remove_demo_data()
    except Exception as exc:  # noqa: BLE001
        print(f"Data contoh gagal dihapus: {_first_line(exc)}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    if removed:
        print(f"Data contoh ({removed:,} aduan) dihapus.".replace(",", "."))
    else:
        print("Tidak ada data contoh di basis data ini.")
    return 0
