"""The cost of encryption at rest: commands per second with and without it, in-process, on SQLite or PostgreSQL.

    .venv/bin/python -m benchmarks.encryption [--dossiers 300] [--store sqlite|postgres]

Each dossier is three commands (create with a complete Cerfa, record the mandate, submit) through the Dossiers
application, then read back from the store with no cache (a replay). "clear" is the application without the
keyring cipher nor the per-dossier data keys (how the store was before encryption at rest); "encrypted" is what the
service runs: the event state under the master keyring (the library's AES-GCM cipher), the personal fields under
each dossier's data key (one key made and stored per dossier). Prints both rates and their ratio.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from application.dossiers import Dossiers
from domain.contracts.cerfa_document import parse_cerfa
from infrastructure.privacy.data_keys import SqlDataKeys
from infrastructure.privacy.keyring import new_key_line, parse_keyring
from infrastructure.reference_data import idcc_routing
from infrastructure.settings import Settings
from infrastructure.store.event_store import eventsourcing_env
from infrastructure.store.sql_store import open_sql_store
from tests.support import FixedClock, principal

ROOT = Path(__file__).resolve().parent.parent
CERFA: dict[str, Any] = json.loads((ROOT / "docs/examples/cerfa-complete.json").read_text(encoding="utf-8"))
KEYS = new_key_line("bench")


def run(url: str, encrypted: bool, dossiers: int) -> tuple[float, float]:
    """(commands per second, dossiers read back per second)."""
    settings = Settings(database_url=url, data_keys=KEYS, aggregate_cache_size=0, _env_file=None)
    env = eventsourcing_env(settings)
    store = open_sql_store(url, 4)
    if not encrypted:
        env = {k: v for k, v in env.items() if not k.startswith("CIPHER_")}
    keys = SqlDataKeys(store, parse_keyring(KEYS)) if encrypted else None
    app = Dossiers(env, routing=idcc_routing(), clock=FixedClock(date(2026, 11, 27)), data_keys=keys)
    who = principal(CERFA["organismeFormation"]["siret"])
    mandate = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}
    try:
        started = time.perf_counter()
        ids = []
        for n in range(dossiers):
            ident = app.create_contract(who, cerfa=parse_cerfa(CERFA), numero_interne=f"E-{n}", opco=None).contract.id
            app.record_mandate(who, ident, signed_on=date(2026, 6, 15), signatory=mandate, document_sha256=None)
            app.submit(who, ident)
            ids.append(ident)
        written = time.perf_counter()
        for ident in ids:
            app.repository.get(ident)
        read = time.perf_counter()
    finally:
        app.close()
        store.close()
    return 3 * dossiers / (written - started), dossiers / (read - written)


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "postgres":
        from benchmarks.databases import temporary_postgres

        with temporary_postgres() as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/bench.db"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=300)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    arguments = parser.parse_args()
    results = {}
    for encrypted in (False, True):
        with database(arguments.store) as url:
            run(url, encrypted, 20)  # warm up: imports, caches, the first connection
        with database(arguments.store) as url:
            results[encrypted] = run(url, encrypted, arguments.dossiers)
    (clear_w, clear_r), (enc_w, enc_r) = results[False], results[True]
    print(f"store: {arguments.store}, {arguments.dossiers} dossiers, 3 commands each")
    print(f"commands/s   clear {clear_w:8.1f}   encrypted {enc_w:8.1f}   ratio {enc_w / clear_w:.2f}")
    print(f"replays/s    clear {clear_r:8.1f}   encrypted {enc_r:8.1f}   ratio {enc_r / clear_r:.2f}")


if __name__ == "__main__":
    main()
