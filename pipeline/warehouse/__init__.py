"""ClickHouse warehouse: schema, migrations and the embedded chdb store."""
