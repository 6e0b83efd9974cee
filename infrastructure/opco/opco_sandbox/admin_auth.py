"""Who may use /_sandbox/*: the operator, with the sandbox's admin token as a Bearer.

Those routes hand out every dossier received (NIRs included), issue CFA keys, set faults and forget everything: a
missing token is 401, another one 403. Mounted in `convergence serve`, the token is the service's operator token
(`CONVERGENCE_ADMIN_TOKEN`), or the installation's sandbox token when none is set; standalone, its own
(`CONVERGENCE_SANDBOX_ADMIN_TOKEN`); see `infrastructure.opco.sandbox_keys.sandbox_operator_token`."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from infrastructure.opco.opco_sandbox.context import Sandbox, current_sandbox
from infrastructure.opco.opco_sandbox.errors import ApiError, SandboxRefusal

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="opco-sandbox"'}


def operator(request: Request, sandbox: Annotated[Sandbox, Depends(current_sandbox)]) -> None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        error = ApiError("JETON_OPERATEUR_MANQUANT", "Authorization: Bearer <jeton de l'opérateur> est obligatoire")
        raise SandboxRefusal(401, [error], headers=CHALLENGE)
    if not hmac.compare_digest(value.strip().encode(), sandbox.config.admin_token.encode()):
        raise SandboxRefusal(403, [ApiError("JETON_OPERATEUR_INVALIDE", "Ce jeton n'est pas celui de l'opérateur")])
