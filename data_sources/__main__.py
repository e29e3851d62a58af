"""Command line of the data layer: `python -m data_sources import|sync|demo|quarantine|opd`.

The flags are a contract (DATA.md "Commands"): cron jobs and acceptance checks call them.
Each subcommand's work lives in its own module; this file only parses and dispatches.
"""

from __future__ import annotations

import argparse
import logging
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m data_sources",
        description="Load complaints into the store: files, API sync, demo data, quarantine.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("import", help="import a CSV or XLSX file")
    p.add_argument("file", help="CSV or XLSX file")
    p.add_argument("--source", help="source name (default: derived from the format)")
    p.add_argument(
        "--format", choices=("canonical", "lapor-export", "auto"), default="auto",
        help="file layout; auto detects it from the headers",
    )
    p.add_argument("--mapping", help="TOML mapping file for any other spreadsheet")
    p.add_argument("--db", help="database URL (default: settings, else data/complaints.db)")

    p = sub.add_parser("sync", help="pull from the configured API sources, incrementally")
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="source names (default: all)")
    p.add_argument("--db", help="database URL")

    p = sub.add_parser("demo", help="fill the store with realistic demo data")
    p.add_argument("--complaints", type=int, default=20_000, help="number of complaints")
    p.add_argument("--seed", type=int, default=42, help="random seed (same seed, same data)")
    p.add_argument(
        "--regions", type=int, default=1,
        help="spread the complaints over N kabupaten/kota of Kalimantan Selatan (1-13; default 1)",
    )
    p.add_argument("--db", help="database URL")

    p = sub.add_parser("quarantine", help="list rows set aside, with their reasons")
    p.add_argument("--source", help="only this source")
    p.add_argument("--limit", type=int, default=200, help="at most this many rows")
    p.add_argument("--db", help="database URL")

    p = sub.add_parser("backup", help="write a consistent backup of the store")
    p.add_argument("--output", required=True, help="backup file (.db for SQLite, .dump for PostgreSQL)")
    p.add_argument("--db", help="database URL")

    p = sub.add_parser("restore", help="replace the store with a backup")
    p.add_argument("file", help="backup file written by `backup`")
    p.add_argument("--db", help="database URL")

    p = sub.add_parser("opd", help="OPD reference names and aliases")
    opd_sub = p.add_subparsers(dest="opd_command", required=True)
    q = opd_sub.add_parser("list", help="reference OPDs and their aliases")
    q.add_argument("--db", help="database URL")
    q = opd_sub.add_parser("unmapped", help="OPD spellings found in data but not mapped")
    q.add_argument("--db", help="database URL")
    q = opd_sub.add_parser("add", help="add a reference OPD")
    q.add_argument("name")
    q.add_argument("--short-name")
    q.add_argument("--db", help="database URL")
    q = opd_sub.add_parser("alias", help="map a spelling to a reference OPD")
    q.add_argument("alias")
    q.add_argument("opd")
    q.add_argument("--db", help="database URL")
    q = opd_sub.add_parser("contact", help="the person to call for an OPD (morning messages)")
    q.add_argument("opd", help="OPD name (reference name or a known spelling)")
    q.add_argument("--name", help="the contact's name")
    q.add_argument("--role", help="the contact's role, e.g. Kepala Dinas, admin LAPOR!")
    q.add_argument("--whatsapp", help="WhatsApp number: 08..., +62... or 62...; '' clears it")
    q.add_argument("--email", help="e-mail address; '' clears it")
    q.add_argument("--remove", action="store_true", help="remove the OPD's contact")
    q.add_argument("--db", help="database URL")
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migrations are routine, not news
    args = build_parser().parse_args(argv)
    try:
        if args.command == "import":
            from data_sources.importer import run_import_cli

            return run_import_cli(args)
        if args.command == "sync":
            from data_sources.sync import run_sync_cli

            return run_sync_cli(args)
        if args.command == "demo":
            from data_sources.demo import run_demo_cli

            return run_demo_cli(args)
        if args.command == "quarantine":
            from data_sources.importer import run_quarantine_cli

            return run_quarantine_cli(args)
        if args.command in ("backup", "restore"):
            return _backup_cli(args)
        if args.command == "opd":
            from data_sources.opd_names import run_opd_cli

            return run_opd_cli(args)
    except KeyboardInterrupt:
        print("Dibatalkan / interrupted.", file=sys.stderr)
        return 130
    return 2


def _backup_cli(args: argparse.Namespace) -> int:
    from core.settings import load_settings
    from data_sources import backup as backups

    url = load_settings(db_url=args.db).db_url
    try:
        if args.command == "backup":
            path = backups.backup(url, args.output)
            print(f"Cadangan ditulis / backup written: {path} ({path.stat().st_size:,} bytes)")
        else:
            backups.restore(url, args.file)
            print(f"Dipulihkan dari / restored from: {args.file}")
    except backups.BackupError as exc:
        print(f"Gagal / failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
