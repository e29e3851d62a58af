"""Roles: which pages and permissions each role has, the viewer's scope, SSO e-mail mapping,
and what may be read of a complaint's text (DATA.md "What may be shown")."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pandas as pd
import pytest

from access.gate import PAGE_KEYS, Viewer, allowed_pages, viewer_for_email
from access.privacy import complaint_text, without_reporter
from metrics.filters import Scope

LEADER = Viewer("bupati", "pimpinan")
ANALYST = Viewer("admin", "analis")
OPD_USER = Viewer("budi", "opd", opd="Dinas PUPR")
DEMO = Viewer("demo", "analis", demo_open=True)  # even an analyst-role demo viewer is read-only


def test_leaders_see_every_reading_page_but_not_data_accounts_or_audit():
    assert allowed_pages(LEADER) == {"ringkasan", "peringkat", "detail_opd", "terlambat", "tren", "presentasi", "topik"}


def test_analysts_see_every_page():
    assert allowed_pages(ANALYST) == set(PAGE_KEYS)


def test_opd_users_see_only_their_summary_ranking_detail_and_overdue_list():
    assert allowed_pages(OPD_USER) == {"ringkasan", "peringkat", "detail_opd", "terlambat", "topik"}


def test_open_demo_is_read_only_no_data_accounts_or_audit_page():
    assert allowed_pages(DEMO) == set(PAGE_KEYS) - {"data", "akun", "audit"}
    assert not DEMO.can("accounts") and not DEMO.can("audit") and not DEMO.can("data")


@pytest.mark.parametrize(
    "viewer, granted",
    [
        (LEADER, {"ranking_all", "complaint_lists_all"}),
        (ANALYST, {"data", "accounts", "audit", "confidential", "ranking_all", "complaint_lists_all"}),
        (OPD_USER, set()),
    ],
)
def test_permissions_by_role(viewer, granted):
    every = {"data", "accounts", "audit", "confidential", "ranking_all", "complaint_lists_all"}
    assert {p for p in every if viewer.can(p)} == granted


def test_opd_viewer_scope_is_its_own_opd_and_others_are_unrestricted():
    assert OPD_USER.scope == Scope(opd="Dinas PUPR")
    assert LEADER.scope == Scope() and ANALYST.scope == Scope()


def test_opd_viewer_without_an_opd_is_refused_rather_than_unrestricted():
    with pytest.raises(ValueError):
        Viewer("budi", "opd")
    with pytest.raises(ValueError):
        Viewer("x", "bupati")


def test_unknown_permission_is_an_error_not_a_silent_no():
    with pytest.raises(ValueError):
        ANALYST.can("everything")


def test_sso_email_maps_to_role_and_opd_case_insensitively(sqlite_store):
    settings = replace(
        sqlite_store.settings,
        auth_email_roles=(("bupati@hst.go.id", "pimpinan", ""), ("pupr@hst.go.id", "opd", "Dinas PUPR"),
                          ("salah@hst.go.id", "opd", "")),
    )
    assert viewer_for_email("Bupati@HST.go.id", settings) == Viewer("bupati@hst.go.id", "pimpinan")
    assert viewer_for_email("pupr@hst.go.id", settings).scope == Scope(opd="Dinas PUPR")
    assert viewer_for_email("orang@lain.id", settings) is None
    assert viewer_for_email("salah@hst.go.id", settings) is None  # an opd role without its OPD
    assert viewer_for_email(None, settings) is None


def _complaint(tracking_id: str, opd: str, confidential: bool, body: str) -> dict:
    return {
        "tracking_id": tracking_id, "submitted_at": datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
        "opd": opd, "status": "menunggu_verifikasi", "is_confidential": confidential,
        "reporter_name": "Nama Pelapor Rahasia", "title": f"Judul {tracking_id}", "body": body,
    }


@pytest.fixture
def texts_store(store):
    source_id = store.ensure_source("lapor", "canonical")
    frame = pd.DataFrame([
        _complaint("1001", "Dinas PUPR", False, "<script>alert(1)</script>"),
        _complaint("1002", "Dinas PUPR", True, "isi rahasia"),
        _complaint("1003", "Dinas Kesehatan", False, "isi dinkes"),
    ])
    store.write_complaints(source_id, frame, run_id=None, observed_at=datetime.now(UTC))
    return store


def test_confidential_text_is_read_only_by_analysts(texts_store):
    assert complaint_text(texts_store, ANALYST, "1002").body == "isi rahasia"
    for viewer in (LEADER, OPD_USER):
        text = complaint_text(texts_store, viewer, "1002")
        assert text.withheld and text.title is None and text.body is None


def test_opd_user_reads_no_other_opds_complaint_text(texts_store):
    assert complaint_text(texts_store, OPD_USER, "1003") is None
    assert complaint_text(texts_store, OPD_USER, "1001").body == "<script>alert(1)</script>"
    assert complaint_text(texts_store, LEADER, "1003").body == "isi dinkes"


def test_complaint_text_never_carries_the_reporter(texts_store):
    text = complaint_text(texts_store, ANALYST, "1001")
    assert "Nama Pelapor Rahasia" not in repr(text)
    assert list(without_reporter(pd.DataFrame({"reporter_name": ["x"], "opd": ["y"]})).columns) == ["opd"]
