"""The reference OPCO sandbox: a real HTTP server playing the OPCO half of the API Convergence for all 11 OPCOs:
dossiers and invoices.

For integration and e2e tests over loopback, for `convergence serve`'s embedded default and for a CFA's
rehearsals. Its /_sandbox/* admin endpoints require the operator's token (`admin_auth`); its OAuth client is drawn
per installation. It holds whatever it receives: never send it real dossiers (production mode never mounts it).
"""

from infrastructure.opco.opco_sandbox.app import create_sandbox_app
from infrastructure.opco.opco_sandbox.config import Faults, SandboxConfig

__all__ = ["Faults", "SandboxConfig", "create_sandbox_app"]
