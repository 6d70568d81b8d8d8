"""Raw CDRs from FreeSWITCH `mod_cdr_csv` rows (default template, optional gateway column)."""

from __future__ import annotations

from pipeline.cdrs.model import Defect, RawCdr
from pipeline.cdrs.plain import Where, defective, make_cdr

COLUMNS = (
    "caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp",
    "answer_stamp", "end_stamp", "duration", "billsec", "hangup_cause", "uuid", "bleg_uuid",
    "accountcode", "read_codec", "write_codec", "sip_gateway_name",
)  # fmt: skip
# the column operators append to the default template so that each row names its provider
GATEWAY_TEMPLATE_COLUMN = '"${sip_gateway_name}"'
_ANSWERED = ("uuid", "answer_stamp", "billsec")
_UNANSWERED = ("uuid", "start_stamp", "billsec")


def from_row(row: list[str], where: Where, line: int, prior: Defect | None) -> RawCdr:
    """One row; 15 columns (default template) or 16 (gateway appended), else a `bad_record`."""
    if not 15 <= len(row) <= 16:
        detail = (
            f"has {len(row)} columns; FreeSWITCH cdr_csv rows have 15 (default template) "
            "or 16 (gateway appended)"
        )
        return defective(where, line, "bad_record", detail, prior)
    caller, callee = row[1], row[2]
    answer = row[5]
    if answer.strip():
        start, labels = answer, _ANSWERED
    else:
        start, labels = row[4], _UNANSWERED
    account = row[12] if row[12].strip() else caller
    provider = row[15] if len(row) > 15 else ""
    fields = (row[10], account, caller, callee, provider, row[9])
    return make_cdr(where, line, fields, start, row[8], local=True, labels=labels, prior=prior)
