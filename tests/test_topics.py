"""What citizens complain about (DATA.md): terms, rising issues and recurring problems, privacy-safe.

The store holds the labelled synthetic corpus of benchmarks/bench_topics.py: planted recurring
problems, one rising and one falling subject, a confidential-only problem, and reporters who
write their name, phone number and e-mail address into the text.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from metrics import topics
from metrics.filters import Filters, Scope
from tests.conftest import make_store

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_topics", ROOT / "benchmarks" / "bench_topics.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

FRAME, LABELS, CURRENT_START, UNTIL = bench.labelled_corpus()


@pytest.fixture(scope="module")
def labelled_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('topics') / 'labelled.db'}"
    store = make_store(url)
    bench.load_labelled(store, FRAME)
    store.dispose()
    return url


@pytest.fixture
def labelled(labelled_url):
    topics.clear_cache()
    store = make_store(labelled_url)
    yield store
    store.dispose()


@pytest.fixture
def period() -> Filters:
    return Filters(date_from=CURRENT_START, date_to=UNTIL, as_of=datetime(2026, 6, 30, 23, tzinfo=UTC))


def _texts_of(mask: np.ndarray) -> list[str]:
    return (FRAME["title"] + " \n " + FRAME["body"])[mask].tolist()


# --- tokenising --------------------------------------------------------------------------------
def test_matrix_equals_scikit_learn_countvectorizer():
    from sklearn.feature_extraction.text import CountVectorizer

    texts = _texts_of(np.ones(len(FRAME), bool))[:800]
    stops = topics.stop_words()
    words, phrases, vocabulary, parts = topics.document_matrices(texts, stops)
    # The same analysis in scikit-learn: e-mail addresses and links cut, letters-only words of two
    # letters or more, variants folded, stop words out, phrases of two words next to each other.
    def analyse(text: str) -> list[str]:
        text = topics._URL.sub(" ", topics._EMAIL.sub(" ", text.lower()))
        tokens = [topics.SPELLING_VARIANTS.get(t, t) for t in re.findall(r"\w+", text)]
        tokens = [t if len(t) >= 2 and t.isalpha() and t not in stops else None for t in tokens]
        pairs = [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False) if a and b]
        return [t for t in tokens if t] + pairs

    reference = CountVectorizer(analyzer=analyse, binary=True)
    expected = reference.fit_transform(texts)
    names = list(vocabulary) + [f"{vocabulary[a]} {vocabulary[b]}" for a, b in parts]
    ours = {name: i for i, name in enumerate(names)}
    assert set(ours) == set(reference.vocabulary_)
    combined = np.hstack([words.toarray(), phrases.toarray()])
    order = [ours[name] for name in reference.get_feature_names_out()]
    assert (combined[:, order] == expected.toarray()).all()


def test_tfidf_equals_scikit_learn_tfidftransformer():
    from sklearn.feature_extraction.text import TfidfTransformer

    words, *_ = topics.document_matrices(_texts_of(np.ones(len(FRAME), bool))[:500])
    expected = TfidfTransformer(norm="l2", smooth_idf=True, sublinear_tf=True).fit_transform(words)
    assert np.allclose(topics.similarity_matrix(words).toarray(), expected.toarray(), atol=1e-6)


def test_filler_words_never_count():
    words, _, vocabulary, _ = topics.document_matrices(
        ["Mohon ditindaklanjuti, tolong Bapak, jalan rusak. Terima kasih"] * 3
    )
    assert set(vocabulary) == {"jalan", "rusak"}


def test_spelling_variants_are_folded():
    _, _, vocabulary, _ = topics.document_matrices(["jln rusak tdk diperbaiki", "jalan rusak"])
    assert "jalan" in vocabulary and "jln" not in vocabulary


# --- terms ------------------------------------------------------------------------------------------
def test_terms_columns_are_datas(labelled, period):
    table = topics.topic_terms(labelled, period)
    assert list(table.columns) == topics.TERM_COLUMNS == ["term", "complaints", "previous_complaints", "opds", "kecamatan"]
    assert list(table["complaints"]) == sorted(table["complaints"], reverse=True)


def test_no_term_below_five_complaints(labelled, period):
    table = topics.topic_terms(labelled, period, limit=None, viewer_may_read_confidential=True)
    assert len(table) > 20
    assert table["complaints"].min() >= 5


def test_term_counts_are_complaints_containing_it(labelled, period):
    table = topics.topic_terms(labelled, period, limit=10)
    in_period = (FRAME["submitted_at"].str[:10] >= str(CURRENT_START)) & (FRAME["is_confidential"] == "false")
    texts = [t.lower() for t in _texts_of(in_period.to_numpy())]
    for term, count in zip(table["term"], table["complaints"], strict=True):
        pattern = re.compile(r"\b" + r"\W+".join(map(re.escape, term.split())) + r"\b")
        assert sum(bool(pattern.search(t)) for t in texts) >= count  # stop words may sit between


def test_no_number_email_phone_or_reporter_name_becomes_a_term(labelled, period):
    table = topics.topic_terms(labelled, period, limit=None, viewer_may_read_confidential=True)
    words = {w for term in table["term"] for w in term.split()}
    assert not any(ch.isdigit() for w in words for ch in w)
    names = {part.lower() for name in bench.REPORTERS for part in name.split()}
    assert not words & names
    assert not words & {"gmail", "com", "warga.peduli", "hubungi"} - {"hubungi"}
    groups = topics.recurring_problems(labelled, period, viewer_may_read_confidential=True)
    label_words = {w for label in groups["label"] for w in label.split()}
    assert not label_words & names and not any(ch.isdigit() for w in label_words for ch in w)


def test_rising_and_falling_subjects_are_marked(labelled, period):
    table = topics.topic_terms(labelled, period, limit=None).set_index("term")
    rising, falling = "sampah", "ktp"  # "tempat sampah" and "blanko ktp": "tempat" is a filler word
    assert topics.rising_mark(*table.loc[rising, ["complaints", "previous_complaints"]]) == "naik"
    if falling in table.index:
        assert topics.rising_mark(*table.loc[falling, ["complaints", "previous_complaints"]]) == "turun"
    else:  # fell below five complaints this period: not shown at all
        assert (FRAME["title"] + FRAME["body"]).str.lower().str.contains(falling).sum() >= 5


def test_confidential_complaints_never_count_for_a_pimpinan(labelled, period):
    secret = "pelicin"
    leader = topics.topic_terms(labelled, period, limit=None)
    analyst = topics.topic_terms(labelled, period, limit=None, viewer_may_read_confidential=True)
    assert not any(secret in t or "oknum" in t for t in leader["term"])
    assert any("oknum" in t for t in analyst["term"])
    groups = topics.recurring_problems(labelled, period)
    confidential_ids = set(FRAME.loc[FRAME["is_confidential"] == "true", "tracking_id"])
    assert not confidential_ids & {i for ids in groups["tracking_ids"] for i in ids.split("; ")}


def test_opd_viewer_terms_come_only_from_its_own_opd(labelled, period):
    own = "Dinas PUPR"
    scoped = replace(period, scope=Scope(opd=own))
    table = topics.topic_terms(labelled, scoped, limit=None)
    assert set(table["opds"]) == {own}
    own_texts = " ".join(t.lower() for t in _texts_of((FRAME["opd"] == own).to_numpy()))
    assert all(all(w in own_texts for w in term.split()) for term in table["term"])
    others = topics.topic_terms(labelled, period, limit=None)
    other_only = set(others["term"]) - {t for t in others["term"] if all(w in own_texts for w in t.split())}
    assert other_only and not other_only & set(table["term"])
    groups = topics.recurring_problems(labelled, scoped)
    assert set(groups["opd"]) <= {own}


def test_previous_complaints_are_the_previous_period(labelled, period):
    table = topics.topic_terms(labelled, period, limit=None).set_index("term")
    previous = topics.topic_terms(labelled, period.previous_period(), limit=None).set_index("term")
    common = table.index.intersection(previous.index)
    assert len(common) > 5
    assert (table.loc[common, "previous_complaints"] == previous.loc[common, "complaints"]).all()


# --- recurring problems ---------------------------------------------------------------------
def test_recurring_columns_are_datas(labelled, period):
    table = topics.recurring_problems(labelled, period, viewer_may_read_confidential=True)
    assert list(table.columns) == topics.RECURRING_COLUMNS == [
        "group", "label", "complaints", "kecamatan", "opd", "first_submitted", "last_submitted",
        "tracking_ids", "open",
    ]


def test_every_planted_group_is_found(labelled, period):
    table = topics.recurring_problems(labelled, period, viewer_may_read_confidential=True)
    found = [set(ids.split("; ")) for ids in table["tracking_ids"]]
    for group in np.unique(LABELS[LABELS >= 0]):
        planted = set(FRAME["tracking_id"][LABELS == group])
        assert any(len(planted & f) >= 3 for f in found), f"planted group {group} not found"


def test_pairing_precision_and_recall(labelled, period, capsys):
    table = topics.recurring_problems(labelled, period, viewer_may_read_confidential=True)
    precision, recall = bench.precision_recall(bench.found_pairs(table), bench.true_pairs(FRAME, LABELS))
    with capsys.disabled():
        print(f"\npairing at threshold {topics.SIMILARITY_THRESHOLD}: precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.95 and recall >= 0.8


def test_no_group_below_three_and_within_thirty_days(labelled, period):
    table = topics.recurring_problems(labelled, period, viewer_may_read_confidential=True)
    assert len(table) and table["complaints"].min() >= 3
    for row in table.itertuples():
        assert len(row.tracking_ids.split("; ")) == row.complaints
        span = datetime.fromisoformat(row.last_submitted) - datetime.fromisoformat(row.first_submitted)
        assert span.days <= 30
    kecamatan = FRAME.set_index("tracking_id")["kecamatan"]
    for ids in table["tracking_ids"]:
        assert kecamatan[ids.split("; ")].nunique() == 1


def test_open_counts_complaints_not_closed_as_of(labelled, period):
    table = topics.recurring_problems(labelled, period, viewer_may_read_confidential=True)
    closed = FRAME.set_index("tracking_id")["closed_at"]
    for row in table.itertuples():
        assert row.open == sum(closed[i] == "" for i in row.tracking_ids.split("; "))


def test_second_call_comes_from_the_cache(labelled, period):
    import time

    topics.topic_terms(labelled, period)
    topics.recurring_problems(labelled, period)
    started = time.perf_counter()
    topics.topic_terms(labelled, period)
    topics.recurring_problems(labelled, period)
    assert time.perf_counter() - started < 1.0


def test_terms_on_postgresql_equal_sqlite(labelled, period, pg_url):
    pg = make_store(pg_url)
    try:
        bench.load_labelled(pg, FRAME)
        topics.clear_cache()
        assert topics.topic_terms(pg, period, limit=None).equals(topics.topic_terms(labelled, period, limit=None))
        assert topics.recurring_problems(pg, period).equals(topics.recurring_problems(labelled, period))
    finally:
        pg.dispose()


# --- the command ------------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metrics", "topics", *args], capture_output=True, text=True,
                          cwd=ROOT, check=False)


def test_command_csv_columns_exactly_as_data(labelled_url):
    done = _cli("--from", str(CURRENT_START), "--to", str(UNTIL), "--db", labelled_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "term,complaints,previous_complaints,opds,kecamatan"
    done = _cli("--from", str(CURRENT_START), "--to", str(UNTIL), "--kind", "recurring", "--db", labelled_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "group,label,complaints,kecamatan,opd,first_submitted,last_submitted,tracking_ids,open"
    )


def test_command_json_and_slices(labelled_url):
    done = _cli("--from", str(CURRENT_START), "--to", str(UNTIL), "--format", "json", "--opd", "Dinas PUPR",
                "--kecamatan", "Alpha", "--db", labelled_url)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows and list(rows[0]) == topics.TERM_COLUMNS
    assert {r["opds"] for r in rows} == {"Dinas PUPR"} and {r["kecamatan"] for r in rows} == {"Alpha"}


def test_command_leaves_confidential_complaints_out(labelled_url):
    done = _cli("--from", str(CURRENT_START), "--to", str(UNTIL), "--db", labelled_url)
    assert "oknum" not in done.stdout and "pelicin" not in done.stdout


def test_command_bad_dates_get_one_clear_line(labelled_url):
    done = _cli("--from", "2026-06-30", "--to", "2026-01-01", "--db", labelled_url)
    assert done.returncode != 0 and "Traceback" not in done.stderr and done.stderr.strip().count("\n") == 0


def test_command_neutralises_formula_cells(tmp_path):
    url = f"sqlite:///{tmp_path / 'formula.db'}"
    store = make_store(url)
    frame = FRAME.copy()
    frame.loc[frame.index[:40], "kecamatan"] = "=HYPERLINK(1)"
    bench.load_labelled(store, frame)
    store.dispose()
    done = _cli("--from", str(CURRENT_START), "--to", str(UNTIL), "--kind", "recurring", "--db", url)
    assert done.returncode == 0, done.stderr
    assert ",=HYPERLINK" not in done.stdout


# --- the benchmark ------------------------------------------------------------------------------
def test_benchmark_small_mode_runs(tmp_path):
    out = tmp_path / "topics.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_topics.py"), "--small",
                           "--json-out", str(out)], capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    for key in ("cold_s", "cold_peak_mb", "cached_s", "terms", "groups", "calibration"):
        assert key in figures
    assert "precision" in done.stdout


# --- the briefing ---------------------------------------------------------------------------
def test_briefing_has_the_topics_page_without_confidential_terms(labelled, period, tmp_path):
    from pypdf import PdfReader

    from metrics.briefing import collect, page_count, write_briefing

    path = write_briefing(labelled, period, None, tmp_path / "briefing.pdf")
    reader = PdfReader(str(path))
    assert len(reader.pages) == page_count(collect(labelled, period))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Yang paling banyak dikeluhkan warga" in text and "Masalah berulang" in text
    assert "oknum" not in text and "pelicin" not in text
    assert not any(name in text for name in bench.REPORTERS)


def test_disk_copy_gives_the_same_results_and_a_write_replaces_it(labelled, period, monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'copy.db'}"
    store = make_store(url)
    try:
        bench.load_labelled(store, FRAME.iloc[:1500])
        monkeypatch.setattr(topics, "DISK_CACHE_MIN_ROWS", 0)
        topics.clear_cache()
        terms, groups = topics.topic_terms(store, period), topics.recurring_problems(store, period)
        copies = list((tmp_path / "cache").glob("topics-*"))
        assert len(copies) == 1
        topics.clear_cache()  # a new process: only the disk copy is left
        assert topics.topic_terms(store, period).equals(terms)
        assert topics.recurring_problems(store, period).equals(groups)
        bench.load_labelled(store, FRAME.iloc[1500:])  # a write: a new data version, a new copy
        topics.clear_cache()
        assert topics.topic_terms(store, period, limit=None).equals(topics.topic_terms(labelled, period, limit=None))
        assert [p.name for p in (tmp_path / "cache").glob("topics-*")] != [p.name for p in copies]
    finally:
        store.dispose()
