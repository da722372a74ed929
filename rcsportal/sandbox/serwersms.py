"""SerwerSMS.pl (seed 002): messages/send_rcs, messages/send_sms, messages/reports (.json or not).

Auth: ``username``/``password`` in the body, or ``Authorization: Bearer <token>``.
Errors: HTTP 200 ``{"error": {"code": 63xx, "type": "RcsError", "message": "..."}}``; bad login
is 1001 ``InvalidUser``. Bodies: JSON, or PHP-style form (``phone[]=..&message[text]=..``).
Webhook events (report / reply / action / message, text base64) go to the bot-level webhook
URL registered for the ``rcs_id`` through the control API, one JSON array per POST.
"""

from __future__ import annotations

import base64
import re

from .base import (
    ALL_MEDIA_TYPES,
    CARD_MEDIA_TYPES,
    BadBody,
    Request,
    Result,
    as_bool,
    as_int,
    is_datetime,
    is_str,
    is_url,
)
from .callbacks import Job, build_plan
from .state import Message, Recipient, now_str

NAME = "serwersms"
UNIQUE_ID_RE = re.compile(r"[A-Za-z0-9]{3,50}")
PHONE_INTL = re.compile(r"\+[1-9]\d{7,14}")
PHONE_00 = re.compile(r"00[1-9]\d{7,14}")
PHONE_PL = re.compile(r"(?:48)?[1-9]\d{8}")

RCS_ERRORS = {
    6300: "You do not have permission to send messages",
    6301: "Invalid BOT ID or configuration is inactive",
    6302: "The message structure is incorrect",
    6303: "No required parameters",
    6304: "Invalid IP address",
    6306: "Invalid phone number",
    6307: "Empty message structure",
    6308: "Set the selected message type (text, audio, file, richcard)",
    6309: "The suggestion structure is incorrect",
    6310: "The message body is empty",
    6311: "Audio message structure is invalid or missing required parameters (name, file)",
    6312: "File message structure is incorrect or required parameters are missing (name, url, mime, size)",
    6313: "Richcard message structure is invalid or missing required parameters (title, description, media)",
    6314: "The Map message structure is invalid",
    6315: "Overall error",
    6317: "Network not supported",
}
REPORT_STATUS = {
    "accepted": "pending",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "failed": "undelivered",
    "unsent": "unsent",
}
WEBHOOK_STATUS = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "displayed",
    "failed": "undelivered",
}


class RcsError(Exception):
    def __init__(self, code: int, detail: str = ""):
        super().__init__(detail or RCS_ERRORS[code])
        self.code = code
        self.detail = detail


def error(code: int, message: str | None = None, type_: str = "RcsError") -> Result:
    msg = message or RCS_ERRORS.get(code, "Error")
    return Result(
        200, {"error": {"code": code, "type": type_, "message": msg}}, reason=f"{code} {msg}"
    )


def normalize_phone(p) -> str | None:
    if isinstance(p, int) and not isinstance(p, bool):
        p = str(p)
    if not isinstance(p, str):
        return None
    p = p.strip().replace(" ", "").replace("-", "")
    if PHONE_INTL.fullmatch(p):
        return p
    if PHONE_00.fullmatch(p):
        return "+" + p[2:]
    if PHONE_PL.fullmatch(p):
        return "+48" + p[-9:]
    return None


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class SerwerSms:
    name = NAME

    def __init__(self, sandbox):
        self.sb = sandbox

    @property
    def state(self):
        return self.sb.state

    def routes(self):
        r = {}
        for base, (fn, kind) in {
            "/messages/send_rcs": (self.send_rcs, "rcs"),
            "/messages/send_sms": (self.send_sms, "sms"),
            "/messages/reports": (self.reports, "status"),
        }.items():
            r[("POST", base)] = r[("POST", base + ".json")] = (fn, kind)
        return r

    def bad_body(self, req: Request, exc: BadBody) -> Result:
        return error(1006, "Invalid data format", "InvalidData")

    def _body(self, req: Request) -> dict:
        body = req.body()
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise BadBody("body must be an object")
        for k, v in req.query.items():  # the PHP SDK style also allows query params
            body.setdefault(k, v)
        return body

    def _auth(self, req: Request, body: dict) -> tuple[str, Result | None]:
        creds = self.sb.credentials[NAME]
        auth = req.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
            if token in creds["tokens"]:
                return creds["tokens"][token], None
            return "", error(1001, "Invalid API token", "InvalidUser")
        user, pw = body.get("username"), body.get("password")
        if user and creds["users"].get(user) == pw:
            return str(user), None
        return "", error(1001, "Incorrect username or password", "InvalidUser")

    def _phones(self, body: dict) -> list[str]:
        raw = body.get("phone")
        items = raw if isinstance(raw, list) else [raw]
        if raw in (None, "", []):
            raise RcsError(6303, "No required parameters: phone")
        out = []
        for p in items:
            norm = normalize_phone(p)
            if norm is None:
                raise RcsError(6306, f"Invalid phone number: {p}")
            out.append(norm)
        return out

    def _unique_ids(self, body: dict, n: int) -> list[str]:
        raw = body.get("unique_id")
        if raw in (None, "", []):
            return [""] * n
        items = raw if isinstance(raw, list) else [raw]
        if len(items) != n:
            raise RcsError(
                6303, "The number of unique_id must be equal to the number of phone numbers"
            )
        seen = set()
        for u in items:
            if not isinstance(u, str) or not UNIQUE_ID_RE.fullmatch(u):
                raise RcsError(6302, f"unique_id must be 3-50 alphanumeric characters: {u}")
            if u in seen:
                raise RcsError(6302, f"unique_id must be unique: {u}")
            seen.add(u)
        return items

    def _new_id(self) -> str:
        n = self.state.next_counter("serwersms.id", 0x1C142D8000)
        return f"{(n * 0x9E3779B1) % (1 << 40):010x}"

    # -- send_rcs -------------------------------------------------------------------
    def send_rcs(self, req: Request) -> Result:
        body = self._body(req)
        account, err = self._auth(req, body)
        if err:
            return err
        try:
            rcs_id = body.get("rcs_id")
            if rcs_id in (None, ""):
                raise RcsError(6303, "No required parameters: rcs_id")
            if rcs_id not in self.sb.credentials[NAME]["rcs_ids"]:
                raise RcsError(6301)
            phones = self._phones(body)
            message = body.get("message")
            if message is None:
                raise RcsError(6303, "No required parameters: message")
            tap = validate_message(message)
            uids = self._unique_ids(body, len(phones))
            if body.get("date") not in (None, "") and not is_datetime(body.get("date")):
                raise RcsError(6302, "date must be 'YYYY-MM-DD HH:MM:SS'")
            details = (
                as_bool(body.get("details")) if body.get("details") not in (None, "") else False
            )
        except RcsError as exc:
            return error(exc.code, str(exc) if exc.detail else None)
        msg_id = self._new_id()
        msg = Message(NAME, msg_id, account, "rcs", {}, body)
        msg.extra["rcs_id"] = rcs_id
        msg.tap = tap
        items, jobs, keys, ids = [], [], [], []
        text = message.get("text") if isinstance(message.get("text"), str) else ""
        queued_at = now_str()
        for phone, uid in zip(phones, uids, strict=True):
            item_id = self._new_id()
            outcome = self.state.outcome_for(phone)
            rec = Recipient(phone, outcome, item_id, uid)
            msg.recipients[item_id] = rec
            keys.append(((NAME, "item", item_id), rec))
            if uid:
                keys.append(((NAME, "uid", uid), rec))
            ids.append(item_id)
            if outcome == "not_rcs":  # no fallback at SerwerSMS: refused at submission
                rec.status, rec.error = "unsent", "6317"
                items.append(
                    {
                        "id": item_id,
                        "phone": phone,
                        "status": "unsent",
                        "queued": queued_at,
                        "text": text,
                        "error_code": 6317,
                        "error_message": RCS_ERRORS[6317],
                    }
                )
                continue
            items.append(
                {
                    "id": item_id,
                    "phone": phone,
                    "status": "queued",
                    "queued": queued_at,
                    "text": text,
                }
            )
            jobs.append(Job(self, msg, rec, build_plan(outcome, "", tap is not None, "rcs")))
        self.state.add_message(msg, keys)
        queued = sum(1 for i in items if i["status"] == "queued")
        resp = {"success": True, "queued": queued, "unsent": len(items) - queued}
        if details:
            resp["items"] = items
        return Result(
            200, resp, accepted=True, recipients=phones, ids=ids, jobs=jobs, account=account
        )

    # -- send_sms -------------------------------------------------------------------
    def send_sms(self, req: Request) -> Result:
        body = self._body(req)
        account, err = self._auth(req, body)
        if err:
            return err
        text = body.get("text")
        if body.get("phone") in (None, "", []) or text in (None, ""):
            return error(2000, "Missing required parameters", "ParameterError")
        if not is_str(text):
            return error(1006, "Invalid data format: text", "InvalidData")
        try:
            phones = self._phones(body)
            uids = self._unique_ids(body, len(phones))
        except RcsError as exc:
            if exc.code == 6306:
                return error(2001, str(exc), "ParameterError")
            return error(2000, str(exc), "ParameterError")
        details = as_bool(body.get("details")) if body.get("details") not in (None, "") else False
        utf = as_bool(body.get("utf")) or any(ord(c) > 0x7F for c in text)
        single, multi = (70, 67) if utf else (160, 153)
        parts = 1 if len(text) <= single else -(-len(text) // multi)
        msg_id = self._new_id()
        msg = Message(NAME, msg_id, account, "sms", {}, body)
        items, keys, ids, jobs = [], [], [], []
        queued_at = now_str()
        test_mode = as_bool(body.get("test")) is True
        for phone, uid in zip(phones, uids, strict=True):
            item_id = self._new_id()
            outcome = self.state.outcome_for(phone)
            rec = Recipient(phone, outcome, item_id, uid)
            rec.channel = "sms"
            msg.recipients[item_id] = rec
            keys.append(((NAME, "item", item_id), rec))
            if uid:
                keys.append(((NAME, "uid", uid), rec))
            ids.append(item_id)
            items.append(
                {
                    "id": item_id,
                    "phone": phone,
                    "status": "queued",
                    "queued": queued_at,
                    "parts": parts,
                    "text": text,
                }
            )
            if not test_mode:
                jobs.append(Job(self, msg, rec, build_plan(outcome, "", False, "sms")))
        self.state.add_message(msg, keys)
        resp = {"success": True, "queued": len(items), "unsent": 0}
        if details:
            resp["items"] = items
        return Result(
            200, resp, accepted=True, recipients=phones, ids=ids, jobs=jobs, account=account
        )

    # -- reports --------------------------------------------------------------------
    def reports(self, req: Request) -> Result:
        body = self._body(req)
        account, err = self._auth(req, body)
        if err:
            return err
        found: list[tuple[Message, Recipient]] = []
        for key, kind in (("id", "item"), ("unique_id", "uid")):
            raw = body.get(key)
            if raw in (None, "", []):
                continue
            for v in raw if isinstance(raw, list) else str(raw).split(","):
                msg, rec = self.state.lookup(NAME, kind, str(v).strip())
                if rec is not None and msg.account == account:
                    found.append((msg, rec))
        if body.get("id") in (None, "", []) and body.get("unique_id") in (None, "", []):
            phone = normalize_phone(body.get("phone")) if body.get("phone") else None
            for msg in self.state.find_messages(NAME, lambda m: m.account == account):
                for rec in list(msg.recipients.values()):
                    if phone is None or rec.phone == phone:
                        found.append((msg, rec))
        status_filter = body.get("status")
        items = []
        for msg, rec in found:
            st = REPORT_STATUS.get(rec.status, "pending")
            if status_filter and st != status_filter:
                continue
            items.append(
                {
                    "id": rec.item_id,
                    "unique_id": rec.unique_id or None,
                    "phone": rec.phone,
                    "status": st,
                    "queued": now_str(rec.created),
                    "sent": now_str(rec.sent_at) if rec.sent_at else None,
                    "delivered": now_str(rec.delivered_at) if rec.delivered_at else None,
                    "displayed": now_str(rec.read_at) if rec.read_at else None,
                    "type": "rcs" if msg.kind == "rcs" else "full",
                    "text": (msg.body.get("message") or {}).get("text")
                    if msg.kind == "rcs"
                    else msg.body.get("text"),
                    "reason": "unsupported_number"
                    if rec.status == "unsent"
                    else ("other_error" if rec.status == "failed" else None),
                }
            )
        page = max(as_int(body.get("page")) or 1, 1)
        limit = min(max(as_int(body.get("limit")) or 100, 1), 1000)
        chunk = items[(page - 1) * limit : page * limit]
        return Result(
            200,
            {"paging": {"page": page, "count": len(items)}, "items": chunk},
            accepted=True,
            account=account,
        )

    # -- webhook --------------------------------------------------------------------
    def render_callback(self, step, msg: Message, rec: Recipient, state) -> list:
        kind, what, channel = step
        if msg.kind != "rcs":
            return []  # SMS DLR push format is undocumented: state only (see reports)
        url = state.panel_url(NAME, msg.extra.get("rcs_id", ""), "webhook_url")
        base = {"rcs_id": msg.extra.get("rcs_id"), "phone": rec.phone, "date": now_str()}
        if kind == "status":
            ev = {"type": "report", "status": WEBHOOK_STATUS[what], "smsid": rec.item_id, **base}
            return [(url, [ev])]
        msgid = f"MO{state.next_counter('serwersms.mo', 0):08d}"
        if what == "tap":
            reply_url = state.panel_url(NAME, msg.extra.get("rcs_id", ""), "reply_url") or url
            label, postback, skind = msg.tap
            ev = {"type": skind, "data": postback, "text": b64(label), **base, "msgid": msgid}
            return [(reply_url, [ev])]
        text = state.stop_text if what == "stop" else state.reply_text
        reply_url = state.panel_url(NAME, msg.extra.get("rcs_id", ""), "reply_url") or url
        return [(reply_url, [{"type": "message", "text": b64(text), **base, "msgid": msgid}])]


# -- validation ------------------------------------------------------------------------------

SUGGESTION_ACTIONS = ("url", "dial", "map", "calendar")


def validate_suggestions(items) -> tuple | None:
    """Return (label, postback, 'reply'|'action') for the first suggestion."""
    if items is None:
        return None
    if not isinstance(items, list):
        raise RcsError(6309, "suggestions must be a list")
    first = None
    for s in items:
        if not isinstance(s, dict) or len([k for k in ("reply", "action") if k in s]) != 1:
            raise RcsError(6309, "A suggestion must contain exactly one of reply or action")
        kind = "reply" if "reply" in s else "action"
        b = s[kind]
        if not isinstance(b, dict):
            raise RcsError(6309)
        text = b.get("text")
        if not is_str(text) or not text:
            raise RcsError(6309, "Suggestion text is required")
        if len(text) > 25:
            raise RcsError(6309, "The maximum number of characters of the suggestion text is 25")
        if b.get("postback") is not None and not is_str(b.get("postback")):
            raise RcsError(6309, "postback must be a string")
        if kind == "action":
            action, to = b.get("action"), b.get("to")
            if action not in SUGGESTION_ACTIONS:
                raise RcsError(6309, "action must be one of url, dial, map, calendar")
            if not is_str(to) or not to:
                raise RcsError(6309, "'to' is required")
            if action == "url" and not is_url(to):
                raise RcsError(6309, "'to' must be a valid URL")
            if action == "dial" and normalize_phone(to) is None:
                raise RcsError(6309, "'to' must be a phone number")
            if action == "map":
                parts = to.split("|")
                try:
                    ok = (
                        len(parts) == 3
                        and -90 <= float(parts[1]) <= 90
                        and -180 <= float(parts[2]) <= 180
                    )
                except ValueError:
                    ok = False
                if not ok:
                    raise RcsError(6314, "The Map message structure is invalid: 'label|lat|lon'")
            if action == "calendar":
                parts = to.split("|")
                if len(parts) != 3 or not parts[2]:
                    raise RcsError(6309, "calendar 'to' must be 'start|end|title'")
        if first is None:
            first = (text, b.get("postback") or "", kind)
    return first


def _media(m, card: bool) -> None:
    if not isinstance(m, dict):
        raise RcsError(6313 if card else 6312)
    code = 6313 if card else 6312
    if not is_url(m.get("url")):
        raise RcsError(code, "media url is required")
    size = as_int(m.get("size"))
    if size is None or size <= 0:
        raise RcsError(code, "media size is required")
    types = CARD_MEDIA_TYPES if card else ALL_MEDIA_TYPES
    if m.get("type") not in types:
        raise RcsError(code, f"media type {m.get('type')!r} is not supported")
    if card and m.get("height") not in (None, "SHORT", "MEDIUM", "TALL"):
        raise RcsError(6313, "height must be SHORT, MEDIUM or TALL")
    if card and m.get("thumbnail") is not None and not is_url(m.get("thumbnail")):
        raise RcsError(6313, "thumbnail must be a URL")


def validate_message(message) -> tuple | None:
    if not isinstance(message, dict):
        raise RcsError(6302)
    if not message:
        raise RcsError(6307)
    kinds = [k for k in ("text", "file", "richcard", "audio") if k in message]
    if not kinds:
        raise RcsError(6308)
    if len(kinds) > 1:
        raise RcsError(6302, "Only one message type (text, audio, file, richcard) is allowed")
    kind = kinds[0]
    first = None
    if kind == "text":
        if not is_str(message["text"]) or not message["text"].strip():
            raise RcsError(6310)
    elif kind == "audio":
        a = message["audio"]
        if not isinstance(a, dict) or not a.get("name") or not a.get("file"):
            raise RcsError(6311)
    elif kind == "file":
        f = message["file"]
        if not isinstance(f, dict) or not is_str(f.get("name")) or not f.get("name"):
            raise RcsError(6312)
        _media(f, card=False)
    else:
        cards = message["richcard"]
        if isinstance(cards, dict):
            cards = [cards]
        if not isinstance(cards, list) or not cards:
            raise RcsError(6313)
        if len(cards) > 10:
            raise RcsError(6313, "A carousel can hold at most 10 cards")
        for c in cards:
            if not isinstance(c, dict):
                raise RcsError(6313)
            for key in ("title", "description"):
                if not is_str(c.get(key)) or not c.get(key):
                    raise RcsError(6313, f"richcard {key} is required")
            _media(c.get("media"), card=True)
            layout = c.get("layout")
            if layout is not None:
                if not isinstance(layout, dict):
                    raise RcsError(6313, "layout must be an object")
                if layout.get("imageAlignment") not in (None, "LEFT", "RIGHT"):
                    raise RcsError(6313, "imageAlignment must be LEFT or RIGHT")
                if layout.get("cardOrientation") not in (None, "VERTICAL", "HORIZONTAL"):
                    raise RcsError(6313, "cardOrientation must be VERTICAL or HORIZONTAL")
            got = validate_suggestions(c.get("suggestions"))
            first = first or got
        if message.get("cardWidth") not in (None, "SMALL", "MEDIUM"):
            raise RcsError(6302, "cardWidth must be SMALL or MEDIUM")
    got = validate_suggestions(message.get("suggestions"))
    return first or got
