"""Topics benchmark: terms and recurring problems over a year of complaints, cold and from the cache.

    python benchmarks/bench_topics.py --db sqlite:////tmp/topics1m.db   # a store made with
        python -m data_sources demo --complaints 1000000 --db sqlite:////tmp/topics1m.db
    python benchmarks/bench_topics.py --small                           # CI: 20,000 demo complaints

Prints, for the twelve months ending on the newest submission: the cold run in a fresh process
(wall seconds and peak memory of terms + recurring problems, loading included), the cached run
(the same calls again), and the pairing's precision and recall on the labelled synthetic corpus
(planted recurring problems among noise) at the calibrated threshold and around it. Budgets
(cold <= 10 s and 1 GB, cached <= 1 s) are reported as met or not; they fail the run only with
--enforce.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COLD_SECONDS = 10.0
COLD_MB = 1024.0
CACHED_SECONDS = 1.0

# --- the labelled synthetic corpus ---------------------------------------------------------------
# A problem is a subject (with its OPD) and a defect; each defect has two wordings. Reports of one
# recurring problem mostly share a wording (a message passed on), add their own detail and
# greeting; other reports are other problems, or the same problem in another kecamatan or month.
SUBJECTS = (
    ("jalan desa", "Dinas PUPR"), ("jembatan kayu", "Dinas PUPR"), ("saluran drainase", "Dinas PUPR"),
    ("tanggul sungai", "Dinas PUPR"), ("gorong gorong", "Dinas PUPR"), ("tempat sampah", "DLH"),
    ("bak sampah", "DLH"), ("taman kota", "DLH"), ("pipa ledeng", "PDAM"), ("meteran air", "PDAM"),
    ("lampu lalu lintas", "Dishub"), ("halte angkutan", "Dishub"), ("terminal bus", "Dishub"),
    ("lampu penerangan", "Disperkim"), ("rumah susun", "Disperkim"), ("puskesmas pembantu", "Dinkes"),
    ("ambulans desa", "Dinkes"), ("posyandu balita", "Dinkes"), ("blanko ktp", "Disdukcapil"),
    ("akta kelahiran", "Disdukcapil"), ("kartu keluarga", "Disdukcapil"), ("bantuan sembako", "Dinsos"),
    ("panti asuhan", "Dinsos"), ("trotoar pasar", "Satpol PP"), ("tempat hiburan", "Satpol PP"),
    ("gedung sekolah", "Disdik"), ("perpustakaan sekolah", "Disdik"), ("pupuk subsidi", "Distan"),
    ("irigasi sawah", "Distan"), ("kios pasar", "Diskopdag"), ("timbangan pasar", "Diskopdag"),
    ("lapangan olahraga", "Dispora"), ("menara sinyal", "Diskominfo"), ("wifi taman", "Diskominfo"),
)
DEFECTS = (
    ("rusak parah", "hancur tidak terurus"), ("tidak berfungsi", "mati total"),
    ("kotor bau menyengat", "jorok berbau busuk"), ("terbengkalai lama", "dibiarkan mangkrak"),
    ("tergenang banjir", "terendam air"), ("retak membahayakan", "nyaris ambruk"),
    ("dipungut biaya liar", "ditarik pungutan tanpa karcis"), ("pelayanan lambat", "antre berjam jam"),
    ("sering tutup", "jarang buka"), ("bocor", "rembes air"), ("langka", "susah didapat"),
    ("dicuri orang", "hilang dicuri"),
)
CONFIDENTIAL_PROBLEM = ("Inspektorat", "oknum pegawai loket", ("meminta uang pelicin", "memeras pemohon izin"))
RISING = 5  # the subject that rises (tempat sampah) ...
FALLING = 18  # ... and the one that falls (blanko ktp)
PLACE_FIRST = ("Jalan", "Gang", "Komplek", "Desa", "Dusun")
PLACE_NAMES = tuple(
    "Anggrek Cempaka Dahlia Flamboyan Kamboja Kenari Lestari Makmur Sejahtera Damai Harapan Pahlawan "
    "Merdeka Pemuda Veteran Sudirman Gatot Diponegoro Kartini Cendana Beringin Nangka Rambutan Durian "
    "Manggis Belimbing Jeruk Kelapa Pinang Sawit Karet Padi Jagung Kedelai Sentosa Bahagia Murni Indah "
    "Baru Lama".split()
)
KECAMATAN = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot")
OPENINGS = ("Mohon ditindaklanjuti", "Tolong Bapak Ibu", "Assalamualaikum, saya ingin melaporkan",
            "Yth admin LAPOR", "Mohon perhatiannya", "Saya mau mengadukan")
DETAILS = ("sudah tiga minggu", "sejak kemarin sore", "warga resah", "anak anak takut lewat",
           "sudah sering dilaporkan", "motor sering jatuh", "membahayakan pengguna jalan",
           "tidak ada tindakan", "ibu ibu mengeluh", "sudah viral", "pedagang rugi")
CLOSINGS = ("Terima kasih.", "Mohon segera ditangani.", "Atas perhatiannya terima kasih.", "")
REPORTERS = ("Siti Rahmawati", "Budi Santoso", "Akhmad Fauzan", "Noorhayati Lestiani", "Gusti Jumberi")
LEAKY_EMAIL = "warga.peduli@gmail.com"
LEAKY_PHONE = "0812-5566-7788"


def labelled_corpus(seed: int = 7, noise: int = 1500, groups: int = 40, until: date = date(2026, 6, 30)):  # noqa: ANN201
    """Canonical complaint rows and, per row, its planted group (-1 for noise).

    Covers two periods of 90 days ending on `until`: planted recurring problems (3-7 reports of
    one problem at one place in one kecamatan within 25 days) in the later period, noise
    everywhere, one rising and one falling problem, a confidential-only problem, reporters who
    write their name, e-mail address and phone number in the text.
    """
    rng = np.random.default_rng(seed)
    start = until - timedelta(days=179)
    current_start = until - timedelta(days=89)
    rows: list[dict] = []
    labels: list[int] = []

    def text(subject: str, defect: tuple[str, str], place: str, kecamatan: str, reporter: str | None,
             wording: int | None) -> tuple[str, str]:
        if wording is None:
            wording = int(rng.integers(2))
        elif wording < 0:  # a paraphrase: the other wording of the defect
            wording = 1 + wording
        phrase = f"{subject} {defect[wording]}"
        opening = OPENINGS[int(rng.integers(len(OPENINGS)))]
        detail = DETAILS[int(rng.integers(len(DETAILS)))]
        closing = CLOSINGS[int(rng.integers(len(CLOSINGS)))]
        extra = ""
        if reporter is not None and rng.random() < 0.3:
            extra = f" Nama saya {reporter}, hubungi {LEAKY_PHONE} atau {LEAKY_EMAIL}."
        if rng.random() < 0.2:
            extra += f" Sudah {int(rng.integers(2, 30))} hari, laporan ke-{int(rng.integers(2, 9))}."
        title = phrase.capitalize() if rng.random() < 0.6 else f"{subject.capitalize()} di {place}"
        body = f"{opening}, {phrase} di {place} Kecamatan {kecamatan}, {detail}.{extra} {closing}".strip()
        return title, body

    def add(problem: tuple[int, int], place: str, kecamatan: str, day: date, label: int, *,
            confidential: bool = False, wording: int | None = None) -> None:
        if confidential:
            opd, subject, defect = CONFIDENTIAL_PROBLEM
        else:
            (subject, opd), defect = SUBJECTS[problem[0]], DEFECTS[problem[1]]
        reporter = REPORTERS[int(rng.integers(len(REPORTERS)))] if rng.random() < 0.8 else None
        title, body = text(subject, defect, place, kecamatan, reporter, wording)
        submitted = datetime(day.year, day.month, day.day, 8, tzinfo=UTC) + timedelta(minutes=int(rng.integers(0, 600)))
        closed = submitted + timedelta(days=3) if rng.random() < 0.5 else None
        rows.append({
            "tracking_id": str(9_000_000 + len(rows)), "submitted_at": submitted.isoformat(),
            "status": "selesai" if closed else "proses", "opd": opd, "kecamatan": kecamatan,
            "category": "Topik Lainnya", "channel": "website", "classification": "pengaduan",
            "disposed_at": (submitted + timedelta(hours=2)).isoformat(),
            "first_response_at": (submitted + timedelta(days=1)).isoformat(),
            "closed_at": closed.isoformat() if closed else "",
            "is_confidential": "true" if confidential else "false",
            "reporter_name": reporter or "", "title": title, "body": body,
        })
        labels.append(label)

    def place() -> str:
        return f"{PLACE_FIRST[int(rng.integers(len(PLACE_FIRST)))]} {PLACE_NAMES[int(rng.integers(len(PLACE_NAMES)))]}"

    def kecamatan() -> str:
        return KECAMATAN[int(rng.integers(len(KECAMATAN)))]

    for _ in range(noise):
        day = start + timedelta(days=int(rng.integers(0, 180)))
        weights = np.ones(len(SUBJECTS))
        if day >= current_start:
            weights[RISING], weights[FALLING] = 5.0, 0.2
        subject = int(rng.choice(len(SUBJECTS), p=weights / weights.sum()))
        add((subject, int(rng.integers(len(DEFECTS)))), place(), kecamatan(), day, -1)
    for _ in range(12):  # a confidential-only problem: seen by analysts, never by anyone else
        add((0, 0), place(), kecamatan(), current_start + timedelta(days=int(rng.integers(0, 90))), -1,
            confidential=True)
    used: set[tuple[int, int, str]] = set()
    for group in range(groups):
        while True:
            key = (int(rng.integers(len(SUBJECTS))), int(rng.integers(len(DEFECTS))), kecamatan())
            if key not in used:
                used.add(key)
                break
        first = current_start + timedelta(days=int(rng.integers(0, 60)))
        where, wording = place(), int(rng.integers(2))
        for member in range(int(rng.integers(3, 8))):
            # The first three share the wording; later ones reword it one time in three.
            own = wording if member < 3 or rng.random() >= 1 / 3 else wording - 1 if wording else -1
            add(key[:2], where, key[2], first + timedelta(days=int(rng.integers(0, 25))), group, wording=own)
    frame = pd.DataFrame(rows)
    return frame, np.array(labels), current_start, until


def true_pairs(frame: pd.DataFrame, labels: np.ndarray) -> set[tuple[str, str]]:
    """Pairs of Tracking IDs planted in one group."""
    pairs = set()
    ids = frame["tracking_id"].to_numpy()
    for label in np.unique(labels[labels >= 0]):
        members = sorted(ids[labels == label])
        pairs.update((a, b) for i, a in enumerate(members) for b in members[i + 1:])
    return pairs


def found_pairs(groups: pd.DataFrame) -> set[tuple[str, str]]:
    """Pairs of Tracking IDs that recurring_problems put in one group."""
    pairs = set()
    for ids in groups["tracking_ids"]:
        members = sorted(ids.split("; "))
        pairs.update((a, b) for i, a in enumerate(members) for b in members[i + 1:])
    return pairs


def precision_recall(found: set, truth: set) -> tuple[float, float]:
    hit = len(found & truth)
    return (hit / len(found) if found else 1.0), (hit / len(truth) if truth else 1.0)


def load_labelled(store, frame: pd.DataFrame) -> None:  # noqa: ANN001
    from data_sources.importer import import_file

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "labelled.csv"
        frame.to_csv(path, index=False)
        import_file(store, path, fmt="canonical", source="uji_topik", background=False)


def calibrate(thresholds: tuple[float, ...]) -> list[dict]:
    """Pair precision and recall of recurring_problems on the labelled corpus per threshold."""
    from core.settings import load_settings
    from data_sources.store import Store
    from metrics import topics
    from metrics.filters import Filters

    frame, labels, current_start, until = labelled_corpus()
    truth = true_pairs(frame, labels)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/labelled.db"
        store = Store.open(url, load_settings(db_url=url))
        load_labelled(store, frame)
        filters = Filters(date_from=current_start, date_to=until,
                          as_of=datetime(until.year, until.month, until.day, 23, tzinfo=UTC))
        saved = topics.SIMILARITY_THRESHOLD
        try:
            for threshold in thresholds:
                topics.SIMILARITY_THRESHOLD = threshold
                topics.clear_cache()
                groups = topics.recurring_problems(store, filters, viewer_may_read_confidential=True)
                precision, recall = precision_recall(found_pairs(groups), truth)
                planted = {frozenset(frame["tracking_id"][labels == g]) for g in np.unique(labels[labels >= 0])}
                found_sets = [set(ids.split("; ")) for ids in groups["tracking_ids"]]
                whole = sum(any(p <= f for f in found_sets) for p in planted)
                found = sum(any(len(p & f) >= 3 for f in found_sets) for p in planted)
                results.append({"threshold": threshold, "precision": round(precision, 3),
                                "recall": round(recall, 3), "groups": len(groups),
                                "planted_groups_found": f"{found}/{len(planted)}",
                                "planted_groups_found_whole": f"{whole}/{len(planted)}"})
        finally:
            topics.SIMILARITY_THRESHOLD = saved
            topics.clear_cache()
            store.dispose()
    return results


# --- timing ---------------------------------------------------------------------------------------
def _period(store) -> tuple[date, date]:  # noqa: ANN001
    from sqlalchemy import func, select

    from data_sources.schema import complaints

    newest = store.execute(select(func.max(complaints.c.submitted_date))).scalar()
    newest = date.fromisoformat(str(newest)[:10])
    return newest - timedelta(days=364), newest


def measure(url: str) -> dict:
    """Terms and recurring problems for twelve months, cold (this process) and cached."""
    from core.settings import load_settings
    from data_sources.store import Store
    from metrics import topics
    from metrics.filters import Filters

    store = Store.open(url, load_settings(db_url=url))
    date_from, date_to = _period(store)
    filters = Filters(date_from=date_from, date_to=date_to,
                      as_of=datetime(date_to.year, date_to.month, date_to.day, 23, 59, tzinfo=UTC))
    cpu_started = time.process_time()
    started = time.perf_counter()
    terms = topics.topic_terms(store, filters)
    terms_s = time.perf_counter() - started
    groups = topics.recurring_problems(store, filters)
    cold_s = time.perf_counter() - started
    cold_cpu_s = time.process_time() - cpu_started  # what an idle machine would take, about
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    topics.topic_terms(store, filters)
    topics.recurring_problems(store, filters)
    cached_s = time.perf_counter() - started
    corpus = topics.load_corpus(store, *topics._window(filters))
    disk_copy = topics._disk_path(store, topics._corpus_key(store, *topics._window(filters))).is_dir()
    store.dispose()
    return {
        "period": f"{date_from}..{date_to}", "complaints_read": len(corpus),
        "terms": len(terms), "groups": len(groups), "terms_cold_s": round(terms_s, 2),
        "cold_s": round(cold_s, 2), "cold_cpu_s": round(cold_cpu_s, 2), "cold_peak_mb": round(peak_mb, 1), "cached_s": round(cached_s, 3),
        "top_terms": terms["term"].head(8).tolist(), "disk_copy_present": disk_copy,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL of a filled store (e.g. the 1,000,000 demo)")
    parser.add_argument("--small", action="store_true", help="20,000 demo complaints in a scratch store")
    parser.add_argument("--enforce", action="store_true", help="fail when a budget is not met")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help="write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.measure_only:
        print(json.dumps(measure(args.db)))
        return 0
    scratch = None
    url = args.db
    if args.small or not url:
        from core.settings import load_settings
        from data_sources.demo import load_demo
        from data_sources.store import Store

        scratch = tempfile.TemporaryDirectory()
        url = f"sqlite:///{scratch.name}/demo.db"
        store = Store.open(url, load_settings(db_url=url))
        load_demo(store, n=20_000, seed=42)
        store.dispose()
    # Cold: a fresh process, so nothing is cached and the peak memory is this work's alone.
    done = subprocess.run(
        [sys.executable, __file__, "--measure-only", "--db", url], capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 1
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["calibration"] = calibrate((0.7, 0.75, 0.8, 0.85, 0.9))
    from metrics.topics import SIMILARITY_THRESHOLD

    figures["threshold"] = SIMILARITY_THRESHOLD
    budgets = {
        "cold_s": figures["cold_s"] <= COLD_SECONDS,
        "cold_peak_mb": figures["cold_peak_mb"] <= COLD_MB,
        "cached_s": figures["cached_s"] <= CACHED_SECONDS,
    }
    figures["budgets_met"] = budgets
    print(f"period {figures['period']}: {figures['complaints_read']:,} complaints read (two periods)")
    print(f"cold (fresh process): terms {figures['terms_cold_s']} s, terms + recurring {figures['cold_s']} s, "
          f"peak {figures['cold_peak_mb']} MB, CPU {figures['cold_cpu_s']} s  "
          f"[budget {COLD_SECONDS} s, {COLD_MB:.0f} MB]")
    print(f"cached: {figures['cached_s']} s  [budget {CACHED_SECONDS} s]")
    print(f"{figures['terms']} terms, {figures['groups']} recurring groups; top: {', '.join(figures['top_terms'])}")
    print(f"pairing on the labelled corpus (threshold in use {SIMILARITY_THRESHOLD}):")
    for row in figures["calibration"]:
        print(f"  threshold {row['threshold']}: precision {row['precision']}, recall {row['recall']}, "
              f"{row['groups']} groups, planted groups found {row['planted_groups_found']} "
              f"(whole {row['planted_groups_found_whole']})")
    print("budgets: " + ", ".join(f"{k} {'met' if ok else 'NOT met'}" for k, ok in budgets.items()))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2))
    if scratch is not None:
        scratch.cleanup()
    if args.enforce and not all(budgets.values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
