"""The provider adapter contract, shared helpers and the generic capability checker.

Pure Python (no Django): the task layer, the admin and the webhook views call these
classes; the sandbox speaks the same wire formats. Every provider-specific fact lives in
the provider module next to a comment citing the document (``/work/shared/seeds``,
``providers-notes.md``, ``docs/internal/wire-assumptions.md``); ``docs/providers.md`` lists
what is documented and what is ASSUMED.

Lifecycle, per delivery batch:

1. ``check(message)`` (composer, before anyone can send) -> what the provider cannot carry,
   each with the :class:`Degradation` choices a person may pick;
2. ``degrade(message, keys)`` applies the chosen degradations explicitly;
3. ``render(message, recipients)`` -> :class:`WireRequest` list (raises
   :class:`UnsupportedFeature` with every problem; nothing is ever dropped silently);
4. ``send(request)`` -> :class:`SubmitResult` per recipient, or raises
   :class:`ProviderTemporaryError` (retry) / :class:`ProviderRejected` (permanent);
5. webhooks: ``verify_webhook`` then ``parse_webhook`` -> normalized events;
6. reconciliation: ``fetch_status(queries)`` where ``capabilities.status_api``.
"""

from __future__ import annotations

import copy
import email.utils
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import requests

from rcsportal.messaging.events import DeliveryEvent, InboundEvent
from rcsportal.messaging.exceptions import (
    Degradation,
    ProviderRejected,
    ProviderTemporaryError,
    Unsupported,
    UnsupportedFeature,
    WebhookRejected,
)
from rcsportal.messaging.message import (
    CARD_MEDIA_TYPES,
    FILE_MEDIA_TYPES,
    CardContent,
    Message,
    SmsFallback,
    StandaloneCard,
    Suggestion,
)

__all__ = [
    "DEGRADATIONS",
    "AgentConfig",
    "BaseProvider",
    "Capabilities",
    "Recipient",
    "StatusQuery",
    "SubmitResult",
    "WireRequest",
    "message_kind",
    "suggestion_type",
]

KINDS = ("text", "file", "card", "carousel")
SUGGESTION_TYPES = (
    "reply",
    "open_url",
    "dial",
    "view_location",
    "share_location",
    "create_calendar_event",
)

# The media tables of seeds 000 and 002 (identical), kept once in message.py.
RICH_CARD_MEDIA_TYPES = CARD_MEDIA_TYPES
FILE_ONLY_MEDIA_TYPES = FILE_MEDIA_TYPES - CARD_MEDIA_TYPES
ALL_MEDIA_TYPES = RICH_CARD_MEDIA_TYPES | FILE_ONLY_MEDIA_TYPES


# ----------------------------------------------------------------------------------------
# Contract dataclasses
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentConfig:
    """One configured agent (one provider account + sender)."""

    provider: str
    credentials: Mapping[str, str]
    sender_id: str = ""  # agent / bot / source: SMS Partner unused, SerwerSMS rcs_id, BSG sender
    # Override of scheme+host (may include a path prefix such as http://127.0.0.1:8025/bsg);
    # the documented path is appended.
    base_url: str = ""
    callback_url: str = ""  # per-request callback where the API has one (BSG, Aerialink)
    fallback_sms_sender: str = ""  # used when fallback.sms.sender is empty
    allowed_webhook_ips: tuple[str, ...] | None = None  # None = provider default


@dataclass(frozen=True)
class Recipient:
    phone: str  # E.164 "+33612345678"
    reference_id: str  # ours, 3..32 [A-Za-z0-9]


@dataclass
class WireRequest:
    method: str
    url: str
    headers: dict
    json: dict | None
    params: dict | None
    recipients: list[Recipient]
    kind: str = "rcs"  # "rcs" | "sms" | "status" | "auth"


@dataclass
class SubmitResult:
    reference_id: str
    phone: str
    accepted: bool
    provider_message_id: str = ""
    cost: Decimal | None = None
    currency: str = ""
    error_code: str = ""
    error_text: str = ""
    # Addition to the brief's contract: the provider refused this number because it is on
    # its stop list (SMS Partner code 14) -> the task layer can add a Suppression.
    opted_out: bool = False


@dataclass(frozen=True)
class StatusQuery:
    reference_id: str
    phone: str
    provider_message_id: str = ""


@dataclass(frozen=True)
class Capabilities:
    """What one provider's wire format can carry. Every value cites its document in the
    provider module; ``matrix.py`` renders the table in ``docs/providers.md`` from these."""

    kinds: frozenset[str]
    suggestion_types: frozenset[str]
    max_suggestions_per_card: int
    # kind -> max message-level suggestions; None = no limit stated; 0 = not allowed
    max_suggestions_per_message: Mapping[str, int | None]
    max_recipients_per_request: int
    max_text_length: int | None
    max_card_title: int | None
    max_card_description: int | None
    max_suggestion_text: int | None
    max_postback: int | None
    min_carousel_cards: int
    max_carousel_cards: int
    card_orientation: bool
    card_width: bool
    media_height: bool
    requires_media_metadata: bool  # media needs size + MIME type on the wire (SerwerSMS)
    scheduling: str
    fallback_kinds: frozenset[str]
    status_api: bool
    reference_id_on_wire: bool
    webhook_source_ips: tuple[str, ...] = ()
    # --- additions the documents need ---
    thumbnails: bool = False  # a thumbnail URL has a wire field
    open_url_options: bool = False  # application BROWSER/WEBVIEW + webview view mode
    location_query: bool = False  # view location by free-text query (no lat/long)
    calendar_description: bool = False  # calendar event description has a wire field
    card_required_fields: frozenset[str] = frozenset()  # of "title", "description", "media"
    card_media_types: frozenset[str] | None = None  # None = not restricted by the document
    max_fallback_text: int | None = None
    fallback_rule: str = ""  # when the fallback kind depends on the message kind (Aerialink)
    max_mms_subject: int | None = None
    webhook_path_kinds: tuple[str, ...] = ("",)  # last URL segments the view may pass
    sms: bool = False  # app-side SMS sending (render_sms / send_sms)
    idempotency: str = "none"  # what protects against a duplicate submission


DEGRADATIONS: dict[str, str] = {
    "first_card": "Send only the first card of the carousel as a single card",
    "trim_cards": "Keep only as many carousel cards as the provider allows",
    "vertical": "Show the horizontal card as a vertical card",
    "default_layout": "Use the provider's default layout (card width / media height)",
    "drop_suggestions": "Remove the suggestions this provider cannot show",
    "trim_suggestions": "Keep only as many suggestions as the provider allows",
    "move_suggestions_to_card": "Move the message-level suggestions onto the card",
    "drop_message_suggestions": "Remove the message-level suggestions",
    "text_as_card": "Send the text as a card (text in the card body)",
    "file_as_card": "Send the file as a card with that media",
    "truncate": "Shorten texts that are too long for this provider",
    "drop_extras": "Leave out details this provider has no field for "
    "(thumbnails, fallback URLs, browser/webview options, calendar description)",
    "drop_fallback": "Leave out the fallback this provider cannot carry",
    "mms_as_sms": "Send the MMS fallback text as an SMS fallback",
}


# ----------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------


def suggestion_type(s: Suggestion) -> str:
    """``Suggestion.type`` computed from the dataclass (independent of message.py's helper)."""
    if s.reply is not None:
        return "reply"
    a = s.action
    if a is None:
        return "unknown"
    if a.open_url_action is not None:
        return "open_url"
    if a.dial_action is not None:
        return "dial"
    if a.view_location_action is not None:
        return "view_location"
    if a.share_location_action is not None:
        return "share_location"
    if a.create_calendar_event_action is not None:
        return "create_calendar_event"
    return "unknown"


def suggestion_text(s: Suggestion) -> str:
    return s.reply.text if s.reply is not None else (s.action.text if s.action else "")


def suggestion_postback(s: Suggestion) -> str:
    if s.reply is not None:
        return s.reply.postback_data
    return s.action.postback_data if s.action else ""


def message_kind(m: Message) -> str:
    if m.rich_card is not None:
        if m.rich_card.carousel_card is not None:
            return "carousel"
        return "card"
    if m.content_info is not None:
        return "file"
    return "text"


def cards_of(m: Message) -> list[tuple[str, CardContent]]:
    """(JSON path prefix, card) for every card of the message."""
    rc = m.rich_card
    if rc is None:
        return []
    if rc.carousel_card is not None:
        return [
            (f"richCard.carouselCard.cardContents.{i}", c)
            for i, c in enumerate(rc.carousel_card.card_contents)
        ]
    if rc.standalone_card is not None:
        return [("richCard.standaloneCard.cardContent", rc.standalone_card.card_content)]
    return []


def suggestion_lists(m: Message) -> list[tuple[str, list[Suggestion]]]:
    out = [(f"{p}.suggestions", c.suggestions) for p, c in cards_of(m)]
    out.append(("suggestions", m.suggestions))
    return out


def digits(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")


def e164(raw: str, national_prefix: str = "") -> str:
    """Normalize a provider-written number back to E.164.

    ``national_prefix`` (e.g. "33") turns a national "06..." into "+336...".
    """
    raw = (raw or "").strip()
    if not raw:
        return ""
    if raw.startswith("+"):
        return "+" + digits(raw)
    d = digits(raw)
    if d.startswith("00"):
        return "+" + d[2:]
    if national_prefix and d.startswith("0"):
        return "+" + national_prefix + d[1:]
    return "+" + d


def same_phone(a: str, b: str) -> bool:
    da, db = digits(a), digits(b)
    if not da or not db:
        return False
    return da == db or da[-9:] == db[-9:]


def parse_rfc3339(value: str) -> datetime:
    v = value.strip()
    if v.endswith(("Z", "z")):
        v = v[:-1] + "+00:00"
    dt = datetime.fromisoformat(v)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


def local_wall_time(value: str, tz: str) -> str:
    """RFC 3339 -> "YYYY-MM-DD HH:MM:SS" in ``tz`` (for providers without offsets)."""
    return parse_rfc3339(value).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")


def parse_provider_time(value: Any, tz: str) -> datetime | None:
    """Parse "YYYY-MM-DD HH:MM:SS" (provider local time ``tz``), ISO 8601 or unix seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        try:
            return datetime.fromtimestamp(int(value), tz=UTC)
        except (OverflowError, ValueError, OSError):
            return None
    if not isinstance(value, str):
        return None
    v = value.strip()
    try:
        if v.endswith(("Z", "z")):
            v = v[:-1] + "+00:00"
        dt = datetime.fromisoformat(v)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt


def to_decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def header(headers: Mapping, name: str) -> str:
    for k, v in (headers or {}).items():
        if str(k).lower() == name.lower():
            return str(v)
    return ""


def decode_json(body: bytes) -> Any:
    """JSON body or ``None`` when it is not JSON."""
    if not body:
        return None
    try:
        return json.loads(body.decode("utf-8-sig") if isinstance(body, bytes) else body)
    except (UnicodeDecodeError, ValueError):
        return None


def decode_form(body: bytes) -> dict[str, str] | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "=" not in text or text.lstrip().startswith(("{", "[")):
        return None
    pairs = parse_qs(text, keep_blank_values=True)
    return {k: v[-1] for k, v in pairs.items()} if pairs else None


def ellipsize(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    if limit < 2:
        return text[:limit]
    return text[: limit - 1] + "\u2026"


def basename_of(url: str) -> str:
    path = urlsplit(url or "").path
    return path.rsplit("/", 1)[-1] if path else ""


def batched(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)] or []


# ----------------------------------------------------------------------------------------
# The adapter base class
# ----------------------------------------------------------------------------------------


class BaseProvider:
    key: str = ""
    display_name: str = ""
    capabilities: Capabilities
    default_base_url: str = ""
    supports_sms: bool = False
    # "Europe/Paris" etc.: the wall-clock zone of the provider's date fields
    provider_timezone: str = "UTC"
    # keys of DEGRADATIONS this provider may offer (degrade() refuses the others)
    degradation_keys: frozenset[str] = frozenset(DEGRADATIONS)

    def __init__(
        self,
        config: AgentConfig,
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ):
        self.config = config
        self.session = session or requests.Session()
        self.timeout = timeout

    # ---------------------------------------------------------------- urls
    @property
    def base_url(self) -> str:
        return (self.config.base_url or self.default_base_url).rstrip("/")

    def url(self, path: str) -> str:
        return self.base_url + path

    def credential(self, name: str, default: str = "") -> str:
        return str(self.config.credentials.get(name, default) or default)

    # ---------------------------------------------------------------- check
    def _offer(self, *keys: str) -> tuple[Degradation, ...]:
        return tuple(Degradation(k, DEGRADATIONS[k]) for k in keys if k in self.degradation_keys)

    def check(self, message: Message) -> list[Unsupported]:
        """Everything this provider cannot carry, each with the degradations on offer."""
        caps = self.capabilities
        out: list[Unsupported] = []

        def add(path: str, reason: str, *keys: str) -> None:
            out.append(Unsupported(path, reason, self._offer(*keys)))

        kind = message_kind(message)
        if kind not in caps.kinds:
            add(*self._kind_problem(message, kind))

        if kind == "text" and caps.max_text_length and len(message.text) > caps.max_text_length:
            keys = ["truncate"]
            if "text_as_card" in self.degradation_keys:
                keys.append("text_as_card")
            add(
                "text",
                f"{self.display_name} accepts at most {caps.max_text_length} characters of "
                f"text ({len(message.text)} given)",
                *keys,
            )

        if kind == "file" and message.content_info is not None:
            out.extend(self._check_file(message))

        rc = message.rich_card
        if rc is not None and rc.carousel_card is not None and kind in caps.kinds:
            cc = rc.carousel_card
            n = len(cc.card_contents)
            if n < caps.min_carousel_cards:
                add(
                    "richCard.carouselCard.cardContents",
                    f"{self.display_name} needs at least {caps.min_carousel_cards} cards in "
                    f"a carousel ({n} given)",
                    "first_card",
                )
            if n > caps.max_carousel_cards:
                add(
                    "richCard.carouselCard.cardContents",
                    f"{self.display_name} accepts at most {caps.max_carousel_cards} cards in "
                    f"a carousel ({n} given)",
                    "trim_cards",
                    "first_card",
                )
            if cc.card_width and cc.card_width != "MEDIUM" and not caps.card_width:
                add(
                    "richCard.carouselCard.cardWidth",
                    f"{self.display_name} has no card width setting (only its default)",
                    "default_layout",
                )
        if rc is not None and rc.standalone_card is not None:
            sc = rc.standalone_card
            if sc.card_orientation == "HORIZONTAL" and not caps.card_orientation:
                add(
                    "richCard.standaloneCard.cardOrientation",
                    f"{self.display_name} only shows vertical cards",
                    "vertical",
                )

        for prefix, card in cards_of(message):
            out.extend(self._check_card(prefix, card, message))

        out.extend(self._check_suggestions(message, kind))
        out.extend(self._check_fallback(message, kind))
        out.extend(self._check_extra(message, kind))
        return out

    def _kind_problem(self, message: Message, kind: str) -> tuple[str, str, ...]:
        path = {
            "text": "text",
            "file": "contentInfo",
            "card": "richCard.standaloneCard",
            "carousel": "richCard.carouselCard",
        }[kind]
        keys: list[str] = []
        if kind == "carousel" and "card" in self.capabilities.kinds:
            keys.append("first_card")
        if kind == "file" and "card" in self.capabilities.kinds:
            mime = (message.content_info.mime_type or "").lower()
            if not mime or mime in RICH_CARD_MEDIA_TYPES:
                keys.append("file_as_card")
        names = {"text": "text", "file": "file", "card": "rich card", "carousel": "carousel"}
        return (path, f"{self.display_name} cannot send a {names[kind]} message", *keys)

    def _check_file(self, message: Message) -> list[Unsupported]:
        caps = self.capabilities
        ci = message.content_info
        out: list[Unsupported] = []
        if ci.mime_type and ci.mime_type.lower() not in ALL_MEDIA_TYPES:
            out.append(
                Unsupported(
                    "contentInfo.mimeType",
                    f"{self.display_name} does not list {ci.mime_type} among its media types",
                )
            )
        if caps.requires_media_metadata:
            out.extend(self._metadata_problems("contentInfo", ci))
        if ci.thumbnail_url and not caps.thumbnails:
            out.append(
                Unsupported(
                    "contentInfo.thumbnailUrl",
                    f"{self.display_name} has no thumbnail field for files",
                    self._offer("drop_extras"),
                )
            )
        return out

    def _metadata_problems(self, path: str, ci) -> list[Unsupported]:
        out = []
        if not ci.mime_type:
            out.append(
                Unsupported(
                    f"{path}.mimeType",
                    f"{self.display_name} needs the media MIME type (e.g. image/png)",
                )
            )
        if not ci.file_size_bytes:
            out.append(
                Unsupported(
                    f"{path}.fileSizeBytes",
                    f"{self.display_name} needs the media file size in bytes",
                )
            )
        if ci.thumbnail_url and self.capabilities.thumbnails:
            if not ci.thumbnail_mime_type:
                out.append(
                    Unsupported(
                        f"{path}.thumbnailMimeType",
                        f"{self.display_name} needs the thumbnail MIME type",
                    )
                )
            if not ci.thumbnail_file_size_bytes:
                out.append(
                    Unsupported(
                        f"{path}.thumbnailFileSizeBytes",
                        f"{self.display_name} needs the thumbnail file size in bytes",
                    )
                )
        return out

    def _check_card(self, prefix: str, card: CardContent, message: Message) -> list[Unsupported]:
        caps = self.capabilities
        out: list[Unsupported] = []
        name = self.display_name
        if caps.max_card_title and len(card.title) > caps.max_card_title:
            out.append(
                Unsupported(
                    f"{prefix}.title",
                    f"{name} accepts card titles of at most {caps.max_card_title} characters "
                    f"({len(card.title)} given)",
                    self._offer("truncate"),
                )
            )
        if caps.max_card_description and len(card.description) > caps.max_card_description:
            out.append(
                Unsupported(
                    f"{prefix}.description",
                    f"{name} accepts card descriptions of at most {caps.max_card_description} "
                    f"characters ({len(card.description)} given)",
                    self._offer("truncate"),
                )
            )
        for fld in ("title", "description"):
            if fld in caps.card_required_fields and not getattr(card, fld):
                out.append(Unsupported(f"{prefix}.{fld}", f"{name} requires a card {fld}"))
        ci = card.media.content_info if card.media else None
        if "media" in caps.card_required_fields and (ci is None or not ci.file_url):
            out.append(Unsupported(f"{prefix}.media", f"{name} requires media on every card"))
        if card.media is not None:
            h = card.media.height
            if h and h != "MEDIUM" and not caps.media_height:
                out.append(
                    Unsupported(
                        f"{prefix}.media.height",
                        f"{name} has no media height setting (only its default)",
                        self._offer("default_layout"),
                    )
                )
        if ci is not None:
            mime = (ci.mime_type or "").lower()
            allowed = caps.card_media_types
            if mime and allowed is not None and mime not in allowed:
                out.append(
                    Unsupported(
                        f"{prefix}.media.contentInfo.mimeType",
                        f"{name} cannot show {ci.mime_type} in a card",
                    )
                )
            if caps.requires_media_metadata:
                out.extend(self._metadata_problems(f"{prefix}.media.contentInfo", ci))
            if ci.thumbnail_url and not caps.thumbnails:
                out.append(
                    Unsupported(
                        f"{prefix}.media.contentInfo.thumbnailUrl",
                        f"{name} has no thumbnail field on cards",
                        self._offer("drop_extras"),
                    )
                )
        if len(card.suggestions) > caps.max_suggestions_per_card:
            out.append(
                Unsupported(
                    f"{prefix}.suggestions",
                    f"{name} accepts at most {caps.max_suggestions_per_card} suggestions per "
                    f"card ({len(card.suggestions)} given)",
                    self._offer("trim_suggestions"),
                )
            )
        return out

    def _message_suggestion_problem(self, message: Message, kind: str) -> Unsupported | None:
        caps = self.capabilities
        limit = caps.max_suggestions_per_message.get(kind)
        n = len(message.suggestions)
        if limit is None or n <= limit:
            return None
        if limit == 0:
            keys = []
            if kind == "card":
                keys.append("move_suggestions_to_card")
            if kind == "text" and "card" in caps.kinds:
                keys.append("text_as_card")
            keys.append("drop_message_suggestions")
            return Unsupported(
                "suggestions",
                f"{self.display_name} cannot carry message-level suggestions on a {kind} message",
                self._offer(*keys),
            )
        return Unsupported(
            "suggestions",
            f"{self.display_name} accepts at most {limit} message-level suggestions on a "
            f"{kind} message ({n} given)",
            self._offer("trim_suggestions", "drop_message_suggestions"),
        )

    def _check_suggestions(self, message: Message, kind: str) -> list[Unsupported]:
        caps = self.capabilities
        name = self.display_name
        out: list[Unsupported] = []
        p = self._message_suggestion_problem(message, kind)
        if p is not None:
            out.append(p)
        for path, suggestions in suggestion_lists(message):
            for i, s in enumerate(suggestions):
                sp = f"{path}.{i}"
                t = suggestion_type(s)
                if t not in caps.suggestion_types:
                    out.append(
                        Unsupported(
                            sp,
                            f"{name} cannot show a '{t}' suggestion",
                            self._offer("drop_suggestions"),
                        )
                    )
                    continue
                why = self._suggestion_problem(s, t)
                if why:
                    out.append(Unsupported(sp, why, self._offer("drop_suggestions")))
                    continue
                leaf = "reply" if s.reply is not None else "action"
                text = suggestion_text(s)
                if caps.max_suggestion_text and len(text) > caps.max_suggestion_text:
                    out.append(
                        Unsupported(
                            f"{sp}.{leaf}.text",
                            f"{name} accepts suggestion labels of at most "
                            f"{caps.max_suggestion_text} characters ({len(text)} given)",
                            self._offer("truncate"),
                        )
                    )
                pb = suggestion_postback(s)
                if caps.max_postback and len(pb) > caps.max_postback:
                    out.append(
                        Unsupported(
                            f"{sp}.{leaf}.postbackData",
                            f"{name} accepts postback data of at most {caps.max_postback} "
                            f"characters ({len(pb)} given)",
                            self._offer("truncate"),
                        )
                    )
                a = s.action
                if a is None:
                    continue
                if a.fallback_url:
                    out.append(
                        Unsupported(
                            f"{sp}.action.fallbackUrl",
                            f"{name} has no fallback URL field for actions",
                            self._offer("drop_extras"),
                        )
                    )
                ou = a.open_url_action
                has_options = ou is not None and (ou.application or ou.webview_view_mode)
                if has_options and not caps.open_url_options:
                    out.append(
                        Unsupported(
                            f"{sp}.action.openUrlAction",
                            f"{name} cannot choose browser/webview or the view mode "
                            "(the link opens the phone's default way)",
                            self._offer("drop_extras"),
                        )
                    )
                cal = a.create_calendar_event_action
                if cal is not None and cal.description and not caps.calendar_description:
                    out.append(
                        Unsupported(
                            f"{sp}.action.createCalendarEventAction.description",
                            f"{name} has no field for a calendar event description",
                            self._offer("drop_extras"),
                        )
                    )
        return out

    def _suggestion_problem(self, s: Suggestion, t: str) -> str:
        """Provider-specific reason a suggestion of a supported type cannot go out."""
        if t == "view_location":
            loc = s.action.view_location_action
            if loc.lat_long is None and not self.capabilities.location_query:
                return (
                    f"{self.display_name} needs latitude/longitude for a location "
                    "(a search query is not supported)"
                )
        return ""

    def _check_fallback(self, message: Message, kind: str) -> list[Unsupported]:
        caps = self.capabilities
        fb = message.fallback
        out: list[Unsupported] = []
        if fb is None:
            return out
        name = self.display_name
        if fb.sms is not None and "sms" not in caps.fallback_kinds:
            out.append(
                Unsupported(
                    "fallback.sms",
                    f"{name} has no SMS fallback in its RCS request",
                    self._offer("drop_fallback"),
                )
            )
        if fb.mms is not None and "mms" not in caps.fallback_kinds:
            keys = ["drop_fallback"]
            if "sms" in caps.fallback_kinds and fb.sms is None:
                keys.insert(0, "mms_as_sms")
            out.append(
                Unsupported(
                    "fallback.mms",
                    f"{name} has no MMS fallback in its RCS request",
                    self._offer(*keys),
                )
            )
        if (
            fb.sms is not None
            and "sms" in caps.fallback_kinds
            and caps.max_fallback_text
            and len(fb.sms.text) > caps.max_fallback_text
        ):
            out.append(
                Unsupported(
                    "fallback.sms.text",
                    f"{name} accepts fallback SMS texts of at most {caps.max_fallback_text} "
                    f"characters ({len(fb.sms.text)} given)",
                    self._offer("truncate"),
                )
            )
        if fb.mms is not None and "mms" in caps.fallback_kinds:
            if caps.max_fallback_text and len(fb.mms.text) > caps.max_fallback_text:
                out.append(
                    Unsupported(
                        "fallback.mms.text",
                        f"{name} accepts fallback MMS texts of at most "
                        f"{caps.max_fallback_text} characters ({len(fb.mms.text)} given)",
                        self._offer("truncate"),
                    )
                )
            if caps.max_mms_subject and len(fb.mms.subject) > caps.max_mms_subject:
                out.append(
                    Unsupported(
                        "fallback.mms.subject",
                        f"{name} accepts MMS subjects of at most {caps.max_mms_subject} "
                        f"characters ({len(fb.mms.subject)} given)",
                        self._offer("truncate"),
                    )
                )
        return out

    def _check_extra(self, message: Message, kind: str) -> list[Unsupported]:
        return []

    # ---------------------------------------------------------------- degrade
    # Applied in this fixed order, whatever order the keys are given in.
    DEGRADE_ORDER = (
        "mms_as_sms",
        "drop_fallback",
        "text_as_card",
        "file_as_card",
        "first_card",
        "trim_cards",
        "vertical",
        "default_layout",
        "drop_extras",
        "drop_suggestions",
        "move_suggestions_to_card",
        "drop_message_suggestions",
        "trim_suggestions",
        "truncate",
    )

    def degrade(self, message: Message, keys: Iterable[str]) -> Message:
        """A copy of ``message`` with the chosen degradations applied (never in place)."""
        keys = list(keys)
        for k in keys:
            if k not in self.degradation_keys or k not in DEGRADATIONS:
                raise ValueError(f"{self.display_name} offers no degradation {k!r}")
        m = copy.deepcopy(message)
        chosen = set(keys)
        for k in self.DEGRADE_ORDER:
            if k in chosen:
                getattr(self, f"_degrade_{k}")(m)
        return m

    def _degrade_mms_as_sms(self, m: Message) -> None:
        fb = m.fallback
        if (
            fb
            and fb.mms is not None
            and fb.sms is None
            and "mms" not in self.capabilities.fallback_kinds
        ):
            fb.sms = SmsFallback(text=fb.mms.text)
            fb.mms = None

    def _degrade_drop_fallback(self, m: Message) -> None:
        fb = m.fallback
        if fb is None:
            return
        kinds = self._fallback_kinds_for(m)
        if "sms" not in kinds:
            fb.sms = None
        if "mms" not in kinds:
            fb.mms = None
        if fb.sms is None and fb.mms is None:
            m.fallback = None

    def _fallback_kinds_for(self, m: Message) -> frozenset[str]:
        return self.capabilities.fallback_kinds

    def _degrade_text_as_card(self, m: Message) -> None:
        from rcsportal.messaging.message import RichCard

        if message_kind(m) != "text":
            return
        card = CardContent(description=m.text, suggestions=list(m.suggestions))
        m.rich_card = RichCard(standalone_card=StandaloneCard(card_content=card))
        m.text = ""
        m.suggestions = []

    def _degrade_file_as_card(self, m: Message) -> None:
        from rcsportal.messaging.message import Media, RichCard

        if message_kind(m) != "file":
            return
        card = CardContent(media=Media(height="", content_info=m.content_info))
        m.rich_card = RichCard(standalone_card=StandaloneCard(card_content=card))
        m.content_info = None

    def _degrade_first_card(self, m: Message) -> None:
        from rcsportal.messaging.message import RichCard

        rc = m.rich_card
        if rc is None or rc.carousel_card is None or not rc.carousel_card.card_contents:
            return
        first = rc.carousel_card.card_contents[0]
        m.rich_card = RichCard(standalone_card=StandaloneCard(card_content=first))

    def _degrade_trim_cards(self, m: Message) -> None:
        rc = m.rich_card
        if rc is not None and rc.carousel_card is not None:
            cc = rc.carousel_card
            cc.card_contents = cc.card_contents[: self.capabilities.max_carousel_cards]

    def _degrade_vertical(self, m: Message) -> None:
        rc = m.rich_card
        if rc is not None and rc.standalone_card is not None:
            rc.standalone_card.card_orientation = "VERTICAL"
            rc.standalone_card.thumbnail_image_alignment = ""

    def _degrade_default_layout(self, m: Message) -> None:
        caps = self.capabilities
        rc = m.rich_card
        if rc is not None and rc.carousel_card is not None and not caps.card_width:
            rc.carousel_card.card_width = "MEDIUM"
        if not caps.media_height:
            for _, card in cards_of(m):
                if card.media is not None and card.media.height not in ("", "MEDIUM"):
                    card.media.height = ""

    def _degrade_drop_extras(self, m: Message) -> None:
        caps = self.capabilities
        if not caps.thumbnails:
            infos = [m.content_info] + [c.media.content_info for _, c in cards_of(m) if c.media]
            for ci in infos:
                if ci is not None:
                    ci.thumbnail_url = ""
                    ci.thumbnail_mime_type = ""
                    ci.thumbnail_file_size_bytes = None
        for _, suggestions in suggestion_lists(m):
            for s in suggestions:
                a = s.action
                if a is None:
                    continue
                a.fallback_url = ""
                if a.open_url_action is not None and not caps.open_url_options:
                    a.open_url_action.application = ""
                    a.open_url_action.webview_view_mode = ""
                cal = a.create_calendar_event_action
                if cal is not None and not caps.calendar_description:
                    cal.description = ""

    def _degrade_drop_suggestions(self, m: Message) -> None:
        def ok(s: Suggestion) -> bool:
            t = suggestion_type(s)
            return t in self.capabilities.suggestion_types and not self._suggestion_problem(s, t)

        for _, card in cards_of(m):
            card.suggestions = [s for s in card.suggestions if ok(s)]
        m.suggestions = [s for s in m.suggestions if ok(s)]

    def _degrade_move_suggestions_to_card(self, m: Message) -> None:
        rc = m.rich_card
        if rc is None or rc.standalone_card is None or not m.suggestions:
            return
        rc.standalone_card.card_content.suggestions.extend(m.suggestions)
        m.suggestions = []

    def _degrade_drop_message_suggestions(self, m: Message) -> None:
        if self.capabilities.max_suggestions_per_message.get(message_kind(m)) == 0:
            m.suggestions = []

    def _degrade_trim_suggestions(self, m: Message) -> None:
        caps = self.capabilities
        for _, card in cards_of(m):
            card.suggestions = card.suggestions[: caps.max_suggestions_per_card]
        limit = caps.max_suggestions_per_message.get(message_kind(m))
        if limit is not None:
            m.suggestions = m.suggestions[:limit]

    def _degrade_truncate(self, m: Message) -> None:
        caps = self.capabilities
        if caps.max_text_length and message_kind(m) == "text":
            m.text = ellipsize(m.text, caps.max_text_length)
        for _, card in cards_of(m):
            if caps.max_card_title:
                card.title = ellipsize(card.title, caps.max_card_title)
            if caps.max_card_description:
                card.description = ellipsize(card.description, caps.max_card_description)
        for _, suggestions in suggestion_lists(m):
            for s in suggestions:
                leaf = s.reply if s.reply is not None else s.action
                if leaf is None:
                    continue
                if caps.max_suggestion_text:
                    leaf.text = ellipsize(leaf.text, caps.max_suggestion_text)
                if caps.max_postback:
                    leaf.postback_data = leaf.postback_data[: caps.max_postback]
        fb = m.fallback
        if fb is not None:
            if fb.sms is not None and caps.max_fallback_text:
                fb.sms.text = ellipsize(fb.sms.text, caps.max_fallback_text)
            if fb.mms is not None:
                if caps.max_fallback_text:
                    fb.mms.text = ellipsize(fb.mms.text, caps.max_fallback_text)
                if caps.max_mms_subject:
                    fb.mms.subject = ellipsize(fb.mms.subject, caps.max_mms_subject)

    # ---------------------------------------------------------------- render
    def render(
        self,
        message: Message,
        recipients: list[Recipient],
        *,
        schedule_at: datetime | None = None,
    ) -> list[WireRequest]:
        """Wire requests for ``recipients`` (batched to the provider's limit).

        Raises :class:`UnsupportedFeature` listing every problem; never drops anything.
        """
        problems = self.check(message)
        if schedule_at is not None and self.capabilities.scheduling == "none":
            problems.append(
                Unsupported(
                    "scheduleAt",
                    f"{self.display_name} cannot schedule a send through this API "
                    "(the application holds the send until its time instead)",
                )
            )
        if problems:
            raise UnsupportedFeature(self.key, problems)
        recipients = list(recipients)
        if not recipients:
            return []
        size = self.capabilities.max_recipients_per_request
        return [
            self._render_batch(message, batch, schedule_at) for batch in batched(recipients, size)
        ]

    def _render_batch(
        self, message: Message, batch: list[Recipient], schedule_at: datetime | None
    ) -> WireRequest:  # pragma: no cover - abstract
        raise NotImplementedError

    # ---------------------------------------------------------------- send
    def _auth_headers(self, request: WireRequest) -> dict:
        return {}

    def _http(self, request: WireRequest) -> requests.Response:
        headers = {"Accept": "application/json", **request.headers, **self._auth_headers(request)}
        try:
            return self.session.request(
                request.method,
                request.url,
                headers=headers,
                json=request.json,
                params=request.params,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            # ``ambiguous``: the request went out, so the provider may have taken it before
            # the failure; the task layer reconciles instead of re-sending. Only a failure to
            # connect at all is safe to retry blindly.
            never_connected = isinstance(exc, requests.ConnectTimeout) or (
                "NewConnectionError" in repr(exc) or "Failed to establish" in str(exc)
            )
            # a read timeout while the body streams arrives wrapped in ConnectionError
            timed_out = isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower()
            if not timed_out:
                raise ProviderTemporaryError(
                    f"Could not reach {self.display_name} ({type(exc).__name__})",
                    code="connection_error",
                    raw=str(exc),
                    ambiguous=not never_connected,
                ) from exc
            raise ProviderTemporaryError(
                f"{self.display_name} did not answer within {self.timeout:g} s",
                code="timeout",
                raw=str(exc),
                ambiguous=not never_connected,
            ) from exc

    def send(self, request: WireRequest) -> list[SubmitResult]:
        """Perform the HTTP call and interpret the answer (see :meth:`parse_response`)."""
        resp = self._http(request)
        return self.parse_response(request, resp.status_code, resp.headers, resp.content)

    def parse_response(
        self, request: WireRequest, status_code: int, headers: Mapping, body: bytes
    ) -> list[SubmitResult]:
        self._raise_for_transient(status_code, headers, body)
        return self._parse_response(request, status_code, headers, body)

    def _parse_response(
        self, request: WireRequest, status_code: int, headers: Mapping, body: bytes
    ) -> list[SubmitResult]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _raise_for_transient(self, status_code: int, headers: Mapping, body: bytes) -> None:
        raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        if status_code == 429:
            ra = parse_retry_after(header(headers, "Retry-After"))
            wait = f"; retry after {ra:g} s" if ra is not None else ""
            raise ProviderTemporaryError(
                f"{self.display_name} is throttling requests (HTTP 429){wait}",
                code="http_429",
                http_status=429,
                retry_after=ra,
                raw=raw,
            )
        if status_code >= 500:
            raise ProviderTemporaryError(
                f"{self.display_name} had a server error (HTTP {status_code}); nothing was "
                "accepted",
                code=f"http_{status_code}",
                http_status=status_code,
                retry_after=parse_retry_after(header(headers, "Retry-After")),
                raw=raw,
            )

    def _json_or_reject(self, status_code: int, body: bytes) -> dict:
        """The response body as a JSON object (every documented answer is one), or
        ProviderRejected saying in words what came back instead."""
        data = decode_json(body)
        if data is None:
            raise ProviderRejected(
                f"{self.display_name} answered HTTP {status_code} with a body that is not JSON",
                code=f"http_{status_code}",
                http_status=status_code,
                raw=body.decode("utf-8", "replace") if isinstance(body, bytes) else body,
            )
        if not isinstance(data, dict):
            raise ProviderRejected(
                f"{self.display_name} answered with an unexpected body",
                code=f"http_{status_code}",
                http_status=status_code,
                raw=data,
            )
        return data

    # ---------------------------------------------------------------- webhooks
    def allowed_webhook_ips(self) -> tuple[str, ...]:
        if self.config.allowed_webhook_ips is not None:
            return tuple(self.config.allowed_webhook_ips)
        return self.capabilities.webhook_source_ips

    def verify_webhook(
        self, *, path_kind: str, headers: Mapping, body: bytes, remote_addr: str
    ) -> None:
        """Refuse calls from outside the IP allow-list (403) or with a malformed body (400).

        The secret token in the URL is checked by the Django view before this is called.
        """
        allowed = self.allowed_webhook_ips()
        if allowed and remote_addr not in allowed:
            raise WebhookRejected(
                f"{self.display_name} callbacks come from {', '.join(allowed)}, "
                f"not {remote_addr or 'an unknown address'}",
                403,
            )
        if path_kind not in self.capabilities.webhook_path_kinds:
            raise WebhookRejected(f"Unknown {self.display_name} callback path {path_kind!r}", 400)
        # parse to prove the body well formed (raises WebhookRejected(400))
        self.parse_webhook(path_kind=path_kind, headers=headers, body=body)

    def parse_webhook(
        self, *, path_kind: str, headers: Mapping, body: bytes
    ) -> list[DeliveryEvent | InboundEvent]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _webhook_json(self, body: bytes, *, allow_form: bool = False) -> Any:
        data = decode_json(body)
        if data is None and allow_form:
            data = decode_form(body)
        if data is None:
            raise WebhookRejected(f"{self.display_name} callback body is not JSON", 400)
        return data

    @staticmethod
    def _records(data: Any, what: str) -> list[dict]:
        items = data if isinstance(data, list) else [data]
        if not items or not all(isinstance(i, dict) for i in items):
            raise WebhookRejected(f"{what}: expected a JSON object or a list of objects", 400)
        return items

    # ---------------------------------------------------------------- status
    def fetch_status(self, queries: list[StatusQuery]) -> list[DeliveryEvent]:
        """Current status of sent messages; ``[]`` when the provider has no status API."""
        return []


def round_up_to_slot(dt: datetime, minutes: int = 5) -> datetime:
    """Round ``dt`` up to the next ``minutes`` boundary (exact boundaries stay)."""
    base = dt.replace(second=0, microsecond=0)
    extra = (base.minute % minutes) != 0 or dt.second or dt.microsecond
    if not extra:
        return base
    return base + timedelta(minutes=minutes - (base.minute % minutes))
