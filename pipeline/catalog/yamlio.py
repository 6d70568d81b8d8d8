"""Exact YAML reading (Decimal numbers, digit-string ids) and typed fields that collect errors."""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Callable, Collection, Hashable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError
from yaml.events import MappingEndEvent, MappingStartEvent, StreamEndEvent
from yaml.nodes import MappingNode, ScalarNode

from pipeline.catalog.decks import parse_instant
from pipeline.rating.money import check_currency, parse_decimal, parse_percent, to_micro

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
NO_CURRENCY = "???"  # placeholder after a currency error; never in a loaded catalog


class ExactLoader(_BaseLoader, Composer):
    """A safe loader that never makes floats and notes duplicate keys.

    Only plain decimal integers (`1000`, `-5`) become ints and only `1.10`-shaped numbers
    become Decimals (from the text as written); YAML 1.1 octal, hex, sexagesimal (`18:00`),
    `.inf` and `yes`/`no` stay strings, so ids like `0101` and times like `18:00` survive.
    Python's `Composer` (over libyaml's events) lets `read_yaml` build a document one
    entry at a time.
    """

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        self.anchors: dict[str, yaml.Node] = {}
        self.duplicates: list[tuple[int, str]] = []

    def note_key(self, seen: dict[Hashable, int], key: object, line: int) -> None:
        if not isinstance(key, Hashable):
            return
        if key in seen:
            self.duplicates.append((line, f"duplicate key {key!r} (first at line {seen[key]})"))
        else:
            seen[key] = line

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[Hashable, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self.construct_object(key_node, deep=True)
            self.note_key(seen, key, key_node.start_mark.line + 1)
        return super().construct_mapping(node, deep=deep)


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    assert isinstance(node, ScalarNode)
    return Decimal(loader.construct_scalar(node).replace("_", ""))


ExactLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT, _FLOAT, _BOOL)]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
ExactLoader.add_implicit_resolver(
    _INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
ExactLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)
ExactLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
ExactLoader.add_constructor(_FLOAT, _construct_decimal)


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    """A date or time as PyYAML reads it; one that is no real day (`2026-02-30`) stays
    its text, for the field to refuse with its own message instead of a traceback."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)  # type: ignore[arg-type]
    except ValueError:
        assert isinstance(node, ScalarNode)
        return loader.construct_scalar(node)


ExactLoader.add_constructor(_TIMESTAMP, _construct_timestamp)


def read_yaml(name: str, data: bytes) -> tuple[object, list[str]]:
    """The document in `data`, and errors (syntax, duplicate keys) prefixed with `name`."""
    loader = ExactLoader(data)
    try:
        value = _single_document(loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        context = f" ({error.context})" if error.context else ""
        return None, [f"{where}: YAML syntax error: {error.problem}{context}"]
    except yaml.YAMLError as error:
        return None, [f"{name}: YAML error: {' '.join(str(error).split())}"]
    finally:
        loader.dispose()
    return value, [f"{name}:{line}: {message}" for line, message in sorted(loader.duplicates)]


def _single_document(loader: ExactLoader) -> object:
    """The stream's one document, as `get_single_data` reads it, but built piecewise.

    libyaml's composer builds the node tree of the whole file before anything is
    constructed, with position marks on every node: a catalog.yaml of 100,000 customers
    (12 MB) took 500 MiB that way. Here the top level and each section under it are
    walked event by event, and every entry is composed and constructed on its own, so
    only one entry's nodes exist at a time.
    """
    loader.get_event()  # stream start
    if loader.check_event(StreamEndEvent):
        loader.get_event()
        return None
    loader.get_event()  # document start
    value = _piecewise(loader, depth=2)
    loader.get_event()  # document end
    if not loader.check_event(StreamEndEvent):
        raise ComposerError(
            "expected a single document in the stream",
            None,
            "but found another document",
            _mark(loader.get_event()),
        )
    loader.get_event()
    loader.anchors = {}
    return value


def _piecewise(loader: ExactLoader, depth: int) -> object:
    """The next value: a plain mapping walked entry by entry `depth` levels down, any
    other value (or a mapping with an anchor or a tag) composed whole. Merge keys (`<<`)
    apply as PyYAML applies them: explicit keys first, then the earlier merge."""
    event = loader.peek_event()
    plain = isinstance(event, MappingStartEvent) and event.anchor is None and event.implicit
    if depth == 0 or not plain:
        value = loader.construct_object(_compose(loader), deep=True)
        loader.constructed_objects = {}  # drop the nodes of what was built
        loader.recursive_objects = {}
        return value
    loader.get_event()
    mapping: dict[Hashable, object] = {}
    merged: list[dict[Hashable, object]] = []  # later ones override earlier ones
    seen: dict[Hashable, int] = {}
    while not loader.check_event(MappingEndEvent):
        line = _mark(loader.peek_event()).line + 1
        key_node = _compose(loader)
        if key_node.tag == _MERGE:
            merged.extend(_merge_sources(loader, key_node))
            continue
        key = loader.construct_object(key_node, deep=True)
        loader.note_key(seen, key, line)
        value = _piecewise(loader, depth - 1)
        if not isinstance(key, Hashable):
            raise ConstructorError(None, None, "found an unhashable key", key_node.start_mark)
        mapping[key] = value
    loader.get_event()
    if not merged:
        return mapping
    result: dict[Hashable, object] = {}
    for source in merged:
        result.update(source)
    result.update(mapping)
    return result


def _compose(loader: ExactLoader) -> yaml.Node:
    node = loader.compose_node(None, None)  # type: ignore[arg-type]  # as PyYAML calls it
    assert node is not None
    return node


def _mark(event: yaml.Event | None) -> Any:
    assert event is not None
    return event.start_mark


def _merge_sources(loader: ExactLoader, key_node: yaml.Node) -> list[dict[Hashable, object]]:
    value = _piecewise(loader, 0)
    sources = value if isinstance(value, list) else [value]
    if not all(isinstance(source, dict) for source in sources):
        raise ConstructorError(
            "while constructing a mapping",
            key_node.start_mark,
            "expected a mapping or list of mappings for merging",
            key_node.end_mark,
        )
    return list(reversed(sources))


# Value parsers: each returns the value or raises ValueError with a message for the operator.


def as_id(value: object) -> str:
    """A party, tariff or package id: a string, or a plain integer taken as its digits."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{value!r} is not an id; write a name such as c1")


def as_text(value: object) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError(f"{value!r} is not a non-empty string")


def as_micro(value: object) -> int:
    """An amount in micro-units; more than 6 decimals is refused."""
    return to_micro(parse_decimal(value))


def as_zone(value: object) -> ZoneInfo:
    try:
        return ZoneInfo(as_text(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. UTC, Europe/Berlin)") from None


def as_date(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date; write it as YYYY-MM-DD")


def as_int(value: object, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        shown = str(value) if isinstance(value, Decimal) else repr(value)
        raise ValueError(f"{shown} is not a whole number")
    if (maximum is not None and value > maximum) or (minimum is not None and value < minimum):
        if maximum is None:
            raise ValueError(f"{value} must be {minimum} or more")
        raise ValueError(f"{value} is out of range {minimum}..{maximum}")
    return value


def as_enum(kind: type[E], value: object) -> E:
    for member in kind:
        if member.value == value:
            return member
    known = ", ".join(str(member.value) for member in kind)
    raise ValueError(f"{value!r} is not one of {known}")


class Fields:
    """One YAML mapping being read: typed getters that record errors under its key path.

    A getter that fails records `FILE: PATH.KEY: message` and returns the default (or a
    placeholder), so reading goes on and every error is found; a catalog with any error
    is refused whole, so placeholders never escape.
    """

    __slots__ = ("_data", "_shapeless", "errors", "file", "path")

    def __init__(
        self, errors: list[str], file: str, path: str, value: object, known: Collection[str]
    ) -> None:
        self.errors = errors
        self.file = file
        self.path = path
        self._data: dict[object, object] = {}
        self._shapeless = False  # not a mapping: reported once, its missing keys are not
        if isinstance(value, dict):
            self._data = value
            for key in value:
                if key not in known:
                    self._unknown(key, known)
        elif value is not None:
            self._shapeless = True
            self.error(None, f"expected a mapping with keys {', '.join(sorted(known))}")

    def _unknown(self, key: object, known: Collection[str]) -> None:
        close = difflib.get_close_matches(str(key), list(known), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        self.error(None, f"unknown key {key!r} ({hint}known: {', '.join(sorted(known))})")

    def where(self, key: str | None) -> str:
        if key is None:
            return self.path
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str | None, message: str) -> None:
        where = self.where(key)
        self.errors.append(
            f"{self.file}: {where}: {message}" if where else f"{self.file}: {message}"
        )

    def raw(self, key: str) -> object:
        return self._data.get(key)

    def get(self, key: str, parse: Callable[[object], T], default: T | None = None) -> T | None:
        """The parsed value; the default when absent or null (an error if no default)."""
        value = self._data.get(key)
        if value is None:
            if default is None and not self._shapeless:
                self.error(key, "missing; this key is required")
            return default
        try:
            return parse(value)
        except ValueError as error:
            self.error(key, str(error))
            return default

    def optional(self, key: str, parse: Callable[[object], T]) -> T | None:
        value = self._data.get(key)
        return None if value is None else self.get(key, parse)

    def value(self, key: str, parse: Callable[[object], T], default: T) -> T:
        result = self.get(key, parse, default)
        return default if result is None else result

    def choice(self, key: str, kind: type[E], default: E) -> E:
        return self.value(key, lambda value: as_enum(kind, value), default)

    def integer(self, key: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
        return self.value(key, lambda value: as_int(value, minimum, maximum), default)

    def micro(self, key: str, default: int, minimum: int | None = None) -> int:
        def parse(value: object) -> int:
            micro = as_micro(value)
            if minimum is not None and micro < minimum:
                raise ValueError(f"{value} must not be below {minimum / 1_000_000:g}")
            return micro

        return self.value(key, parse, default)

    def percent(self, key: str) -> Decimal | None:
        return self.optional(key, parse_percent)

    def currency(self, key: str, default: str | None) -> str:
        return self.get(key, check_currency, default) or NO_CURRENCY

    def zone(self, key: str, default: ZoneInfo) -> ZoneInfo:
        return self.value(key, as_zone, default)

    def instant(self, key: str) -> int:
        return self.get(key, parse_instant) or 0

    def items(self, key: str) -> list[tuple[str, object]]:
        """A single value or a list: `(key path, value)` pairs, `key[i]` for list items."""
        value = self._data.get(key)
        if value is None:
            return []
        if isinstance(value, list):
            return [(f"{key}[{index}]", item) for index, item in enumerate(value)]
        return [(key, value)]

    def entries(self, key: str) -> list[tuple[str, object]]:
        """A mapping of ids to values, ids as strings (`1000:` is the id "1000")."""
        value = self._data.get(key)
        if value is None:
            return []
        if not isinstance(value, dict):
            self.error(key, "expected a mapping of ids to entries")
            return []
        result: dict[str, object] = {}
        for raw_id, entry in value.items():
            try:
                ident = as_id(raw_id)
            except ValueError as error:
                self.error(key, str(error))
                continue
            if ident in result:
                self.error(f"{key}.{ident}", "the id is given twice")
            result[ident] = entry
        return list(result.items())

    def section(self, key: str, value: object, known: Collection[str]) -> Fields:
        return Fields(self.errors, self.file, self.where(key), value, known)
