"""Read a payments CSV (`at,party_type,party,amount,recorded_by`); one bad row refuses it."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from pathlib import Path

from pipeline.catalog.model import Catalog, PartyType
from pipeline.cdrs.timeparse import parse_start
from pipeline.engine.payments import PaymentError, check_payment
from pipeline.engine.records import Payment
from pipeline.rating.money import MoneyError, parse_decimal, to_micro

REQUIRED = ("at", "party_type", "party", "amount")


class PaymentsFileError(ValueError):
    """A payments file with bad rows; `errors` has one `file:line: what` per problem."""

    def __init__(self, path: Path, errors: list[str]) -> None:
        count = f"{len(errors)} error" + ("s" if len(errors) != 1 else "")
        super().__init__(f"payments {path} refused ({count}): " + "; ".join(errors))
        self.errors = errors


def _currency_of(catalog: Catalog, party_type: PartyType, party: str) -> str:
    if party_type is PartyType.CUSTOMER:
        return catalog.customers[party].terms.currency
    if party_type is PartyType.RESELLER:
        return catalog.resellers[party].terms.currency
    return catalog.providers[party].currency


_PAYERS = ("customer", "reseller", "provider")


def read_payments(path: Path, catalog: Catalog) -> list[Payment]:
    """Every payment of the file, checked against the catalog.

    `payment_id` and `currency` are optional columns. Without `payment_id`, a row's id is
    derived from its content (and its repeat count), so re-reading the file gives the same
    ids and a retried payment is recognised. A `currency` must be the party's currency.
    """
    errors: list[str] = []
    payments: list[Payment] = []
    seen: Counter[str] = Counter()
    given_ids: dict[str, tuple[str, str]] = {}  # payment_id -> (its row's content, where)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PaymentsFileError(path, [f"{path}: cannot read: {error.strerror}"]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start]
        raise PaymentsFileError(path, [f"{path}:{line}: not UTF-8 (byte 0x{byte:02x})"]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or ())]
    if missing:
        raise PaymentsFileError(path, [f"{path}:1: missing columns {', '.join(missing)}"])
    rows = [(reader.line_num, row) for row in reader]
    for line, row in rows:
        where = f"{path}:{line}"
        try:
            kind = (row.get("party_type") or "").strip()
            if kind not in _PAYERS:
                raise ValueError(f"party_type {kind!r} is not one of customer, reseller, provider")
            party_type = PartyType(kind)
            party = (row.get("party") or "").strip()
            at = parse_start(row.get("at") or "")
            amount = to_micro(parse_decimal(row.get("amount") or ""))
            recorded_by = (row.get("recorded_by") or "").strip()
            identity = ",".join((row.get(c) or "").strip() for c in (*REQUIRED, "recorded_by"))
            seen[identity] += 1
            given_id = (row.get("payment_id") or "").strip()
            payment_id = given_id or (
                f"pay-{hashlib.sha256(identity.encode()).hexdigest()[:16]}-{seen[identity]}"
            )
            if given_id:  # the same payment twice is a retry; another one is a mistake
                first = given_ids.setdefault(given_id, (identity, where))
                if first[0] != identity:
                    raise ValueError(
                        f"payment_id {given_id} is already used at {first[1]} for another "
                        f"payment; give each payment its own id"
                    )
            payment = Payment(payment_id, at, party_type, party, amount, "", recorded_by)
            check_payment(payment, catalog)
            currency = _currency_of(catalog, party_type, party)
            given = (row.get("currency") or "").strip()
            if given and given != currency:
                raise ValueError(f"currency {given} is not the {party_type.value}'s {currency}")
            payments.append(
                Payment(payment_id, at, party_type, party, amount, currency, recorded_by)
            )
        except (ValueError, MoneyError, PaymentError) as error:
            errors.append(f"{where}: {error}")
    if errors:
        raise PaymentsFileError(path, errors)
    return payments
