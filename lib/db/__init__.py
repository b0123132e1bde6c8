"""Per-user SQLite: schema, migrations, in-memory images and the compare-and-swap sync to
object storage (design.md §3).

Owns the database file of each user and the unit-of-work protocol every write goes through.
May import the kernel, `lib.storage` and the pure framing rules of `lib.framing` (the migration
of old databases normalizes stored framing JSON with the very rules the gestures use).
"""
