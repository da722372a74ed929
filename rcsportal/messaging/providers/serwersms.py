"""SerwerSMS.pl (Poland): HTTPS API v2 ``messages/send_rcs`` (seed 002).

Sources: seed 002, providers-notes.md section 3 (base URL, ``.json`` action paths, Bearer
token, reports), wire-assumptions.md (report vocabulary, reports.json, error HTTP status).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from rcsportal.messaging.events import DeliveryEvent, EventType, InboundEvent, InboundKind
from rcsportal.messaging.exceptions import ProviderRejected, Unsupported, WebhookRejected
from rcsportal.messaging.message import CardContent, ContentInfo, Message, Suggestion

from .base import (
    RICH_CARD_MEDIA_TYPES,
    BaseProvider,
    Capabilities,
    Recipient,
    StatusQuery,
    SubmitResult,
    WireRequest,
    basename_of,
    batched,
    e164,
    local_wall_time,
    message_kind,
    parse_provider_time,
    same_phone,
    suggestion_type,
    to_decimal,
)

WARSAW = "Europe/Warsaw"
SOURCE_IP = "94.152.153.158"  # seed 002 "The notification is sent from the IP address ..."

# seed 002 "Error messages" + notes 3.5 (general codes)
ERROR_TEXTS = {
    "6300": "You do not have permission to send RCS messages",
    "6301": "Invalid RCS bot id, or the bot configuration is inactive",
    "6302": "The message structure is incorrect",
    "6303": "Required parameters are missing",
    "6304": "This server's IP address is not allowed",
    "6306": "Invalid phone number",
    "6307": "Empty message structure",
    "6308": "The message type (text, audio, file, richcard) is not set",
    "6309": "The suggestion structure is incorrect",
    "6310": "The message body is empty",
    "6311": "The audio message is invalid or lacks name/file",
    "6312": "The file message is incorrect or lacks name, url, mime or size",
    "6313": "The rich card is invalid or lacks title, description or media",
    "6314": "The map (location) structure is invalid",
    "6315": "General SerwerSMS error",
    "6317": "The recipient's network is not supported",
    "1000": "Invalid API action",
    "1001": "Invalid SerwerSMS username or password",
    "1002": "The account has no API permission",
    "1003": "This server's IP address is not allowed",
    "1004": "Invalid id",
    "1005": "No permission",
    "1006": "Invalid data format",
    "1007": "The SerwerSMS account is not fully active",
    "1008": "No permission to view numbers",
    "2000": "Required parameters are missing",
    "2001": "Invalid phone number",
}

# wire-assumptions.md: report status sent | delivered | displayed | undelivered | expired
# (only "displayed" is in seed 002); reports.json statuses from notes 3.4.
STATUS_MAP = {
    "queued": EventType.ACCEPTED,
    "saved": EventType.ACCEPTED,
    "in_progress": EventType.ACCEPTED,
    "pending": EventType.SENT,
    "sent": EventType.SENT,
    "delivered": EventType.DELIVERED,
    "displayed": EventType.READ,
    "read": EventType.READ,
    "undelivered": EventType.FAILED,
    "unsent": EventType.FAILED,
    "failed": EventType.FAILED,
    "expired": EventType.EXPIRED,
}
OPT_OUT_REASONS = {"number_is_blacklisted"}  # notes 3.4 reports "reason"


def b64text(value) -> str:
    if not isinstance(value, str):
        raise WebhookRejected("SerwerSMS callback 'text' must be a base64 string", 400)
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise WebhookRejected("SerwerSMS callback 'text' is not valid base64 text", 400) from exc


class SerwerSmsProvider(BaseProvider):
    key = "serwersms"
    display_name = "SerwerSMS.pl"
    default_base_url = "https://api2.serwersms.pl"  # notes 3.1
    provider_timezone = WARSAW
    capabilities = Capabilities(
        kinds=frozenset({"text", "file", "card", "carousel"}),  # seed 002 structures 1-4
        # seed 002: reply + action url/dial/map/calendar
        suggestion_types=frozenset(
            {"reply", "open_url", "dial", "view_location", "create_calendar_event"}
        ),
        max_suggestions_per_card=4,  # not stated: RBM 4 (ASSUMED)
        # message-level "suggestions" on every structure; count not stated: RBM 11 (ASSUMED)
        max_suggestions_per_message={"text": 11, "file": 11, "card": 11, "carousel": 11},
        max_recipients_per_request=50,  # seed 002 "Recommended settings": packs of ~50
        max_text_length=3072,  # not stated: RBM 3072 (ASSUMED)
        max_card_title=200,  # not stated: RBM 200 (ASSUMED)
        max_card_description=2000,  # not stated: RBM 2000 (ASSUMED)
        max_suggestion_text=25,  # seed 002 "The maximum number of characters ... is 25"
        max_postback=2048,  # not stated: RBM (ASSUMED)
        min_carousel_cards=2,  # single vs carousel decided by array length (ASSUMED)
        max_carousel_cards=10,  # not stated: RBM (ASSUMED)
        card_orientation=True,  # seed 002 layout.cardOrientation
        card_width=True,  # seed 002 carousel "cardWidth"
        media_height=True,  # seed 002 media.height
        requires_media_metadata=True,  # seed 002 "'url', 'size' and 'type' elements are required"
        scheduling="date (Europe/Warsaw wall time)",  # seed 002 "date"
        fallback_kinds=frozenset(),  # seed 002 has no failover field
        status_api=True,  # messages/reports (notes 3.4; RCS in reports ASSUMED)
        reference_id_on_wire=True,  # seed 002 unique_id
        webhook_source_ips=(SOURCE_IP,),
        thumbnails=True,  # seed 002 media.thumbnail (+ size/type)
        open_url_options=False,  # action "url" has only "to"
        location_query=False,  # "to": "label|lat|long"
        calendar_description=False,  # "to": "start|end|title"
        card_required_fields=frozenset({"title", "description", "media"}),  # error 6313
        card_media_types=RICH_CARD_MEDIA_TYPES,  # seed 002 media table
        webhook_path_kinds=("",),  # one bot-level webhook URL, JSON array of typed events
        idempotency="unique_id",
    )

    # ------------------------------------------------------------------ check extras
    def _suggestion_problem(self, s: Suggestion, t: str) -> str:
        why = super()._suggestion_problem(s, t)
        if why:
            return why
        a = s.action
        if t == "view_location" and "|" in (a.view_location_action.label or ""):
            return "SerwerSMS separates location fields with '|': the label cannot contain '|'"
        if t == "create_calendar_event" and "|" in a.create_calendar_event_action.title:
            return "SerwerSMS separates calendar fields with '|': the title cannot contain '|'"
        return ""

    def _check_extra(self, message: Message, kind: str) -> list[Unsupported]:
        out = []
        rc = message.rich_card
        if rc is not None and rc.standalone_card is not None:
            sc = rc.standalone_card
            if sc.thumbnail_image_alignment and sc.card_orientation != "HORIZONTAL":
                out.append(
                    Unsupported(
                        "richCard.standaloneCard.thumbnailImageAlignment",
                        "An image alignment only applies to horizontal cards",
                        self._offer("vertical"),
                    )
                )
        return out

    # ------------------------------------------------------------------ render
    def _auth_body(self) -> dict:
        if self.credential("api_token"):
            return {}
        return {"username": self.credential("username"), "password": self.credential("password")}

    def _auth_headers(self, request: WireRequest) -> dict:
        token = self.credential("api_token")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _suggestion(self, s: Suggestion) -> dict:
        if s.reply is not None:
            return {"reply": {"text": s.reply.text, "postback": s.reply.postback_data}}
        a = s.action
        t = suggestion_type(s)
        if t == "open_url":
            action, to = "url", a.open_url_action.url
        elif t == "dial":
            action, to = "dial", a.dial_action.phone_number
        elif t == "view_location":
            loc = a.view_location_action
            action = "map"
            to = f"{loc.label}|{loc.lat_long.latitude}|{loc.lat_long.longitude}"
        else:
            cal = a.create_calendar_event_action
            action = "calendar"
            # seed: "2022-04-05 09:00:00|2022-04-05-10:00:00|Wydarzenie" (stray hyphen is a typo;
            # we send the first form for both times, Warsaw wall time: ASSUMED)
            to = "|".join(
                (
                    local_wall_time(cal.start_time, WARSAW),
                    local_wall_time(cal.end_time, WARSAW),
                    cal.title,
                )
            )
        return {"action": {"text": a.text, "postback": a.postback_data, "action": action, "to": to}}

    @staticmethod
    def _media(ci: ContentInfo, height: str = "") -> dict:
        m: dict = {"url": ci.file_url, "size": ci.file_size_bytes, "type": ci.mime_type}
        if ci.thumbnail_url:
            m["thumbnail"] = ci.thumbnail_url
            m["thumbnailSize"] = ci.thumbnail_file_size_bytes
            m["thumbnailType"] = ci.thumbnail_mime_type
        if height:
            m["height"] = height
        return m

    def _card(self, card: CardContent) -> dict:
        return {
            "title": card.title,
            "description": card.description,
            "media": self._media(card.media.content_info, card.media.height),
            "suggestions": [self._suggestion(s) for s in card.suggestions],
        }

    def message_body(self, message: Message) -> dict:
        kind = message_kind(message)
        body: dict = {}
        if kind == "text":
            body["text"] = message.text
        elif kind == "file":
            ci = message.content_info
            body["file"] = {
                # name required (error 6312); derived from the URL when missing (ASSUMED)
                "name": ci.file_name or basename_of(ci.file_url) or "file",
                "url": ci.file_url,
                "type": ci.mime_type,
                "size": ci.file_size_bytes,
            }
        elif kind == "card":
            sc = message.rich_card.standalone_card
            card = self._card(sc.card_content)
            layout: dict = {}
            if sc.card_orientation == "HORIZONTAL" and sc.thumbnail_image_alignment:
                layout["imageAlignment"] = sc.thumbnail_image_alignment
            layout["cardOrientation"] = sc.card_orientation or "VERTICAL"
            card["layout"] = layout
            body["richcard"] = [card]
        else:
            cc = message.rich_card.carousel_card
            body["richcard"] = [self._card(c) for c in cc.card_contents]
            body["cardWidth"] = cc.card_width or "MEDIUM"
        body["suggestions"] = [self._suggestion(s) for s in message.suggestions]
        return body

    def _render_batch(self, message, batch, schedule_at) -> WireRequest:
        body: dict = self._auth_body()
        body["rcs_id"] = self.config.sender_id or self.credential("rcs_id")
        body["phone"] = [r.phone for r in batch]  # always a list, aligned with unique_id
        body["message"] = self.message_body(message)
        body["details"] = True  # so that items[].id comes back
        body["unique_id"] = [r.reference_id for r in batch]
        if schedule_at is not None:
            if schedule_at.tzinfo is None:
                raise ValueError("schedule_at must be timezone-aware")
            body["date"] = schedule_at.astimezone(ZoneInfo(WARSAW)).strftime("%Y-%m-%d %H:%M:%S")
        return WireRequest(
            method="POST",
            url=self.url("/messages/send_rcs.json"),
            headers={"Content-Type": "application/json"},
            json=body,
            params=None,
            recipients=list(batch),
            kind="rcs",
        )

    # ------------------------------------------------------------------ responses
    def _error(self, data: dict, status_code: int) -> ProviderRejected:
        err = data.get("error") or {}
        code = str(err.get("code", f"http_{status_code}"))
        text = ERROR_TEXTS.get(code) or str(err.get("message") or "SerwerSMS refused the request")
        details = []
        if err.get("message") and err.get("message") != text:
            details.append((str(err.get("type", "")), str(err["message"])))
        return ProviderRejected(text, code=code, http_status=status_code, details=details, raw=data)

    def _parse_response(self, request, status_code, headers, body) -> list[SubmitResult]:
        data = self._json_or_reject(status_code, body)
        if isinstance(data.get("error"), dict):
            raise self._error(data, status_code)
        if status_code >= 400 or data.get("success") is not True:
            raise ProviderRejected(
                f"SerwerSMS refused the request (HTTP {status_code})",
                code=f"http_{status_code}",
                http_status=status_code,
                raw=data,
            )
        items = [i for i in (data.get("items") or []) if isinstance(i, dict)]
        results = []
        for idx, r in enumerate(request.recipients):
            item = None
            for cand in items:
                if cand.get("unique_id") == r.reference_id or same_phone(
                    str(cand.get("phone", "")), r.phone
                ):
                    item = cand
                    break
            if item is None and len(items) == len(request.recipients):
                item = items[idx]
            if item is not None:
                items.remove(item)
            if item is None:
                # no details for this number: counted as queued only if nothing was unsent
                ok = not data.get("unsent")
                results.append(
                    SubmitResult(
                        reference_id=r.reference_id,
                        phone=r.phone,
                        accepted=ok,
                        error_code="" if ok else "unsent",
                        error_text="" if ok else "SerwerSMS did not queue this number",
                    )
                )
                continue
            status = str(item.get("status", "queued")).lower()
            ok = status != "unsent"
            code = str(item.get("error_code", "") or ("unsent" if not ok else ""))
            results.append(
                SubmitResult(
                    reference_id=r.reference_id,
                    phone=r.phone,
                    accepted=ok,
                    provider_message_id=str(item.get("id", "") or ""),
                    error_code="" if ok else code,
                    error_text=""
                    if ok
                    else str(
                        item.get("error_message")
                        or ERROR_TEXTS.get(code)
                        or "SerwerSMS did not queue this number"
                    ),
                )
            )
        return results

    # ------------------------------------------------------------------ webhooks
    def parse_webhook(self, *, path_kind: str, headers: Mapping, body: bytes) -> list:
        data = self._webhook_json(body)
        if not isinstance(data, list):
            raise WebhookRejected("SerwerSMS notifications are a JSON array", 400)
        out: list[DeliveryEvent | InboundEvent] = []
        for rec in self._records(data, "SerwerSMS notification"):
            typ = rec.get("type")
            phone = rec.get("phone")
            if not isinstance(phone, str) or not phone:
                raise WebhookRejected("SerwerSMS notification without a phone", 400)
            when = parse_provider_time(rec.get("date"), WARSAW)
            if typ == "report":
                status = rec.get("status")
                if not isinstance(status, str) or not rec.get("smsid"):
                    raise WebhookRejected("SerwerSMS report needs status and smsid", 400)
                etype = STATUS_MAP.get(status.lower(), EventType.UNKNOWN)
                out.append(
                    DeliveryEvent(
                        type=etype,
                        provider_message_id=str(rec["smsid"]),
                        phone=e164(phone, "48"),
                        occurred_at=when,
                        error_text=status if etype == EventType.FAILED else "",
                        raw=rec,
                    )
                )
            elif typ in ("reply", "action", "message"):
                kind = {
                    "reply": InboundKind.REPLY,
                    "action": InboundKind.ACTION,
                    "message": InboundKind.TEXT,
                }[typ]
                out.append(
                    InboundEvent(
                        kind=kind,
                        phone=e164(phone, "48"),
                        text=b64text(rec.get("text", "")),
                        postback_data=str(rec.get("data") or "") if typ != "message" else "",
                        provider_message_id=str(rec.get("msgid") or ""),
                        occurred_at=when,
                        raw=rec,
                    )
                )
            else:
                raise WebhookRejected(f"Unknown SerwerSMS notification type {typ!r}", 400)
        return out

    # ------------------------------------------------------------------ status
    def fetch_status(self, queries: list[StatusQuery]) -> list[DeliveryEvent]:
        events: list[DeliveryEvent] = []
        for batch in batched(list(queries), 500):  # notes 3.4: id filter <= 500
            body = self._auth_body()
            body["unique_id"] = [q.reference_id for q in batch]
            req = WireRequest(
                method="POST",
                url=self.url("/messages/reports.json"),
                headers={"Content-Type": "application/json"},
                json=body,
                params=None,
                recipients=[Recipient(q.phone, q.reference_id) for q in batch],
                kind="status",
            )
            resp = self._http(req)
            self._raise_for_transient(resp.status_code, resp.headers, resp.content)
            data = self._json_or_reject(resp.status_code, resp.content)
            if isinstance(data.get("error"), dict):
                raise self._error(data, resp.status_code)
            by_ref = {q.reference_id: q for q in batch}
            for it in data.get("items") or []:
                if not isinstance(it, dict):
                    continue
                q = by_ref.get(str(it.get("unique_id", "")))
                if q is None:
                    q = next(
                        (q for q in batch if same_phone(q.phone, str(it.get("phone", "")))),
                        None,
                    )
                if q is None:
                    continue
                status = str(it.get("status", "")).lower()
                etype = STATUS_MAP.get(status, EventType.UNKNOWN)
                reason = str(it.get("reason") or "")
                stamp = it.get("delivered") or it.get("sent") or it.get("queued")
                events.append(
                    DeliveryEvent(
                        type=etype,
                        provider_message_id=str(it.get("id", "") or ""),
                        reference_id=q.reference_id,
                        phone=q.phone,
                        occurred_at=parse_provider_time(stamp, WARSAW),
                        error_code=reason if etype == EventType.FAILED else "",
                        error_text=reason.replace("_", " ") if etype == EventType.FAILED else "",
                        cost=to_decimal(it.get("cost")),
                        opted_out=reason in OPT_OUT_REASONS,
                        raw=it,
                    )
                )
        return events
