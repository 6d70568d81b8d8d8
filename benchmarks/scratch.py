"""What a benchmark run leaves behind (its topics, database, worker directories), removed."""

from __future__ import annotations

import atexit
import os
import shutil
from pathlib import Path

from confluent_kafka.admin import AdminClient

from pipeline.settings import Settings
from pipeline.warehouse.server import ServerWarehouse

# 1 keeps a run's topics and database for a look (not CDR_: settings refuse unknown ones)
KEEP = "BENCH_KEEP"


def remove_at_exit(name: str, settings: Settings) -> None:
    """Once the run ends, delete every topic whose name starts with `name` (the run's
    own, and the ones Faust made for its app), drop its database and remove the
    `/tmp/<name>*` directories (worker logs stay). Left behind, ninety runs made
    ClickHouse's start-up outlast `deploy/local/up`'s 90 s and filled 7.6 GB of broker
    storage."""
    if os.environ.get(KEEP) != "1":
        atexit.register(remove, name, settings)


def remove(name: str, settings: Settings, what: str = "benchmark run") -> None:
    """Delete now every topic and database whose name starts with `name`, and the
    `/tmp/<name>*` directories; say so, never raise, if the servers refuse."""
    try:
        admin = AdminClient({"bootstrap.servers": settings.kafka_brokers})
        topics = [t for t in admin.list_topics(timeout=15).topics if t.startswith(name)]
        if topics:
            for future in admin.delete_topics(topics, operation_timeout=30).values():
                future.result(60)
        with ServerWarehouse.from_settings(settings) as db:
            for row in db.rows("SHOW DATABASES"):
                if str(row["name"]).startswith(name):
                    db.execute(f"DROP DATABASE IF EXISTS {row['name']}")
    except Exception as error:  # a report already printed stays valid
        print(f"{what} {name} not removed ({error}); remove its topics and database by hand")
    for path in Path("/tmp").glob(f"{name}*"):
        if path.is_dir():  # worker data; its log stays
            shutil.rmtree(path, ignore_errors=True)
