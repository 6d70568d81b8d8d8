"""The exact YAML loader: Decimal numbers, string ids and times, duplicate keys, field errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import yaml

from pipeline.catalog.yamlio import ExactLoader, Fields, read_yaml


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.10", Decimal("1.10")),
        ("-0.5", Decimal("-0.5")),
        (".5", Decimal(".5")),
        ("1.5e3", Decimal("1.5e3")),
        ("10", 10),
        ("-3", -3),
        ("0101", "0101"),  # YAML 1.1 octal: kept as written
        ("0x1F", "0x1F"),
        ("1_000", "1_000"),
        ("18:00", "18:00"),  # YAML 1.1 sexagesimal: kept as written
        (".inf", ".inf"),
        ("yes", "yes"),
        ("off", "off"),
        ("true", True),
        ("null", None),
        ("2026-01-01", date(2026, 1, 1)),
        ("2026-01-01T10:00:00Z", datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ('"1.10"', "1.10"),
    ],
)
def test_scalars_are_exact(text: str, expected: object) -> None:
    value, errors = read_yaml("x.yaml", f"key: {text}\n".encode())
    assert errors == []
    assert isinstance(value, dict)
    assert value["key"] == expected
    assert type(value["key"]) is type(expected)


def test_duplicate_keys_are_reported_with_lines() -> None:
    value, errors = read_yaml("x.yaml", b"a: 1\nb: {c: 1, c: 2}\na: 3\n")
    assert errors == [
        "x.yaml:2: duplicate key 'c' (first at line 2)",
        "x.yaml:3: duplicate key 'a' (first at line 1)",
    ]
    assert value == {"a": 3, "b": {"c": 2}}


def test_syntax_error_names_line_and_column() -> None:
    value, errors = read_yaml("x.yaml", b"a: 1\nb: [1, 2\n")
    assert value is None
    assert errors[0].startswith("x.yaml:3:1: YAML syntax error: ")


def test_unsafe_tags_are_refused() -> None:
    _, errors = read_yaml("x.yaml", b"a: !!python/object/apply:os.system [ls]\n")
    assert errors[0].startswith("x.yaml:1:4: YAML syntax error: could not determine a constructor")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"n": "x"}, ["f.yaml: s.n: 'x' is not a whole number"]),
        ({"n": -1}, ["f.yaml: s.n: -1 must be 0 or more"]),
        ({"m": "1.5"}, ["f.yaml: s: unknown key 'm' (known: n)"]),
        ([1], ["f.yaml: s: expected a mapping with keys n"]),
        ({}, []),
        ({"n": None}, []),
    ],
)
def test_fields_collect_errors(data: object, expected: list[str]) -> None:
    errors: list[str] = []
    fields = Fields(errors, "f.yaml", "s", data, ("n",))
    assert fields.integer("n", 7) in (7, 0)
    assert errors == expected


def test_entries_turn_ids_into_strings() -> None:
    errors: list[str] = []
    fields = Fields(errors, "f.yaml", "", {"a": {1000: {}, "1000": {}, "x": {}}}, ("a",))
    assert [ident for ident, _ in fields.entries("a")] == ["1000", "x"]
    assert errors == ["f.yaml: a.1000: the id is given twice"]


@pytest.mark.parametrize(
    "text",
    [
        b"a: 1\nb: {c: 1, c: 2}\na: 3\n",
        b"base: &b {x: 1, y: 2}\nsec:\n  e1:\n    <<: *b\n    y: 3\n  <<: [{m: 1}, {m: 2, o: 2}]\n",
        b"sec: &s {a: 1}\nother: *s\n",
        b"top: !!map {a: 1, b: [1, 2]}\nn: 1.10\n",
        b"- 1\n- 2\n",
        b"",
        b"customers:\n  c1: {tariff: t, credit_limit: '100'}\n  c2: {tariff: t}\n  c1: {}\n",
    ],
)
def test_piecewise_reading_builds_what_whole_document_reading_builds(text: bytes) -> None:
    whole = ExactLoader(text)
    expected = whole.get_single_data()
    value, errors = read_yaml("x.yaml", text)
    assert value == expected
    assert errors == [f"x.yaml:{line}: {message}" for line, message in sorted(whole.duplicates)]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"x: 1\n---\ny: 2\n", "x.yaml:2:1: YAML syntax error: but found another document"),
        (b"top:\n  <<: 5\n", "x.yaml:2:5: YAML syntax error: expected a mapping or list of"),
        (b"top:\n  ? [1]\n  : 2\n", "x.yaml:2:5: YAML syntax error: found an unhashable key"),
    ],
)
def test_piecewise_reading_refuses_what_whole_document_reading_refuses(
    text: bytes, problem: str
) -> None:
    with pytest.raises(yaml.YAMLError):
        ExactLoader(text).get_single_data()
    value, errors = read_yaml("x.yaml", text)
    assert value is None
    assert errors[0].startswith(problem)
