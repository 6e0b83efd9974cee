"""Two workers on one database, running at once: each dossier is still sent exactly once."""

from __future__ import annotations

import time
from typing import Any

import httpx

from domain.contracts.contract_state import AT_OPCO_STATES
from infrastructure.opco.opco_sandbox import Faults, SandboxConfig
from tests.integration.sandbox_server import SANDBOX_OPERATOR, running_sandbox
from tests.integration.transmission_support import reload, submitted, wired

FAST = {
    "sender_poll_seconds": 0.05,
    "projection_poll_seconds": 0.05,
    "sync_interval_seconds": 0.3,
    "lease_seconds": 2.0,
}


def test_two_workers_send_each_dossier_once(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    config = SandboxConfig(instruction_delay=0.2, decision_delay=0.2, faults=Faults(latency_ms=20, seed=5))
    with running_sandbox(config) as sandbox:
        first, second = wired(database_url, sandbox, **FAST), wired(database_url, sandbox, **FAST)
        try:
            contracts = [submitted(first, complete_cerfa, f"W-{n}") for n in range(40)]
            first.worker.start()
            second.worker.start()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if all(reload(first, c).state in AT_OPCO_STATES for c in contracts):
                    break
                time.sleep(0.2)
            assert all(reload(first, c).state in AT_OPCO_STATES for c in contracts)
            stored = httpx.get(f"{sandbox}/_sandbox/stats", headers=SANDBOX_OPERATOR).json()["stored"]
            assert stored == {f"ATLAS/W-{n}": 1 for n in range(40)}
            # Each attempt ends once: by the sender's Sent, or by the state sync meeting the dossier at the OPCO while
            # the sender's answer is still on its way (OpcoStateChanged ends the attempt as found; the Sent is moot).
            for contract in contracts:
                types = [e["type"] for e in first.dossiers.history_as_worker(contract.id)]
                after_start = types[types.index("TransmissionStarted") + 1 :]
                assert types.count("TransmissionStarted") == 1, types
                assert after_start[0] in {"Sent", "OpcoStateChanged"}, types
                assert types.count("Sent") <= 1, types
        finally:
            first.close()
            second.close()
