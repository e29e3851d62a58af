"""The sign-in gate and the role rules: who the viewer is, what they may see, which pages exist.

`dashboard.py` calls `require_viewer(store, settings)` before it reads any data, registers only
`allowed_pages(viewer)` with `st.navigation` (a page a role may not see does not exist for that
session, so a direct URL finds nothing), passes `viewer.scope` into every `Filters`, and puts
`sign_out_button()` in the sidebar.

Three starts are possible:
- no account and only demo data: the demo runs openly ("mode demo") so a first visitor sees the
  product, with a hint how to create the first analyst account; it is read-only: the viewer
  is a leader (no Data, Akun or Audit page) and `require_writer` refuses every write;
- no account but real data: nothing is shown until an analyst account exists;
- accounts exist: a local sign-in form (and single sign-on when `[auth]` is configured).

A local sign-in opens a server-side session (`access.sessions`) whose token the browser keeps
in the `dasbor_sesi` cookie, so a reload or a new tab within the idle timeout stays signed in.
Streamlit offers no way to set a cookie from a script run: under `serve.py` a route of the
server sets it HttpOnly (access/cookies.py); run as plain `dashboard.py`, a small script writes
it (`document.cookie`, not HttpOnly). Either way SameSite=Strict, and Secure over HTTPS.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import streamlit as st

from access import accounts, audit, cookies, sessions
from metrics.filters import Scope

ROLES = accounts.ROLES
ROLE_LABELS = {"pimpinan": "Pimpinan", "analis": "Analis", "opd": "OPD"}

PAGE_KEYS = (
    "ringkasan", "peringkat", "detail_opd", "terlambat", "tren", "presentasi", "data", "akun", "audit",
    "topik",
)
_LEADER_PAGES = frozenset({"ringkasan", "peringkat", "detail_opd", "terlambat", "tren", "presentasi", "topik"})
_PAGES_BY_ROLE = {
    "pimpinan": _LEADER_PAGES,
    "analis": _LEADER_PAGES | {"data", "akun", "audit"},
    # An OPD sees its own figures: its summary, its place in the ranking, its detail and overdue list.
    "opd": frozenset({"ringkasan", "peringkat", "detail_opd", "terlambat", "topik"}),
}
PERMISSIONS = ("data", "accounts", "audit", "confidential", "ranking_all", "complaint_lists_all")
_PERMISSIONS_BY_ROLE = {
    "pimpinan": frozenset({"ranking_all", "complaint_lists_all"}),
    "analis": frozenset(PERMISSIONS),
    "opd": frozenset(),
}
# The open demo has no one accountable: it can be looked at, not changed (DATA.md).
_DEMO_WITHHELD = frozenset({"data", "accounts", "audit"})
_DEMO_PAGES_WITHHELD = frozenset({"data", "akun", "audit"})
DEMO_ROLE = "pimpinan"  # what the open demo's viewer may see: the leaders' pages, read-only

FIRST_ACCOUNT_COMMAND = ".venv/bin/python -m access user add admin --role analis"  # as typed in the project folder

# session_state keys owned by the gate
_VIEWER_KEY = "_access_viewer"
_SEEN_KEY = "_access_last_seen"
_NOTICE_KEY = "_access_notice"
_CONTEXT_KEY = "_access_context"  # (viewer, store, settings) of the current run, for page guards
_TOKEN_KEY = "_access_session"  # the sha256 of this session's token (access.sessions)
_COOKIE_KEY = "_access_cookie"  # a cookie to write in this run: the token, or "" to delete it
_COOKIE_SENT_KEY = "_access_cookie_sent"  # when the cookie was last written (time.time())
_RAW_TOKEN_KEY = "_access_token"  # the token itself (server memory only), to renew the cookie
_NEXT_PAGE_KEY = "_access_next_page"  # the page a signed-out deep link asked for

COOKIE_NAME = cookies.COOKIE_NAME
COOKIE_REFRESH_SECONDS = 3600  # the cookie's Max-Age is renewed at most once an hour


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
        pages -= _DEMO_PAGES_WITHHELD
    return pages


class NotAllowed(PermissionError):
    """A write asked for by someone who is not an active analyst now; the text is Indonesian."""


NOT_ALLOWED = "Perubahan data hanya dapat dilakukan oleh analis yang sudah masuk."


def require_writer(store) -> Viewer:  # noqa: ANN001
    """The analyst signed in to this session, re-checked in the store now, or NotAllowed.

    Every write from the app (upload, OPD alias, accounts) calls this right before writing,
    so neither the open demo, nor a page drawn before its viewer was disabled or demoted, nor
    a page file run without the gate can change anything.
    """
    context = st.session_state.get(_CONTEXT_KEY)
    saved = st.session_state.get(_VIEWER_KEY)
    if context is None or saved is None:
        raise NotAllowed(NOT_ALLOWED)
    viewer = context[0]
    if viewer.demo_open or viewer.role != "analis" or viewer.username != saved.get("username"):
        raise NotAllowed(NOT_ALLOWED)
    settings = context[2]
    current = _revalidate(store, settings, saved)
    if current is None or current.role != "analis":
        raise NotAllowed(NOT_ALLOWED)
    return current


def session_key() -> tuple[str, str, str | None]:
    """(username, source, session token hash) of this session's viewer, to re-check later
    outside the script run (a download built at click time); ("", "", None) when signed out."""
    saved = st.session_state.get(_VIEWER_KEY) or {}
    context = st.session_state.get(_CONTEXT_KEY)
    if context is not None and context[0].demo_open:
        return ("demo", "demo", None)
    return (saved.get("username", ""), saved.get("source", ""), st.session_state.get(_TOKEN_KEY))


def viewer_now(store, settings, key: tuple[str, str, str | None]) -> Viewer | None:  # noqa: ANN001
    """The viewer `session_key()` names, as valid at this moment: the account re-read from the
    store, its session not signed out, revoked or idle past the timeout. None otherwise."""
    username, source, token_hash = key
    if source == "demo":
        demo = accounts.user_count(store) == 0 and store.only_demo_data()
        return Viewer("demo", DEMO_ROLE, demo_open=True) if demo else None
    if source == "sso":
        return viewer_for_email(username, settings)
    if source != "local" or not token_hash:
        return None
    session = sessions.find(store, token_hash, hashed=True)
    if session is None or session.username != username:
        return None
    return _revalidate(store, settings, {"username": username, "source": "local"})


def client_address(settings) -> str:  # noqa: ANN001
    """The address a sign-in attempt comes from: the trusted proxy's header when one is set
    (`[app] trusted_proxy_header`, e.g. X-Forwarded-For: its last entry, the one the proxy
    added), else the connection's own address."""
    header = getattr(settings, "trusted_proxy_header", "") or ""
    try:
        if header:
            value = st.context.headers.get(header)
            if isinstance(value, str) and value:
                return accounts.clean_client(value.split(",")[-1])
        address = st.context.ip_address
        return accounts.clean_client(address if isinstance(address, str) else None)
    except Exception:  # noqa: BLE001 - no request context (a bare test run): a local client
        return accounts.LOCAL_CLIENT


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
            return Viewer("demo", DEMO_ROLE, demo_open=True)
        _show_no_account_yet()
        st.stop()

    now = time.time()
    state = st.session_state
    saved = state.get(_VIEWER_KEY)
    if saved is not None:
        last_seen = float(state.get(_SEEN_KEY, 0.0))
        if now - last_seen > settings.idle_timeout_hours * 3600:
            audit.record(store, saved.get("username"), "signout", "sesi berakhir karena tidak aktif")
            sessions.revoke(store, state.get(_TOKEN_KEY), hashed=True)
            _forget(notice="Sesi berakhir karena tidak aktif. Silakan masuk kembali.")
            state[_COOKIE_KEY] = ""
            if saved.get("source") == "sso" and _sso_logged_in():
                st.logout()  # else the identity provider's cookie would sign the user straight back in
            saved = None
        else:
            viewer = _revalidate(store, settings, saved)
            session = _live_session(store, saved)
            if viewer is not None and session is not False:
                state[_SEEN_KEY] = now
                if session is not None:
                    sessions.touch(store, session, settings)
                _write_cookie(settings)
                return viewer
            if viewer is None:
                _forget(notice="Akun Anda tidak lagi aktif. Hubungi analis Diskominfo.")
            else:
                _forget(notice="Sesi Anda sudah berakhir. Silakan masuk kembali.")
            state[_COOKIE_KEY] = ""
            saved = None
    else:
        viewer = _resume_from_cookie(store, settings)
        if viewer is not None:
            _write_cookie(settings)
            return viewer

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
    for key in (_VIEWER_KEY, _SEEN_KEY, _TOKEN_KEY, _RAW_TOKEN_KEY, _COOKIE_SENT_KEY, "access_username",
                "access_password"):
        st.session_state.pop(key, None)
    if notice:
        st.session_state[_NOTICE_KEY] = notice


def _live_session(store, saved: dict):  # noqa: ANN001, ANN202
    """This session's server-side session: the Session, None when it has none (SSO, or signed
    in before sessions existed), False when it was signed out, revoked or has expired."""
    token_hash = st.session_state.get(_TOKEN_KEY)
    if saved.get("source") != "local" or not token_hash:
        return None
    session = sessions.find(store, token_hash, hashed=True)
    if session is None or session.username != saved.get("username"):
        return False
    return session


def _cookie_token() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE_NAME)
    except Exception:  # noqa: BLE001 - no request context (a bare test run): no cookie
        return None
    return value if isinstance(value, str) and value else None


def _resume_from_cookie(store, settings) -> Viewer | None:  # noqa: ANN001
    """A reload or a new tab: the cookie's token, if its session is live and its account active."""
    token = _cookie_token()
    if not token:
        return None
    session = sessions.find(store, token)
    viewer = None
    if session is not None and session.source == "local":
        viewer = _revalidate(store, settings, {"username": session.username, "source": "local"})
    if viewer is None:
        st.session_state[_COOKIE_KEY] = ""  # a dead token: tell the browser to drop it
        return None
    sessions.touch(store, session, settings)
    _remember(viewer, source="local")
    st.session_state[_TOKEN_KEY] = session.token_hash
    st.session_state[_COOKIE_SENT_KEY] = 0.0  # renew the cookie's Max-Age in this run
    st.session_state[_COOKIE_KEY] = st.session_state[_RAW_TOKEN_KEY] = token
    audit.record(store, viewer.username, "signin", "sesi dilanjutkan (cookie)")
    return viewer


def _cookie_script(token: str, max_age: int) -> str:
    """A script that has the session cookie written (or, with an empty token, deleted).

    Under serve.py the server's route sets it HttpOnly from a one-time code (the token never
    reaches page script); else the script writes it itself (`document.cookie`, not HttpOnly).
    """
    if cookies.active():
        body = json.dumps(cookies.offer(token, max_age) if token else cookies.DELETE)
        return (
            "<script>fetch(" + json.dumps(cookies.ROUTE) + ",{method:'POST',credentials:'same-origin',"
            "cache:'no-store',body:" + body + "});</script>"
        )
    value = json.dumps(f"{COOKIE_NAME}={token}; Path=/; Max-Age={max_age}; SameSite=Strict")
    return (
        "<script>(function(){var c=" + value + ";"
        "if(location.protocol==='https:'){c+='; Secure';}"
        "document.cookie=c;})();</script>"
    )


def _write_cookie(settings) -> None:  # noqa: ANN001
    """Hand the browser the cookie this run owes it: a new token, a renewal, or a deletion."""
    state = st.session_state
    token = state.pop(_COOKIE_KEY, None)
    if token is None and state.get(_TOKEN_KEY) and time.time() - float(state.get(_COOKIE_SENT_KEY) or 0) > COOKIE_REFRESH_SECONDS:
        token = state.get(_RAW_TOKEN_KEY)  # renew the Max-Age of the cookie the browser holds
    if token is None:
        return
    max_age = int(float(settings.idle_timeout_hours) * 3600) if token else 0
    st.html(_cookie_script(token, max_age), unsafe_allow_javascript=True, width="content")
    if token:
        state[_COOKIE_SENT_KEY] = time.time()


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


def _requested_page() -> str | None:
    """The url path of the page the browser asked for in this run (a deep link), if any."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        name = ctx.pages_manager.intended_page_name if ctx is not None else None
    except Exception:  # noqa: BLE001 - Streamlit internals moved: no deep link is remembered
        return None
    return name if isinstance(name, str) and name else None


def take_next_page() -> str | None:
    """The url path a signed-out deep link asked for, once, after the sign-in (dashboard.py
    switches to it, so /terlambat opened signed out lands on Aduan Terlambat)."""
    return st.session_state.pop(_NEXT_PAGE_KEY, None)


def _show_sign_in(store, settings, sso: bool) -> None:  # noqa: ANN001
    _gate_screen()
    _write_cookie(settings)  # after a sign-out or with a dead token: the browser drops it
    wanted = _requested_page()
    if wanted:
        st.session_state[_NEXT_PAGE_KEY] = wanted
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
    result = accounts.authenticate(store, username, password, settings, client=client_address(settings))
    if result.ok and result.account is not None:
        viewer = viewer_for_account(result.account)
        token = sessions.create(store, viewer.username, settings)
        _remember(viewer, source="local")
        st.session_state[_TOKEN_KEY] = sessions.hash_token(token)
        st.session_state[_COOKIE_KEY] = st.session_state[_RAW_TOKEN_KEY] = token
        st.session_state.pop("access_password", None)
        st.rerun()
    if result.status is accounts.SignInStatus.DISABLED:
        st.error("Akun ini dinonaktifkan. Hubungi analis Diskominfo.")
    elif result.status is accounts.SignInStatus.THROTTLED:
        st.error(
            "Terlalu banyak percobaan masuk yang gagal. Demi keamanan, coba lagi dalam "
            f"{_seconds_text(result.retry_after)}."
        )
    elif result.retry_after > 0:
        st.error(
            "Nama pengguna atau kata sandi salah. Percobaan berikutnya dapat dilakukan dalam "
            f"{_seconds_text(result.retry_after)}."
        )
    else:
        st.error("Nama pengguna atau kata sandi salah.")


def _seconds_text(seconds: float) -> str:
    whole = max(1, int(-(-seconds // 1)))  # rounded up: never "0 detik"
    if whole < 120:
        return f"{whole} detik"
    return f"{-(-whole // 60)} menit"


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
            sessions.revoke(store, st.session_state.get(_TOKEN_KEY), hashed=True)
            audit.record(store, saved.get("username"), "signout", saved.get("source"))
        _forget(notice="Anda sudah keluar.")
        st.session_state[_COOKIE_KEY] = ""
        if saved.get("source") == "sso" and _sso_logged_in():
            st.logout()
        st.rerun()

