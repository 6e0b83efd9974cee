"""The composition root: settings → stores → application services → worker, wired once per process."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

from application.access.access import WORKER
from application.amendments.amendment_status import TOPICS as AMENDMENT_STATUS_TOPICS
from application.amendments.amendment_status import AmendmentQueries, batch_rows
from application.amendments.amendment_transmissions import AmendmentChannel, AmendmentSync
from application.amendments.amendments import Amendments
from application.contracts.imports.importer import OpcoImporter
from application.documents import DocumentStore
from application.dossiers import Dossiers
from application.invoices.billing_profiles import BillingProfiles
from application.invoices.certificats import Certificats
from application.invoices.invoice_documents import InvoiceDocuments
from application.invoices.invoice_sync import InvoiceSync
from application.invoices.invoices import Invoices
from application.opco.channels import InvoiceChannel, TerminationChannel
from application.opco.document_channel import DocumentChannel
from application.opco.document_release import DocumentRelease
from application.opco.opco_accounts import OpcoAccounts
from application.opco.opco_documents import ContractDocuments
from application.opco.opco_lookup import OpcoLookup
from application.opco.sender import Sender, SenderPolicy
from application.opco.state_sync import StateSync
from application.privacy.erasure import Erasures
from application.privacy.retention import Retention
from application.read_models.invoice_status_projection import TOPICS as INVOICE_STATUS_TOPICS
from application.read_models.invoice_status_queries import InvoiceAttentionPolicy, InvoiceStatusQueries
from application.read_models.rupture_status import TOPICS as RUPTURE_STATUS_TOPICS
from application.read_models.rupture_status import RuptureQueries, rupture_changes
from application.read_models.status_projection import TOPICS as STATUS_TOPICS
from application.read_models.status_queries import AttentionPolicy, StatusQueries
from application.ruptures.terminations import Terminations
from infrastructure.access.secret_box import FernetBox, key_from_file
from infrastructure.access.token_revocations import Revocations, revocations_for
from infrastructure.clock import SystemClock
from infrastructure.documents.certificat_pdf import render_certificat_pdf
from infrastructure.documents.invoice_pdf import render_invoice_pdf
from infrastructure.documents.store import DirectoryDocumentStore, SqlDocumentStore
from infrastructure.opco.cfadock import CfaDockDirectory
from infrastructure.opco.contact_log import SqlContactLog
from infrastructure.opco.fan_out import ThreadFanOut
from infrastructure.opco.opco_client import ClientIdentity, HttpOpcoGateway
from infrastructure.opco.opco_client.dpop import JoseDpopKeys
from infrastructure.opco.opco_directory import opco_profiles
from infrastructure.opco.opco_lookup_cache import SqlLookupCache
from infrastructure.opco.opco_sandbox import SandboxConfig
from infrastructure.opco.sandbox_keys import SandboxKeys, sandbox_operator_token
from infrastructure.privacy.data_keys import SqlDataKeys
from infrastructure.privacy.keyring import Keyring
from infrastructure.privacy.keys import master_keyring
from infrastructure.privacy.read_model_erasure import ReadModelEraser
from infrastructure.read_models import temporal_versions
from infrastructure.read_models.amendment_status_view import NAME as AMENDMENT_STATUS
from infrastructure.read_models.amendment_status_view import SqlAmendmentStatusView
from infrastructure.read_models.document_release import DocumentReleaseRunner
from infrastructure.read_models.invoice_status_view import LIVE as LIVE_INVOICE_STATUS
from infrastructure.read_models.invoice_status_view import SqlInvoiceStatusView
from infrastructure.read_models.projection_runner import ProjectionRunner
from infrastructure.read_models.pruning import Pruner
from infrastructure.read_models.rupture_status_view import NAME as RUPTURE_STATUS
from infrastructure.read_models.rupture_status_view import SqlRuptureStatusView
from infrastructure.read_models.status_view import LIVE as LIVE_STATUS
from infrastructure.read_models.status_view import SqlStatusView
from infrastructure.read_models.transmissions_view import (
    AMENDMENTS,
    DOCUMENTS,
    INVOICES,
    RUPTURES,
    SqlTransmissionsView,
)
from infrastructure.reference_data import idcc_routing
from infrastructure.settings import Settings
from infrastructure.store.event_store import eventsourcing_env
from infrastructure.store.layout import upgrade_layout
from infrastructure.store.leases import Leases
from infrastructure.store.pg_wakeup import LogWakeup
from infrastructure.store.sql_store import SqlStore, open_sql_store
from infrastructure.worker import (
    AmendmentOutbox,
    DocumentOutbox,
    InvoiceOutbox,
    RuptureOutbox,
    Worker,
    WorkerTiming,
)


@dataclass
class Container:
    settings: Settings
    dossiers: Dossiers
    invoices: Invoices
    accounts: OpcoAccounts
    transmissions: SqlTransmissionsView
    status_view: SqlStatusView
    status: StatusQueries
    worker: Worker
    sandbox_url: str | None
    store: SqlStore
    _gateway: HttpOpcoGateway
    invoice_status_view: SqlInvoiceStatusView | None = None
    invoice_status: InvoiceStatusQueries | None = None
    revocations: Revocations = field(default_factory=Revocations)  # tells the token caches (the API's)
    opco_directory: CfaDockDirectory | None = None
    invoice_documents: InvoiceDocuments = field(init=False)
    importer: OpcoImporter = field(init=False)
    contract_documents: ContractDocuments = field(init=False)
    certificats: Certificats = field(init=False)
    terminations: Terminations = field(init=False)
    rupture_transmissions: SqlTransmissionsView = field(init=False)
    ruptures: RuptureQueries = field(init=False)
    amendments: Amendments = field(init=False)
    amendment_transmissions: SqlTransmissionsView = field(init=False)
    amendment_status: AmendmentQueries = field(init=False)
    erasures: Erasures = field(init=False)
    retention: Retention = field(init=False)

    def close(self) -> None:
        self.revocations.close()
        self.worker.stop()
        self._gateway.close()
        if self.opco_directory is not None:
            self.opco_directory.close()
        self.store.close()
        self.dossiers.close()


def sandbox_url(settings: Settings) -> str | None:
    """Where the OPCOs without a configured address are played: a separate sandbox, or the one `serve` mounts."""
    if settings.sandbox_url:
        return settings.sandbox_url.rstrip("/")
    if settings.sandbox_mounted() and settings.self_url:
        return f"{settings.self_url.rstrip('/')}/sandbox"
    return None


def upgrade_store(settings: Settings) -> None:
    """Bring the store's layout up to date once, before `serve` starts its processes; LayoutError when it cannot."""
    eventsourcing_env(settings)  # makes the SQLite file's directory
    store = open_sql_store(settings.database_url, 1)
    try:
        upgrade_layout(store, settings.version)
    finally:
        store.close()


def bootstrap(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    clock = SystemClock()
    env = eventsourcing_env(settings)  # also makes the SQLite file's directory, for the upgrade below
    store = open_sql_store(settings.database_url, settings.postgres_pool_size + settings.postgres_max_overflow)
    try:
        upgrade_layout(store, settings.version)  # before any component creates or reads its tables
    except BaseException:
        store.close()
        raise
    revocations = revocations_for(settings.database_url, store)
    # the event library creates its tables: one process at a time on PostgreSQL (SQLite serialises its writers)
    keyring = master_keyring(settings)
    data_keys = SqlDataKeys(store, keyring)
    temporal_versions.seal_memos_with(keyring)
    with store.creating() if store.dialect == "postgresql" else nullcontext():
        dossiers = Dossiers(env, routing=idcc_routing(), clock=clock, revocations=revocations, data_keys=data_keys)
    box = FernetBox(
        settings.secret_key.get_secret_value().encode()
        if settings.secret_key
        else key_from_file(settings.secret_key_file)
    )
    sandbox = sandbox_url(settings)
    accounts = OpcoAccounts(dossiers, box, opco_profiles(settings, sandbox), SqlContactLog(store), JoseDpopKeys())
    directory = _opco_lookup(settings, dossiers, store) if settings.opco_lookup_enabled else None
    gateway = HttpOpcoGateway(
        ClientIdentity(settings.editeur, settings.logiciel, settings.version),
        timeout=httpx.Timeout(settings.opco_timeout_seconds, connect=5.0),
    )
    view = SqlTransmissionsView(store)
    document_store = _document_store(settings, store, keyring)
    contract_documents = ContractDocuments(dossiers, document_store, accounts.profiles)
    invoices = Invoices(dossiers, accounts.profiles, clock, BillingProfiles(dossiers, box))
    invoice_view = SqlTransmissionsView(store, INVOICES)
    terminations = Terminations(dossiers, accounts.profiles)
    rupture_view = SqlTransmissionsView(store, RUPTURES)
    rupture_status_view = SqlRuptureStatusView(store)
    rupture_status_runner = ProjectionRunner(
        dossiers,
        RUPTURE_STATUS,
        RUPTURE_STATUS_TOPICS,
        lambda batch: rupture_status_view.apply(
            [c for _, event in batch.events for c in rupture_changes(event)], batch.tracking, batch.previous
        ),
        lambda: rupture_status_view.position(dossiers.name),
    )
    amendments = Amendments(dossiers)
    amendment_view = SqlTransmissionsView(store, AMENDMENTS)
    amendment_status_view = SqlAmendmentStatusView(store)
    amendment_status_runner = ProjectionRunner(
        dossiers,
        AMENDMENT_STATUS,
        AMENDMENT_STATUS_TOPICS,
        lambda batch: amendment_status_view.apply(
            batch_rows(batch, lambda i, v: dossiers.repository.get(i, version=v)), batch.tracking, batch.previous
        ),
        lambda: amendment_status_view.position(dossiers.name),
    )
    status_view = SqlStatusView(store, dossiers.routing)
    status_runner = ProjectionRunner(
        dossiers, LIVE_STATUS, STATUS_TOPICS, status_view.apply, lambda: status_view.position(dossiers.name)
    )
    invoice_status_view = SqlInvoiceStatusView(store)
    invoice_status_runner = ProjectionRunner(
        dossiers,
        LIVE_INVOICE_STATUS,
        INVOICE_STATUS_TOPICS,
        invoice_status_view.apply,
        lambda: invoice_status_view.position(dossiers.name),
    )
    invoice_documents = InvoiceDocuments(
        invoices, dossiers, document_store, render_invoice_pdf, invoices.billing.issuer
    )
    keys = _sandbox_keys(settings, sandbox, accounts)
    fan_out = ThreadFanOut(settings.sync_concurrency)
    worker = Worker(
        dossiers=dossiers,
        view=view,
        accounts=accounts,
        sender=Sender.for_contracts(dossiers, accounts, gateway, clock, _policy(settings)),
        sync=StateSync(dossiers, accounts, gateway, view, clock, fan_out),
        leases=Leases(store),
        clock=clock,
        timing=WorkerTiming(
            projection_poll=settings.projection_poll_seconds,
            sender_poll=settings.sender_poll_seconds,
            sync_interval=settings.sync_interval_seconds,
            prune_interval=settings.prune_interval_seconds,
            concurrency=settings.sender_concurrency,
            lease=settings.lease_seconds,
        ),
        sandbox_keys=keys,
        wakeup=_wakeup(settings, dossiers),
        read_models={
            LIVE_STATUS: status_runner,
            LIVE_INVOICE_STATUS: invoice_status_runner,
            RUPTURE_STATUS: rupture_status_runner,
            AMENDMENT_STATUS: amendment_status_runner,
        },
        pruner=Pruner(
            {LIVE_STATUS: status_view, LIVE_INVOICE_STATUS: invoice_status_view},
            dossiers.name,
            settings.walk_retention_seconds,
        ),
        invoices=InvoiceOutbox(
            invoice_view,
            Sender(InvoiceChannel(invoices, gateway, invoice_documents), accounts, clock, _policy(settings)),
            InvoiceSync(invoices, accounts, gateway, invoice_view, clock, accounts.profiles, fan_out),
        ),
        documents=DocumentOutbox(
            SqlTransmissionsView(store, DOCUMENTS),
            Sender(DocumentChannel(contract_documents, gateway), accounts, clock, _policy(settings)),
            DocumentReleaseRunner(store, DocumentRelease(contract_documents)),
        ),
        ruptures=RuptureOutbox(
            rupture_view, Sender(TerminationChannel(terminations, gateway), accounts, clock, _policy(settings))
        ),
        amendments=AmendmentOutbox(
            amendment_view,
            Sender(AmendmentChannel(amendments, gateway), accounts, clock, _policy(settings)),
            AmendmentSync(amendments, accounts, gateway, amendment_view, fan_out),
        ),
    )
    status = StatusQueries(status_view, accounts, clock, dossiers.name, _attention(settings))
    invoice_policy = InvoiceAttentionPolicy(echeance_days=settings.attention_invoice_days)
    invoice_status = InvoiceStatusQueries(invoice_status_view, clock, dossiers.name, invoice_policy)
    container = Container(
        settings,
        dossiers,
        invoices,
        accounts,
        view,
        status_view,
        status,
        worker,
        sandbox,
        store,
        gateway,
        invoice_status_view=invoice_status_view,
        invoice_status=invoice_status,
        revocations=revocations,
        opco_directory=directory,
    )
    container.importer = OpcoImporter(
        dossiers,
        accounts,
        gateway,
        view,
        clock,
        catch_up=worker.projection.catch_up,
        ensure_credentials=keys.ensure if keys is not None else None,
    )
    container.invoice_documents = invoice_documents
    container.contract_documents = contract_documents
    container.certificats = Certificats(dossiers, contract_documents, render_certificat_pdf)
    container.terminations = terminations
    container.rupture_transmissions = rupture_view
    container.ruptures = RuptureQueries(rupture_status_view)
    container.amendments = amendments
    container.amendment_transmissions = amendment_view
    container.amendment_status = AmendmentQueries(amendment_status_view)
    container.erasures = Erasures(
        dossiers,
        data_keys,
        document_store,
        [ReadModelEraser(store)],
        lambda contract_id: [d.digest for d in contract_documents.documents(WORKER, contract_id)],
    )
    container.retention = Retention(dossiers, container.erasures)
    return container


def _document_store(settings: Settings, store: SqlStore, keyring: Keyring) -> DocumentStore:
    if settings.documents_dir is not None:
        return DirectoryDocumentStore(settings.documents_dir, settings.max_document_bytes, keyring)
    return SqlDocumentStore(store, settings.max_document_bytes, keyring)


def _sandbox_keys(settings: Settings, sandbox: str | None, accounts: OpcoAccounts) -> SandboxKeys | None:
    """Keys for the CFAs at the sandbox that plays the OPCOs: the one `serve` mounts, or the one at sandbox_url."""
    if sandbox is None:
        return None
    return SandboxKeys(sandbox, accounts, sandbox_operator_token(settings, mounted=not settings.sandbox_url))


def _opco_lookup(settings: Settings, dossiers: Dossiers, store: SqlStore) -> CfaDockDirectory:
    """The lookup of the employer's OPCO by SIRET (off by default): CFA Dock, its answers cached in the store."""
    directory = CfaDockDirectory(settings.opco_lookup_url, dossiers.clock, timeout=settings.opco_lookup_timeout_seconds)
    ttl = timedelta(seconds=settings.opco_lookup_ttl_seconds)
    dossiers.opco_lookup = OpcoLookup(directory, SqlLookupCache(store), dossiers.clock, ttl)
    return directory


def _wakeup(settings: Settings, dossiers: Dossiers) -> Callable[[Callable[[], None]], LogWakeup] | None:
    """On PostgreSQL, new events wake the read models at once (the event store NOTIFYs on its channel)."""
    channel = getattr(dossiers.recorder, "channel_name", None)
    if channel is None or not settings.database_url.startswith(("postgresql", "postgres")):
        return None
    return lambda wake: LogWakeup(settings.database_url, str(channel), wake)


def _attention(settings: Settings) -> AttentionPolicy:
    return AttentionPolicy(problems_after=timedelta(days=settings.attention_problem_days))


def _policy(settings: Settings) -> SenderPolicy:
    return SenderPolicy(
        max_failures=settings.max_failures,
        backoff_base=timedelta(seconds=settings.backoff_base_seconds),
        backoff_cap=timedelta(seconds=settings.backoff_cap_seconds),
        in_flight_timeout=timedelta(seconds=settings.in_flight_timeout_seconds),
    )


def sandbox_config(settings: Settings, *, standalone: bool = False) -> SandboxConfig:
    """The sandbox `serve` mounts (its admin token: the operator's), or the one `convergence sandbox` runs alone."""
    state = None if settings.sandbox_state_path == ":memory:" else Path(settings.sandbox_state_path)
    if state is not None:
        state.parent.mkdir(parents=True, exist_ok=True)
    return SandboxConfig(
        instruction_delay=settings.sandbox_instruction_delay,
        decision_delay=settings.sandbox_decision_delay,
        invoice_instruction_delay=settings.sandbox_invoice_delay,
        invoice_validation_delay=settings.sandbox_invoice_delay,
        invoice_payment_delay=settings.sandbox_invoice_delay,
        partial_payment=settings.sandbox_partial_payment,
        strict_dossiers=settings.sandbox_strict,
        state_path=state,
        admin_token=sandbox_operator_token(settings, mounted=not standalone),
    )
