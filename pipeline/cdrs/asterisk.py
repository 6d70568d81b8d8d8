"""Raw CDRs from Asterisk `cdr_csv` rows (Master.csv: no header, 16 to 18 quoted columns)."""

from __future__ import annotations

from hashlib import sha1
from string import hexdigits

from pipeline.cdrs.model import Defect, RawCdr
from pipeline.cdrs.plain import Where, defective, make_cdr

COLUMNS = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
    "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
    "uniqueid", "userfield",
)  # fmt: skip
_ANSWERED = ("uniqueid", "answer", "billsec")
_UNANSWERED = ("uniqueid", "start", "billsec")


def peer_name(channel: str) -> str:
    """The peer a channel name belongs to: `SIP/carrier-a-0000001f` -> `carrier-a`.

    The technology before `/` and the channel's own suffix are cut off (and a `;1`-style
    half marker of Local channels); empty for an empty channel. The suffix is eight hex
    digits (SIP, PJSIP, Local: `%08x`) or decimal digits (IAX2, DAHDI): a shorter hex
    word is part of the name, as the `b` of `PJSIP/carrier-b`.
    """
    name = channel.strip()
    name = name[name.find("/") + 1 :]
    semicolon = name.find(";")
    if semicolon >= 0:
        name = name[:semicolon]
    head, dash, suffix = name.rpartition("-")
    if dash and (suffix.isdigit() or (len(suffix) == 8 and not suffix.strip(hexdigits))):
        return head
    return name


def from_row(row: list[str], where: Where, line: int, prior: Defect | None) -> RawCdr:
    """One Master.csv row; another number of columns than 16 to 18 is a `bad_record`."""
    if not 16 <= len(row) <= 18:
        detail = f"has {len(row)} columns; Asterisk cdr_csv rows have 16, 17 or 18"
        return defective(where, line, "bad_record", detail, prior)
    accountcode, src, dst = row[0], row[1], row[2]
    uniqueid = row[16].strip() if len(row) > 16 else ""
    if not uniqueid:
        # no uniqueid column (or an empty one): the id is a digest of the row's fields,
        # stable however the line is quoted or terminated
        uniqueid = "ast-" + sha1("\x1f".join(row).encode(), usedforsecurity=False).hexdigest()
    answer = row[10]
    if answer.strip():
        start, labels = answer, _ANSWERED
    else:
        start, labels = row[9], _UNANSWERED
    account = accountcode if accountcode.strip() else src
    provider = peer_name(row[6])
    fields = (uniqueid, account, src, dst, provider, row[14])
    return make_cdr(where, line, fields, start, row[13], local=True, labels=labels, prior=prior)
