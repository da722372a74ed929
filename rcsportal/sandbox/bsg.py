"""BSG One-API (seed 001 + providers-notes 2.x): /api/auth/login, /api/auth/refresh,
/api/messages/rcs/send, GET /api/messages.

Auth: ``POST /api/auth/login {"api_key"}`` -> ``{"bearer": <JWT-like token>}``; then
``Authorization: Bearer <token>``; 401 ``{"message": "Unauthenticated."}`` otherwise.
Validation errors: 422 ``{"message": "The given data was invalid.", "errors": {"a.b": [..]}}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time

from .base import BadBody, Request, Result, as_bool, as_int, is_int, is_str, is_url
from .callbacks import Job, build_plan
from .state import Message, Recipient, now_str

NAME = "bsg"
PHONE_RE = re.compile(r"\d{9,15}")
REF_RE = re.compile(r"[A-Za-z0-9]{1,32}")
SMS_SENDER_RE = re.compile(r"[A-Za-z0-9]{1,11}|\d{1,15}")
PRICE = "1.2079098"
STATUS = {
    "accepted": "accepted",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "undelivered",
    "not_rcs": "not_service_user",
    "expired": "expired",
}
ERRORS = {
    "failed": (1, "Undelivered"),
    "not_rcs": (2, "Subscriber is not an RCS user"),
}


def unauthenticated() -> Result:
    return Result(401, {"message": "Unauthenticated."}, reason="Unauthenticated.")


def invalid(errors: dict[str, list[str]]) -> Result:
    body = {"message": "The given data was invalid.", "errors": errors}
    first = next(iter(errors.items()))
    return Result(422, body, reason=f"{first[0]}: {first[1][0]}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class Bsg:
    name = NAME

    def __init__(self, sandbox):
        self.sb = sandbox
        self.secret = secrets.token_bytes(32)

    @property
    def state(self):
        return self.sb.state

    def routes(self):
        return {
            ("POST", "/api/auth/login"): (self.login, "auth"),
            ("POST", "/api/auth/refresh"): (self.refresh, "auth"),
            ("POST", "/api/messages/rcs/send"): (self.rcs_send, "rcs"),
            ("GET", "/api/messages"): (self.list_messages, "status"),
        }

    def bad_body(self, req: Request, exc: BadBody) -> Result:
        return Result(400, {"message": "Malformed JSON body."}, reason="malformed JSON")

    # -- tokens ---------------------------------------------------------------------
    def issue(self, account: str) -> str:
        ttl = float(self.sb.config.get("bsg_token_ttl", 3600))
        now = int(time.time())
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64(
            json.dumps(
                {
                    "sub": account,
                    "iat": now,
                    "exp": now + ttl,
                    "jti": secrets.token_hex(8),
                }
            ).encode()
        )
        sig = _b64(hmac.new(self.secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{sig}"

    def rotate(self) -> None:
        """Invalidate every issued token (control API: config {"bsg_revoke_tokens": true})."""
        self.secret = secrets.token_bytes(32)

    def account_for(self, req: Request) -> str | None:
        auth = req.headers.get("Authorization") or ""
        if not auth.lower().startswith("bearer "):
            return None
        token = auth[7:].strip()
        try:
            header, payload, sig = token.split(".")
            want = _b64(
                hmac.new(self.secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
            )
            if not hmac.compare_digest(want, sig):
                return None
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (ValueError, TypeError):
            return None
        if claims.get("exp", 0) < time.time():
            return None
        return claims.get("sub")

    def login(self, req: Request) -> Result:
        body = req.json()
        if not isinstance(body, dict) or body.get("api_key") in (None, ""):
            return invalid({"api_key": ["The api key field is required."]})
        key = body["api_key"]
        if key not in self.sb.credentials[NAME]["api_keys"]:
            return unauthenticated()
        return Result(200, {"bearer": self.issue(key)}, accepted=True, account=key)

    def refresh(self, req: Request) -> Result:
        account = self.account_for(req)
        if account is None:
            return unauthenticated()
        return Result(200, {"bearer": self.issue(account)}, accepted=True, account=account)

    # -- send -----------------------------------------------------------------------
    def rcs_send(self, req: Request) -> Result:
        account = self.account_for(req)
        if account is None:
            return unauthenticated()
        body = req.json()
        if not isinstance(body, dict):
            return invalid({"body": ["The body must be a JSON object."]})
        errors: dict[str, list[str]] = {}
        tap = validate_send(body, errors)
        phone = body.get("phone") if isinstance(body.get("phone"), dict) else {}
        ref = phone.get("reference_id")
        if is_str(ref) and ref and "phone.reference_id" not in errors:
            msg, _ = self.state.lookup(NAME, "ref", f"{account}\x00{ref}")
            if msg is not None:
                errors.setdefault("phone.reference_id", []).append(
                    "The reference id has already been taken."
                )
        if errors:
            return invalid(errors)
        number = phone["number"]
        mid = self.state.next_counter("bsg.id", 3272625600)
        msg = Message(NAME, str(mid), account, "rcs", {}, body)
        msg.reference = ref or ""
        msg.callback_url = body.get("callback_url") or ""
        alt = body.get("alternative_channel")
        msg.fallback = "sms" if isinstance(alt, dict) and isinstance(alt.get("sms"), dict) else ""
        msg.tap = tap
        outcome = self.state.outcome_for(number)
        rec = Recipient(number, outcome)
        msg.recipients[number] = rec
        keys = [((NAME, "ref", f"{account}\x00{ref}"), rec)] if ref else []
        self.state.add_message(msg, keys)
        if body.get("validity") is not None:
            validity = body["validity"]
        elif body.get("validity_seconds") is not None:
            validity = max(1, round(body["validity_seconds"] / 3600))
        else:
            validity = 72
        msg.extra["validity"] = validity
        job = Job(self, msg, rec, build_plan(outcome, msg.fallback, tap is not None, "rcs"))
        data = self._data(msg, rec)
        return Result(
            200,
            {"data": data},
            accepted=True,
            recipients=[number],
            ids=[mid],
            jobs=[job],
            account=account,
        )

    def _data(self, msg: Message, rec: Recipient, full: bool = False) -> dict:
        d = {
            "id": int(msg.id),
            "reference_id": msg.reference or None,
            "source": "rest",
            "type": "rcs",
            "phone": int(rec.phone),
            "status": STATUS.get(rec.status, rec.status),
            "validity": msg.extra.get("validity", 72),
            "amount": {"value": PRICE, "currency": "UAH"},
            "sender": msg.body.get("sender"),
            "created_at": now_str(msg.created),
            "sent_at": now_str(rec.sent_at) if rec.sent_at else None,
            "delivered_at": now_str(rec.delivered_at) if rec.delivered_at else None,
        }
        if full:
            opts = msg.body.get("options") or {}
            d.update(
                {
                    "campaign_id": None,
                    "text": opts.get("text"),
                    "country": None,
                    "parts": 1,
                    "rcs_options": opts,
                    "alternative_channels": msg.body.get("alternative_channel"),
                    "channel": rec.channel,
                }
            )
        return d

    # -- status ---------------------------------------------------------------------
    def list_messages(self, req: Request) -> Result:
        account = self.account_for(req)
        if account is None:
            return unauthenticated()
        q = req.query
        want_id, want_ref = q.get("filter[id]"), q.get("filter[reference_id]")
        limit = as_int(q.get("page[limit]")) if q.get("page[limit]") else 50
        offset = as_int(q.get("page[offset]")) if q.get("page[offset]") else 0
        errors = {}
        if limit is None or not 15 <= limit <= 500:
            errors["page.limit"] = ["The page.limit must be between 15 and 500."]
        if offset is None or offset < 0:
            errors["page.offset"] = ["The page.offset must be at least 0."]
        if errors:
            return invalid(errors)
        if want_ref:
            msg, _ = self.state.lookup(NAME, "ref", f"{account}\x00{want_ref}")
            msgs = [msg] if msg is not None else []
        elif want_id:
            msg, _ = self.state.lookup(NAME, "id", want_id)
            msgs = [msg] if msg is not None and msg.account == account else []
        else:
            msgs = self.state.find_messages(NAME, lambda m: m.account == account)
        if q.get("way", "asc") == "desc":
            msgs = list(reversed(msgs))
        rows = [self._data(m, r, full=True) for m in msgs for r in list(m.recipients.values())]
        page = rows[offset : offset + limit]
        meta = {"page": {"limit": limit, "offset": offset, "total": len(rows)}}
        return Result(200, {"data": page, "meta": meta}, accepted=True, account=account)

    # -- callbacks ------------------------------------------------------------------
    def render_callback(self, step, msg: Message, rec: Recipient, state) -> list:
        kind, what, channel = step
        url = msg.callback_url or state.panel_url(NAME, msg.account, "dlr_url")
        if kind == "status":
            err, desc = ERRORS.get(what, (0, "No errors"))
            body = {
                "error": err,
                "errorDescription": desc,
                "id": msg.id,
                "msisdn": rec.phone,
                "reference": msg.reference or None,
                "time_in": now_str(msg.created),
                "time_sent": now_str(rec.sent_at) if rec.sent_at else None,
                "time_dr": now_str(rec.delivered_at) if rec.delivered_at else None,
                "status": STATUS[what],
                "price": PRICE if channel == "rcs" else "0.4500000",
                "currency": "UAH",
            }
            if channel != "rcs":
                body["channel"] = channel
            return [(url, body)]
        if what == "tap":
            body = {
                "id": msg.id,
                "reference": msg.reference or None,
                "msisdn": rec.phone,
                "text": msg.tap[0],
                "postback": msg.tap[1],
                "time_click": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
            }
            return [(url, body)]
        return []  # BSG documents no inbound text / STOP callback


# -- validation ------------------------------------------------------------------------------


def _add(errors: dict, field: str, msg: str) -> None:
    errors.setdefault(field, []).append(msg)


def _str(errors, obj, key, field, lo, hi, required=True) -> str | None:
    v = obj.get(key)
    if v is None or v == "":
        if required:
            _add(errors, field, f"The {field} field is required.")
        return None
    if not is_str(v):
        _add(errors, field, f"The {field} must be a string.")
        return None
    if len(v) < lo:
        _add(errors, field, f"The {field} must be at least {lo} characters.")
    elif len(v) > hi:
        _add(errors, field, f"The {field} may not be greater than {hi} characters.")
    return v


def _int_range(errors, obj, key, field, lo, hi) -> None:
    v = obj.get(key)
    if v is None:
        return
    if not is_int(v):
        _add(errors, field, f"The {field} must be an integer.")
    elif not lo <= v <= hi:
        _add(errors, field, f"The {field} must be between {lo} and {hi}.")


def _bool(errors, obj, key, field) -> None:
    v = obj.get(key)
    if v is not None and as_bool(v) is None:
        _add(errors, field, f"The {field} field must be true or false.")


def validate_send(body: dict, errors: dict) -> tuple | None:
    """Fill ``errors``; return (text, postback_data) of the first suggestion, if any."""
    phone = body.get("phone")
    if phone is None:
        _add(errors, "phone", "The phone field is required.")
    elif not isinstance(phone, dict):
        _add(errors, "phone", "The phone must be an object.")
    else:
        num = phone.get("number")
        if num in (None, ""):
            _add(errors, "phone.number", "The phone.number field is required.")
        elif not is_str(num):
            _add(errors, "phone.number", "The phone.number must be a string.")
        elif not PHONE_RE.fullmatch(num):
            _add(
                errors,
                "phone.number",
                "The phone.number format is invalid (9-15 digits, without a leading +).",
            )
        ref = phone.get("reference_id")
        if ref is not None:
            if not is_str(ref):
                _add(errors, "phone.reference_id", "The phone.reference_id must be a string.")
            elif len(ref) > 32:
                _add(
                    errors,
                    "phone.reference_id",
                    "The phone.reference_id may not be greater than 32 characters.",
                )
            elif not REF_RE.fullmatch(ref):
                _add(
                    errors,
                    "phone.reference_id",
                    "The phone.reference_id may only contain letters and numbers.",
                )
    _str(errors, body, "sender", "sender", 1, 40)
    first = _options(body.get("options"), errors)
    if body.get("validity") is not None and body.get("validity_seconds") is not None:
        _add(
            errors, "validity_seconds", "Only one of validity or validity_seconds may be specified."
        )
    _int_range(errors, body, "validity", "validity", 1, 72)
    _int_range(errors, body, "validity_seconds", "validity_seconds", 30, 86400)
    cb = body.get("callback_url")
    if cb is not None:
        if not is_str(cb):
            _add(errors, "callback_url", "The callback_url must be a string.")
        elif len(cb) > 100:
            _add(errors, "callback_url", "The callback_url may not be greater than 100 characters.")
        elif not is_url(cb):
            _add(errors, "callback_url", "The callback_url format is invalid.")
    _bool(errors, body, "add_to_contact_book", "add_to_contact_book")
    _bool(errors, body, "check_stop_list", "check_stop_list")
    tc = body.get("tariff_code")
    if tc is not None and (not is_int(tc) or tc < 0):
        _add(errors, "tariff_code", "The tariff_code must be an integer of at least 0.")
    alt = body.get("alternative_channel")
    if alt is not None:
        if not isinstance(alt, dict) or not isinstance(alt.get("sms"), dict):
            _add(
                errors, "alternative_channel.sms", "The alternative_channel.sms field is required."
            )
        else:
            sms = alt["sms"]
            text = _str(errors, sms, "text", "alternative_channel.sms.text", 1, 765)
            if text and any(ord(c) > 0xFF for c in text) and utf16_len(text) > 355:
                _add(
                    errors,
                    "alternative_channel.sms.text",
                    "The alternative_channel.sms.text may not be greater than 355 characters (UCS-2).",
                )
            sender = _str(errors, sms, "sender", "alternative_channel.sms.sender", 1, 15)
            if sender and not SMS_SENDER_RE.fullmatch(sender):
                _add(
                    errors,
                    "alternative_channel.sms.sender",
                    "The alternative_channel.sms.sender format is invalid.",
                )
            if sms.get("validity") is not None and sms.get("validity_seconds") is not None:
                _add(
                    errors,
                    "alternative_channel.sms.validity_seconds",
                    "Only one of validity or validity_seconds may be specified.",
                )
            _int_range(errors, sms, "validity", "alternative_channel.sms.validity", 1, 72)
            _int_range(
                errors,
                sms,
                "validity_seconds",
                "alternative_channel.sms.validity_seconds",
                30,
                86400,
            )
            _bool(errors, sms, "check_stop_list", "alternative_channel.sms.check_stop_list")
    return first


def _options(opts, errors: dict) -> tuple | None:
    if opts is None:
        _add(errors, "options", "The options field is required.")
        return None
    if not isinstance(opts, dict):
        _add(errors, "options", "The options must be an object.")
        return None
    has_text, has_cards = opts.get("text") is not None, opts.get("cards") is not None
    if has_text == has_cards:
        _add(errors, "options", "Exactly one of options.text or options.cards is required.")
        return None
    if has_text:
        t = opts["text"]
        if not is_str(t) or not t:
            _add(errors, "options.text", "The options.text must be a non-empty string.")
        elif utf16_len(t) > 160:
            _add(errors, "options.text", "The options.text may not be greater than 160 characters.")
        return None
    cards = opts["cards"]
    if not isinstance(cards, list) or not 1 <= len(cards) <= 5:
        _add(errors, "options.cards", "The options.cards must contain between 1 and 5 items.")
        return None
    first = None
    for i, card in enumerate(cards):
        f = f"options.cards.{i}"
        if not isinstance(card, dict):
            _add(errors, f, f"The {f} must be an object.")
            continue
        if card.get("media") in (None, {}) and card.get("text") in (None, ""):
            _add(errors, f, f"The {f} must contain a media or a text.")
        _str(errors, card, "text", f"{f}.text", 1, 1000, required=False)
        _str(errors, card, "title", f"{f}.title", 1, 200, required=False)
        media = card.get("media")
        if media is not None:
            if not isinstance(media, dict):
                _add(errors, f"{f}.media", f"The {f}.media must be an object.")
            else:
                url = media.get("url")
                if not is_url(url, 1000):
                    _add(errors, f"{f}.media.url", f"The {f}.media.url format is invalid.")
        sugg = card.get("suggestions")
        if sugg is None:
            continue
        if not isinstance(sugg, list):
            _add(errors, f"{f}.suggestions", f"The {f}.suggestions must be an array.")
            continue
        if len(sugg) > 2:
            _add(errors, f"{f}.suggestions", f"The {f}.suggestions may not have more than 2 items.")
        for j, s in enumerate(sugg):
            sf = f"{f}.suggestions.{j}"
            if not isinstance(s, dict):
                _add(errors, sf, f"The {sf} must be an object.")
                continue
            text = _str(errors, s, "text", f"{sf}.text", 1, 25)
            has_url, has_phone = s.get("url") is not None, s.get("phone") is not None
            if has_url == has_phone:
                _add(errors, sf, f"The {sf} must contain exactly one of url or phone.")
            elif has_url and not is_url(s.get("url"), 1000):
                _add(errors, f"{sf}.url", f"The {sf}.url format is invalid.")
            elif has_phone and not (is_str(s.get("phone")) and PHONE_RE.fullmatch(s["phone"])):
                _add(
                    errors,
                    f"{sf}.phone",
                    f"The {sf}.phone format is invalid (9-15 digits, without a leading +).",
                )
            stype = s.get("type")
            if stype is not None and stype != ("link" if has_url else "call"):
                _add(errors, f"{sf}.type", f"The {sf}.type must be link (url) or call (phone).")
            pb = _str(errors, s, "postback_data", f"{sf}.postback_data", 1, 25, required=False)
            if first is None and text:
                first = (text, pb)
    return first
