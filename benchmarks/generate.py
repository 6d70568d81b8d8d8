"""Generate a large catalog and CDR files for benchmarks and load tests (seeded, repeatable)."""

from __future__ import annotations

import argparse
import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

COUNTRY_CODES = [
    "1",
    "7",
    "20",
    "27",
    "30",
    "31",
    "32",
    "33",
    "34",
    "36",
    "39",
    "40",
    "41",
    "43",
    "44",
    "45",
    "46",
    "47",
    "48",
    "49",
    "51",
    "52",
    "54",
    "55",
    "56",
    "57",
    "60",
    "61",
    "62",
    "63",
    "64",
    "65",
    "66",
    "81",
    "82",
    "84",
    "86",
    "90",
    "91",
    "92",
    "93",
    "94",
    "95",
    "98",
    "212",
    "213",
    "234",
    "254",
    "351",
    "353",
    "358",
    "380",
    "420",
    "852",
    "880",
    "886",
    "966",
    "971",
    "972",
    "998",
]
HEADER = (
    "code,code_name,rate,effective_date,end_date,min_volume,interval,grace_volume,setup_fee,profile"
)


def make_codes(count: int, rng: random.Random) -> list[str]:
    """Distinct E.164-like prefixes of 1 to 8 digits under real country codes."""
    codes: set[str] = set(COUNTRY_CODES)
    while len(codes) < count:
        country = rng.choice(COUNTRY_CODES)
        codes.add(country + str(rng.randrange(10 ** rng.randint(1, 5))).zfill(rng.randint(1, 5)))
    return sorted(codes)[:count]


def write_deck(path: Path, codes: list[str], rng: random.Random, scale: float) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        for code in codes:
            rate = f"{rng.randint(5, 3000) * scale / 10000:.4f}"
            step = rng.choice(["1,1", "30,6", "60,60", "0,1"])
            out.write(f"{code},dest {code},{rate},2020-01-01,,{step},0,0,all\n")


def write_catalog(out: Path, codes: int, accounts: int, providers: int, seed: int) -> list[str]:
    """A catalog with retail/wholesale/buy decks, resellers, customers and providers."""
    rng = random.Random(seed)
    deck_codes = make_codes(codes, rng)
    (out / "decks").mkdir(parents=True, exist_ok=True)
    write_deck(out / "decks" / "retail.csv", deck_codes, rng, 1.0)
    write_deck(out / "decks" / "wholesale.csv", deck_codes, rng, 0.7)
    write_deck(out / "decks" / "buy.csv", deck_codes, rng, 0.5)
    lines = [
        "currency: USD",
        "tariffs:",
        "  retail: {deck: decks/retail.csv, currency: USD}",
        "  wholesale: {deck: decks/wholesale.csv, currency: USD}",
        "  buy: {deck: decks/buy.csv, currency: USD}",
        "resellers:",
        "  r1: {tariff: wholesale, parent: null, balance_control: postpaid,"
        " credit_limit: '1000000'}",
        "customers:",
    ]
    customers = max(accounts // 10, 1)
    for c in range(customers):
        reseller = "r1" if c % 2 else "null"
        lines.append(
            f"  c{c}: {{tariff: retail, reseller: {reseller}, balance_control: postpaid, "
            f"credit_limit: '100000', opening_balance: '100'}}"
        )
    lines.append("accounts_file: accounts.csv")
    with (out / "accounts.csv").open("w", encoding="utf-8") as listed:
        listed.write("account,customer\n")
        listed.writelines(f"a{a},c{a % customers}\n" for a in range(accounts))
    lines.append("providers:")
    lines.extend(
        f"  p{p}: {{tariff: buy, currency: USD, daily_minutes_limit: 100000}}"
        for p in range(providers)
    )
    (out / "catalog.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return deck_codes


def duration(rng: random.Random) -> int:
    """Answered seconds: ~20 % unanswered, the rest log-normal around 2 minutes."""
    if rng.random() < 0.2:
        return 0
    return min(int(rng.lognormvariate(4.4, 1.0)) + 1, 14_400)


def numbers(codes: list[str], count: int, rng: random.Random) -> list[str]:
    return [
        (code := rng.choice(codes)) + str(rng.randrange(10**9)).zfill(11 - min(len(code), 10))
        for _ in range(count)
    ]


def write_cdrs(
    path: Path,
    codes: list[str],
    count: int,
    accounts: int,
    providers: int,
    seed: int,
    start: datetime,
) -> None:
    rng = random.Random(seed + 1)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["cdr_id", "account", "caller", "callee", "start", "duration", "provider"])
        at = start
        for i in range(count):
            at += timedelta(milliseconds=rng.randint(0, 20))
            writer.writerow(
                [
                    f"gen-{seed}-{i}",
                    f"a{rng.randrange(accounts)}",
                    "1000",
                    numbers(codes, 1, rng)[0],
                    at.isoformat(timespec="seconds"),
                    duration(rng),
                    f"p{rng.randrange(providers)}",
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--codes", type=int, default=50_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--providers", type=int, default=100)
    parser.add_argument("--cdrs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    codes = write_catalog(
        args.out / "catalog", args.codes, args.accounts, args.providers, args.seed
    )
    write_cdrs(
        args.out / "cdrs.csv",
        codes,
        args.cdrs,
        args.accounts,
        args.providers,
        args.seed,
        datetime(2026, 3, 2, tzinfo=UTC),
    )
    print(f"wrote {args.out}/catalog and {args.out}/cdrs.csv ({args.cdrs} CDRs)")


if __name__ == "__main__":
    main()
