"""Fixture catalogs for the loader tests: the good one, edited copies, and their errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.catalog.loader import CatalogError, load_catalog

FIXTURES = Path(__file__).parents[2] / "fixtures" / "catalogs"
GOOD = FIXTURES / "good"
JAN_1 = 1_767_225_600  # 2026-01-01 00:00 UTC


def errors_of(directory: Path) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    return info.value.errors


def variant(tmp_path: Path, *edits: tuple[str, str, str]) -> Path:
    """A copy of the good catalog with `(file, old, new)` text replacements applied."""
    target = tmp_path / "catalog"
    shutil.copytree(GOOD, target)
    for name, old, new in edits:
        path = target / name
        text = path.read_bytes().decode()
        assert old in text, f"{old!r} not in {name}"
        path.write_bytes(text.replace(old, new, 1).encode())
    return target
