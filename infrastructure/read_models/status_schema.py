"""Tables and indexes of the status read model (infrastructure/read_models/status_view.py), named after a prefix so
that a rebuild can fill `status_next_*` beside the live `status_*` tables and swap them in.

Portable types: timestamps as epoch seconds (DOUBLE PRECISION), dates as ISO text, amounts as decimal text,
booleans as integers 0/1, ids as text.
"""

from __future__ import annotations

from application.read_models.status import STORED_FIELDS
from infrastructure.read_models.schema import Schema
from infrastructure.store.sql_store import Transaction

# The row as application.read_models.status.STORED_FIELDS lists it, its position stored as `valid_from` (the log
# position of
# the change that made this version), and after the name `apprentice_search`: the normalised name with a leading
# space, for LIKE '% word%'.
SELECTED = tuple("valid_from" if field == "position" else field for field in STORED_FIELDS)
_NAME_AT = SELECTED.index("apprentice_name") + 1
ROW_COLUMNS = (*SELECTED[:_NAME_AT], "apprentice_search", *SELECTED[_NAME_AT:])
VERSION_COLUMNS = (
    *ROW_COLUMNS,
    "item",
    "valid_to",
)  # item: the list item, encoded (application.read_models.status.list_item)
_NOT_TEXT = {
    "valid_from": "BIGINT",
    "valid_to": "BIGINT",
    "problem_count": "INTEGER",
    "has_mandate": "INTEGER",
    "parked": "INTEGER",
    "created_at": "DOUBLE PRECISION",
    "updated_at": "DOUBLE PRECISION",
    "submitted_at": "DOUBLE PRECISION",
    "sent_at": "DOUBLE PRECISION",
}
_NOT_TEXT.update(dossiers="BIGINT")  # the counts (parked is an integer there too)
COLUMN_TYPES = {column: _NOT_TEXT.get(column, "TEXT") for column in (*VERSION_COLUMNS, "memo", "dossiers", "committed")}


def json_rows(dialect: str, columns: tuple[str, ...]) -> str:
    """Many rows of this view's columns in one statement (temporal_versions.json_rows)."""
    return SCHEMA.json_rows(dialect, columns)


def table_ddl(prefix: str) -> tuple[str, ...]:
    return SCHEMA.table_ddl(prefix)


TABLES: dict[str, tuple[str, str]] = {
    "versions": (
        "contract_id TEXT NOT NULL, valid_from BIGINT NOT NULL, valid_to BIGINT,"
        " cfa_siret TEXT NOT NULL, numero_interne TEXT NOT NULL, state TEXT NOT NULL, opco TEXT,"
        " apprentice_name TEXT, apprentice_search TEXT NOT NULL, employer_name TEXT, employer_siret TEXT,"
        " formation_rncp TEXT, formation_title TEXT, start_date TEXT, end_date TEXT,"
        " numero_externe TEXT, numero_deca TEXT, opco_state TEXT,"
        " problem_count INTEGER NOT NULL, has_mandate INTEGER NOT NULL, parked INTEGER NOT NULL, commitment TEXT,"
        " created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL,"
        " submitted_at DOUBLE PRECISION, sent_at DOUBLE PRECISION, workplace_departement TEXT, origin TEXT,"
        " item TEXT NOT NULL",
        "contract_id, valid_from",
    ),
    "memo": ("contract_id TEXT NOT NULL, memo TEXT NOT NULL", "contract_id"),
    "meta": ("name TEXT NOT NULL, value BIGINT NOT NULL", "name"),
    # dossiers held at their last good version because projecting one of their events failed
    "held": (
        "contract_id TEXT NOT NULL, cfa_siret TEXT, position BIGINT NOT NULL, event_type TEXT NOT NULL,"
        " error TEXT NOT NULL, held_at DOUBLE PRECISION NOT NULL",
        "contract_id",
    ),
    # the current versions counted per (CFA, state, OPCO) for the dashboard, written with them (status_counts.py);
    # opco '' when unknown, committed the exact decimal sum of their commitments as text
    "counts": (
        "cfa_siret TEXT NOT NULL, state TEXT NOT NULL, opco TEXT NOT NULL, dossiers BIGINT NOT NULL,"
        " parked BIGINT NOT NULL, committed TEXT NOT NULL",
        "cfa_siret, state, opco",
    ),
}


# Index choice (PostgreSQL, 1,000,000 dossiers over ~200 CFAs, pages of 50, newest first; measured, p99 target
# 15 ms for any filter of a page):
# - a page is a UNION ALL of keyset scans (infrastructure/read_models/status_view.py), each read in (valid_from DESC,
#   contract_id DESC) order straight from a partial index and stopped after limit+1 matches, then merged: the
#   current versions (valid_to IS NULL), once per wanted state when states are filtered, and the versions closed
#   after the walk's as_of (valid_to > as_of), a small range of the "closed" index that grows only with the changes
#   made since the walk began (never with the history);
# - `current` serves a CFA's unfiltered pages (the tenant is the index's first column), `current_all` the
#   operator's; `state` one keyset scan per wanted state;
# - `opco`, `rncp`, `employer` and `parked` serve the selective filters in the same order: walking `current` and
#   checking a filter that matches one row in a thousand reads a whole CFA (~50,000 rows for the largest one);
#   `updated` serves updatedSince (a range, the matches then sorted) and the dashboard's oldest change per state;
# - `search` (PostgreSQL with pg_trgm and btree_gin) is a trigram index of the normalised names per CFA, for
#   `LIKE '% word%'`; without the extensions the name search walks `current` (correct, slower on rare names);
# - `attention` holds exactly the rows that may need a human, in the order they are listed (oldest first);
# - `closed_all` is the operator's closed branch and what prune deletes by.
# The planner picks among them per query (the filters' values are in its statistics); the others are checked on
# the way. The dashboard reads `{prefix}_counts`, maintained with the versions (see status_counts.py).
_CURRENT = "WHERE valid_to IS NULL"
_ORDER = "valid_from DESC, contract_id DESC"
_ATTENTION = (
    "WHERE valid_to IS NULL AND (state IN ('drafted', 'mandate_checked', 'submitted', 'refused') OR parked = 1)"
)
INDEXES: dict[str, str] = {
    "current": f"(cfa_siret, {_ORDER}) {_CURRENT}",
    "current_all": f"({_ORDER}) {_CURRENT}",
    "states": f"(cfa_siret, state, {_ORDER}) {_CURRENT}",
    "opco": f"(cfa_siret, opco, {_ORDER}) {_CURRENT}",
    "rncp": f"(cfa_siret, formation_rncp, {_ORDER}) {_CURRENT}",
    "employer": f"(cfa_siret, employer_siret, {_ORDER}) {_CURRENT}",
    "parked": f"(cfa_siret, {_ORDER}) {_CURRENT} AND parked = 1",
    "updated": f"(cfa_siret, state, updated_at) {_CURRENT}",
    "updated_all": f"(state, updated_at) {_CURRENT}",
    "attention": f"(cfa_siret, updated_at) {_ATTENTION}",
    "closed": "(cfa_siret, valid_to) WHERE valid_to IS NOT NULL",
    "closed_all": "(valid_to) WHERE valid_to IS NOT NULL",
}
SEARCH_INDEX = "search"  # PostgreSQL only, with the extensions below
SEARCH_DEFINITION = f"USING gin (cfa_siret, apprentice_search gin_trgm_ops) {_CURRENT}"
# btree_gin puts the tenant in the trigram index. Creating an extension needs the CREATE right on the database
# (or a superuser): without it the view works unchanged, the name search only walks instead (status_view.py).
EXTENSIONS = ("CREATE EXTENSION IF NOT EXISTS pg_trgm", "CREATE EXTENSION IF NOT EXISTS btree_gin")
_RETIRED = ("state",)  # replaced by `states` (contract_id added for the keyset): dropped where still there
SCHEMA = Schema(
    tables=TABLES,
    indexes={f"versions_{name}": ("versions", definition) for name, definition in INDEXES.items()},
    column_type=COLUMN_TYPES.__getitem__,
    search_indexes={f"versions_{SEARCH_INDEX}": ("versions", SEARCH_DEFINITION)},
    retired=tuple(f"versions_{name}" for name in _RETIRED),
)


def index_ddl(prefix: str, dialect: str = "postgresql", search: bool = True) -> tuple[str, ...]:
    """The indexes of the versions; on PostgreSQL with `search`, the trigram index too (its extensions must
    exist: SqlStatusView creates them when it may)."""
    return SCHEMA.index_ddl(prefix, dialect, search)


def drop_tables(tx: Transaction, prefix: str) -> None:
    SCHEMA.drop_tables(tx, prefix)


def rename_tables(tx: Transaction, dialect: str, source: str, target: str, search: bool = False) -> None:
    SCHEMA.rename_tables(tx, dialect, source, target, search)
