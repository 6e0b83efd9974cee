"""Prometheus metrics for the operator: read models' lag, held dossiers, transmissions of dossiers, invoices and
documents by status."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from interfaces.bootstrap import Container

router = APIRouter(tags=["health"])


class ServiceCollector(Collector):
    """Read at scrape time from the stores, so that every process reports the same figures."""

    def __init__(self, services: Container) -> None:
        self._services = services

    def collect(self) -> Iterator[GaugeMetricFamily]:
        services = self._services
        head = GaugeMetricFamily("convergence_log_head", "position of the last event in the log")
        head.add_metric([], services.dossiers.recorder.max_notification_id() or 0)
        yield head
        lag = GaugeMetricFamily(
            "convergence_read_model_lag", "events the read model has yet to process", labels=["read_model"]
        )
        for name, runner in services.worker.read_models.items():
            lag.add_metric([name], runner.lag())
        yield lag
        held = GaugeMetricFamily(
            "convergence_status_held_dossiers", "dossiers the status read model holds (an event failed)"
        )
        held.add_metric([], len(services.status_view.held(None)))
        yield held
        queue = GaugeMetricFamily("convergence_transmissions", "dossiers in the transmission queue", labels=["status"])
        for status, count in services.transmissions.counts().items():
            queue.add_metric([status], count)
        yield queue
        if services.worker.invoices is not None:
            invoices = GaugeMetricFamily(
                "convergence_invoice_transmissions", "invoices in the transmission queue", labels=["status"]
            )
            for status, count in services.worker.invoices.view.counts().items():
                invoices.add_metric([status], count)
            yield invoices
        if services.worker.documents is not None:
            documents = GaugeMetricFamily(
                "convergence_document_transmissions",
                "documents (conventions, certificats) in their queue",
                labels=["status"],
            )
            for status, count in services.worker.documents.view.counts().items():
                documents.add_metric([status], count)
            yield documents
        ruptures = GaugeMetricFamily(
            "convergence_rupture_transmissions", "ruptures in the transmission queue", labels=["status"]
        )
        for status, count in services.rupture_transmissions.counts().items():
            ruptures.add_metric([status], count)
        yield ruptures
        amendments = GaugeMetricFamily(
            "convergence_amendment_transmissions", "avenants in the transmission queue", labels=["status"]
        )
        for status, count in services.amendment_transmissions.counts().items():
            amendments.add_metric([status], count)
        yield amendments
        yield self._per_opco()

    def _per_opco(self) -> GaugeMetricFamily:
        queues = [("dossier", self._services.transmissions)]
        if self._services.worker.invoices is not None:
            queues.append(("invoice", self._services.worker.invoices.view))
        if self._services.worker.documents is not None:
            queues.append(("document", self._services.worker.documents.view))
        queues.append(("rupture", self._services.rupture_transmissions))
        queues.append(("amendment", self._services.amendment_transmissions))
        family = GaugeMetricFamily(
            "convergence_opco_queue",
            "transmissions per OPCO by status: pending (the queue's depth), parked (failed too often), done",
            labels=["opco", "kind", "status"],
        )
        for kind, view in queues:
            for (opco, status), count in sorted(view.counts_by_opco().items()):
                family.add_metric([opco, kind, status], count)
        return family


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format (no authentication: expose it to the monitoring network only)."""
    body = await run_in_threadpool(exposition, request.app.state.container)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


class ProcessAndServiceCollector(Collector):
    """The process's own figures (prometheus_client's default registry: its HTTP requests, its calls to the OPCOs,
    its CPU and memory), then the store's (the same from every process)."""

    def __init__(self, services: Container) -> None:
        self._service = ServiceCollector(services)

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        yield from self._service.collect()


def start_metrics_server(services: Container, host: str, port: int) -> Callable[[], None]:
    """Serve the process's and the store's figures on http://host:port/metrics (any path, in fact) in a thread;
    returns what stops it."""
    server, thread = start_http_server(port, host, registry=_registry(services))

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop


def exposition(services: Container) -> bytes:
    return generate_latest(_registry(services))


def _registry(services: Container) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProcessAndServiceCollector(services))
    return registry
