"""Per-user SQLite: schema, migrations, in-memory images and the sync to object storage."""
