"""Raw CDRs from our own CSV and JSON Lines files, and the row checks every format shares."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from pipeline.cdrs.model import Defect, RawCdr
from pipeline.cdrs.timeparse import BadStartError, parse_duration, parse_start
from pipeline.rating.numbers import BadDurationError

REQUIRED = ("cdr_id", "account", "caller", "callee", "start", "duration", "provider")
_TEXT_KEYS = ("cdr_id", "account", "caller", "callee", "provider", "disposition")
_JSON_KINDS = {dict: "object", list: "array", str: "string", bool: "true/false", type(None): "null"}


@dataclass(frozen=True, slots=True)
class Where:
    """The file being read and the settings every row of it shares."""

    path: Path
    source_tz: ZoneInfo
    default_provider: str
    name: str = ""  # in the ids of rows without one; the file's name if empty
    _prefix: str = field(init=False, repr=False, compare=False)
    _name: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_prefix", f"{self.path}:")
        object.__setattr__(self, "_name", f"{self.name or self.path.name}:")

    def source(self, line: int) -> str:
        """`file:line`, the row's `source`."""
        return f"{self._prefix}{line}"

    def fallback_id(self, line: int) -> str:
        """`name:line`, the id of a row that has none."""
        return f"{self._name}{line}"


def merge(prior: Defect | None, reason: str, detail: str) -> Defect:
    """Add a problem to a row's defect; the first problem found names the reason."""
    if prior is None:
        return Defect(reason, detail)
    return Defect(prior.reason, f"{prior.detail}; {detail}")


def defective(where: Where, line: int, reason: str, detail: str, prior: Defect | None) -> RawCdr:
    """A row whose fields could not be told apart: only its id (from the line) and its defect."""
    defect = merge(prior, reason, detail)
    return RawCdr(
        where.fallback_id(line), "", "", "", None, None, "", "", where.source(line), defect
    )


MAX_FIELD = 256  # characters; a longer id, number or name is a broken row, cut for the report


def make_cdr(
    where: Where,
    line: int,
    fields: tuple[str, str, str, str, str, str],
    start: object,
    duration: object,
    *,
    local: bool = False,
    labels: tuple[str, str, str] = ("cdr_id", "start", "duration"),
    prior: Defect | None = None,
) -> RawCdr:
    """Check and convert one row's raw fields into a RawCdr, with a defect if any is bad.

    `fields` are cdr_id, account, caller, callee, provider, disposition as text; `labels`
    name the source columns of the id, start and duration for the defect detail; with
    `local` a start without offset is a wall-clock time in the file's `source_tz`.
    """
    defect = prior
    if any(len(text) > MAX_FIELD for text in fields):
        names = ("cdr_id", "account", "caller", "callee", "provider", "disposition")
        for name, text in zip(names, fields, strict=True):
            if len(text) > MAX_FIELD:
                detail = f"{name} is {len(text)} characters long (at most {MAX_FIELD})"
                defect = merge(defect, "bad_record", detail)
        fields = tuple(text[:MAX_FIELD] for text in fields)  # type: ignore[assignment]
    cdr_id, account, caller, callee, provider, disposition = fields
    cdr_id, account, caller = cdr_id.strip(), account.strip(), caller.strip()
    callee, provider, disposition = callee.strip(), provider.strip(), disposition.strip()
    if not cdr_id:
        cdr_id = where.fallback_id(line)
        defect = merge(defect, "missing_field", f"{labels[0]} is missing")
    try:
        moment = parse_start(start, where.source_tz if local else None)
    except BadStartError as exc:
        moment = None
        if _blank(start):
            defect = merge(defect, "missing_field", f"{labels[1]} is missing")
        else:
            defect = merge(defect, "bad_start", f"{labels[1]} {exc}")
    if type(duration) is str and len(duration) < 10 and duration.isdigit() and duration.isascii():
        seconds: int | None = int(duration)  # the common case, without a call
    else:
        try:
            seconds = parse_duration(duration)
        except BadDurationError as exc:
            seconds = None
            if _blank(duration):
                defect = merge(defect, "missing_field", f"{labels[2]} is missing")
            else:
                defect = merge(defect, "bad_duration", f"{labels[2]} {exc}")
    provider = provider or where.default_provider
    source = where.source(line)
    return RawCdr(
        cdr_id, account, caller, callee, moment, seconds, provider, disposition, source, defect
    )


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class CsvColumns(NamedTuple):
    """Where each raw field sits in a CSV row; `disposition` is -1 when the file has none."""

    cdr_id: int
    account: int
    caller: int
    callee: int
    start: int
    duration: int
    provider: int
    disposition: int
    width: int  # the number of columns a row needs to hold all of the above


def csv_columns(header: list[str]) -> tuple[CsvColumns | None, list[str]]:
    """The column positions named by a header row (first of duplicates), or the missing names."""
    position: dict[str, int] = {}
    for index, name in enumerate(header):
        position.setdefault(name.strip().lstrip("\ufeff").lower(), index)
    position.setdefault("disposition", -1)
    missing = [name for name in REQUIRED if name not in position]
    if missing:
        return None, missing
    indices = [position[name] for name in (*REQUIRED, "disposition")]
    return CsvColumns._make([*indices, max(indices) + 1]), []


def from_csv_row(
    columns: CsvColumns, row: list[str], where: Where, line: int, prior: Defect | None
) -> RawCdr:
    """One CSV data row; a short row reads its absent columns as empty."""
    i_id, i_account, i_caller, i_callee, i_start, i_duration, i_provider, i_disp, width = columns
    if len(row) < width:
        row = row + [""] * (width - len(row))
    disposition = row[i_disp] if i_disp >= 0 else ""
    fields = (row[i_id], row[i_account], row[i_caller], row[i_callee], row[i_provider], disposition)
    return make_cdr(where, line, fields, row[i_start], row[i_duration], prior=prior)


def from_json_line(text: str, where: Where, line: int, prior: Defect | None) -> RawCdr:
    """One JSON Lines record; a line that is not a JSON object is a `bad_record`."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        at_end = exc.pos >= len(text.rstrip())
        spot = "at the end of the line" if at_end else f"at character {exc.pos + 1}"
        detail = f"not valid JSON: {exc.msg} {spot}"
        return defective(where, line, "bad_record", detail, prior)
    except (ValueError, RecursionError) as exc:
        return defective(where, line, "bad_record", f"not valid JSON: {exc}", prior)
    if type(record) is not dict:
        kind = _JSON_KINDS.get(type(record), "number")
        return defective(where, line, "bad_record", f"a JSON {kind}, not an object", prior)
    values: list[str] = []
    for key in _TEXT_KEYS:
        value: object = record.get(key)
        if isinstance(value, str):
            values.append(value)
        elif value is None:
            values.append("")
        elif type(value) is int:
            values.append(str(value))
        elif type(value) is float:  # 1.2125550100e10 would become the digits 121255501000
            values.append("")
            detail = f"{key} is a JSON number with a fraction or exponent ({value!r}), not text"
            prior = merge(prior, "bad_record", f"{detail}; write it as a string")
        else:
            values.append("")
            what = _JSON_KINDS.get(type(value), "value")
            prior = merge(prior, "bad_record", f"{key} is a JSON {what}, not text")
    fields = (values[0], values[1], values[2], values[3], values[4], values[5])
    return make_cdr(where, line, fields, record.get("start"), record.get("duration"), prior=prior)
