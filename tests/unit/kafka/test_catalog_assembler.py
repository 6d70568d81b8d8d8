"""Published catalog files assembled per version, and let go of once loaded; the group
names file `catalog publish` adds."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from pipeline.catalog.loader import CatalogError, load_catalog
from pipeline.kafka.catalog import (
    CatalogAssembler,
    group_names_file,
    load_files,
    read_group_names,
)
from pipeline.schemas.codec import CatalogFile

SAMPLES = Path(__file__).resolve().parents[3] / "samples" / "catalog"


def _file(version: str, path: str, files: int = 2) -> CatalogFile:
    return CatalogFile(version=version, path=path, content=path.encode(), files=files)


def test_the_newest_complete_version_wins() -> None:
    assembler = CatalogAssembler()
    for file in [_file("v1", "catalog.yaml"), _file("v1", "deck.csv"), _file("v2", "deck.csv")]:
        assembler.add(file)
    assert assembler.newest_complete() == (
        "v1",
        {"catalog.yaml": b"catalog.yaml", "deck.csv": b"deck.csv"},
    )
    assembler.add(_file("v2", "catalog.yaml"))
    newest = assembler.newest_complete()
    assert newest is not None
    assert newest[0] == "v2"


def test_a_loaded_version_and_older_ones_are_forgotten() -> None:
    assembler = CatalogAssembler()
    for version in ("v1", "v2"):
        assembler.add(_file(version, "catalog.yaml"))
        assembler.add(_file(version, "deck.csv"))
    assembler.add(_file("v3", "catalog.yaml"))
    assembler.forget_through("v2")
    assert assembler.newest_complete() is None  # v1 and v2 are gone, v3 is not complete
    assembler.add(_file("v3", "deck.csv"))
    newest = assembler.newest_complete()
    assert newest is not None
    assert newest[0] == "v3"
    assembler.forget_through("v9")  # unknown: nothing happens
    assert assembler.newest_complete() == newest


def test_group_names_are_published_and_read_back_and_a_broken_file_is_refused() -> None:
    names = {"c2": "c1", "c0": "c1"}
    assert read_group_names(group_names_file(names)) == names
    for broken in (b"[1]", b'{"c0": 1}', b"{", b'"c1"'):
        with pytest.raises(CatalogError, match=r"_group_names\.json"):
            read_group_names(broken)


@pytest.mark.parametrize("name", ["../outside.csv", "/tmp/absolute.csv", "decks/../../up.csv"])
def test_published_files_are_never_written_outside_the_workers_directory(
    name: str, tmp_path: Path
) -> None:
    """Whoever wrote to the catalog topic, a worker writes the files it loads only under
    its temporary directory."""
    files = {"catalog.yaml": (SAMPLES / "catalog.yaml").read_bytes(), name: b"code,rate\n"}
    with pytest.raises(CatalogError, match="not a path inside a catalog"):
        load_files(files)
    assert not (tempfile.gettempdir() / Path("outside.csv")).exists()


def test_a_deck_outside_the_catalog_directory_is_refused(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    shutil.copytree(SAMPLES, catalog)
    yaml = catalog / "catalog.yaml"
    yaml.write_text(yaml.read_text().replace("decks/retail.csv", "../catalog/decks/retail.csv"))
    with pytest.raises(CatalogError, match="must be a path inside the catalog directory"):
        load_catalog(catalog)
