"""`convergence retention …` and `convergence keys …`: erasing what is past its retention period, and the keyring
(docs/privacy.md, README "Keys, retention and erasure")."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from infrastructure.privacy.data_keys import SqlDataKeys
from infrastructure.privacy.keyring import new_key_line
from infrastructure.privacy.keys import master_keyring
from infrastructure.settings import Settings
from infrastructure.store.sql_store import open_sql_store
from interfaces.bootstrap import bootstrap

retention = typer.Typer(help="Personal data past their retention period (operator).", no_args_is_help=True)
keys = typer.Typer(help="The master keyring that encrypts what is stored (operator).", no_args_is_help=True)


@retention.command("apply")
def apply_retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list what would be erased, erase nothing")] = False,
    today: Annotated[str | None, typer.Option(help="the day to judge by, YYYY-MM-DD (default: today)")] = None,
) -> None:
    """Erase the personal data of every dossier past its retention period (apprenticeship-rules.md §1.1: five years
    after the contract's end; 31 Dec 2032 for contracts concluded in 2022 or before). Prints one JSON line each."""
    day = date.fromisoformat(today) if today else date.today()
    container = bootstrap()
    try:
        if dry_run:
            for due in container.retention.due(day):
                typer.echo(json.dumps({"wouldErase": due.to_json()}))
            return
        for erasure in container.retention.apply(day):
            typer.echo(json.dumps({"erased": erasure.to_json()}))
    finally:
        container.close()


@keys.command("new")
def new_key(ident: Annotated[str, typer.Option("--id", help="the new key's id, e.g. k2")]) -> None:
    """Print a new key entry (`id:base64`): put it FIRST in CONVERGENCE_DATA_KEYS or the key file, keep the older
    ones after it, on every host."""
    typer.echo(new_key_line(ident))


@keys.command("rewrap")
def rewrap() -> None:
    """Encrypt every apprentice's data key under the keyring's first key (after a rotation). Events, memos and
    documents written under an older key stay readable as long as that key stays on the ring."""
    settings = Settings()
    store = open_sql_store(settings.database_url, 2)
    try:
        count = SqlDataKeys(store, master_keyring(settings)).rewrap()
    finally:
        store.close()
    typer.echo(json.dumps({"rewrapped": count, "currentKey": master_keyring(settings).current_id}))
