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
# openpyxl loads the shared strings whole: about 3.5 times the part's size at worst (millions of
# tiny strings). A bigger part is refused from the zip directory; CSV has no such part.
XLSX_MAX_SHARED_STRINGS = 100 * 1024 * 1024
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
    notes: list[str] = field(default_factory=list)  # what the reader noticed in these rows (for people)

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
    """The file's encoding from its byte-order mark, else from its first 64 KiB (UTF-8 when it
    decodes, else Windows-1252 as Excel on Windows writes). Later lines that are not valid in
    that encoding are decoded one by one (`_BoundedLines`), never silently replaced."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"  # Excel's "Unicode text"; the codec reads the mark and the byte order
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
    """The lines of a stream for csv.reader, each at most MAX_LINE_CHARS long.

    A longer line is read in pieces and dropped (csv.Error, a bad row) rather than handed to
    the parser, so a 100 MB line costs at most MAX_LINE_CHARS of memory. `count` is the number
    of physical lines read, the over-long one included, for exact line numbers.

    A binary stream is decoded line by line with `encoding`; a line that is not valid in it is
    decoded as Windows-1252 (Latin-1 for its five unused bytes) and its number kept in
    `fallback`, so a file that turns to Latin-1 after its first 64 KiB reads right and says so.
    `record` holds the physical lines of the record being parsed; `push_back` hands lines to
    the parser again (after a quote that was never closed).
    """

    def __init__(self, stream: IO[Any], limit: int, encoding: str | None = None) -> None:
        self.stream = stream
        self.limit = limit
        self.encoding = encoding
        self.count = 0
        self.record: list[str] = []
        self.pending: list[str] = []
        self._split: list[bytes] = []  # the rest of a byte line that held a lone \r
        self.fallback: list[int] = []
        self._fallback_seen: set[int] = set()

    def __iter__(self) -> _BoundedLines:
        return self

    def push_back(self, lines: list[str]) -> None:
        self.pending[:0] = lines
        self.count -= len(lines)

    def __next__(self) -> str:
        if self.pending:
            line = self.pending.pop(0)
            self.count += 1
            self.record.append(line)
            return line
        if self._split:
            raw = self._split.pop(0)
        else:
            raw = self.stream.readline(self.limit + 1)
            if not raw:
                raise StopIteration
            if len(raw) > self.limit:
                self.count += 1
                length = len(raw)
                newline = "\n" if isinstance(raw, str) else b"\n"
                while raw and not raw.endswith(newline):
                    raw = self.stream.readline(self.limit)
                    length += len(raw)
                raise csv.Error(f"baris lebih dari {self.limit:,} karakter ({length:,}); tidak dibaca")
            if isinstance(raw, bytes) and b"\r" in raw:
                # Lines end at \r, \n or \r\n, as in text mode with newline="" (a lone \r in a cell).
                parts = raw.splitlines(keepends=True)
                raw, self._split = parts[0], parts[1:]
        self.count += 1
        line = raw if isinstance(raw, str) else self._decode(raw)
        self.record.append(line)
        return line

    def _decode(self, raw: bytes) -> str:
        try:
            return raw.decode(self.encoding or "utf-8")
        except UnicodeDecodeError:
            if self.count not in self._fallback_seen:
                self._fallback_seen.add(self.count)
                self.fallback.append(self.count)
            try:
                return raw.decode("cp1252")
            except UnicodeDecodeError:
                return raw.decode("latin-1")


# Reasons the reader gives a row it cannot use (shown in the quarantine, plain Indonesian).
UNCLOSED_QUOTE = (
    "Tanda kutip (\") di baris ini tidak ditutup, sehingga baris-baris sesudahnya terbaca sebagai "
    "isi satu sel: baris ini disisihkan dan baris sesudahnya dibaca ulang satu per satu. Tutup "
    "tanda kutipnya di berkas lalu impor ulang berkas ini"
)


def _too_many_cells(number: int, row: list[Any]) -> BadRow:
    return BadRow(number, _too_many_cells_reason(len(row)), {"_sel_pertama": [str(v)[:200] for v in row[:20]]})


def _too_many_cells_reason(cells: int) -> str:
    return (
        f"Baris ini punya {cells:,} sel, paling banyak {MAX_COLUMNS:,}: hapus kolom kosong atau "
        "sel berlebih di baris ini lalu impor ulang berkas ini"
    )


def _unreadable_line_reason(exc: Exception) -> str:
    text = str(exc)
    if "lebih dari" in text:
        return (
            f"Baris CSV ini terlalu panjang ({text}): periksa apakah ada tanda kutip yang tidak "
            "ditutup atau isi yang tidak semestinya, lalu impor ulang berkas ini"
        )
    return f"Baris CSV ini tidak dapat dibaca ({text}): periksa baris ini di berkas lalu impor ulang"


def _fallback_note(lines: list[int]) -> str:
    shown = ", ".join(f"{n:,}" for n in lines[:5])
    more = f" dan {len(lines) - 5:,} baris lain" if len(lines) > 5 else ""
    return (
        f"Baris {shown}{more} bukan UTF-8: dibaca sebagai Windows-1252 (cp1252). Periksa huruf "
        "di baris itu; simpan berkas sebagai CSV UTF-8 agar terbaca pasti benar."
    )


def _swallowed(lines: list[str], width: int, delimiter: str) -> bool:
    """Whether lines that ended up inside one quoted cell look like whole records of their own
    (as many cells as the widest one-line record so far): a quote was never closed."""
    for line in lines[:1000]:
        cells = next(csv.reader([line], delimiter=delimiter), [])
        if len(cells) >= width:
            return True
    return False


def _csv_rows(
    source: Source, head: bytes, notes: list[str]
) -> tuple[Iterator[tuple[int, list[Any] | BadRow]], list[str]]:
    encoding = _encoding(head)
    messages = []
    if encoding == "utf-16":
        messages.append("Berkas berformat UTF-16 (teks Unicode); dibaca sebagai UTF-16.")
    elif encoding not in ("utf-8", "utf-8-sig"):
        messages.append(f"Berkas bukan UTF-8; dibaca sebagai {encoding}.")
    # UTF-16 (and a file of bare CR line ends) is read as text; the rest as bytes, line by line,
    # so a line that is not valid in the file's encoding can be decoded on its own.
    text_mode = encoding == "utf-16" or (b"\r" in head and b"\n" not in head)
    stream: IO[Any]
    if isinstance(source, str | Path):
        stream = (
            open(source, encoding=encoding, errors="replace", newline="")  # noqa: SIM115
            if text_mode else open(source, "rb")  # noqa: SIM115
        )
    else:
        stream = io.TextIOWrapper(source, encoding=encoding, errors="replace", newline="") if text_mode else source
    sample = head.decode(encoding, errors="replace")
    delimiter = _delimiter(sample.lstrip("\ufeff"))

    def rows() -> Iterator[tuple[int, list[Any] | BadRow]]:
        try:
            lines = _BoundedLines(stream, MAX_LINE_CHARS, None if text_mode else encoding)
            reader = csv.reader(lines, delimiter=delimiter)
            start = 1
            widest = 0  # cells of the widest record on one line so far (the header, usually)
            while True:
                lines.record = []
                error: Exception | None = None
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    error = exc
                finally:
                    if lines.fallback:
                        notes.append(_fallback_note(lines.fallback))
                        lines.fallback = []
                spanned = lines.record
                if len(spanned) > 1 and widest >= 3 and _swallowed(spanned[1:], widest, delimiter):
                    lines.push_back(spanned[1:])
                    yield start, BadRow(start, UNCLOSED_QUOTE, {"_baris": spanned[0][:500]})
                elif error is not None:
                    yield start, BadRow(start, _unreadable_line_reason(error), {})
                elif len(row) > MAX_COLUMNS:
                    yield start, _too_many_cells(start, row)
                else:
                    if len(spanned) == 1:
                        widest = max(widest, len(row))
                    yield start, row
                start = lines.count + 1
        finally:
            if isinstance(source, str | Path):
                stream.close()
            elif text_mode:
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
    for entry in entries:
        if entry.filename.lower().endswith("sharedstrings.xml") and entry.file_size > XLSX_MAX_SHARED_STRINGS:
            raise UnreadableFile(
                f"{NOT_A_TABLE}: teks bersama XLSX ({entry.filename!r}) berukuran "
                f"{entry.file_size / 1024**2:,.0f} MB, batasnya {XLSX_MAX_SHARED_STRINGS / 1024**2:,.0f} MB "
                "(bagian itu dibaca utuh ke memori, beberapa kali ukurannya). Simpan lembar ini "
                "sebagai CSV (UTF-8) lalu impor berkas CSV-nya, atau bagi berkasnya."
            )
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


def _sheet_rows(workbook: Any, sheet: Any) -> Iterator[tuple[int, list[Any] | BadRow]]:
    """(row number, values) for each row the sheet's XML really holds, as wide as its last
    non-empty cell.

    openpyxl's own `iter_rows` pads to the sheet's declared dimension: it yields an empty row for
    every row number missing below the last one (a 2 KB file whose last row is numbered 3,000,000
    took 151 s for its 2 rows) and pads every row to the declared width (`<dimension
    ref="A1:XFD3">` made each row 16,384 cells). The declared dimension is ignored here; the work
    follows the rows and cells present. openpyxl's sheet parser (pinned in requirements.txt)
    still reads the cells, so values, dates, formulas and shared strings are read as before.
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    with sheet._get_source() as src:
        parser = WorkSheetParser(
            src, sheet._shared_strings, data_only=False, epoch=workbook.epoch,
            date_formats=workbook._date_formats, timedelta_formats=workbook._timedelta_formats,
        )
        for number, cells in parser.parse():
            present = [c for c in cells if c["value"] is not None]
            if not present:
                continue  # an empty or formatting-only row: nothing to read
            width = max(c["column"] for c in present)
            values: list[Any] = [None] * min(width, MAX_COLUMNS + 1)
            for cell in present:
                if cell["column"] <= len(values):
                    values[cell["column"] - 1] = cell["value"]
            if width > MAX_COLUMNS:  # refused on its real width, only a sample kept
                yield number, BadRow(number, _too_many_cells_reason(width),
                                     {"_sel_pertama": [str(v)[:200] for v in values[:20]]})
                continue
            yield number, values


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

    def rows() -> Iterator[tuple[int, list[Any] | BadRow]]:
        try:
            for number, values in _sheet_rows(workbook, sheet):
                if isinstance(values, BadRow):
                    yield number, values
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
    notes: list[str] = []
    if _is_xlsx(head, name):
        kind = "xlsx"
        rows, messages = _xlsx_rows(source)
    else:
        if name.lower().endswith((".xls",)) and head.startswith(b"\xd0\xcf\x11\xe0"):
            raise UnreadableFile("Format .xls lama tidak didukung; simpan ulang sebagai .xlsx atau CSV.")
        kind = "csv"
        rows, messages = _csv_rows(source, head, notes)

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
        # A row the reader could not use above the first usable one (1,001 header cells, a line
        # over 16 MB) may well be the header itself: taking the next row instead would read the
        # first complaint as column names. Refuse rather than guess.
        bad_first = next(
            (r for _, r in buffered[: len(buffered) if header_at is None else header_at] if isinstance(r, BadRow)),
            None,
        )
        if bad_first is not None:
            raise UnreadableFile(
                f"Tidak ada baris judul kolom (header) yang dapat dipakai di {name or 'berkas'}: "
                f"baris {bad_first.record_no}, sebelum baris data pertama, tidak dapat dibaca. "
                f"{bad_first.reason}."
            )
    if header_at is None:
        raise UnreadableFile(f"Tidak ada baris judul kolom (header) di {name or 'berkas'}.")
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
        chunks=_chunks(all_rows(), header, chunk_rows, notes),
        messages=messages,
    )


def _by_header(row: BadRow, header: list[str]) -> BadRow:
    """A bad row's sample keyed by the header's names, so the importer can hide the reporter's
    identity in it like in any other row (a positional sample would keep it)."""
    raw = row.raw
    if "_baris" in raw:  # the line as written: split it into cells the plain way
        cells = next(csv.reader([str(raw["_baris"])]), [])
    elif "_sel_pertama" in raw:
        cells = list(raw["_sel_pertama"])
    else:
        return row
    keyed: dict[str, Any] = {h: v for h, v in zip(header, cells, strict=False)}
    if len(cells) > len(header):
        keyed["_sel_tambahan"] = cells[len(header):len(header) + 20]
    return BadRow(row.record_no, row.reason, keyed)


def _chunks(
    rows: Iterator[tuple[int, list[Any] | BadRow]], header: list[str], size: int, notes: list[str] | None = None,
) -> Iterator[RawChunk]:
    width = len(header)
    batch: list[list[Any]] = []
    numbers: list[int] = []
    bad: list[BadRow] = []
    notes = notes if notes is not None else []

    def flush() -> RawChunk:
        frame = pd.DataFrame(batch, columns=header, dtype=object) if batch else pd.DataFrame(
            {h: pd.Series([], dtype=object) for h in header}
        )
        said = list(notes)
        notes.clear()
        return RawChunk(frame=frame, record_numbers=numbers, bad_rows=bad, notes=said)

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
            bad.append(_by_header(row, header))
        elif _is_blank(row):
            continue
        else:
            if len(row) > width:
                extra = row[width:]
                if not _is_blank(extra):
                    raw = {h: v for h, v in zip(header, row, strict=False)}
                    raw["_sel_tambahan"] = [v for v in extra[:20]]  # the quarantine keeps a sample
                    bad.append(BadRow(number, (
                        f"Baris ini punya {len(row)} sel, padahal judul kolom hanya {width}: biasanya "
                        "ada koma atau titik koma di dalam sel yang tidak diapit tanda kutip. Perbaiki "
                        "baris ini lalu impor ulang berkas ini"), raw))
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
