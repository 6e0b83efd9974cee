"""The `convergence` command line."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from importlib.metadata import version as package_version
from typing import Annotated, Protocol

import typer
import uvicorn
from pydantic import ValidationError

from application.amendments.amendment_transmissions import AMENDMENT_TOPICS
from application.audit.actor import acting
from application.errors import ApplicationError
from application.invoices.invoice_transmissions import INVOICE_TOPICS
from application.opco.document_transmissions import DOCUMENT_TOPICS
from application.ruptures.termination_transmissions import TERMINATION_TOPICS
from domain.errors import DomainError
from infrastructure.logs import configure_logging, logging_config
from infrastructure.opco.opco_sandbox import create_sandbox_app
from infrastructure.read_models.invoice_status_view import LIVE as INVOICE_STATUS
from infrastructure.read_models.invoice_status_view import rebuild_invoice_status_view
from infrastructure.read_models.projection_runner import PROGRESS
from infrastructure.read_models.status_view import rebuild_status_view
from infrastructure.read_models.transmissions_view import (
    AMENDMENTS,
    DOCUMENTS,
    INVOICES,
    RUPTURES,
    rebuild_transmissions_view,
)
from infrastructure.settings import Settings
from infrastructure.store.layout import LayoutError
from infrastructure.worker import TASK_GROUPS, check_groups
from interfaces.api.metrics import start_metrics_server
from interfaces.audit_cli import audit
from interfaces.backup_cli import backup, restore
from interfaces.bootstrap import Container, bootstrap, sandbox_config, upgrade_store
from interfaces.cli_support import operator_actor
from interfaces.import_cli import opco
from interfaces.opco_cli import opcos
from interfaces.privacy_cli import keys, retention
from interfaces.profile_cli import cfas
from interfaces.reference_cli import reference
from interfaces.sandbox_cli import sandbox_credentials
from interfaces.token_cli import tokens

cli = typer.Typer(
    help="Convergence: apprenticeship contract dossiers between a CFA and its OPCOs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # main() turns a refusal into one line; anything else is a bug: its traceback
)
cli.add_typer(tokens, name="tokens")
projections = typer.Typer(help="The read models: where they stand, and rebuilding them.", no_args_is_help=True)
cli.add_typer(projections, name="projections")
cli.add_typer(reference, name="reference")
cli.add_typer(opcos, name="opcos")
cli.add_typer(opco, name="opco")
cli.add_typer(cfas, name="cfas")
cli.command("sandbox-credentials")(sandbox_credentials)
cli.add_typer(backup, name="backup")
cli.command("restore")(restore)
cli.add_typer(retention, name="retention")
cli.add_typer(keys, name="keys")
cli.add_typer(audit, name="audit")


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"convergence {package_version('convergence')}")
        raise typer.Exit()


@cli.callback()
def _options(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Convergence: apprenticeship contract dossiers between a CFA and its OPCOs."""
    # What a command stores is the operator's doing; the worker and API requests name their own actors.
    ctx.with_resource(acting(operator_actor()))


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Run the REST API (on the store named by CONVERGENCE_DATABASE_URL; SQLite under ./var by default)."""
    local = "127.0.0.1" if host in {"0.0.0.0", "::"} else host
    os.environ["CONVERGENCE_SELF_URL"] = f"http://{local}:{port}"  # read by the worker processes' settings
    settings = Settings()
    if not settings.database_url.startswith("memory://"):
        upgrade_store(settings)  # a refused layout: one line from main(), before any process starts
    typer.echo(f"Convergence on http://{host}:{port} (store: {_redacted(settings.database_url)}); docs at /docs")
    if settings.sandbox_mounted():
        typer.echo(f"Every OPCO without a configured URL is the sandbox at {settings.self_url}/sandbox")
    uvicorn.run(
        "interfaces.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        log_config=logging_config(settings),
        access_log=False,  # the service's own access log (interfaces/api/request_observer.py) replaces uvicorn's
    )


@cli.command()
def worker(
    only: Annotated[
        list[str] | None,
        typer.Option(
            metavar="GROUP",
            help="run only these task groups (repeatable): projections, sender, state-sync, prune; processes"
            " started with different groups split the work, each with its own interpreter",
        ),
    ] = None,
) -> None:
    """Run the worker alone: transmissions to the OPCOs and their state sync (stop with Ctrl-C)."""
    groups = only or TASK_GROUPS
    try:
        check_groups(groups)
    except ValueError as unknown:
        raise typer.BadParameter(str(unknown)) from None
    settings = Settings()
    configure_logging(settings)
    container = bootstrap(settings)
    stop = threading.Event()
    for stopping in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stopping, lambda *_: stop.set())
    stop_metrics = _worker_metrics(container)
    container.worker.start(groups)
    typer.echo(f"worker {container.worker.holder} running on {_redacted(container.settings.database_url)}")
    try:
        stop.wait()
    finally:
        stop_metrics()
        container.close()


def _worker_metrics(container: Container) -> Callable[[], None]:
    settings = container.settings
    if settings.worker_metrics_port is None:
        return lambda: None
    host, port = settings.worker_metrics_host, settings.worker_metrics_port
    stop = start_metrics_server(container, host, port)
    typer.echo(f"worker metrics on http://{host}:{port}/metrics")
    return stop


@cli.command()
def sandbox(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8100,
    state: Annotated[str, typer.Option(help="SQLite file of its dossiers, or :memory:")] = "var/sandbox.db",
    instruction_delay: Annotated[float, typer.Option(help="seconds from TRANSMIS to EN_COURS_INSTRUCTION")] = 2.0,
    decision_delay: Annotated[float, typer.Option(help="seconds from instruction to the decision")] = 5.0,
) -> None:
    """Run the reference OPCO sandbox alone (faults: PUT /_sandbox/faults, with its admin token). Never in production,
    never with real dossiers."""
    settings = Settings(
        sandbox_state_path=state, sandbox_instruction_delay=instruction_delay, sandbox_decision_delay=decision_delay
    )
    if settings.environment == "production":
        typer.echo("CONVERGENCE_ENVIRONMENT=production: the OPCO sandbox does not run in production", err=True)
        raise typer.Exit(2)
    typer.echo(f"OPCO sandbox on http://{host}:{port}/opcos/<CODE> (state: {state})")
    typer.echo("its /_sandbox/* admin token and OAuth client: convergence sandbox-credentials --standalone")
    config = sandbox_config(settings, standalone=True)
    uvicorn.run(create_sandbox_app(config), host=host, port=port, log_level=settings.log_level)


@projections.command("status")
def projections_status() -> None:
    """Each read model's position, the head of the event log, and the lag between them."""
    container = bootstrap()
    try:
        head = container.dossiers.recorder.max_notification_id() or 0
        typer.echo(f"{'read model':<16} {'position':>10} {'head':>10} {'lag':>8}")
        for name, runner in container.worker.read_models.items():
            typer.echo(f"{name:<16} {head - runner.lag():>10} {head:>10} {runner.lag():>8}")
    finally:
        container.close()


class _Rebuilt(Protocol):
    def position(self, application_name: str) -> int: ...


REBUILDS: dict[str, Callable[[Container], _Rebuilt]] = {
    "status": lambda c: rebuild_status_view(c.store, c.dossiers.routing, c.dossiers),
    "transmissions": lambda c: rebuild_transmissions_view(c.store, c.dossiers),
    INVOICES: lambda c: rebuild_transmissions_view(c.store, c.dossiers, table=INVOICES, topics=INVOICE_TOPICS),
    INVOICE_STATUS: lambda c: rebuild_invoice_status_view(c.store, c.dossiers),
    RUPTURES: lambda c: rebuild_transmissions_view(c.store, c.dossiers, table=RUPTURES, topics=TERMINATION_TOPICS),
}
REBUILDS[DOCUMENTS] = lambda c: rebuild_transmissions_view(c.store, c.dossiers, table=DOCUMENTS, topics=DOCUMENT_TOPICS)
REBUILDS[AMENDMENTS] = lambda c: rebuild_transmissions_view(
    c.store, c.dossiers, table=AMENDMENTS, topics=AMENDMENT_TOPICS
)


@projections.command("rebuild")
def projections_rebuild(
    name: Annotated[str, typer.Argument(help=f"the read model to rebuild: {', '.join(REBUILDS)}")] = "status",
) -> None:
    """Rebuild a read model from the first event into fresh tables, then swap them in; the API keeps answering
    from the old tables meanwhile, and the running workers carry on from the rebuilt position."""
    if name not in REBUILDS:
        raise typer.BadParameter(f"the read models are: {', '.join(REBUILDS)}", param_hint="NAME")
    container = bootstrap()
    try:
        app = container.dossiers
        head = app.recorder.max_notification_id() or 0
        started = time.perf_counter()
        with typer.progressbar(length=head, label=f"rebuilding {name}", file=sys.stderr) as bar:
            reached = [0]

            def advance(position: int) -> None:
                bar.update(min(position, head) - reached[0])
                reached[0] = min(position, head)

            token = PROGRESS.set(advance)
            try:
                position = REBUILDS[name](container).position(app.name)
            finally:
                PROGRESS.reset(token)
        elapsed = time.perf_counter() - started
        typer.echo(f"{name} rebuilt to position {position} (log head was {head}) in {elapsed:.1f} s")
    finally:
        container.close()


def _redacted(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, location = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}@{location}"


def main() -> None:
    try:
        cli()
    except ValidationError as invalid:  # the settings: a clear message, no traceback (inputs hidden: secrets)
        typer.echo(f"convergence: the configuration is refused:\n{invalid}", err=True)
        raise SystemExit(2) from None
    except (ApplicationError, DomainError) as refused:  # an unknown id, a rule: one line, as the API says it
        typer.echo(f"convergence: {refused}", err=True)
        raise SystemExit(1) from None
    except LayoutError as refused:  # the store's layout: newer than this release, or too old for it
        typer.echo(f"convergence: {refused}", err=True)
        raise SystemExit(2) from None
