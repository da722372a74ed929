"""SMS Partner (seeds 000 RCS, 004 SMS): /v1/rcs/send, /v1/send, /v1/multi-status,
/v1/message-status, /v1/bulk-status.

Errors are HTTP 200 ``{"success": false, "code": N, ...}`` except malformed JSON (HTTP 400,
code 90). Validation errors are code 9 with Symfony-form style ``elementId`` paths, nested as
``children[richContent].children[conversation].children[text].data``.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from .base import BadBody, Request, Result, as_int, is_datetime, is_number, is_str, is_url
from .callbacks import Job, build_plan
from .state import Message, Recipient, now_str

NAME = "smspartner"
MAX_NUMBERS = 500
RCS_COST, SMS_COST = 0.12, 0.038
FR_NATIONAL = re.compile(r"0[1-9]\d{8}")
INTERNATIONAL = re.compile(r"\+[1-9]\d{7,14}")
SENDER_RE = re.compile(r"[A-Za-z0-9 ]+")
TAG_RE = re.compile(r"[a-z0-9_\-]{1,20}")
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXT = set("^{}\\[~]|€")

STATUT = {
    "accepted": "Waiting",
    "sent": "Waiting",
    "delivered": "Delivered",
    "read": "Read",
    "failed": "Not delivered",
    "not_rcs": "Not delivered",
    "expired": "Expired",
}


def eid(*path) -> str:
    return ".".join(f"children[{p}]" for p in path) + ".data"


def fail(code: int, message: str, http: int = 200) -> Result:
    return Result(http, {"success": False, "code": code, "message": message}, reason=message)


def fail9(errors: list[tuple[str, str]]) -> Result:
    body = {
        "success": False,
        "code": 9,
        "errors": [{"elementId": e, "message": m} for e, m in errors],
    }
    return Result(200, body, reason="; ".join(m for _, m in errors[:3]))


def normalize_phone(p: str) -> str | None:
    p = p.strip()
    if FR_NATIONAL.fullmatch(p):
        return "+33" + p[1:]
    if INTERNATIONAL.fullmatch(p):
        return p
    return None


class SmsPartner:
    name = NAME

    def __init__(self, sandbox):
        self.sb = sandbox

    @property
    def state(self):
        return self.sb.state

    def routes(self):
        return {
            ("POST", "/v1/rcs/send"): (self.rcs_send, "rcs"),
            ("POST", "/v1/send"): (self.sms_send, "sms"),
            ("POST", "/v1/multi-status"): (self.multi_status, "status"),
            ("GET", "/v1/multi-status"): (self.multi_status, "status"),
            ("GET", "/v1/message-status"): (self.message_status, "status"),
            ("GET", "/v1/bulk-status"): (self.bulk_status, "status"),
        }

    def bad_body(self, req: Request, exc: BadBody) -> Result:
        return fail(90, "Malformed JSON", http=400)

    # -- shared ---------------------------------------------------------------------
    def _body(self, req: Request) -> dict:
        if req.method == "GET":
            return dict(req.query)
        body = req.body()
        if not isinstance(body, dict):
            raise BadBody("body must be a JSON object")
        return body

    def _auth(self, body: dict) -> Result | None:
        key = body.get("apiKey")
        if key in (None, ""):
            return fail(1, "API Key is required")
        if key not in self.sb.credentials[NAME]["apiKeys"]:
            return fail(10, "Invalid API Key")
        return None

    def _phones(self, body: dict, errors: list) -> list[str] | Result:
        raw = body.get("phoneNumbers")
        if raw in (None, "", []):
            return fail(2, "Phone number is required")
        if isinstance(raw, str):
            items = [p for p in raw.split(",")]
        elif isinstance(raw, list):
            items = raw
        else:
            errors.append((eid("phoneNumbers"), "This value should be a list of phone numbers."))
            return []
        if len(items) > MAX_NUMBERS:
            return fail(50, f"Maximum {MAX_NUMBERS} numbers per request")
        phones, seen = [], set()
        for p in items:
            norm = normalize_phone(p) if isinstance(p, str) else None
            if norm is None:
                errors.append((eid("phoneNumbers"), f"This phone number is not valid ({p})"))
                continue
            if norm in seen:
                errors.append((eid("phoneNumbers"), f"Duplicate phone number ({p})"))
                continue
            seen.add(norm)
            phones.append(norm)
        return phones

    def _schedule(self, body: dict, errors: list) -> float | None:
        sdate = body.get("scheduledDeliveryDate")
        if sdate in (None, ""):
            return None
        try:
            d = datetime.strptime(str(sdate), "%d/%m/%Y").date()
        except ValueError:
            errors.append((eid("scheduledDeliveryDate"), f"The date ({sdate}) is not valid."))
            return None
        if d < date.today():
            errors.append(
                (
                    eid("scheduledDeliveryDate"),
                    f"The date ({sdate}) is earlier than the current date.",
                )
            )
        hour = as_int(body.get("time")) if body.get("time") not in (None, "") else None
        minute = as_int(body.get("minute")) if body.get("minute") not in (None, "") else None
        if body.get("time") in (None, ""):
            errors.append((eid("time"), "Hour is required"))
        elif hour is None or not 0 <= hour <= 24:
            errors.append((eid("time"), "Hour must be between 0 and 24"))
        if body.get("minute") in (None, ""):
            errors.append((eid("minute"), "Minute is required"))
        elif minute is None or not 0 <= minute <= 55 or minute % 5:
            errors.append((eid("minute"), "Minute must be between 0 and 55 in steps of 5"))
        if errors or hour is None or minute is None:
            return None
        dt = (
            datetime(d.year, d.month, d.day)
            if hour == 24
            else datetime(d.year, d.month, d.day, hour)
        )
        return dt.timestamp() + (86400 if hour == 24 else 0) + minute * 60

    def _credit(self, cost: float) -> Result | None:
        ps = self.state.provider_state.setdefault(NAME, {})
        credit = ps.get("credit", self.sb.config.get("smspartner_credit"))
        if credit is None:
            return None
        if credit < cost:
            return fail(11, "Insufficient credits")
        ps["credit"] = round(credit - cost, 6)
        return None

    def _flag(self, body: dict, key: str, errors: list, required: bool = False) -> int | None:
        v = body.get(key)
        if v in (None, ""):
            if required:
                errors.append((eid(key), f"{key} is required"))
            return None
        iv = as_int(v)
        if iv not in (0, 1):
            errors.append((eid(key), f"{key} must be 0 or 1"))
            return None
        return iv

    # -- RCS send -------------------------------------------------------------------
    def rcs_send(self, req: Request) -> Result:
        body = self._body(req)
        if r := self._auth(body):
            return r
        errors: list[tuple[str, str]] = []
        phones = self._phones(body, errors)
        if isinstance(phones, Result):
            return phones
        self._flag(body, "isUnicode", errors, required=True)
        not_before = self._schedule(body, errors)
        rc = body.get("richContent")
        tap = None
        if rc in (None, "", {}):
            errors.append((eid("richContent"), "richContent is required"))
        else:
            tap = validate_rich_content(rc, errors)
        fo = body.get("failover")
        if fo is not None:
            validate_failover(fo, errors)
        if errors:
            return fail9(errors)
        n = len(phones)
        if r := self._credit(RCS_COST * n):
            return r
        msg_id = self.state.next_counter("smspartner.message_id", 1000)
        msg = Message(NAME, str(msg_id), body["apiKey"], "rcs", {}, body)
        msg.fallback = "sms" if isinstance(fo, dict) else ""
        msg.tap = tap
        jobs = self._recipients(msg, phones, "rcs")
        self.state.add_message(msg)
        resp = {
            "success": True,
            "code": 200,
            "message_id": msg_id,
            "nb_rcs": n,
            "cost": round(RCS_COST * n, 4),
            "currency": "EUR",
        }
        return Result(
            200,
            resp,
            accepted=True,
            recipients=phones,
            ids=[msg_id],
            jobs=jobs,
            not_before=not_before,
            account=body["apiKey"],
        )

    def _recipients(self, msg: Message, phones: list[str], channel: str) -> list[Job]:
        jobs = []
        for p in phones:
            outcome = self.state.outcome_for(p)
            rec = Recipient(p, outcome)
            rec.channel = channel
            msg.recipients[p] = rec
            steps = build_plan(outcome, msg.fallback, msg.tap is not None, channel)
            jobs.append(Job(self, msg, rec, steps))
        return jobs

    # -- SMS send -------------------------------------------------------------------
    def sms_send(self, req: Request) -> Result:
        body = self._body(req)
        if r := self._auth(body):
            return r
        errors: list[tuple[str, str]] = []
        phones = self._phones(body, errors)
        if isinstance(phones, Result):
            return phones
        text = body.get("message")
        segments = 1
        unicode_ = self._flag(body, "isUnicode", errors) == 1
        if text in (None, ""):
            errors.append((eid("message"), "Message is required"))
        elif not is_str(text):
            errors.append((eid("message"), "Message must be a string"))
        else:
            segments = sms_segments(text, unicode_)
            if segments > 10:
                return fail(52, "Maximum 10 concatenated SMS")
        validate_sender(body.get("sender"), errors, ("sender",))
        tag = body.get("tag")
        if tag not in (None, "") and (not is_str(tag) or not TAG_RE.fullmatch(tag)):
            errors.append(
                (eid("tag"), "Tag must be at most 20 lowercase characters without spaces")
            )
        for key in ("urlDlr", "urlResponse"):
            if body.get(key) not in (None, "") and not is_url(body.get(key)):
                errors.append((eid(key), f"{key} is not a valid URL"))
        self._flag(body, "isStopSms", errors)
        sandbox_mode = self._flag(body, "sandbox", errors) == 1
        not_before = self._schedule(body, errors)
        if errors:
            return fail9(errors)
        n = len(phones)
        cost = 0.0 if sandbox_mode else round(SMS_COST * n * segments, 4)
        if r := self._credit(cost):
            return r
        msg_id = self.state.next_counter("smspartner.message_id", 1000)
        msg = Message(NAME, str(msg_id), body["apiKey"], "sms", {}, body)
        msg.extra = {
            "urlDlr": body.get("urlDlr") or "",
            "urlResponse": body.get("urlResponse") or "",
        }
        jobs = self._recipients(msg, phones, "sms")
        self.state.add_message(msg)
        if sandbox_mode:
            jobs = []  # sandbox=1: not sent, not charged
        resp = {
            "success": True,
            "code": 200,
            "message_id": msg_id,
            "nb_sms": n * segments,
            "cost": cost,
            "currency": "EUR",
        }
        return Result(
            200,
            resp,
            accepted=True,
            recipients=phones,
            ids=[msg_id],
            jobs=jobs,
            not_before=not_before,
            account=body["apiKey"],
        )

    # -- status ---------------------------------------------------------------------
    def _find(self, message_id, phone) -> Recipient | None:
        msg, _ = self.state.lookup(NAME, "id", str(message_id))
        if msg is None or not isinstance(phone, str):
            return None
        norm = normalize_phone(phone) or phone
        return msg.recipients.get(norm)

    def _stopped(self, phone: str) -> bool:
        return phone in self.state.provider_state.get(NAME, {}).get("stop", set())

    def message_status(self, req: Request) -> Result:
        body = self._body(req)
        if r := self._auth(body):
            return r
        mid, phone = body.get("messageId"), body.get("phoneNumber")
        if mid in (None, ""):
            return fail(3, "messageId is required")
        if phone in (None, ""):
            return fail(2, "Phone number is required")
        rec = self._find(mid, phone)
        if rec is None:
            return fail(4, "Message not found")
        cost = RCS_COST if rec.channel == "rcs" else SMS_COST
        resp = {
            "success": True,
            "code": 200,
            "number": phone,
            "messageId": str(mid),
            "stopSms": self._stopped(rec.phone),
            "date": now_str(rec.updated),
            "statut": STATUT.get(rec.status, "Waiting"),
            "cost": cost,
            "countryCode": "FR" if rec.phone.startswith("+33") else "",
            "currency": "EUR",
            "channel": rec.channel,
        }
        return Result(200, resp, accepted=True, recipients=[rec.phone], ids=[str(mid)])

    def multi_status(self, req: Request) -> Result:
        body = self._body(req)
        if r := self._auth(body):
            return r
        items = body.get("SMSStatut_List", body.get("SMSStatus_List"))
        if not isinstance(items, list) or not items:
            return fail9([(eid("SMSStatut_List"), "SMSStatut_List is required")])
        if len(items) > MAX_NUMBERS:
            return fail(50, f"Maximum {MAX_NUMBERS} numbers per request")
        out = []
        for it in items:
            it = it if isinstance(it, dict) else {}
            phone, mid = it.get("phoneNumber"), it.get("messageId")
            rec = self._find(mid, phone) if mid not in (None, "") else None
            if rec is None:
                out.append(
                    {
                        "success": False,
                        "code": 4,
                        "phoneNumber": phone,
                        "messageId": mid,
                        "status": "Numéro introuvable",
                    }
                )
                continue
            out.append(
                {
                    "success": True,
                    "code": 200,
                    "phoneNumber": phone,
                    "messageId": mid,
                    "status": STATUT.get(rec.status, "Waiting"),
                    "date": str(int(rec.updated)),
                    "stopSms": "1" if self._stopped(rec.phone) else "0",
                    "isSpam": "0",
                    "channel": rec.channel,
                }
            )
        return Result(
            200, {"success": True, "code": 200, "StatutResponse_List": out}, accepted=True
        )

    def bulk_status(self, req: Request) -> Result:
        body = self._body(req)
        if r := self._auth(body):
            return r
        mid = body.get("messageId")
        if mid in (None, ""):
            return fail(3, "messageId is required")
        msg, _ = self.state.lookup(NAME, "id", str(mid))
        if msg is None:
            return fail(4, "Message not found")
        out = [
            {
                "phoneNumber": r.phone,
                "status": STATUT.get(r.status, "Waiting"),
                "stopSMS": self._stopped(r.phone),
                "date": str(int(r.updated)),
                "channel": r.channel,
            }
            for r in list(msg.recipients.values())
        ]
        return Result(
            200,
            {"success": True, "code": 200, "message_id": int(mid), "StatutResponse_List": out},
            accepted=True,
        )

    # -- callbacks ------------------------------------------------------------------
    def render_callback(self, step, msg: Message, rec: Recipient, state) -> list:
        kind, what, channel = step
        if kind == "status":
            url = msg.extra.get("urlDlr") or state.panel_url(NAME, msg.account, "dlr_url")
            body = {
                "messageId": msg.id,
                "phoneNumber": rec.phone,
                "statut": STATUT[what],
                "date": now_str(),
                "cost": RCS_COST if channel == "rcs" else SMS_COST,
                "currency": "EUR",
                "channel": channel,
            }
            return [(url, body)]
        url = msg.extra.get("urlResponse") or state.panel_url(NAME, msg.account, "reply_url")
        if what == "stop":
            state.provider_state.setdefault(NAME, {}).setdefault("stop", set()).add(rec.phone)
            body = {
                "type": "response",
                "phone_number": rec.phone,
                "text": state.stop_text,
                "message_id": msg.id,
            }
        elif what == "tap":
            body = {
                "type": "postback",
                "phone_number": rec.phone,
                "text": msg.tap[0],
                "postbackData": msg.tap[1],
                "message_id": msg.id,
            }
        else:
            body = {
                "type": "response",
                "phone_number": rec.phone,
                "text": state.reply_text,
                "message_id": msg.id,
            }
        return [(url, body)]


# -- validation helpers (module level so they are easy to test) -----------------------------


def sms_segments(text: str, unicode_: bool) -> int:
    length = len(text.replace(":br:", "  ").replace(":euro:", "€"))
    if unicode_ or any(c not in GSM_BASIC and c not in GSM_EXT for c in text):
        single, multi = 70, 67
    else:
        length += sum(1 for c in text if c in GSM_EXT) + text.count(":euro:")
        single, multi = 160, 153
    if length <= single:
        return 1
    return -(-length // multi)


def validate_sender(sender, errors: list, path: tuple) -> None:
    if sender in (None, ""):
        return
    if not is_str(sender):
        errors.append((eid(*path), "Sender must be a string"))
    elif len(sender) > 11:
        errors.append((eid(*path), "Sender cannot exceed 11 characters"))
    elif len(sender) < 3:
        errors.append((eid(*path), "Sender must contain at least 3 characters"))
    elif not SENDER_RE.fullmatch(sender):
        errors.append((eid(*path), "Sender cannot contain special characters"))


def validate_failover(fo, errors: list) -> None:
    if not isinstance(fo, dict):
        errors.append((eid("failover"), "failover must be an object"))
        return
    text = fo.get("message")
    if text in (None, ""):
        errors.append((eid("failover", "message"), "Message is required"))
    elif not is_str(text):
        errors.append((eid("failover", "message"), "Message must be a string"))
    elif sms_segments(text, as_int(fo.get("isUnicode")) == 1) > 10:
        errors.append((eid("failover", "message"), "Message cannot exceed 10 SMS"))
    validate_sender(fo.get("sender"), errors, ("failover", "sender"))
    for key in ("isStopSms", "isUnicode"):
        if fo.get(key) not in (None, "") and as_int(fo.get(key)) not in (0, 1):
            errors.append((eid("failover", key), f"{key} must be 0 or 1"))


def _text(v, max_len: int, errors: list, path: tuple, label: str, required=True) -> None:
    if v in (None, ""):
        if required:
            errors.append((eid(*path), f"{label} is required"))
    elif not is_str(v):
        errors.append((eid(*path), f"{label} must be a string"))
    elif len(v) > max_len:
        errors.append((eid(*path), f"{label} cannot exceed {max_len} characters"))


def validate_suggestions(items, max_n: int, errors: list, path: tuple) -> tuple | None:
    """Validate a suggestions list; return (text, postbackData) of the first one."""
    if items is None:
        return None
    if not isinstance(items, list):
        errors.append((eid(*path), "suggestions must be a list"))
        return None
    if len(items) > max_n:
        errors.append((eid(*path), f"Maximum {max_n} suggestions"))
    first = None
    for i, s in enumerate(items):
        p = (*path, i)
        if not isinstance(s, dict) or len([k for k in ("reply", "action") if k in s]) != 1:
            errors.append((eid(*p), "A suggestion must contain exactly one of reply or action"))
            continue
        kind = "reply" if "reply" in s else "action"
        body = s[kind]
        if not isinstance(body, dict):
            errors.append((eid(*p, kind), f"{kind} must be an object"))
            continue
        _text(body.get("text"), 25, errors, (*p, kind, "text"), "Text")
        _text(body.get("postbackData"), 2048, errors, (*p, kind, "postbackData"), "postbackData")
        if kind == "action":
            validate_action(body, errors, (*p, kind))
        if first is None and is_str(body.get("text")) and is_str(body.get("postbackData")):
            first = (body["text"], body["postbackData"])
    return first


ACTIONS = ("openUrlAction", "dialAction", "viewLocationAction", "createCalendarEventAction")


def validate_action(body: dict, errors: list, path: tuple) -> None:
    present = [a for a in ACTIONS if a in body]
    if len(present) != 1:
        errors.append((eid(*path), "An action must contain exactly one of " + ", ".join(ACTIONS)))
        return
    a = present[0]
    v = body[a]
    p = (*path, a)
    if not isinstance(v, dict):
        errors.append((eid(*p), f"{a} must be an object"))
        return
    if a == "openUrlAction":
        if not is_url(v.get("url")):
            errors.append((eid(*p, "url"), "This value is not a valid URL."))
    elif a == "dialAction":
        ph = v.get("phoneNumber")
        if not is_str(ph) or normalize_phone(ph) is None:
            errors.append((eid(*p, "phoneNumber"), f"This phone number is not valid ({ph})"))
    elif a == "viewLocationAction":
        ll = v.get("latLong")
        if ll is None and is_str(v.get("query")):
            return
        if not isinstance(ll, dict):
            errors.append((eid(*p, "latLong"), "latLong is required"))
            return
        for key, lim in (("latitude", 90), ("longitude", 180)):
            x = ll.get(key)
            if not is_number(x) or not -lim <= x <= lim:
                errors.append(
                    (eid(*p, "latLong", key), f"{key} must be a number between -{lim} and {lim}")
                )
        if v.get("label") is not None and not is_str(v.get("label")):
            errors.append((eid(*p, "label"), "label must be a string"))
    else:
        for key in ("startTime", "endTime"):
            if not is_datetime(v.get(key)):
                errors.append((eid(*p, key), f"{key} must be a date 'YYYY-MM-DD HH:MM:SS'"))
        _text(v.get("title"), 100, errors, (*p, "title"), "Title")
        _text(v.get("description"), 500, errors, (*p, "description"), "Description", required=False)


def _media(m, errors: list, path: tuple, height_allowed: bool) -> None:
    if not isinstance(m, dict):
        errors.append((eid(*path), "media must be an object"))
        return
    if not is_url(m.get("mediaUrl")):
        errors.append((eid(*path, "mediaUrl"), "mediaUrl must be a valid URL"))
    h = m.get("height")
    if h is not None:
        if not height_allowed:
            errors.append(
                (eid(*path, "height"), "height is only allowed when orientation is VERTICAL")
            )
        elif h not in ("SHORT", "MEDIUM", "TALL"):
            errors.append((eid(*path, "height"), "height must be SHORT, MEDIUM or TALL"))


def _card(card, errors: list, path: tuple, vertical: bool = True) -> tuple | None:
    if not isinstance(card, dict):
        errors.append((eid(*path), "card must be an object"))
        return None
    if not any(card.get(k) not in (None, "") for k in ("title", "description", "media")):
        errors.append((eid(*path), "A card needs a title, a description or a media"))
    _text(card.get("title"), 200, errors, (*path, "title"), "Title", required=False)
    _text(
        card.get("description"), 500, errors, (*path, "description"), "Description", required=False
    )
    if card.get("media") is not None:
        _media(card["media"], errors, (*path, "media"), vertical)
    return validate_suggestions(card.get("suggestions"), 4, errors, (*path, "suggestions"))


def validate_rich_content(rc, errors: list) -> tuple | None:
    """Validate richContent; return the first suggestion (text, postbackData) or None."""
    base = ("richContent",)
    if not isinstance(rc, dict):
        errors.append((eid(*base), "richContent must be an object"))
        return None
    conv = rc.get("conversation")
    cp = (*base, "conversation")
    if not isinstance(conv, dict):
        errors.append((eid(*cp), "conversation is required"))
        return None
    kinds = [k for k in ("text", "file", "richCard", "carousel") if k in conv]
    if len(kinds) != 1:
        errors.append(
            (eid(*cp), "conversation must contain exactly one of text, file, richCard, carousel")
        )
        return None
    kind = kinds[0]
    first = None
    if kind == "text":
        _text(conv["text"], 3072, errors, (*cp, "text"), "Text")
        max_global = 4
    elif kind == "file":
        f = conv["file"]
        media = f.get("media") if isinstance(f, dict) else None
        if not isinstance(media, dict) or not is_url(media.get("fileUrl")):
            errors.append((eid(*cp, "file", "media", "fileUrl"), "fileUrl must be a valid URL"))
        max_global = 4
    elif kind == "richCard":
        card = conv["richCard"]
        max_global = 8
        if not isinstance(card, dict):
            errors.append((eid(*cp, "richCard"), "richCard must be an object"))
        else:
            orient = card.get("orientation", "VERTICAL")
            if orient not in ("VERTICAL", "HORIZONTAL"):
                errors.append(
                    (
                        eid(*cp, "richCard", "orientation"),
                        "orientation must be VERTICAL or HORIZONTAL",
                    )
                )
            # The seed's own example sends thumbnailImageAlignment with VERTICAL ("only if
            # HORIZONTAL" in its comment): accepted and ignored, but it must be LEFT|RIGHT.
            align = card.get("thumbnailImageAlignment")
            if align is not None and align not in ("LEFT", "RIGHT"):
                errors.append(
                    (
                        eid(*cp, "richCard", "thumbnailImageAlignment"),
                        "thumbnailImageAlignment must be LEFT or RIGHT",
                    )
                )
            first = _card(card, errors, (*cp, "richCard"), vertical=orient != "HORIZONTAL")
    else:
        car = conv["carousel"]
        max_global = 8
        cpath = (*cp, "carousel")
        if not isinstance(car, dict):
            errors.append((eid(*cpath), "carousel must be an object"))
        else:
            if car.get("cardWidth", "MEDIUM") not in ("MEDIUM", "SMALL"):
                errors.append((eid(*cpath, "cardWidth"), "cardWidth must be MEDIUM or SMALL"))
            cards = car.get("cards")
            if not isinstance(cards, list) or not 2 <= len(cards) <= 10:
                errors.append((eid(*cpath, "cards"), "A carousel needs between 2 and 10 cards"))
                cards = cards if isinstance(cards, list) else []
            for i, card in enumerate(cards):
                got = _card(card, errors, (*cpath, "cards", i))
                first = first or got
    got = validate_suggestions(conv.get("suggestions"), max_global, errors, (*cp, "suggestions"))
    return first or got
