"""The reference OPCO sandbox: a real HTTP server playing the OPCO half of the API Convergence for all 11 OPCOs:
dossiers and invoices.

For integration and e2e tests over loopback, for `convergence serve`'s embedded default and for a CFA's
rehearsals. Its /_sandbox/* admin endpoints need no credentials: never expose it beyond a trusted host.
"""

from infrastructure.opco_sandbox.app import create_sandbox_app
from infrastructure.opco_sandbox.config import Faults, SandboxConfig

__all__ = ["Faults", "SandboxConfig", "create_sandbox_app"]
