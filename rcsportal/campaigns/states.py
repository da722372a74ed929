"""The delivery state machine: forward-only by precedence, so order never matters.

A delivery's state is the highest-ranked state any event has brought it to (a join over a
total order), and its timestamps keep the earliest time each milestone was reported. Both
operations are commutative and idempotent, so duplicated and reordered callbacks end in the
same row whatever order they arrive in (``tests/campaigns/test_states.py`` checks every
permutation).

Send counters come from comparing a delivery before and after a change: *state* counters
(pending, failed, ...) count rows currently in that state; *milestone* counters (sent,
delivered, read, clicked, ...) count rows that ever reached it. Deltas are summed per send
and applied with one ``F()`` update, never by recounting.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from rcsportal.messaging.events import EventType

PENDING = "pending"
SUBMITTING = "submitting"
ACCEPTED = "accepted"
SENT = "sent"
DELIVERED = "delivered"
READ = "read"
FAILED = "failed"
EXPIRED = "expired"
FALLBACK_SENT = "fallback_sent"
UNKNOWN = "unknown"
CANCELLED = "cancelled"

# Higher wins. Side exits sit where a later report should still override them: an RCS
# failure is followed by the fallback; a delivered/read report beats an earlier "failed"
# (providers report failures of intermediate hops); the fallback's own failure is final.
_RANK = {
    PENDING: 0,
    SUBMITTING: 1,
    UNKNOWN: 2,
    ACCEPTED: 3,
    SENT: 4,
    EXPIRED: 5,
    FAILED: 6,
    FALLBACK_SENT: 7,
    DELIVERED: 8,
    READ: 9,
    CANCELLED: 10,
}
FALLBACK_FAILED_RANK = 7.5  # "failed" reached through the fallback: beats fallback_sent only

FINAL_STATES = frozenset({DELIVERED, READ, FAILED, EXPIRED, CANCELLED})
OPEN_STATES = frozenset({ACCEPTED, SENT, FALLBACK_SENT})  # waiting for a final report

STATE_COUNTERS = {
    PENDING: "pending",
    FAILED: "failed",
    EXPIRED: "expired",
    UNKNOWN: "unknown",
    CANCELLED: "cancelled",
}
MILESTONE_COUNTERS = ("submitted", "sent", "delivered", "read", "clicked", "replied", "fallback")


@dataclass
class DeliveryState:
    """The parts of a Delivery row the state machine reads and writes."""

    status: str = PENDING
    fallback_channel: str = ""
    error_code: str = ""
    error_text: str = ""
    accepted_at: datetime | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    read_at: datetime | None = None
    clicked_at: datetime | None = None
    replied_at: datetime | None = None

    @classmethod
    def of(cls, delivery) -> DeliveryState:
        return cls(**{f.name: getattr(delivery, f.name) for f in fields(cls)})

    def copy_to(self, delivery) -> list[str]:
        """Write changed fields onto ``delivery``; returns their names (for update_fields)."""
        changed = []
        for f in fields(self):
            value = getattr(self, f.name)
            if getattr(delivery, f.name) != value:
                setattr(delivery, f.name, value)
                changed.append(f.name)
        return changed

    def milestones(self) -> dict[str, bool]:
        reached_sent = bool(self.sent_at or self.delivered_at or self.read_at)
        return {
            "submitted": bool(self.accepted_at),
            "sent": reached_sent,
            "delivered": bool(self.delivered_at or self.read_at),
            "read": bool(self.read_at),
            "clicked": bool(self.clicked_at),
            "replied": bool(self.replied_at),
            "fallback": bool(self.fallback_channel),
        }


_EVENT_STATUS = {
    EventType.ACCEPTED: ACCEPTED,
    EventType.SENT: SENT,
    EventType.DELIVERED: DELIVERED,
    EventType.READ: READ,
    EventType.FAILED: FAILED,
    EventType.EXPIRED: EXPIRED,
    EventType.FALLBACK_SENT: FALLBACK_SENT,
    EventType.FALLBACK_DELIVERED: DELIVERED,
    EventType.FALLBACK_FAILED: FAILED,
    EventType.UNKNOWN: UNKNOWN,
}

_EVENT_TIMESTAMP = {
    EventType.ACCEPTED: ("accepted_at",),
    EventType.SENT: ("accepted_at", "sent_at"),
    EventType.DELIVERED: ("accepted_at", "delivered_at"),
    EventType.READ: ("accepted_at", "read_at"),
    EventType.FALLBACK_SENT: ("accepted_at",),
    EventType.FALLBACK_DELIVERED: ("accepted_at", "delivered_at"),
    EventType.FAILED: (),
    EventType.EXPIRED: (),
    EventType.FALLBACK_FAILED: (),
    EventType.UNKNOWN: (),
}


def _earliest(current: datetime | None, new: datetime) -> datetime:
    return new if current is None or new < current else current


def apply_event(
    state: DeliveryState,
    event_type: EventType,
    at: datetime,
    *,
    error_code: str = "",
    error_text: str = "",
    fallback_channel: str = "",
) -> bool:
    """Apply one event in place. Returns True when the status changed.

    Timestamps are always merged (earliest wins) even when the status does not move, so a
    late "delivered" after "read" still records when it was delivered.
    """
    current_rank = state_rank(state)
    if event_type == EventType.FAILED and fallback_channel:
        event_type = EventType.FALLBACK_FAILED
    for name in _EVENT_TIMESTAMP[event_type]:
        setattr(state, name, _earliest(getattr(state, name), at))
    if event_type in (
        EventType.FALLBACK_SENT,
        EventType.FALLBACK_DELIVERED,
        EventType.FALLBACK_FAILED,
    ):
        fallback_channel = fallback_channel or "sms"
    if fallback_channel:
        state.fallback_channel = min(filter(None, (state.fallback_channel, fallback_channel)))

    new_status = _EVENT_STATUS[event_type]
    if new_status == EXPIRED and not error_text:
        error_text = "Expired before delivery"
    # The error kept is the smallest (code, text) seen: order-independent, and a failure
    # stays visible even when a later report (fallback, delivered) wins.
    if (error_code or error_text) and (
        not (state.error_code or state.error_text)
        or (error_code, error_text) < (state.error_code, state.error_text)
    ):
        state.error_code, state.error_text = error_code, error_text
    new_rank = (
        FALLBACK_FAILED_RANK if event_type == EventType.FALLBACK_FAILED else _RANK[new_status]
    )
    if new_rank <= current_rank:
        return False
    state.status = new_status
    return True


def state_rank(state: DeliveryState) -> float:
    """A failure with a fallback channel set is the fallback's own failure (final)."""
    return (
        FALLBACK_FAILED_RANK
        if state.status == FAILED and state.fallback_channel
        else _RANK[state.status]
    )


def counter_deltas(before: DeliveryState, after: DeliveryState) -> dict[str, int]:
    """What this change does to the send's counters (only non-zero entries)."""
    deltas: dict[str, int] = {}
    if before.status != after.status:
        for status, counter in STATE_COUNTERS.items():
            delta = int(after.status == status) - int(before.status == status)
            if delta:
                deltas[counter] = deltas.get(counter, 0) + delta
    was, now = before.milestones(), after.milestones()
    for name in MILESTONE_COUNTERS:
        delta = int(now[name]) - int(was[name])
        if delta:
            deltas[name] = deltas.get(name, 0) + delta
    return deltas


def merge_deltas(total: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        total[key] = total.get(key, 0) + value
