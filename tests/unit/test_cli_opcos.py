"""`convergence opcos …`: the operator sets a CFA's key, OAuth client and DPoP key from the command line; the
secrets come from a hidden prompt, are sealed in the store (read raw here) and never printed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from joserfc.jwk import RSAKey
from typer.testing import CliRunner

from interfaces.cli import cli
from tests.support import raw_store

CFA = "79852413800012"
API_KEY = "akto-KEY-S3CRET-0001"
CLIENT_SECRET = "software-S3CRET-0123456789"


def run(*arguments: str, secret: str | None = None) -> Any:
    return CliRunner().invoke(cli, ["opcos", *arguments], input=None if secret is None else f"{secret}\n")


def test_the_key_and_the_oauth_client_are_set_from_a_hidden_prompt_sealed_and_never_printed(database: Path) -> None:
    key = run("set-key", "--cfa-siret", CFA, "--opco", "AKTO", secret=API_KEY)
    client = run(
        "set-oauth-client", "--cfa-siret", CFA, "--opco", "AKTO", "--client-id", "convergence", secret=CLIENT_SECRET
    )

    assert (key.exit_code, client.exit_code) == (0, 0), key.output + client.output
    account = json.loads(client.output[client.output.index("{") :])
    assert (account["keyLast4"], account["oauthClient"]["clientId"], account["ready"]) == ("0001", "convergence", True)
    for output in (key.output, client.output):
        assert API_KEY not in output
        assert CLIENT_SECRET not in output
    stored = raw_store(database)
    assert b"convergence" in stored  # the store was read: the client id is there, the secrets are not
    assert API_KEY.encode() not in stored
    assert CLIENT_SECRET.encode() not in stored


def test_a_dpop_key_is_generated_with_its_public_jwk_printed_and_replaced_only_when_asked(database: Path) -> None:
    generated = run("dpop-key", "--cfa-siret", CFA, "--opco", "AFDAS", "--generate", "RS256")
    assert generated.exit_code == 0, generated.output
    first = json.loads(generated.output)["dpopKey"]
    assert (first["alg"], "d" in first["publicJwk"]) == ("RS256", False)

    refused = run("dpop-key", "--cfa-siret", CFA, "--opco", "AFDAS", "--generate", "ES256")
    assert refused.exit_code == 1
    assert "If-Match" in refused.output
    replaced = run("dpop-key", "--cfa-siret", CFA, "--opco", "AFDAS", "--generate", "ES256", "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert json.loads(replaced.output)["dpopKey"]["alg"] == "ES256"


def test_a_pem_file_is_read_and_its_private_part_never_stored_in_clear(database: Path, tmp_path: Path) -> None:
    key = RSAKey.generate_key(2048)
    pem = tmp_path / "dpop.pem"
    pem.write_bytes(key.as_pem(private=True))

    result = run("dpop-key", "--cfa-siret", CFA, "--opco", "AFDAS", "--private-key-file", str(pem))

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["dpopKey"]["thumbprint"] == key.thumbprint()
    private_d = str(key.as_dict(private=True)["d"])
    assert private_d not in result.output
    assert private_d.encode() not in raw_store(database)


def test_a_refusal_names_the_field_and_sets_nothing(database: Path) -> None:
    short = run("set-key", "--cfa-siret", CFA, "--opco", "AKTO", secret="short")
    not_dpop = run("dpop-key", "--cfa-siret", CFA, "--opco", "ATLAS", "--generate", "ES256")
    assert (short.exit_code, not_dpop.exit_code) == (2, 2)
    assert "apiKey" in short.output
    assert "dpopKey" in not_dpop.output
    listed = run("list", "--cfa-siret", CFA)
    assert listed.exit_code == 0
    assert all(account["version"] == 0 for account in json.loads(listed.output))
