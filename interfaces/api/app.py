"""The FastAPI application for CFA front-ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from infrastructure.opco.opco_sandbox import create_sandbox_app
from infrastructure.settings import Settings
from interfaces.api import health, metrics
from interfaces.api.access import admin
from interfaces.api.access.auth import TokenCache
from interfaces.api.access.rate_limits import rate_limits
from interfaces.api.amendments import amendments
from interfaces.api.audit import audit, history
from interfaces.api.body_limits import install_body_limits
from interfaces.api.contracts import contract_documents, contracts, imports
from interfaces.api.docs_pages import install_docs_pages
from interfaces.api.invoices import billing_profile, invoice_listing, invoices
from interfaces.api.opco import cfas
from interfaces.api.openapi_description import install_openapi_description, operation_id
from interfaces.api.privacy import erasure
from interfaces.api.problem_details import install_problem_handlers
from interfaces.api.read_models import listing
from interfaces.api.request_observer import RequestObserver
from interfaces.api.ruptures import rupture_listing, ruptures
from interfaces.api.security_headers import install_security_headers
from interfaces.bootstrap import Container, bootstrap, sandbox_config

DESCRIPTION = """
Convergence tracks a CFA's apprenticeship contract dossiers from draft to the OPCO's decision.

Every change is an event: `GET /contracts/{id}/events` replays them. Changes to a dossier take
`If-Match: "<version>"` (its ETag); every POST command takes an `Idempotency-Key`, so that a client may
send it again after a timeout without applying it twice. A front-end names the person acting for it in
`X-Acting-Person` (1 to 128 printable ASCII characters): every event the request stores records it with the token's name
and CFA, and `GET /contracts/{id}/history` shows who did what. Errors are
`application/problem+json`; validation errors list each failing field as `{field, code, message}`.
"""


def create_app(container: Container | None = None) -> FastAPI:
    """Build the API; without a container, one is bootstrapped from the settings at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = container is None
        services = container or bootstrap(settings)
        app.state.container = services
        app.state.token_cache = cache = TokenCache(
            services.settings.token_cache_seconds, wall_clock=lambda: services.dossiers.clock.now()
        )
        app.state.rate_limits = rate_limits(services.settings)
        stop_hearing_revocations = services.revocations.subscribe(cache.forget)
        if owned and services.settings.worker_in_serve:
            services.worker.start()
        try:
            yield
        finally:
            stop_hearing_revocations()
            await services.store.aclose()  # the connections its reads opened in this event loop
            if owned:
                services.close()

    settings = container.settings if container else Settings()
    app = FastAPI(
        title="Convergence",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by install_docs_pages, from local assets
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    install_problem_handlers(app)
    install_docs_pages(app)
    install_openapi_description(app)
    install_body_limits(app, settings)
    install_security_headers(app, settings)  # outside the body limits: their 413 carries the headers too
    app.add_middleware(RequestObserver)  # outermost of ours: the request id covers the others' records
    if settings.sandbox_mounted():
        app.mount("/sandbox", create_sandbox_app(sandbox_config(settings)))
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(listing.router)
    app.include_router(history.router)  # before /contracts/{id}'s sub-routes, none of which it shadows
    app.include_router(contracts.router)
    app.include_router(ruptures.router)
    app.include_router(amendments.router)
    app.include_router(rupture_listing.router)
    app.include_router(invoice_listing.router)  # GET /invoices, before /invoices/{id}
    app.include_router(invoices.router)
    app.include_router(cfas.router)
    app.include_router(imports.router)
    app.include_router(billing_profile.router)
    app.include_router(admin.router)
    app.include_router(contract_documents.router)
    app.include_router(erasure.router)
    app.include_router(audit.router)
    return app
