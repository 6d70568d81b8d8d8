"""Read a payments CSV (`at,party_type,party,amount,recorded_by`); one bad row refuses it."""

from __future__ import annotations

import csv
import hashlib
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
        super().__init__(f"payments {path} refused ({len(errors)} errors): " + "; ".join(errors))
        self.errors = errors


def _currency_of(catalog: Catalog, party_type: PartyType, party: str) -> str:
    if party_type is PartyType.CUSTOMER:
        return catalog.customers[party].terms.currency
    if party_type is PartyType.RESELLER:
        return catalog.resellers[party].terms.currency
    return catalog.providers[party].currency


def read_payments(path: Path, catalog: Catalog) -> list[Payment]:
    """Every payment of the file, checked against the catalog.

    `payment_id` and `currency` are optional columns. Without `payment_id`, a row's id is
    derived from its content (and its repeat count), so re-reading the file gives the same
    ids and a retried payment is recognised. A `currency` must be the party's currency.
    """
    errors: list[str] = []
    payments: list[Payment] = []
    seen: Counter[str] = Counter()
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as error:
        raise PaymentsFileError(path, [f"{path}: cannot read: {error.strerror}"]) from None
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or ())]
        if missing:
            raise PaymentsFileError(path, [f"{path}:1: missing columns {', '.join(missing)}"])
        for row in reader:
            where = f"{path}:{reader.line_num}"
            try:
                party_type = PartyType((row.get("party_type") or "").strip())
                if party_type is PartyType.ACCOUNT:
                    raise ValueError("party_type must be customer, reseller or provider")
                party = (row.get("party") or "").strip()
                at = parse_start(row.get("at") or "")
                amount = to_micro(parse_decimal(row.get("amount") or ""))
                recorded_by = (row.get("recorded_by") or "").strip()
                identity = ",".join((row.get(c) or "").strip() for c in (*REQUIRED, "recorded_by"))
                seen[identity] += 1
                payment_id = (row.get("payment_id") or "").strip() or (
                    f"pay-{hashlib.sha256(identity.encode()).hexdigest()[:16]}-{seen[identity]}"
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
