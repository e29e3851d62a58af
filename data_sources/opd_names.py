"""OPD reference names and their aliases: `python -m data_sources opd list|unmapped|add|alias`.

Sources spell the same department many ways ("Dinas Kesehatan", "DINKES", "Dinas Kesehatan
Kab. HST"). The alias table maps each spelling to one reference OPD; spellings found in the data
that map to nothing are listed for an analyst to resolve with `opd add` or `opd alias`.
"""

from __future__ import annotations

import argparse
import logging
import sys

import pandas as pd
from sqlalchemy import select

# Alembic announces its plugins when imported; the command line shows the answer only.
logging.getLogger("alembic").setLevel(logging.WARNING)

from data_sources import schema  # noqa: E402
from data_sources.contacts import print_contacts, run_contact_cli  # noqa: E402
from data_sources.store import Store, alias_key  # noqa: E402


def list_opds(store: Store) -> pd.DataFrame:
    """Reference OPDs with their aliases (one row per OPD, aliases joined) and complaint counts."""
    opds = store.frame(select(schema.opds.c.id, schema.opds.c.name, schema.opds.c.short_name)
                       .order_by(schema.opds.c.name))
    if opds.empty:
        return pd.DataFrame(columns=["name", "short_name", "aliases", "complaints"])
    aliases = store.frame(select(schema.opd_aliases.c.opd_id, schema.opd_aliases.c.alias)
                          .order_by(schema.opd_aliases.c.alias))
    joined = aliases.groupby("opd_id")["alias"].agg(", ".join) if not aliases.empty else pd.Series(dtype=object)
    counts = store.frame(
        "SELECT opd, COUNT(*) AS complaints FROM complaints WHERE opd IS NOT NULL GROUP BY opd"
    )
    count_map = dict(zip(counts["opd"], counts["complaints"], strict=True)) if not counts.empty else {}
    opds["aliases"] = opds["id"].map(joined).fillna("")
    opds["complaints"] = opds["name"].map(count_map).fillna(0).astype(int)
    return opds[["name", "short_name", "aliases", "complaints"]]


def resolve_opd(store: Store, name: str) -> str | None:
    """The reference OPD a spelling stands for, or None."""
    return store.opd_resolver().get(alias_key(name))


def add_alias_checked(store: Store, alias: str, opd: str) -> tuple[str, int]:
    """Map `alias` to an existing reference OPD (found by any of its spellings).

    Returns (reference name, complaints re-pointed). Raises KeyError when the OPD is unknown,
    so a typo never creates a new department.
    """
    target = resolve_opd(store, opd)
    if target is None:
        raise KeyError(opd)
    return target, store.add_alias(alias, target)


def _open(args: argparse.Namespace) -> Store:
    db = getattr(args, "db", None)
    return Store.open(db) if db else Store.open()


def _clean(text: object) -> str:
    value = "" if text is None or (isinstance(text, float) and text != text) else str(text)
    return value if value.isprintable() else repr(value)[1:-1]


def run_opd_cli(args: argparse.Namespace) -> int:
    try:
        store = _open(args)
    except Exception as exc:  # noqa: BLE001 - any connection failure: a message, not a traceback
        print(f"Gagal membuka basis data: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 2
    try:
        command = args.opd_command
        if command == "list":
            table = list_opds(store)
            if table.empty:
                print("Belum ada OPD rujukan. Tambahkan dengan: python -m data_sources opd add NAMA")
            else:
                print("opd\tsingkatan\tpengaduan\talias")
                for row in table.itertuples(index=False):
                    print(f"{_clean(row.name)}\t{_clean(row.short_name)}\t{row.complaints}\t{_clean(row.aliases)}")
            print_contacts(store)
            return 0
        if command == "contact":
            return run_contact_cli(store, args)
        if command == "unmapped":
            table = store.unmapped_opds()
            if table.empty:
                print("Semua nama OPD di data sudah terpetakan.")
                return 0
            print(f"{len(table)} ejaan OPD belum terpetakan (nama di data\tpengaduan):")
            for row in table.itertuples(index=False):
                print(f"{_clean(row.opd)}\t{row.complaints}")
            print("Petakan dengan: python -m data_sources opd alias \"EJAAN\" \"NAMA OPD RUJUKAN\"")
            print("atau jadikan rujukan: python -m data_sources opd add \"NAMA OPD\"")
            return 0
        if command == "add":
            name = (args.name or "").strip()
            if not name:
                print("Nama OPD tidak boleh kosong.", file=sys.stderr)
                return 1
            existing = resolve_opd(store, name)
            if existing is not None and existing != name:
                print(f"'{name}' sudah merupakan ejaan dari OPD '{existing}'; tidak ditambahkan.",
                      file=sys.stderr)
                return 1
            before = int(store.execute("SELECT COUNT(*) FROM complaints WHERE opd = :n", {"n": name}).scalar() or 0)
            store.add_opd(name, short_name=getattr(args, "short_name", None))
            after = int(store.execute("SELECT COUNT(*) FROM complaints WHERE opd = :n", {"n": name}).scalar() or 0)
            print(f"OPD rujukan '{name}' tersedia; {after} pengaduan tercatat padanya"
                  + (f" ({after - before} dipindahkan dari ejaan lain)." if after > before else "."))
            return 0
        if command == "alias":
            alias = (args.alias or "").strip()
            if not alias:
                print("Ejaan (alias) tidak boleh kosong.", file=sys.stderr)
                return 1
            try:
                target, changed = add_alias_checked(store, alias, args.opd)
            except KeyError:
                print(f"OPD rujukan tidak dikenal: '{args.opd}'. Lihat daftar dengan "
                      "'python -m data_sources opd list' atau tambahkan dengan 'opd add'.",
                      file=sys.stderr)
                return 1
            print(f"'{alias}' sekarang dipetakan ke '{target}'; {changed} pengaduan diperbarui.")
            return 0
        print(f"Perintah opd tidak dikenal: {command}", file=sys.stderr)
        return 2
    finally:
        store.dispose()
