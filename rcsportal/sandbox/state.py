"""In-memory state of the sandbox: request logs, message/recipient status, panel settings.

Everything is bounded: the logs keep the last N entries (and at most a byte budget for stored
bodies); the message store keeps at most N recipients, evicting the oldest messages first.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Outcomes a recipient can have; the rules map a last digit to one of them.
OUTCOMES = ("ok", "not_rcs", "fail", "stop", "tap", "reply")
DEFAULT_RULES = {"0": "not_rcs", "9": "fail", "8": "stop", "7": "tap", "6": "reply"}

SECRET_HEADERS = ("authorization", "x-api-key", "cookie", "proxy-authorization")

DEMO_CREDENTIALS = {
    "smspartner": {"apiKey": "sandbox-smspartner-key"},
    "serwersms": {
        "username": "sandbox",
        "password": "sandbox-password",
        "token": "sandbox-serwersms-token",
        "rcs_id": "5b1f7e34-0c7a-4b8e-9f61-2d0c5e9a7b11",
    },
    "bsg": {"api_key": "live_sandboxbsgkey000000"},
    "aerialink": {"username": "sandbox", "password": "sandbox-secret", "source": "CONVEY"},
}


def now_str(ts: float | None = None) -> str:
    """'YYYY-MM-DD HH:MM:SS' in UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() if ts is None else ts))


def iso_z(ts: float | None = None) -> str:
    dt = datetime.fromtimestamp(time.time() if ts is None else ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rules(value: Any) -> dict[str, str]:
    """Rules from a dict {"0": "not_rcs", ...} or a string "0=not_rcs,9=fail"."""
    if isinstance(value, str):
        items = {}
        for part in value.split(","):
            if part.strip():
                k, _, v = part.partition("=")
                items[k.strip()] = v.strip()
        value = items
    if not isinstance(value, dict):
        raise ValueError("rules must be an object or 'digit=outcome,...'")
    rules = {}
    for k, v in value.items():
        k = str(k)
        if len(k) != 1 or not k.isdigit():
            raise ValueError(f"rule key must be one digit: {k!r}")
        if v not in OUTCOMES:
            raise ValueError(f"unknown outcome {v!r}; one of {', '.join(OUTCOMES)}")
        if v != "ok":
            rules[k] = v
    return rules


class Recipient:
    """Status of one recipient of one accepted message (canonical vocabulary).

    status: accepted | sent | delivered | read | failed | not_rcs | unsent
    channel: the channel of the last status (rcs | sms | mms)
    """

    __slots__ = (
        "phone",
        "status",
        "channel",
        "item_id",
        "unique_id",
        "created",
        "sent_at",
        "delivered_at",
        "read_at",
        "updated",
        "outcome",
        "error",
    )

    def __init__(self, phone: str, outcome: str = "ok", item_id: str = "", unique_id: str = ""):
        self.phone = phone
        self.status = "accepted"
        self.channel = "rcs"
        self.item_id = item_id
        self.unique_id = unique_id
        self.created = time.time()
        self.sent_at: float | None = None
        self.delivered_at: float | None = None
        self.read_at: float | None = None
        self.updated = self.created
        self.outcome = outcome
        self.error = ""

    def apply(self, status: str, channel: str) -> None:
        ts = time.time()
        self.status, self.channel, self.updated = status, channel, ts
        if status == "sent":
            self.sent_at = self.sent_at or ts
        elif status == "delivered":
            self.delivered_at = self.delivered_at or ts
        elif status == "read":
            self.read_at = self.read_at or ts


@dataclass
class Message:
    """One accepted send: provider id, account, its recipients, what callbacks need."""

    provider: str
    id: str
    account: str
    kind: str
    recipients: dict[str, Recipient]
    body: dict
    created: float = field(default_factory=time.time)
    reference: str = ""
    callback_url: str = ""
    fallback: str = ""  # "" | sms | mms
    tap: tuple[str, str] | None = None  # (chip text, postback) of the first suggestion
    extra: dict = field(default_factory=dict)
    index_keys: list = field(default_factory=list)


class BoundedLog:
    """Append-only log keeping the last ``max_entries`` (and ``max_bytes`` of bodies)."""

    def __init__(self, max_entries: int, max_bytes: int = 256 * 1024 * 1024):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: deque[dict] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self.evicted = 0

    def append(self, entry: dict, size: int = 0) -> None:
        entry["_size"] = size
        with self._lock:
            self._items.append(entry)
            self._bytes += size
            while self._items and (
                len(self._items) > self.max_entries or self._bytes > self.max_bytes
            ):
                old = self._items.popleft()
                self._bytes -= old.get("_size", 0)
                self.evicted += 1

    def items(self) -> list[dict]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
            self.evicted = 0

    def __len__(self) -> int:
        return len(self._items)


class SandboxState:
    """All mutable state. Logs are public for in-process tests (see ``accepted()``)."""

    def __init__(
        self,
        max_log: int = 200_000,
        max_log_bytes: int = 256 * 1024 * 1024,
        max_recipients: int = 1_000_000,
        rules: dict | str | None = None,
    ):
        self.max_log = max_log
        self.max_recipients = max_recipients
        self.requests = BoundedLog(max_log, max_log_bytes)
        self.rejected = BoundedLog(max_log, max_log_bytes)
        self.callbacks = BoundedLog(max_log, max_log_bytes)
        self.lock = threading.RLock()
        self.seq = itertools.count(1)
        self.cb_seq = itertools.count(1)
        self.rules = parse_rules(rules) if rules is not None else dict(DEFAULT_RULES)
        self.default_rules = dict(self.rules)
        self.reply_text = "Hello"
        self.stop_text = "STOP"
        self.messages: OrderedDict[tuple[str, str], Message] = OrderedDict()
        self.index: dict[tuple, tuple[Message, Recipient | None]] = {}
        self.n_recipients = 0
        # panel settings: provider -> account -> {"dlr_url", "reply_url"}
        self.panel: dict[str, dict[str, dict[str, str]]] = {}
        self.default_panel: dict[str, dict[str, dict[str, str]]] = {}
        self.counters: dict[str, int] = {}
        self.provider_state: dict[str, dict] = {}  # per provider scratch (tokens, ids...)

    # -- rules -------------------------------------------------------------------------
    def outcome_for(self, phone: str) -> str:
        digits = [c for c in phone if c.isdigit()]
        if not digits:
            return "ok"
        return self.rules.get(digits[-1], "ok")

    # -- ids ---------------------------------------------------------------------------
    def next_counter(self, name: str, start: int) -> int:
        with self.lock:
            value = self.counters.get(name, start) + 1
            self.counters[name] = value
            return value

    # -- panel ------------------------------------------------------------------------
    def panel_url(self, provider: str, account: str, which: str) -> str:
        acc = self.panel.get(provider, {}).get(account) or self.panel.get(provider, {}).get("*")
        if not acc:
            return ""
        return acc.get(which, "") or ""

    def set_panel(self, provider: str, account: str, **urls: str) -> dict:
        with self.lock:
            acc = self.panel.setdefault(provider, {}).setdefault(account or "*", {})
            for k, v in urls.items():
                if v is not None:
                    acc[k] = v
            return dict(acc)

    # -- messages ---------------------------------------------------------------------
    def add_message(self, msg: Message, keys: list[tuple] | None = None) -> None:
        with self.lock:
            self.messages[(msg.provider, msg.id)] = msg
            self.index[(msg.provider, "id", msg.id)] = (msg, None)
            msg.index_keys.append((msg.provider, "id", msg.id))
            for key, recip in keys or []:
                self.index[key] = (msg, recip)
                msg.index_keys.append(key)
            self.n_recipients += len(msg.recipients)
            while self.n_recipients > self.max_recipients and len(self.messages) > 1:
                _, old = self.messages.popitem(last=False)
                self.n_recipients -= len(old.recipients)
                for key in old.index_keys:
                    entry = self.index.get(key)
                    if entry is not None and entry[0] is old:
                        del self.index[key]

    def lookup(self, provider: str, kind: str, value: str) -> tuple[Message, Recipient | None]:
        return self.index.get((provider, kind, value), (None, None))  # type: ignore[return-value]

    def find_messages(self, provider: str, pred) -> list[Message]:
        with self.lock:
            return [m for (p, _), m in self.messages.items() if p == provider and pred(m)]

    # -- logs -------------------------------------------------------------------------
    def log_request(self, entry: dict, raw: bytes) -> dict:
        entry["seq"] = next(self.seq)
        entry["time"] = time.time()
        entry["_raw"] = raw
        self.requests.append(entry, len(raw) + 40 * len(entry.get("recipients") or ()))
        return entry

    def log_rejected(self, entry: dict, raw: bytes) -> dict:
        entry["seq"] = next(self.seq)
        entry["time"] = time.time()
        entry["_raw"] = raw
        self.rejected.append(entry, len(raw))
        return entry

    def log_callback(self, entry: dict, size: int) -> dict:
        entry["seq"] = next(self.cb_seq)
        self.callbacks.append(entry, size)
        return entry

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.rejected.clear()
            self.callbacks.clear()
            self.messages.clear()
            self.index.clear()
            self.n_recipients = 0
            self.counters.clear()
            self.provider_state.clear()
            self.rules = dict(self.default_rules)
            self.reply_text, self.stop_text = "Hello", "STOP"
            self.panel = json.loads(json.dumps(self.default_panel))

    # -- read API for tests -----------------------------------------------------------
    def accepted(self, provider: str | None = None, kind: str | None = None) -> list[dict]:
        return [
            public_entry(e)
            for e in self.requests.items()
            if (provider is None or e["provider"] == provider)
            and (kind is None or e["kind"] == kind)
        ]

    def rejected_entries(self, provider: str | None = None) -> list[dict]:
        return [
            public_entry(e)
            for e in self.rejected.items()
            if provider is None or e["provider"] == provider
        ]

    def callback_entries(self, provider: str | None = None) -> list[dict]:
        return [
            public_entry(e)
            for e in self.callbacks.items()
            if provider is None or e["provider"] == provider
        ]


def public_entry(entry: dict, include_body: bool = True) -> dict:
    out = {k: v for k, v in entry.items() if not k.startswith("_")}
    raw = entry.get("_raw")
    if include_body and raw is not None and "body" not in out:
        try:
            out["body"] = json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError):
            out["body"] = raw.decode("utf-8", "replace")
    return out


def mask_headers(headers) -> dict:
    out = {}
    for k, v in headers.items():
        if k.lower() in SECRET_HEADERS:
            scheme, _, rest = v.partition(" ")
            out[k] = f"{scheme} ***" if rest else "***"
        else:
            out[k] = v
    return out
