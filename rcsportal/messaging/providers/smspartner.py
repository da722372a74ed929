"""SMS Partner (France): RCS ``POST /v1/rcs/send`` (seed 000) and SMS ``POST /v1/send`` (seed 004).

Sources: seed 000 (RCS), seed 004 (SMS), providers-notes.md section 1, wire-assumptions.md
(callback bodies, ``/v1/multi-status``, error HTTP statuses).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from rcsportal.messaging.events import (
    FALLBACK_EVENT,
    DeliveryEvent,
    EventType,
    InboundEvent,
    InboundKind,
)
from rcsportal.messaging.exceptions import (
    ProviderRejected,
    ProviderTemporaryError,
    Unsupported,
    WebhookRejected,
)
from rcsportal.messaging.message import CardContent, Message, Suggestion

from .base import (
    RICH_CARD_MEDIA_TYPES,
    BaseProvider,
    Capabilities,
    Recipient,
    StatusQuery,
    SubmitResult,
    WireRequest,
    batched,
    e164,
    local_wall_time,
    message_kind,
    parse_provider_time,
    round_up_to_slot,
    same_phone,
    suggestion_type,
    to_decimal,
)

PARIS = "Europe/Paris"

# Error codes, in words (seed 004 "Error Codes" + providers-notes 1.5, the docpartner error page).
ERROR_TEXTS = {
    "1": "The API key is missing",
    "2": "The phone numbers are missing",
    "3": "The message id is missing",
    "4": "Message not found",
    "9": "One or more constraints were not met",
    "10": "The API key is invalid",
    "11": "Not enough credits on the SMS Partner account",
    "13": "No default price for these numbers",
    "14": "The number is on the SMS Partner stop list (the recipient opted out)",
    "15": "The number is already in the list",
    "20": "The SMS Partner account is disabled",
    "22": "Marketing messages may only be sent between 08:00 and 20:00",
    "23": "Marketing messages may not be sent on Sundays or public holidays",
    "30": "The SMS Partner account is blocked",
    "40": "API access denied",
    "42": "Low-cost messages are limited to 160 characters",
    "43": "The message text is required",
    "44": "The sender name is invalid",
    "45": "The scheduled date is required",
    "46": "The scheduled hour is required",
    "47": "The scheduled minutes are invalid",
    "48": "Scheduled minutes must be 0 to 55 in steps of 5",
    "49": "The scheduled date is invalid",
    "50": "At most 500 numbers per request",
    "51": "Not eligible for low-cost sending",
    "52": "At most 10 concatenated SMS per message",
    "55": "No number to send to",
    "90": "The request was not valid JSON",
    "96": "This server's IP address is not authorized on the SMS Partner account",
    "500": "SMS Partner could not queue the message",
    "992": "This sender name is not authorized",
}
TEMPORARY_CODES = {"500"}  # "problem queueing" -> retry
OPTED_OUT_CODES = {"14"}

# Status vocabulary: docpartner status pages (Delivered / Not delivered / Waiting / ko) plus the
# operator codes, plus the ASSUMED RCS statuses Read / Expired (wire-assumptions.md).
STATUS_MAP = {
    "waiting": EventType.SENT,
    "delivered": EventType.DELIVERED,
    "read": EventType.READ,
    "not delivered": EventType.FAILED,
    "ko": EventType.FAILED,
    "expired": EventType.EXPIRED,
    "delivrd": EventType.DELIVERED,
    "pending": EventType.SENT,
    "enroute": EventType.SENT,
    "acceptd": EventType.ACCEPTED,
    "undeliv": EventType.FAILED,
    "rejectd": EventType.FAILED,
    "unknown": EventType.UNKNOWN,
}

GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)
SENDER_RE = re.compile(r"^[A-Za-z0-9]{3,11}$")


def truthy(v) -> bool:
    return v is True or str(v).strip().lower() in {"1", "true", "yes"}


def sms_text(text: str) -> str:
    """Seed 004: line break -> ``:br:``, euro sign -> ``:euro:``. (``"`` is escaped by JSON.)"""
    return text.replace("\r\n", "\n").replace("\n", ":br:").replace("€", ":euro:")


class SmsPartnerProvider(BaseProvider):
    key = "smspartner"
    display_name = "SMS Partner"
    default_base_url = "https://api.smspartner.fr"  # notes 1.1 / wire-assumptions
    provider_timezone = PARIS
    supports_sms = True
    capabilities = Capabilities(
        kinds=frozenset({"text", "file", "card", "carousel"}),  # seed 000: four conversations
        # seed 000 "Suggestions": reply, openUrl, dial, viewLocation, createCalendarEvent
        suggestion_types=frozenset(
            {"reply", "open_url", "dial", "view_location", "create_calendar_event"}
        ),
        max_suggestions_per_card=4,  # seed 000 "(max 4)"
        # seed 000: text/file "maximum 4"; card/carousel "Global suggestions (max 8)"
        max_suggestions_per_message={"text": 4, "file": 4, "card": 8, "carousel": 8},
        max_recipients_per_request=500,  # seed 000 "Maximum of 500 numbers per request"
        max_text_length=3072,  # not stated: RBM's 3072 (ASSUMED, notes 1.2)
        max_card_title=200,  # seed 000 "Max 200 characters"
        max_card_description=500,  # seed 000 "Max 500 characters"
        max_suggestion_text=25,  # not stated: RBM 25 (ASSUMED)
        max_postback=2048,  # not stated: RBM 2048 (ASSUMED)
        min_carousel_cards=2,  # not stated: RBM 2..10 (ASSUMED, notes 1.2)
        max_carousel_cards=10,
        card_orientation=True,  # seed 000 "orientation": VERTICAL or HORIZONTAL
        card_width=True,  # seed 000 "cardWidth": MEDIUM or SMALL
        media_height=True,  # seed 000 media.height (vertical only)
        requires_media_metadata=False,  # seed 000: only mediaUrl / fileUrl
        scheduling="date + hour + 5-minute slot (Europe/Paris)",  # seed 000 optional params
        fallback_kinds=frozenset({"sms"}),  # seed 000 "failover" (SMS only)
        status_api=True,  # notes 1.4 /v1/multi-status, by message_id
        reference_id_on_wire=False,  # no client id field in seed 000
        webhook_source_ips=(),  # none documented
        thumbnails=False,  # media has only mediaUrl, file only fileUrl
        open_url_options=False,  # openUrlAction example has only url
        location_query=False,  # example uses latLong + label
        calendar_description=True,  # seed 000 createCalendarEventAction.description
        card_required_fields=frozenset(),
        card_media_types=RICH_CARD_MEDIA_TYPES,  # seed 000 media table
        max_fallback_text=None,  # multi-part SMS allowed (seed 004), <=10 parts (code 52)
        webhook_path_kinds=("status", "inbound", ""),  # urlDlr / urlResponse (seed 004)
        sms=True,
        idempotency="none (a retried request may duplicate)",
    )

    # ------------------------------------------------------------------ check extras
    def _check_extra(self, message: Message, kind: str) -> list[Unsupported]:
        out = []
        fb = message.fallback
        if fb is not None and fb.sms is not None:
            sender = fb.sms.sender or self.config.fallback_sms_sender
            if sender and not SENDER_RE.match(sender):
                out.append(
                    Unsupported(
                        "fallback.sms.sender",
                        "SMS Partner sender names are 3 to 11 letters or digits "
                        f"({sender!r} given)",
                    )
                )
        rc = message.rich_card
        if rc is not None and rc.standalone_card is not None:
            sc = rc.standalone_card
            if sc.card_orientation == "VERTICAL" and sc.thumbnail_image_alignment:
                # seed 000: thumbnailImageAlignment "Only if orientation == HORIZONTAL"
                out.append(
                    Unsupported(
                        "richCard.standaloneCard.thumbnailImageAlignment",
                        "SMS Partner only takes an image alignment on horizontal cards",
                        self._offer("vertical"),
                    )
                )
        return out

    # ------------------------------------------------------------------ render
    def _suggestion(self, s: Suggestion) -> dict:
        if s.reply is not None:
            return {"reply": {"text": s.reply.text, "postbackData": s.reply.postback_data}}
        a = s.action
        out: dict = {"text": a.text, "postbackData": a.postback_data}
        t = suggestion_type(s)
        if t == "open_url":
            out["openUrlAction"] = {"url": a.open_url_action.url}
        elif t == "dial":
            out["dialAction"] = {"phoneNumber": a.dial_action.phone_number}
        elif t == "view_location":
            loc = a.view_location_action
            body: dict = {}
            if loc.label:
                body["label"] = loc.label
            body["latLong"] = {
                "latitude": loc.lat_long.latitude,
                "longitude": loc.lat_long.longitude,
            }
            out["viewLocationAction"] = body
        elif t == "create_calendar_event":
            cal = a.create_calendar_event_action
            # seed 000 example: "2020-06-30 19:00:00" (no offset) -> Paris wall time (ASSUMED)
            ev = {
                "startTime": local_wall_time(cal.start_time, PARIS),
                "endTime": local_wall_time(cal.end_time, PARIS),
                "title": cal.title,
            }
            if cal.description:
                ev["description"] = cal.description
            out["createCalendarEventAction"] = ev
        return {"action": out}

    def _card(self, card: CardContent, *, vertical: bool) -> dict:
        out: dict = {}
        if card.title:
            out["title"] = card.title
        if card.description:
            out["description"] = card.description
        if card.media is not None and card.media.content_info is not None:
            media: dict = {}
            if vertical and card.media.height:  # seed 000: height "Only if orientation == VERTICAL"
                media["height"] = card.media.height
            media["mediaUrl"] = card.media.content_info.file_url
            out["media"] = media
        out["suggestions"] = [self._suggestion(s) for s in card.suggestions]
        return out

    def conversation(self, message: Message) -> dict:
        kind = message_kind(message)
        conv: dict = {}
        if kind == "text":
            conv["text"] = message.text
        elif kind == "file":
            conv["file"] = {"media": {"fileUrl": message.content_info.file_url}}
        elif kind == "card":
            sc = message.rich_card.standalone_card
            vertical = sc.card_orientation != "HORIZONTAL"
            rc: dict = {"orientation": "HORIZONTAL" if not vertical else "VERTICAL"}
            if not vertical and sc.thumbnail_image_alignment:
                rc["thumbnailImageAlignment"] = sc.thumbnail_image_alignment
            rc.update(self._card(sc.card_content, vertical=vertical))
            conv["richCard"] = rc
        else:
            cc = message.rich_card.carousel_card
            conv["carousel"] = {
                "cardWidth": cc.card_width or "MEDIUM",
                "cards": [self._card(c, vertical=True) for c in cc.card_contents],
            }
        conv["suggestions"] = [self._suggestion(s) for s in message.suggestions]
        return conv

    def _schedule(self, body: dict, schedule_at: datetime | None) -> None:
        if schedule_at is None:
            return
        if schedule_at.tzinfo is None:
            raise ValueError("schedule_at must be timezone-aware")
        local = round_up_to_slot(schedule_at.astimezone(ZoneInfo(PARIS)), 5)
        body["scheduledDeliveryDate"] = local.strftime("%d/%m/%Y")
        body["time"] = local.hour
        body["minute"] = local.minute

    def _render_batch(self, message, batch, schedule_at) -> WireRequest:
        body: dict = {
            "apiKey": self.credential("api_key") or self.credential("apiKey"),
            # seed text says comma-separated, every RCS example sends a JSON array: array.
            "phoneNumbers": [r.phone for r in batch],
            "isUnicode": 1,
            "richContent": {"conversation": self.conversation(message)},
        }
        fb = message.fallback
        if fb is not None and fb.sms is not None:
            failover: dict = {}
            sender = fb.sms.sender or self.config.fallback_sms_sender
            if sender:
                failover["sender"] = sender
            failover["message"] = sms_text(fb.sms.text)
            failover["isStopSms"] = 1  # as the seed example (mandatory for marketing, seed 004)
            failover["isUnicode"] = 1
            body["failover"] = failover
        self._schedule(body, schedule_at)
        return WireRequest(
            method="POST",
            url=self.url("/v1/rcs/send"),
            headers={"Content-Type": "application/json"},
            json=body,
            params=None,
            recipients=list(batch),
            kind="rcs",
        )

    # ------------------------------------------------------------------ SMS (seed 004)
    def render_sms(
        self,
        text: str,
        recipients: list[Recipient],
        sender: str = "",
        *,
        schedule_at: datetime | None = None,
    ) -> list[WireRequest]:
        sender = sender or self.config.fallback_sms_sender
        if sender and not SENDER_RE.match(sender):
            raise ProviderRejected(
                f"SMS Partner sender names are 3 to 11 letters or digits ({sender!r} given)",
                code="44",
            )
        out = []
        for batch in batched(list(recipients), 500):  # seed 004: 500 numbers per request
            body: dict = {
                "apiKey": self.credential("api_key") or self.credential("apiKey"),
                "phoneNumbers": ",".join(r.phone for r in batch),  # seed 004: comma-separated
                "message": sms_text(text),
            }
            if sender:
                body["sender"] = sender
            if any(ch not in GSM7 for ch in text):
                body["isUnicode"] = 1  # seed 004: 70 characters per SMS
            self._schedule(body, schedule_at)
            out.append(
                WireRequest(
                    method="POST",
                    url=self.url("/v1/send"),
                    headers={"Content-Type": "application/json"},
                    json=body,
                    params=None,
                    recipients=list(batch),
                    kind="sms",
                )
            )
        return out

    def send_sms(self, request: WireRequest) -> list[SubmitResult]:
        return self.send(request)

    # ------------------------------------------------------------------ responses
    def _error(self, data: dict, status_code: int) -> ProviderRejected | ProviderTemporaryError:
        code = str(data.get("code", f"http_{status_code}"))
        details = []
        errs = data.get("errors", data.get("error"))
        if isinstance(errs, list):
            for e in errs:
                if isinstance(e, dict):
                    details.append((str(e.get("elementId", "")), str(e.get("message", ""))))
        elif isinstance(errs, str):
            details.append(("", errs))
        text = ERROR_TEXTS.get(code) or str(data.get("message") or "SMS Partner refused")
        if data.get("message") and code in ERROR_TEXTS and not details:
            details.append(("", str(data["message"])))
        cls = ProviderTemporaryError if code in TEMPORARY_CODES else ProviderRejected
        return cls(text, code=code, http_status=status_code, details=details, raw=data)

    def _parse_response(self, request, status_code, headers, body) -> list[SubmitResult]:
        data = self._json_or_reject(status_code, body)
        if data.get("success") is True and status_code < 400:
            n = len(request.recipients) or 1
            total = to_decimal(data.get("cost"))
            # the cost is for the whole request: split evenly per recipient (ASSUMED)
            each = (
                (total / n).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
                if total is not None
                else None
            )
            mid = str(data.get("message_id", ""))
            return [
                SubmitResult(
                    reference_id=r.reference_id,
                    phone=r.phone,
                    accepted=True,
                    provider_message_id=mid,
                    cost=each,
                    currency=str(data.get("currency", "")),
                )
                for r in request.recipients
            ]
        err = self._error(data, status_code)
        if err.code in OPTED_OUT_CODES and len(request.recipients) == 1:
            r = request.recipients[0]
            return [
                SubmitResult(
                    reference_id=r.reference_id,
                    phone=r.phone,
                    accepted=False,
                    error_code=err.code,
                    error_text=err.text,
                    opted_out=True,
                )
            ]
        raise err

    # ------------------------------------------------------------------ webhooks
    def parse_webhook(self, *, path_kind: str, headers: Mapping, body: bytes) -> list:
        data = self._webhook_json(body, allow_form=True)
        out: list[DeliveryEvent | InboundEvent] = []
        for rec in self._records(data, "SMS Partner callback"):
            if path_kind == "status" or (path_kind == "" and ("statut" in rec or "status" in rec)):
                out.append(self._dlr(rec))
            elif path_kind in ("inbound", ""):
                out.append(self._inbound(rec))
            else:
                raise WebhookRejected(f"Unknown SMS Partner callback path {path_kind!r}", 400)
        return out

    def _dlr(self, rec: dict) -> DeliveryEvent:
        statut = rec.get("statut", rec.get("status"))
        mid = rec.get("messageId", rec.get("message_id"))
        phone = rec.get("phoneNumber", rec.get("number"))
        if not isinstance(statut, str) or mid in (None, "") or not phone:
            raise WebhookRejected(
                "SMS Partner delivery report needs messageId, phoneNumber and statut", 400
            )
        etype = STATUS_MAP.get(statut.strip().lower(), EventType.UNKNOWN)
        channel = str(rec.get("channel", "rcs")).lower()
        fallback = ""
        if channel == "sms":  # wire-assumptions: channel "sms" = the failover SMS
            etype = FALLBACK_EVENT[etype]
            fallback = "sms"
        opted_out = truthy(rec.get("stopSms", rec.get("stopSMS", False)))
        return DeliveryEvent(
            type=etype,
            provider_message_id=str(mid),
            phone=e164(str(phone), "33"),
            occurred_at=parse_provider_time(rec.get("date"), PARIS),
            error_text=statut if etype in (EventType.FAILED, EventType.FALLBACK_FAILED) else "",
            cost=to_decimal(rec.get("cost")),
            currency=str(rec.get("currency", "") or ""),
            fallback_channel=fallback,
            opted_out=opted_out,
            raw=rec,
        )

    def _inbound(self, rec: dict) -> InboundEvent:
        typ = str(rec.get("type", "")).lower()
        phone = rec.get("phone_number") or rec.get("msisdn") or rec.get("phoneNumber")
        if not phone or "text" not in rec and "postbackData" not in rec:
            raise WebhookRejected("SMS Partner reply needs a phone number and a text", 400)
        mid = str(rec.get("message_id") or rec.get("messageId") or "")
        postback = rec.get("postbackData") or ""
        # a tap: the chip kind (reply vs action) is not sent, REPLY is used (ASSUMED)
        kind = InboundKind.REPLY if typ == "postback" or postback else InboundKind.TEXT
        return InboundEvent(
            kind=kind,
            phone=e164(str(phone), "33"),
            text=str(rec.get("text") or ""),
            postback_data=str(postback),
            # short-number replies carry our message_id; long-number ones their own messageId
            in_reply_to_message_id=mid if "message_id" in rec else "",
            provider_message_id=mid if "message_id" not in rec else "",
            occurred_at=parse_provider_time(rec.get("message-timestamp") or rec.get("date"), PARIS),
            raw=rec,
        )

    # ------------------------------------------------------------------ status
    def fetch_status(self, queries: list[StatusQuery]) -> list[DeliveryEvent]:
        usable = [q for q in queries if q.provider_message_id]
        events: list[DeliveryEvent] = []
        for batch in batched(usable, 500):  # notes 1.4: <= 500 per multi-status call
            req = WireRequest(
                method="POST",
                url=self.url("/v1/multi-status"),
                headers={"Content-Type": "application/json"},
                json={
                    "apiKey": self.credential("api_key") or self.credential("apiKey"),
                    # notes 1.4: every sample and the Go SDK spell it SMSStatut_List
                    "SMSStatut_List": [
                        {"phoneNumber": q.phone, "messageId": q.provider_message_id} for q in batch
                    ],
                },
                params=None,
                recipients=[Recipient(q.phone, q.reference_id) for q in batch],
                kind="status",
            )
            resp = self._http(req)
            self._raise_for_transient(resp.status_code, resp.headers, resp.content)
            data = self._json_or_reject(resp.status_code, resp.content)
            if data.get("success") is False and "StatutResponse_List" not in data:
                raise self._error(data, resp.status_code)
            events.extend(self._status_events(batch, data.get("StatutResponse_List") or []))
        return events

    def _status_events(self, batch: list[StatusQuery], items: list) -> list[DeliveryEvent]:
        out = []
        remaining = list(batch)
        for it in items:
            if not isinstance(it, dict):
                continue
            mid = str(it.get("messageId", ""))
            phone = str(it.get("phoneNumber", ""))
            q = next(
                (
                    q
                    for q in remaining
                    if q.provider_message_id == mid and same_phone(q.phone, phone)
                ),
                None,
            )
            if q is None:
                continue
            remaining.remove(q)
            if it.get("success") is False:
                code = str(it.get("code", ""))
                out.append(
                    DeliveryEvent(
                        type=EventType.UNKNOWN,
                        provider_message_id=mid,
                        reference_id=q.reference_id,
                        phone=q.phone,
                        error_code=code,
                        error_text=str(it.get("status") or ERROR_TEXTS.get(code, "")),
                        raw=it,
                    )
                )
                continue
            statut = str(it.get("status", it.get("statut", "")))
            etype = STATUS_MAP.get(statut.strip().lower(), EventType.UNKNOWN)
            out.append(
                DeliveryEvent(
                    type=etype,
                    provider_message_id=mid,
                    reference_id=q.reference_id,
                    phone=q.phone,
                    occurred_at=parse_provider_time(it.get("date"), PARIS),
                    error_text=statut if etype == EventType.FAILED else "",
                    cost=to_decimal(it.get("cost")),
                    currency=str(it.get("currency", "") or ""),
                    opted_out=truthy(it.get("stopSms", it.get("stopSMS", False))),
                    raw=it,
                )
            )
        return out
