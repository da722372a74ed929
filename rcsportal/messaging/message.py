"""The canonical RCS message.

Modelled on Google RBM's ``AgentContentMessage`` JSON; Python attribute names are the
snake_case forms of the JSON keys. See ``docs/message-format.md`` for the format.

Contracts
---------
* ``Message.from_dict(d)`` parses a JSON document; unknown keys, ``null`` values, wrong
  types and missing required keys raise :class:`MessageInvalid` listing *every* structural
  problem with its dotted path. It never raises ``TypeError`` / ``KeyError``.
* ``Message.from_dict(d).to_dict() == d`` for every structurally valid document. The rule:
  ``to_dict`` emits a key when it was present in the parsed document, when the field has no
  default (required), or when its value differs from the dataclass default. ``None`` is never
  emitted. Objects built in Python therefore serialise without their default values.
* ``validate()`` returns every RBM-wide problem as ``(path, text)`` and never raises;
  ``validated()`` / :func:`parse_message` raise :class:`MessageInvalid` instead.
* Paths are dotted JSON paths with list indexes, e.g. ``richCard.carouselCard.cardContents.2.title``;
  ``""`` is the document root.

Nothing here imports Django (``tests/messaging/test_purity.py``).
"""

from __future__ import annotations

import copy
import json
import math
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar

from .exceptions import MessageInvalid

# --------------------------------------------------------------------------------------
# Limits (Google RBM, restated by AWS End User Messaging; providers-notes.md section 5)
# --------------------------------------------------------------------------------------

MAX_TEXT_LENGTH = 3072
MAX_CARD_TITLE_LENGTH = 200
MAX_CARD_DESCRIPTION_LENGTH = 2000
MIN_SUGGESTION_TEXT_LENGTH = 1
MAX_SUGGESTION_TEXT_LENGTH = 25
MAX_POSTBACK_DATA_LENGTH = 2048
MAX_CARD_SUGGESTIONS = 4
MAX_MESSAGE_SUGGESTIONS = 11
MIN_CAROUSEL_CARDS = 2
MAX_CAROUSEL_CARDS = 10
MAX_URL_LENGTH = 2048
MAX_MEDIA_URL_LENGTH = 2000
MAX_FILE_SIZE_BYTES = 100 * 1024 * 1024
MAX_DOCUMENT_BYTES = 250_000  # "250 KB", measured as compact UTF-8 JSON

LIMITS: dict[str, int] = {
    "text": MAX_TEXT_LENGTH,
    "card_title": MAX_CARD_TITLE_LENGTH,
    "card_description": MAX_CARD_DESCRIPTION_LENGTH,
    "suggestion_text_min": MIN_SUGGESTION_TEXT_LENGTH,
    "suggestion_text": MAX_SUGGESTION_TEXT_LENGTH,
    "postback_data": MAX_POSTBACK_DATA_LENGTH,
    "card_suggestions": MAX_CARD_SUGGESTIONS,
    "message_suggestions": MAX_MESSAGE_SUGGESTIONS,
    "carousel_cards_min": MIN_CAROUSEL_CARDS,
    "carousel_cards": MAX_CAROUSEL_CARDS,
    "url": MAX_URL_LENGTH,
    "media_url": MAX_MEDIA_URL_LENGTH,
    "file_size_bytes": MAX_FILE_SIZE_BYTES,
    "document_bytes": MAX_DOCUMENT_BYTES,
}

CARD_ORIENTATIONS = frozenset({"VERTICAL", "HORIZONTAL"})
THUMBNAIL_ALIGNMENTS = frozenset({"LEFT", "RIGHT"})
CARD_WIDTHS = frozenset({"SMALL", "MEDIUM"})
MEDIA_HEIGHTS = frozenset({"SHORT", "MEDIUM", "TALL"})
URL_APPLICATIONS = frozenset({"BROWSER", "WEBVIEW"})
WEBVIEW_VIEW_MODES = frozenset({"FULL", "HALF", "TALL"})

#: Media types allowed in rich cards (seed 000 "Supported Media File Types", "Yes" rows).
CARD_MEDIA_TYPES = frozenset(
    {
        "image/jpeg",
        "image/gif",
        "image/png",
        "video/h263",
        "video/m4v",
        "video/mp4",
        "video/mpeg4",
        "video/mpeg",
        "video/webm",
    }
)
#: Media types allowed in file messages: the card types plus the "No" rows of the table.
FILE_MEDIA_TYPES = CARD_MEDIA_TYPES | frozenset(
    {
        "application/ogg",
        "application/pdf",
        "audio/aac",
        "audio/mp3",
        "audio/mpeg",
        "audio/mpg",
        "audio/mp4",
        "audio/mp4-latm",
        "audio/3gpp",
    }
)
#: Thumbnails are images.
THUMBNAIL_MEDIA_TYPES = frozenset({"image/jpeg", "image/gif", "image/png"})

#: ``{{ name }}``: whitespace-tolerant, names ``[a-zA-Z_][a-zA-Z0-9_.]*``.
PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")

_PHONE_RE = re.compile(r"^\+[0-9]{6,15}$")
_RFC3339_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


# --------------------------------------------------------------------------------------
# Presence tracking + (de)serialisation shared by every node
# --------------------------------------------------------------------------------------


class _Node:
    """Mixin giving every dataclass below ``from_dict`` / ``to_dict``.

    ``_present`` (an instance attribute set by ``from_dict``, not a dataclass field) holds
    the JSON keys the parsed document contained, so ``to_dict`` can reproduce it exactly.
    """

    _present: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_dict(cls, data: Any, path: str = ""):
        """Parse ``data``; raise :class:`MessageInvalid` with every structural problem."""
        problems: list[tuple[str, str]] = []
        node = _parse_object(cls, data, path, problems)
        if problems:
            raise MessageInvalid(problems)
        return node

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (see the module docstring for which keys are emitted)."""
        return _dump_object(self)


# --------------------------------------------------------------------------------------
# The dataclasses (names are the shared contract: do not rename)
# --------------------------------------------------------------------------------------


@dataclass
class ContentInfo(_Node):
    file_url: str = ""
    thumbnail_url: str = ""
    force_refresh: bool | None = None
    # extensions (providers need them, RBM lacks them)
    mime_type: str = ""
    file_size_bytes: int | None = None
    file_name: str = ""
    thumbnail_mime_type: str = ""
    thumbnail_file_size_bytes: int | None = None


@dataclass
class LatLong(_Node):
    latitude: float
    longitude: float


@dataclass
class OpenUrlAction(_Node):
    url: str
    application: str = ""  # "" | "BROWSER" | "WEBVIEW"
    webview_view_mode: str = ""  # "" | "FULL" | "HALF" | "TALL"


@dataclass
class DialAction(_Node):
    phone_number: str


@dataclass
class ViewLocationAction(_Node):
    lat_long: LatLong | None = None
    label: str = ""
    query: str = ""


@dataclass
class CreateCalendarEventAction(_Node):
    start_time: str  # RFC 3339
    end_time: str
    title: str
    description: str = ""


@dataclass
class ShareLocationAction(_Node):
    pass


@dataclass
class Reply(_Node):
    text: str
    postback_data: str = ""


@dataclass
class Action(_Node):
    text: str
    postback_data: str = ""
    fallback_url: str = ""
    open_url_action: OpenUrlAction | None = None
    dial_action: DialAction | None = None
    view_location_action: ViewLocationAction | None = None
    create_calendar_event_action: CreateCalendarEventAction | None = None
    share_location_action: ShareLocationAction | None = None

    def action_types(self) -> list[str]:
        """JSON keys of the action objects that are set (valid actions have exactly one)."""
        return [key for key, attr in _ACTION_KEYS.items() if getattr(self, attr) is not None]


@dataclass
class Suggestion(_Node):
    reply: Reply | None = None
    action: Action | None = None

    @property
    def type(self) -> str:
        """``reply`` | ``open_url`` | ``dial`` | ``view_location`` | ``share_location`` |
        ``create_calendar_event``; ``""`` for an incomplete suggestion (see ``validate``)."""
        if self.reply is not None:
            return "reply"
        if self.action is None:
            return ""
        for key, attr in _ACTION_KEYS.items():
            if getattr(self.action, attr) is not None:
                return _SUGGESTION_TYPES[key]
        return ""

    @property
    def text(self) -> str:
        """The chip label, whichever of reply/action carries it."""
        inner = self.reply or self.action
        return inner.text if inner is not None else ""

    @property
    def postback_data(self) -> str:
        """The postback data, whichever of reply/action carries it."""
        inner = self.reply or self.action
        return inner.postback_data if inner is not None else ""


@dataclass
class Media(_Node):
    height: str = ""  # "" | "SHORT" | "MEDIUM" | "TALL"
    content_info: ContentInfo | None = None


@dataclass
class CardContent(_Node):
    title: str = ""
    description: str = ""
    media: Media | None = None
    suggestions: list[Suggestion] = field(default_factory=list)


@dataclass
class StandaloneCard(_Node):
    card_content: CardContent
    card_orientation: str = "VERTICAL"  # "VERTICAL" | "HORIZONTAL"
    thumbnail_image_alignment: str = ""  # "" | "LEFT" | "RIGHT" (horizontal only)


@dataclass
class CarouselCard(_Node):
    card_contents: list[CardContent]
    card_width: str = "MEDIUM"  # "SMALL" | "MEDIUM"


@dataclass
class RichCard(_Node):
    standalone_card: StandaloneCard | None = None
    carousel_card: CarouselCard | None = None


@dataclass
class SmsFallback(_Node):
    text: str
    sender: str = ""


@dataclass
class MmsFallback(_Node):
    text: str
    media_url: str = ""
    subject: str = ""


@dataclass
class Fallback(_Node):
    sms: SmsFallback | None = None
    mms: MmsFallback | None = None


@dataclass
class Message(_Node):
    """Exactly one of ``text`` / ``content_info`` / ``rich_card`` carries the content."""

    text: str = ""
    content_info: ContentInfo | None = None
    rich_card: RichCard | None = None
    suggestions: list[Suggestion] = field(default_factory=list)
    fallback: Fallback | None = None

    # -- parsing ---------------------------------------------------------------------

    @classmethod
    def from_json(cls, text: str) -> Message:
        """Parse a JSON string; bad JSON raises :class:`MessageInvalid` at path ``""``."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise MessageInvalid([("", f"invalid JSON: {exc}")]) from exc
        return cls.from_dict(data)

    def to_json(self, **kwargs: Any) -> str:
        """``json.dumps(self.to_dict())``; keyword arguments are passed to ``json.dumps``."""
        kwargs.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **kwargs)

    # -- shape -----------------------------------------------------------------------

    @property
    def kind(self) -> str:
        """``text`` | ``file`` | ``card`` | ``carousel`` (rich card wins, then file)."""
        if self.rich_card is not None:
            if self.rich_card.carousel_card is not None:
                return "carousel"
            return "card"
        if self.content_info is not None:
            return "file"
        return "text"

    def cards(self) -> list[tuple[str, CardContent]]:
        """``(path, CardContent)`` for the standalone card or each carousel card."""
        result: list[tuple[str, CardContent]] = []
        if self.rich_card is None:
            return result
        standalone = self.rich_card.standalone_card
        if standalone is not None:
            result.append(("richCard.standaloneCard.cardContent", standalone.card_content))
        carousel = self.rich_card.carousel_card
        if carousel is not None:
            for index, content in enumerate(carousel.card_contents):
                result.append((f"richCard.carouselCard.cardContents.{index}", content))
        return result

    def all_suggestions(self) -> Iterator[tuple[str, Suggestion]]:
        """Yield ``(path, Suggestion)``: message-level first, then each card's in order."""
        for index, suggestion in enumerate(self.suggestions):
            yield f"suggestions.{index}", suggestion
        for card_path, content in self.cards():
            for index, suggestion in enumerate(content.suggestions):
                yield f"{card_path}.suggestions.{index}", suggestion

    # -- placeholders ----------------------------------------------------------------

    def placeholders(self) -> set[str]:
        """Names of every ``{{ name }}`` used in a personalizable field."""
        names: set[str] = set()
        for _path, obj, attr, _is_url in _text_fields(self):
            names.update(PLACEHOLDER_RE.findall(getattr(obj, attr)))
        return names

    @property
    def has_placeholders(self) -> bool:
        return bool(self.placeholders())

    def personalize(self, fields: Mapping[str, object]) -> Message:
        """A NEW message with every ``{{ name }}`` replaced by ``str(fields[name])``.

        Missing names and ``None`` values become ``""``. In URL fields (``fileUrl``,
        ``thumbnailUrl``, ``fallbackUrl``, ``openUrlAction.url``, ``fallback.mms.mediaUrl``)
        the value is percent-encoded with ``urllib.parse.quote(value, safe="")``. Phone
        numbers, coordinates, times, enums and the SMS sender are never personalized.
        """
        result = copy.deepcopy(self)
        for _path, obj, attr, is_url in _text_fields(result):
            setattr(obj, attr, _substitute(getattr(obj, attr), fields, is_url))
        return result

    # -- validation ------------------------------------------------------------------

    def validate(self) -> list[tuple[str, str]]:
        """Every RBM-wide problem as ``(path, text)``; never raises."""
        problems: list[tuple[str, str]] = []
        _check_message(self, problems)
        return problems

    def validated(self) -> Message:
        """Return ``self`` or raise :class:`MessageInvalid` with every problem."""
        problems = self.validate()
        if problems:
            raise MessageInvalid(problems)
        return self


def parse_message(data: Any) -> Message:
    """Parse and validate: a :class:`Message`, or :class:`MessageInvalid` listing the
    structural problems (if any) or else every ``validate()`` problem."""
    return Message.from_dict(data).validated()


# --------------------------------------------------------------------------------------
# Schema: JSON key -> (attribute, type). Types: "string", "boolean", "integer", "number",
# a node class, or ("list", node class).
# --------------------------------------------------------------------------------------

_STR, _BOOL, _INT, _NUMBER = "string", "boolean", "integer", "number"

_ACTION_KEYS = {
    "openUrlAction": "open_url_action",
    "dialAction": "dial_action",
    "viewLocationAction": "view_location_action",
    "createCalendarEventAction": "create_calendar_event_action",
    "shareLocationAction": "share_location_action",
}
_SUGGESTION_TYPES = {
    "openUrlAction": "open_url",
    "dialAction": "dial",
    "viewLocationAction": "view_location",
    "createCalendarEventAction": "create_calendar_event",
    "shareLocationAction": "share_location",
}

_SCHEMA: dict[type, dict[str, tuple[str, Any]]] = {
    ContentInfo: {
        "fileUrl": ("file_url", _STR),
        "thumbnailUrl": ("thumbnail_url", _STR),
        "forceRefresh": ("force_refresh", _BOOL),
        "mimeType": ("mime_type", _STR),
        "fileSizeBytes": ("file_size_bytes", _INT),
        "fileName": ("file_name", _STR),
        "thumbnailMimeType": ("thumbnail_mime_type", _STR),
        "thumbnailFileSizeBytes": ("thumbnail_file_size_bytes", _INT),
    },
    LatLong: {"latitude": ("latitude", _NUMBER), "longitude": ("longitude", _NUMBER)},
    OpenUrlAction: {
        "url": ("url", _STR),
        "application": ("application", _STR),
        "webviewViewMode": ("webview_view_mode", _STR),
    },
    DialAction: {"phoneNumber": ("phone_number", _STR)},
    ViewLocationAction: {
        "latLong": ("lat_long", LatLong),
        "label": ("label", _STR),
        "query": ("query", _STR),
    },
    CreateCalendarEventAction: {
        "startTime": ("start_time", _STR),
        "endTime": ("end_time", _STR),
        "title": ("title", _STR),
        "description": ("description", _STR),
    },
    ShareLocationAction: {},
    Reply: {"text": ("text", _STR), "postbackData": ("postback_data", _STR)},
    Action: {
        "text": ("text", _STR),
        "postbackData": ("postback_data", _STR),
        "fallbackUrl": ("fallback_url", _STR),
        "openUrlAction": ("open_url_action", OpenUrlAction),
        "dialAction": ("dial_action", DialAction),
        "viewLocationAction": ("view_location_action", ViewLocationAction),
        "createCalendarEventAction": (
            "create_calendar_event_action",
            CreateCalendarEventAction,
        ),
        "shareLocationAction": ("share_location_action", ShareLocationAction),
    },
    Suggestion: {"reply": ("reply", Reply), "action": ("action", Action)},
    Media: {"height": ("height", _STR), "contentInfo": ("content_info", ContentInfo)},
    CardContent: {
        "title": ("title", _STR),
        "description": ("description", _STR),
        "media": ("media", Media),
        "suggestions": ("suggestions", ("list", Suggestion)),
    },
    StandaloneCard: {
        "cardOrientation": ("card_orientation", _STR),
        "thumbnailImageAlignment": ("thumbnail_image_alignment", _STR),
        "cardContent": ("card_content", CardContent),
    },
    CarouselCard: {
        "cardWidth": ("card_width", _STR),
        "cardContents": ("card_contents", ("list", CardContent)),
    },
    RichCard: {
        "standaloneCard": ("standalone_card", StandaloneCard),
        "carouselCard": ("carousel_card", CarouselCard),
    },
    SmsFallback: {"text": ("text", _STR), "sender": ("sender", _STR)},
    MmsFallback: {
        "text": ("text", _STR),
        "mediaUrl": ("media_url", _STR),
        "subject": ("subject", _STR),
    },
    Fallback: {"sms": ("sms", SmsFallback), "mms": ("mms", MmsFallback)},
    Message: {
        "text": ("text", _STR),
        "contentInfo": ("content_info", ContentInfo),
        "richCard": ("rich_card", RichCard),
        "suggestions": ("suggestions", ("list", Suggestion)),
        "fallback": ("fallback", Fallback),
    },
}

_REQUIRED = object()
_INVALID = object()


def _join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def _defaults(cls: type) -> dict[str, Any]:
    """Attribute -> default value, or ``_REQUIRED`` for fields without a default."""
    result: dict[str, Any] = {}
    for f in fields(cls):
        if f.default is not MISSING:
            result[f.name] = f.default
        elif f.default_factory is not MISSING:
            result[f.name] = f.default_factory()
        else:
            result[f.name] = _REQUIRED
    return result


_DEFAULTS: dict[type, dict[str, Any]] = {cls: _defaults(cls) for cls in _SCHEMA}


def _parse_object(cls: type, data: Any, path: str, problems: list[tuple[str, str]]) -> Any:
    """Build ``cls`` from a JSON object, appending problems; ``_INVALID`` on failure."""
    if not isinstance(data, dict):
        problems.append((path, f"must be an object, got {_json_type(data)}"))
        return _INVALID
    before = len(problems)
    schema = _SCHEMA[cls]
    for key in data:
        if key not in schema:
            problems.append((_join(path, str(key)), "unknown key"))
    kwargs: dict[str, Any] = {}
    for key, (attr, spec) in schema.items():
        if key in data:
            value = _parse_value(spec, data[key], _join(path, key), problems)
            if value is not _INVALID:
                kwargs[attr] = value
        elif _DEFAULTS[cls][attr] is _REQUIRED:
            problems.append((_join(path, key), "required"))
    if len(problems) > before:
        return _INVALID
    node = cls(**kwargs)
    node._present = frozenset(key for key in schema if key in data)
    return node


def _parse_value(spec: Any, value: Any, path: str, problems: list[tuple[str, str]]) -> Any:
    if isinstance(spec, tuple):
        return _parse_list(spec[1], value, path, problems)
    if isinstance(spec, type):
        return _parse_object(spec, value, path, problems)
    if _matches(spec, value):
        return value
    problems.append((path, f"must be a {spec}, got {_json_type(value)}"))
    return _INVALID


def _parse_list(cls: type, value: Any, path: str, problems: list[tuple[str, str]]) -> Any:
    if not isinstance(value, list):
        problems.append((path, f"must be an array, got {_json_type(value)}"))
        return _INVALID
    items = [_parse_object(cls, item, _join(path, i), problems) for i, item in enumerate(value)]
    if any(item is _INVALID for item in items):
        return _INVALID
    return items


def _matches(spec: str, value: Any) -> bool:
    if spec == _STR:
        return isinstance(value, str)
    if spec == _BOOL:
        return isinstance(value, bool)
    if spec == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if spec == _NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return math.isfinite(value)
    raise AssertionError(spec)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _dump_object(node: Any) -> dict[str, Any]:
    cls = type(node)
    defaults = _DEFAULTS[cls]
    out: dict[str, Any] = {}
    for key, (attr, spec) in _SCHEMA[cls].items():
        value = getattr(node, attr)
        if value is None:
            continue
        default = defaults[attr]
        if key in node._present or default is _REQUIRED or value != default:
            out[key] = _dump_value(spec, value)
    return out


def _dump_value(spec: Any, value: Any) -> Any:
    if isinstance(spec, tuple):
        return [_dump_object(item) for item in value]
    if isinstance(spec, type):
        return _dump_object(value)
    return value


# --------------------------------------------------------------------------------------
# Personalizable fields and placeholder substitution
# --------------------------------------------------------------------------------------


def _text_fields(message: Message) -> Iterator[tuple[str, Any, str, bool]]:
    """Yield ``(path, object, attribute, is_url)`` for every personalizable string."""
    yield "text", message, "text", False
    if message.content_info is not None:
        yield from _content_info_fields(message.content_info, "contentInfo")
    for card_path, content in message.cards():
        yield from _card_fields(content, card_path)
    for index, suggestion in enumerate(message.suggestions):
        yield from _suggestion_fields(suggestion, f"suggestions.{index}")
    fallback = message.fallback
    if fallback is not None and fallback.sms is not None:
        yield "fallback.sms.text", fallback.sms, "text", False
    if fallback is not None and fallback.mms is not None:
        yield "fallback.mms.text", fallback.mms, "text", False
        yield "fallback.mms.subject", fallback.mms, "subject", False
        yield "fallback.mms.mediaUrl", fallback.mms, "media_url", True


def _content_info_fields(info: ContentInfo, path: str) -> Iterator[tuple[str, Any, str, bool]]:
    yield f"{path}.fileUrl", info, "file_url", True
    yield f"{path}.thumbnailUrl", info, "thumbnail_url", True
    yield f"{path}.fileName", info, "file_name", False


def _card_fields(content: CardContent, path: str) -> Iterator[tuple[str, Any, str, bool]]:
    yield f"{path}.title", content, "title", False
    yield f"{path}.description", content, "description", False
    if content.media is not None and content.media.content_info is not None:
        yield from _content_info_fields(content.media.content_info, f"{path}.media.contentInfo")
    for index, suggestion in enumerate(content.suggestions):
        yield from _suggestion_fields(suggestion, f"{path}.suggestions.{index}")


def _suggestion_fields(suggestion: Suggestion, path: str) -> Iterator[tuple[str, Any, str, bool]]:
    if suggestion.reply is not None:
        yield f"{path}.reply.text", suggestion.reply, "text", False
        yield f"{path}.reply.postbackData", suggestion.reply, "postback_data", False
    action = suggestion.action
    if action is None:
        return
    base = f"{path}.action"
    yield f"{base}.text", action, "text", False
    yield f"{base}.postbackData", action, "postback_data", False
    yield f"{base}.fallbackUrl", action, "fallback_url", True
    if action.open_url_action is not None:
        yield f"{base}.openUrlAction.url", action.open_url_action, "url", True
    if action.view_location_action is not None:
        location = action.view_location_action
        yield f"{base}.viewLocationAction.label", location, "label", False
        yield f"{base}.viewLocationAction.query", location, "query", False
    if action.create_calendar_event_action is not None:
        event = action.create_calendar_event_action
        yield f"{base}.createCalendarEventAction.title", event, "title", False
        yield f"{base}.createCalendarEventAction.description", event, "description", False


def _substitute(template: str, values: Mapping[str, object], is_url: bool) -> str:
    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        text = "" if value is None else str(value)
        return urllib.parse.quote(text, safe="") if is_url else text

    return PLACEHOLDER_RE.sub(replace, template)


def placeholder_syntax_problem(text: str) -> str | None:
    """A sentence when ``text`` has ``{{`` / ``}}`` that are not a valid placeholder."""
    rest = PLACEHOLDER_RE.sub("", text)
    if "{{" in rest or "}}" in rest:
        return "malformed placeholder: write {{ name }} with a name like first_name"
    return None


# --------------------------------------------------------------------------------------
# Validation (RBM-wide rules; provider-specific limits live in the adapters)
# --------------------------------------------------------------------------------------

Problems = list[tuple[str, str]]


def _check_message(message: Message, problems: Problems) -> None:
    _check_content_choice(message, problems)
    if message.kind == "text" and not message.text:
        problems.append(("text", "must not be empty"))
    _check_length(message.text, MAX_TEXT_LENGTH, "text", problems)
    if message.content_info is not None:
        _check_content_info(message.content_info, "contentInfo", FILE_MEDIA_TYPES, problems)
    if message.rich_card is not None:
        _check_rich_card(message.rich_card, problems)
    _check_count(message.suggestions, MAX_MESSAGE_SUGGESTIONS, "suggestions", problems)
    for index, suggestion in enumerate(message.suggestions):
        _check_suggestion(suggestion, f"suggestions.{index}", problems)
    if message.fallback is not None:
        _check_fallback(message.fallback, problems)
    for path, obj, attr, _is_url in _text_fields(message):
        problem = placeholder_syntax_problem(getattr(obj, attr))
        if problem:
            problems.append((path, problem))
    _check_document_size(message, problems)


def _check_content_choice(message: Message, problems: Problems) -> None:
    given = []
    if message.text:  # an empty text is not content (kind falls back to text)
        given.append("text")
    if message.content_info is not None:
        given.append("contentInfo")
    if message.rich_card is not None:
        given.append("richCard")
    if len(given) > 1:
        problems.append(
            ("", f"give exactly one of text, contentInfo, richCard (got {', '.join(given)})")
        )


def _check_length(value: str, maximum: int, path: str, problems: Problems) -> None:
    if len(value) > maximum:
        problems.append((path, f"at most {maximum} characters (got {len(value)})"))


def _check_count(items: list, maximum: int, path: str, problems: Problems) -> None:
    if len(items) > maximum:
        problems.append((path, f"at most {maximum} items (got {len(items)})"))


def _check_choice(value: str, allowed: frozenset[str], path: str, problems: Problems) -> None:
    if value and value not in allowed:
        problems.append((path, f"must be one of {', '.join(sorted(allowed))}"))


def _is_http_url(value: str) -> bool:
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _check_url(value: str, maximum: int, path: str, problems: Problems) -> None:
    """An absolute http(s) URL with a host, at most ``maximum`` characters."""
    if not _is_http_url(value):
        problems.append((path, "must be an http:// or https:// URL"))
    _check_length(value, maximum, path, problems)


def _check_content_info(
    info: ContentInfo, path: str, media_types: frozenset[str], problems: Problems
) -> None:
    if not info.file_url:
        problems.append((f"{path}.fileUrl", "required"))
    else:
        _check_url(info.file_url, MAX_MEDIA_URL_LENGTH, f"{path}.fileUrl", problems)
    if info.thumbnail_url:
        _check_url(info.thumbnail_url, MAX_MEDIA_URL_LENGTH, f"{path}.thumbnailUrl", problems)
    if info.mime_type and info.mime_type not in media_types:
        problems.append((f"{path}.mimeType", f"unsupported media type {info.mime_type!r}"))
    if info.thumbnail_mime_type and info.thumbnail_mime_type not in THUMBNAIL_MEDIA_TYPES:
        problems.append(
            (
                f"{path}.thumbnailMimeType",
                f"unsupported thumbnail type {info.thumbnail_mime_type!r}",
            )
        )
    for key, size in (
        ("fileSizeBytes", info.file_size_bytes),
        ("thumbnailFileSizeBytes", info.thumbnail_file_size_bytes),
    ):
        if size is not None and not 0 <= size <= MAX_FILE_SIZE_BYTES:
            problems.append((f"{path}.{key}", f"must be between 0 and {MAX_FILE_SIZE_BYTES}"))


def _check_rich_card(card: RichCard, problems: Problems) -> None:
    path = "richCard"
    if (card.standalone_card is None) == (card.carousel_card is None):
        problems.append((path, "give exactly one of standaloneCard, carouselCard"))
    if card.standalone_card is not None:
        _check_standalone(card.standalone_card, f"{path}.standaloneCard", problems)
    if card.carousel_card is not None:
        _check_carousel(card.carousel_card, f"{path}.carouselCard", problems)


def _check_standalone(card: StandaloneCard, path: str, problems: Problems) -> None:
    if card.card_orientation not in CARD_ORIENTATIONS:
        problems.append((f"{path}.cardOrientation", "must be VERTICAL or HORIZONTAL"))
    alignment = card.thumbnail_image_alignment
    if alignment:
        if alignment not in THUMBNAIL_ALIGNMENTS:
            problems.append((f"{path}.thumbnailImageAlignment", "must be LEFT or RIGHT"))
        elif card.card_orientation != "HORIZONTAL":
            problems.append(
                (f"{path}.thumbnailImageAlignment", "only allowed with HORIZONTAL orientation")
            )
    _check_card_content(card.card_content, f"{path}.cardContent", "", problems)


def _check_carousel(card: CarouselCard, path: str, problems: Problems) -> None:
    if card.card_width not in CARD_WIDTHS:
        problems.append((f"{path}.cardWidth", "must be SMALL or MEDIUM"))
    count = len(card.card_contents)
    if not MIN_CAROUSEL_CARDS <= count <= MAX_CAROUSEL_CARDS:
        problems.append(
            (
                f"{path}.cardContents",
                f"a carousel needs {MIN_CAROUSEL_CARDS} to {MAX_CAROUSEL_CARDS} cards (got {count})",
            )
        )
    for index, content in enumerate(card.card_contents):
        _check_card_content(content, f"{path}.cardContents.{index}", card.card_width, problems)


def _check_card_content(
    content: CardContent, path: str, carousel_width: str, problems: Problems
) -> None:
    """``carousel_width`` is ``""`` for a standalone card."""
    if not (content.title or content.description or content.media is not None):
        problems.append((path, "a card needs at least one of title, description, media"))
    _check_length(content.title, MAX_CARD_TITLE_LENGTH, f"{path}.title", problems)
    _check_length(content.description, MAX_CARD_DESCRIPTION_LENGTH, f"{path}.description", problems)
    if content.media is not None:
        _check_media(content.media, f"{path}.media", carousel_width, problems)
    _check_count(content.suggestions, MAX_CARD_SUGGESTIONS, f"{path}.suggestions", problems)
    for index, suggestion in enumerate(content.suggestions):
        _check_suggestion(suggestion, f"{path}.suggestions.{index}", problems)


def _check_media(media: Media, path: str, carousel_width: str, problems: Problems) -> None:
    _check_choice(media.height, MEDIA_HEIGHTS, f"{path}.height", problems)
    if media.height == "TALL" and carousel_width == "SMALL":
        problems.append((f"{path}.height", "TALL media is not allowed in a SMALL carousel"))
    if media.content_info is None:
        problems.append((f"{path}.contentInfo", "required"))
    else:
        _check_content_info(media.content_info, f"{path}.contentInfo", CARD_MEDIA_TYPES, problems)


def _check_suggestion(suggestion: Suggestion, path: str, problems: Problems) -> None:
    if (suggestion.reply is None) == (suggestion.action is None):
        problems.append((path, "give exactly one of reply, action"))
    if suggestion.reply is not None:
        reply = suggestion.reply
        _check_chip(reply.text, reply.postback_data, f"{path}.reply", problems)
    if suggestion.action is not None:
        _check_action(suggestion.action, f"{path}.action", problems)


def _check_chip(text: str, postback_data: str, path: str, problems: Problems) -> None:
    if not MIN_SUGGESTION_TEXT_LENGTH <= len(text) <= MAX_SUGGESTION_TEXT_LENGTH:
        problems.append(
            (
                f"{path}.text",
                f"must be {MIN_SUGGESTION_TEXT_LENGTH} to {MAX_SUGGESTION_TEXT_LENGTH} "
                f"characters (got {len(text)})",
            )
        )
    _check_length(postback_data, MAX_POSTBACK_DATA_LENGTH, f"{path}.postbackData", problems)


def _check_action(action: Action, path: str, problems: Problems) -> None:
    _check_chip(action.text, action.postback_data, path, problems)
    if action.fallback_url:
        _check_url(action.fallback_url, MAX_URL_LENGTH, f"{path}.fallbackUrl", problems)
    if len(action.action_types()) != 1:
        problems.append(
            (
                path,
                "give exactly one of openUrlAction, dialAction, viewLocationAction, "
                "createCalendarEventAction, shareLocationAction",
            )
        )
    if action.open_url_action is not None:
        _check_open_url(action.open_url_action, f"{path}.openUrlAction", problems)
    if action.dial_action is not None:
        phone = action.dial_action.phone_number
        if not _PHONE_RE.match(phone):
            problems.append(
                (f"{path}.dialAction.phoneNumber", "must be E.164: + then 6 to 15 digits")
            )
    if action.view_location_action is not None:
        _check_view_location(action.view_location_action, f"{path}.viewLocationAction", problems)
    if action.create_calendar_event_action is not None:
        _check_calendar(
            action.create_calendar_event_action, f"{path}.createCalendarEventAction", problems
        )


def _check_open_url(action: OpenUrlAction, path: str, problems: Problems) -> None:
    _check_url(action.url, MAX_URL_LENGTH, f"{path}.url", problems)
    _check_choice(action.application, URL_APPLICATIONS, f"{path}.application", problems)
    mode = action.webview_view_mode
    if mode:
        if mode not in WEBVIEW_VIEW_MODES:
            problems.append((f"{path}.webviewViewMode", "must be FULL, HALF or TALL"))
        elif action.application != "WEBVIEW":
            problems.append((f"{path}.webviewViewMode", "only allowed with application WEBVIEW"))


def _check_view_location(action: ViewLocationAction, path: str, problems: Problems) -> None:
    if action.lat_long is None and not action.query:
        problems.append((path, "give latLong or query"))
    if action.lat_long is not None:
        if not -90 <= action.lat_long.latitude <= 90:
            problems.append((f"{path}.latLong.latitude", "must be between -90 and 90"))
        if not -180 <= action.lat_long.longitude <= 180:
            problems.append((f"{path}.latLong.longitude", "must be between -180 and 180"))


def parse_rfc3339(value: str) -> datetime | None:
    """An aware ``datetime`` for an RFC 3339 timestamp (``T`` and offset/``Z`` required)."""
    match = _RFC3339_RE.match(value)
    if not match:
        return None
    date, time, fraction, offset = match.groups()
    fraction = (fraction or "")[:7]  # "." + at most 6 digits for fromisoformat
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        return datetime.fromisoformat(f"{date}T{time}{fraction}{offset}")
    except ValueError:
        return None


def _check_calendar(action: CreateCalendarEventAction, path: str, problems: Problems) -> None:
    start = parse_rfc3339(action.start_time)
    end = parse_rfc3339(action.end_time)
    if start is None:
        problems.append(
            (f"{path}.startTime", "must be an RFC 3339 time, e.g. 2025-06-30T19:00:00Z")
        )
    if end is None:
        problems.append((f"{path}.endTime", "must be an RFC 3339 time, e.g. 2025-06-30T19:30:00Z"))
    if start is not None and end is not None and end <= start:
        problems.append((f"{path}.endTime", "must be after startTime"))
    if not action.title:
        problems.append((f"{path}.title", "must not be empty"))


def _check_fallback(fallback: Fallback, problems: Problems) -> None:
    if fallback.sms is None and fallback.mms is None:
        problems.append(("fallback", "give sms and/or mms"))
    if fallback.sms is not None and not fallback.sms.text:
        problems.append(("fallback.sms.text", "must not be empty"))
    if fallback.mms is not None:
        if not fallback.mms.text:
            problems.append(("fallback.mms.text", "must not be empty"))
        if fallback.mms.media_url:
            _check_url(
                fallback.mms.media_url, MAX_MEDIA_URL_LENGTH, "fallback.mms.mediaUrl", problems
            )


def _check_document_size(message: Message, problems: Problems) -> None:
    size = len(json.dumps(message.to_dict(), ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_DOCUMENT_BYTES:
        problems.append(("", f"the message is {size} bytes as JSON; at most {MAX_DOCUMENT_BYTES}"))
