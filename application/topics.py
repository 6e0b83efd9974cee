"""Stored events name their class by topic (`module:Class.Event`), and the store keeps them forever: when a module
that defines aggregates or events moves, its former name is registered here, so every event written under it still
resolves (`eventsourcing.utils.register_topic`). Add a line whenever such a module moves; never remove one."""

from __future__ import annotations

from types import ModuleType

from eventsourcing.utils import register_topic

import application.access.access
import application.access.idempotency
import domain.contracts.contract
import domain.invoicing.billing_profile
import domain.invoicing.invoice
import domain.opco.opco_account
import domain.opco.opco_documents.document
import domain.opco.opco_documents.shelf
import domain.opco.opco_import
import domain.ruptures.termination

# `application.access` is a package now: its former module's class is registered by its own topic, since a
# module prefix of that name would send `application.access.<module>` topics astray.
FORMER_CLASSES: dict[str, type] = {"application.access:ApiToken": application.access.access.ApiToken}
FORMER_MODULES: dict[str, ModuleType] = {
    "application.idempotency": application.access.idempotency,
    "domain.contract": domain.contracts.contract,
    "domain.billing_profile": domain.invoicing.billing_profile,
    "domain.invoice": domain.invoicing.invoice,
    "domain.opco_account": domain.opco.opco_account,
    "domain.opco_documents.document": domain.opco.opco_documents.document,
    "domain.opco_documents.shelf": domain.opco.opco_documents.shelf,
    "domain.opco_import": domain.opco.opco_import,
    "domain.termination": domain.ruptures.termination,
}


def register_former_topics() -> None:
    for former, module in FORMER_MODULES.items():
        register_topic(former, module)
    for former, cls in FORMER_CLASSES.items():
        register_topic(former, cls)


register_former_topics()


def stored_topics(*topics: str) -> tuple[str, ...]:
    """The topics given and the former names of each, as a filter of the stored events (`select_notifications`
    matches topics as written, so events stored under a former name would be missed without theirs)."""
    found = list(topics)
    for topic in topics:
        module, _, rest = topic.partition(":")
        found += [f"{former}:{rest}" for former, moved in FORMER_MODULES.items() if moved.__name__ == module]
        for former, cls in FORMER_CLASSES.items():
            if cls.__module__ == module and f"{rest}.".startswith(f"{cls.__qualname__}."):
                found.append(f"{former.partition(':')[0]}:{rest}")
    return tuple(dict.fromkeys(found))
