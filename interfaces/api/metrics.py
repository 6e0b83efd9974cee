"""Prometheus metrics for the operator: read models' lag, held dossiers, transmissions of dossiers and invoices by
status."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
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
        ruptures = GaugeMetricFamily(
            "convergence_rupture_transmissions", "ruptures in the transmission queue", labels=["status"]
        )
        for status, count in services.rupture_transmissions.counts().items():
            ruptures.add_metric([status], count)
        yield ruptures


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format (no authentication: expose it to the monitoring network only)."""
    registry = CollectorRegistry()
    registry.register(ServiceCollector(request.app.state.container))
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
