"""What a GeoReport v2 server honours, found out with a dozen calls (the Open311 sync's probe).

Each question is asked in a way whose answer cannot be mistaken for another: a date window that
holds the older half of the unfiltered listing (so an ignored filter shows the newer half, a
reversed one shows nothing until start and end are swapped), pages of two (so an ignored page
shows more than two, or the same two again), a page size above the cap (so a short first page
followed by a non-empty second one shows the cap). The keys written are read by
`open311.describe_profile` and by the sync's reading plan.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from data_sources.store import utc_now
from data_sources.sync.http import SyncError
from data_sources.sync.lapor_api import iso_utc
from data_sources.sync.open311 import (
    KIND,
    MAX_WINDOW_DAYS,
    PROFILE_VERSION,
    Open311Connector,
    describe_profile,
    inside,
    request_id,
    requested_at,
    services_map,
)

logger = logging.getLogger(__name__)

PROBE_PAGE = 2  # page size of the paging test
FIELDS = ("service_code", "service_name", "agency_responsible", "expected_datetime", "updated_datetime")


def _short(message: str) -> str:
    """A refusal without its call label and URL, for the profile's notes."""
    message = re.sub(r"\s*\[[^\]]*\]\s*$", "", message)
    return message.split(": ", 1)[1] if ": " in message else message


def _ids(records: list[Any]) -> list[str]:
    return [rid for rid in (request_id(r) for r in records) if rid is not None]


def probe_server(conn: Open311Connector, now: datetime) -> dict[str, Any]:
    """The profile of the server behind `conn` (see the module docstring)."""
    name = conn.name
    notes: list[str] = []
    profile: dict[str, Any] = {
        "version": PROFILE_VERSION,
        "base_url": conn.base_url,
        "probed_at": iso_utc(now),
        "notes": notes,
    }

    # 1. The listing without any filter: the reference every other answer is compared with.
    baseline = conn.try_get({}, f"{name} probe: tanpa filter")
    if isinstance(baseline, str):
        if not conn.jurisdiction:
            raise SyncError(
                f"server menolak daftar tanpa filter ({baseline}). Bila server meminta "
                f"jurisdiction_id (FixMyStreet dan server multi-kota), isi jurisdiction_id di "
                f"[sources.{name}]."
            )
        notes.append(f"daftar tanpa filter ditolak: {_short(baseline)}")
        # Some servers only answer with a window: take the last 90 days as the reference.
        baseline = conn.try_get(
            {"start_date": iso_utc(now - timedelta(days=90)), "end_date": iso_utc(now)},
            f"{name} probe: 90 hari terakhir",
        )
        if isinstance(baseline, str):
            raise SyncError(f"server tidak mencantumkan permintaan apa pun: {baseline}")
    profile["listed_unfiltered"] = len(baseline)
    ids = _ids(baseline)
    times = [(t, rid) for t, rid in ((requested_at(r)[0], request_id(r)) for r in baseline) if t and rid]

    # 2. Order and fields, from the reference listing.
    order = [t for t, _ in times]
    if len(set(order)) > 1:
        if all(a >= b for a, b in zip(order, order[1:], strict=False)):
            profile["order"] = "newest_first"
        elif all(a <= b for a, b in zip(order, order[1:], strict=False)):
            profile["order"] = "oldest_first"
        else:
            profile["order"] = "unknown"
    else:
        profile["order"] = "unknown"
    records = [r for r in baseline if isinstance(r, Mapping)]
    if records:
        valued = {f: sum(r.get(f) is not None for r in records) for f in FIELDS}
        keyed = {f: sum(f in r for r in records) for f in FIELDS}
        profile["fields_missing"] = [f for f in FIELDS if valued[f] == 0]
        profile["fields_partial"] = [f for f in FIELDS if valued[f] and keyed[f] < len(records)]
        has_null = any(v is None for r in records for v in r.values())
        sometimes_absent = any(0 < keyed[f] < len(records) for f in FIELDS)
        profile["nulls"] = "sent" if has_null else "omitted" if sometimes_absent else "unknown"
        agencies = [r.get("agency_responsible") for r in records if r.get("agency_responsible") is not None]
        profile["agency_shape"] = (
            "list" if any(isinstance(a, list) for a in agencies) else "text" if agencies else "absent"
        )
        kinds = {type(r.get("service_request_id")).__name__ for r in records}
        profile["id_type"] = "integer" if kinds == {"int"} else "mixed" if "int" in kinds else "text"

    # 3. jurisdiction_id: required, deciding, or indifferent.
    if conn.jurisdiction:
        without = dict(conn.base_params)
        without.pop("jurisdiction_id", None)
        saved, conn.base_params = conn.base_params, without
        try:
            other = conn.try_get({}, f"{name} probe: tanpa jurisdiction_id")
        finally:
            conn.base_params = saved
        if isinstance(other, str):
            profile["jurisdiction"] = "required"
        else:
            profile["jurisdiction"] = "optional" if set(_ids(other)) == set(ids) else "narrows"
    else:
        profile["jurisdiction"] = "not_configured"

    # 4. Paging, and the server's real cap on one reply.
    _probe_paging(conn, profile, ids)

    # 5. Date windows.
    _probe_dates(conn, profile, times)

    # 6. Status filters.
    _probe_status(conn, profile, records)

    # 7. Reads by id.
    if ids:
        pair = ids[:2]
        listed = conn.try_get({"service_request_id": ",".join(pair)}, f"{name} probe: service_request_id")
        profile["by_id_list"] = not isinstance(listed, str) and set(_ids(listed)) == set(pair)
        one = conn.try_get({}, f"{name} probe: requests/{{id}}.json", url=conn.by_id_url(ids[0]))
        profile["by_id_path"] = not isinstance(one, str) and _ids(one)[:1] == ids[:1]

    # 8. services.json (categories for requests without service_name).
    found = conn.try_get({}, f"{name} probe: services.json", url=conn.services_url)
    conn.services = None if isinstance(found, str) else services_map(found)
    profile["services"] = None if conn.services is None else len(conn.services)
    profile["leading_zero_json"] = conn.repaired
    return profile


def _probe_paging(conn: Open311Connector, profile: dict[str, Any], ids: list[str]) -> None:
    name = conn.name
    pp, sp = conn.page_param, conn.per_page_param
    first = conn.try_get({pp: 1, sp: PROBE_PAGE}, f"{name} probe: halaman 1 isi {PROBE_PAGE}")
    if isinstance(first, str):
        profile["paging"] = "refused"
        profile["notes"].append(f"paging ditolak: {_short(first)}")
    elif len(ids) <= PROBE_PAGE:
        profile["paging"] = "unknown"
    elif len(first) > PROBE_PAGE:
        profile["paging"] = "ignored"
    else:
        second = conn.try_get({pp: 2, sp: PROBE_PAGE}, f"{name} probe: halaman 2 isi {PROBE_PAGE}")
        fresh = not isinstance(second, str) and second and not set(_ids(second)) & set(_ids(first))
        profile["paging"] = "honoured" if fresh else "ignored"
    profile["cap"], profile["cap_known"] = (len(ids) or None), False
    if profile["paging"] != "honoured":
        return  # the unfiltered listing's size is the suspected cap: a reply that long is split
    size = conn.per_page
    big = conn.try_get({pp: 1, sp: size}, f"{name} probe: halaman 1 isi {size}")
    if isinstance(big, str):
        profile["notes"].append(f"page_size {size} ditolak: {_short(big)}")
        profile["cap"], profile["cap_known"] = PROBE_PAGE, True
        return
    if len(big) >= size:
        profile["cap"], profile["cap_known"] = None, False  # no cap at or below our page size
        return
    nxt = conn.try_get({pp: 2, sp: size}, f"{name} probe: halaman 2 isi {size}")
    if not isinstance(nxt, str) and nxt and not set(_ids(nxt)) & set(_ids(big)):
        profile["cap"], profile["cap_known"] = len(big), True  # a short page with more after it
    else:
        profile["cap"], profile["cap_known"] = None, False  # everything fits in one page


def _probe_dates(
    conn: Open311Connector,
    profile: dict[str, Any],
    times: list[tuple[datetime, str]],
) -> None:
    name = conn.name
    if not times:
        profile["dates"] = "unknown"
        return
    ordered = sorted(times)
    distinct = sorted({t for t, _ in ordered})
    oldest = distinct[0]
    if len(distinct) > 1:
        # The older half: an ignoring server shows the newer half too.
        split = distinct[(len(distinct) - 1) // 2]
        start, end = oldest - timedelta(seconds=1), split + (distinct[(len(distinct) + 1) // 2] - split) / 2
    else:
        start, end = oldest - timedelta(days=1), oldest + timedelta(seconds=1)
    end = min(end, start + timedelta(days=MAX_WINDOW_DAYS))
    expected = {rid for t, rid in ordered if start <= t <= end}
    forward = conn.try_get(
        {"start_date": iso_utc(start), "end_date": iso_utc(end)}, f"{name} probe: jendela tanggal"
    )
    if isinstance(forward, str):
        profile["dates"] = "refused"
        profile["notes"].append(f"filter tanggal ditolak: {_short(forward)}")
        return
    got = set(_ids(forward))
    outside = [r for r in forward if inside(r, start, end) is False]
    if outside:
        profile["dates"] = "ignored"
        return
    if got >= expected and got:
        if len(distinct) == 1:
            # One moment only: a window before it must come back empty.
            before = conn.try_get(
                {
                    "start_date": iso_utc(oldest - timedelta(days=3)),
                    "end_date": iso_utc(oldest - timedelta(days=2)),
                },
                f"{name} probe: jendela kosong",
            )
            if not isinstance(before, str) and before:
                profile["dates"] = "ignored"
                return
        profile["dates"] = "honoured"
        return
    swapped = conn.try_get(
        {"start_date": iso_utc(end), "end_date": iso_utc(start)}, f"{name} probe: jendela ditukar"
    )
    if not isinstance(swapped, str) and swapped and all(inside(r, start, end) is not False for r in swapped):
        if set(_ids(swapped)) >= expected:
            profile["dates"] = "reversed"
            return
    profile["dates"] = "empty" if not got else "fewer"
    profile["notes"].append(
        f"jendela {start:%Y-%m-%d}..{end:%Y-%m-%d} memberi {len(got)} permintaan, tanpa filter "
        f"ada {len(expected)} di dalamnya: filter tanggal tidak dipakai"
    )


def _probe_status(conn: Open311Connector, profile: dict[str, Any], records: list[Mapping[str, Any]]) -> None:
    name = conn.name
    statuses = [str(r.get("status") or "").strip().lower() for r in records]
    present = sorted({s for s in statuses if s})
    if not present:
        return
    wanted = "open" if "open" in present else present[0]
    reply = conn.try_get({"status": wanted}, f"{name} probe: status={wanted}")
    if isinstance(reply, str):
        profile["status_filter"] = "refused"
    elif not reply:
        profile["status_filter"] = "empty"
    elif all(str(r.get("status") or "").strip().lower() == wanted for r in reply if isinstance(r, Mapping)):
        profile["status_filter"] = "honoured" if len(present) > 1 or len(reply) > 0 else "unknown"
    else:
        profile["status_filter"] = "ignored"
    if profile["status_filter"] == "honoured" and profile.get("cap") and not profile.get("cap_known"):
        _cap_by_status(conn, profile, reply, present)
    both = conn.try_get({"status": "open,closed"}, f"{name} probe: status=open,closed")
    if isinstance(both, str):
        profile["status_list"] = "refused"
    else:
        profile["status_list"] = "empty" if not both and records else "honoured"


def _cap_by_status(
    conn: Open311Connector, profile: dict[str, Any], first: list[Any], present: list[str]
) -> None:
    """Settle a suspected cap with status filters: the parts of a capped listing add up to more.

    Without paging the unfiltered listing's size is only a suspected cap. Asked per status, a
    capped server shows more requests in all than the listing held; an uncapped one shows
    exactly the listing, each part shorter than it.
    """
    listed = int(profile["cap"])
    parts = [first]
    for status in ("open", "closed"):
        if status in present and status != str(first[0].get("status", "")).strip().lower():
            reply = conn.try_get({"status": status}, f"{conn.name} probe: status={status}")
            if isinstance(reply, str):
                return
            parts.append(reply)
    ids = [set(_ids(part)) for part in parts]
    total = len(set().union(*ids))
    if total > listed:
        profile["cap_known"] = True  # the listing was cut at its size
    elif total == listed and all(len(part) < listed for part in ids) and set(present) <= {"open", "closed"}:
        profile["cap"], profile["cap_known"] = None, False  # every request fits in one reply


def run_probe_cli(name: str, configured: dict[str, Any]) -> int:
    """`sync --probe SOURCE`: what an Open311 server honours, in Indonesian; stores nothing."""
    config = configured.get(name)
    if not isinstance(config, dict) or config.get("kind") != KIND:
        kinds = ", ".join(n for n, c in configured.items() if isinstance(c, dict) and c.get("kind") == KIND)
        print(
            f"Sumber {name!r} bukan sumber Open311 yang dikonfigurasi; --probe hanya untuk kind = "
            f'"open311". Sumber Open311: {kinds or "(tidak ada)"}',
            file=sys.stderr,
        )
        return 2
    try:
        connector = Open311Connector(name, config)
    except (SyncError, TypeError, ValueError) as exc:
        print(f"Konfigurasi [sources.{name}] tidak sah: {exc}", file=sys.stderr)
        return 2
    try:
        profile = connector.probe(utc_now())
    except SyncError as exc:
        print(f"{name}: pemeriksaan server GAGAL: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a message, never a traceback
        logger.debug("probe of %s failed", name, exc_info=True)
        print(f"{name}: pemeriksaan server GAGAL: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        connector.close()
    print(f"{name} ({connector.url}): yang dihormati server ({connector.calls} panggilan, tidak ada yang disimpan)")
    for line in describe_profile(profile):
        print(f"  - {line}")
    return 0
