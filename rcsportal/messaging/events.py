"""Normalized events produced from provider callbacks and status polls."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


class EventType(enum.StrEnum):
    """Delivery lifecycle, in precedence order for the forward-only state machine.

    ``FAILED``, ``EXPIRED``, ``FALLBACK_SENT`` and ``UNKNOWN`` are side exits; see
    ``PRECEDENCE`` for how they rank against the main line.
    """

    ACCEPTED = "accepted"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    EXPIRED = "expired"
    FALLBACK_SENT = "fallback_sent"
    FALLBACK_DELIVERED = "fallback_delivered"
    FALLBACK_FAILED = "fallback_failed"
    UNKNOWN = "unknown"


# The same lifecycle reported for the failover SMS/MMS instead of the RCS message.
FALLBACK_EVENT = {
    EventType.ACCEPTED: EventType.FALLBACK_SENT,
    EventType.SENT: EventType.FALLBACK_SENT,
    EventType.DELIVERED: EventType.FALLBACK_DELIVERED,
    EventType.READ: EventType.FALLBACK_DELIVERED,
    EventType.FAILED: EventType.FALLBACK_FAILED,
    EventType.EXPIRED: EventType.FALLBACK_FAILED,
    EventType.UNKNOWN: EventType.UNKNOWN,
}


class InboundKind(enum.StrEnum):
    TEXT = "text"  # free text typed by the user
    REPLY = "reply"  # a reply suggestion chip was tapped
    ACTION = "action"  # an action suggestion (URL, dial, map, calendar...) was tapped
    LOCATION = "location"  # the user shared a location


@dataclass
class DeliveryEvent:
    """A status change for one recipient of one message.

    At least one of ``reference_id`` (ours) or ``provider_message_id`` (+ ``phone`` when
    the provider's id covers several recipients) identifies the delivery.
    """

    type: EventType
    provider_message_id: str = ""
    reference_id: str = ""
    phone: str = ""
    occurred_at: datetime | None = None
    error_code: str = ""
    error_text: str = ""
    cost: Decimal | None = None
    currency: str = ""
    fallback_channel: str = ""  # "sms" or "mms" when the event concerns the fallback
    opted_out: bool = False  # provider says this number is on its stop list
    raw: dict = field(default_factory=dict)


@dataclass
class InboundEvent:
    """Something the recipient sent back: text, a suggestion tap, a location."""

    kind: InboundKind
    phone: str
    text: str = ""
    postback_data: str = ""
    provider_message_id: str = ""  # id of the inbound message itself, when given
    in_reply_to_message_id: str = ""  # provider id of our message, when given
    in_reply_to_reference_id: str = ""  # our reference id, when given
    occurred_at: datetime | None = None
    raw: dict = field(default_factory=dict)
