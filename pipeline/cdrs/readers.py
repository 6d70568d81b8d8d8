"""Reading a CDR file of any supported format into raw CDRs, one per row, bad rows included."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from pipeline.cdrs import asterisk, freeswitch
from pipeline.cdrs.detect import by_name, sniff
from pipeline.cdrs.model import Defect, RawCdr
from pipeline.cdrs.plain import (
    REQUIRED,
    CsvColumns,
    Where,
    csv_columns,
    defective,
    from_csv_row,
    from_json_line,
)

__all__ = ["FORMATS", "CdrFormatError", "detect_format", "read_cdrs"]

FORMATS = ("auto", "csv", "jsonl", "asterisk", "freeswitch")
UTC_ZONE = ZoneInfo("UTC")
_BUFFER = 1 << 20
_SNIFF_LIMIT = 1 << 20  # bytes of the first line looked at to detect the format
_BOM = "\ufeff"

RowReader = Callable[[list[str], Where, int, Defect | None], RawCdr]


class CdrFormatError(ValueError):
    """A whole file cannot be read: unknown format, undetectable, or required columns missing."""


def read_cdrs(
    path: Path,
    fmt: str = "auto",
    source_tz: ZoneInfo = UTC_ZONE,
    default_provider: str = "",
    name: str = "",
) -> Iterator[RawCdr]:
    """Every row of `path` as a RawCdr, in file order; a bad row carries a defect.

    A row without an id gets `<name>:<line>`, `name` being the file's name unless given
    (`id_names`).

    `source_tz` is the zone of the switches' local times (Asterisk, FreeSWITCH);
    `default_provider` stands in where a row names no provider. Whole-file problems raise
    CdrFormatError (and an unreadable file OSError) at once, before any row is read; an
    empty file yields nothing.
    """
    if fmt not in FORMATS:
        raise CdrFormatError(f"unknown CDR format {fmt!r}; expected one of {', '.join(FORMATS)}")
    with path.open("rb"):  # a missing or unreadable file raises OSError here, not at a row
        pass
    if fmt == "auto":
        named = by_name(path)
        if named is None:
            first = _first_line(path)
            if first is None:
                return iter(())
            named = _sniffed(path, first)
        fmt = named
    where = Where(path, source_tz, default_provider, name)
    if fmt == "jsonl":
        return _read_jsonl(where)
    if fmt == "asterisk":
        return _read_table(where, asterisk.from_row, has_header=False, fields=16)
    if fmt == "freeswitch":
        return _read_table(where, freeswitch.from_row, has_header=False, fields=15)
    columns = _csv_header(path)
    if columns is None:
        return iter(())
    return _read_table(where, partial(from_csv_row, columns), has_header=True, fields=len(REQUIRED))


def id_names(paths: Sequence[Path]) -> list[str]:
    """The name each input file gives the ids of its rows without one (`read_cdrs`).

    The file's name, so that the same file read again from elsewhere gives the same ids
    (a replay, charged once). But a second file of the same name in one run is another
    file: it is named by its path as given, so that its rows are not taken for repeats
    of the first's. The same file given twice keeps one name.
    """
    names: list[str] = []
    by_file: dict[Path, str] = {}
    for path in paths:
        known = by_file.get(path.resolve())
        if known is None:
            known = path.name if path.name not in by_file.values() else str(path)
            by_file[path.resolve()] = known
        names.append(known)
    return names


def detect_format(path: Path) -> str:
    """`csv`, `jsonl`, `asterisk` or `freeswitch`, from the name or the first non-empty line."""
    named = by_name(path)
    if named is not None:
        return named
    return _sniffed(path, _first_line(path))


def _sniffed(path: Path, first: str | None) -> str:
    found = None if first is None else sniff(first)
    if found is None:
        empty = " (it has no rows)" if first is None else ""
        raise CdrFormatError(f"cannot tell the format of {path}{empty}; pass --format")
    return found


def _first_line(path: Path) -> str | None:
    with path.open("rb") as stream:
        while raw := stream.readline(_SNIFF_LIMIT):
            text = raw.decode(errors="replace")
            if text.strip():
                return text
    return None


def _csv_header(path: Path) -> CsvColumns | None:
    """The column positions of a CSV file's header row; None for a file without rows."""
    with path.open("rb") as stream:
        lines = _Lines(stream)
        try:
            header = next((row for row in csv.reader(lines) if not _blank(row)), None)
        except csv.Error as exc:
            raise CdrFormatError(f"{path}: the header row is not CSV: {exc}") from None
    if header is None:
        return None
    columns, missing = csv_columns(header)
    if columns is None:
        raise CdrFormatError(
            f"{path}: CSV header lacks column(s) {', '.join(missing)}; "
            f"a CDR CSV file needs {', '.join(REQUIRED)}"
        )
    return columns


class _Lines(Iterable[str]):
    """A binary file's physical lines decoded one at a time; a bad line is noted, not fatal."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.problem: str | None = None  # set by a line that is not UTF-8, until taken
        self.held: list[str] = []  # the lines read since the last `release`

    def __iter__(self) -> Iterator[str]:
        for number, raw in enumerate(self._stream, 1):
            try:
                text = raw.decode()
            except UnicodeDecodeError as exc:
                text = raw.decode(errors="replace")
                self.problem = _encoding_problem(raw, exc, self.problem)
            if number == 1 and text.startswith(_BOM):
                text = text[1:]
            self.held.append(text)
            yield text

    def release(self) -> list[str]:
        """The lines read since the last call: those of the row just read."""
        held, self.held = self.held, []
        return held

    def take(self) -> Defect | None:
        """The encoding defect of the lines read since the last take, if any."""
        if self.problem is None:
            return None
        defect = Defect("bad_encoding", self.problem)
        self.problem = None
        return defect


def _encoding_problem(raw: bytes, exc: UnicodeDecodeError, before: str | None) -> str:
    problem = f"not UTF-8: byte {raw[exc.start]:#04x} at offset {exc.start}"
    return problem if before is None else f"{before}; {problem}"


def _blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _read_table(
    where: Where, from_row: RowReader, *, has_header: bool, fields: int
) -> Iterator[RawCdr]:
    """Rows of a comma-separated file, each with its first line.

    A quoted field may hold line breaks (a note, say). But if a line it runs over would
    be a row by itself (at least `fields` fields), the quote was left open and swallowed
    rows: its first line is then a `bad_record`, and each line it ran over is read again
    as a row of its own, so that no row is lost with it.
    """
    with open(where.path, "rb", buffering=_BUFFER) as stream:
        lines = _Lines(stream)
        reader = csv.reader(lines)
        last = 0  # the physical line the previous row ended on
        skip_header = has_header
        while True:
            try:
                row = next(reader, None)
                error = None
            except csv.Error as exc:
                row, error = [], f"not a CSV row: {exc}"
            held = lines.release()
            if row is None:
                return
            line, last = last + 1, reader.line_num
            if error is None and len(held) > 1 and _swallows_rows(held, fields):
                error = (
                    f"a quoted field runs on over lines {line}-{last} (an unterminated "
                    f"quote?); each of the following lines is read as a row of its own"
                )
            if error is None:
                rows: list[tuple[int, list[str]]] = [(line, row)]
            else:
                yield defective(where, line, "bad_record", error, lines.take())
                rows = [(n, _one_row(text)) for n, text in enumerate(held[1:], line + 1)]
            for number, cells in rows:
                prior = lines.take() if lines.problem is not None else None
                if _blank(cells):
                    continue
                if skip_header:
                    skip_header = False
                    continue
                yield from_row(cells, where, number, prior)


def _swallows_rows(held: list[str], fields: int) -> bool:
    """Whether a line after the first of a row that ran over `held` is a row itself."""
    return any(len(_one_row(text)) >= fields for text in held[1:])


def _one_row(text: str) -> list[str]:
    """One physical line as a CSV row on its own (an open quote ends with the line)."""
    try:
        return next(csv.reader((text.rstrip("\r\n"),)), [])
    except csv.Error:
        return [text.rstrip("\r\n")]


def _read_jsonl(where: Where) -> Iterator[RawCdr]:
    """One JSON object per physical line; blank lines are skipped."""
    with open(where.path, "rb", buffering=_BUFFER) as stream:
        for line, raw in enumerate(stream, 1):
            prior = None
            try:
                text = raw.decode()
            except UnicodeDecodeError as exc:
                text = raw.decode(errors="replace")
                prior = Defect("bad_encoding", _encoding_problem(raw, exc, None))
            if line == 1 and text.startswith(_BOM):
                text = text[1:]
            if text.isspace() or not text:
                continue
            yield from_json_line(text, where, line, prior)
