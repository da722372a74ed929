"""Aerialink / Convey (seed 003): POST /v5/messages, HTTP Basic, one destination per request.

Errors: 400 ``{"status": "error", "message": "Missing or invalid parameters in body",
"data": [{"field": "cards.1.choices.0.url", "description": "url", "message": "..."}]}``;
401 ``{"status": "error", "message": "Unauthorized", "data": []}``.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid

from .base import BadBody, Request, Result, is_iso8601, is_number, is_str, is_url
from .callbacks import Job, build_plan
from .state import Message, Recipient, iso_z

NAME = "aerialink"
TYPES = ("RCS_TEXT", "RCS_MEDIA", "RCS_CARD", "RCS_CAROUSEL")
CHOICE_TYPES = (
    "REPLY",
    "OPEN_URL",
    "DIAL_PHONE",
    "SHOW_LOCATION",
    "REQUEST_LOCATION",
    "CREATE_CALENDAR_EVENT",
)
HEIGHTS = ("SHORT", "MEDIUM", "TALL")
DEST_RE = re.compile(r"\+?[1-9]\d{9,14}")
PHONE_LIKE = re.compile(r"\+?\d{5,15}")
DESCRIPTIONS = {"messageText": "Message Text", "messageType": "Message Type"}
STATUS = {
    "sent": "SUCCESS",
    "delivered": "DELIVERED",
    "read": "READ",
    "failed": "FAIL",
    "not_rcs": "FAIL",
    "expired": "EXPIRED",
}
REASONS = {"failed": (301, "Undeliverable"), "not_rcs": (302, "Destination is not RCS capable")}


def unauthorized() -> Result:
    return Result(
        401,
        {"status": "error", "message": "Unauthorized", "data": []},
        headers={"WWW-Authenticate": 'Basic realm="aerialink"'},
        reason="Unauthorized",
    )


def bad_request(data: list[dict]) -> Result:
    body = {"status": "error", "message": "Missing or invalid parameters in body", "data": data}
    return Result(400, body, reason="; ".join(d["message"] for d in data[:3]))


class Errors(list):
    def add(self, field: str, message: str) -> None:
        desc = DESCRIPTIONS.get(field, field.rsplit(".", 1)[-1])
        self.append({"field": field, "description": desc, "message": message})

    def required(self, field: str) -> None:
        self.add(field, f"'{field.rsplit('.', 1)[-1]}' is required")


class Aerialink:
    name = NAME

    def __init__(self, sandbox):
        self.sb = sandbox

    @property
    def state(self):
        return self.sb.state

    def routes(self):
        return {("POST", "/v5/messages"): (self.send, "rcs")}

    def bad_body(self, req: Request, exc: BadBody) -> Result:
        return Result(
            400,
            {"status": "error", "message": "Invalid JSON body", "data": []},
            reason="malformed JSON",
        )

    def _auth(self, req: Request) -> str | None:
        auth = req.headers.get("Authorization") or ""
        if not auth.lower().startswith("basic "):
            return None
        try:
            user, _, pw = base64.b64decode(auth[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        if self.sb.credentials[NAME]["users"].get(user) == pw and user:
            return user
        return None

    def send(self, req: Request) -> Result:
        account = self._auth(req)
        if account is None:
            return unauthorized()
        body = req.json()
        if not isinstance(body, dict):
            errs = Errors()
            errs.add("body", "Body must be a JSON object")
            return bad_request(errs)
        errs = Errors()
        tap = validate(body, errs, self.sb.credentials[NAME]["sources"])
        if errs:
            return bad_request(errs)
        guid = str(uuid.uuid4())
        dest = body["destination"]
        msg = Message(NAME, guid, account, "rcs", {}, body)
        msg.callback_url = body.get("callbackURL") or ""
        for key, chan in (("smsFailover", "sms"), ("mmsFailover", "mms")):
            fo = body.get(key)
            if isinstance(fo, dict) and fo.get("enabled") is True:
                msg.fallback = chan
        msg.tap = tap
        outcome = self.state.outcome_for(dest)
        rec = Recipient(dest, outcome)
        msg.recipients[dest] = rec
        self.state.add_message(msg)
        job = Job(self, msg, rec, build_plan(outcome, msg.fallback, tap is not None, "rcs"))
        resp = {
            "status": "success",
            "message": "Message successfully queued",
            "data": {"results": [{"messageGUID": guid, "destination": dest, "status": "success"}]},
        }
        return Result(
            200, resp, accepted=True, recipients=[dest], ids=[guid], jobs=[job], account=account
        )

    def render_callback(self, step, msg: Message, rec: Recipient, state) -> list:
        kind, what, channel = step
        url = msg.callback_url or state.panel_url(NAME, msg.account, "dlr_url")
        if kind == "status":
            code, text = REASONS.get(what, (None, None))
            body = {
                "messageGUID": msg.id,
                "destination": rec.phone,
                "source": msg.body.get("source"),
                "status": STATUS[what],
                "channel": channel.upper(),
                "timestamp": iso_z(),
                "reasonCode": code,
                "reasonText": text,
            }
            return [(url, body)]
        reply_url = state.panel_url(NAME, msg.account, "reply_url") or url
        n = state.next_counter("aerialink.mo", 0)
        body = {
            "type": "POSTBACK" if what == "tap" else "MO",
            "messageGUID": str(uuid.UUID(int=(n << 64) | 0x5A4D0000)),
            "source": rec.phone,
            "destination": msg.body.get("source"),
            "messageText": (
                msg.tap[0]
                if what == "tap"
                else state.stop_text
                if what == "stop"
                else state.reply_text
            ),
            "postbackData": msg.tap[1] if what == "tap" else None,
            "inReplyToGUID": msg.id,
            "timestamp": iso_z(),
        }
        return [(reply_url, body)]


# -- validation ------------------------------------------------------------------------------


def _req_str(obj: dict, key: str, path: str, errs: Errors, max_len: int | None = None) -> bool:
    v = obj.get(key)
    if v is None or v == "":
        errs.required(path)
        return False
    if not is_str(v):
        errs.add(path, f"'{key}' must be a string")
        return False
    if max_len is not None and len(v) > max_len:
        errs.add(path, f"'{key}' must be at most {max_len} characters")
        return False
    return True


def _opt_str(obj: dict, key: str, path: str, errs: Errors, max_len: int) -> None:
    if obj.get(key) is not None:
        _req_str(obj, key, path, errs, max_len)


def _uri(obj: dict, key: str, path: str, errs: Errors, required: bool = True) -> None:
    v = obj.get(key)
    if v is None or v == "":
        if required:
            errs.required(path)
        return
    if not is_url(v, 2048):
        errs.add(path, f"'{key}' must be a valid URI")


def validate_choice(c, path: str, errs: Errors) -> tuple | None:
    if not isinstance(c, dict):
        errs.add(path, "Choice must be an object")
        return None
    t = c.get("type")
    if t is None:
        errs.required(f"{path}.type")
    elif t not in CHOICE_TYPES:
        errs.add(f"{path}.type", f"'type' must be one of {', '.join(CHOICE_TYPES)}")
    ok_title = _req_str(c, "title", f"{path}.title", errs, 25)
    ok_pb = _req_str(c, "postbackData", f"{path}.postbackData", errs, 2048)

    def need(key: str) -> bool:
        if c.get(key) is None or c.get(key) == "":
            errs.add(f"{path}.{key}", f"When choice type is {t}, '{key}' is required")
            return False
        return True

    if t == "OPEN_URL":
        if need("url") and not is_url(c["url"], 2048):
            errs.add(f"{path}.url", "'url' must be a valid URI of at most 2048 characters")
        if need("application") and c["application"] not in ("BROWSER", "WEBVIEW"):
            errs.add(f"{path}.application", "'application' must be BROWSER or WEBVIEW")
        if need("webviewViewMode") and c["webviewViewMode"] not in ("FULL", "HALF", "TALL"):
            errs.add(f"{path}.webviewViewMode", "'webviewViewMode' must be FULL, HALF or TALL")
    elif t == "DIAL_PHONE":
        if need("phoneNumber") and (not is_str(c["phoneNumber"]) or len(c["phoneNumber"]) > 20):
            errs.add(
                f"{path}.phoneNumber", "'phoneNumber' must be a string of at most 20 characters"
            )
    elif t == "SHOW_LOCATION":
        for key, lim in (("latitude", 90), ("longitude", 180)):
            if need(key) and (not is_number(c[key]) or not -lim <= c[key] <= lim):
                errs.add(f"{path}.{key}", f"'{key}' must be a number between -{lim} and {lim}")
        _opt_str(c, "label", f"{path}.label", errs, 100)
    elif t == "CREATE_CALENDAR_EVENT":
        for key in ("startTime", "endTime"):
            if need(key) and not is_iso8601(c[key]):
                errs.add(f"{path}.{key}", f"'{key}' must be an ISO 8601 date string")
        if need("eventTitle") and (not is_str(c["eventTitle"]) or len(c["eventTitle"]) > 100):
            errs.add(f"{path}.eventTitle", "'eventTitle' must be at most 100 characters")
        _opt_str(c, "description", f"{path}.description", errs, 500)
    if ok_title and ok_pb:
        return (c["title"], c["postbackData"])
    return None


def validate_choices(choices, path: str, errs: Errors, max_n: int | None) -> tuple | None:
    if choices is None:
        return None
    if not isinstance(choices, list):
        errs.add(path, "'choices' must be an array")
        return None
    if max_n is not None and len(choices) > max_n:
        errs.add(path, f"'choices' must contain at most {max_n} items")
    first = None
    for i, c in enumerate(choices):
        got = validate_choice(c, f"{path}.{i}", errs)
        first = first or got
    return first


def validate_card(card: dict, prefix: str, errs: Errors) -> tuple | None:
    p = f"{prefix}." if prefix else ""
    _req_str(card, "title", f"{p}title", errs, 100)
    _req_str(card, "description", f"{p}description", errs, 500)
    h = card.get("height")
    if h is None:
        errs.required(f"{p}height")
    elif h not in HEIGHTS:
        errs.add(f"{p}height", "'height' must be SHORT, MEDIUM or TALL")
    _uri(card, "mediaUrl", f"{p}mediaUrl", errs)
    _uri(card, "thumbnailUrl", f"{p}thumbnailUrl", errs, required=False)
    _opt_str(card, "filenameOverride", f"{p}filenameOverride", errs, 100)
    return validate_choices(card.get("choices"), f"{p}choices", errs, 4)


def validate_failover(fo, key: str, errs: Errors, mms: bool) -> None:
    if not isinstance(fo, dict):
        errs.add(key, f"'{key}' must be an object")
        return
    en = fo.get("enabled")
    if en is None:
        errs.required(f"{key}.enabled")
        return
    if not isinstance(en, bool):
        errs.add(f"{key}.enabled", "'enabled' must be a boolean")
        return
    if not en:
        return
    _req_str(fo, "failoverSource", f"{key}.failoverSource", errs, 50)
    _req_str(fo, "fallbackText", f"{key}.fallbackText", errs, 160)
    if mms:
        _uri(fo, "mediaUrl", f"{key}.mediaUrl", errs)
        _req_str(fo, "subject", f"{key}.subject", errs, 100)


def validate(body: dict, errs: Errors, sources) -> tuple | None:
    mt = body.get("messageType")
    if mt is None or mt == "":
        errs.required("messageType")
    elif mt not in TYPES:
        errs.add("messageType", f"'messageType' must be one of {', '.join(TYPES)}")
    if _req_str(body, "source", "source", errs):
        src = body["source"]
        if PHONE_LIKE.fullmatch(src):
            errs.add(
                "source", "RCS is not available for phone numbers; 'source' must be an RCS sender"
            )
        elif src not in sources:
            errs.add("source", f"'source' {src!r} is not an RCS sender on this connection")
    if _req_str(body, "destination", "destination", errs) and not DEST_RE.fullmatch(
        body["destination"]
    ):
        errs.add("destination", "'destination' must be a phone number (10-15 digits)")
    _uri(body, "callbackURL", "callbackURL", errs, required=False)
    first = None
    if mt == "RCS_TEXT":
        _req_str(body, "messageText", "messageText", errs)
        first = validate_choices(body.get("choices"), "choices", errs, None)
    elif mt == "RCS_MEDIA":
        _uri(body, "mediaUrl", "mediaUrl", errs)
        _uri(body, "thumbnailUrl", "thumbnailUrl", errs)
        _req_str(body, "filenameOverride", "filenameOverride", errs, 100)
        first = validate_choices(body.get("choices"), "choices", errs, None)
    elif mt == "RCS_CARD":
        first = validate_card(body, "", errs)
    elif mt == "RCS_CAROUSEL":
        cards = body.get("cards")
        if cards is None:
            errs.required("cards")
        elif not isinstance(cards, list) or not 2 <= len(cards) <= 10:
            errs.add("cards", "'cards' must be an array of 2 to 10 cards")
        else:
            for i, card in enumerate(cards):
                if not isinstance(card, dict):
                    errs.add(f"cards.{i}", "Card must be an object")
                    continue
                got = validate_card(card, f"cards.{i}", errs)
                first = first or got
    sms, mms = body.get("smsFailover"), body.get("mmsFailover")
    if sms is not None:
        if mt in ("RCS_MEDIA", "RCS_CARD", "RCS_CAROUSEL"):
            errs.add("smsFailover", f"'smsFailover' is not allowed for {mt}; use 'mmsFailover'")
        else:
            validate_failover(sms, "smsFailover", errs, mms=False)
    if mms is not None:
        if mt == "RCS_TEXT":
            errs.add("mmsFailover", "'mmsFailover' is not allowed for RCS_TEXT; use 'smsFailover'")
        else:
            validate_failover(mms, "mmsFailover", errs, mms=True)
    return first
