"""The sandbox as an ASGI app: admin endpoints under /_sandbox, the eleven OPCOs under /opcos/{CODE}.

Mountable anywhere (`parent.mount("/sandbox", create_sandbox_app(config))`): no route depends on an absolute path.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox.admin_routes import router as admin_router
from infrastructure.opco.opco_sandbox.config import SandboxConfig
from infrastructure.opco.opco_sandbox.context import Sandbox
from infrastructure.opco.opco_sandbox.document_admin_routes import router as document_admin_router
from infrastructure.opco.opco_sandbox.document_routes import router as document_router
from infrastructure.opco.opco_sandbox.elsewhere_routes import router as elsewhere_router
from infrastructure.opco.opco_sandbox.errors import ApiError, SandboxRefusal, error_body
from infrastructure.opco.opco_sandbox.faults import FaultInjector, FaultMiddleware
from infrastructure.opco.opco_sandbox.invoice_admin_routes import router as invoice_admin_router
from infrastructure.opco.opco_sandbox.invoice_routes import router as invoice_router
from infrastructure.opco.opco_sandbox.memory_store import MemoryStore
from infrastructure.opco.opco_sandbox.oauth_routes import router as oauth_router
from infrastructure.opco.opco_sandbox.opco_routes import router as opco_router
from infrastructure.opco.opco_sandbox.rupture_routes import admin_router as rupture_admin_router
from infrastructure.opco.opco_sandbox.rupture_routes import router as rupture_router
from infrastructure.opco.opco_sandbox.sqlite_store import SqliteStore
from infrastructure.opco.opco_sandbox.state import SandboxStore
from infrastructure.opco.opco_sandbox.stats import SandboxStats
from infrastructure.opco.opco_sandbox.wire import SandboxJSON

TITLE = "Reference OPCO sandbox (API Convergence) — a rehearsal tool, never for real dossiers"


def create_sandbox_app(config: SandboxConfig | None = None) -> FastAPI:
    config = config or SandboxConfig()
    store = open_store(config.state_path)
    if not config.oauth_clients:
        config.oauth_clients = dict([store.oauth_client()])
    sandbox = Sandbox(config, store, SandboxStats(), FaultInjector(config.faults))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        sandbox.close()  # only run when the sandbox is served on its own: a mounted app gets no lifespan

    opcos = FastAPI(title=f"{TITLE}: OPCOs")
    opcos.include_router(opco_router)
    opcos.include_router(invoice_router)
    opcos.include_router(oauth_router)
    opcos.include_router(document_router)
    opcos.include_router(rupture_router)
    opcos.add_middleware(FaultMiddleware, injector=sandbox.faults, stats=sandbox.stats)
    app = FastAPI(title=TITLE, lifespan=lifespan)
    app.include_router(admin_router)
    app.include_router(elsewhere_router)
    app.include_router(invoice_admin_router)
    app.include_router(document_admin_router)
    app.include_router(rupture_admin_router)
    app.mount("/opcos", opcos)
    for each in (app, opcos):
        each.state.sandbox = sandbox
        each.add_exception_handler(SandboxRefusal, _refused)  # type: ignore[arg-type]
        each.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
        each.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    return app


def open_store(path: Path | None) -> SandboxStore:
    """In memory, or in a SQLite file that keeps the sandbox's records across restarts."""
    return MemoryStore() if path is None else SqliteStore(path)


async def _refused(_: Request, refusal: SandboxRefusal) -> SandboxJSON:
    return SandboxJSON(error_body(refusal.opco, refusal.errors), status_code=refusal.status, headers=refusal.headers)


_OPCO_IN_PATH = re.compile(r"/opcos/([A-Z0-9_]+)(/|$)")
_HTTP_ERRORS = {
    404: ("RESSOURCE_INCONNUE", "Ressource inconnue"),
    405: ("METHODE_NON_AUTORISEE", "Méthode non autorisée"),
}


async def _http_error(request: Request, error: StarletteHTTPException) -> SandboxJSON:
    """An unknown path or a wrong method, in the OPCO's error shape (errors[{code, description}], or OPCO EP's
    comment) rather than the framework's {"detail": …}, as the real OPCOs answer (opco-wire.md §8)."""
    code, words = _HTTP_ERRORS.get(error.status_code, ("ERREUR_HTTP", str(error.detail)))
    found = _OPCO_IN_PATH.search(request.url.path)
    opco = Opco(found[1]) if found and found[1] in Opco.__members__ else None
    body = error_body(opco, [ApiError(code, f"{words} : {request.method} {request.url.path}")])
    return SandboxJSON(body, status_code=error.status_code, headers=error.headers)


async def _invalid_request(request: Request, error: RequestValidationError) -> SandboxJSON:
    """400 rather than FastAPI's 422, in the OPCO's error shape."""
    code = str(request.path_params.get("code", ""))
    opco = Opco(code) if code in Opco.__members__ else None
    errors = [
        ApiError("REQUETE_INVALIDE", str(item.get("msg", "invalide")), ".".join(str(p) for p in item.get("loc", ())))
        for item in error.errors()
    ]
    return SandboxJSON(error_body(opco, errors), status_code=400)
