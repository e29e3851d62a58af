"""The sign-in gate and the role rules: who the viewer is, what they may see, which pages exist.

`dashboard.py` calls `require_viewer(store, settings)` before it reads any data, registers only
`allowed_pages(viewer)` with `st.navigation` (a page a role may not see does not exist for that
session, so a direct URL finds nothing), passes `viewer.scope` into every `Filters`, and puts
`sign_out_button()` in the sidebar.

Three starts are possible:
- no account and only demo data: the demo runs openly ("mode demo") so a first visitor sees the
  product, with a hint how to create the first analyst account;
- no account but real data: nothing is shown until an analyst account exists;
- accounts exist: a local sign-in form (and single sign-on when `[auth]` is configured).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import streamlit as st

from access import accounts, audit
from metrics.filters import Scope

ROLES = accounts.ROLES
ROLE_LABELS = {"pimpinan": "Pimpinan", "analis": "Analis", "opd": "OPD"}

PAGE_KEYS = (
    "ringkasan", "peringkat", "detail_opd", "terlambat", "tren", "presentasi", "data", "akun", "audit",
)
_LEADER_PAGES = frozenset({"ringkasan", "peringkat", "detail_opd", "terlambat", "tren", "presentasi"})
_PAGES_BY_ROLE = {
    "pimpinan": _LEADER_PAGES,
    "analis": _LEADER_PAGES | {"data", "akun", "audit"},
    # An OPD sees its own figures: its summary, its place in the ranking, its detail and overdue list.
    "opd": frozenset({"ringkasan", "peringkat", "detail_opd", "terlambat"}),
}
PERMISSIONS = ("data", "accounts", "audit", "confidential", "ranking_all", "complaint_lists_all")
_PERMISSIONS_BY_ROLE = {
    "pimpinan": frozenset({"ranking_all", "complaint_lists_all"}),
    "analis": frozenset(PERMISSIONS),
    "opd": frozenset(),
}
# The open demo has no one accountable, so nothing that manages accounts or reads the log.
_DEMO_WITHHELD = frozenset({"accounts", "audit"})

FIRST_ACCOUNT_COMMAND = ".venv/bin/python -m access user add admin --role analis"  # as typed in the project folder

# session_state keys owned by the gate
_VIEWER_KEY = "_access_viewer"
_SEEN_KEY = "_access_last_seen"
_NOTICE_KEY = "_access_notice"
_CONTEXT_KEY = "_access_context"  # (viewer, store, settings) of the current run, for page guards


@dataclass(frozen=True)
class Viewer:
    """The person looking at the dashboard in this session."""

    username: str
    role: str
    opd: str | None = None
    demo_open: bool = False
    region_codes: tuple[str, ...] = ()  # the regions the account is limited to; empty = all

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.role == "opd" and not self.opd:
            # Fail closed: an OPD user without an OPD would otherwise get the unrestricted scope.
            raise ValueError("an opd viewer needs its OPD")

    @property
    def scope(self) -> Scope:
        """The slice every query of this viewer is limited to (metrics.filters.Scope)."""
        if self.role == "opd":
            return Scope(opd=self.opd, region_codes=self.region_codes)
        return Scope(region_codes=self.region_codes)

    def can(self, permission: str) -> bool:
        if permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r}")
        if self.demo_open and permission in _DEMO_WITHHELD:
            return False
        return permission in _PERMISSIONS_BY_ROLE[self.role]

    @property
    def label(self) -> str:
        """How the sidebar names the viewer, e.g. "budi (OPD: Dinas PUPR)"."""
        if self.demo_open:
            return "Mode demo"
        role = ROLE_LABELS[self.role]
        return f"{self.username} ({role}: {self.opd})" if self.opd else f"{self.username} ({role})"


def allowed_pages(viewer: Viewer) -> set[str]:
    """The page keys this viewer may open; `dashboard.py` registers only these."""
    pages = set(_PAGES_BY_ROLE[viewer.role])
    if viewer.demo_open:
        pages.discard("akun")
        pages.discard("audit")
    return pages


def viewer_for_account(account: accounts.Account) -> Viewer:
    return Viewer(
        username=account.username, role=account.role, opd=account.opd,
        region_codes=tuple(account.regions),
    )


def viewer_for_email(email: str | None, settings) -> Viewer | None:  # noqa: ANN001
    """The viewer an SSO e-mail maps to through `[[auth_roles]]`, or None when it is not listed."""
    wanted = (email or "").strip().lower()
    if not wanted:
        return None
    for mapped_email, role, opd in settings.auth_email_roles:
        if mapped_email == wanted and role in ROLES:
            if role == "opd" and not opd:
                return None
            return Viewer(username=wanted, role=role, opd=(opd or None) if role == "opd" else None)
    return None


# --- Streamlit ----------------------------------------------------------------------------
def sso_configured() -> bool:
    """True when `[auth]` exists in Streamlit's secrets, i.e. st.login can work."""
    try:
        return bool(st.secrets.load_if_toml_exists()) and "auth" in st.secrets
    except Exception:  # noqa: BLE001 - an unreadable secrets file means no SSO, not a crash
        return False


def _sso_logged_in() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except Exception:  # noqa: BLE001 - st.user raises when auth is not configured
        return False


def require_viewer(store, settings) -> Viewer:  # noqa: ANN001
    """Return the signed-in viewer, or show the sign-in screen and stop the script run.

    Runs before any complaint is read. Enforces the idle timeout on every run and re-reads the
    account, so disabling an account or changing its role takes effect at the next click.
    The result is also kept for this run so that a page can `guard()` itself.
    """
    st.session_state.pop(_CONTEXT_KEY, None)
    viewer = _resolve_viewer(store, settings)
    st.session_state[_CONTEXT_KEY] = (viewer, store, settings)
    return viewer


def guard(permission: str | None = None):  # noqa: ANN201
    """A page's first call: `(viewer, store, settings)` of this run, or stop with nothing shown.

    Pages a role may not see are not registered at all; this is the second lock, for a page
    file run without the entry's gate or a viewer whose rights changed mid-session.
    """
    context = st.session_state.get(_CONTEXT_KEY)
    if context is None:
        st.stop()
    viewer, store, settings = context
    if permission is not None and not viewer.can(permission):
        st.error("Halaman ini tidak tersedia untuk peran Anda.")
        st.stop()
    return viewer, store, settings


def _resolve_viewer(store, settings) -> Viewer:  # noqa: ANN001
    sso = sso_configured()
    has_accounts = accounts.user_count(store) > 0 or (sso and bool(settings.auth_email_roles))
    if not has_accounts:
        if store.only_demo_data():
            return Viewer("demo", "analis", demo_open=True)
        _show_no_account_yet()
        st.stop()

    now = time.time()
    state = st.session_state
    saved = state.get(_VIEWER_KEY)
    if saved is not None:
        last_seen = float(state.get(_SEEN_KEY, 0.0))
        if now - last_seen > settings.idle_timeout_hours * 3600:
            audit.record(store, saved.get("username"), "signout", "sesi berakhir karena tidak aktif")
            _forget(notice="Sesi berakhir karena tidak aktif. Silakan masuk kembali.")
            if saved.get("source") == "sso" and _sso_logged_in():
                st.logout()  # else the identity provider's cookie would sign the user straight back in
            saved = None
        else:
            viewer = _revalidate(store, settings, saved)
            if viewer is not None:
                state[_SEEN_KEY] = now
                return viewer
            _forget(notice="Akun Anda tidak lagi aktif. Hubungi analis Diskominfo.")
            saved = None

    if sso and _sso_logged_in():
        viewer = viewer_for_email(st.user.get("email"), settings)
        if viewer is not None:
            _remember(viewer, source="sso")
            audit.record(store, viewer.username, "signin", "sso")
            return viewer
        email = str(st.user.get("email") or "")[:100]
        audit.record(store, email, "signin_failed", "sso: e-mail tidak terdaftar", ok=False)
        _show_sso_not_mapped()
        st.stop()

    _show_sign_in(store, settings, sso)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises; keeps type checkers honest


def _remember(viewer: Viewer, *, source: str) -> None:
    st.session_state[_VIEWER_KEY] = {
        "username": viewer.username, "role": viewer.role, "opd": viewer.opd, "source": source,
    }
    st.session_state[_SEEN_KEY] = time.time()


def _forget(notice: str | None = None) -> None:
    for key in (_VIEWER_KEY, _SEEN_KEY, "access_username", "access_password"):
        st.session_state.pop(key, None)
    if notice:
        st.session_state[_NOTICE_KEY] = notice


def _revalidate(store, settings, saved: dict) -> Viewer | None:  # noqa: ANN001
    if saved.get("source") == "sso":
        if not _sso_logged_in():
            return None
        return viewer_for_email(saved.get("username"), settings)
    account = accounts.get_user(store, saved.get("username", ""))
    if account is None or account.disabled:
        return None
    try:
        return viewer_for_account(account)
    except ValueError:
        return None


# A run stopped at the gate never reaches st.navigation, so the browser would keep showing the
# page list of the session that just signed out; the gate screens hide the sidebar instead.
_HIDE_SIDEBAR = (
    "<style>[data-testid='stSidebar'], [data-testid='stExpandSidebarButton'] "
    "{display: none !important;}</style>"
)


def _gate_screen() -> None:
    st.html(_HIDE_SIDEBAR)
    st.title("Dasbor Pengaduan")


def _show_no_account_yet() -> None:
    _gate_screen()
    st.warning(
        "Data dari sumber nyata sudah tersimpan, tetapi belum ada akun. Data tidak ditampilkan "
        "sebelum analis membuat akun pertama dan masuk."
    )
    st.markdown("Buat akun analis pertama di server, lalu muat ulang halaman ini:")
    st.code(FIRST_ACCOUNT_COMMAND, language="bash")


def _show_sso_not_mapped() -> None:
    _gate_screen()
    st.error(
        "E-mail Anda belum terdaftar untuk dasbor ini. Minta analis Diskominfo menambahkannya."
    )
    if st.button("Keluar", key="access_sso_logout"):
        st.logout()


def _show_sign_in(store, settings, sso: bool) -> None:  # noqa: ANN001
    _gate_screen()
    st.caption(settings.region_name)
    notice = st.session_state.pop(_NOTICE_KEY, None)
    if notice:
        st.info(notice)
    with st.form("access_sign_in", clear_on_submit=False):
        st.subheader("Masuk")
        username = st.text_input("Nama pengguna", key="access_username", autocomplete="username")
        password = st.text_input(
            "Kata sandi", type="password", key="access_password", autocomplete="current-password"
        )
        submitted = st.form_submit_button("Masuk", type="primary", width="stretch")
    if sso:
        if st.button("Masuk dengan SSO", key="access_sso_login", width="stretch"):
            st.login()
    if not submitted:
        return
    result = accounts.authenticate(store, username, password, settings)
    if result.ok and result.account is not None:
        _remember(viewer_for_account(result.account), source="local")
        st.session_state.pop("access_password", None)
        st.rerun()
    if result.status is accounts.SignInStatus.LOCKED:
        st.error(
            f"Akun terkunci sementara karena terlalu banyak percobaan gagal. Coba lagi setelah "
            f"{_local_time(result.locked_until, settings)}."
        )
    elif result.status is accounts.SignInStatus.DISABLED:
        st.error("Akun ini dinonaktifkan. Hubungi analis Diskominfo.")
    elif result.locked_until is not None:
        st.error(
            f"Nama pengguna atau kata sandi salah. Akun dikunci {settings.lockout_minutes} menit."
        )
    else:
        st.error("Nama pengguna atau kata sandi salah.")


def _local_time(instant: datetime | None, settings) -> str:  # noqa: ANN001
    if instant is None:
        return "beberapa menit"
    from zoneinfo import ZoneInfo

    return instant.astimezone(ZoneInfo(settings.kpi.timezone)).strftime("%H:%M")


def demo_notice() -> None:
    """The "mode demo" label and how to leave it; `dashboard.py` shows it for a demo_open viewer."""
    st.sidebar.info(
        "**Mode demo**: data contoh, terbuka tanpa masuk. Untuk memakai data nyata, buat akun "
        f"analis pertama di server: `{FIRST_ACCOUNT_COMMAND}`"
    )


def sign_out_button(store=None) -> None:  # noqa: ANN001
    """The sidebar "Keluar" button (nothing in the open demo, where no one is signed in)."""
    saved = st.session_state.get(_VIEWER_KEY)
    if saved is None:
        return
    if st.sidebar.button("Keluar", key="access_sign_out", width="stretch"):
        if store is not None:
            audit.record(store, saved.get("username"), "signout", saved.get("source"))
        _forget(notice="Anda sudah keluar.")
        if saved.get("source") == "sso" and _sso_logged_in():
            st.logout()
        st.rerun()

