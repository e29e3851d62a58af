"""Read CSV and XLSX files as a header plus chunks of raw rows, whatever their layout.

Both formats are streamed: CSV through the `csv` module (exact line numbers, quoted newlines,
rows with too many cells caught one by one), XLSX through openpyxl's read-only mode, so a
million-row file never sits in memory at once. The header is the first row with a `Tracking ID`
cell (a LAPOR! export, after its information rows) or else the first non-empty row.

Hostile files are refused or cut down with bounded memory: a file over `max_bytes`, an XLSX
whose zip directory declares more than `XLSX_MAX_UNCOMPRESSED` bytes or an implausible
compression ratio (a zip bomb), a CSV line over `MAX_LINE_CHARS` and a row over `MAX_COLUMNS`
cells (both set aside as bad rows, never parsed whole).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd

from data_sources.canonical import cell_text

CHUNK_ROWS = 50_000
HEADER_SCAN_ROWS = 50  # information rows a LAPOR! export may put above its table
LAPOR_HEADER_CELL = "tracking id"
XLSX_SUFFIXES = (".xlsx", ".xlsm")
csv.field_size_limit(16 * 1024 * 1024)  # long complaint bodies; the default 128 KiB is too small
MAX_LINE_CHARS = 16 * 1024 * 1024  # one physical CSV line; longer is read in pieces and set aside
MAX_COLUMNS = 1000  # a LAPOR! export has 26 columns, a city's 311 export a few dozen
# openpyxl holds sharedStrings.xml in memory even in read-only mode, so the zip directory's
# uncompressed sizes are checked before it opens anything. Sheet XML compresses 5-20x.
XLSX_MAX_UNCOMPRESSED = 2 * 1024 * 1024 * 1024
XLSX_MAX_RATIO = 100
XLSX_RATIO_MIN_BYTES = 10 * 1024 * 1024  # small parts may compress well without meaning harm
NOT_A_TABLE = "Berkas bukan tabel yang dapat dipakai"


class UnreadableFile(Exception):
    """Nothing could be read: missing file, not a table, no usable header. The message says why."""


@dataclass
class BadRow:
    record_no: int
    reason: str
    raw: dict[str, Any]


@dataclass
class RawChunk:
    frame: pd.DataFrame  # columns = header names, cells str / None
    record_numbers: list[int]  # line (CSV) or row (XLSX) number of each frame row
    bad_rows: list[BadRow] = field(default_factory=list)  # rows the reader itself could not use

    @property
    def rows(self) -> int:
        return len(self.frame) + len(self.bad_rows)


@dataclass
class Table:
    kind: str  # csv | xlsx
    header: list[str]
    header_row: int
    preamble: list[list[str | None]]  # rows above the header (a LAPOR! export's information rows)
    chunks: Iterator[RawChunk]
    messages: list[str] = field(default_factory=list)

    @property
    def is_lapor_export(self) -> bool:
        return any(h.strip().lower() == LAPOR_HEADER_CELL for h in self.header)


Source = str | Path | IO[bytes]


def _read_head(source: Source, size: int = 65536) -> bytes:
    if isinstance(source, str | Path):
        with open(source, "rb") as fh:
            return fh.read(size)
    pos = source.tell() if source.seekable() else None
    head = source.read(size)
    if pos is not None:
        source.seek(pos)
    return head if isinstance(head, bytes) else head.encode()


def _is_xlsx(head: bytes, filename: str) -> bool:
    if head.startswith(b"PK\x03\x04"):
        return True
    return filename.lower().endswith(XLSX_SUFFIXES) and len(head) == 0


def _encoding(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the head's end
            return "utf-8"
    try:
        head.decode("cp1252")  # what Excel on Windows writes
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _delimiter(text: str) -> str:
    """`,` `;` tab or `|`: the one a line of the first fifty uses most, counted outside quotes
    (a LAPOR! export saved as CSV starts with information rows that have no delimiter)."""
    best, best_count = ",", 0
    for line in text.splitlines()[:HEADER_SCAN_ROWS]:
        counts = dict.fromkeys(",;\t|", 0)
        quoted = False
        for ch in line:
            if ch == '"':
                quoted = not quoted
            elif not quoted and ch in counts:
                counts[ch] += 1
        for delimiter, count in counts.items():
            if count > best_count:
                best, best_count = delimiter, count
    return best


class _BoundedLines:
    """The lines of a text stream for csv.reader, each at most MAX_LINE_CHARS long.

    A longer line is read in pieces and dropped (csv.Error, a bad row) rather than handed to
    the parser, so a 100 MB line costs at most MAX_LINE_CHARS of memory. `count` is the number
    of physical lines read, the over-long one included, for exact line numbers.
    """

    def __init__(self, stream: IO[str], limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.count = 0

    def __iter__(self) -> _BoundedLines:
        return self

    def __next__(self) -> str:
        line = self.stream.readline(self.limit + 1)
        if not line:
            raise StopIteration
        self.count += 1
        if len(line) > self.limit:
            length = len(line)
            while line and not line.endswith("\n"):
                line = self.stream.readline(self.limit)
                length += len(line)
            raise csv.Error(f"baris lebih dari {self.limit:,} karakter ({length:,}); tidak dibaca")
        return line


def _too_many_cells(number: int, row: list[Any]) -> BadRow:
    return BadRow(number, f"baris punya {len(row):,} sel, paling banyak {MAX_COLUMNS:,}",
                  {"_sel_pertama": [str(v)[:200] for v in row[:20]]})


def _csv_rows(source: Source, head: bytes) -> tuple[Iterator[tuple[int, list[Any] | BadRow]], list[str]]:
    encoding = _encoding(head)
    messages = []
    if encoding not in ("utf-8", "utf-8-sig"):
        messages.append(f"Berkas bukan UTF-8; dibaca sebagai {encoding}.")
    if isinstance(source, str | Path):
        stream: IO[str] = open(source, encoding=encoding, errors="replace", newline="")  # noqa: SIM115
    else:
        stream = io.TextIOWrapper(source, encoding=encoding, errors="replace", newline="")
    sample = head.decode(encoding, errors="replace")
    delimiter = _delimiter(sample.lstrip("\ufeff"))

    def rows() -> Iterator[tuple[int, list[Any] | BadRow]]:
        try:
            lines = _BoundedLines(stream, MAX_LINE_CHARS)
            reader = csv.reader(lines, delimiter=delimiter)
            start = 1
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield start, BadRow(start, f"baris CSV tidak dapat dibaca: {exc}", {})
                    start = lines.count + 1
                    continue
                yield start, (_too_many_cells(start, row) if len(row) > MAX_COLUMNS else row)
                start = lines.count + 1
        finally:
            if isinstance(source, str | Path):
                stream.close()
            else:
                stream.detach()

    return rows(), messages


def check_xlsx_sizes(source: Source) -> None:
    """Refuse an XLSX whose zip directory promises more than the limits (a zip bomb).

    The declared sizes are safe to trust: Python's zipfile never inflates an entry past its
    declared size (a lying entry fails its CRC check instead).
    """
    pos = None if isinstance(source, str | Path) else source.tell()
    try:
        with zipfile.ZipFile(source) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFile(f"Berkas XLSX tidak dapat dibuka: {exc.__class__.__name__}: {exc}") from exc
    finally:
        if pos is not None:
            source.seek(pos)
    total = sum(e.file_size for e in entries)
    if total > XLSX_MAX_UNCOMPRESSED:
        raise UnreadableFile(
            f"{NOT_A_TABLE}: isi XLSX mengembang menjadi {total / 1024**3:,.1f} GB, "
            f"batasnya {XLSX_MAX_UNCOMPRESSED / 1024**3:,.0f} GB. Simpan sebagai CSV atau bagi berkasnya."
        )
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > XLSX_RATIO_MIN_BYTES and ratio > XLSX_MAX_RATIO:
            raise UnreadableFile(
                f"{NOT_A_TABLE}: bagian {entry.filename!r} memampat {ratio:,.0f} kali "
                f"({entry.file_size / 1024**2:,.0f} MB); berkas XLSX wajar paling banyak "
                f"{XLSX_MAX_RATIO} kali. Berkas ini tidak dibaca."
            )


def _xlsx_rows(source: Source) -> tuple[Iterator[tuple[int, list[Any]]], list[str]]:
    import openpyxl

    check_xlsx_sizes(source)
    try:
        # Formulas are read as their text: a complaint title "=HYPERLINK(...)" is data, kept as given.
        workbook = openpyxl.load_workbook(source, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise UnreadableFile(f"Berkas XLSX tidak dapat dibuka: {exc.__class__.__name__}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a corrupt file
        raise UnreadableFile(f"Berkas XLSX tidak dapat dibuka: {exc.__class__.__name__}: {exc}") from exc
    sheet = workbook.active if workbook.active is not None else workbook.worksheets[0]
    messages = []
    if len(workbook.worksheets) > 1:
        messages.append(f"Buku kerja punya {len(workbook.worksheets)} lembar; hanya '{sheet.title}' yang dibaca.")

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if len(values) > MAX_COLUMNS:
                    yield number, _too_many_cells(number, list(values))
                    continue
                yield number, [cell_text(v) for v in values]
        finally:
            workbook.close()

    return rows(), messages


def _size_of(source: Source) -> int | None:
    """The size in bytes of a path or a seekable file-like object (None when unknown)."""
    if isinstance(source, str | Path):
        try:
            return Path(source).stat().st_size
        except OSError:
            return None  # open_table reports the missing file
    size = getattr(source, "size", None)  # Streamlit's UploadedFile
    if isinstance(size, int):
        return size
    if source.seekable():
        pos = source.tell()
        end = source.seek(0, 2)
        source.seek(pos)
        return end
    return None


def _is_blank(row: list[Any]) -> bool:
    """No cell holds anything but whitespace (rows are str cells from CSV, str/None from XLSX)."""
    if not any(row):
        return True
    try:
        return not "".join(row).strip()
    except TypeError:  # XLSX: None next to cells cell_text already trimmed, so one is non-empty
        return False


def _header_names(cells: list[Any]) -> list[str]:
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(cells, start=1):
        name = (cell_text(cell) or f"kolom_{i}").lstrip("\ufeff").strip()
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    while names and names[-1].startswith("kolom_") and cells and cell_text(cells[len(names) - 1]) is None:
        names.pop()  # trailing empty header cells (Excel's phantom columns)
    return names


def open_table(
    source: Source,
    filename: str | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    is_header: Callable[[list[Any]], bool] | None = None,
    max_bytes: int | None = None,
) -> Table:
    """Open a CSV or XLSX file (path or binary file-like) and locate its header row.

    Raises `UnreadableFile` with a message for people when the file is missing, empty,
    corrupt, larger than `max_bytes`, a zip bomb, or has no header row.
    """
    name = filename or (str(source) if isinstance(source, str | Path) else getattr(source, "name", "") or "")
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.exists():
            raise UnreadableFile(f"Berkas tidak ditemukan: {path}")
        if path.is_dir():
            raise UnreadableFile(f"Ini folder, bukan berkas: {path}")
    if max_bytes is not None:
        size = _size_of(source)
        if size is not None and size > max_bytes:
            raise UnreadableFile(
                f"Berkas terlalu besar: {size / 1024**2:,.1f} MB, batasnya {max_bytes / 1024**2:,.0f} MB "
                f"({'max_import_mb' if isinstance(source, str | Path) else 'max_upload_mb'}). "
                "Bagi berkas menjadi beberapa bagian."
            )
    try:
        head = _read_head(source)
    except OSError as exc:
        raise UnreadableFile(f"Berkas tidak dapat dibaca: {exc}") from exc
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise UnreadableFile(f"Berkas kosong: {name}")
    if _is_xlsx(head, name):
        kind = "xlsx"
        rows, messages = _xlsx_rows(source)
    else:
        if name.lower().endswith((".xls",)) and head.startswith(b"\xd0\xcf\x11\xe0"):
            raise UnreadableFile("Format .xls lama tidak didukung; simpan ulang sebagai .xlsx atau CSV.")
        kind = "csv"
        rows, messages = _csv_rows(source, head)

    buffered: list[tuple[int, list[Any] | BadRow]] = []
    header_at: int | None = None
    try:
        for _ in range(HEADER_SCAN_ROWS):
            item = next(rows, None)
            if item is None:
                break
            buffered.append(item)
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupt sheet fails on its first rows
        raise UnreadableFile(f"Berkas tidak dapat dibaca: {exc.__class__.__name__}: {exc}") from exc
    candidates = [(i, r) for i, (_, r) in enumerate(buffered) if not isinstance(r, BadRow)]
    for i, row in candidates:
        if any(isinstance(c, str) and c.strip().lower() == LAPOR_HEADER_CELL for c in row):
            header_at = i
            break
    if header_at is None and is_header is not None:
        header_at = next((i for i, row in candidates if is_header(row)), None)
    if header_at is None:
        header_at = next((i for i, row in candidates if not _is_blank(row)), None)
    if header_at is None:
        bad = next((r for _, r in buffered if isinstance(r, BadRow)), None)
        why = f" Baris {bad.record_no}: {bad.reason}." if bad is not None else ""
        raise UnreadableFile(f"Tidak ada baris judul kolom (header) di {name or 'berkas'}.{why}")
    header_cells = buffered[header_at][1]
    assert not isinstance(header_cells, BadRow)
    header = _header_names(header_cells)
    if not header:
        raise UnreadableFile(f"Baris judul kolom kosong di {name or 'berkas'}.")
    preamble = [list(r) for _, r in buffered[:header_at] if not isinstance(r, BadRow)]
    rest = buffered[header_at + 1:]

    def all_rows() -> Iterator[tuple[int, list[Any] | BadRow]]:
        yield from rest
        yield from rows

    return Table(
        kind=kind,
        header=header,
        header_row=buffered[header_at][0],
        preamble=preamble,
        chunks=_chunks(all_rows(), header, chunk_rows),
        messages=messages,
    )


def _chunks(rows: Iterator[tuple[int, list[Any] | BadRow]], header: list[str], size: int) -> Iterator[RawChunk]:
    width = len(header)
    batch: list[list[Any]] = []
    numbers: list[int] = []
    bad: list[BadRow] = []

    def flush() -> RawChunk:
        frame = pd.DataFrame(batch, columns=header, dtype=object) if batch else pd.DataFrame(
            {h: pd.Series([], dtype=object) for h in header}
        )
        return RawChunk(frame=frame, record_numbers=numbers, bad_rows=bad)

    while True:
        try:
            item = next(rows, None)
        except Exception as exc:  # noqa: BLE001 - a corrupt file part-way: keep what was read
            if batch or bad:
                yield flush()
            raise UnreadableFile(
                f"Berkas rusak setelah baris {numbers[-1] if numbers else '?'}: "
                f"{exc.__class__.__name__}: {exc}"
            ) from exc
        if item is None:
            break
        number, row = item
        if isinstance(row, BadRow):
            bad.append(row)
        elif _is_blank(row):
            continue
        else:
            if len(row) > width:
                extra = row[width:]
                if not _is_blank(extra):
                    raw = {h: v for h, v in zip(header, row, strict=False)}
                    raw["_sel_tambahan"] = [v for v in extra[:20]]  # the quarantine keeps a sample
                    bad.append(BadRow(number, f"baris punya {len(row)} sel, judul kolom hanya {width}", raw))
                    continue
                row = row[:width]
            elif len(row) < width:
                row = [*row, *([None] * (width - len(row)))]
            batch.append(row)
            numbers.append(number)
        if len(batch) + len(bad) >= size:
            yield flush()
            batch, numbers, bad = [], [], []
    if batch or bad:
        yield flush()
