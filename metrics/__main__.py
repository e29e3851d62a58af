"""Command line of the figures: `python -m metrics report|briefing` (DATA.md "Commands").

The flags are a contract for cron jobs and acceptance checks. Errors print one clear line on
stderr and exit non-zero; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A problem to report to the user in one line, without a traceback."""


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def parse_instant(text: str, zone: str) -> datetime:
    """An ISO 8601 instant as aware UTC; without an offset it is local time in `zone` (KPI.md).

    A bare date means the end of that local day, so `--as-of 2026-01-31` is "at the close of
    31 January".
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), time(23, 59, 59, 999999))
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(
            f"--as-of is not an ISO 8601 timestamp: {text!r} (e.g. 2026-01-31T17:00:00+08:00)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return parsed.astimezone(ZoneInfo("UTC"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m metrics",
        description="KPI figures of complaint handling (KPI.md): report table and PDF briefing.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def period_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--from", dest="date_from", required=True, type=parse_date,
                       help="first local submission date of the period (YYYY-MM-DD)")
        p.add_argument("--to", dest="date_to", required=True, type=parse_date,
                       help="last local submission date of the period, included")
        p.add_argument("--as-of", dest="as_of",
                       help="evaluate as of this ISO 8601 instant (no offset = local time; a bare "
                            "date = end of that day); default now")
        p.add_argument("--db", help="database URL (default: settings, else data/complaints.db)")

    p = sub.add_parser("report", help="the per-OPD KPI table plus a TOTAL row")
    period_flags(p)
    p.add_argument("--format", choices=("csv", "json", "xlsx"), default="csv",
                   help="output format (default csv)")
    p.add_argument("--output", help="output file (default stdout; required for xlsx)")

    p = sub.add_parser("briefing", help="the PDF briefing for leadership meetings")
    period_flags(p)
    p.add_argument("--output", required=True, help="PDF file to write")
    return parser


def _open_store(db: str | None):  # noqa: ANN202 - Store and Settings, imported lazily
    from core.settings import load_settings
    from data_sources.store import Store

    settings = load_settings(db_url=db)
    if settings.is_sqlite:
        path = settings.db_url.split("///", 1)[-1]
        if path and path != ":memory:" and not Path(path).exists():
            raise CliError(
                f"no database at {path}; import data first (python -m data_sources import FILE) "
                "or pass --db URL"
            )
    try:
        store = Store.open(settings.db_url, settings)
    except Exception as exc:  # noqa: BLE001 - any connection failure becomes one clear line
        raise CliError(f"cannot open the database: {exc.__class__.__name__}: {exc}") from None
    return store, store.settings


def _filters(args: argparse.Namespace, timezone: str):  # noqa: ANN202
    from metrics.filters import Filters, now_utc

    if args.date_to < args.date_from:
        raise CliError(f"--to {args.date_to} is before --from {args.date_from}")
    as_of = parse_instant(args.as_of, timezone) if args.as_of else now_utc()
    return Filters(date_from=args.date_from, date_to=args.date_to, as_of=as_of)


def _audit_export(store, what: str, output: str | None) -> None:  # noqa: ANN001
    """Exports from the command line are audited like downloads in the app (access issue)."""
    from access import audit

    audit.record(store, "cli", "export", f"{what} -> {output or 'stdout'}")


def run_report(args: argparse.Namespace) -> int:
    from metrics.export import report_table, write_report
    from metrics.kpi import admin_figures

    if args.format == "xlsx" and not args.output:
        raise CliError("--format xlsx needs --output FILE.xlsx")
    store, settings = _open_store(args.db)
    try:
        filters = _filters(args, settings.kpi.timezone)
        table = report_table(store, filters, settings)
        admin = admin_figures(store, filters, settings) if args.format == "xlsx" else None
        try:
            write_report(table, args.format, args.output, filters, settings, admin=admin)
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        _audit_export(store, f"report {args.format} {filters.date_from}..{filters.date_to}", args.output)
    finally:
        store.dispose()
    if args.output:
        print(f"{len(table) - 1} OPD rows and TOTAL written to {args.output}", file=sys.stderr)
    return 0


def run_briefing(args: argparse.Namespace) -> int:
    try:
        from metrics.briefing import write_briefing
    except ImportError as exc:
        raise CliError(f"the briefing is not available: {exc}") from None
    store, settings = _open_store(args.db)
    try:
        filters = _filters(args, settings.kpi.timezone)
        try:
            write_briefing(store, filters, settings, Path(args.output))
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        _audit_export(store, f"briefing pdf {filters.date_from}..{filters.date_to}", args.output)
    finally:
        store.dispose()
    print(f"briefing written to {args.output}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "report":
            return run_report(args)
        return run_briefing(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # `... | head` closed the pipe: not an error worth a message
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback to users
        print(f"error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
