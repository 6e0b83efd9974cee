"""The production client of the API Convergence: `HttpOpcoGateway` implements `application.opco_gateway.OpcoGateway`."""

from infrastructure.opco_client.client import HttpOpcoGateway
from infrastructure.opco_client.identity import ClientIdentity

__all__ = ["ClientIdentity", "HttpOpcoGateway"]
