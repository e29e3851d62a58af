"""The person to call for each OPD (its head or LAPOR! liaison officer): kept, validated, audited.

`python -m data_sources opd contact OPD ...`, the Data page and the morning messages
(`python -m metrics notify`) all use these functions. A WhatsApp number is stored as digits
in international form (62...), whatever the analyst typed (0812-..., +62 812 ...); an e-mail
address must be a plain address; an OPD the store does not know is refused, so a typo never
creates a contact no message will ever reach. Every change writes an audit entry in the same
transaction.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from data_sources import schema
from data_sources.audit_log import audit_row
from data_sources.store import alias_key

contacts = schema.opd_contacts

WHATSAPP_MIN_DIGITS = 11  # 62 + the shortest Indonesian mobile number without its 0 (9 digits)
WHATSAPP_MAX_DIGITS = 15  # E.164's limit
TEXT_MAX = 200
EMAIL_MAX = 254
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^(?P<local>{_LOCAL})@(?P<domain>(?:{_LABEL}\.)+[A-Za-z]{{2,63}})$")
_PHONE_SEPARATORS = re.compile(r"[\s().\-/]+")


class ContactError(ValueError):
    """A contact change refused, with a message in Indonesian for the analyst."""


@dataclass(frozen=True)
class OpdContact:
    """Who to call for an OPD; empty fields are None."""

    opd: str
    name: str | None = None
    role: str | None = None
    whatsapp: str | None = None  # digits, 62...
    email: str | None = None


def normalise_whatsapp(raw: str) -> str:
    """A WhatsApp number as digits in international form: 0812-3456-7890 -> 6281234567890."""
    text = _PHONE_SEPARATORS.sub("", str(raw).strip())
    if text.startswith("+"):
        text = text[1:]
    elif text.startswith("00"):
        text = text[2:]
    if not text.isdigit() or not text.isascii():
        raise ContactError(
            f"Nomor WhatsApp tidak sah: '{raw}'. Gunakan angka saja, mis. 081234567890 atau +6281234567890."
        )
    if text.startswith("0"):
        text = "62" + text[1:]
    if not text.startswith("62"):
        raise ContactError(
            f"Nomor WhatsApp tidak sah: '{raw}'. Nomor harus diawali 08, +62 atau 62."
        )
    if not WHATSAPP_MIN_DIGITS <= len(text) <= WHATSAPP_MAX_DIGITS:
        raise ContactError(
            f"Nomor WhatsApp tidak sah: '{raw}' ({len(text)} angka dalam bentuk 62...; "
            f"seharusnya {WHATSAPP_MIN_DIGITS}-{WHATSAPP_MAX_DIGITS} angka)."
        )
    return text


def normalise_email(raw: str) -> str:
    """A plain e-mail address (no display name, ASCII), domain lower-cased."""
    text = str(raw).strip()
    display, address = parseaddr(text)
    match = _EMAIL.match(text)
    if display or address != text or match is None or len(text) > EMAIL_MAX or len(match["local"]) > 64:
        raise ContactError(f"Alamat email tidak sah: '{raw}'. Contoh yang benar: kadis@example.go.id")
    return f"{match['local']}@{match['domain'].lower()}"


def _clean_text(value: str, label: str) -> str | None:
    text = " ".join(str(value).split())
    if len(text) > TEXT_MAX:
        raise ContactError(f"{label} terlalu panjang ({len(text)} karakter; paling banyak {TEXT_MAX}).")
    if not text.isprintable():
        raise ContactError(f"{label} memuat karakter yang tidak dapat dicetak.")
    return text or None


def resolve_contact_opd(store: Any, opd: str) -> str:
    """The canonical name of the OPD `opd` spells (reference name, alias, or a name in the data)."""
    text = " ".join(str(opd or "").split())
    if not text:
        raise ContactError("Nama OPD tidak boleh kosong.")
    key = alias_key(text)
    known = store.opd_resolver()
    if key in known:
        return known[key]
    in_data = [
        r[0]
        for r in store.execute(
            select(schema.complaints.c.opd).where(schema.complaints.c.opd.is_not(None)).distinct()
        ).rows
    ]
    for name in in_data:
        if alias_key(name) == key:
            return name
    raise ContactError(
        f"OPD tidak dikenal: '{text}'. Lihat daftar dengan 'python -m data_sources opd list' "
        "atau tambahkan OPD rujukan dengan 'python -m data_sources opd add NAMA'."
    )


def _row_contact(row: Any) -> OpdContact:
    return OpdContact(opd=row.opd, name=row.name, role=row.role, whatsapp=row.whatsapp, email=row.email)


def list_contacts(store: Any) -> dict[str, OpdContact]:
    """Every OPD's contact, keyed by the canonical OPD name, in name order."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(contacts).order_by(contacts.c.opd)).fetchall()
    return {row.opd: _row_contact(row) for row in rows}


def contacts_overview(store: Any) -> list[dict[str, Any]]:
    """The contacts with when and by whom they were last changed (the Data page's table)."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(contacts).order_by(contacts.c.opd)).fetchall()
    return [
        {"opd": r.opd, "name": r.name, "role": r.role, "whatsapp": r.whatsapp, "email": r.email,
         "updated_at": r.updated_at, "updated_by": r.updated_by}
        for r in rows
    ]


def set_contact(
    store: Any,
    opd: str,
    *,
    name: str | None = None,
    role: str | None = None,
    whatsapp: str | None = None,
    email: str | None = None,
    actor: str,
) -> OpdContact:
    """Create or change the contact of an OPD. A field left None keeps its value; "" clears it.

    Raises ContactError (message in Indonesian) for an unknown OPD or an invalid value;
    nothing is written then.
    """
    canonical = resolve_contact_opd(store, opd)
    changes: dict[str, str | None] = {}
    if name is not None:
        changes["name"] = _clean_text(name, "Nama")
    if role is not None:
        changes["role"] = _clean_text(role, "Jabatan")
    if whatsapp is not None:
        changes["whatsapp"] = normalise_whatsapp(whatsapp) if whatsapp.strip() else None
    if email is not None:
        changes["email"] = normalise_email(email) if email.strip() else None
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        existing = conn.execute(select(contacts).where(contacts.c.opd == canonical)).first()
        if existing is None:
            if not changes:
                raise ContactError(
                    f"Belum ada kontak untuk {canonical}; isi sedikitnya nama, WhatsApp atau email."
                )
            conn.execute(insert(contacts).values(opd=canonical, updated_at=now, updated_by=actor, **changes))
            verb = "ditambahkan"
        else:
            conn.execute(
                update(contacts).where(contacts.c.id == existing.id)
                .values(updated_at=now, updated_by=actor, **changes)
            )
            verb = "diubah"
        labels = {"name": "nama", "role": "jabatan", "whatsapp": "WhatsApp", "email": "email"}
        fields = ", ".join(labels[k] for k in changes) or "tanpa perubahan"
        # Which fields changed, not their values: the log is read by more people than contacts.
        audit_row(conn, actor, "opd_contact", f"kontak {canonical} {verb} ({fields})")
        row = conn.execute(select(contacts).where(contacts.c.opd == canonical)).first()
    return _row_contact(row)


def remove_contact(store: Any, opd: str, *, actor: str) -> str:
    """Remove an OPD's contact; returns the canonical OPD name. ContactError when there is none."""
    text = " ".join(str(opd or "").split())
    # A contact of an OPD since renamed away is still removable by its stored name.
    stored = {alias_key(name): name for name in list_contacts(store)}
    canonical = stored.get(alias_key(text)) if text else None
    if canonical is None:
        canonical = resolve_contact_opd(store, text)  # raises for an unknown OPD
        raise ContactError(f"Belum ada kontak untuk {canonical}; tidak ada yang dihapus.")
    with store.engine.begin() as conn:
        removed = conn.execute(delete(contacts).where(contacts.c.opd == canonical)).rowcount
        if not removed:
            raise ContactError(f"Belum ada kontak untuk {canonical}; tidak ada yang dihapus.")
        audit_row(conn, actor, "opd_contact", f"kontak {canonical} dihapus")
    return canonical


def contact_count(store: Any) -> int:
    return int(store.execute(select(func.count()).select_from(contacts)).scalar() or 0)


# --- command line: python -m data_sources opd contact|list --------------------------------------
def _shown(value: str | None) -> str:
    text = value or "-"
    return text if text.isprintable() else repr(text)[1:-1]


def print_contacts(store: Any) -> None:
    """The contacts as a tab-separated table (part of `opd list`)."""
    found = list_contacts(store)
    if not found:
        print("Belum ada kontak OPD. Tambahkan dengan: python -m data_sources opd contact OPD "
              "--name NAMA --whatsapp NOMOR --email ALAMAT")
        return
    print(f"\nKontak OPD ({len(found)}):")
    print("opd\tnama\tjabatan\twhatsapp\temail")
    for c in found.values():
        print("\t".join(_shown(v) for v in (c.opd, c.name, c.role, c.whatsapp, c.email)))


def run_contact_cli(store: Any, args: Any) -> int:
    """`opd contact OPD [--name ...] [--remove]`: exit 0 when saved, 1 when refused."""
    try:
        if args.remove:
            if any(v is not None for v in (args.name, args.role, args.whatsapp, args.email)):
                raise ContactError("--remove tidak dapat digabung dengan --name/--role/--whatsapp/--email.")
            canonical = remove_contact(store, args.opd, actor="cli")
            print(f"Kontak {canonical} dihapus.")
            return 0
        if all(v is None for v in (args.name, args.role, args.whatsapp, args.email)):
            canonical = resolve_contact_opd(store, args.opd)
            contact = list_contacts(store).get(canonical)
            if contact is None:
                print(f"Belum ada kontak untuk {canonical}.")
            else:
                print("\t".join(_shown(v) for v in (contact.opd, contact.name, contact.role,
                                                     contact.whatsapp, contact.email)))
            return 0
        contact = set_contact(store, args.opd, name=args.name, role=args.role, whatsapp=args.whatsapp,
                              email=args.email, actor="cli")
    except ContactError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"Kontak {contact.opd} disimpan: nama {_shown(contact.name)}, jabatan {_shown(contact.role)}, "
          f"WhatsApp {_shown(contact.whatsapp)}, email {_shown(contact.email)}.")
    return 0
