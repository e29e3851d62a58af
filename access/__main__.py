"""Command line for accounts: `python -m access user add|list|disable|enable|passwd` and `audit`.

Passwords come from a prompt (asked twice) or, for scripts, one line on standard input with
`--password-stdin`; they never appear in arguments, output or logs. Errors print one clear
line and exit non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from core.terminal import terminal_safe as safe

EXIT_ERROR = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m access", description="Akun dasbor dan log audit."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    user = sub.add_parser("user", help="kelola akun lokal")
    user_sub = user.add_subparsers(dest="user_command", required=True)

    p = user_sub.add_parser("add", help="tambah akun")
    p.add_argument("name", help="nama pengguna (tanpa spasi)")
    p.add_argument("--role", required=True, choices=("pimpinan", "analis", "opd"), help="peran")
    p.add_argument("--opd", help="OPD akun peran opd (nama baku OPD)")
    p.add_argument("--email", help="e-mail (opsional)")
    p.add_argument("--regions", help="batasi ke kode wilayah ini, dipisah koma, mis. 63.07,63.08")
    p.add_argument("--password-stdin", action="store_true", help="baca kata sandi dari satu baris stdin")
    p.add_argument("--db", help="URL basis data (bawaan: pengaturan, lalu data/complaints.db)")

    p = user_sub.add_parser("list", help="daftar akun")
    p.add_argument("--db", help="URL basis data")

    for name, text in (("disable", "nonaktifkan akun"), ("enable", "aktifkan kembali akun")):
        p = user_sub.add_parser(name, help=text)
        p.add_argument("name")
        p.add_argument("--db", help="URL basis data")

    p = user_sub.add_parser("passwd", help="ganti kata sandi (juga mengakhiri sesi akun itu)")
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true", help="baca kata sandi dari satu baris stdin")
    p.add_argument("--db", help="URL basis data")

    p = sub.add_parser("audit", help="tampilkan log audit terbaru")
    p.add_argument("--limit", type=int, default=50, help="paling banyak sekian entri")
    p.add_argument("--action", help="hanya tindakan ini, mis. signin_failed")
    p.add_argument("--db", help="URL basis data")
    return parser


class CliError(Exception):
    """A problem to report in one line to the person at the terminal."""


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise CliError("Tidak ada kata sandi di stdin.")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CliError("Kata sandi tidak dapat ditanyakan (tidak ada terminal); pakai --password-stdin.")
    try:
        first = getpass.getpass("Kata sandi: ")
        second = getpass.getpass("Ulangi kata sandi: ")
    except EOFError:
        raise CliError("Kata sandi tidak dibaca (tidak ada terminal); pakai --password-stdin.") from None
    if first != second:
        raise CliError("Kedua kata sandi tidak sama.")
    return first


def _open_store(db: str | None):  # noqa: ANN202
    from core.settings import load_settings
    from data_sources.store import Store

    settings = load_settings(db_url=db)
    try:
        return Store.open(settings.db_url, settings)
    except Exception as exc:  # noqa: BLE001 - any failure to open is one message, no traceback
        raise CliError(f"Basis data tidak dapat dibuka ({exc.__class__.__name__}).") from None


def _print_users(store) -> None:  # noqa: ANN001
    from access import accounts

    frame = accounts.list_users(store)
    if frame.empty:
        print("Belum ada akun. Buat akun analis pertama: .venv/bin/python -m access user add admin --role analis")
        return
    print(f"{'nama':<20} {'peran':<9} {'status':<10} {'gagal':>5} {'login terakhir':<17} opd")
    for row in frame.itertuples(index=False):
        status = "nonaktif" if row.disabled else "aktif"
        last = _instant(row.last_login_at)
        last_text = last.strftime("%Y-%m-%d %H:%M") if last else "-"
        opd = row.opd if isinstance(row.opd, str) else ""
        print(f"{safe(row.username):<20} {row.role:<9} {status:<10} {int(row.failed_attempts):>5} "
              f"{last_text:<17} {safe(opd)}")


def _instant(value):  # noqa: ANN001, ANN202
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).to_pydatetime()


def run(args: argparse.Namespace) -> int:
    from access import accounts, audit

    if args.command == "audit":
        store = _open_store(args.db)
        frame = audit.recent(store, args.limit, action=args.action)
        for row in frame.itertuples(index=False):
            mark = "ok " if row.ok else "GAGAL"
            print(f"{_instant(row.at):%Y-%m-%d %H:%M:%S}Z {mark:<5} {safe(row.action):<14} "
                  f"{safe(row.username or '-'):<20} {safe(row.detail or '')}")
        return 0

    command = args.user_command
    if command == "add" and args.role == "opd" and not (args.opd or "").strip():
        raise CliError("Akun peran opd harus menyebut OPD-nya: --opd \"Nama OPD\".")
    # Read the password before opening the store, so a typo costs no migration run.
    password = read_password(args.password_stdin) if command in ("add", "passwd") else None
    store = _open_store(args.db)
    try:
        if command == "add":
            account = accounts.create_user(
                store, args.name, args.role, password, opd=args.opd, email=args.email, actor="cli",
                regions=args.regions,
            )
            where = f", OPD {account.opd}" if account.opd else ""
            if account.regions:
                where += f", wilayah {','.join(account.regions)}"
            print(f"Akun {safe(account.username)} dibuat (peran {account.role}{safe(where)}).")
        elif command == "list":
            _print_users(store)
        elif command == "disable":
            accounts.disable_user(store, args.name, actor="cli")
            print(f"Akun {safe(args.name)} dinonaktifkan.")
        elif command == "enable":
            accounts.enable_user(store, args.name, actor="cli")
            print(f"Akun {safe(args.name)} diaktifkan kembali.")
        elif command == "passwd":
            accounts.set_password(store, args.name, password, actor="cli")
            print(f"Kata sandi {safe(args.name)} diganti; sesi akun itu yang masih terbuka diakhiri.")
    finally:
        store.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from access.accounts import AccountError

    try:
        return run(args)
    except (CliError, AccountError) as exc:
        print(f"Galat: {safe(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("Dibatalkan.", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last resort: a message, never a traceback
        print(f"Galat tak terduga: {exc.__class__.__name__}.", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
