"""Settle a priced call: cover it from packages, then post every party's charge."""

from __future__ import annotations

from collections.abc import Mapping

from pipeline.catalog.model import Catalog, PartyType
from pipeline.engine.records import RatedCdr
from pipeline.ledger.packages import PackageUsage, cover, package_cycle
from pipeline.ledger.postings import Posting, PostingKind, posting
from pipeline.rating.rater import PricedCall

PackageKey = tuple[str, str]  # (customer, package)


def settle_call(
    call: PricedCall,
    catalog: Catalog,
    packages: Mapping[PackageKey, PackageUsage],
) -> tuple[RatedCdr, list[Posting], dict[PackageKey, PackageUsage]]:
    """The rated line, the postings, and the package usage this call changed.

    The account's own customer's packages cover the billed seconds first, in the order
    the catalog lists them; the payer (the `funds_from` customer, if any) pays the rest.
    """
    customer = call.customer
    billed = call.billed
    covered = 0
    changed: dict[PackageKey, PackageUsage] = {}
    if billed and customer.packages:
        for package_id in customer.packages:
            package = catalog.packages[package_id]
            if covered >= billed or not package.covers(call.number):
                continue
            key = (customer.id, package_id)
            cycle = package_cycle(package, customer, call.start)
            usage, took = cover(packages.get(key), package, cycle, billed - covered)
            if took:
                changed[key] = usage
                covered += took
    cost = call.customer_cost(covered)
    cdr = call.cdr
    payer = call.payer
    buy = call.provider_charge
    postings = [
        posting(
            PartyType.CUSTOMER,
            payer.id,
            -cost,
            payer.terms.currency,
            PostingKind.CALL,
            call.start,
            cdr_id=cdr.cdr_id,
        )
    ]
    postings.extend(
        posting(
            charge.party_type,
            charge.party,
            -charge.amount,
            charge.currency,
            PostingKind.CALL,
            call.start,
            cdr_id=cdr.cdr_id,
        )
        for charge in call.resellers
    )
    postings.append(
        posting(
            buy.party_type,
            buy.party,
            buy.amount,
            buy.currency,
            PostingKind.PROVIDER_CALL,
            call.start,
            cdr_id=cdr.cdr_id,
        )
    )
    rated = RatedCdr(
        cdr_id=cdr.cdr_id,
        status="rated",
        reason="",
        detail="",
        source=cdr.source,
        account=call.account.id,
        customer=customer.id,
        payer=payer.id,
        provider=call.provider.id,
        code=call.row.code,
        code_name=call.row.code_name,
        start=call.start,
        duration=call.duration,
        billed_seconds=billed,
        covered_seconds=covered,
        cost=cost,
        currency=payer.terms.currency,
        provider_cost=buy.amount,
        provider_currency=buy.currency,
    )
    return rated, postings, changed
