"""The ruptures' transmission queue: the same read model as the contracts' (application.opco.transmissions), fed by the
Termination events of the same names; a row's id is the Termination's, its number the dossier's at the OPCO."""

from __future__ import annotations

from application.opco.transmissions import queue_topics
from domain.ruptures.termination import Termination

TERMINATION_TOPICS = queue_topics(Termination)
