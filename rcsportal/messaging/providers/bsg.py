"""BSG One-API (Ukraine): ``POST /api/messages/rcs/send`` (seed 001).

Sources: seed 001, providers-notes.md section 2 (base URL, JWT login, SDK limits, callbacks,
polling), wire-assumptions.md (401 / 422 shapes, ``channel: sms`` extension).
"""

from __future__ import annotations

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
    Recipient,
    StatusQuery,
    SubmitResult,
    WireRequest,
    decode_json,
    digits,
    e164,
    header,
    message_kind,
    parse_provider_time,
    parse_retry_after,
    suggestion_type,
    to_decimal,
)

KYIV = "Europe/Kyiv"
MAX_CALLBACK_URL = 100  # seed 001 callback_url "Up to 100 characters"
BSG_CARD_MEDIA_TYPES = frozenset(  # notes 2.2: images jpeg/jpg/gif/png, video h263..webm
    {
        "image/jpeg",
        "image/jpg",
        "image/gif",
        "image/png",
        "video/h263",
        "video/m4v",
        "video/mp4",
        "video/mpeg",
        "video/mpeg4",
        "video/webm",
    }
)

# Status enum (notes 2.3 SDK MessageStatus; wire-assumptions callback vocabulary)
STATUS_MAP = {
    "scheduled": EventType.ACCEPTED,
    "moderation": EventType.ACCEPTED,
    "accepted": EventType.ACCEPTED,
    "sending": EventType.ACCEPTED,
    "sent": EventType.SENT,
    "delivered": EventType.DELIVERED,
    "read": EventType.READ,
    "undelivered": EventType.FAILED,
    "failed": EventType.FAILED,
    "expired": EventType.EXPIRED,
    "not_service_user": EventType.FAILED,
    "not_rcs_user": EventType.FAILED,
    "not_viber_user": EventType.FAILED,
    "unknown": EventType.UNKNOWN,
}
STATUS_WORDS = {
    "not_service_user": "The recipient cannot receive RCS messages",
    "not_rcs_user": "The recipient cannot receive RCS messages",
    "undelivered": "The message could not be delivered",
    "failed": "The message failed",
    "expired": "The message expired before delivery",
}
REJECTED_AT_SUBMIT = {"failed", "undelivered", "not_service_user", "not_rcs_user"}


def gsm7_ok(text: str) -> bool:
    from .smspartner import GSM7

    return all(ch in GSM7 for ch in text)


class BsgProvider(BaseProvider):
    key = "bsg"
    display_name = "BSG"
    default_base_url = "https://one-api.bsg.world"  # notes 2.1
    provider_timezone = KYIV
    capabilities = Capabilities(
        kinds=frozenset({"text", "card", "carousel"}),  # seed 001: options.text | options.cards
        suggestion_types=frozenset({"open_url", "dial"}),  # seed 001: url / phone suggestions
        max_suggestions_per_card=2,  # notes 2.2: prose "Only up to 2 buttons" (schema 4)
        # seed 001: suggestions only inside cards
        max_suggestions_per_message={"text": 0, "file": 0, "card": 0, "carousel": 0},
        max_recipients_per_request=1,  # seed 001: single-message endpoint, phone is an object
        max_text_length=160,  # notes 2.2 options.text 1-160
        max_card_title=200,  # notes 2.2 SDK card title <= 200
        max_card_description=1000,  # notes 2.2 card text 1-1000
        max_suggestion_text=25,  # notes 2.2
        max_postback=25,  # notes 2.2 postback_data <= 25
        min_carousel_cards=2,  # 1 card = single card; >= 2 = carousel (notes 2.2)
        max_carousel_cards=5,  # notes 2.2: prose "maximum 5" (schema 10)
        card_orientation=False,  # notes 2.2: no orientation/height/width controls
        card_width=False,
        media_height=False,
        requires_media_metadata=False,
        scheduling="none",  # only the campaign endpoints take start_at (notes 2.2)
        fallback_kinds=frozenset({"sms"}),  # seed 001 alternative_channel.sms
        status_api=True,  # notes 2.3 GET /api/messages?filter[reference_id]=
        reference_id_on_wire=True,  # seed 001 phone.reference_id
        webhook_source_ips=(),  # none documented
        thumbnails=False,
        open_url_options=False,
        location_query=False,
        calendar_description=False,
        card_required_fields=frozenset(),  # each card needs media or text (checked below)
        card_media_types=BSG_CARD_MEDIA_TYPES,
        max_fallback_text=765,  # notes 2.2 alternative_channel.sms.text (GSM-7; 355 UCS-2)
        webhook_path_kinds=("",),  # one callback_url for status and clicks
        idempotency="phone.reference_id (duplicates rejected)",
    )
    degradation_keys = frozenset(
        {
            "first_card",
            "trim_cards",
            "vertical",
            "default_layout",
            "drop_suggestions",
            "trim_suggestions",
            "move_suggestions_to_card",
            "drop_message_suggestions",
            "text_as_card",
            "file_as_card",
            "truncate",
            "drop_extras",
            "drop_fallback",
            "mms_as_sms",
        }
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._bearer: str | None = None

    # ------------------------------------------------------------------ check extras
    def _suggestion_problem(self, s: Suggestion, t: str) -> str:
        if t == "dial":
            d = digits(s.action.dial_action.phone_number)
            if not 9 <= len(d) <= 15:  # notes 2.2: 9-15 digits
                return "BSG needs a call number of 9 to 15 digits"
        if t == "open_url" and len(s.action.open_url_action.url) > 1000:  # notes 2.2
            return "BSG accepts link URLs of at most 1000 characters"
        return ""

    def _check_extra(self, message: Message, kind: str) -> list[Unsupported]:
        out = []
        if kind in ("card", "carousel"):
            from .base import cards_of

            for path, card in cards_of(message):
                has_media = card.media is not None and card.media.content_info is not None
                if not has_media and not card.description:
                    out.append(
                        Unsupported(path, "BSG needs a text (description) or media on each card")
                    )
                if has_media and len(card.media.content_info.file_url) > 1000:
                    out.append(
                        Unsupported(
                            f"{path}.media.contentInfo.fileUrl",
                            "BSG accepts media URLs of at most 1000 characters",
                        )
                    )
        fb = message.fallback
        sms = fb.sms if fb is not None else None
        # notes 2.2: 765 GSM-7 characters (max_fallback_text) or 355 UCS-2 characters
        if sms is not None and not gsm7_ok(sms.text) and len(sms.text) > 355:
            out.append(
                Unsupported(
                    "fallback.sms.text",
                    "BSG accepts at most 355 characters of non-GSM (Unicode) fallback SMS "
                    f"text ({len(sms.text)} given)",
                )
            )
        return out

    # ------------------------------------------------------------------ render
    def _suggestion(self, s: Suggestion) -> dict:
        a = s.action
        if suggestion_type(s) == "open_url":
            out = {"type": "link", "text": a.text, "url": a.open_url_action.url}
        else:
            out = {"type": "call", "text": a.text, "phone": digits(a.dial_action.phone_number)}
        if a.postback_data:
            out["postback_data"] = a.postback_data  # notes 2.2 (SDK); not in the seed example
        return out

    def _card(self, card: CardContent) -> dict:
        out: dict = {}
        if card.title:
            out["title"] = card.title  # SDK field (notes 2.2); not in the seed example
        if card.description:
            out["text"] = card.description
        if card.media is not None and card.media.content_info is not None:
            out["media"] = {"url": card.media.content_info.file_url}
        out["suggestions"] = [self._suggestion(s) for s in card.suggestions]
        return out

    def options(self, message: Message) -> dict:
        kind = message_kind(message)
        if kind == "text":
            return {"text": message.text}
        if kind == "card":
            return {"cards": [self._card(message.rich_card.standalone_card.card_content)]}
        return {"cards": [self._card(c) for c in message.rich_card.carousel_card.card_contents]}

    def _check_callback_url(self) -> None:
        cb = self.config.callback_url
        if cb and len(cb) > MAX_CALLBACK_URL:
            raise ProviderRejected(
                f"The callback URL is {len(cb)} characters long; BSG accepts at most "
                f"{MAX_CALLBACK_URL}. Use a shorter public host or webhook token for this agent.",
                code="callback_url_too_long",
                details=[("callback_url", cb)],
            )

    def render(self, message, recipients, *, schedule_at=None):
        self._check_callback_url()
        return super().render(message, recipients, schedule_at=schedule_at)

    def _render_batch(self, message, batch, schedule_at) -> WireRequest:
        (r,) = batch
        body: dict = {
            "phone": {"number": digits(r.phone), "reference_id": r.reference_id},
            "sender": self.config.sender_id,
            "options": self.options(message),
        }
        fb = message.fallback
        if fb is not None and fb.sms is not None:
            sms: dict = {"text": fb.sms.text}
            sender = fb.sms.sender or self.config.fallback_sms_sender
            if sender:
                sms["sender"] = sender
            body["alternative_channel"] = {"sms": sms}
        if self.config.callback_url:
            body["callback_url"] = self.config.callback_url
        # validity: not sent -> BSG default 72 h (seed 001)
        return WireRequest(
            method="POST",
            url=self.url("/api/messages/rcs/send"),
            headers={"Content-Type": "application/json"},
            json=body,
            params=None,
            recipients=[r],
            kind="rcs",
        )

    # ------------------------------------------------------------------ auth
    def login(self) -> str:
        req = WireRequest(
            method="POST",
            url=self.url("/api/auth/login"),
            headers={"Content-Type": "application/json"},
            json={"api_key": self.credential("api_key")},
            params=None,
            recipients=[],
            kind="auth",
        )
        http = super()._http(req)
        self._raise_for_transient(http.status_code, http.headers, http.content)
        data = decode_json(http.content)
        if http.status_code >= 400 or not isinstance(data, dict) or not data.get("bearer"):
            msg = data.get("message") if isinstance(data, dict) else ""
            raise ProviderRejected(
                "BSG refused the API key (login failed)",
                code=f"http_{http.status_code}",
                http_status=http.status_code,
                details=[("api_key", str(msg))] if msg else [],
                raw=data,
            )
        self._bearer = str(data["bearer"])
        return self._bearer

    def _auth_headers(self, request: WireRequest) -> dict:
        if request.kind == "auth":
            return {}
        if self._bearer is None:
            self.login()
        return {"Authorization": f"Bearer {self._bearer}"}

    def _http(self, request: WireRequest):
        resp = super()._http(request)
        if resp.status_code == 401 and request.kind != "auth":
            self._bearer = None  # expired token: log in again, once
            self.login()
            resp = super()._http(request)
        return resp

    # ------------------------------------------------------------------ responses
    def _error(self, data, status_code: int) -> ProviderRejected:
        msg = str(data.get("message", "")) if isinstance(data, dict) else ""
        errs = data.get("errors") if isinstance(data, dict) else None
        details: list[tuple[str, str]] = []
        if isinstance(errs, dict):
            for k, v in errs.items():
                for m in v if isinstance(v, list) else [v]:
                    details.append((str(k), str(m)))
        if status_code == 401:
            text = "BSG refused the credentials (401 Unauthenticated), even after logging in again"
        elif status_code == 422:
            text = f"BSG refused the message data: {msg or 'invalid data'}"
        else:
            text = f"BSG refused the request (HTTP {status_code}){': ' + msg if msg else ''}"
        return ProviderRejected(
            text, code=f"http_{status_code}", http_status=status_code, details=details, raw=data
        )

    def _raise_for_transient(self, status_code, headers, body) -> None:
        if status_code == 429:
            data = decode_json(body)
            msg = data.get("message", "") if isinstance(data, dict) else ""
            ra = parse_retry_after(header(headers, "Retry-After"))
            from rcsportal.messaging.exceptions import ProviderTemporaryError

            raise ProviderTemporaryError(
                "BSG is throttling requests (HTTP 429" + (f": {msg}" if msg else "") + ")",
                code="http_429",
                http_status=429,
                retry_after=ra,
                raw=data,
            )
        super()._raise_for_transient(status_code, headers, body)

    def _parse_response(self, request, status_code, headers, body) -> list[SubmitResult]:
        data = decode_json(body)
        (r,) = request.recipients or [Recipient("", "")]
        if status_code == 422 and isinstance(data, dict):
            errs = data.get("errors") if isinstance(data.get("errors"), dict) else {}
            keys = list(errs)
            msgs = " ".join(
                str(m) for v in errs.values() for m in (v if isinstance(v, list) else [v])
            )
            if keys == ["phone.reference_id"] and "taken" in msgs.lower():
                # The reference id is ours and unique per delivery: an earlier attempt was
                # accepted (e.g. a timeout after BSG took it). Not a failure, not a re-send.
                return [
                    SubmitResult(
                        reference_id=r.reference_id,
                        phone=r.phone,
                        accepted=True,
                        error_code="duplicate_reference_id",
                        error_text="BSG already has this message (accepted by an earlier "
                        "attempt); its status comes from the status API",
                    )
                ]
            if keys and all(k == "phone" or k.startswith("phone.number") for k in keys):
                return [
                    SubmitResult(
                        reference_id=r.reference_id,
                        phone=r.phone,
                        accepted=False,
                        error_code="invalid_phone",
                        error_text=f"BSG refused the number: {msgs}",
                    )
                ]
        if not isinstance(data, dict):
            self._json_or_reject(status_code, body)  # raises, saying what came back
        if status_code >= 400:
            raise self._error(data, status_code)
        d = data.get("data")
        if not isinstance(d, dict):
            raise ProviderRejected(
                "BSG answered without a 'data' object", code=f"http_{status_code}", raw=data
            )
        status = str(d.get("status") or "accepted").lower()
        amount = d.get("amount") if isinstance(d.get("amount"), dict) else {}
        ok = status not in REJECTED_AT_SUBMIT
        return [
            SubmitResult(
                reference_id=r.reference_id,
                phone=r.phone,
                accepted=ok,
                provider_message_id=str(d.get("id", "") if d.get("id") is not None else ""),
                cost=to_decimal(amount.get("value")),
                currency=str(amount.get("currency", "") or ""),
                error_code="" if ok else status,
                error_text="" if ok else STATUS_WORDS.get(status, status),
            )
        ]

    # ------------------------------------------------------------------ webhooks
    def parse_webhook(self, *, path_kind: str, headers: Mapping, body: bytes) -> list:
        data = self._webhook_json(body)
        out: list[DeliveryEvent | InboundEvent] = []
        for rec in self._records(data, "BSG callback"):
            if "status" in rec:
                out.append(self._status_event(rec))
            elif "postback" in rec or "time_click" in rec:
                msisdn = rec.get("msisdn")
                if not msisdn:
                    raise WebhookRejected("BSG click callback without msisdn", 400)
                out.append(
                    InboundEvent(
                        kind=InboundKind.ACTION,  # BSG only has link / call buttons
                        phone=e164(str(msisdn)),
                        text=str(rec.get("text") or ""),
                        postback_data=str(rec.get("postback") or ""),
                        in_reply_to_message_id=str(rec.get("id") or ""),
                        in_reply_to_reference_id=str(rec.get("reference") or ""),
                        occurred_at=parse_provider_time(rec.get("time_click"), KYIV),
                        raw=rec,
                    )
                )
            else:
                raise WebhookRejected("BSG callback is neither a status nor a click", 400)
        return out

    def _status_event(self, rec: dict, *, reference_id: str = "", phone: str = "") -> DeliveryEvent:
        status = rec.get("status")
        if not isinstance(status, str):
            raise WebhookRejected("BSG status callback without a status", 400)
        if not (rec.get("id") or rec.get("reference")) and not reference_id:
            raise WebhookRejected("BSG status callback without id or reference", 400)
        s = status.lower()
        etype = STATUS_MAP.get(s, EventType.UNKNOWN)
        fallback = ""
        if str(rec.get("channel", "")).lower() == "sms":  # ASSUMED extension
            etype = FALLBACK_EVENT[etype]
            fallback = "sms"
        err = rec.get("error")
        desc = str(rec.get("errorDescription") or "")
        failed = etype in (EventType.FAILED, EventType.EXPIRED, EventType.FALLBACK_FAILED)
        error_text = ""
        if failed:
            error_text = STATUS_WORDS.get(s, s)
            if desc and desc.lower() != "no errors":
                error_text = f"{error_text}: {desc}"
        # stop-list signal: the text says so (ASSUMED; BSG has no dedicated code)
        opted_out = "stop" in desc.lower() and "list" in desc.lower()
        when = rec.get("time_dr") or rec.get("time_sent") or rec.get("time_in")
        when = when or rec.get("delivered_at") or rec.get("sent_at") or rec.get("created_at")
        amount = rec.get("amount") if isinstance(rec.get("amount"), dict) else {}
        return DeliveryEvent(
            type=etype,
            provider_message_id=str(rec.get("id") or ""),
            reference_id=str(rec.get("reference") or rec.get("reference_id") or reference_id),
            phone=e164(str(rec.get("msisdn") or rec.get("phone") or ""))
            if (rec.get("msisdn") or rec.get("phone"))
            else phone,
            occurred_at=parse_provider_time(when, KYIV),
            error_code=str(err) if err not in (None, 0, "0", "") else "",
            error_text=error_text,
            cost=to_decimal(rec.get("price", amount.get("value"))),
            currency=str(rec.get("currency") or amount.get("currency") or ""),
            fallback_channel=fallback,
            opted_out=opted_out,
            raw=rec,
        )

    # ------------------------------------------------------------------ status
    def fetch_status(self, queries: list[StatusQuery]) -> list[DeliveryEvent]:
        events: list[DeliveryEvent] = []
        for q in queries:
            params = (
                {"filter[reference_id]": q.reference_id}
                if q.reference_id
                else {"filter[id]": q.provider_message_id}
            )
            req = WireRequest(
                method="GET",
                url=self.url("/api/messages"),
                headers={},
                json=None,
                params=params,
                recipients=[Recipient(q.phone, q.reference_id)],
                kind="status",
            )
            resp = self._http(req)
            self._raise_for_transient(resp.status_code, resp.headers, resp.content)
            data = decode_json(resp.content)
            if resp.status_code >= 400 or not isinstance(data, dict):
                raise self._error(data if isinstance(data, dict) else {}, resp.status_code)
            for item in data.get("data") or []:
                if not isinstance(item, dict) or not isinstance(item.get("status"), str):
                    continue
                events.append(self._status_event(item, reference_id=q.reference_id, phone=q.phone))
                alt = item.get("alternative_channels")
                sms = alt.get("sms") if isinstance(alt, dict) else None
                if isinstance(sms, dict) and isinstance(sms.get("status"), str):
                    sub = dict(sms, channel="sms", id=item.get("id"))
                    ev = self._status_event(sub, reference_id=q.reference_id, phone=q.phone)
                    ev.reference_id = q.reference_id
                    events.append(ev)
        return events
