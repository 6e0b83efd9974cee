"""The production client of the API Convergence: `HttpOpcoGateway` implements
`application.opco.opco_gateway.OpcoGateway`."""

from infrastructure.opco.opco_client.client import HttpOpcoGateway
from infrastructure.opco.opco_client.identity import ClientIdentity

__all__ = ["ClientIdentity", "HttpOpcoGateway"]
