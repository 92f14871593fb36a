"""The case store: one SQLite file through sqlite-utils. No Qt.

Modules hold plain functions over a `sqlite_utils.Database` opened by `database.open_store`;
every change runs inside `database.writing(db)` and appends to the audit chain.
"""
