"""The tables of a temporal read model, declared once and named after a prefix, so that a rebuild can fill
`<name>_next_*` (or an audit `<name>_audit_*`) beside the live tables and swap them in.

Every table's primary key is the constraint `<prefix>_<table>_pk`; indexes are named `<prefix>_<suffix>`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from infrastructure.read_models import temporal_versions
from infrastructure.store.sql_store import Transaction


@dataclass(frozen=True)
class Schema:
    """`tables`: suffix → (its columns, its primary key's columns); `indexes`: index suffix → (table suffix,
    definition after the table's name); `search_indexes`: the same, made on PostgreSQL only and only where the
    view may (its extensions exist); `retired`: index suffixes dropped where an earlier release made them."""

    tables: dict[str, tuple[str, str]]
    indexes: dict[str, tuple[str, str]]
    column_type: Callable[[str], str]
    search_indexes: dict[str, tuple[str, str]] = field(default_factory=dict)
    retired: tuple[str, ...] = ()

    def json_rows(self, dialect: str, columns: tuple[str, ...]) -> str:
        """Many rows of these columns in one statement (temporal_versions.json_rows)."""
        return temporal_versions.json_rows(dialect, columns, self.column_type)

    def table_ddl(self, prefix: str) -> tuple[str, ...]:
        return tuple(
            f"CREATE TABLE IF NOT EXISTS {prefix}_{table} ({columns},"
            f" CONSTRAINT {prefix}_{table}_pk PRIMARY KEY ({key}))"
            for table, (columns, key) in self.tables.items()
        )

    def index_ddl(self, prefix: str, dialect: str = "postgresql", search: bool = True) -> tuple[str, ...]:
        statements = [f"DROP INDEX IF EXISTS {prefix}_{name}" for name in self.retired]
        wanted = dict(self.indexes)
        if dialect == "postgresql" and search:
            wanted.update(self.search_indexes)
        statements.extend(
            f"CREATE INDEX IF NOT EXISTS {prefix}_{name} ON {prefix}_{table} {definition}"
            for name, (table, definition) in wanted.items()
        )
        return tuple(statements)

    def drop_tables(self, tx: Transaction, prefix: str) -> None:
        for table in self.tables:  # their indexes go with them
            tx.execute(f"DROP TABLE IF EXISTS {prefix}_{table}")

    def rename_tables(self, tx: Transaction, dialect: str, source: str, target: str, search: bool = False) -> None:
        """Rename `source_*` to `target_*`, the tables' indexes and constraints included.

        PostgreSQL renames indexes and constraints on demand. SQLite renames its automatic (primary key) indexes
        with their table but keeps the names of created indexes, so those are dropped and created again under the
        target's names."""
        for table in self.tables:
            tx.execute(f"ALTER TABLE {source}_{table} RENAME TO {target}_{table}")
        if dialect == "postgresql":
            for table in self.tables:
                tx.execute(f"ALTER TABLE {target}_{table} RENAME CONSTRAINT {source}_{table}_pk TO {target}_{table}_pk")
            for name in (*self.indexes, *self.search_indexes):
                tx.execute(f"ALTER INDEX IF EXISTS {source}_{name} RENAME TO {target}_{name}")
        else:
            for name in self.indexes:
                tx.execute(f"DROP INDEX IF EXISTS {source}_{name}")
        for statement in self.index_ddl(target, dialect, search):  # a no-op where the renamed ones are there
            tx.execute(statement)
