"""What citizens complain about (DATA.md): the period's terms, rising and falling, and recurring problems.

Offline and in Indonesian. Titles and bodies are tokenised into words of letters only (so a
number, a phone number or a Tracking ID can never be a term), e-mail addresses and links are cut
out first, common spelling variants and abbreviations (`tdk`, `jln`, `gak`) are folded into one
form, and stop words (the stopwords-iso list, MIT) plus the domain's filler words (`mohon`,
`tolong`, `ditindaklanjuti`...) never count. Two-word phrases are two words next to each other (a
stop word between breaks a phrase); `tests/test_topics.py` checks that the
document-term matrix equals CountVectorizer's on the same corpus. The matrix is built here with
one regular-expression pass and `pandas.factorize` per chunk of 100,000 texts instead of
CountVectorizer itself, which took 6 s per 100,000 complaints (a minute for the million of the
benchmark); scikit-learn's TfidfTransformer weighs the terms for the near-duplicate search.

No stemming: the one maintained Indonesian stemmer (Sastrawi, MIT) depends on its Kateglo
dictionary of root words, licensed CC-BY-NC-SA 3.0, which a government tool cannot ship.

What may be shown: only complaints the viewer may read count (confidential ones only with
`viewer_may_read_confidential`, i.e. the analyst role); a term is shown only when at least
MIN_TERM_COMPLAINTS complaints contain it; reporters' names and place names never become terms.

Recurring problems: complaints in the same kecamatan submitted within 30 days of each other
whose TF-IDF cosine similarity (words) is at least SIMILARITY_THRESHOLD, found by a two-pass
sorted-neighbourhood search (sorted by kecamatan, by each complaint's most specific word, then
by time; each complaint compared with its NEIGHBOURS next ones), joined into connected groups,
split where a group would span more than 30 days, kept from three complaints on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sqlalchemy import BigInteger, select, type_coerce

from core.settings import PROJECT_ROOT
from data_sources.schema import complaints
from metrics.filters import Filters

TERM_COLUMNS = ["term", "complaints", "previous_complaints", "opds", "kecamatan"]
RECURRING_COLUMNS = [
    "group", "label", "complaints", "kecamatan", "opd", "first_submitted", "last_submitted",
    "tracking_ids", "open",
]
MIN_TERM_COMPLAINTS = 5  # DATA.md "What may be shown"
MIN_GROUP_COMPLAINTS = 3
WINDOW_DAYS = 30
# Calibrated on the labelled synthetic corpus of benchmarks/bench_topics.py (40 planted groups of
# 3-7 reports, a third of the reports after the third reworded, among 1,500 other complaints; the
# benchmark prints the table). Pair precision / recall: 0.83 / 0.91 at 0.5, 0.95 / 0.91 at 0.6,
# 0.98 / 0.83 at 0.7, 1.0 / 0.81 at 0.75, 1.0 / 0.77 at 0.78 (one planted group missed). 0.75 is
# the highest that finds every planted group; below 0.7 the demo's templated texts (one sentence
# per issue) run together across places.
SIMILARITY_THRESHOLD = 0.75
NEIGHBOURS = 3
MAX_DOCUMENT_SHARE = 0.5  # a term in more than half of the complaints distinguishes nothing
SUBSUMED_SHARE = 0.8  # a word dropped when one phrase holding it covers 80% of its complaints
PLACES_SHOWN = 3
CHUNK = 25_000  # texts tokenised at a time: their tokens are Python strings, ~60 bytes each
CACHE_ENTRIES = 4

# The domain's filler words: greetings, courtesy, the reporting act itself, time words and
# addressing. The stopwords-iso list covers the general ones (yang, dan, sudah, bapak...).
FILLER_WORDS = frozenset("""
mohon tolong ditindaklanjuti tindak lanjut tindaklanjuti ditindak segera ditangani tangani penanganan
diperhatikan perhatian perhatiannya terima kasih trims makasih thanks assalamualaikum wassalamualaikum
salam hormat yth kepada bapak ibu pak bu bpk sdr saudara admin lapor laporan melaporkan melapor
lapornya laporkan dilaporkan menyampaikan sampaikan disampaikan keluhan mengeluhkan aduan pengaduan
mengadukan adukan ingin mau minta meminta harap berharap diharapkan sangat warga masyarakat kami saya
kita mereka beliau kecamatan kelurahan desa kabupaten kota rt rw sejak kemarin seminggu sebulan
setahun minggu bulan tahun hari lalu awal lebih berkali kali terjadi diucapkan atas nya dong deh
kok sih ya iya pun tsb tersebut mhn tlg dgn utk yg perbaikan diperbaiki kunjung
dekat depan belakang samping sebelah ujung simpang gang lorong kampung sekitar lokasi tempat wilayah
daerah area nama hubungi telepon telp hp wa whatsapp email nomor kontak komplek dusun perumahan
""".split())

# Common spelling variants and abbreviations of complaint texts, folded into one form.
SPELLING_VARIANTS = {
    "tdk": "tidak", "gak": "tidak", "ga": "tidak", "nggak": "tidak", "enggak": "tidak",
    "jln": "jalan", "jl": "jalan", "blm": "belum", "sdh": "sudah", "udah": "sudah", "krn": "karena",
    "sampah2": "sampah", "skrg": "sekarang", "trs": "terus", "bgt": "sekali", "jembtan": "jembatan",
    "ektp": "ktp", "puskes": "puskesmas",
    "lampu2": "lampu", "dll": "", "dsb": "", "dst": "",
}

_TOKEN = re.compile(r"\w+|\x1e")  # runs of letters and digits; only letters-only ones become words
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_SEPARATOR = "\x1e"
_NEVER = np.iinfo(np.int64).max
C = complaints.c


def stop_words() -> frozenset[str]:
    """The general Indonesian stop words (stopwords-iso) and the domain's filler words."""
    import stopwordsiso

    return frozenset(stopwordsiso.stopwords("id")) | FILLER_WORDS


@dataclass
class Corpus:
    """The complaints submitted in one window, their slice codes and their word/phrase matrix."""

    tracking_id: np.ndarray  # str
    submitted_at: np.ndarray  # int64 UTC microseconds
    local_day: np.ndarray  # int32 days since 1970-01-01, local date of submission
    closed_at: np.ndarray  # int64 microseconds, _NEVER when not closed
    confidential: np.ndarray  # bool
    codes: dict[str, np.ndarray]  # opd/kecamatan/category/channel/region_code -> int32 (-1 = none)
    labels: dict[str, np.ndarray]  # the same -> object array of labels
    words: sp.csr_matrix  # complaints x word vocabulary, 1 where the complaint contains it
    phrases: sp.csr_matrix  # complaints x phrase vocabulary
    vocabulary: np.ndarray  # object: word strings
    phrase_parts: np.ndarray  # (phrases, 2) int32 word ids
    hidden_words: np.ndarray  # bool per word: a reporter's name or a place name, never a term

    def __len__(self) -> int:
        return len(self.tracking_id)


_corpora: OrderedDict[tuple, Corpus] = OrderedDict()
_results: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
_lock = threading.Lock()


def _remember(cache: OrderedDict, key: tuple, value: Any, entries: int) -> None:
    with _lock:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > entries:
            cache.popitem(last=False)


def _recall(cache: OrderedDict, key: tuple) -> Any:
    with _lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    return None


def clear_cache() -> None:
    with _lock:
        _corpora.clear()
        _results.clear()


# --- tokenising -------------------------------------------------------------------------------
class _Vocabulary:
    """Word strings to ids across chunks; variants folded, stop words flagged."""

    def __init__(self, stops: frozenset[str]) -> None:
        self.index: dict[str, int] = {}
        self.words: list[str] = []
        self.stops = stops
        self.is_stop: list[bool] = []

    def ids(self, uniques: np.ndarray) -> np.ndarray:
        out = np.empty(len(uniques), dtype=np.int32)
        for i, raw in enumerate(uniques):
            if raw == _SEPARATOR:
                out[i] = -2
                continue
            word = SPELLING_VARIANTS.get(raw, raw)
            if len(word) < 2 or not word.isalpha() or word in self.stops:
                out[i] = -1
                continue
            found = self.index.get(word)
            if found is None:
                found = self.index[word] = len(self.words)
                self.words.append(word)
            out[i] = found
        return out


def tokenise(texts: list[str], vocabulary: _Vocabulary) -> tuple[np.ndarray, np.ndarray]:
    """(document index, word id) of every word of `texts` in reading order; -1 for a stop word."""
    if not texts:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    # The address patterns are slow over a whole chunk; only the few texts with one need them.
    texts = [_URL.sub(" ", _EMAIL.sub(" ", t)) if ("@" in t or "http" in t or "www." in t) else t for t in texts]
    joined = (_SEPARATOR + " ").join(texts).lower()
    tokens = _TOKEN.findall(joined)
    codes, uniques = pd.factorize(np.array(tokens, dtype=object))
    ids = vocabulary.ids(uniques)[codes]
    del tokens, codes
    document = np.cumsum(ids == -2, dtype=np.int64).astype(np.int32)
    keep = ids != -2
    return document[keep], ids[keep]


def _presence(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    matrix = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=shape)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


_PAIR_BASE = 1 << 24  # word ids stay below this


class _MatrixBuilder:
    """Word and phrase presence rows, chunk by chunk, so only one chunk's tokens live at a time."""

    def __init__(self, stops: frozenset[str]) -> None:
        self.vocabulary = _Vocabulary(stops)
        self.phrase_index: dict[int, int] = {}
        self.phrase_codes: list[int] = []
        self.rows = 0
        self.word_parts: list[tuple[np.ndarray, np.ndarray]] = []
        self.phrase_parts: list[tuple[np.ndarray, np.ndarray]] = []

    def add(self, texts: list[str]) -> None:
        n = len(texts)
        document, ids = tokenise(texts, self.vocabulary)
        kept = ids >= 0
        words = _presence(document[kept], ids[kept], (n, max(len(self.vocabulary.words), 1)))
        # A phrase is two words next to each other in the text: a stop word between breaks it,
        # so "air tidak mengalir" makes no phrase "air mengalir".
        adjacent = np.flatnonzero((document[1:] == document[:-1]) & kept[1:] & kept[:-1])
        codes = ids[adjacent].astype(np.int64) * _PAIR_BASE + ids[adjacent + 1]
        local, uniques = pd.factorize(codes)
        index = self.phrase_index
        mapping = np.empty(len(uniques), np.int32)
        for i, code in enumerate(uniques.tolist()):
            found = index.get(code)
            if found is None:
                found = index[code] = len(self.phrase_codes)
                self.phrase_codes.append(code)
            mapping[i] = found
        phrases = _presence(document[adjacent], mapping[local], (n, max(len(self.phrase_codes), 1)))
        del document, ids, codes, local
        self.word_parts.append((words.indptr, words.indices))
        self.phrase_parts.append((phrases.indptr, phrases.indices))
        self.rows += n

    @staticmethod
    def _stack(parts: list[tuple[np.ndarray, np.ndarray]], rows: int, columns: int) -> sp.csr_matrix:
        if not parts:
            return sp.csr_matrix((rows, columns), dtype=np.float32)
        offsets = np.cumsum([0] + [int(p[0][-1]) for p in parts])
        indptr = np.concatenate([parts[0][0][:1]] + [p[0][1:] + o for p, o in zip(parts, offsets, strict=False)])
        indices = np.concatenate([p[1] for p in parts]).astype(np.int32)
        data = np.ones(len(indices), np.float32)
        return sp.csr_matrix((data, indices, indptr.astype(np.int64)), shape=(rows, columns))

    def build(self) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray, np.ndarray]:
        words = self._stack(self.word_parts, self.rows, len(self.vocabulary.words))
        phrases = self._stack(self.phrase_parts, self.rows, len(self.phrase_codes))
        codes = np.array(self.phrase_codes, dtype=np.int64)
        parts = np.stack([codes // _PAIR_BASE, codes % _PAIR_BASE], axis=1).astype(np.int32)
        self.word_parts, self.phrase_parts = [], []
        return words, phrases, np.array(self.vocabulary.words, dtype=object), parts.reshape(-1, 2)


def document_matrices(
    texts: list[str], stops: frozenset[str] | None = None
) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray, np.ndarray]:
    """Word and phrase presence matrices of `texts`, the words and each phrase's two word ids."""
    builder = _MatrixBuilder(stop_words() if stops is None else stops)
    for start in range(0, len(texts), CHUNK):
        builder.add(texts[start:start + CHUNK])
    return builder.build()


# --- the corpus of a window ---------------------------------------------------------------------
LABEL_COLUMNS = ("opd", "kecamatan", "category", "channel", "region_code")


def _local_days(store: Any, micros: np.ndarray) -> np.ndarray:
    zone = ZoneInfo(store.settings.kpi.timezone)
    instants = pd.to_datetime(micros, unit="us", utc=True).tz_convert(zone)
    return (instants.tz_localize(None).normalize().values.astype("datetime64[D]").astype(np.int64)).astype(np.int32)


DISK_CACHE_MIN_ROWS = 50_000  # below this, reading the texts again is quick enough
FORMAT_VERSION = "1"
_ARRAYS = ("tracking_id", "submitted_at", "local_day", "closed_at", "confidential", "hidden_words", "phrase_parts")


def _word_lists_fingerprint() -> str:
    """Changes when the stop words, filler words or spelling variants change (the copy then too)."""
    text = "|".join(sorted(stop_words())) + "|" + repr(sorted(SPELLING_VARIANTS.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _disk_path(store: Any, key: tuple) -> Path:
    """Beside the SQLite file (as metrics.columnar keeps its copy), else under data/cache."""
    url = store.settings.db_url
    if url.startswith("sqlite") and "///" in url:
        folder = Path(url.split("///", 1)[1]).resolve().parent / "cache"
    else:
        folder = PROJECT_ROOT / "data" / "cache"
    url_hash = hashlib.sha256(url.encode()).hexdigest()[:12]
    key_hash = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
    return folder / f"topics-{url_hash}-{key_hash}"


def _save(corpus: Corpus, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=".tmp-topics-"))
    try:
        for name in _ARRAYS:
            np.save(tmp / f"{name}.npy", getattr(corpus, name), allow_pickle=False)
        for name in ("words", "phrases"):
            matrix = getattr(corpus, name)
            np.save(tmp / f"{name}_indptr.npy", matrix.indptr, allow_pickle=False)
            np.save(tmp / f"{name}_indices.npy", matrix.indices, allow_pickle=False)
        for name, codes in corpus.codes.items():
            np.save(tmp / f"code_{name}.npy", codes, allow_pickle=False)
        (tmp / "labels.json").write_text(json.dumps({
            "vocabulary": [str(w) for w in corpus.vocabulary],
            "labels": {k: [str(v) for v in arr] for k, arr in corpus.labels.items()},
            "shape": [corpus.words.shape[0], corpus.words.shape[1], corpus.phrases.shape[1]],
        }))
        os.replace(tmp, path)  # atomic: a reader sees the whole folder or none
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return
    prefix = path.name.rsplit("-", 1)[0]
    for old in path.parent.glob(f"{prefix}-*"):
        if old != path and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def _read(path: Path) -> Corpus:
    meta = json.loads((path / "labels.json").read_text())
    rows, n_words, n_phrases = meta["shape"]
    arrays = {name: np.load(path / f"{name}.npy", allow_pickle=False) for name in _ARRAYS}

    def matrix(name: str, columns: int) -> sp.csr_matrix:
        indptr = np.load(path / f"{name}_indptr.npy", allow_pickle=False)
        indices = np.load(path / f"{name}_indices.npy", allow_pickle=False)
        return sp.csr_matrix((np.ones(len(indices), np.float32), indices, indptr), shape=(rows, columns))

    return Corpus(
        codes={name: np.load(path / f"code_{name}.npy", allow_pickle=False) for name in LABEL_COLUMNS},
        labels={name: np.array(values, dtype=object) for name, values in meta["labels"].items()},
        words=matrix("words", n_words), phrases=matrix("phrases", n_phrases),
        vocabulary=np.array(meta["vocabulary"], dtype=object), **arrays,
    )


def _corpus_key(store: Any, date_from: date, date_to: date) -> tuple:
    return (store.settings.db_url, store.data_version(), store.settings.kpi.timezone, date_from, date_to,
            FORMAT_VERSION, _word_lists_fingerprint())


def load_corpus(store: Any, date_from: date, date_to: date) -> Corpus:
    """Every complaint submitted in [date_from, date_to] (local dates), cached per data version.

    In memory for the process and, from DISK_CACHE_MIN_ROWS complaints on, in a folder of .npy
    files beside the database (as metrics.columnar keeps its copy), so a new process (the
    command, a restarted app) does not read and tokenise the texts again. The key holds the
    store's data_version, which every write bumps: a stale copy is never used.
    """
    key = _corpus_key(store, date_from, date_to)
    cached = _recall(_corpora, key)
    if cached is not None:
        return cached
    path = _disk_path(store, key)
    if path.is_dir():
        try:
            corpus = _read(path)
        except (OSError, ValueError, KeyError):
            corpus = None  # a damaged copy is rebuilt, never trusted
        if corpus is not None:
            _remember(_corpora, key, corpus, CACHE_ENTRIES)
            return corpus
    corpus = _load_from_db(store, date_from, date_to)
    if len(corpus) >= DISK_CACHE_MIN_ROWS:
        _save(corpus, path)
    _remember(_corpora, key, corpus, CACHE_ENTRIES)
    return corpus


def _load_from_db(store: Any, date_from: date, date_to: date) -> Corpus:
    columns = [
        C.tracking_id, type_coerce(C.submitted_at, BigInteger), type_coerce(C.closed_at, BigInteger),
        C.is_confidential, *[C[name] for name in LABEL_COLUMNS], C.reporter_name, C.title, C.body,
    ]
    stmt = (
        select(*columns)
        .where(C.submitted_date.between(date_from, date_to))
        .order_by(C.id)  # the primary key: no sort of a million texts
    )
    sql = str(stmt.compile(store.engine, compile_kwargs={"literal_binds": True}))
    builder = _MatrixBuilder(stop_words())
    tracking: list[np.ndarray] = []
    numbers: list[np.ndarray] = []
    label_parts: dict[str, list[np.ndarray]] = {name: [] for name in LABEL_COLUMNS}
    label_index: dict[str, dict[str, int]] = {name: {} for name in LABEL_COLUMNS}
    names: set[str] = set()
    n = 0
    raw_connection = store.engine.raw_connection()
    try:
        cursor = raw_connection.cursor()
        cursor.execute(sql)
        while True:
            rows = cursor.fetchmany(CHUNK)
            if not rows:
                break
            block = np.array(rows, dtype=object)
            del rows
            tracking.append(block[:, 0].astype(str))
            closed = np.where(pd.isna(block[:, 2]), _NEVER, block[:, 2])
            confidential = np.array([bool(v) for v in block[:, 3]])
            numbers.append(np.stack([block[:, 1].astype(np.int64), closed.astype(np.int64),
                                     confidential.astype(np.int64)], axis=1))
            for offset, name in enumerate(LABEL_COLUMNS, start=4):
                # Codes chunk by chunk, so a million label strings never live at once.
                codes, uniques = pd.factorize(block[:, offset], use_na_sentinel=True)
                index = label_index[name]
                mapping = np.array([index.setdefault(str(u), len(index)) for u in uniques] + [-1], dtype=np.int32)
                label_parts[name].append(mapping[codes])
            for reporter in pd.unique(block[:, 9]):
                if isinstance(reporter, str):
                    names.update(_TOKEN.findall(reporter.lower()))
            texts = [f"{t or ''} \n {b or ''}" for t, b in zip(block[:, 10], block[:, 11], strict=True)]
            builder.add(texts)
            n += len(block)
            del block, texts
        cursor.close()
    finally:
        raw_connection.close()
    words, phrases, vocab, phrase_parts = builder.build()
    number = np.concatenate(numbers) if numbers else np.zeros((0, 3), np.int64)
    codes: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    for name in LABEL_COLUMNS:
        codes[name] = np.concatenate(label_parts[name]) if label_parts[name] else np.zeros(0, np.int32)
        labels[name] = np.array(list(label_index[name]), dtype=object)
    places: set[str] = set()
    for place in labels["kecamatan"]:
        places.update(_TOKEN.findall(str(place).lower()))
    hidden = np.array([w in names or w in places for w in vocab], dtype=bool)
    corpus = Corpus(
        tracking_id=np.concatenate(tracking) if tracking else np.zeros(0, str),
        submitted_at=number[:, 0], local_day=_local_days(store, number[:, 0]),
        closed_at=number[:, 1], confidential=number[:, 2].astype(bool),
        codes=codes, labels=labels, words=words, phrases=phrases, vocabulary=vocab,
        phrase_parts=phrase_parts, hidden_words=hidden,
    )
    return corpus


def _day(value: date) -> int:
    return (value - date(1970, 1, 1)).days


def _mask(corpus: Corpus, filters: Filters, date_from: date, date_to: date, confidential: bool) -> np.ndarray:
    """The complaints of `filters`' slices and scope in [date_from, date_to] this viewer may read."""
    mask = (corpus.local_day >= _day(date_from)) & (corpus.local_day <= _day(date_to))
    if not confidential:
        mask &= ~corpus.confidential

    def among(name: str, values: tuple[str, ...]) -> np.ndarray:
        wanted = np.flatnonzero(np.isin(corpus.labels[name], list(values)))
        return np.isin(corpus.codes[name], wanted)

    for name, values in (
        ("opd", filters.opds), ("category", filters.categories), ("kecamatan", filters.kecamatan),
        ("channel", filters.channels), ("region_code", filters.region_codes),
        ("region_code", filters.scope.region_codes),
    ):
        if values:
            mask &= among(name, tuple(values))
    if filters.scope.opd is not None:
        mask &= among("opd", (filters.scope.opd,))
    return mask


def _window(filters: Filters) -> tuple[date, date]:
    previous = filters.previous_period()
    return previous.date_from, filters.date_to


def _result_key(kind: str, store: Any, filters: Filters, confidential: bool, limit: int | None) -> tuple:
    return (kind, store.settings.db_url, store.data_version(), repr(filters), confidential, limit)


# --- terms ------------------------------------------------------------------------------------------
@dataclass
class _Terms:
    names: list[str]
    counts: np.ndarray
    previous: np.ndarray
    columns: list[np.ndarray]  # per term: the complaint rows (corpus indices) of the period holding it


def _column_counts(matrix: sp.csr_matrix, mask: np.ndarray) -> np.ndarray:
    return np.asarray(matrix.T @ mask.astype(np.float32)).ravel().round().astype(np.int64)


def _candidate_terms(corpus: Corpus, current: np.ndarray, previous: np.ndarray) -> _Terms:
    total = int(current.sum())
    word_counts = _column_counts(corpus.words, current)
    phrase_counts = _column_counts(corpus.phrases, current)
    most = max(MIN_TERM_COMPLAINTS, int(MAX_DOCUMENT_SHARE * total)) if total >= 4 * MIN_TERM_COMPLAINTS else total
    words_ok = (word_counts >= MIN_TERM_COMPLAINTS) & ~corpus.hidden_words & (word_counts <= most)
    parts = corpus.phrase_parts
    phrases_ok = (
        (phrase_counts >= MIN_TERM_COMPLAINTS)
        & ~corpus.hidden_words[parts[:, 0]] & ~corpus.hidden_words[parts[:, 1]]
        & (parts[:, 0] != parts[:, 1]) & (phrase_counts <= most)
    )
    # A word is left out where one phrase holding it covers most of its complaints ("jalan rusak"
    # rather than "jalan", "rusak" and "jalan rusak").
    covered = np.zeros(len(word_counts), np.int64)
    kept_phrases = np.flatnonzero(phrases_ok)
    for side in (0, 1):
        np.maximum.at(covered, parts[kept_phrases, side], phrase_counts[kept_phrases])
    words_ok &= covered < SUBSUMED_SHARE * word_counts
    word_ids = np.flatnonzero(words_ok)
    names = [str(corpus.vocabulary[i]) for i in word_ids]
    names += [f"{corpus.vocabulary[a]} {corpus.vocabulary[b]}" for a, b in parts[kept_phrases]]
    counts = np.concatenate([word_counts[word_ids], phrase_counts[kept_phrases]])
    prev = np.concatenate([
        _column_counts(corpus.words[:, word_ids], previous) if len(word_ids) else np.zeros(0, np.int64),
        _column_counts(corpus.phrases[:, kept_phrases], previous) if len(kept_phrases) else np.zeros(0, np.int64),
    ])
    return _Terms(names, counts, prev, [word_ids, kept_phrases])


def _top_places(rows: np.ndarray, codes: np.ndarray, labels: np.ndarray) -> str:
    present = codes[rows]
    present = present[present >= 0]
    if not len(present):
        return ""
    counts = np.bincount(present, minlength=len(labels))
    order = sorted(np.flatnonzero(counts), key=lambda i: (-counts[i], str(labels[i])))[:PLACES_SHOWN]
    return "; ".join(str(labels[i]) for i in order)


def topic_terms(
    store: Any,
    filters: Filters,
    *,
    viewer_may_read_confidential: bool = False,
    limit: int | None = 30,
) -> pd.DataFrame:
    """The words and two-word phrases of the period's complaints (DATA.md `topics --kind terms`).

    One row per term: `term`, `complaints` (complaints of the period containing it, at least
    MIN_TERM_COMPLAINTS), `previous_complaints` (the previous period of equal length, same
    slices), `opds` and `kecamatan` (up to three where it is most frequent, most first, "; "
    between). Most complaints first; `limit` rows at most (None: all).
    """
    key = _result_key("terms", store, filters, viewer_may_read_confidential, limit)
    cached = _recall(_results, key)
    if cached is not None:
        return cached.copy()
    corpus = load_corpus(store, *_window(filters))
    previous_filters = filters.previous_period()
    current = _mask(corpus, filters, filters.date_from, filters.date_to, viewer_may_read_confidential)
    previous = _mask(corpus, filters, previous_filters.date_from, previous_filters.date_to,
                     viewer_may_read_confidential)
    terms = _candidate_terms(corpus, current, previous)
    order = sorted(range(len(terms.names)), key=lambda i: (-terms.counts[i], terms.names[i]))
    if limit is not None:
        order = order[:limit]
    rows = []
    n_words = len(terms.columns[0])
    current_rows = np.flatnonzero(current)
    words_current = corpus.words[current_rows].tocsc()
    phrases_current = corpus.phrases[current_rows].tocsc()
    for i in order:
        if i < n_words:
            matrix, column = words_current, terms.columns[0][i]
        else:
            matrix, column = phrases_current, terms.columns[1][i - n_words]
        holders = current_rows[matrix.indices[matrix.indptr[column]:matrix.indptr[column + 1]]]
        rows.append({
            "term": terms.names[i],
            "complaints": int(terms.counts[i]),
            "previous_complaints": int(terms.previous[i]),
            "opds": _top_places(holders, corpus.codes["opd"], corpus.labels["opd"]),
            "kecamatan": _top_places(holders, corpus.codes["kecamatan"], corpus.labels["kecamatan"]),
        })
    table = pd.DataFrame(rows, columns=TERM_COLUMNS)
    table[["complaints", "previous_complaints"]] = table[["complaints", "previous_complaints"]].astype("int64")
    _remember(_results, key, table, 256)
    return table.copy()


def term_kecamatan(
    store: Any,
    filters: Filters,
    terms: list[str],
    *,
    viewer_may_read_confidential: bool = False,
) -> pd.DataFrame:
    """Complaints of the period holding each of `terms`, per kecamatan: a term x kecamatan table.

    Rows are the kecamatan (most complaints over these terms first), columns the terms in the
    order given. Same complaints as `topic_terms` (slices, scope, confidentiality).
    """
    corpus = load_corpus(store, *_window(filters))
    current = _mask(corpus, filters, filters.date_from, filters.date_to, viewer_may_read_confidential)
    rows = np.flatnonzero(current & (corpus.codes["kecamatan"] >= 0))
    word_index = {str(w): i for i, w in enumerate(corpus.vocabulary)}
    pair_index = {(int(a), int(b)): i for i, (a, b) in enumerate(corpus.phrase_parts)}
    table = {}
    labels = corpus.labels["kecamatan"]
    codes = corpus.codes["kecamatan"][rows]
    for term in terms:
        parts = term.split(" ")
        column = None
        if len(parts) == 1 and parts[0] in word_index:
            column = corpus.words[rows][:, word_index[parts[0]]]
        elif len(parts) == 2 and parts[0] in word_index and parts[1] in word_index:
            index = pair_index.get((word_index[parts[0]], word_index[parts[1]]))
            if index is not None:
                column = corpus.phrases[rows][:, index]
        present = np.zeros(len(rows), bool) if column is None else column.toarray().ravel() > 0
        table[term] = np.bincount(codes[present], minlength=len(labels))
    frame = pd.DataFrame(table, index=pd.Index([str(v) for v in labels], name="kecamatan"))
    if frame.empty:
        return frame
    frame = frame.loc[frame.sum(axis=1) > 0]
    return frame.loc[frame.sum(axis=1).sort_values(ascending=False, kind="stable").index]


# --- recurring problems -------------------------------------------------------------------------
def similarity_matrix(words: sp.csr_matrix) -> sp.csr_matrix:
    """Rows L2-normalised TF-IDF over words: a row product is the complaints' cosine similarity."""
    # scikit-learn's TfidfTransformer(norm="l2", smooth_idf=True) on presence counts, written out:
    # importing scikit-learn costs seconds per process; tests check both give the same matrix.
    n = words.shape[0]
    df = np.bincount(words.indices, minlength=words.shape[1])
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    weighted = words.tocsr(copy=True).astype(np.float64)
    weighted.data *= idf[weighted.indices]
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    weighted.data /= np.repeat(norms, np.diff(weighted.indptr))
    return weighted


def _row_argmax(matrix: sp.csr_matrix) -> np.ndarray:
    """Each row's column of its largest positive value (the lowest such column on ties), -1 for none."""
    out = np.full(matrix.shape[0], -1, np.int64)
    lengths = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    positive = matrix.data > 0
    if not positive.any():
        return out
    nonempty = np.flatnonzero(lengths)
    row_max = np.zeros(matrix.shape[0], matrix.data.dtype)
    row_max[nonempty] = np.maximum.reduceat(matrix.data, matrix.indptr[nonempty])
    best = np.flatnonzero(positive & (matrix.data == row_max[rows]))
    best_rows, first = np.unique(rows[best], return_index=True)
    out[best_rows] = matrix.indices[best[first]]
    return out


def _top_words(matrix: sp.csr_matrix, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's most and second-most weighted word that is not a hidden one (-1 for none)."""
    work = matrix.copy()
    work.sort_indices()
    work.data[hidden[work.indices]] = 0.0
    first = _row_argmax(work)
    rows = np.repeat(np.arange(work.shape[0]), np.diff(work.indptr))
    work.data[work.indices == first[rows]] = 0.0
    second = _row_argmax(work)
    return first, second


def pair_near_duplicates(
    matrix: sp.csr_matrix,
    kecamatan: np.ndarray,
    submitted_at: np.ndarray,
    hidden: np.ndarray,
    threshold: float | None = None,
    neighbours: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) of near-duplicate rows: same kecamatan, within 30 days, cosine >= threshold."""
    threshold = SIMILARITY_THRESHOLD if threshold is None else threshold
    neighbours = NEIGHBOURS if neighbours is None else neighbours
    n = matrix.shape[0]
    window = WINDOW_DAYS * 24 * 3600 * 1_000_000
    lefts, rights = [], []
    for key in _top_words(matrix, hidden):
        order = np.lexsort((submitted_at, key, kecamatan))
        ordered = matrix[order]  # one reordering per pass; neighbours are then row slices
        for k in range(1, neighbours + 1):
            if k >= n:
                break
            i, j = order[:-k], order[k:]
            ok = (
                (kecamatan[i] == kecamatan[j]) & (kecamatan[i] >= 0) & (key[i] == key[j]) & (key[i] >= 0)
                & (np.abs(submitted_at[j] - submitted_at[i]) <= window)
            )
            cosine = np.asarray(ordered[:-k].multiply(ordered[k:]).sum(axis=1)).ravel()
            close = ok & (cosine >= threshold - 1e-6)
            lefts.append(i[close])
            rights.append(j[close])
    if not lefts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    left, right = np.concatenate(lefts), np.concatenate(rights)
    return np.minimum(left, right), np.maximum(left, right)


def group_near_duplicates(
    n: int, left: np.ndarray, right: np.ndarray, submitted_at: np.ndarray
) -> list[np.ndarray]:
    """Connected groups of the pairs, split where one would span more than 30 days, of 3 or more."""
    if n == 0 or not len(left):
        return []
    graph = sp.coo_matrix((np.ones(len(left), np.int8), (left, right)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    sizes = np.bincount(component)
    candidates = np.flatnonzero(sizes[component] >= MIN_GROUP_COMPLAINTS)
    window = WINDOW_DAYS * 24 * 3600 * 1_000_000
    groups: list[np.ndarray] = []
    order = candidates[np.lexsort((submitted_at[candidates], component[candidates]))]
    bounds = np.flatnonzero(np.diff(component[order])) + 1
    for members in np.split(order, bounds):
        start = 0
        while start < len(members):
            limit = submitted_at[members[start]] + window
            end = start + int(np.searchsorted(submitted_at[members[start:]], limit, side="right"))
            if end - start >= MIN_GROUP_COMPLAINTS:
                groups.append(members[start:end])
            start = end
    return groups


def recurring_problems(
    store: Any,
    filters: Filters,
    *,
    viewer_may_read_confidential: bool = False,
    limit: int | None = None,
) -> pd.DataFrame:
    """Groups of MIN_GROUP_COMPLAINTS or more near-duplicate complaints (DATA.md `--kind recurring`).

    `label` is the group's top words (each in at least MIN_TERM_COMPLAINTS readable complaints of
    the period, never a name or a place), `tracking_ids` its Tracking IDs ("; " between, oldest
    first), `open` how many are not closed as of `filters.as_of`; `first_submitted` and
    `last_submitted` are local ISO 8601 times. Largest group first.
    """
    key = _result_key("recurring", store, filters, viewer_may_read_confidential, limit)
    cached = _recall(_results, key)
    if cached is not None:
        return cached.copy()
    corpus = load_corpus(store, *_window(filters))
    current = _mask(corpus, filters, filters.date_from, filters.date_to, viewer_may_read_confidential)
    rows = np.flatnonzero(current & (corpus.codes["kecamatan"] >= 0))
    # Names and the kecamatan's own name say nothing about the problem: every complaint of the
    # kecamatan would share the latter.
    shown = sp.diags((~corpus.hidden_words).astype(np.float32))
    matrix = similarity_matrix((corpus.words[rows] @ shown).tocsr())
    kecamatan = corpus.codes["kecamatan"][rows]
    submitted = corpus.submitted_at[rows]
    left, right = pair_near_duplicates(matrix, kecamatan, submitted, corpus.hidden_words)
    groups = group_near_duplicates(len(rows), left, right, submitted)
    word_counts = _column_counts(corpus.words, current)
    allowed = (word_counts >= MIN_TERM_COMPLAINTS) & ~corpus.hidden_words
    table = _group_table(corpus, [rows[g] for g in groups], allowed, word_counts, filters,
                         store.settings.kpi.timezone)
    if limit is not None:
        table = table.head(limit).reset_index(drop=True)
    table["group"] = np.arange(1, len(table) + 1, dtype=np.int64)
    table = table[RECURRING_COLUMNS]
    _remember(_results, key, table, 256)
    return table.copy()


def _group_table(
    corpus: Corpus, groups: list[np.ndarray], allowed: np.ndarray, period_counts: np.ndarray,
    filters: Filters, timezone: str,
) -> pd.DataFrame:
    """One row per group (members oldest first), largest group first, then the latest."""
    if not groups:
        return pd.DataFrame(columns=RECURRING_COLUMNS).astype(
            {"group": "int64", "complaints": "int64", "open": "int64"}
        )
    groups = [g[np.argsort(corpus.submitted_at[g], kind="stable")] for g in groups]
    members = np.concatenate(groups)
    sizes = np.array([len(g) for g in groups])
    group_of = np.repeat(np.arange(len(groups)), sizes)
    membership = sp.csr_matrix((np.ones(len(members), np.float32), (group_of, members)),
                               shape=(len(groups), len(corpus)))
    word_counts = (membership @ corpus.words).tocsr()
    labels = []
    for g in range(len(groups)):
        start, end = word_counts.indptr[g], word_counts.indptr[g + 1]
        ids, counts = word_counts.indices[start:end], word_counts.data[start:end]
        keep = allowed[ids] & (counts * 2 >= sizes[g])
        ids, counts = ids[keep], counts[keep]
        # Among words every member shares, the period's more frequent ones name the problem
        # ("jalan rusak"); the rare ones are usually the place or a reporter's detail.
        best = ids[np.lexsort((ids, -period_counts[ids], -counts))[:3]]
        labels.append(" ".join(str(corpus.vocabulary[i]) for i in best))
    opd_codes = corpus.codes["opd"][members]
    opd_table = sp.csr_matrix(
        (np.ones(int((opd_codes >= 0).sum())), (group_of[opd_codes >= 0], opd_codes[opd_codes >= 0])),
        shape=(len(groups), max(len(corpus.labels["opd"]), 1)),
    ).toarray()
    opd_labels = np.append(corpus.labels["opd"], None).astype(object)
    opd_index = np.where(opd_table.sum(axis=1) > 0, opd_table.argmax(axis=1), len(corpus.labels["opd"]))
    firsts = np.array([g[0] for g in groups])
    lasts = np.array([g[-1] for g in groups])
    as_of = int(filters.as_of.timestamp() * 1_000_000)
    still_open = np.bincount(group_of, weights=corpus.closed_at[members] > as_of, minlength=len(groups))
    zone = ZoneInfo(timezone)
    table = pd.DataFrame({
        "label": labels,
        "complaints": sizes.astype(np.int64),
        "kecamatan": corpus.labels["kecamatan"][corpus.codes["kecamatan"][firsts]].astype(str),
        "opd": opd_labels[opd_index],
        "first_submitted": _local_iso(corpus.submitted_at[firsts], zone),
        "last_submitted": _local_iso(corpus.submitted_at[lasts], zone),
        "tracking_ids": ["; ".join(corpus.tracking_id[g].astype(str)) for g in groups],
        "open": still_open.astype(np.int64),
        "_last": corpus.submitted_at[lasts],
    })
    table = table.sort_values(["complaints", "_last", "tracking_ids"], ascending=[False, False, True],
                              kind="stable")
    return table.drop(columns="_last").reset_index(drop=True)


def _local_iso(micros: np.ndarray, zone: ZoneInfo) -> list[str]:
    instants = pd.to_datetime(np.asarray(micros, dtype=np.int64), unit="us", utc=True).tz_convert(zone)
    return [t.isoformat(timespec="seconds") for t in instants]


def rising_mark(complaints: int, previous: int) -> str:
    """`naik`, `turun` or "" : a change of at least 3 complaints and 25% against the previous period."""
    if complaints - previous >= 3 and complaints >= 1.25 * previous:
        return "naik"
    if previous - complaints >= 3 and complaints <= 0.8 * previous:
        return "turun"
    return ""


def previous_period_days(filters: Filters) -> tuple[date, date]:
    previous = filters.previous_period()
    return previous.date_from, previous.date_to


__all__ = [
    "MIN_GROUP_COMPLAINTS", "MIN_TERM_COMPLAINTS", "RECURRING_COLUMNS", "SIMILARITY_THRESHOLD",
    "TERM_COLUMNS", "clear_cache", "document_matrices", "group_near_duplicates", "load_corpus",
    "pair_near_duplicates", "previous_period_days", "recurring_problems", "rising_mark",
    "similarity_matrix", "stop_words", "term_kecamatan", "tokenise", "topic_terms",
]
