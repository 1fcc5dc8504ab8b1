"""Event topics, including those stored before the code moved under ``execledger``.

Ledgers written by version 0.1 store topics such as ``domain.order_events:Filled``;
today's code writes ``execledger.domain.order_events:Filled``. Stored events are never
rewritten (and ``verify`` hashes the stored topic), so the old prefix is registered as an
alias of the package: eventsourcing then resolves every old topic to today's class.
"""

from __future__ import annotations

import execledger.domain as domain_package
from eventsourcing.utils import get_topic, register_topic
from execledger.domain.order_events import Requested

#: The package's module path in ledgers written by version 0.1.
LEGACY_PACKAGE = "domain"


def register_legacy_topics() -> None:
    """Let ``domain.*`` topics resolve to ``execledger.domain.*`` (idempotent)."""
    register_topic(LEGACY_PACKAGE, domain_package)


def topics_of(event_class: type) -> tuple[str, ...]:
    """Every topic under which events of ``event_class`` may be stored, today's first."""
    topic = get_topic(event_class)
    legacy = topic.removeprefix("execledger.")
    return (topic, legacy) if legacy != topic else (topic,)


REQUESTED_TOPICS = topics_of(Requested)

register_legacy_topics()
