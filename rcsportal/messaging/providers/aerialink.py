"""Aerialink / Convey (US): ``POST /v5/messages`` with HTTP Basic auth (seed 003).

Sources: seed 003, providers-notes.md section 4 (host, contradictions), wire-assumptions.md
(callbackURL payload and inbound shapes, 401 shape). No status API.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from rcsportal.messaging.events import (
    FALLBACK_EVENT,
    DeliveryEvent,
    EventType,
    InboundEvent,
    InboundKind,
)
from rcsportal.messaging.exceptions import ProviderRejected, Unsupported, WebhookRejected
from rcsportal.messaging.message import CardContent, Message, Suggestion

from .base import (
    BaseProvider,
    Capabilities,
    SubmitResult,
    WireRequest,
    basename_of,
    digits,
    e164,
    ellipsize,
    message_kind,
    parse_provider_time,
    suggestion_lists,
    suggestion_type,
)

MAX_EVENT_TITLE = 100  # seed 003 eventTitle max 100
MAX_EVENT_DESCRIPTION = 500  # seed 003 description max 500
MAX_FILENAME = 100  # seed 003 filenameOverride max 100
MAX_FAILOVER_SOURCE = 50  # seed 003 failoverSource max 50
MAX_DIAL = 20  # seed 003 phoneNumber max 20
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif")

# wire-assumptions.md (ASSUMED callback vocabulary)
STATUS_MAP = {
    "QUEUED": EventType.ACCEPTED,
    "PROCESSING": EventType.ACCEPTED,
    "SUCCESS": EventType.SENT,
    "DELIVERED": EventType.DELIVERED,
    "READ": EventType.READ,
    "FAIL": EventType.FAILED,
    "FAILED": EventType.FAILED,
    "BLOCKED": EventType.FAILED,
    "EXPIRED": EventType.EXPIRED,
}
MESSAGE_TYPES = {
    "text": "RCS_TEXT",
    "file": "RCS_MEDIA",
    "card": "RCS_CARD",
    "carousel": "RCS_CAROUSEL",
}


class AerialinkProvider(BaseProvider):
    key = "aerialink"
    display_name = "Aerialink (Convey)"
    default_base_url = "https://apix5.aerialink.net"  # notes 4.1 (3P evidence; ASSUMED)
    capabilities = Capabilities(
        kinds=frozenset({"text", "file", "card", "carousel"}),  # RCS_TEXT/MEDIA/CARD/CAROUSEL
        suggestion_types=frozenset(  # REPLY/OPEN_URL/DIAL_PHONE/SHOW_LOCATION/REQUEST_LOCATION/
            {  # CREATE_CALENDAR_EVENT
                "reply",
                "open_url",
                "dial",
                "view_location",
                "share_location",
                "create_calendar_event",
            }
        ),
        max_suggestions_per_card=4,  # seed 003 "maximum 4 choices per card" (one row says 10)
        # seed 003: text/media choices "no maximum limit"; card/carousel: choices live on cards
        max_suggestions_per_message={"text": None, "file": None, "card": 0, "carousel": 0},
        max_recipients_per_request=1,  # seed 003: one destination per request
        max_text_length=None,  # seed 003: no maximum stated
        max_card_title=100,  # seed 003 "title (card): Max 100 characters"
        max_card_description=500,  # seed 003
        max_suggestion_text=25,  # seed 003 choice title max 25
        max_postback=2048,  # seed 003
        min_carousel_cards=2,  # not stated: RBM 2 (ASSUMED)
        max_carousel_cards=10,  # seed 003 "10 cards max"
        card_orientation=False,  # no orientation field: vertical only (ASSUMED)
        card_width=False,  # no cardWidth field
        media_height=True,  # seed 003 height SHORT|MEDIUM|TALL (required)
        requires_media_metadata=False,
        scheduling="none",  # nothing in seed 003
        fallback_kinds=frozenset({"sms", "mms"}),  # smsFailover (RCS_TEXT) / mmsFailover (others)
        status_api=False,  # none documented (wire-assumptions)
        reference_id_on_wire=False,  # no client id field
        webhook_source_ips=(),
        thumbnails=True,  # thumbnailUrl
        open_url_options=True,  # application + webviewViewMode
        location_query=False,  # latitude/longitude required
        calendar_description=True,
        card_required_fields=frozenset({"title", "description", "media"}),  # seed 003 tables
        card_media_types=None,
        max_fallback_text=160,  # seed 003 fallbackText max 160
        max_mms_subject=100,  # seed 003 subject max 100
        fallback_rule="sms on text; mms on file, card, carousel",  # per-type tables, seed 003
        webhook_path_kinds=("",),  # everything to the request's callbackURL
        idempotency="none (a retried request may duplicate)",
    )

    # ------------------------------------------------------------------ check extras
    def _fallback_kinds_for(self, m: Message) -> frozenset[str]:
        # seed 003: RCS_TEXT lists smsFailover; RCS_MEDIA / CARD / CAROUSEL list mmsFailover
        return frozenset({"sms"}) if message_kind(m) == "text" else frozenset({"mms"})

    def _check_fallback(self, message: Message, kind: str) -> list[Unsupported]:
        out = []
        fb = message.fallback
        if fb is None:
            return out
        allowed = self._fallback_kinds_for(message)
        mtype = MESSAGE_TYPES[kind]
        if fb.sms is not None and "sms" not in allowed:
            out.append(
                Unsupported(
                    "fallback.sms",
                    f"Aerialink documents only an MMS failover for {mtype} messages",
                    self._offer("drop_fallback"),
                )
            )
        if fb.mms is not None and "mms" not in allowed:
            keys = ["mms_as_sms"] if fb.sms is None else []
            out.append(
                Unsupported(
                    "fallback.mms",
                    f"Aerialink documents only an SMS failover for {mtype} messages",
                    self._offer(*keys, "drop_fallback"),
                )
            )
        source = self._failover_source(message)
        for name, fbk in (("sms", fb.sms), ("mms", fb.mms)):
            if fbk is None or name not in allowed:
                continue
            if not source:
                out.append(
                    Unsupported(
                        f"fallback.{name}.sender",
                        "Aerialink needs a failover source number (set the agent's fallback "
                        "SMS sender)",
                        self._offer("drop_fallback"),
                    )
                )
            elif len(source) > MAX_FAILOVER_SOURCE:
                out.append(
                    Unsupported(
                        f"fallback.{name}.sender",
                        f"Aerialink failover sources are at most {MAX_FAILOVER_SOURCE} characters",
                    )
                )
            if len(fbk.text) > 160:
                out.append(
                    Unsupported(
                        f"fallback.{name}.text",
                        f"Aerialink accepts failover texts of at most 160 characters "
                        f"({len(fbk.text)} given)",
                        self._offer("truncate"),
                    )
                )
        if fb.mms is not None and "mms" in allowed:
            if not fb.mms.media_url:
                out.append(
                    Unsupported("fallback.mms.mediaUrl", "Aerialink's MMS failover needs media")
                )
            if not fb.mms.subject:
                out.append(
                    Unsupported("fallback.mms.subject", "Aerialink's MMS failover needs a subject")
                )
            elif len(fb.mms.subject) > 100:
                out.append(
                    Unsupported(
                        "fallback.mms.subject",
                        "Aerialink accepts MMS subjects of at most 100 characters "
                        f"({len(fb.mms.subject)} given)",
                        self._offer("truncate"),
                    )
                )
        return out

    def _suggestion_problem(self, s: Suggestion, t: str) -> str:
        why = super()._suggestion_problem(s, t)
        if why:
            return why
        if t == "dial" and len(digits(s.action.dial_action.phone_number)) > MAX_DIAL:
            return f"Aerialink accepts call numbers of at most {MAX_DIAL} characters"
        if t == "open_url" and len(s.action.open_url_action.url) > 2048:
            return "Aerialink accepts URLs of at most 2048 characters"
        return ""

    def _check_extra(self, message: Message, kind: str) -> list[Unsupported]:
        out = []
        if kind == "file":
            ci = message.content_info
            if not ci.thumbnail_url and not self._is_image(ci):
                out.append(
                    Unsupported(
                        "contentInfo.thumbnailUrl",
                        "Aerialink requires a thumbnail for media messages (only images can "
                        "serve as their own thumbnail)",
                    )
                )
            if len(self._filename(ci)) > MAX_FILENAME:
                out.append(
                    Unsupported(
                        "contentInfo.fileName",
                        f"Aerialink file names are at most {MAX_FILENAME} characters",
                    )
                )
        for path, suggestions in suggestion_lists(message):
            for i, s in enumerate(suggestions):
                cal = s.action.create_calendar_event_action if s.action else None
                if cal is None:
                    continue
                if len(cal.title) > MAX_EVENT_TITLE:
                    out.append(
                        Unsupported(
                            f"{path}.{i}.action.createCalendarEventAction.title",
                            f"Aerialink accepts event titles of at most {MAX_EVENT_TITLE} "
                            "characters",
                            self._offer("truncate"),
                        )
                    )
                if len(cal.description) > MAX_EVENT_DESCRIPTION:
                    out.append(
                        Unsupported(
                            f"{path}.{i}.action.createCalendarEventAction.description",
                            f"Aerialink accepts event descriptions of at most "
                            f"{MAX_EVENT_DESCRIPTION} characters",
                            self._offer("truncate"),
                        )
                    )
        return out

    def _degrade_mms_as_sms(self, m: Message) -> None:
        from rcsportal.messaging.message import SmsFallback

        fb = m.fallback
        if (
            fb
            and fb.mms is not None
            and fb.sms is None
            and "mms" not in self._fallback_kinds_for(m)
        ):
            fb.sms = SmsFallback(text=fb.mms.text)
            fb.mms = None

    def _degrade_truncate(self, m: Message) -> None:
        super()._degrade_truncate(m)
        for _, suggestions in suggestion_lists(m):
            for s in suggestions:
                cal = s.action.create_calendar_event_action if s.action else None
                if cal is not None:
                    cal.title = ellipsize(cal.title, MAX_EVENT_TITLE)
                    cal.description = ellipsize(cal.description, MAX_EVENT_DESCRIPTION)

    # ------------------------------------------------------------------ render
    @staticmethod
    def _is_image(ci) -> bool:
        mime = (ci.mime_type or "").lower()
        if mime:
            return mime.startswith("image/")
        return (ci.file_url or "").lower().split("?")[0].endswith(IMAGE_EXTENSIONS)

    @staticmethod
    def _filename(ci) -> str:
        return ci.file_name or basename_of(ci.file_url) or "media"

    def _failover_source(self, message: Message) -> str:
        fb = message.fallback
        sender = ""
        if fb is not None and fb.sms is not None:
            sender = fb.sms.sender
        return sender or self.config.fallback_sms_sender

    def _choice(self, s: Suggestion) -> dict:
        t = suggestion_type(s)
        leaf = s.reply if s.reply is not None else s.action
        # postbackData is required (seed 003); an empty one is replaced by the label (ASSUMED)
        out: dict = {
            "type": "",
            "title": leaf.text,
            "postbackData": leaf.postback_data or leaf.text,
        }
        a = s.action
        if t == "reply":
            out["type"] = "REPLY"
        elif t == "open_url":
            ou = a.open_url_action
            out["type"] = "OPEN_URL"
            out["url"] = ou.url
            out["application"] = ou.application or "BROWSER"  # ASSUMED default
            # required even for BROWSER (seed 003 validation error): FULL by default (ASSUMED)
            out["webviewViewMode"] = ou.webview_view_mode or "FULL"
        elif t == "dial":
            out["type"] = "DIAL_PHONE"
            out["phoneNumber"] = digits(a.dial_action.phone_number)  # examples: no "+"
        elif t == "view_location":
            loc = a.view_location_action
            out["type"] = "SHOW_LOCATION"
            out["latitude"] = round(loc.lat_long.latitude, 6)  # "6 decimal precision"
            out["longitude"] = round(loc.lat_long.longitude, 6)
            if loc.label:
                out["label"] = loc.label
        elif t == "share_location":
            out["type"] = "REQUEST_LOCATION"
        else:
            cal = a.create_calendar_event_action
            out["type"] = "CREATE_CALENDAR_EVENT"
            out["startTime"] = cal.start_time  # RFC 3339 is ISO 8601
            out["endTime"] = cal.end_time
            out["eventTitle"] = cal.title
            if cal.description:
                out["description"] = cal.description
        return out

    def _card(self, card: CardContent) -> dict:
        ci = card.media.content_info
        out: dict = {
            "title": card.title,
            "description": card.description,
            "height": card.media.height or "MEDIUM",  # required; MEDIUM when unset (ASSUMED)
            "mediaUrl": ci.file_url,
        }
        if ci.thumbnail_url:
            out["thumbnailUrl"] = ci.thumbnail_url
        if ci.file_name:
            out["filenameOverride"] = ci.file_name
        if card.suggestions:
            out["choices"] = [self._choice(s) for s in card.suggestions]
        return out

    def body_for(self, message: Message, destination: str) -> dict:
        kind = message_kind(message)
        body: dict = {
            "messageType": MESSAGE_TYPES[kind],
            "source": self.config.sender_id,
            "destination": destination,
        }
        if kind == "text":
            body["messageText"] = message.text
        elif kind == "file":
            ci = message.content_info
            body["mediaUrl"] = ci.file_url
            # required: an image is its own thumbnail when none is given (ASSUMED)
            body["thumbnailUrl"] = ci.thumbnail_url or ci.file_url
            body["filenameOverride"] = self._filename(ci)  # required; from the URL (ASSUMED)
        elif kind == "card":
            card = message.rich_card.standalone_card.card_content
            body.update(self._card(card))
        else:
            body["cards"] = [self._card(c) for c in message.rich_card.carousel_card.card_contents]
        if message.suggestions:
            body["choices"] = [self._choice(s) for s in message.suggestions]
        if self.config.callback_url:
            body["callbackURL"] = self.config.callback_url
        fb = message.fallback
        if fb is not None:
            source = self._failover_source(message)
            if kind == "text" and fb.sms is not None:
                body["smsFailover"] = {
                    "enabled": True,
                    "failoverSource": source,
                    "fallbackText": fb.sms.text,
                }
            if kind != "text" and fb.mms is not None:
                body["mmsFailover"] = {
                    "enabled": True,
                    "failoverSource": source,
                    "fallbackText": fb.mms.text,
                    "mediaUrl": fb.mms.media_url,
                    "subject": fb.mms.subject,
                }
        return body

    def _auth_headers(self, request: WireRequest) -> dict:
        return {}

    def _basic(self) -> str:
        raw = f"{self.credential('username')}:{self.credential('password')}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def _render_batch(self, message, batch, schedule_at) -> WireRequest:
        (r,) = batch
        return WireRequest(
            method="POST",
            url=self.url("/v5/messages"),
            headers={"Content-Type": "application/json", "Authorization": self._basic()},
            json=self.body_for(message, digits(r.phone)),
            params=None,
            recipients=[r],
            kind="rcs",
        )

    # ------------------------------------------------------------------ responses
    def _parse_response(self, request, status_code, headers, body) -> list[SubmitResult]:
        data = self._json_or_reject(status_code, body)
        (r,) = request.recipients
        if status_code < 400 and data.get("status") == "success":
            results = (data.get("data") or {}).get("results") or []
            res = next((x for x in results if isinstance(x, dict)), {})
            ok = str(res.get("status", "success")).lower() == "success"
            return [
                SubmitResult(
                    reference_id=r.reference_id,
                    phone=r.phone,
                    accepted=ok,
                    provider_message_id=str(res.get("messageGUID", "") or ""),
                    error_code="" if ok else str(res.get("status", "")),
                    error_text="" if ok else "Aerialink did not queue this number",
                )
            ]
        details = [
            (str(e.get("field", "")), str(e.get("message", "")))
            for e in (data.get("data") or [])
            if isinstance(e, dict)
        ]
        msg = str(data.get("message") or "")
        if status_code == 401:
            raise ProviderRejected(
                "Aerialink refused the username/password (401 Unauthorized)",
                code="http_401",
                http_status=401,
                details=details,
                raw=data,
            )
        if details and all(f == "destination" for f, _ in details):
            return [
                SubmitResult(
                    reference_id=r.reference_id,
                    phone=r.phone,
                    accepted=False,
                    error_code="invalid_destination",
                    error_text="Aerialink refused the number: " + "; ".join(m for _, m in details),
                )
            ]
        raise ProviderRejected(
            f"Aerialink refused the message: {msg or 'error'}",
            code=f"http_{status_code}",
            http_status=status_code,
            details=details,
            raw=data,
        )

    # ------------------------------------------------------------------ webhooks
    def parse_webhook(self, *, path_kind: str, headers: Mapping, body: bytes) -> list:
        data = self._webhook_json(body)
        out: list[DeliveryEvent | InboundEvent] = []
        for rec in self._records(data, "Aerialink callback"):
            typ = str(rec.get("type") or "").upper()
            if typ in ("MO", "POSTBACK"):
                src = rec.get("source")
                if not src:
                    raise WebhookRejected("Aerialink inbound message without source", 400)
                postback = str(rec.get("postbackData") or "")
                if typ == "POSTBACK":
                    kind = InboundKind.REPLY  # reply vs action not distinguished (ASSUMED)
                elif rec.get("latitude") is not None:
                    kind = InboundKind.LOCATION
                else:
                    kind = InboundKind.TEXT
                out.append(
                    InboundEvent(
                        kind=kind,
                        phone=e164(str(src)),
                        text=str(rec.get("messageText") or ""),
                        postback_data=postback,
                        provider_message_id=str(rec.get("messageGUID") or ""),
                        in_reply_to_message_id=str(rec.get("inReplyToGUID") or ""),
                        occurred_at=parse_provider_time(rec.get("timestamp"), "UTC"),
                        raw=rec,
                    )
                )
                continue
            status = rec.get("status")
            if not isinstance(status, str) or not rec.get("messageGUID"):
                raise WebhookRejected("Aerialink status callback needs messageGUID and status", 400)
            etype = STATUS_MAP.get(status.upper(), EventType.UNKNOWN)
            channel = str(rec.get("channel") or "RCS").upper()
            fallback = ""
            if channel in ("SMS", "MMS"):
                etype = FALLBACK_EVENT[etype]
                fallback = channel.lower()
            reason = " ".join(str(x) for x in (rec.get("reasonCode"), rec.get("reasonText")) if x)
            dest = rec.get("destination")
            out.append(
                DeliveryEvent(
                    type=etype,
                    provider_message_id=str(rec["messageGUID"]),
                    phone=e164(str(dest)) if dest else "",
                    occurred_at=parse_provider_time(rec.get("timestamp"), "UTC"),
                    error_code=str(rec.get("reasonCode") or ""),
                    error_text=reason
                    or (status if etype in (EventType.FAILED, EventType.FALLBACK_FAILED) else ""),
                    fallback_channel=fallback,
                    raw=rec,
                )
            )
        return out
